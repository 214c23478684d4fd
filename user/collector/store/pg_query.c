/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the inventory from PostgreSQL into json-c objects: the same
 * keys, types and order as sqlite_query.c, so the API and the CLI answer
 * alike on either backend.
 */
#include "coverage_rows.h"
#include "pg_store.h"
#include "store_json.h"

#include <stdio.h>
#include <string.h>

/* Bounds on what one answer holds, as in sqlite_query.c. */
#define MAX_TOKENS 100000
#define MAX_ROWS_LIST 1000
#define MAX_ROWS_ONE 10000
#define MAX_MINUTES 10080
#define MAX_HOURS 2160
#define MAX_DAYS 730
#define MAX_SPLIT_ROWS 50000

enum query_stmt {
	Q_TOKENS_BY_LAST_SEEN,
	Q_TOKENS_BY_REQUESTS,
	Q_TOKENS_BY_RISK,
	Q_TOKENS_BY_FIRST_SEEN,
	Q_PAGE_BY_LAST_SEEN,
	Q_PAGE_BY_REQUESTS,
	Q_PAGE_BY_RISK,
	Q_PAGE_BY_FIRST_SEEN,
	Q_TOKEN_ONE,
	Q_TOKEN_PROCESSES,
	Q_TOKEN_DESTINATIONS,
	Q_TOKEN_NODES,
	Q_TOKEN_OBSERVATIONS,
	Q_TOKEN_USAGE,
	Q_TOKEN_USAGE_HOURLY,
	Q_TOKEN_USAGE_DAILY,
	Q_TOKEN_USAGE_SPLIT,
	Q_SENSORS,
	Q_COVERAGE_UNCOVERED,
	Q_COVERAGE_COVERED,
	Q__COUNT
};

/* Text sorts byte-wise (COLLATE "C"), as SQLite's default. */
#define C_ORDER(c) c " COLLATE \"C\""

static const char sql_tokens_by_last_seen[] =
	"SELECT " PG_TOKEN_COLS " FROM tokens ORDER BY last_seen DESC, " C_ORDER("fingerprint")
	" LIMIT $1";
static const char sql_tokens_by_requests[] =
	"SELECT " PG_TOKEN_COLS " FROM tokens ORDER BY requests DESC, " C_ORDER("fingerprint")
	" LIMIT $1";
static const char sql_tokens_by_risk[] =
	"SELECT " PG_TOKEN_COLS " FROM tokens LEFT JOIN risk USING (fingerprint)"
	" ORDER BY COALESCE(risk.score, -1) DESC, last_seen DESC, " C_ORDER("fingerprint")
	" LIMIT $1";
static const char sql_tokens_by_first_seen[] =
	"SELECT " PG_TOKEN_COLS " FROM tokens ORDER BY first_seen DESC, " C_ORDER("fingerprint")
	" LIMIT $1";

/*
 * A page in the order of an index (tokens_page_*), as in sqlite_query.c:
 * the cursor $1 key and $2 fingerprint (the first page: the largest key
 * and ""), the filters ("" or -1: any) $3 type, $4 minimum score, $5
 * fingerprint prefix, $6 node, $7 namespace, $8 workload, $9 held state
 * (enum token_held_filter), $10 rows. The key is the last column.
 */
#define PAGE_KEY 20
#define PG_WORKLOAD_OF(o)                                                                    \
	"(CASE WHEN COALESCE(" PG_PROC_OF(o, "k8s_namespace") ", '') = '' THEN " o ".exe"      \
	" ELSE " PG_PROC_OF(o, "k8s_namespace") " || '/' || " o ".exe END)"
