/* SPDX-License-Identifier: Apache-2.0 */
#include "store_alerts.h"
#include "risk.h"
#include "store_internal.h"
#include "store_json.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define ALERTS_DEFAULT_LIMIT 1000
#define ALERTS_MAX_LIMIT 100000

#define ALERT_COLS                                                                          \
	"f.id, f.fingerprint, COALESCE(t.token_type, ''), f.rule, f.subject, f.severity,"   \
	" f.weight, f.reason, f.evidence, f.first_seen, f.last_seen, f.count, f.resolved_at," \
	" COALESCE(r.score, 0), COALESCE(t.key_id, ''), COALESCE(t.aws_account, '')"
#define ALERT_FROM                                                                          \
	" FROM findings f LEFT JOIN tokens t ON t.fingerprint = f.fingerprint"               \
	" LEFT JOIN risk r ON r.fingerprint = f.fingerprint"

static const char *severity_name(int sev)
{
	return risk_severity_name(sev < RISK_SEV_INFO ? RISK_SEV_INFO :
				  sev > RISK_SEV_CRITICAL ? RISK_SEV_CRITICAL :
				  (enum risk_severity)sev);
}

/* The alert of the current row of s (ALERT_COLS). */
static struct json_object *alert_object(sqlite3_stmt *s)
{
	struct json_object *a = json_object_new_object();
	struct json_object *ev = json_tokener_parse(col_text(s, 8)), *v;
	static const char *const copied[] = { "node", "exe", "pid", "dst", "host", "method" };

	json_object_object_add(a, "id", json_object_new_int64(sqlite3_column_int64(s, 0)));
	put_str(a, "fingerprint", col_text(s, 1));
	put_str(a, "token_type", col_text(s, 2));
	put_str(a, "rule", col_text(s, 3));
	put_str(a, "severity", severity_name(sqlite3_column_int(s, 5)));
	put_opt(a, "subject", col_text(s, 4));
	put_str(a, "reason", col_text(s, 7));
	json_object_object_add(a, "weight", json_object_new_double(sqlite3_column_double(s, 6)));
	put_time(a, "first_seen", sqlite3_column_int64(s, 9));
	put_time(a, "last_seen", sqlite3_column_int64(s, 10));
	json_object_object_add(a, "count", json_object_new_int64(sqlite3_column_int64(s, 11)));
	json_object_object_add(a, "open", json_object_new_boolean(sqlite3_column_type(s, 12) ==
								   SQLITE_NULL));
	if (sqlite3_column_type(s, 12) != SQLITE_NULL)
		put_time(a, "resolved_at", sqlite3_column_int64(s, 12));
	json_object_object_add(a, "token_score", json_object_new_int64(sqlite3_column_int64(s, 13)));
	put_opt(a, "key_id", col_text(s, 14));
	put_opt(a, "aws_account", col_text(s, 15));
	if (ev && json_object_is_type(ev, json_type_object)) {
		/* the usual evidence at the top level too, for filters and chat lines */
		for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
			if (json_object_object_get_ex(ev, copied[i], &v))
				json_object_object_add(a, copied[i], json_object_get(v));
		json_object_object_add(a, "evidence", ev);
	} else {
		json_object_put(ev);
	}
	return a;
}

static struct json_object *deliveries(struct store *st, int64_t id)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;

	/* cached: an alert list asks this of every alert */
	s = store_stmt(st, SQ_ALERT_DELIVERIES);
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct json_object *d = json_object_new_object();

		put_str(d, "target", col_text(s, 0));
		json_object_object_add(d, "attempt", json_object_new_int64(sqlite3_column_int64(s, 1)));
		put_time(d, "ts", sqlite3_column_int64(s, 2));
		put_str(d, "outcome", col_text(s, 3));
		if (sqlite3_column_int64(s, 4))
			json_object_object_add(d, "http_status",
					       json_object_new_int64(sqlite3_column_int64(s, 4)));
		put_opt(d, "error", col_text(s, 5));
		json_object_array_add(arr, d);
	}
	sqlite3_reset(s);
	return arr;
}

