/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's store: migrations from an empty database (idempotent,
 * version table), the counting rule, dedupe of (sensor_id, seq), and the
 * exact numbers of the token, token list and sensor views.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "batch_fixture.h"
#include "store_backends.h"
#include "store.h"
#include "store_obs_id.h"
#include "sqlite_schema.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define FP_B "fedcba9876543210fedcba9876543210"
#define SENSOR "7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d"
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

struct dbfile {
	char path[64];
};

static void dbfile_make(struct dbfile *d)
{
	int fd;

	snprintf(d->path, sizeof(d->path), "/tmp/tokentap-store-XXXXXX");
	fd = mkstemp(d->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(d->path); /* the store creates it */
}

static void dbfile_remove(struct dbfile *d)
{
	char p[96];

	unlink(d->path);
	snprintf(p, sizeof(p), "%s-wal", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", d->path);
	unlink(p);
}


static enum store_result apply(struct store *st, Tokentap__V1__Batch *b)
{
	char err[256] = "";
	enum store_result r = store_apply_batch(st, b, T0 + 5000, err, sizeof(err));

	if (r == STORE_ERROR)
		fail_msg("apply: %s", err);
	return r;
}

static struct json_object *token_view(struct store *st, const char *fp)
{
	struct json_object *t = NULL;
	char err[256];

	if (store_query_token(st, fp, &t, err, sizeof(err)) != 1)
		fail_msg("query token: %s", err);
	return t;
}

static int64_t geti(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_int64(v);
}

static const char *gets_(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static struct json_object *geta(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	assert_true(json_object_is_type(v, json_type_array));
	return v;
}

/* Finds the element of arr whose key equals the integer or string value. */
static struct json_object *find_int(struct json_object *arr, const char *k, int64_t v)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (geti(json_object_array_get_idx(arr, i), k) == v)
			return json_object_array_get_idx(arr, i);
	fail_msg("no element with %s=%lld", k, (long long)v);
	return NULL;
}

static struct json_object *find_str(struct json_object *arr, const char *k, const char *v)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (!strcmp(gets_(json_object_array_get_idx(arr, i), k), v))
			return json_object_array_get_idx(arr, i);
	fail_msg("no element with %s=%s", k, v);
	return NULL;
}

/* Two processes with one token against two destinations. */
static Tokentap__V1__Batch *two_process_batch(uint64_t seq)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", seq);

	fx_add_seen(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		    "api.github.com", T0 + 10);
	fx_add_seen(b, FP_A, "github_pat", 200, "/usr/bin/python3", "140.82.112.6:443",
		    "api.github.com", T0 + 20);
	fx_add_seen(b, FP_A, "github_pat", 200, "/usr/bin/python3", "10.0.0.9:80", "internal",
		    T0 + 30);
	fx_add_usage(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443",
		     "api.github.com", 3, T0 + 900);
	fx_add_usage(b, FP_A, "github_pat", 200, "/usr/bin/python3", "140.82.112.6:443",
		     "api.github.com", 5, T0 + 950);
	fx_add_usage(b, FP_A, "github_pat", 200, "/usr/bin/python3", "10.0.0.9:80", "internal", 2,
		     T0 + 61000);
	fx_add_process(b, 200, T0 - 100, "/usr/bin/python3", "python3 -c ***",
		       "4f1c0d2e3b4a59687766554433221100ffeeddccbbaa99887766554433221100");
	fx_add_status(b, T0 + 1000, 77, 2);
	return b;
}

