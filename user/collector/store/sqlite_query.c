/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the inventory into json-c objects. Caller-facing times are RFC 3339. */
#include "coverage_rows.h"
#include "sqlite_store.h"
#include "store_json.h"

#include <stdio.h>
#include <string.h>

/* Bounds on what one answer holds, so a huge inventory stays answerable. */
#define MAX_TOKENS 100000
#define MAX_ROWS_LIST 1000      /* processes/destinations/nodes per token in lists */
#define MAX_ROWS_ONE 10000      /* the same in the single-token view */
#define MAX_MINUTES 10080       /* one week of per-minute usage */
#define MAX_HOURS 2160          /* 90 days of hourly usage (rolled up by retention) */
#define MAX_DAYS 730            /* two years of daily usage */
#define MAX_SPLIT_ROWS 50000    /* per-minute usage split by node and executable */

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

/* The token lists and the single token read TOKEN_COLS (enum token_col). */
static const char sql_tokens_by_last_seen[] =
	"SELECT " TOKEN_COLS " FROM tokens ORDER BY last_seen DESC, fingerprint LIMIT ?1";
static const char sql_tokens_by_requests[] =
	"SELECT " TOKEN_COLS " FROM tokens ORDER BY requests DESC, fingerprint LIMIT ?1";
/* highest score first; tokens not assessed yet last */
static const char sql_tokens_by_risk[] =
	"SELECT " TOKEN_COLS " FROM tokens LEFT JOIN risk USING (fingerprint)"
	" ORDER BY COALESCE(risk.score, -1) DESC, last_seen DESC, fingerprint LIMIT ?1";
static const char sql_tokens_by_first_seen[] =
	"SELECT " TOKEN_COLS " FROM tokens ORDER BY first_seen DESC, fingerprint LIMIT ?1";

/*
 * A page in the order of an index (tokens_page_*): the key ?1 and
 * fingerprint ?2 of the previous page's last row (the first page: the
 * largest key and ""), the filters ("" or -1: any) ?3 type, ?4 minimum
 * score, ?5 fingerprint prefix, ?6 node, ?7 namespace, ?8 workload, ?9 held
 * state (enum token_held_filter), ?10 rows. Each filter probes the token's
 * own observations and held rows by fingerprint: nothing is aggregated.
 * The key is the last column (PAGE_KEY).
 */
#define PAGE_KEY 20
#define PAGE_SQL(key)                                                                         \
	"SELECT " TOKEN_COLS ", " key " FROM tokens t WHERE " key " <= ?1 AND (" key " < ?1"   \
	" OR fingerprint > ?2) AND (?3 = '' OR token_type = ?3) AND risk_score >= ?4"           \
	" AND substr(fingerprint, 1, length(?5)) = ?5"                                          \
	" AND (?6 = '' OR EXISTS (SELECT 1 FROM observations o"                                 \
	" WHERE o.fingerprint = t.fingerprint AND o.node = ?6))"                                \
	" AND (?7 = '' OR EXISTS (SELECT 1 FROM obs_ident o WHERE o.fingerprint = t.fingerprint" \
	" AND " PROC_OF("o", "k8s_namespace") " = ?7))"                                          \
	" AND (?8 = '' OR EXISTS (SELECT 1 FROM obs_ident o WHERE o.fingerprint = t.fingerprint" \
	" AND (CASE WHEN COALESCE(" PROC_OF("o", "k8s_namespace") ", '') = '' THEN o.exe"      \
	" ELSE " PROC_OF("o", "k8s_namespace") " || '/' || o.exe END) = ?8))"                    \
	" AND (?9 = 0 OR ?9 = (CASE WHEN NOT EXISTS (SELECT 1 FROM held h"                      \
	" WHERE h.fingerprint = t.fingerprint) THEN 3 WHEN requests > 0 OR EXISTS (SELECT 1"    \
	" FROM seen_log s WHERE s.fingerprint = t.fingerprint) THEN 1 ELSE 2 END))"             \
	" ORDER BY " key " DESC, fingerprint LIMIT ?10"