#define PAGE_SQL(key)                                                                         \
	"SELECT " PG_TOKEN_COLS ", " key " FROM tokens t WHERE " key " <= $1::bigint"           \
	" AND (" key " < $1::bigint OR " C_ORDER("fingerprint") " > $2)"                        \
	" AND ($3 = '' OR token_type = $3) AND risk_score >= $4::bigint"                       \
	" AND left(fingerprint, length($5)) = $5"                                               \
	" AND ($6 = '' OR EXISTS (SELECT 1 FROM observations o"                                 \
	" WHERE o.fingerprint = t.fingerprint AND o.node = $6))"                                \
	" AND ($7 = '' OR EXISTS (SELECT 1 FROM observations o"                                 \
	" WHERE o.fingerprint = t.fingerprint AND " PG_PROC_OF("o", "k8s_namespace") " = $7))"  \
	" AND ($8 = '' OR EXISTS (SELECT 1 FROM observations o"                                 \
	" WHERE o.fingerprint = t.fingerprint AND " PG_WORKLOAD_OF("o") " = $8))"               \
	" AND ($9::int = 0 OR $9::int = (CASE WHEN NOT EXISTS (SELECT 1 FROM held h"            \
	" WHERE h.fingerprint = t.fingerprint) THEN 3 WHEN requests > 0 OR EXISTS (SELECT 1"    \
	" FROM seen_log s WHERE s.fingerprint = t.fingerprint) THEN 1 ELSE 2 END))"             \
	" ORDER BY " key " DESC, " C_ORDER("fingerprint") " LIMIT $10::bigint"
static const char sql_page_by_last_seen[] = PAGE_SQL("last_seen");
static const char sql_page_by_requests[] = PAGE_SQL("requests");
static const char sql_page_by_risk[] = PAGE_SQL("risk_score");
static const char sql_page_by_first_seen[] = PAGE_SQL("first_seen");

static const char sql_token_one[] = "SELECT " PG_TOKEN_COLS " FROM tokens WHERE fingerprint = $1";

enum {
	PR_SENSOR_ID, PR_NODE, PR_PID, PR_EXE, PR_COMM, PR_UID, PR_REQUESTS, PR_FIRST_SEEN,
	PR_LAST_SEEN, PR_CONTAINER_ID, PR_CMDLINE, PR_K8S_NAMESPACE, PR_POD, PR_CONTAINER, PR_IMAGE,
	PR_WORKLOAD_KIND, PR_WORKLOAD_NAME, PR_SERVICE_ACCOUNT, PR_POD_UID,
};
/*
 * SQLite's bare columns of a GROUP BY (node, comm, uid) come from one row
 * of the group; here the newest observation's, which is what SQLite
 * answers for the single-row groups the inventory holds.
 */
static const char sql_token_processes[] =
	"SELECT g.sensor_id, g.node, g.pid, g.exe, g.comm, g.uid, g.requests, g.first_seen,"
	" g.last_seen, " PG_PROC_OF("g", "container_id") ", " PG_PROC_OF("g", "cmdline") ", "
	PG_PROC_OF("g", "k8s_namespace") ", " PG_PROC_OF("g", "pod") ", " PG_PROC_OF("g", "container")
	", " PG_PROC_OF("g", "image") ", " PG_PROC_OF("g", "workload_kind") ", "
	PG_PROC_OF("g", "workload_name") ", " PG_PROC_OF("g", "service_account") ", "
	PG_PROC_OF("g", "pod_uid") " FROM (SELECT o.sensor_id, o.pid, o.exe,"
	" (array_agg(o.node ORDER BY o.last_seen DESC, o.id))[1] AS node,"
	" (array_agg(o.comm ORDER BY o.last_seen DESC, o.id))[1] AS comm,"
	" (array_agg(o.uid ORDER BY o.last_seen DESC, o.id))[1] AS uid,"
	" SUM(o.requests) AS requests, MIN(o.first_seen) AS first_seen,"
	" MAX(o.last_seen) AS last_seen FROM observations o WHERE o.fingerprint = $1"
	" GROUP BY o.sensor_id, o.pid, o.exe) g"
	" ORDER BY 7 DESC, " C_ORDER("g.node") ", g.pid, " C_ORDER("g.exe") " LIMIT $2";

enum {
	DS_DST, DS_HOST, DS_TLS, DS_TLS_LIBRARY, DS_REQUESTS, DS_FIRST_SEEN, DS_LAST_SEEN,
};
static const char sql_token_destinations[] =
	"SELECT dst, host, tls, MAX(tls_library COLLATE \"C\"), SUM(requests), MIN(first_seen),"
	" MAX(last_seen) FROM observations WHERE fingerprint = $1"
	" GROUP BY dst, host, tls ORDER BY 5 DESC, " C_ORDER("dst") ", " C_ORDER("host") " LIMIT $2";

enum { ND_NODE };
static const char sql_token_nodes[] =
	"SELECT DISTINCT node COLLATE \"C\" FROM observations WHERE fingerprint = $1 ORDER BY 1"
	" LIMIT $2";