static void test_migrate_empty_file_idempotent(void **state)
{
	struct dbfile d;
	struct store *st;
	sqlite3 *db;
	sqlite3_stmt *s;
	char err[256];

	(void)state;
	dbfile_make(&d);
	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), sqlite_schema_latest());
	store_close(st);
	/* a second open migrates nothing and keeps the data */
	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), sqlite_schema_latest());
	store_close(st);

	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*), MIN(version) FROM schema_version",
					    -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), sqlite_schema_latest());
	assert_int_equal(sqlite3_column_int(s, 1), 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* read-only opens work on a migrated file */
	st = store_open(d.path, STORE_READONLY, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	dbfile_remove(&d);
}

/*
 * A database written before the risk engine (schema 2): the upgrade gives
 * every stored observation a sighting, so the engine assesses the old
 * inventory too.
 */
static void test_upgrade_backfills_sightings(void **state)
{
	struct dbfile d;
	struct store *st;
	sqlite3 *db;
	sqlite3_stmt *s;
	char err[256];

	(void)state;
	dbfile_make(&d);
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
					  " applied_at INTEGER NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
	for (int v = 1; v <= 2; v++) {
		char sql[96];

		assert_int_equal(sqlite3_exec(db, sqlite_schema_migration(v), NULL, NULL, NULL),
				 SQLITE_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)", v);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO tokens VALUES ('" FP_A "', 'github_pat', 'Bearer', 'authorization',"
		" 'ghp_', 40, 1, 1, 100, '', '', '', '', '', '', '', '', 1, 2, 3);"
		"INSERT INTO observations (id, fingerprint, sensor_id, pid, exe, dst, host, node, uid,"
		" comm, cgroup_id, src, tls, tls_library, method, path, first_seen, last_seen, requests)"
		" VALUES (7, '" FP_A "', '" SENSOR "', 42, '/usr/bin/curl', '1.2.3.4:443', 'h', 'n1',"
		" 0, 'curl', 0, '', 1, 'openssl', 'GET', '/x', 1767225600000, 1767225600001, 3);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_schema_version(st), sqlite_schema_latest());
	store_close(st);
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT fingerprint, node, ts, exe, dst, method, header"
					    " FROM seen_log", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), FP_A);
	assert_string_equal((const char *)sqlite3_column_text(s, 1), "n1");
	assert_int_equal(sqlite3_column_int64(s, 2), 1767225600000LL);
	assert_string_equal((const char *)sqlite3_column_text(s, 3), "/usr/bin/curl");
	assert_string_equal((const char *)sqlite3_column_text(s, 4), "1.2.3.4:443");
	assert_string_equal((const char *)sqlite3_column_text(s, 5), "GET");
	assert_string_equal((const char *)sqlite3_column_text(s, 6), "authorization");
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);
	dbfile_remove(&d);
}

static void test_readonly_refuses_foreign_db(void **state)
{
	struct dbfile d;
	sqlite3 *db;
	char err[256] = "";

	(void)state;
	dbfile_make(&d);
	/* missing file */
	assert_null(store_open(d.path, STORE_READONLY, err, sizeof(err)));
	/* an unrelated database */
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE x (a)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(d.path, STORE_READONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "not a tokentap database"));
	dbfile_remove(&d);
}

static void test_newer_schema_refused(void **state)
{
	struct dbfile d;
	struct store *st;
	sqlite3 *db;
	char err[256] = "";

	(void)state;
	dbfile_make(&d);
	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, 0)", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(d.path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	dbfile_remove(&d);
}

static void test_token_view_exact(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = two_process_batch(1);
	struct json_object *t, *procs, *dsts, *usage, *p, *d, *md;

	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_A);

	assert_string_equal(gets_(t, "fingerprint"), FP_A);
	assert_string_equal(gets_(t, "token_type"), "github_pat");
	assert_int_equal(geti(t, "requests"), 10);
	assert_string_equal(gets_(t, "first_seen"), "2026-01-01T00:00:00.010Z");
	assert_string_equal(gets_(t, "last_seen"), "2026-01-01T00:01:01.000Z");

	procs = geta(t, "processes");
	assert_int_equal(json_object_array_length(procs), 2);
	p = find_int(procs, "pid", 100);
	assert_string_equal(gets_(p, "exe"), "/usr/bin/curl");
	assert_string_equal(gets_(p, "node"), "node-a");
	assert_int_equal(geti(p, "requests"), 3);
	assert_false(json_object_object_get_ex(p, "container_id", NULL));
	p = find_int(procs, "pid", 200);
	assert_int_equal(geti(p, "requests"), 7);
	assert_string_equal(gets_(p, "container_id"),
			    "4f1c0d2e3b4a59687766554433221100ffeeddccbbaa99887766554433221100");
	assert_string_equal(gets_(p, "cmdline"), "python3 -c ***");

	dsts = geta(t, "destinations");
	assert_int_equal(json_object_array_length(dsts), 2);
	d = find_str(dsts, "host", "api.github.com");
	assert_string_equal(gets_(d, "dst"), "140.82.112.6:443");
	assert_int_equal(geti(d, "requests"), 8);
	assert_true(json_object_get_boolean(json_object_object_get(d, "tls")));
	d = find_str(dsts, "host", "internal");
	assert_int_equal(geti(d, "requests"), 2);

	assert_int_equal(json_object_array_length(geta(t, "nodes")), 1);
	assert_int_equal(json_object_array_length(geta(t, "observations")), 3);

	usage = geta(t, "usage");
	assert_int_equal(json_object_array_length(usage), 2);
	assert_string_equal(gets_(json_object_array_get_idx(usage, 0), "minute"),
			    "2026-01-01T00:00:00.000Z");
	assert_int_equal(geti(json_object_array_get_idx(usage, 0), "count"), 8);
	assert_string_equal(gets_(json_object_array_get_idx(usage, 1), "minute"),
			    "2026-01-01T00:01:00.000Z");
	assert_int_equal(geti(json_object_array_get_idx(usage, 1), "count"), 2);

	md = json_object_object_get(t, "metadata");
	assert_non_null(md);
	assert_string_equal(gets_(md, "token_prefix"), "ghp_");
	assert_string_equal(gets_(md, "header"), "authorization");
	json_object_put(t);
	store_close(st);
}