static const char sql_page_by_last_seen[] = PAGE_SQL("last_seen");
static const char sql_page_by_requests[] = PAGE_SQL("requests");
static const char sql_page_by_risk[] = PAGE_SQL("risk_score");
static const char sql_page_by_first_seen[] = PAGE_SQL("first_seen");

static const char sql_token_one[] = "SELECT " TOKEN_COLS " FROM tokens WHERE fingerprint = ?1";

/* The processes that used a token (?1), busiest first, ?2 at most. */
enum {
	PR_SENSOR_ID, PR_NODE, PR_PID, PR_EXE, PR_COMM, PR_UID, PR_REQUESTS, PR_FIRST_SEEN,
	PR_LAST_SEEN, PR_CONTAINER_ID, PR_CMDLINE, PR_K8S_NAMESPACE, PR_POD, PR_CONTAINER, PR_IMAGE,
	PR_WORKLOAD_KIND, PR_WORKLOAD_NAME, PR_SERVICE_ACCOUNT, PR_POD_UID,
};
static const char sql_token_processes[] =
	"SELECT o.sensor_id, o.node, o.pid, o.exe, o.comm, o.uid, SUM(o.requests),"
	" MIN(o.first_seen), MAX(o.last_seen), " PROC_OF("o", "container_id") ", "
	PROC_OF("o", "cmdline") ", " PROC_OF("o", "k8s_namespace") ", " PROC_OF("o", "pod") ", "
	PROC_OF("o", "container") ", " PROC_OF("o", "image") ", " PROC_OF("o", "workload_kind") ", "
	PROC_OF("o", "workload_name") ", " PROC_OF("o", "service_account") ", "
	PROC_OF("o", "pod_uid") " FROM observations o"
	" WHERE o.fingerprint = ?1"
	" GROUP BY o.sensor_id, o.pid, o.exe ORDER BY 7 DESC, 2, 3, 4 LIMIT ?2";

/* Where a token (?1) was sent, busiest first, ?2 at most. */
enum {
	DS_DST, DS_HOST, DS_TLS, DS_TLS_LIBRARY, DS_REQUESTS, DS_FIRST_SEEN, DS_LAST_SEEN,
};
static const char sql_token_destinations[] =
	"SELECT dst, host, tls, MAX(tls_library), SUM(requests), MIN(first_seen),"
	" MAX(last_seen) FROM observations WHERE fingerprint = ?1"
	" GROUP BY dst, host, tls ORDER BY 5 DESC, 1, 2 LIMIT ?2";

enum { ND_NODE };
static const char sql_token_nodes[] =
	"SELECT DISTINCT node FROM observations WHERE fingerprint = ?1 ORDER BY node LIMIT ?2";

enum {
	OB_NODE, OB_PID, OB_EXE, OB_COMM, OB_DST, OB_HOST, OB_TLS, OB_METHOD, OB_PATH,
	OB_REQUESTS, OB_FIRST_SEEN, OB_LAST_SEEN,
};
static const char sql_token_observations[] =
	"SELECT node, pid, exe, comm, dst, host, tls, method, path, requests, first_seen,"
	" last_seen FROM observations WHERE fingerprint = ?1 ORDER BY requests DESC, id LIMIT ?2";

/* the newest ?2 minutes, returned oldest first; every series answers (start, total) */
enum { US_MINUTE, US_TOTAL };
static const char sql_token_usage[] =
	"SELECT minute, total FROM (SELECT u.minute AS minute, SUM(u.count) AS total"
	" FROM observations o JOIN usage u ON u.obs_id = o.id WHERE o.fingerprint = ?1"
	" GROUP BY u.minute ORDER BY u.minute DESC LIMIT ?2) ORDER BY minute";

