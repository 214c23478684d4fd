/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's output as JSON: alerts (findings with their token and
 * delivery log) and each token's score, reasons, held inventory and
 * revocation record, for the API, the CLI and alert bodies alike.
 */
#include "risk.h"
#include "sqlite_store.h"
#include "store_json.h"

#include <stdio.h>
#include <string.h>

#define ALERTS_DEFAULT_LIMIT 1000
#define ALERTS_MAX_LIMIT 100000

enum alerts_stmt {
	AL_ALERT_ONE,
	AL_ALERTS,
	AL_TOKEN_FINDINGS,
	AL_DELIVERIES,
	AL_OPEN_REASONS,
	AL_TOKEN_SEEN_ANY,
	AL_TOKEN_RISK,
	AL_TOKEN_HELD,
	AL_TOKEN_REVOCATIONS,
	AL_TOKEN_REVOKE_MARK,
	AL_PENDING_REVOCATIONS,
	AL__COUNT
};

/* An alert: a finding with its token's type, score and key. */
#define ALERT_COLS                                                                          \
	"f.id, f.fingerprint, COALESCE(t.token_type, ''), f.rule, f.subject, f.severity,"   \
	" f.weight, f.reason, f.evidence, f.first_seen, f.last_seen, f.count, f.resolved_at," \
	" COALESCE(r.score, 0), COALESCE(t.key_id, ''), COALESCE(t.aws_account, '')"
enum {
	AC_ID, AC_FINGERPRINT, AC_TOKEN_TYPE, AC_RULE, AC_SUBJECT, AC_SEVERITY, AC_WEIGHT,
	AC_REASON, AC_EVIDENCE, AC_FIRST_SEEN, AC_LAST_SEEN, AC_COUNT, AC_RESOLVED_AT,
	AC_TOKEN_SCORE, AC_KEY_ID, AC_AWS_ACCOUNT,
};
#define ALERT_FROM                                                                          \
	" FROM findings f LEFT JOIN tokens t ON t.fingerprint = f.fingerprint"               \
	" LEFT JOIN risk r ON r.fingerprint = f.fingerprint"

static const char sql_alert_one[] = "SELECT " ALERT_COLS ALERT_FROM " WHERE f.id = ?1";
static const char sql_alerts[] =
	"SELECT " ALERT_COLS ALERT_FROM " WHERE f.severity >= ?1 AND (?2 = '' OR f.fingerprint = ?2)"
	" AND f.first_seen >= ?3 ORDER BY f.first_seen DESC, f.id DESC LIMIT ?4";
static const char sql_token_findings[] =
	"SELECT " ALERT_COLS ALERT_FROM " WHERE f.fingerprint = ?1 ORDER BY f.first_seen, f.id"
	" LIMIT 10000";

enum { DL_TARGET, DL_ATTEMPT, DL_TS, DL_OUTCOME, DL_HTTP_STATUS, DL_ERROR };
static const char sql_deliveries[] =
	"SELECT target, attempt, ts, outcome, http_status, error FROM deliveries"
	" WHERE finding_id = ?1 ORDER BY id";

enum { OR_RULE, OR_SEVERITY, OR_WEIGHT, OR_REASON, OR_SUBJECT, OR_FIRST_SEEN };
static const char sql_open_reasons[] =
	"SELECT rule, severity, weight, reason, subject, first_seen FROM findings"
	" WHERE fingerprint = ?1 AND resolved_at IS NULL ORDER BY weight DESC, first_seen, id";

enum { SA_SEEN };
static const char sql_token_seen_any[] =
	"SELECT EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = ?1)";

enum { RK_SCORE, RK_IMPACT, RK_LIKELIHOOD, RK_IMPACT_WHY, RK_REASONS, RK_UPDATED };
static const char sql_token_risk[] =
	"SELECT score, impact, likelihood, impact_why, reasons, updated FROM risk"
	" WHERE fingerprint = ?1";

enum { HD_NODE, HD_PID, HD_EXE, HD_SOURCE, HD_NAME, HD_FIRST_SEEN, HD_LAST_SEEN };
static const char sql_token_held[] =
	"SELECT node, pid, exe, source, name, first_seen, last_seen FROM held"
	" WHERE fingerprint = ?1 ORDER BY first_seen, id LIMIT 1000";

enum { RV_HOOK, RV_TS, RV_OUTCOME, RV_EXIT_CODE, RV_HTTP_STATUS, RV_DETAIL, RV_FINDING_ID };
static const char sql_token_revocations[] =
	"SELECT hook, ts, outcome, exit_code, http_status, detail, finding_id FROM revocations"
	" WHERE fingerprint = ?1 ORDER BY id LIMIT 1000";