enum {
	OB_NODE, OB_PID, OB_EXE, OB_COMM, OB_DST, OB_HOST, OB_TLS, OB_METHOD, OB_PATH,
	OB_REQUESTS, OB_FIRST_SEEN, OB_LAST_SEEN,
};
static const char sql_token_observations[] =
	"SELECT node, pid, exe, comm, dst, host, tls, method, path, requests, first_seen,"
	" last_seen FROM observations WHERE fingerprint = $1 ORDER BY requests DESC, id LIMIT $2";

enum { US_MINUTE, US_TOTAL };
static const char sql_token_usage[] =
	"SELECT minute, total FROM (SELECT u.minute AS minute, SUM(u.count) AS total"
	" FROM observations o JOIN usage u ON u.obs_id = o.id WHERE o.fingerprint = $1"
	" GROUP BY u.minute ORDER BY u.minute DESC LIMIT $2) x ORDER BY minute";

/* the same for what retention rolled up: the newest $2 hours and days, oldest first */
static const char sql_token_usage_hourly[] =
	"SELECT hour, total FROM (SELECT u.hour AS hour, SUM(u.count) AS total"
	" FROM observations o JOIN usage_hour u ON u.obs_id = o.id WHERE o.fingerprint = $1"
	" GROUP BY u.hour ORDER BY u.hour DESC LIMIT $2) x ORDER BY hour";
static const char sql_token_usage_daily[] =
	"SELECT day, total FROM (SELECT u.day AS day, SUM(u.count) AS total"
	" FROM observations o JOIN usage_day u ON u.obs_id = o.id WHERE o.fingerprint = $1"
	" GROUP BY u.day ORDER BY u.day DESC LIMIT $2) x ORDER BY day";

/* the same minutes split by node, executable and workload, as sqlite_query.c */
enum { UX_MINUTE, UX_NODE, UX_EXE, UX_IN_CTR, UX_NS, UX_KIND, UX_NAME, UX_CTR, UX_COUNT };
#define UX_GROUP "node, exe, in_ctr, ns, kind, wname, ctr"
#define UX_ORDER C_ORDER("node") ", " C_ORDER("exe") ", in_ctr, " C_ORDER("ns") ", " \
	C_ORDER("kind") ", " C_ORDER("wname") ", " C_ORDER("ctr")
static const char sql_token_usage_split[] =
	"WITH w AS MATERIALIZED (SELECT o.id AS id, o.node AS node, o.exe AS exe,"
	" COALESCE(" PG_PROC_OF("o", "container_id") ", '') <> '' AS in_ctr,"
	" COALESCE(" PG_PROC_OF("o", "k8s_namespace") ", '') AS ns,"
	" COALESCE(" PG_PROC_OF("o", "workload_kind") ", '') AS kind,"
	" COALESCE(" PG_PROC_OF("o", "workload_name") ", '') AS wname,"
	" COALESCE(" PG_PROC_OF("o", "container") ", '') AS ctr"
	" FROM observations o WHERE o.fingerprint = $1)"
	" SELECT minute, " UX_GROUP ", total FROM (SELECT u.minute AS minute, " UX_GROUP ","
	" SUM(u.count) AS total FROM w JOIN usage u ON u.obs_id = w.id"
	" GROUP BY u.minute, " UX_GROUP " ORDER BY u.minute DESC, " UX_ORDER " LIMIT $2) x"
	" ORDER BY minute, " UX_ORDER;

enum {
	SN_SENSOR_ID, SN_NODE, SN_VERSION, SN_FIRST_SEEN, SN_LAST_SEEN, SN_LAST_SEQ, SN_BATCHES,
	SN_EVENTS, SN_STATUS_TS, SN_STATUS_JSON,
};
static const char sql_sensors[] =
	"SELECT sensor_id, node, version, first_seen, last_seen, last_seq, batches, events,"
	" status_ts, status_json FROM sensors ORDER BY " C_ORDER("node") ", "
	C_ORDER("sensor_id");

/* The coverage report's two row sets, as sqlite_query.c (coverage_rows.h). */
enum { CV_NODE, CV_EXE, CV_DST, CV_LAST_SEEN, CV_CAUSE, CV_DETAIL, CV_CONTAINER_ID, CV_POD_UID };
static const char sql_coverage_uncovered[] =
	"SELECT node, exe, dst, last_seen, cause, detail, container_id, pod_uid FROM coverage"
	" ORDER BY node, exe, last_seen DESC, dst LIMIT $1";