/* the same for what retention rolled up: the newest ?2 hours and days, oldest first */
static const char sql_token_usage_hourly[] =
	"SELECT hour, total FROM (SELECT u.hour AS hour, SUM(u.count) AS total"
	" FROM obs_ident o JOIN usage_hour u ON u.obs_id = o.id WHERE o.fingerprint = ?1"
	" GROUP BY u.hour ORDER BY u.hour DESC LIMIT ?2) ORDER BY hour";
static const char sql_token_usage_daily[] =
	"SELECT day, total FROM (SELECT u.day AS day, SUM(u.count) AS total"
	" FROM obs_ident o JOIN usage_day u ON u.obs_id = o.id WHERE o.fingerprint = ?1"
	" GROUP BY u.day ORDER BY u.day DESC LIMIT ?2) ORDER BY day";
/*
 * The same minutes split by node, executable and workload (the console's
 * chart), the newest ?2 rows, oldest first: a minute's rows sum to its
 * "usage" total. Each observation's process is looked up once (the
 * materialized w), not once per minute it was used in; a container is
 * told apart only by whether there is one (risk_workload's "container:").
 */
enum { UX_MINUTE, UX_NODE, UX_EXE, UX_IN_CTR, UX_NS, UX_KIND, UX_NAME, UX_CTR, UX_COUNT };
#define UX_GROUP "node, exe, in_ctr, ns, kind, wname, ctr"
static const char sql_token_usage_split[] =
	"WITH w AS MATERIALIZED (SELECT o.id AS id, o.node AS node, o.exe AS exe,"
	" COALESCE(" PROC_OF("o", "container_id") ", '') <> '' AS in_ctr,"
	" COALESCE(" PROC_OF("o", "k8s_namespace") ", '') AS ns,"
	" COALESCE(" PROC_OF("o", "workload_kind") ", '') AS kind,"
	" COALESCE(" PROC_OF("o", "workload_name") ", '') AS wname,"
	" COALESCE(" PROC_OF("o", "container") ", '') AS ctr"
	" FROM observations o WHERE o.fingerprint = ?1)"
	" SELECT minute, " UX_GROUP ", total FROM (SELECT u.minute AS minute, " UX_GROUP ","
	" SUM(u.count) AS total FROM w JOIN usage u ON u.obs_id = w.id"
	" GROUP BY u.minute, " UX_GROUP " ORDER BY u.minute DESC, " UX_GROUP " LIMIT ?2)"
	" ORDER BY minute, " UX_GROUP;

enum {
	SN_SENSOR_ID, SN_NODE, SN_VERSION, SN_FIRST_SEEN, SN_LAST_SEEN, SN_LAST_SEQ, SN_BATCHES,
	SN_EVENTS, SN_STATUS_TS, SN_STATUS_JSON,
};
static const char sql_sensors[] =
	"SELECT sensor_id, node, version, first_seen, last_seen, last_seq, batches, events,"
	" status_ts, status_json FROM sensors ORDER BY node, sensor_id";

/* The coverage report's two row sets, grouped by (node, exe), newest first (coverage_rows.h). */
enum { CV_NODE, CV_EXE, CV_DST, CV_LAST_SEEN, CV_CAUSE, CV_DETAIL, CV_CONTAINER_ID, CV_POD_UID };
static const char sql_coverage_uncovered[] =
	"SELECT node, exe, dst, last_seen, cause, detail, container_id, pod_uid FROM coverage"
	" ORDER BY node, exe, last_seen DESC, dst LIMIT ?1";
enum { CC_NODE, CC_EXE, CC_DST, CC_LAST_SEEN, CC_TLS_LIBRARY };
static const char sql_coverage_covered[] =
	"SELECT node, exe, dst, MAX(last_seen), MAX(tls_library) FROM observations WHERE tls = 1"
	" GROUP BY node, exe, dst ORDER BY node, exe, 4 DESC, dst LIMIT ?1";

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