enum { RM_MARKED_AT, RM_HOOK, RM_DONE_AT, RM_DONE_NODE, RM_OUTCOME };
static const char sql_token_revoke_mark[] =
	"SELECT marked_at, hook, done_at, done_node, outcome FROM revoke_marks"
	" WHERE fingerprint = ?1";

enum { PR_FINGERPRINT };
static const char sql_pending_revocations[] =
	"SELECT fingerprint FROM revoke_marks WHERE done_at IS NULL ORDER BY marked_at LIMIT ?1";

static const char *const alerts_sql[AL__COUNT] = {
	[AL_ALERT_ONE] = sql_alert_one,
	[AL_ALERTS] = sql_alerts,
	[AL_TOKEN_FINDINGS] = sql_token_findings,
	[AL_DELIVERIES] = sql_deliveries,
	[AL_OPEN_REASONS] = sql_open_reasons,
	[AL_TOKEN_SEEN_ANY] = sql_token_seen_any,
	[AL_TOKEN_RISK] = sql_token_risk,
	[AL_TOKEN_HELD] = sql_token_held,
	[AL_TOKEN_REVOCATIONS] = sql_token_revocations,
	[AL_TOKEN_REVOKE_MARK] = sql_token_revoke_mark,
	[AL_PENDING_REVOCATIONS] = sql_pending_revocations,
};

const struct sq_stmts sqlite_alerts_stmts = { alerts_sql, AL__COUNT, NULL };

static sqlite3_stmt *stmt(struct sqlite_store *st, enum alerts_stmt i)
{
	return sq_stmt(&st->stmts[SQM_ALERTS], i);
}

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
	struct json_object *ev = json_tokener_parse(sq_col_text(s, AC_EVIDENCE)), *v;
	static const char *const copied[] = { "node", "exe", "pid", "dst", "host", "method" };

	json_object_object_add(a, "id", json_object_new_int64(sqlite3_column_int64(s, AC_ID)));
	put_str(a, "fingerprint", sq_col_text(s, AC_FINGERPRINT));
	put_str(a, "token_type", sq_col_text(s, AC_TOKEN_TYPE));
	put_str(a, "rule", sq_col_text(s, AC_RULE));
	put_str(a, "severity", severity_name(sqlite3_column_int(s, AC_SEVERITY)));
	put_opt(a, "subject", sq_col_text(s, AC_SUBJECT));
	put_str(a, "reason", sq_col_text(s, AC_REASON));
	json_object_object_add(a, "weight",
			       json_object_new_double(sqlite3_column_double(s, AC_WEIGHT)));
	put_time(a, "first_seen", sqlite3_column_int64(s, AC_FIRST_SEEN));
	put_time(a, "last_seen", sqlite3_column_int64(s, AC_LAST_SEEN));
	json_object_object_add(a, "count", json_object_new_int64(sqlite3_column_int64(s, AC_COUNT)));
	json_object_object_add(a, "open", json_object_new_boolean(
				  sqlite3_column_type(s, AC_RESOLVED_AT) == SQLITE_NULL));
	if (sqlite3_column_type(s, AC_RESOLVED_AT) != SQLITE_NULL)
		put_time(a, "resolved_at", sqlite3_column_int64(s, AC_RESOLVED_AT));
	json_object_object_add(a, "token_score",
			       json_object_new_int64(sqlite3_column_int64(s, AC_TOKEN_SCORE)));
	put_opt(a, "key_id", sq_col_text(s, AC_KEY_ID));
	put_opt(a, "aws_account", sq_col_text(s, AC_AWS_ACCOUNT));
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

static struct json_object *delivery_row(sqlite3_stmt *s)
{
	struct json_object *d = json_object_new_object();

	put_str(d, "target", sq_col_text(s, DL_TARGET));
	json_object_object_add(d, "attempt",
			       json_object_new_int64(sqlite3_column_int64(s, DL_ATTEMPT)));
	put_time(d, "ts", sqlite3_column_int64(s, DL_TS));
	put_str(d, "outcome", sq_col_text(s, DL_OUTCOME));
	if (sqlite3_column_int64(s, DL_HTTP_STATUS))
		json_object_object_add(d, "http_status",
				       json_object_new_int64(sqlite3_column_int64(s, DL_HTTP_STATUS)));
	put_opt(d, "error", sq_col_text(s, DL_ERROR));
	return d;
}