#define POD_UID "0b7c1d2e-3f40-4152-8364-758697a8b9ca"
#define CID_SERVER "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"

static Tokentap__V1__ProcessInfo *pod_process(Tokentap__V1__Batch *b, uint32_t pid, const char *exe)
{
	Tokentap__V1__ProcessInfo *p = fx_add_process(b, pid, T0 - 100, exe, "", CID_SERVER);

	p->pod_uid = fx_str(POD_UID);
	return p;
}

/*
 * A process first described with its pod UID alone gets the pod's names
 * when another process of the pod brings them; the token view shows them.
 */
static void test_pod_names_filled_in_later(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", 1);
	Tokentap__V1__ProcessInfo *p;
	struct json_object *t, *row;

	fx_add_seen(b, FP_A, "github_pat", 100, "/usr/bin/curl", "140.82.112.6:443", "api.github.com",
		    T0 + 10);
	pod_process(b, 100, "/usr/bin/curl");
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_A);
	row = find_int(geta(t, "processes"), "pid", 100);
	assert_string_equal(gets_(row, "pod_uid"), POD_UID);
	assert_false(json_object_object_get_ex(row, "pod", NULL));
	json_object_put(t);

	b = fx_batch(SENSOR, "node-a", 2);
	fx_add_seen(b, FP_B, "github_pat", 300, "/usr/bin/python3", "140.82.112.6:443",
		    "api.github.com", T0 + 20);
	p = pod_process(b, 300, "/usr/bin/python3");
	p->pod = fx_str("api-7d4b9c8f6-x2x9z");
	p->k8s_namespace = fx_str("payments");
	p->container = fx_str("server");
	p->image = fx_str("registry.example/api:1.4");
	p->workload_kind = fx_str("Deployment");
	p->workload_name = fx_str("api");
	p->service_account = fx_str("api-sa");
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);

	t = token_view(st, FP_A);
	row = find_int(geta(t, "processes"), "pid", 100);
	assert_string_equal(gets_(row, "pod"), "api-7d4b9c8f6-x2x9z");
	assert_string_equal(gets_(row, "k8s_namespace"), "payments");
	assert_string_equal(gets_(row, "container"), "server");
	assert_string_equal(gets_(row, "image"), "registry.example/api:1.4");
	assert_string_equal(gets_(row, "workload_kind"), "Deployment");
	assert_string_equal(gets_(row, "workload_name"), "api");
	assert_string_equal(gets_(row, "service_account"), "api-sa");
	json_object_put(t);

	/* a later description without names keeps them */
	b = fx_batch(SENSOR, "node-a", 3);
	pod_process(b, 100, "/usr/bin/curl");
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_A);
	row = find_int(geta(t, "processes"), "pid", 100);
	assert_string_equal(gets_(row, "workload_name"), "api");
	json_object_put(t);
	store_close(st);
}