const struct sq_stmts sqlite_query_stmts = { query_sql, Q__COUNT, NULL };

static sqlite3_stmt *stmt(struct sqlite_store *st, enum query_stmt i)
{
	return sq_stmt(&st->stmts[SQM_QUERY], i);
}

static struct json_object *token_metadata(sqlite3_stmt *s)
{
	struct json_object *m = json_object_new_object();
	const char *jwt = sq_col_text(s, TC_JWT);

	put_opt(m, "scheme", sq_col_text(s, TC_SCHEME));
	put_opt(m, "header", sq_col_text(s, TC_HEADER));
	put_opt(m, "token_prefix", sq_col_text(s, TC_PREFIX));
	put_int(m, "token_length", sqlite3_column_int64(s, TC_LENGTH));
	json_object_object_add(m, "has_checksum",
			       json_object_new_boolean(sqlite3_column_int(s, TC_HAS_CHECKSUM)));
	if (sqlite3_column_int(s, TC_HAS_CHECKSUM))
		json_object_object_add(m, "checksum_valid",
				       json_object_new_boolean(sqlite3_column_int(s, TC_CHECKSUM_VALID)));
	put_int(m, "confidence", sqlite3_column_int64(s, TC_CONFIDENCE));
	put_opt(m, "key_id", sq_col_text(s, TC_KEY_ID));
	put_opt(m, "aws_key_kind", sq_col_text(s, TC_AWS_KEY_KIND));
	put_opt(m, "aws_account", sq_col_text(s, TC_AWS_ACCOUNT));
	put_opt(m, "aws_region", sq_col_text(s, TC_AWS_REGION));
	put_opt(m, "aws_service", sq_col_text(s, TC_AWS_SERVICE));
	put_opt(m, "basic_user", sq_col_text(s, TC_BASIC_USER));
	put_opt(m, "basic_password_type", sq_col_text(s, TC_BASIC_PASSWORD_TYPE));
	if (jwt[0]) {
		/* validated as an object at ingest; skipped if it no longer parses */
		struct json_object *j = json_tokener_parse(jwt);

		if (j && json_object_is_type(j, json_type_object))
			json_object_object_add(m, "jwt", j);
		else
			json_object_put(j);
	}
	return m;
}

static struct json_object *process_row(sqlite3_stmt *s)
{
	struct json_object *p = json_object_new_object();

	put_str(p, "exe", sq_col_text(s, PR_EXE));
	put_opt(p, "comm", sq_col_text(s, PR_COMM));
	put_int(p, "pid", sqlite3_column_int64(s, PR_PID));
	put_int(p, "uid", sqlite3_column_int64(s, PR_UID));
	put_str(p, "node", sq_col_text(s, PR_NODE));
	put_str(p, "sensor_id", sq_col_text(s, PR_SENSOR_ID));
	put_int(p, "requests", sqlite3_column_int64(s, PR_REQUESTS));
	put_time(p, "first_seen", sqlite3_column_int64(s, PR_FIRST_SEEN));
	put_time(p, "last_seen", sqlite3_column_int64(s, PR_LAST_SEEN));
	put_opt(p, "container_id", sq_col_text(s, PR_CONTAINER_ID));
	put_opt(p, "cmdline", sq_col_text(s, PR_CMDLINE));
	put_opt(p, "k8s_namespace", sq_col_text(s, PR_K8S_NAMESPACE));
	put_opt(p, "pod", sq_col_text(s, PR_POD));
	put_opt(p, "pod_uid", sq_col_text(s, PR_POD_UID));
	put_opt(p, "container", sq_col_text(s, PR_CONTAINER));
	put_opt(p, "image", sq_col_text(s, PR_IMAGE));
	put_opt(p, "workload_kind", sq_col_text(s, PR_WORKLOAD_KIND));
	put_opt(p, "workload_name", sq_col_text(s, PR_WORKLOAD_NAME));
	put_opt(p, "service_account", sq_col_text(s, PR_SERVICE_ACCOUNT));
	put_workload(p, &(struct risk_proc){ .exe = sq_col_text(s, PR_EXE),
		.container_id = sq_col_text(s, PR_CONTAINER_ID), .k8s_namespace = sq_col_text(s, PR_K8S_NAMESPACE),
		.workload_kind = sq_col_text(s, PR_WORKLOAD_KIND), .workload_name = sq_col_text(s, PR_WORKLOAD_NAME),
		.container = sq_col_text(s, PR_CONTAINER) });
	return p;
}