static struct json_object *deliveries(struct sqlite_store *st, int64_t id)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s = stmt(st, AL_DELIVERIES);

	sqlite3_bind_int64(s, 1, id);
	sqlite_rows_json(s, arr, delivery_row);
	return arr;
}

struct json_object *sqlite_alert_json(struct sqlite_store *st, int64_t finding_id)
{
	struct json_object *a = NULL;
	sqlite3_stmt *s = stmt(st, AL_ALERT_ONE);

	sqlite3_bind_int64(s, 1, finding_id);
	if (sqlite3_step(s) == SQLITE_ROW)
		a = alert_object(s);
	sqlite3_reset(s);
	return a;
}

int sqlite_query_alerts(struct store *base, const struct alert_filter *f, struct json_object **out,
			char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct json_object *arr = json_object_new_array();
	unsigned limit = f->limit ? f->limit : ALERTS_DEFAULT_LIMIT;
	sqlite3_stmt *s;
	int rc;

	if (limit > ALERTS_MAX_LIMIT)
		limit = ALERTS_MAX_LIMIT;
	pthread_mutex_lock(&st->lock);
	s = stmt(st, AL_ALERTS);
	sqlite3_bind_int(s, 1, f->min_severity);
	sq_bind_text(s, 2, f->fingerprint);
	sqlite3_bind_int64(s, 3, f->since_ms);
	sqlite3_bind_int64(s, 4, limit);
	/* deliveries() uses another statement: s stays positioned */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct json_object *a = alert_object(s);

		json_object_object_add(a, "deliveries",
				       deliveries(st, sqlite3_column_int64(s, AC_ID)));
		json_object_array_add(arr, a);
	}
	sqlite3_reset(s);
	return sqlite_answer(st, rc == SQLITE_DONE ? 0 : -1, arr, out, err, errlen);
}

static struct json_object *reason_row(sqlite3_stmt *s)
{
	struct json_object *r = json_object_new_object();

	put_str(r, "rule", sq_col_text(s, OR_RULE));
	put_str(r, "severity", severity_name(sqlite3_column_int(s, OR_SEVERITY)));
	json_object_object_add(r, "weight",
			       json_object_new_double(sqlite3_column_double(s, OR_WEIGHT)));
	put_str(r, "reason", sq_col_text(s, OR_REASON));
	put_opt(r, "subject", sq_col_text(s, OR_SUBJECT));
	put_time(r, "first_seen", sqlite3_column_int64(s, OR_FIRST_SEEN));
	return r;
}

struct json_object *sqlite_open_reasons(struct sqlite_store *st, const char *fingerprint)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s = stmt(st, AL_OPEN_REASONS);

	sq_bind_text(s, 1, fingerprint);
	sqlite_rows_json(s, arr, reason_row);
	return arr;
}

static struct json_object *held_row(sqlite3_stmt *s)
{
	struct json_object *h = json_object_new_object();

	put_str(h, "node", sq_col_text(s, HD_NODE));
	json_object_object_add(h, "pid", json_object_new_int64(sqlite3_column_int64(s, HD_PID)));
	put_str(h, "exe", sq_col_text(s, HD_EXE));
	put_str(h, "source", sq_col_text(s, HD_SOURCE));
	put_str(h, "name", sq_col_text(s, HD_NAME));
	put_time(h, "first_seen", sqlite3_column_int64(s, HD_FIRST_SEEN));
	put_time(h, "last_seen", sqlite3_column_int64(s, HD_LAST_SEEN));
	return h;
}

static int add_held(struct sqlite_store *st, struct json_object *tok, const char *fp,
		    int64_t requests, int has_seen)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s = stmt(st, AL_TOKEN_HELD);
	const char *state;
	int rc;

	json_object_object_add(tok, "held", arr);
	sq_bind_text(s, 1, fp);
	rc = sqlite_rows_json(s, arr, held_row);
	if (json_object_array_length(arr) == 0)
		state = "used_not_held";
	else if (requests > 0 || has_seen)
		state = "held_and_used";
	else
		state = "held_never_used";
	put_str(tok, "held_state", state);
	return rc;
}

static struct json_object *revocation_row(sqlite3_stmt *s)
{
	struct json_object *r = json_object_new_object();

	put_str(r, "hook", sq_col_text(s, RV_HOOK));
	put_time(r, "ts", sqlite3_column_int64(s, RV_TS));
	put_str(r, "outcome", sq_col_text(s, RV_OUTCOME));
	json_object_object_add(r, "exit_code",
			       json_object_new_int64(sqlite3_column_int64(s, RV_EXIT_CODE)));
	if (sqlite3_column_int64(s, RV_HTTP_STATUS))
		json_object_object_add(r, "http_status",
				       json_object_new_int64(sqlite3_column_int64(s, RV_HTTP_STATUS)));
	put_opt(r, "detail", sq_col_text(s, RV_DETAIL));
	json_object_object_add(r, "finding_id",
			       json_object_new_int64(sqlite3_column_int64(s, RV_FINDING_ID)));
	return r;
}