static void test_seen_alone_counts_nothing(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", 1);
	struct json_object *t;

	fx_add_seen(b, FP_B, "opaque", 1, "/bin/x", "1.2.3.4:80", "h", T0);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_B);
	assert_int_equal(geti(t, "requests"), 0);
	assert_int_equal(json_object_array_length(geta(t, "processes")), 1);
	assert_int_equal(json_object_array_length(geta(t, "usage")), 0);
	json_object_put(t);

	/* usage in a later batch adds to the same rows */
	b = fx_batch(SENSOR, "node-a", 2);
	fx_add_usage(b, FP_B, "opaque", 1, "/bin/x", "1.2.3.4:80", "h", 4, T0 + 2000);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_B);
	assert_int_equal(geti(t, "requests"), 4);
	assert_int_equal(json_object_array_length(geta(t, "processes")), 1);
	assert_string_equal(gets_(t, "first_seen"), "2026-01-01T00:00:00.000Z");
	assert_string_equal(gets_(t, "last_seen"), "2026-01-01T00:00:02.000Z");
	json_object_put(t);
	store_close(st);
}

static void test_duplicate_batch_changes_nothing(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = two_process_batch(7);
	struct json_object *before, *after, *sensors1, *sensors2;
	char err[256];

	assert_int_equal(apply(st, b), STORE_APPLIED);
	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &before, err, sizeof(err)), 0);
	assert_int_equal(store_query_sensors(st, &sensors1, err, sizeof(err)), 0);
	assert_int_equal(apply(st, b), STORE_DUPLICATE);
	assert_int_equal(apply(st, b), STORE_DUPLICATE);
	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &after, err, sizeof(err)), 0);
	assert_int_equal(store_query_sensors(st, &sensors2, err, sizeof(err)), 0);
	assert_string_equal(json_object_to_json_string(before), json_object_to_json_string(after));
	assert_string_equal(json_object_to_json_string(sensors1),
			    json_object_to_json_string(sensors2));
	assert_int_equal(geti(json_object_array_get_idx(after, 0), "requests"), 10);

	/* the same seq from another sensor is a different batch */
	free(b->sensor_id);
	b->sensor_id = fx_str("other-sensor");
	assert_int_equal(apply(st, b), STORE_APPLIED);
	json_object_put(after);
	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &after, err, sizeof(err)), 0);
	assert_int_equal(geti(json_object_array_get_idx(after, 0), "requests"), 20);
	fx_free(b);
	json_object_put(before);
	json_object_put(after);
	json_object_put(sensors1);
	json_object_put(sensors2);
	store_close(st);
}

static void test_tokens_list_and_sort(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", 1);
	struct json_object *arr, *t;
	char err[256];

	/* A: many requests, early; B: few requests, late */
	fx_add_usage(b, FP_A, "github_pat", 1, "/bin/a", "1.1.1.1:443", "a", 50, T0);
	fx_add_usage(b, FP_B, "opaque", 2, "/bin/b", "2.2.2.2:443", "b", 1, T0 + 60000);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);

	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(gets_(json_object_array_get_idx(arr, 0), "fingerprint"), FP_B);
	t = json_object_array_get_idx(arr, 1);
	assert_int_equal(geti(t, "requests"), 50);
	/* the list carries relations but not the per-minute series */
	assert_int_equal(json_object_array_length(geta(t, "processes")), 1);
	assert_int_equal(json_object_array_length(geta(t, "destinations")), 1);
	assert_int_equal(json_object_array_length(geta(t, "nodes")), 1);
	assert_false(json_object_object_get_ex(t, "usage", NULL));
	json_object_put(arr);

	assert_int_equal(store_query_tokens(st, TOKEN_SORT_REQUESTS, &arr, err, sizeof(err)), 0);
	assert_string_equal(gets_(json_object_array_get_idx(arr, 0), "fingerprint"), FP_A);
	json_object_put(arr);
	store_close(st);
}

static void test_unknown_token(void **state)
{
	struct store *st = tb_open(state);
	struct json_object *t = NULL;
	char err[256];

	assert_int_equal(store_query_token(st, FP_A, &t, err, sizeof(err)), 0);
	assert_null(t);
	store_close(st);
}