static struct json_object *destination_row(sqlite3_stmt *s)
{
	struct json_object *d = json_object_new_object();

	put_str(d, "dst", sq_col_text(s, DS_DST));
	put_str(d, "host", sq_col_text(s, DS_HOST));
	json_object_object_add(d, "tls", json_object_new_boolean(sqlite3_column_int(s, DS_TLS)));
	put_opt(d, "tls_library", sq_col_text(s, DS_TLS_LIBRARY));
	put_int(d, "requests", sqlite3_column_int64(s, DS_REQUESTS));
	put_time(d, "first_seen", sqlite3_column_int64(s, DS_FIRST_SEEN));
	put_time(d, "last_seen", sqlite3_column_int64(s, DS_LAST_SEEN));
	return d;
}

static struct json_object *node_row(sqlite3_stmt *s)
{
	return json_object_new_string(sq_col_text(s, ND_NODE));
}

static struct json_object *observation_row(sqlite3_stmt *s)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "node", sq_col_text(s, OB_NODE));
	put_int(o, "pid", sqlite3_column_int64(s, OB_PID));
	put_str(o, "exe", sq_col_text(s, OB_EXE));
	put_opt(o, "comm", sq_col_text(s, OB_COMM));
	put_str(o, "dst", sq_col_text(s, OB_DST));
	put_str(o, "host", sq_col_text(s, OB_HOST));
	json_object_object_add(o, "tls", json_object_new_boolean(sqlite3_column_int(s, OB_TLS)));
	put_opt(o, "method", sq_col_text(s, OB_METHOD));
	put_opt(o, "path", sq_col_text(s, OB_PATH));
	put_int(o, "requests", sqlite3_column_int64(s, OB_REQUESTS));
	put_time(o, "first_seen", sqlite3_column_int64(s, OB_FIRST_SEEN));
	put_time(o, "last_seen", sqlite3_column_int64(s, OB_LAST_SEEN));
	return o;
}

/*
 * A row of a usage series (per minute, or rolled up per hour or day):
 * the bucket's start under key, and its requests.
 */
static struct json_object *bucket_row(sqlite3_stmt *s, const char *key)
{
	struct json_object *u = json_object_new_object();

	put_time(u, key, sqlite3_column_int64(s, US_MINUTE));
	put_int(u, "count", sqlite3_column_int64(s, US_TOTAL));
	return u;
}

static struct json_object *usage_row(sqlite3_stmt *s)
{
	return bucket_row(s, "minute");
}

static struct json_object *hour_row(sqlite3_stmt *s)
{
	return bucket_row(s, "hour");
}

static struct json_object *day_row(sqlite3_stmt *s)
{
	return bucket_row(s, "day");
}

static struct json_object *usage_split_row(sqlite3_stmt *s)
{
	struct json_object *u = json_object_new_object();

	put_time(u, "minute", sqlite3_column_int64(s, UX_MINUTE));
	put_str(u, "node", sq_col_text(s, UX_NODE));
	put_str(u, "exe", sq_col_text(s, UX_EXE));
	put_workload(u, &(struct risk_proc){ .exe = sq_col_text(s, UX_EXE),
		.container_id = sqlite3_column_int(s, UX_IN_CTR) ? "1" : "",
		.k8s_namespace = sq_col_text(s, UX_NS), .workload_kind = sq_col_text(s, UX_KIND),
		.workload_name = sq_col_text(s, UX_NAME), .container = sq_col_text(s, UX_CTR) });
	put_int(u, "count", sqlite3_column_int64(s, UX_COUNT));
	return u;
}