struct json_object *store_alert_json_locked(struct store *st, int64_t finding_id)
{
	struct json_object *a = NULL;
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, "SELECT " ALERT_COLS ALERT_FROM " WHERE f.id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, finding_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		a = alert_object(s);
	sqlite3_finalize(s);
	return a;
}

int store_query_alerts(struct store *st, const struct alert_filter *f, struct json_object **out,
		       char *err, size_t errlen)
{
	struct json_object *arr = json_object_new_array();
	unsigned limit = f->limit ? f->limit : ALERTS_DEFAULT_LIMIT;
	sqlite3_stmt *s;
	int rc;

	if (limit > ALERTS_MAX_LIMIT)
		limit = ALERTS_MAX_LIMIT;
	pthread_mutex_lock(&st->lock);
	if (sqlite3_prepare_v2(st->db, "SELECT " ALERT_COLS ALERT_FROM
				       " WHERE f.severity >= ?1 AND (?2 = '' OR f.fingerprint = ?2)"
				       " AND f.first_seen >= ?3 ORDER BY f.first_seen DESC, f.id DESC"
				       " LIMIT ?4", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
		pthread_mutex_unlock(&st->lock);
		json_object_put(arr);
		return -1;
	}
	sqlite3_bind_int(s, 1, f->min_severity);
	sqlite3_bind_text(s, 2, f->fingerprint ? f->fingerprint : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, f->since_ms);
	sqlite3_bind_int64(s, 4, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *a = alert_object(s);

		json_object_object_add(a, "deliveries",
				       deliveries(st, sqlite3_column_int64(s, 0)));
		json_object_array_add(arr, a);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
		pthread_mutex_unlock(&st->lock);
		json_object_put(arr);
		return -1;
	}
	pthread_mutex_unlock(&st->lock);
	*out = arr;
	return 0;
}

struct json_object *store_open_reasons(struct store *st, const char *fingerprint)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;

	/* cached: every rescored token asks this */
	s = store_stmt(st, SQ_OPEN_REASONS);
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct json_object *r = json_object_new_object();

		put_str(r, "rule", col_text(s, 0));
		put_str(r, "severity", severity_name(sqlite3_column_int(s, 1)));
		json_object_object_add(r, "weight", json_object_new_double(sqlite3_column_double(s, 2)));
		put_str(r, "reason", col_text(s, 3));
		put_opt(r, "subject", col_text(s, 4));
		put_time(r, "first_seen", sqlite3_column_int64(s, 5));
		json_object_array_add(arr, r);
	}
	sqlite3_reset(s);
	return arr;
}

