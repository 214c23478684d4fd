/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store: WAL mode, schema migrations recorded
 * in a schema_version table, one transaction per batch, one connection
 * serialized by a mutex. What its modules share: the handle, the SQL
 * fragments two modules use, and the calls between modules. Each module
 * (sqlite_apply.c, sqlite_query.c, sqlite_alerts.c, sqlite_risk.c,
 * sqlite_retain.c) owns
 * its statements, prepared once with the connection.
 */
#ifndef TOKENTAP_SQLITE_STORE_H
#define TOKENTAP_SQLITE_STORE_H

#include <json-c/json.h>
#include <pthread.h>
#include <sqlite3.h>
#include "sqlite_util.h"
#include "store_backend.h"

/* The modules that own statements. */
enum sqlite_module {
	SQM_APPLY,
	SQM_QUERY,
	SQM_ALERTS,
	SQM_RISK,
	SQM_RETAIN,
	SQM__COUNT
};

/* Each module's SQL by its own statement enum (stmt left NULL). */
extern const struct sq_stmts sqlite_apply_stmts, sqlite_query_stmts, sqlite_alerts_stmts,
	sqlite_risk_stmts, sqlite_retain_stmts;

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	pthread_mutex_t lock;
	struct sq_stmts stmts[SQM__COUNT];
	struct obs_hasher *hasher;
	struct obs_cache *verified; /* ids known to hold their identity */
};

static inline struct sqlite_store *sqlite_of(struct store *st)
{
	return (struct sqlite_store *)st;
}

/* The connection of a SQLite store (tests look at rows through it), or NULL. */
sqlite3 *sqlite_store_db(struct store *st);

/* A token's own columns, written by sqlite_apply.c and read by sqlite_query.c. */
#define TOKEN_COLS                                                                           \
	"fingerprint, token_type, scheme, header, token_prefix, token_length, has_checksum, " \
	"checksum_valid, confidence, key_id, aws_key_kind, aws_account, aws_region, "          \
	"aws_service, basic_user, basic_password_type, jwt_json, first_seen, last_seen, requests"
enum token_col {
	TC_FINGERPRINT, TC_TYPE, TC_SCHEME, TC_HEADER, TC_PREFIX, TC_LENGTH, TC_HAS_CHECKSUM,
	TC_CHECKSUM_VALID, TC_CONFIDENCE, TC_KEY_ID, TC_AWS_KEY_KIND, TC_AWS_ACCOUNT,
	TC_AWS_REGION, TC_AWS_SERVICE, TC_BASIC_USER, TC_BASIC_PASSWORD_TYPE, TC_JWT,
	TC_FIRST_SEEN, TC_LAST_SEEN, TC_REQUESTS,
};

/*
 * A column of the newest process with the pid (and exe, when known) of
 * row, an observation or a sighting.
 */
#define PROC_OF(row, col)                                                                 \
	"(SELECT p." col " FROM processes p WHERE p.sensor_id = " row ".sensor_id AND p.pid = " \
	row ".pid AND (" row ".exe = '' OR p.exe = " row ".exe) ORDER BY p.start_time DESC"   \
	" LIMIT 1)"

/* The operations of store_backend.h, one module each. */
enum store_result sqlite_apply_batch(struct store *st, const Tokentap__V1__Batch *b,
				     int64_t now_ms, char *err, size_t errlen);
int sqlite_query_tokens(struct store *st, enum token_sort sort, struct json_object **out,
			char *err, size_t errlen);
int sqlite_query_token_page(struct store *st, const struct token_page_query *q,
			    struct json_object **out, char *err, size_t errlen);
int sqlite_query_token(struct store *st, const char *fingerprint, struct json_object **out,
		       char *err, size_t errlen);
int sqlite_query_coverage(struct store *base, struct json_object **out, char *err, size_t errlen);
int sqlite_query_sensors(struct store *st, struct json_object **out, char *err, size_t errlen);
int sqlite_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
			char *err, size_t errlen);
int sqlite_pending_revocations(struct store *st, struct json_object *arr, unsigned max);
int sqlite_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		     struct risk_pass_stats *stats, char *err, size_t errlen);
int sqlite_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		    char *err, size_t errlen);
int sqlite_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		       const struct risk_outcome *o, char *err, size_t errlen);
int sqlite_retain(struct store *st, const struct retention_policy *p, int64_t now_ms,
		  struct retention_stats *stats, char *err, size_t errlen);

/* One json-c value of the current row of a statement. */
typedef struct json_object *(*sqlite_row_fn)(sqlite3_stmt *s);
/* Appends row(s) for each row of a bound statement to arr and resets s; 0, or -1. */
int sqlite_rows_json(sqlite3_stmt *s, struct json_object *arr, sqlite_row_fn row);

/*
 * Ends a query that holds st->lock: on rc < 0 writes "query: reason" and
 * drops obj, else hands obj to *out. Unlocks; returns rc.
 */
int sqlite_answer(struct sqlite_store *st, int rc, struct json_object *obj,
		  struct json_object **out, char *err, size_t errlen);

/* ---- between modules; the caller holds st->lock ---- */

/* The alert of a finding, as in store_query_alerts; NULL when unknown. */
struct json_object *sqlite_alert_json(struct sqlite_store *st, int64_t finding_id);
/* Open findings of a token, heaviest first: [{rule, severity, weight, reason, subject}]. */
struct json_object *sqlite_open_reasons(struct sqlite_store *st, const char *fingerprint);
/*
 * Adds "risk" (score, reasons...), "held" and "held_state" to a token
 * object; full also adds "findings" and "revocations".
 */
int sqlite_add_risk(struct sqlite_store *st, struct json_object *tok, const char *fingerprint,
		    int full);

#endif