/* tok[key]: the rows of statement i for the token fp (?1), limit (?2) at most. */
static int add_rows(struct sqlite_store *st, struct json_object *tok, const char *key,
		    enum query_stmt i, const char *fp, int limit, sqlite_row_fn row)
{
	sqlite3_stmt *s = stmt(st, i);
	struct json_object *arr = json_object_new_array();

	json_object_object_add(tok, key, arr);
	sq_bind_text(s, 1, fp);
	sqlite3_bind_int(s, 2, limit);
	return sqlite_rows_json(s, arr, row);
}

/* The token's own columns from the current row of s. */
static struct json_object *token_object(sqlite3_stmt *s)
{
	struct json_object *t = json_object_new_object();

	put_str(t, "fingerprint", sq_col_text(s, TC_FINGERPRINT));
	put_str(t, "token_type", sq_col_text(s, TC_TYPE));
	put_time(t, "first_seen", sqlite3_column_int64(s, TC_FIRST_SEEN));
	put_time(t, "last_seen", sqlite3_column_int64(s, TC_LAST_SEEN));
	put_int(t, "requests", sqlite3_column_int64(s, TC_REQUESTS));
	json_object_object_add(t, "metadata", token_metadata(s));
	return t;
}

static int add_relations(struct sqlite_store *st, struct json_object *t, int limit)
{
	/* the string belongs to t, which outlives these queries */
	const char *fp = json_object_get_string(json_object_object_get(t, "fingerprint"));

	if (add_rows(st, t, "processes", Q_TOKEN_PROCESSES, fp, limit, process_row) < 0 ||
	    add_rows(st, t, "destinations", Q_TOKEN_DESTINATIONS, fp, limit, destination_row) < 0 ||
	    add_rows(st, t, "nodes", Q_TOKEN_NODES, fp, limit, node_row) < 0 ||
	    sqlite_add_risk(st, t, fp, limit == MAX_ROWS_ONE) < 0)
		return -1;
	return 0;
}

/*
 * The answer of a read made of many statements (one transaction, see
 * sq_begin_read); the error is read before the transaction ends.
 */
static int read_answer(struct sqlite_store *st, int rc, struct json_object *obj,
		       struct json_object **out, char *err, size_t errlen)
{
	if (rc < 0) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
		json_object_put(obj);
		sq_end_read(st->db);
		pthread_mutex_unlock(&st->lock);
		return rc;
	}
	sq_end_read(st->db);
	return sqlite_answer(st, rc, obj, out, err, errlen);
}

int sqlite_query_tokens(struct store *base, enum token_sort sort, struct json_object **out,
			char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->lock);
	if (sq_begin_read(&(struct sq_err){ st->db, err, errlen }, "query") < 0) {
		json_object_put(arr);
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	/* the token rows are read first: the relation queries reuse nothing of s */
	s = stmt(st, sort == TOKEN_SORT_REQUESTS ? Q_TOKENS_BY_REQUESTS :
		     sort == TOKEN_SORT_RISK ? Q_TOKENS_BY_RISK :
		     sort == TOKEN_SORT_FIRST_SEEN ? Q_TOKENS_BY_FIRST_SEEN : Q_TOKENS_BY_LAST_SEEN);
	sqlite3_bind_int(s, 1, MAX_TOKENS);
	rc = sqlite_rows_json(s, arr, token_object);
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++)
		rc = add_relations(st, json_object_array_get_idx(arr, i), MAX_ROWS_LIST);
	return read_answer(st, rc, arr, out, err, errlen);
}