enum { CC_TLS_LIBRARY = 4 };
static const char sql_coverage_covered[] =
	"SELECT node, exe, dst, MAX(last_seen), MAX(tls_library) FROM observations WHERE tls = 1"
	" GROUP BY node, exe, dst ORDER BY node, exe, 4 DESC, dst LIMIT $1";

static const char *const query_sql[Q__COUNT] = {
	[Q_TOKENS_BY_LAST_SEEN] = sql_tokens_by_last_seen,
	[Q_TOKENS_BY_REQUESTS] = sql_tokens_by_requests,
	[Q_TOKENS_BY_RISK] = sql_tokens_by_risk,
	[Q_TOKENS_BY_FIRST_SEEN] = sql_tokens_by_first_seen,
	[Q_PAGE_BY_LAST_SEEN] = sql_page_by_last_seen,
	[Q_PAGE_BY_REQUESTS] = sql_page_by_requests,
	[Q_PAGE_BY_RISK] = sql_page_by_risk,
	[Q_PAGE_BY_FIRST_SEEN] = sql_page_by_first_seen,
	[Q_TOKEN_ONE] = sql_token_one,
	[Q_TOKEN_PROCESSES] = sql_token_processes,
	[Q_TOKEN_DESTINATIONS] = sql_token_destinations,
	[Q_TOKEN_NODES] = sql_token_nodes,
	[Q_TOKEN_OBSERVATIONS] = sql_token_observations,
	[Q_TOKEN_USAGE] = sql_token_usage,
	[Q_TOKEN_USAGE_HOURLY] = sql_token_usage_hourly,
	[Q_TOKEN_USAGE_DAILY] = sql_token_usage_daily,
	[Q_TOKEN_USAGE_SPLIT] = sql_token_usage_split,
	[Q_SENSORS] = sql_sensors,
	[Q_COVERAGE_UNCOVERED] = sql_coverage_uncovered,
	[Q_COVERAGE_COVERED] = sql_coverage_covered,
};

static const struct pg_stmts stmts = { PGM_QUERY, query_sql, Q__COUNT };

typedef struct json_object *(*pg_row_fn)(const PGresult *r, int i);

static struct json_object *token_metadata(const PGresult *r, int i)
{
	struct json_object *m = json_object_new_object();
	const char *jwt = pg_s(r, i, PTC_JWT);

	put_opt(m, "scheme", pg_s(r, i, PTC_SCHEME));
	put_opt(m, "header", pg_s(r, i, PTC_HEADER));
	put_opt(m, "token_prefix", pg_s(r, i, PTC_PREFIX));
	put_int(m, "token_length", pg_i(r, i, PTC_LENGTH));
	json_object_object_add(m, "has_checksum",
			       json_object_new_boolean((int)pg_i(r, i, PTC_HAS_CHECKSUM)));
	if (pg_i(r, i, PTC_HAS_CHECKSUM))
		json_object_object_add(m, "checksum_valid", json_object_new_boolean(
					       (int)pg_i(r, i, PTC_CHECKSUM_VALID)));
	put_int(m, "confidence", pg_i(r, i, PTC_CONFIDENCE));
	put_opt(m, "key_id", pg_s(r, i, PTC_KEY_ID));
	put_opt(m, "aws_key_kind", pg_s(r, i, PTC_AWS_KEY_KIND));
	put_opt(m, "aws_account", pg_s(r, i, PTC_AWS_ACCOUNT));
	put_opt(m, "aws_region", pg_s(r, i, PTC_AWS_REGION));
	put_opt(m, "aws_service", pg_s(r, i, PTC_AWS_SERVICE));
	put_opt(m, "basic_user", pg_s(r, i, PTC_BASIC_USER));
	put_opt(m, "basic_password_type", pg_s(r, i, PTC_BASIC_PASSWORD_TYPE));
	if (jwt[0]) {
		struct json_object *j = json_tokener_parse(jwt);

		if (j && json_object_is_type(j, json_type_object))
			json_object_object_add(m, "jwt", j);
		else
			json_object_put(j);
	}
	return m;
}

static struct json_object *process_row(const PGresult *r, int i)
{
	struct json_object *p = json_object_new_object();