static void test_sensors_view(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = two_process_batch(3);
	struct json_object *arr, *s, *status;
	char err[256];

	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	/* an older batch arriving late keeps last_seq and the newer status */
	b = fx_batch(SENSOR, "node-a", 2);
	fx_add_status(b, T0 - 1000, 5, 0);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);

	assert_int_equal(store_query_sensors(st, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 1);
	s = json_object_array_get_idx(arr, 0);
	assert_string_equal(gets_(s, "sensor_id"), SENSOR);
	assert_string_equal(gets_(s, "node"), "node-a");
	assert_string_equal(gets_(s, "version"), "0.1.0");
	assert_int_equal(geti(s, "last_seq"), 3);
	assert_int_equal(geti(s, "batches"), 2);
	assert_int_equal(geti(s, "events"), 9);
	status = json_object_object_get(s, "status");
	assert_non_null(status);
	assert_int_equal(geti(status, "events"), 77);
	assert_int_equal(geti(status, "ringbuf_drops"), 2);
	assert_string_equal(gets_(status, "ts"), "2026-01-01T00:00:01.000Z");
	json_object_put(arr);
	store_close(st);
}

static void test_two_nodes_one_token(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b;
	struct json_object *t;

	b = fx_batch("sensor-1", "node-a", 1);
	fx_add_usage(b, FP_A, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 2, T0);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	/* the same pid and exe on another node is another process */
	b = fx_batch("sensor-2", "node-b", 1);
	fx_add_usage(b, FP_A, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 3, T0);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	t = token_view(st, FP_A);
	assert_int_equal(geti(t, "requests"), 5);
	assert_int_equal(json_object_array_length(geta(t, "processes")), 2);
	assert_int_equal(json_object_array_length(geta(t, "destinations")), 1);
	assert_int_equal(json_object_array_length(geta(t, "nodes")), 2);
	assert_int_equal(geti(find_str(geta(t, "processes"), "node", "node-b"), "requests"), 3);
	assert_int_equal(geti(json_object_array_get_idx(geta(t, "usage"), 0), "count"), 5);
	json_object_put(t);
	store_close(st);
}

/* One split row's fields, as "minute node exe count". */
static void split_row(struct json_object *rows, size_t i, char *out, size_t cap)
{
	struct json_object *r = json_object_array_get_idx(rows, i);

	assert_non_null(r);
	snprintf(out, cap, "%s %s %s %lld", gets_(r, "minute"), gets_(r, "node"), gets_(r, "exe"),
		 (long long)geti(r, "count"));
}

/* usage_split: per minute, node and executable, oldest first, summing to usage. */
static void test_usage_split_by_node_and_exe(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b;
	struct json_object *t, *split;
	char row[256];

	b = fx_batch("sensor-1", "node-a", 1);
	fx_add_usage(b, FP_A, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 2, T0 + 30000);
	fx_add_usage(b, FP_A, "jwt", 11, "/bin/other", "1.1.1.1:443", "api", 4, T0 + 30000);
	/* a second process of the same executable adds to the same row */
	fx_add_usage(b, FP_A, "jwt", 12, "/bin/app", "2.2.2.2:443", "api2", 1, T0 + 30000);
	fx_add_usage(b, FP_A, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 5, T0 + 90000);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
	b = fx_batch("sensor-2", "node-b", 1);
	fx_add_usage(b, FP_A, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 3, T0 + 30000);
	/* another token's use stays out */
	fx_add_usage(b, FP_B, "jwt", 10, "/bin/app", "1.1.1.1:443", "api", 9, T0 + 30000);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);

	t = token_view(st, FP_A);
	split = geta(t, "usage_split");
	assert_int_equal(json_object_array_length(split), 4);
	split_row(split, 0, row, sizeof(row));
	assert_string_equal(row, "2026-01-01T00:00:00.000Z node-a /bin/app 3");
	split_row(split, 1, row, sizeof(row));
	assert_string_equal(row, "2026-01-01T00:00:00.000Z node-a /bin/other 4");
	split_row(split, 2, row, sizeof(row));
	assert_string_equal(row, "2026-01-01T00:00:00.000Z node-b /bin/app 3");
	split_row(split, 3, row, sizeof(row));
	assert_string_equal(row, "2026-01-01T00:01:00.000Z node-a /bin/app 5");
	/* outside Kubernetes and containers, the workload is the executable */
	for (size_t i = 0; i < json_object_array_length(split); i++) {
		struct json_object *r = json_object_array_get_idx(split, i);

		assert_string_equal(gets_(r, "workload"), gets_(r, "exe"));
	}
	/* the totals are unchanged, and each minute's rows add up to them */
	assert_int_equal(json_object_array_length(geta(t, "usage")), 2);
	assert_int_equal(geti(json_object_array_get_idx(geta(t, "usage"), 0), "count"), 10);
	assert_int_equal(geti(json_object_array_get_idx(geta(t, "usage"), 1), "count"), 5);
	json_object_put(t);
	store_close(st);
}