static const char *opt(const char *s)
{
	return s ? s : "";
}

int sqlite_query_token_page(struct store *base, const struct token_page_query *q,
			    struct json_object **out, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct json_object *page = json_object_new_object(), *arr = json_object_new_array();
	char cursor[TOKEN_CURSOR_LEN] = "";
	int64_t page_last_key = 0;
	unsigned limit = q->limit < 1 ? 1 : q->limit > TOKEN_PAGE_MAX ? TOKEN_PAGE_MAX : q->limit;
	sqlite3_stmt *s;
	int rc;

	json_object_object_add(page, "tokens", arr);
	pthread_mutex_lock(&st->lock);
	if (sq_begin_read(&(struct sq_err){ st->db, err, errlen }, "query") < 0) {
		json_object_put(page);
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	s = stmt(st, q->sort == TOKEN_SORT_REQUESTS ? Q_PAGE_BY_REQUESTS :
		     q->sort == TOKEN_SORT_RISK ? Q_PAGE_BY_RISK :
		     q->sort == TOKEN_SORT_FIRST_SEEN ? Q_PAGE_BY_FIRST_SEEN : Q_PAGE_BY_LAST_SEEN);
	sqlite3_bind_int64(s, 1, q->has_cursor ? q->after_key : INT64_MAX);
	sq_bind_text(s, 2, q->has_cursor ? q->after_fp : "");
	sq_bind_text(s, 3, opt(q->token_type));
	sqlite3_bind_int64(s, 4, q->min_risk);
	sq_bind_text(s, 5, opt(q->fp_prefix));
	sq_bind_text(s, 6, opt(q->node));
	sq_bind_text(s, 7, opt(q->k8s_namespace));
	sq_bind_text(s, 8, opt(q->workload));
	sqlite3_bind_int(s, 9, (int)q->held);
	/* one row more than asked: whether a next page exists */
	sqlite3_bind_int(s, 10, (int)limit + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (json_object_array_length(arr) == limit) {
			const char *fp = json_object_get_string(json_object_object_get(
				json_object_array_get_idx(arr, limit - 1), "fingerprint"));

			token_cursor_format(page_last_key, fp, cursor);
			break;
		}
		page_last_key = sqlite3_column_int64(s, PAGE_KEY);
		json_object_array_add(arr, token_object(s));
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(s);
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++)
		rc = add_relations(st, json_object_array_get_idx(arr, i), MAX_ROWS_LIST);
	if (cursor[0])
		json_object_object_add(page, "next_cursor", json_object_new_string(cursor));
	return read_answer(st, rc, page, out, err, errlen);
}

/* The single token's view in t; 0, or -1. */
static int token_view(struct sqlite_store *st, struct json_object *t, const char *fingerprint)
{
	if (add_relations(st, t, MAX_ROWS_ONE) < 0 ||
	    add_rows(st, t, "observations", Q_TOKEN_OBSERVATIONS, fingerprint, MAX_ROWS_ONE,
		     observation_row) < 0 ||
	    add_rows(st, t, "usage", Q_TOKEN_USAGE, fingerprint, MAX_MINUTES, usage_row) < 0 ||
	    add_rows(st, t, "usage_hourly", Q_TOKEN_USAGE_HOURLY, fingerprint, MAX_HOURS,
		     hour_row) < 0 ||
	    add_rows(st, t, "usage_daily", Q_TOKEN_USAGE_DAILY, fingerprint, MAX_DAYS,
		     day_row) < 0 ||
	    add_rows(st, t, "usage_split", Q_TOKEN_USAGE_SPLIT, fingerprint, MAX_SPLIT_ROWS,
		     usage_split_row) < 0)
		return -1;
	return 0;
}

int sqlite_query_token(struct store *base, const char *fingerprint, struct json_object **out,
		       char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct json_object *t = NULL;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->lock);
	if (sq_begin_read(&(struct sq_err){ st->db, err, errlen }, "query") < 0) {
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	s = stmt(st, Q_TOKEN_ONE);
	sq_bind_text(s, 1, fingerprint);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		t = token_object(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		sq_end_read(st->db);
		pthread_mutex_unlock(&st->lock);
		return 0;
	}
	rc = t && token_view(st, t, fingerprint) == 0 ? 1 : -1;
	return read_answer(st, rc, t, out, err, errlen);
}

static struct json_object *sensor_row(sqlite3_stmt *s)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "sensor_id", sq_col_text(s, SN_SENSOR_ID));
	put_str(o, "node", sq_col_text(s, SN_NODE));
	put_str(o, "version", sq_col_text(s, SN_VERSION));
	put_time(o, "first_seen", sqlite3_column_int64(s, SN_FIRST_SEEN));
	put_time(o, "last_seen", sqlite3_column_int64(s, SN_LAST_SEEN));
	put_int(o, "last_seq", sqlite3_column_int64(s, SN_LAST_SEQ));
	put_int(o, "batches", sqlite3_column_int64(s, SN_BATCHES));
	put_int(o, "events", sqlite3_column_int64(s, SN_EVENTS));
	if (sqlite3_column_type(s, SN_STATUS_TS) != SQLITE_NULL) {
		struct json_object *st_obj = json_tokener_parse(sq_col_text(s, SN_STATUS_JSON));

		if (!st_obj || !json_object_is_type(st_obj, json_type_object)) {
			json_object_put(st_obj);
			st_obj = json_object_new_object();
		}
		put_time(st_obj, "ts", sqlite3_column_int64(s, SN_STATUS_TS));
		json_object_object_add(o, "status", st_obj);
	}
	return o;
}