	put_str(p, "exe", pg_s(r, i, PR_EXE));
	put_opt(p, "comm", pg_s(r, i, PR_COMM));
	put_int(p, "pid", pg_i(r, i, PR_PID));
	put_int(p, "uid", pg_i(r, i, PR_UID));
	put_str(p, "node", pg_s(r, i, PR_NODE));
	put_str(p, "sensor_id", pg_s(r, i, PR_SENSOR_ID));
	put_int(p, "requests", pg_i(r, i, PR_REQUESTS));
	put_time(p, "first_seen", pg_i(r, i, PR_FIRST_SEEN));
	put_time(p, "last_seen", pg_i(r, i, PR_LAST_SEEN));
	put_opt(p, "container_id", pg_s(r, i, PR_CONTAINER_ID));
	put_opt(p, "cmdline", pg_s(r, i, PR_CMDLINE));
	put_opt(p, "k8s_namespace", pg_s(r, i, PR_K8S_NAMESPACE));
	put_opt(p, "pod", pg_s(r, i, PR_POD));
	put_opt(p, "pod_uid", pg_s(r, i, PR_POD_UID));
	put_opt(p, "container", pg_s(r, i, PR_CONTAINER));
	put_opt(p, "image", pg_s(r, i, PR_IMAGE));
	put_opt(p, "workload_kind", pg_s(r, i, PR_WORKLOAD_KIND));
	put_opt(p, "workload_name", pg_s(r, i, PR_WORKLOAD_NAME));
	put_opt(p, "service_account", pg_s(r, i, PR_SERVICE_ACCOUNT));
	put_workload(p, &(struct risk_proc){ .exe = pg_s(r, i, PR_EXE),
		.container_id = pg_s(r, i, PR_CONTAINER_ID), .k8s_namespace = pg_s(r, i, PR_K8S_NAMESPACE),
		.workload_kind = pg_s(r, i, PR_WORKLOAD_KIND), .workload_name = pg_s(r, i, PR_WORKLOAD_NAME),
		.container = pg_s(r, i, PR_CONTAINER) });
	return p;
}

static struct json_object *destination_row(const PGresult *r, int i)
{
	struct json_object *d = json_object_new_object();

	put_str(d, "dst", pg_s(r, i, DS_DST));
	put_str(d, "host", pg_s(r, i, DS_HOST));
	json_object_object_add(d, "tls", json_object_new_boolean((int)pg_i(r, i, DS_TLS)));
	put_opt(d, "tls_library", pg_s(r, i, DS_TLS_LIBRARY));
	put_int(d, "requests", pg_i(r, i, DS_REQUESTS));
	put_time(d, "first_seen", pg_i(r, i, DS_FIRST_SEEN));
	put_time(d, "last_seen", pg_i(r, i, DS_LAST_SEEN));
	return d;
}

static struct json_object *node_row(const PGresult *r, int i)
{
	return json_object_new_string(pg_s(r, i, ND_NODE));
}

static struct json_object *observation_row(const PGresult *r, int i)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "node", pg_s(r, i, OB_NODE));
	put_int(o, "pid", pg_i(r, i, OB_PID));
	put_str(o, "exe", pg_s(r, i, OB_EXE));
	put_opt(o, "comm", pg_s(r, i, OB_COMM));
	put_str(o, "dst", pg_s(r, i, OB_DST));
	put_str(o, "host", pg_s(r, i, OB_HOST));
	json_object_object_add(o, "tls", json_object_new_boolean((int)pg_i(r, i, OB_TLS)));
	put_opt(o, "method", pg_s(r, i, OB_METHOD));
	put_opt(o, "path", pg_s(r, i, OB_PATH));
	put_int(o, "requests", pg_i(r, i, OB_REQUESTS));
	put_time(o, "first_seen", pg_i(r, i, OB_FIRST_SEEN));
	put_time(o, "last_seen", pg_i(r, i, OB_LAST_SEEN));
	return o;
}

/* A row of a usage series (minute, hour or day): the bucket's start under key, its requests. */
static struct json_object *bucket_row(const PGresult *r, int i, const char *key)
{
	struct json_object *u = json_object_new_object();

	put_time(u, key, pg_i(r, i, US_MINUTE));
	put_int(u, "count", pg_i(r, i, US_TOTAL));
	return u;
}