/* A pod's process; its owner as the pod watcher names it. */
static void split_pod(Tokentap__V1__Batch *b, uint32_t pid, const char *ctr_id, const char *owner)
{
	Tokentap__V1__ProcessInfo *p = fx_add_process(b, pid, T0 - 1000, "/usr/bin/python3",
						      "python3 app.py", ctr_id);

	p->k8s_namespace = fx_str("payments");
	p->container = fx_str("server");
	p->workload_kind = fx_str("Deployment");
	p->workload_name = fx_str(owner);
}

/*
 * usage_split's workload: two pods of one Deployment are one workload, a
 * second Deployment running the same executable another, a host process of
 * that executable a third.
 */
static void test_usage_split_by_workload(void **state)
{
	struct store *st = tb_open(state);
	Tokentap__V1__Batch *b = fx_batch("sensor-1", "node-a", 1);
	struct json_object *t, *split;
	char want[3][96];

	split_pod(b, 20, "c0ffee01", "api");
	split_pod(b, 21, "c0ffee02", "api");
	split_pod(b, 22, "c0ffee03", "worker");
	fx_add_usage(b, FP_A, "jwt", 20, "/usr/bin/python3", "1.1.1.1:443", "api", 2, T0 + 30000);
	fx_add_usage(b, FP_A, "jwt", 21, "/usr/bin/python3", "1.1.1.1:443", "api", 3, T0 + 30000);
	fx_add_usage(b, FP_A, "jwt", 22, "/usr/bin/python3", "1.1.1.1:443", "api", 4, T0 + 30000);
	fx_add_usage(b, FP_A, "jwt", 23, "/usr/bin/python3", "1.1.1.1:443", "api", 7, T0 + 30000);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);

	t = token_view(st, FP_A);
	split = geta(t, "usage_split");
	assert_int_equal(json_object_array_length(split), 3);
	snprintf(want[0], sizeof(want[0]), "/usr/bin/python3 7");
	snprintf(want[1], sizeof(want[1]), "k8s:payments/Deployment/api:server 5");
	snprintf(want[2], sizeof(want[2]), "k8s:payments/Deployment/worker:server 4");
	for (size_t i = 0; i < 3; i++) {
		struct json_object *r = json_object_array_get_idx(split, i);
		char got[96];

		snprintf(got, sizeof(got), "%s %lld", gets_(r, "workload"), (long long)geti(r, "count"));
		assert_string_equal(got, want[i]);
		assert_string_equal(gets_(r, "exe"), "/usr/bin/python3");
	}
	json_object_put(t);
	store_close(st);
}

/* An id already held by another identity is probed past, never merged. */
static void test_obs_id_collision_probed(void **state)
{
	struct dbfile d;
	struct store *st;
	struct obs_hasher *h = obs_hasher_new();
	Tokentap__V1__Batch *b;
	struct json_object *t;
	sqlite3 *db;
	char err[256], sql[512];
	int64_t id;

	(void)state;
	assert_non_null(h);
	dbfile_make(&d);
	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	/* plant a foreign row where (FP_A, SENSOR, 5, /bin/a, 1.1.1.1:443, a) would go */
	id = store_obs_id(h, FP_A, SENSOR, 5, "/bin/a", "1.1.1.1:443", "a");
	obs_hasher_free(h);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO observations (id, fingerprint, sensor_id, pid, exe, dst, host, node,"
		 " uid, comm, cgroup_id, src, tls, tls_library, method, path, first_seen, last_seen,"
		 " requests) VALUES (%lld, '%s', 'other', 9, '/bin/z', '', '', 'n', 0, '', 0, '', 0,"
		 " '', '', '', 0, 0, 100)", (long long)id, FP_B);
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = store_open(d.path, 0, err, sizeof(err));
	assert_non_null(st);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		b = fx_batch(SENSOR, "node-a", seq);
		fx_add_usage(b, FP_A, "opaque", 5, "/bin/a", "1.1.1.1:443", "a", 3, T0);
		assert_int_equal(apply(st, b), STORE_APPLIED);
		fx_free(b);
	}
	t = token_view(st, FP_A);
	assert_int_equal(geti(t, "requests"), 6);
	assert_int_equal(geti(json_object_array_get_idx(geta(t, "processes"), 0), "requests"), 6);
	json_object_put(t);
	store_close(st);

	/* the planted row is untouched; the real one sits at the next id */
	assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT requests FROM observations WHERE id = %lld",
		 (long long)id);
	{
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(s, 0), 100);
		sqlite3_finalize(s);
		snprintf(sql, sizeof(sql), "SELECT requests FROM observations WHERE id = %lld",
			 (long long)store_obs_id_next(id));
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(s, 0), 6);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	dbfile_remove(&d);
}