int sqlite_query_sensors(struct store *base, struct json_object **out, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct json_object *arr = json_object_new_array();
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = sqlite_rows_json(stmt(st, Q_SENSORS), arr, sensor_row);
	return sqlite_answer(st, rc, arr, out, err, errlen);
}

/* Feeds one query's rows to the report; SQLITE_DONE, or the failing step's code. */
static int coverage_rows(sqlite3_stmt *s, bool covered, struct coverage_builder *b)
{
	int rc;

	sqlite3_bind_int(s, 1, COVERAGE_ROWS_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct coverage_row r = {
			.node = sq_col_text(s, CV_NODE),
			.exe = sq_col_text(s, CV_EXE),
			.dst = sq_col_text(s, CV_DST),
			.last_seen = sqlite3_column_int64(s, CV_LAST_SEEN),
			.covered = covered,
		};

		if (covered) {
			r.tls_library = sq_col_text(s, CC_TLS_LIBRARY);
		} else {
			r.cause = sq_col_text(s, CV_CAUSE);
			r.detail = sq_col_text(s, CV_DETAIL);
			r.container_id = sq_col_text(s, CV_CONTAINER_ID);
			r.pod_uid = sq_col_text(s, CV_POD_UID);
		}
		if (coverage_builder_add(b, &r) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(s);
	return rc;
}

int sqlite_query_coverage(struct store *base, struct json_object **out, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct coverage_builder b;
	int rc;

	if (coverage_builder_init(&b) < 0) {
		snprintf(err, errlen, "query: out of memory");
		return -1;
	}
	pthread_mutex_lock(&st->lock);
	rc = coverage_rows(stmt(st, Q_COVERAGE_UNCOVERED), false, &b);
	if (rc == SQLITE_DONE)
		rc = coverage_rows(stmt(st, Q_COVERAGE_COVERED), true, &b);
	if (rc != SQLITE_DONE) {
		coverage_builder_free(&b);
		return sqlite_answer(st, -1, NULL, out, err, errlen);
	}
	return sqlite_answer(st, 0, coverage_builder_done(&b), out, err, errlen);
}
