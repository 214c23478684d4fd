/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the inventory into json-c objects. Caller-facing times are RFC 3339. */
#include "store_query.h"
#include "store_alerts.h"
#include "store_internal.h"
#include "store_json.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

/* Bounds on what one answer holds, so a huge inventory stays answerable. */
#define MAX_TOKENS 100000
#define MAX_ROWS_LIST 1000      /* processes/destinations/nodes per token in lists */
#define MAX_ROWS_ONE 10000      /* the same in the single-token view */
#define MAX_MINUTES 10080       /* one week of per-minute usage */

/* Column order of TOKEN_COLS in store.c. */
enum {
	TC_FINGERPRINT, TC_TYPE, TC_SCHEME, TC_HEADER, TC_PREFIX, TC_LENGTH, TC_HAS_CHECKSUM,
	TC_CHECKSUM_VALID, TC_CONFIDENCE, TC_KEY_ID, TC_AWS_KEY_KIND, TC_AWS_ACCOUNT,
	TC_AWS_REGION, TC_AWS_SERVICE, TC_BASIC_USER, TC_BASIC_PASSWORD_TYPE, TC_JWT,
	TC_FIRST_SEEN, TC_LAST_SEEN, TC_REQUESTS,
};

int token_sort_parse(const char *name, enum token_sort *out)
{
	if (!name || !strcmp(name, "last_seen"))
		*out = TOKEN_SORT_LAST_SEEN;
	else if (!strcmp(name, "requests"))
		*out = TOKEN_SORT_REQUESTS;
	else if (!strcmp(name, "risk"))
		*out = TOKEN_SORT_RISK;
	else
		return -1;
	return 0;
}

static int db_fail(struct store *st, char *err, size_t errlen)
{
	snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
	return -1;
}

static struct json_object *token_metadata(sqlite3_stmt *s)
{
	struct json_object *m = json_object_new_object();
	const char *jwt = col_text(s, TC_JWT);