/* Two collectors on one PostgreSQL database: a batch applies once, one leads at a time. */
static void test_pg_replicas_dedupe_and_lead(void **state)
{
	char url[512], err[512];
	const char *path = tb_path(state, url, sizeof(url));
	struct store *a = store_open(path, 0, err, sizeof(err)), *b;
	Tokentap__V1__Batch *batch = two_process_batch(9);
	struct json_object *t;

	if (!a)
		fail_msg("store_open: %s", err);
	b = store_open(path, 0, err, sizeof(err));
	if (!b)
		fail_msg("store_open: %s", err);
	assert_int_equal(apply(a, batch), STORE_APPLIED);
	assert_int_equal(apply(b, batch), STORE_DUPLICATE);
	t = token_view(b, FP_A);
	assert_int_equal(geti(t, "requests"), 10);
	json_object_put(t);

	assert_int_equal(store_leader(a), 1);
	assert_int_equal(store_leader(b), 0);
	assert_int_equal(store_leader(a), 1);
	/* the holder's sessions end: the other takes the lock at a next try (the
	 * server frees it when the ended session's backend is gone) */
	store_close(a);
	for (int i = 0; i < 200 && !store_leader(b); i++)
		usleep(50 * 1000);
	assert_int_equal(store_leader(b), 1);
	assert_int_equal(store_leader(b), 1);
	fx_free(batch);
	store_close(b);
}

/* The observations of the test's PostgreSQL database: rows, and their requests summed. */
static void pg_obs_rows(PGconn *c, long long *rows, long long *requests)
{
	PGresult *r = PQexec(c, "SELECT count(*), COALESCE(sum(requests), 0) FROM observations");

	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	*rows = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*requests = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
}

static void apply_use(struct store *st, uint64_t seq, int64_t count)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", seq);

	fx_add_usage(b, FP_A, "opaque", 5, "/bin/a", "1.1.1.1:443", "a", count, T0 + (int64_t)seq);
	assert_int_equal(apply(st, b), STORE_APPLIED);
	fx_free(b);
}

/*
 * A collector remembers the observation ids it stored and updates them by
 * id after: a row gone since (deleted behind its back) is stored again
 * from the batch, not lost; another collector on the database updates
 * the same row, and both add up.
 */
static void test_pg_known_observation_row_gone(void **state)
{
	char url[512], err[512];
	const char *path = tb_path(state, url, sizeof(url));
	struct store *a = store_open(path, 0, err, sizeof(err)), *b;
	long long rows, requests;
	struct json_object *t;
	PGconn *c;

	if (!a)
		fail_msg("store_open: %s", err);
	b = store_open(path, 0, err, sizeof(err));
	if (!b)
		fail_msg("store_open: %s", err);
	c = tb_pg_conn();
	apply_use(a, 1, 3);
	apply_use(a, 2, 4); /* a knows the id now */
	pg_obs_rows(c, &rows, &requests);
	assert_int_equal(rows, 1);
	assert_int_equal(requests, 7);

	tb_sql(c, "DELETE FROM observations");
	apply_use(a, 3, 5);
	pg_obs_rows(c, &rows, &requests);
	assert_int_equal(rows, 1);
	assert_int_equal(requests, 5);
	apply_use(a, 4, 6); /* known again */
	apply_use(b, 5, 7); /* the other collector, its first time */
	apply_use(a, 6, 8);
	apply_use(b, 7, 9);
	pg_obs_rows(c, &rows, &requests);
	assert_int_equal(rows, 1);
	assert_int_equal(requests, 5 + 6 + 7 + 8 + 9);
	t = token_view(b, FP_A);
	assert_int_equal(geti(t, "requests"), 3 + 4 + 5 + 6 + 7 + 8 + 9);
	assert_int_equal(geti(json_object_array_get_idx(geta(t, "processes"), 0), "requests"),
			 5 + 6 + 7 + 8 + 9);
	json_object_put(t);
	PQfinish(c);
	store_close(a);
	store_close(b);
}