static int add_held(struct store *st, struct json_object *tok, const char *fp, int64_t requests,
		    int has_seen)
{
	struct json_object *arr = json_object_new_array();
	const char *state;
	sqlite3_stmt *s;
	int rc;

	json_object_object_add(tok, "held", arr);
	/* cached statements: a token list asks this of every token */
	s = store_stmt(st, SQ_TOKEN_HELD);
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *h = json_object_new_object();

		put_str(h, "node", col_text(s, 0));
		json_object_object_add(h, "pid", json_object_new_int64(sqlite3_column_int64(s, 1)));
		put_str(h, "exe", col_text(s, 2));
		put_str(h, "source", col_text(s, 3));
		put_str(h, "name", col_text(s, 4));
		put_time(h, "first_seen", sqlite3_column_int64(s, 5));
		put_time(h, "last_seen", sqlite3_column_int64(s, 6));
		json_object_array_add(arr, h);
	}
	sqlite3_reset(s);
	if (json_object_array_length(arr) == 0)
		state = "used_not_held";
	else if (requests > 0 || has_seen)
		state = "held_and_used";
	else
		state = "held_never_used";
	put_str(tok, "held_state", state);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int add_revocations(struct store *st, struct json_object *tok, const char *fp)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;
	int rc;

	json_object_object_add(tok, "revocations", arr);
	if (sqlite3_prepare_v2(st->db, "SELECT hook, ts, outcome, exit_code, http_status, detail,"
				       " finding_id FROM revocations WHERE fingerprint = ?1"
				       " ORDER BY id LIMIT 1000", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *r = json_object_new_object();

		put_str(r, "hook", col_text(s, 0));
		put_time(r, "ts", sqlite3_column_int64(s, 1));
		put_str(r, "outcome", col_text(s, 2));
		json_object_object_add(r, "exit_code", json_object_new_int64(sqlite3_column_int64(s, 3)));
		if (sqlite3_column_int64(s, 4))
			json_object_object_add(r, "http_status",
					       json_object_new_int64(sqlite3_column_int64(s, 4)));
		put_opt(r, "detail", col_text(s, 5));
		json_object_object_add(r, "finding_id", json_object_new_int64(sqlite3_column_int64(s, 6)));
		json_object_array_add(arr, r);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -1;
	if (sqlite3_prepare_v2(st->db, "SELECT marked_at, hook, done_at, done_node, outcome"
				       " FROM revoke_marks WHERE fingerprint = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		struct json_object *m = json_object_new_object();

		put_time(m, "marked_at", sqlite3_column_int64(s, 0));
		put_str(m, "hook", col_text(s, 1));
		if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
			put_time(m, "done_at", sqlite3_column_int64(s, 2));
			put_opt(m, "done_node", col_text(s, 3));
			put_opt(m, "outcome", col_text(s, 4));
		}
		json_object_object_add(tok, "sensor_revocation", m);
	}
	sqlite3_finalize(s);
	return 0;
}

static int add_findings(struct store *st, struct json_object *tok, const char *fp)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s;
	int rc;

	json_object_object_add(tok, "findings", arr);
	if (sqlite3_prepare_v2(st->db, "SELECT " ALERT_COLS ALERT_FROM " WHERE f.fingerprint = ?1"
				       " ORDER BY f.first_seen, f.id LIMIT 10000", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_array_add(arr, alert_object(s));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_add_risk_locked(struct store *st, struct json_object *tok, const char *fingerprint,
			  int full)
{
	struct json_object *risk = json_object_new_object(), *req;
	int64_t requests = 0;
	int has_seen = 0;
	sqlite3_stmt *s;

	json_object_object_add(tok, "risk", risk);
	if (json_object_object_get_ex(tok, "requests", &req))
		requests = json_object_get_int64(req);
	s = store_stmt(st, SQ_TOKEN_SEEN_ANY);
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		has_seen = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	s = store_stmt(st, SQ_TOKEN_RISK);
	sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW) {
		struct json_object *reasons = json_tokener_parse(col_text(s, 4));

		json_object_object_add(risk, "score", json_object_new_int64(sqlite3_column_int64(s, 0)));
		json_object_object_add(risk, "impact", json_object_new_double(sqlite3_column_double(s, 1)));
		json_object_object_add(risk, "likelihood",
				       json_object_new_double(sqlite3_column_double(s, 2)));
		put_opt(risk, "impact_why", col_text(s, 3));
		if (!reasons || !json_object_is_type(reasons, json_type_array)) {
			json_object_put(reasons);
			reasons = json_object_new_array();
		}
		json_object_object_add(risk, "reasons", reasons);
		put_time(risk, "updated", sqlite3_column_int64(s, 5));
	} else {
		/* not assessed yet: the engine runs every second */
		json_object_object_add(risk, "score", NULL);
		json_object_object_add(risk, "reasons", json_object_new_array());
	}
	sqlite3_reset(s);
	if (add_held(st, tok, fingerprint, requests, has_seen) < 0)
		return -1;
	if (full && (add_findings(st, tok, fingerprint) < 0 || add_revocations(st, tok, fingerprint) < 0))
		return -1;
	return 0;
}

int store_pending_revocations(struct store *st, struct json_object *arr, unsigned max)
{
	sqlite3_stmt *s;
	int n = 0;

	pthread_mutex_lock(&st->lock);
	if (sqlite3_prepare_v2(st->db, "SELECT fingerprint FROM revoke_marks WHERE done_at IS NULL"
				       " ORDER BY marked_at LIMIT ?1", -1, &s, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	sqlite3_bind_int(s, 1, (int)max);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_object_array_add(arr, json_object_new_string(col_text(s, 0)));
		n++;
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->lock);
	return n;
}
