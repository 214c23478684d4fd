/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's WAL-buffering VFS (sqlite_walbuf.c): a commit is in the
 * file when it returns (another connection on the default VFS reads it,
 * a process that dies right after leaves it), a transaction that never
 * commits leaves nothing, and transactions of any size (above the held
 * maximum, above the page cache, rolled back after spilling) leave a
 * database the default VFS reads back whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sqlite_walbuf.h"

struct dir {
	char root[64];
	char path[96];
};

static void dir_make(struct dir *d)
{
	snprintf(d->root, sizeof(d->root), "/tmp/tt-walbuf-XXXXXX");
	assert_non_null(mkdtemp(d->root));
	snprintf(d->path, sizeof(d->path), "%s/t.db", d->root);
}

static void dir_remove(struct dir *d)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[128];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", d->path, sfx[i]);
		unlink(p);
	}
	rmdir(d->root);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The writer as the store opens it: this VFS, WAL, synchronous NORMAL. */
static sqlite3 *open_writer(const char *path, int cache_pages)
{
	const char *vfs = sqlite_walbuf_vfs();
	char sql[64];
	sqlite3 *db;

	assert_non_null(vfs);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
			 SQLITE_OK);
	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, "PRAGMA synchronous = NORMAL");
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d", cache_pages);
	exec(db, sql);
	exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
	return db;
}

/* Another connection, on the default VFS: what any other process sees. */
static sqlite3 *open_reader(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static void assert_whole(const char *path, int64_t rows, int64_t bytes)
{
	sqlite3 *r = open_reader(path);
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	assert_int_equal(one_int(r, "SELECT COUNT(*) FROM t"), rows);
	assert_int_equal(one_int(r, "SELECT COALESCE(SUM(length(v)), 0) FROM t"), bytes);
	sqlite3_close(r);
}

/* n rows of size bytes each, from id first, in one transaction of db. */
static void insert_rows(sqlite3 *db, int first, int n, int size)
{
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, randomblob(?2))", -1, &s,
					    NULL), SQLITE_OK);
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int(s, 1, first + i);
		sqlite3_bind_int(s, 2, size);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
}

static void test_commit_visible_at_once(void **state)
{
	struct dir d;
	sqlite3 *w, *r;

	(void)state;
	dir_make(&d);
	w = open_writer(d.path, 2000);
	r = open_reader(d.path);
	for (int i = 0; i < 50; i++) {
		exec(w, "BEGIN IMMEDIATE");
		insert_rows(w, i * 10, 10, 300);
		exec(w, "COMMIT");
		/* the reader's next transaction sees every row committed so far */
		assert_int_equal(one_int(r, "SELECT COUNT(*) FROM t"), (i + 1) * 10);
	}
	sqlite3_close(r);
	sqlite3_close(w);
	assert_whole(d.path, 500, 500 * 300);
	dir_remove(&d);
}

/* More than the held maximum (4 MiB) and than the cache: frames are written in pieces and spill. */
static void test_large_transactions(void **state)
{
	struct dir d;
	sqlite3 *w;

	(void)state;
	dir_make(&d);
	w = open_writer(d.path, 100);
	exec(w, "BEGIN IMMEDIATE");
	insert_rows(w, 0, 3000, 3000);
	exec(w, "COMMIT");
	/* spilled frames of a transaction that then rolls back, then a commit over them */
	exec(w, "BEGIN IMMEDIATE");
	insert_rows(w, 10000, 3000, 3000);
	exec(w, "ROLLBACK");
	exec(w, "BEGIN IMMEDIATE");
	insert_rows(w, 20000, 100, 1000);
	exec(w, "UPDATE t SET v = randomblob(2000) WHERE id < 500");
	exec(w, "COMMIT");
	assert_whole(d.path, 3100, 2500 * 3000 + 500 * 2000 + 100 * 1000);
	exec(w, "PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(w);
	assert_whole(d.path, 3100, 2500 * 3000 + 500 * 2000 + 100 * 1000);
	dir_remove(&d);
}

/* Runs a writer in a child process that ends with _exit, no close, no checkpoint. */
static void in_child(const char *path, int commit)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *w = open_writer(path, 100);

		exec(w, "BEGIN IMMEDIATE");
		if (commit) {
			insert_rows(w, 0, 200, 2000);
			exec(w, "COMMIT");
		} else {
			/* spills frames to the WAL, never commits */
			insert_rows(w, 1000, 2000, 2000);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A process that dies right after its commit returned keeps it; one that dies before leaves nothing. */
static void test_commit_survives_process_death(void **state)
{
	struct dir d;

	(void)state;
	dir_make(&d);
	in_child(d.path, 1);
	assert_whole(d.path, 200, 200 * 2000);
	in_child(d.path, 0);
	assert_whole(d.path, 200, 200 * 2000);
	dir_remove(&d);
}

/*
 * A commit whose transaction spilled pages and changed them again: SQLite
 * rewrites the frame headers' checksums after writing the commit frame.
 * Without the shared memory the next open recovers the WAL, which keeps
 * the frames only as far as their checksums hold.
 */
static void test_rewritten_checksums_recovered(void **state)
{
	struct dir d;
	char shm[128];
	pid_t pid;
	int st;

	(void)state;
	dir_make(&d);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *w = open_writer(d.path, 20);

		exec(w, "BEGIN IMMEDIATE");
		insert_rows(w, 0, 400, 500);
		exec(w, "UPDATE t SET v = randomblob(600)");
		exec(w, "COMMIT");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(shm, sizeof(shm), "%s-shm", d.path);
	assert_int_equal(unlink(shm), 0);
	assert_whole(d.path, 400, 400 * 600);
	dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_visible_at_once),
		cmocka_unit_test(test_large_transactions),
		cmocka_unit_test(test_commit_survives_process_death),
		cmocka_unit_test(test_rewritten_checksums_recovered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