static struct json_object *usage_row(const PGresult *r, int i)
{
	return bucket_row(r, i, "minute");
}

static struct json_object *hour_row(const PGresult *r, int i)
{
	return bucket_row(r, i, "hour");
}

static struct json_object *day_row(const PGresult *r, int i)
{
	return bucket_row(r, i, "day");
}

static struct json_object *usage_split_row(const PGresult *r, int i)
{
	struct json_object *u = json_object_new_object();

	put_time(u, "minute", pg_i(r, i, UX_MINUTE));
	put_str(u, "node", pg_s(r, i, UX_NODE));
	put_str(u, "exe", pg_s(r, i, UX_EXE));
	put_workload(u, &(struct risk_proc){ .exe = pg_s(r, i, UX_EXE),
		.container_id = pg_s(r, i, UX_IN_CTR)[0] == 't' ? "1" : "",
		.k8s_namespace = pg_s(r, i, UX_NS), .workload_kind = pg_s(r, i, UX_KIND),
		.workload_name = pg_s(r, i, UX_NAME), .container = pg_s(r, i, UX_CTR) });
	put_int(u, "count", pg_i(r, i, UX_COUNT));
	return u;
}

/* Appends row(r, i) of every row of r to arr and clears r; 0, or -1 when r is NULL. */
static int rows_json(PGresult *r, struct json_object *arr, pg_row_fn row)
{
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		json_object_array_add(arr, row(r, i));
	PQclear(r);
	return 0;
}

static int add_rows(struct pg_slot *s, struct json_object *tok, const char *key,
		    enum query_stmt q, const char *fp, int limit, pg_row_fn row, struct pg_err *e)
{
	struct json_object *arr = json_object_new_array();
	struct pg_params p = { 0 };

	json_object_object_add(tok, key, arr);
	pg_text(&p, 1, fp);
	pg_int(&p, 2, limit);
	return rows_json(pg_run(&s->pc, &stmts, q, &p, e, "query"), arr, row);
}

static struct json_object *token_object(const PGresult *r, int i)
{
	struct json_object *t = json_object_new_object();

	put_str(t, "fingerprint", pg_s(r, i, PTC_FINGERPRINT));
	put_str(t, "token_type", pg_s(r, i, PTC_TYPE));
	put_time(t, "first_seen", pg_i(r, i, PTC_FIRST_SEEN));
	put_time(t, "last_seen", pg_i(r, i, PTC_LAST_SEEN));
	put_int(t, "requests", pg_i(r, i, PTC_REQUESTS));
	json_object_object_add(t, "metadata", token_metadata(r, i));
	return t;
}

static int add_relations(struct pg_slot *s, struct json_object *t, int limit, struct pg_err *e)
{
	const char *fp = json_object_get_string(json_object_object_get(t, "fingerprint"));

	if (add_rows(s, t, "processes", Q_TOKEN_PROCESSES, fp, limit, process_row, e) < 0 ||
	    add_rows(s, t, "destinations", Q_TOKEN_DESTINATIONS, fp, limit, destination_row, e) < 0 ||
	    add_rows(s, t, "nodes", Q_TOKEN_NODES, fp, limit, node_row, e) < 0 ||
	    pg_add_risk(s, t, fp, limit == MAX_ROWS_ONE, e) < 0)
		return -1;
	return 0;
}

/*
 * Ends a query: on rc < 0 drops obj, else hands obj to *out. The reads of
 * one answer ran in one read-only transaction (one snapshot, as SQLite's
 * single connection gives).
 */
static int answer(struct pg_store *st, struct pg_slot *s, int rc, struct json_object *obj,
		  struct json_object **out)
{
	if (rc < 0)
		json_object_put(obj);
	else
		*out = obj;
	pg_release(st, s);
	return rc;
}

/* A read-only snapshot for one answer. */
static int begin_read(struct pg_slot *s, struct pg_err *e)
{
	return pg_exec(s->pc.c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e, "query");
}