	put_opt(m, "scheme", col_text(s, TC_SCHEME));
	put_opt(m, "header", col_text(s, TC_HEADER));
	put_opt(m, "token_prefix", col_text(s, TC_PREFIX));
	put_int(m, "token_length", sqlite3_column_int64(s, TC_LENGTH));
	json_object_object_add(m, "has_checksum",
			       json_object_new_boolean(sqlite3_column_int(s, TC_HAS_CHECKSUM)));
	if (sqlite3_column_int(s, TC_HAS_CHECKSUM))
		json_object_object_add(m, "checksum_valid",
				       json_object_new_boolean(sqlite3_column_int(s, TC_CHECKSUM_VALID)));
	put_int(m, "confidence", sqlite3_column_int64(s, TC_CONFIDENCE));
	put_opt(m, "key_id", col_text(s, TC_KEY_ID));
	put_opt(m, "aws_key_kind", col_text(s, TC_AWS_KEY_KIND));
	put_opt(m, "aws_account", col_text(s, TC_AWS_ACCOUNT));
	put_opt(m, "aws_region", col_text(s, TC_AWS_REGION));
	put_opt(m, "aws_service", col_text(s, TC_AWS_SERVICE));
	put_opt(m, "basic_user", col_text(s, TC_BASIC_USER));
	put_opt(m, "basic_password_type", col_text(s, TC_BASIC_PASSWORD_TYPE));
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

static int add_processes(struct store *st, struct json_object *tok, const char *fp, int limit)
{
	sqlite3_stmt *s = store_stmt(st, SQ_TOKEN_PROCESSES);
	struct json_object *arr = json_object_new_array();
	int rc;

	json_object_object_add(tok, "processes", arr);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *p = json_object_new_object();

		put_str(p, "exe", col_text(s, 3));
		put_opt(p, "comm", col_text(s, 4));
		put_int(p, "pid", sqlite3_column_int64(s, 2));
		put_int(p, "uid", sqlite3_column_int64(s, 5));
		put_str(p, "node", col_text(s, 1));
		put_str(p, "sensor_id", col_text(s, 0));
		put_int(p, "requests", sqlite3_column_int64(s, 6));
		put_time(p, "first_seen", sqlite3_column_int64(s, 7));
		put_time(p, "last_seen", sqlite3_column_int64(s, 8));
		put_opt(p, "container_id", col_text(s, 9));
		put_opt(p, "cmdline", col_text(s, 10));
		put_opt(p, "k8s_namespace", col_text(s, 11));
		json_object_array_add(arr, p);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int add_destinations(struct store *st, struct json_object *tok, const char *fp, int limit)
{
	sqlite3_stmt *s = store_stmt(st, SQ_TOKEN_DESTINATIONS);
	struct json_object *arr = json_object_new_array();
	int rc;

	json_object_object_add(tok, "destinations", arr);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *d = json_object_new_object();

		put_str(d, "dst", col_text(s, 0));
		put_str(d, "host", col_text(s, 1));
		json_object_object_add(d, "tls", json_object_new_boolean(sqlite3_column_int(s, 2)));
		put_opt(d, "tls_library", col_text(s, 3));
		put_int(d, "requests", sqlite3_column_int64(s, 4));
		put_time(d, "first_seen", sqlite3_column_int64(s, 5));
		put_time(d, "last_seen", sqlite3_column_int64(s, 6));
		json_object_array_add(arr, d);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int add_nodes(struct store *st, struct json_object *tok, const char *fp, int limit)
{
	sqlite3_stmt *s = store_stmt(st, SQ_TOKEN_NODES);
	struct json_object *arr = json_object_new_array();
	int rc;

	json_object_object_add(tok, "nodes", arr);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_array_add(arr, json_object_new_string(col_text(s, 0)));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int add_observations(struct store *st, struct json_object *tok, const char *fp)
{
	sqlite3_stmt *s = store_stmt(st, SQ_TOKEN_OBSERVATIONS);
	struct json_object *arr = json_object_new_array();
	int rc;

	json_object_object_add(tok, "observations", arr);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, MAX_ROWS_ONE);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *o = json_object_new_object();

		put_str(o, "node", col_text(s, 0));
		put_int(o, "pid", sqlite3_column_int64(s, 1));
		put_str(o, "exe", col_text(s, 2));
		put_opt(o, "comm", col_text(s, 3));
		put_str(o, "dst", col_text(s, 4));
		put_str(o, "host", col_text(s, 5));
		json_object_object_add(o, "tls", json_object_new_boolean(sqlite3_column_int(s, 6)));
		put_opt(o, "method", col_text(s, 7));
		put_opt(o, "path", col_text(s, 8));
		put_int(o, "requests", sqlite3_column_int64(s, 9));
		put_time(o, "first_seen", sqlite3_column_int64(s, 10));
		put_time(o, "last_seen", sqlite3_column_int64(s, 11));
		json_object_array_add(arr, o);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int add_usage(struct store *st, struct json_object *tok, const char *fp)
{
	sqlite3_stmt *s = store_stmt(st, SQ_TOKEN_USAGE);
	struct json_object *arr = json_object_new_array();
	int rc;

	json_object_object_add(tok, "usage", arr);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, MAX_MINUTES);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *u = json_object_new_object();

		put_time(u, "minute", sqlite3_column_int64(s, 0));
		put_int(u, "count", sqlite3_column_int64(s, 1));
		json_object_array_add(arr, u);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The token's own columns from the current row of s. */
static struct json_object *token_object(sqlite3_stmt *s)
{
	struct json_object *t = json_object_new_object();

	put_str(t, "fingerprint", col_text(s, TC_FINGERPRINT));
	put_str(t, "token_type", col_text(s, TC_TYPE));
	put_time(t, "first_seen", sqlite3_column_int64(s, TC_FIRST_SEEN));
	put_time(t, "last_seen", sqlite3_column_int64(s, TC_LAST_SEEN));
	put_int(t, "requests", sqlite3_column_int64(s, TC_REQUESTS));
	json_object_object_add(t, "metadata", token_metadata(s));
	return t;
}

static int add_relations(struct store *st, struct json_object *t, int limit)
{
	/* the string belongs to t, which outlives these queries */
	const char *fp = json_object_get_string(json_object_object_get(t, "fingerprint"));

	if (add_processes(st, t, fp, limit) < 0 || add_destinations(st, t, fp, limit) < 0 ||
	    add_nodes(st, t, fp, limit) < 0 ||
	    store_add_risk_locked(st, t, fp, limit == MAX_ROWS_ONE) < 0)
		return -1;
	return 0;
}

int store_query_tokens(struct store *st, enum token_sort sort, struct json_object **out,
		       char *err, size_t errlen)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->lock);
	/* the token rows are read first: the relation queries reuse nothing of s */
	s = store_stmt(st, sort == TOKEN_SORT_REQUESTS ? SQ_TOKENS_BY_REQUESTS :
			   sort == TOKEN_SORT_RISK ? SQ_TOKENS_BY_RISK : SQ_TOKENS_BY_LAST_SEEN);
	sqlite3_bind_int(s, 1, MAX_TOKENS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_array_add(arr, token_object(s));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (add_relations(st, json_object_array_get_idx(arr, i), MAX_ROWS_LIST) < 0)
			goto fail;
	pthread_mutex_unlock(&st->lock);
	*out = arr;
	return 0;
fail:
	db_fail(st, err, errlen);
	pthread_mutex_unlock(&st->lock);
	json_object_put(arr);
	return -1;
}

int store_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		      char *err, size_t errlen)
{
	struct json_object *t = NULL;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->lock);
	s = store_stmt(st, SQ_TOKEN_ONE);
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		t = token_object(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		pthread_mutex_unlock(&st->lock);
		return 0;
	}
	if (!t || add_relations(st, t, MAX_ROWS_ONE) < 0 || add_observations(st, t, fingerprint) < 0 ||
	    add_usage(st, t, fingerprint) < 0) {
		db_fail(st, err, errlen);
		pthread_mutex_unlock(&st->lock);
		json_object_put(t);
		return -1;
	}
	pthread_mutex_unlock(&st->lock);
	*out = t;
	return 1;
}

int store_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&st->lock);
	s = store_stmt(st, SQ_SENSORS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *o = json_object_new_object();

		put_str(o, "sensor_id", col_text(s, 0));
		put_str(o, "node", col_text(s, 1));
		put_str(o, "version", col_text(s, 2));
		put_time(o, "first_seen", sqlite3_column_int64(s, 3));
		put_time(o, "last_seen", sqlite3_column_int64(s, 4));
		put_int(o, "last_seq", sqlite3_column_int64(s, 5));
		put_int(o, "batches", sqlite3_column_int64(s, 6));
		put_int(o, "events", sqlite3_column_int64(s, 7));
		if (sqlite3_column_type(s, 8) != SQLITE_NULL) {
			struct json_object *st_obj = json_tokener_parse(col_text(s, 9));

			if (!st_obj || !json_object_is_type(st_obj, json_type_object)) {
				json_object_put(st_obj);
				st_obj = json_object_new_object();
			}
			put_time(st_obj, "ts", sqlite3_column_int64(s, 8));
			json_object_object_add(o, "status", st_obj);
		}
		json_object_array_add(arr, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_fail(st, err, errlen);
		pthread_mutex_unlock(&st->lock);
		json_object_put(arr);
		return -1;
	}
	pthread_mutex_unlock(&st->lock);
	*out = arr;
	return 0;
}