static int add_revocations(struct sqlite_store *st, struct json_object *tok, const char *fp)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s = stmt(st, AL_TOKEN_REVOCATIONS);

	json_object_object_add(tok, "revocations", arr);
	sq_bind_text(s, 1, fp);
	if (sqlite_rows_json(s, arr, revocation_row) < 0)
		return -1;
	s = stmt(st, AL_TOKEN_REVOKE_MARK);
	sq_bind_text(s, 1, fp);
	if (sqlite3_step(s) == SQLITE_ROW) {
		struct json_object *m = json_object_new_object();

		put_time(m, "marked_at", sqlite3_column_int64(s, RM_MARKED_AT));
		put_str(m, "hook", sq_col_text(s, RM_HOOK));
		if (sqlite3_column_type(s, RM_DONE_AT) != SQLITE_NULL) {
			put_time(m, "done_at", sqlite3_column_int64(s, RM_DONE_AT));
			put_opt(m, "done_node", sq_col_text(s, RM_DONE_NODE));
			put_opt(m, "outcome", sq_col_text(s, RM_OUTCOME));
		}
		json_object_object_add(tok, "sensor_revocation", m);
	}
	sqlite3_reset(s);
	return 0;
}

static int add_findings(struct sqlite_store *st, struct json_object *tok, const char *fp)
{
	struct json_object *arr = json_object_new_array();
	sqlite3_stmt *s = stmt(st, AL_TOKEN_FINDINGS);

	json_object_object_add(tok, "findings", arr);
	sq_bind_text(s, 1, fp);
	return sqlite_rows_json(s, arr, alert_object);
}

/* The token's "risk" object from the current row of s (AL_TOKEN_RISK). */
static void risk_from_row(struct json_object *risk, sqlite3_stmt *s)
{
	struct json_object *reasons = json_tokener_parse(sq_col_text(s, RK_REASONS));

	json_object_object_add(risk, "score",
			       json_object_new_int64(sqlite3_column_int64(s, RK_SCORE)));
	json_object_object_add(risk, "impact",
			       json_object_new_double(sqlite3_column_double(s, RK_IMPACT)));
	json_object_object_add(risk, "likelihood",
			       json_object_new_double(sqlite3_column_double(s, RK_LIKELIHOOD)));
	put_opt(risk, "impact_why", sq_col_text(s, RK_IMPACT_WHY));
	if (!reasons || !json_object_is_type(reasons, json_type_array)) {
		json_object_put(reasons);
		reasons = json_object_new_array();
	}
	json_object_object_add(risk, "reasons", reasons);
	put_time(risk, "updated", sqlite3_column_int64(s, RK_UPDATED));
}

int sqlite_add_risk(struct sqlite_store *st, struct json_object *tok, const char *fingerprint,
		    int full)
{
	struct json_object *risk = json_object_new_object(), *req;
	int64_t requests = 0;
	int has_seen;
	sqlite3_stmt *s;

	json_object_object_add(tok, "risk", risk);
	if (json_object_object_get_ex(tok, "requests", &req))
		requests = json_object_get_int64(req);
	s = stmt(st, AL_TOKEN_SEEN_ANY);
	sq_bind_text(s, 1, fingerprint);
	has_seen = (int)sq_one_int(s, 0);
	s = stmt(st, AL_TOKEN_RISK);
	sq_bind_text(s, 1, fingerprint);
	if (sqlite3_step(s) == SQLITE_ROW) {
		risk_from_row(risk, s);
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

static struct json_object *fingerprint_row(sqlite3_stmt *s)
{
	return json_object_new_string(sq_col_text(s, PR_FINGERPRINT));
}

int sqlite_pending_revocations(struct store *base, struct json_object *arr, unsigned max)
{
	struct sqlite_store *st = sqlite_of(base);
	size_t before = json_object_array_length(arr);
	sqlite3_stmt *s;

	pthread_mutex_lock(&st->lock);
	s = stmt(st, AL_PENDING_REVOCATIONS);
	sqlite3_bind_int(s, 1, (int)max);
	sqlite_rows_json(s, arr, fingerprint_row);
	pthread_mutex_unlock(&st->lock);
	return (int)(json_object_array_length(arr) - before);
}