int pg_query_tokens(struct store *base, enum token_sort sort, struct json_object **out,
		    char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct json_object *arr;
	struct pg_params p = { 0 };
	int rc;

	if (!s)
		return -1;
	arr = json_object_new_array();
	pg_int(&p, 1, MAX_TOKENS);
	rc = begin_read(s, &e);
	if (rc == 0)
		rc = rows_json(pg_run(&s->pc, &stmts,
				      sort == TOKEN_SORT_REQUESTS ? Q_TOKENS_BY_REQUESTS :
				      sort == TOKEN_SORT_RISK ? Q_TOKENS_BY_RISK :
				      sort == TOKEN_SORT_FIRST_SEEN ? Q_TOKENS_BY_FIRST_SEEN :
				      Q_TOKENS_BY_LAST_SEEN, &p, &e, "query"),
			       arr, token_object);
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++)
		rc = add_relations(s, json_object_array_get_idx(arr, i), MAX_ROWS_LIST, &e);
	if (rc == 0)
		rc = pg_commit(s, &e);
	return answer(st, s, rc, arr, out);
}

static const char *opt(const char *s)
{
	return s ? s : "";
}

int pg_query_token_page(struct store *base, const struct token_page_query *q,
			struct json_object **out, char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct json_object *page, *arr;
	struct pg_params p = { 0 };
	unsigned limit = q->limit < 1 ? 1 : q->limit > TOKEN_PAGE_MAX ? TOKEN_PAGE_MAX : q->limit;
	PGresult *r = NULL;
	int rc;

	if (!s)
		return -1;
	page = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(page, "tokens", arr);
	pg_int(&p, 1, q->has_cursor ? q->after_key : INT64_MAX);
	pg_text(&p, 2, q->has_cursor ? q->after_fp : "");
	pg_text(&p, 3, opt(q->token_type));
	pg_int(&p, 4, q->min_risk);
	pg_text(&p, 5, opt(q->fp_prefix));
	pg_text(&p, 6, opt(q->node));
	pg_text(&p, 7, opt(q->k8s_namespace));
	pg_text(&p, 8, opt(q->workload));
	pg_int(&p, 9, (int)q->held);
	/* one row more than asked: whether a next page exists */
	pg_int(&p, 10, (int64_t)limit + 1);
	rc = begin_read(s, &e);
	if (rc == 0) {
		r = pg_run(&s->pc, &stmts,
			   q->sort == TOKEN_SORT_REQUESTS ? Q_PAGE_BY_REQUESTS :
			   q->sort == TOKEN_SORT_RISK ? Q_PAGE_BY_RISK :
			   q->sort == TOKEN_SORT_FIRST_SEEN ? Q_PAGE_BY_FIRST_SEEN :
			   Q_PAGE_BY_LAST_SEEN, &p, &e, "query");
		rc = r ? 0 : -1;
	}
	if (r) {
		int n = PQntuples(r);

		for (int i = 0; i < n && i < (int)limit; i++)
			json_object_array_add(arr, token_object(r, i));
		if (n > (int)limit) {
			char cursor[TOKEN_CURSOR_LEN];

			token_cursor_format(pg_i(r, (int)limit - 1, PAGE_KEY),
					    pg_s(r, (int)limit - 1, PTC_FINGERPRINT), cursor);
			json_object_object_add(page, "next_cursor", json_object_new_string(cursor));
		}
		PQclear(r);
	}
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++)
		rc = add_relations(s, json_object_array_get_idx(arr, i), MAX_ROWS_LIST, &e);
	if (rc == 0)
		rc = pg_commit(s, &e);
	return answer(st, s, rc, page, out);
}

int pg_query_token(struct store *base, const char *fingerprint, struct json_object **out,
		   char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct json_object *t = NULL;
	struct pg_params p = { 0 };
	PGresult *r;
	int rc;

	if (!s)
		return -1;
	pg_text(&p, 1, fingerprint);
	if (begin_read(s, &e) < 0 ||
	    !(r = pg_run(&s->pc, &stmts, Q_TOKEN_ONE, &p, &e, "query")))
		return answer(st, s, -1, NULL, out);
	if (PQntuples(r) == 0) {
		PQclear(r);
		pg_release(st, s);
		return 0;
	}
	t = token_object(r, 0);
	PQclear(r);
	rc = add_relations(s, t, MAX_ROWS_ONE, &e) == 0 &&
	     add_rows(s, t, "observations", Q_TOKEN_OBSERVATIONS, fingerprint, MAX_ROWS_ONE,
		      observation_row, &e) == 0 &&
	     add_rows(s, t, "usage", Q_TOKEN_USAGE, fingerprint, MAX_MINUTES, usage_row, &e) == 0 &&
	     add_rows(s, t, "usage_hourly", Q_TOKEN_USAGE_HOURLY, fingerprint, MAX_HOURS, hour_row,
		      &e) == 0 &&
	     add_rows(s, t, "usage_daily", Q_TOKEN_USAGE_DAILY, fingerprint, MAX_DAYS, day_row,
		      &e) == 0 &&
	     add_rows(s, t, "usage_split", Q_TOKEN_USAGE_SPLIT, fingerprint, MAX_SPLIT_ROWS,
		      usage_split_row, &e) == 0 &&
	     pg_commit(s, &e) == 0 ? 1 : -1;
	return answer(st, s, rc, t, out);
}

