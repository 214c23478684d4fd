/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite backend: opening, migrations, each module's statements. */
#include "sqlite_store.h"
#include "clock.h"
#include "sqlite_schema.h"
#include "sqlite_walbuf.h"
#include "store_obs_cache.h"
#include "store_obs_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -1 on error; 0 when there is no schema_version table yet. */
static int read_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1, &s,
			       NULL) != SQLITE_OK) {
		/* no table: an empty database */
		return sqlite3_get_autocommit(db) ? 0 : -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(const struct sq_err *e)
{
	int latest = sqlite_schema_latest(), v;
	char sql[160];

	/* IMMEDIATE: two collectors starting on one file migrate one at a time */
	if (sq_exec(e, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (sq_exec(e, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
		       " applied_at INTEGER NOT NULL)") < 0)
		goto fail;
	v = read_version(e->db);
	if (v < 0) {
		snprintf(e->buf, e->len, "cannot read schema_version: %s", sqlite3_errmsg(e->db));
		goto fail;
	}
	if (v > latest) {
		snprintf(e->buf, e->len, "database schema %d is newer than this collector's (%d)", v,
			 latest);
		goto fail;
	}
	for (int next = v + 1; next <= latest; next++) {
		if (sq_exec(e, sqlite_schema_migration(next)) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", next,
			 (long long)clock_real_ms());
		if (sq_exec(e, sql) < 0)
			goto fail;
	}
	return sq_exec(e, "COMMIT");
fail:
	sq_rollback(e->db);
	return -1;
}

/* Journal settings and the schema of a writable store; the version check of a read-only one. */
static int setup(const struct sq_err *e, const char *path, int ro)
{
	int v;

	if (!ro)
		/* WAL: readers (the CLI, queries) never block the ingest */
		return sq_exec(e, "PRAGMA journal_mode = WAL") < 0 ||
		       sq_exec(e, "PRAGMA synchronous = NORMAL") < 0 ||
		       /*
			* every batch rewrites pages all over the counters (ids are
			* hashes): checkpointing less often copies each page once per
			* many batches. 16000 pages (~64 MiB of WAL) against 4000:
			* +18-40% batches/s for a 5,000-sensor fleet. With NORMAL the
			* WAL is synced at each checkpoint, so a power loss or OS
			* crash (not a collector crash) can lose what was stored since
			* the last one: at most ~64 MiB of WAL instead of ~16.
			*/
		       sq_exec(e, "PRAGMA wal_autocheckpoint = 16000") < 0 || migrate(e) < 0 ? -1 : 0;
	v = read_version(e->db);
	if (v == sqlite_schema_latest())
		return 0;
	snprintf(e->buf, e->len, "%s: not a tokentap database of schema %d (found %d)", path,
		 sqlite_schema_latest(), v);
	return -1;
}

static const struct sq_stmts *const module_stmts[SQM__COUNT] = {
	[SQM_APPLY] = &sqlite_apply_stmts,
	[SQM_QUERY] = &sqlite_query_stmts,
	[SQM_ALERTS] = &sqlite_alerts_stmts,
	[SQM_RISK] = &sqlite_risk_stmts,
	[SQM_RETAIN] = &sqlite_retain_stmts,
};

static int prepare_modules(struct sqlite_store *st, const struct sq_err *e, const char *path)
{
	for (int m = 0; m < SQM__COUNT; m++) {
		st->stmts[m] = *module_stmts[m];
		st->stmts[m].stmt = calloc(st->stmts[m].n, sizeof(*st->stmts[m].stmt));
		if (!st->stmts[m].stmt) {
			snprintf(e->buf, e->len, "out of memory");
			return -1;
		}
		if (sq_stmts_prepare(e, &st->stmts[m], path) < 0)
			return -1;
	}
	return 0;
}

static void sqlite_close(struct store *base)
{
	struct sqlite_store *st = sqlite_of(base);

	for (int m = 0; m < SQM__COUNT; m++) {
		sq_stmts_finalize(&st->stmts[m]);
		free(st->stmts[m].stmt);
	}
	obs_hasher_free(st->hasher);
	obs_cache_free(st->verified);
	/* closing the last connection checkpoints the WAL into the file */
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static int sqlite_schema_version(struct store *base)
{
	struct sqlite_store *st = sqlite_of(base);
	int v;

	pthread_mutex_lock(&st->lock);
	v = read_version(st->db);
	pthread_mutex_unlock(&st->lock);
	return v;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.apply_batch = sqlite_apply_batch,
	.query_tokens = sqlite_query_tokens,
	.query_token_page = sqlite_query_token_page,
	.query_token = sqlite_query_token,
	.query_sensors = sqlite_query_sensors,
	.query_coverage = sqlite_query_coverage,
	.query_alerts = sqlite_query_alerts,
	.pending_revocations = sqlite_pending_revocations,
	.risk_pass = sqlite_risk_pass,
	.risk_due = sqlite_risk_due,
	.risk_record = sqlite_risk_record,
	.retain = sqlite_retain,
};

/*
 * Before SQLite initializes (the first open): no memory statistics, which
 * nothing reads and which cost a global mutex on every allocation.
 */
static void sqlite_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static struct store *sqlite_open(const char *path, int flags, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int ro = flags & STORE_READONLY;
	int oflags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		     SQLITE_OPEN_NOMUTEX;
	struct sqlite_store *st = calloc(1, sizeof(*st));
	struct sq_err e = { NULL, err, errlen };

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_once(&once, sqlite_configure);
	st->base.ops = &sqlite_ops;
	pthread_mutex_init(&st->lock, NULL);
	st->hasher = obs_hasher_new();
	st->verified = obs_cache_new();
	if (!st->hasher || !st->verified) {
		snprintf(err, errlen, "SHA-256 unavailable or out of memory");
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, oflags, sqlite_walbuf_vfs()) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	e.db = st->db;
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	/*
	 * A fleet's inventory outgrows the default 2 MiB page cache: every
	 * batch and every token list would re-read its pages with pread.
	 * Memory only (allocated as pages are used), no effect on durability.
	 */
	if (sq_exec(&e, "PRAGMA cache_size = -65536") < 0 || setup(&e, path, ro) < 0 || prepare_modules(st, &e, path) < 0)
		goto fail;
	return &st->base;
fail:
	sqlite_close(&st->base);
	return NULL;
}

/* The embedded default: any path is a SQLite file (or ":memory:"). */
static int sqlite_accepts(const char *path)
{
	(void)path;
	return 1;
}

const struct store_backend store_backend_sqlite = {
	.accepts = sqlite_accepts,
	.open = sqlite_open,
};

int sqlite_rows_json(sqlite3_stmt *s, struct json_object *arr, sqlite_row_fn row)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_array_add(arr, row(s));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int sqlite_answer(struct sqlite_store *st, int rc, struct json_object *obj,
		  struct json_object **out, char *err, size_t errlen)
{
	if (rc < 0) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
		json_object_put(obj);
	} else {
		*out = obj;
	}
	pthread_mutex_unlock(&st->lock);
	return rc;
}

sqlite3 *sqlite_store_db(struct store *st)
{
	return st && st->ops == &sqlite_ops ? sqlite_of(st)->db : NULL;
}