/* SQLite has one collector per file: it always leads. */
#define WR_THREADS 4
#define WR_BATCHES 8

/* One HTTP worker's sensor: its batches applied in order, outcomes kept for the test. */
struct wr_worker {
	pthread_t tid;
	struct store *st;
	Tokentap__V1__Batch *b[WR_BATCHES];
	int applied;
	char err[256];
};

static void *wr_run(void *arg)
{
	struct wr_worker *w = arg;

	for (int i = 0; i < WR_BATCHES; i++)
		if (store_apply_batch(w->st, w->b[i], T0 + 5000, w->err, sizeof(w->err)) ==
		    STORE_APPLIED)
			w->applied++;
	return NULL;
}

/*
 * Threads applying batches at once through one store, with one and with
 * two writers allowed: every batch counted once, the totals exact. A
 * writer count out of the backend's range is refused.
 */
static void test_concurrent_writers_exact(void **state)
{
	struct store *st = tb_open(state);
	struct wr_worker w[WR_THREADS];
	struct json_object *t;

	assert_int_equal(store_set_writers(st, 0), -1);
	if (tb_is_pg(state))
		assert_int_equal(store_set_writers(st, 6), -1);
	for (unsigned writers = 1; writers <= 2; writers++) {
		assert_int_equal(store_set_writers(st, writers), 0);
		for (int k = 0; k < WR_THREADS; k++) {
			char sensor[40];

			memset(&w[k], 0, sizeof(w[k]));
			w[k].st = st;
			snprintf(sensor, sizeof(sensor), "writer-%u-%d", writers, k);
			for (int i = 0; i < WR_BATCHES; i++) {
				w[k].b[i] = fx_batch(sensor, "node-a", (uint64_t)i + 1);
				fx_add_usage(w[k].b[i], FP_A, "opaque", 100 + k, "/bin/a",
					     "1.1.1.1:443", "a", 3, T0 + i);
			}
		}
		for (int k = 0; k < WR_THREADS; k++)
			assert_int_equal(pthread_create(&w[k].tid, NULL, wr_run, &w[k]), 0);
		for (int k = 0; k < WR_THREADS; k++) {
			pthread_join(w[k].tid, NULL);
			if (w[k].applied != WR_BATCHES)
				fail_msg("writers %u, thread %d: %d of %d applied: %s", writers, k,
					 w[k].applied, WR_BATCHES, w[k].err);
			for (int i = 0; i < WR_BATCHES; i++)
				fx_free(w[k].b[i]);
		}
		t = token_view(st, FP_A);
		assert_int_equal(geti(t, "requests"), (int64_t)writers * WR_THREADS * WR_BATCHES * 3);
		json_object_put(t);
	}
	store_close(st);
}

static void test_sqlite_always_leads(void **state)
{
	struct store *st = tb_open(state);

	assert_int_equal(store_leader(st), 1);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_empty_file_idempotent),
		cmocka_unit_test(test_upgrade_backfills_sightings),
		cmocka_unit_test(test_readonly_refuses_foreign_db),
		cmocka_unit_test(test_newer_schema_refused),
		STORE_TEST(test_token_view_exact),
		STORE_TEST(test_pod_names_filled_in_later),
		STORE_TEST(test_seen_alone_counts_nothing),
		STORE_TEST(test_duplicate_batch_changes_nothing),
		STORE_TEST(test_concurrent_writers_exact),
		STORE_TEST(test_tokens_list_and_sort),
		STORE_TEST(test_unknown_token),
		STORE_TEST(test_sensors_view),
		STORE_TEST(test_two_nodes_one_token),
		cmocka_unit_test(test_obs_id_collision_probed),
		STORE_TEST(test_usage_split_by_node_and_exe),
		STORE_TEST(test_usage_split_by_workload),
		{ "test_pg_replicas_dedupe_and_lead", test_pg_replicas_dedupe_and_lead, NULL, tb_drop,
		  (void *)&tb_pg },
		{ "test_pg_known_observation_row_gone", test_pg_known_observation_row_gone, NULL,
		  tb_drop, (void *)&tb_pg },
		{ "test_sqlite_always_leads", test_sqlite_always_leads, NULL, NULL, (void *)&tb_sqlite },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