static struct json_object *sensor_row(const PGresult *r, int i)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "sensor_id", pg_s(r, i, SN_SENSOR_ID));
	put_str(o, "node", pg_s(r, i, SN_NODE));
	put_str(o, "version", pg_s(r, i, SN_VERSION));
	put_time(o, "first_seen", pg_i(r, i, SN_FIRST_SEEN));
	put_time(o, "last_seen", pg_i(r, i, SN_LAST_SEEN));
	put_int(o, "last_seq", pg_i(r, i, SN_LAST_SEQ));
	put_int(o, "batches", pg_i(r, i, SN_BATCHES));
	put_int(o, "events", pg_i(r, i, SN_EVENTS));
	if (!pg_null(r, i, SN_STATUS_TS)) {
		struct json_object *st_obj = json_tokener_parse(pg_s(r, i, SN_STATUS_JSON));

		if (!st_obj || !json_object_is_type(st_obj, json_type_object)) {
			json_object_put(st_obj);
			st_obj = json_object_new_object();
		}
		put_time(st_obj, "ts", pg_i(r, i, SN_STATUS_TS));
		json_object_object_add(o, "status", st_obj);
	}
	return o;
}

int pg_query_sensors(struct store *base, struct json_object **out, char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct json_object *arr;

	if (!s)
		return -1;
	arr = json_object_new_array();
	return answer(st, s, rows_json(pg_run(&s->pc, &stmts, Q_SENSORS, NULL, &e, "query"), arr,
				       sensor_row), arr, out);
}

/* Feeds one query's rows to the report and clears r; 0, or -1 (r NULL, out of memory). */
static int coverage_rows(PGresult *r, bool covered, struct coverage_builder *b)
{
	int rc = 0;

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		struct coverage_row row = {
			.node = pg_s(r, i, CV_NODE),
			.exe = pg_s(r, i, CV_EXE),
			.dst = pg_s(r, i, CV_DST),
			.last_seen = pg_i(r, i, CV_LAST_SEEN),
			.covered = covered,
		};

		if (covered) {
			row.tls_library = pg_s(r, i, CC_TLS_LIBRARY);
		} else {
			row.cause = pg_s(r, i, CV_CAUSE);
			row.detail = pg_s(r, i, CV_DETAIL);
			row.container_id = pg_s(r, i, CV_CONTAINER_ID);
			row.pod_uid = pg_s(r, i, CV_POD_UID);
		}
		rc = coverage_builder_add(b, &row);
	}
	PQclear(r);
	return rc;
}

int pg_query_coverage(struct store *base, struct json_object **out, char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct coverage_builder b;
	struct pg_params p = { 0 };
	int rc;

	if (!s)
		return -1;
	if (coverage_builder_init(&b) < 0) {
		snprintf(err, errlen, "query: out of memory");
		return answer(st, s, -1, NULL, out);
	}
	pg_int(&p, 1, COVERAGE_ROWS_MAX);
	/* one snapshot for both row sets */
	rc = begin_read(s, &e);
	if (rc == 0)
		rc = coverage_rows(pg_run(&s->pc, &stmts, Q_COVERAGE_UNCOVERED, &p, &e, "query"), false,
				   &b);
	if (rc == 0)
		rc = coverage_rows(pg_run(&s->pc, &stmts, Q_COVERAGE_COVERED, &p, &e, "query"), true, &b);
	if (rc == 0)
		rc = pg_commit(s, &e);
	if (rc < 0) {
		coverage_builder_free(&b);
		return answer(st, s, -1, NULL, out);
	}
	return answer(st, s, 0, coverage_builder_done(&b), out);
}
