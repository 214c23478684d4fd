/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's output from PostgreSQL as JSON: alerts and each
 * token's score, reasons, held inventory and revocation record, with the
 * same keys, types and order as sqlite_alerts.c.
 */
#include "pg_store.h"
#include "risk.h"
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

static const char sql_alert_one[] = "SELECT " ALERT_COLS ALERT_FROM " WHERE f.id = $1";
static const char sql_alerts[] =
	"SELECT " ALERT_COLS ALERT_FROM " WHERE f.severity >= $1 AND ($2 = '' OR f.fingerprint = $2)"
	" AND f.first_seen >= $3 ORDER BY f.first_seen DESC, f.id DESC LIMIT $4";
static const char sql_token_findings[] =
	"SELECT " ALERT_COLS ALERT_FROM " WHERE f.fingerprint = $1 ORDER BY f.first_seen, f.id"
	" LIMIT 10000";

enum { DL_TARGET, DL_ATTEMPT, DL_TS, DL_OUTCOME, DL_HTTP_STATUS, DL_ERROR };
static const char sql_deliveries[] =
	"SELECT target, attempt, ts, outcome, http_status, error FROM deliveries"
	" WHERE finding_id = $1 ORDER BY id";

enum { OR_RULE, OR_SEVERITY, OR_WEIGHT, OR_REASON, OR_SUBJECT, OR_FIRST_SEEN };
static const char sql_open_reasons[] =
	"SELECT rule, severity, weight, reason, subject, first_seen FROM findings"
	" WHERE fingerprint = $1 AND resolved_at IS NULL ORDER BY weight DESC, first_seen, id";

static const char sql_token_seen_any[] =
	"SELECT EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = $1)::int";

enum { RK_SCORE, RK_IMPACT, RK_LIKELIHOOD, RK_IMPACT_WHY, RK_REASONS, RK_UPDATED };
static const char sql_token_risk[] =
	"SELECT score, impact, likelihood, impact_why, reasons, updated FROM risk"
	" WHERE fingerprint = $1";

enum { HD_NODE, HD_PID, HD_EXE, HD_SOURCE, HD_NAME, HD_FIRST_SEEN, HD_LAST_SEEN };
static const char sql_token_held[] =
	"SELECT node, pid, exe, source, name, first_seen, last_seen FROM held"
	" WHERE fingerprint = $1 ORDER BY first_seen, id LIMIT 1000";

enum { RV_HOOK, RV_TS, RV_OUTCOME, RV_EXIT_CODE, RV_HTTP_STATUS, RV_DETAIL, RV_FINDING_ID };
static const char sql_token_revocations[] =
	"SELECT hook, ts, outcome, exit_code, http_status, detail, finding_id FROM revocations"
	" WHERE fingerprint = $1 ORDER BY id LIMIT 1000";

enum { RM_MARKED_AT, RM_HOOK, RM_DONE_AT, RM_DONE_NODE, RM_OUTCOME };
static const char sql_token_revoke_mark[] =
	"SELECT marked_at, hook, done_at, done_node, outcome FROM revoke_marks"
	" WHERE fingerprint = $1";

static const char sql_pending_revocations[] =
	"SELECT fingerprint FROM revoke_marks WHERE done_at IS NULL ORDER BY marked_at LIMIT $1";

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

static const struct pg_stmts stmts = { PGM_ALERTS, alerts_sql, AL__COUNT };

typedef struct json_object *(*pg_row_fn)(const PGresult *r, int i);

static int rows_json(PGresult *r, struct json_object *arr, pg_row_fn row)
{
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		json_object_array_add(arr, row(r, i));
	PQclear(r);
	return 0;
}

/* Runs statement q with the one text parameter v. */
static PGresult *run1(struct pg_slot *s, enum alerts_stmt q, const char *v, struct pg_err *e)
{
	struct pg_params p = { 0 };

	pg_text(&p, 1, v);
	return pg_run(&s->pc, &stmts, q, &p, e, "query");
}

static PGresult *run_id(struct pg_slot *s, enum alerts_stmt q, int64_t id, struct pg_err *e)
{
	struct pg_params p = { 0 };

	pg_int(&p, 1, id);
	return pg_run(&s->pc, &stmts, q, &p, e, "query");
}

static const char *severity_name(int sev)
{
	return risk_severity_name(sev < RISK_SEV_INFO ? RISK_SEV_INFO :
				  sev > RISK_SEV_CRITICAL ? RISK_SEV_CRITICAL :
				  (enum risk_severity)sev);
}

static struct json_object *alert_object(const PGresult *r, int i)
{
	struct json_object *a = json_object_new_object();
	struct json_object *ev = json_tokener_parse(pg_s(r, i, AC_EVIDENCE)), *v;
	static const char *const copied[] = { "node", "exe", "pid", "dst", "host", "method" };

	json_object_object_add(a, "id", json_object_new_int64(pg_i(r, i, AC_ID)));
	put_str(a, "fingerprint", pg_s(r, i, AC_FINGERPRINT));
	put_str(a, "token_type", pg_s(r, i, AC_TOKEN_TYPE));
	put_str(a, "rule", pg_s(r, i, AC_RULE));
	put_str(a, "severity", severity_name((int)pg_i(r, i, AC_SEVERITY)));
	put_opt(a, "subject", pg_s(r, i, AC_SUBJECT));
	put_str(a, "reason", pg_s(r, i, AC_REASON));
	json_object_object_add(a, "weight", json_object_new_double(pg_d(r, i, AC_WEIGHT)));
	put_time(a, "first_seen", pg_i(r, i, AC_FIRST_SEEN));
	put_time(a, "last_seen", pg_i(r, i, AC_LAST_SEEN));
	json_object_object_add(a, "count", json_object_new_int64(pg_i(r, i, AC_COUNT)));
	json_object_object_add(a, "open", json_object_new_boolean(pg_null(r, i, AC_RESOLVED_AT)));
	if (!pg_null(r, i, AC_RESOLVED_AT))
		put_time(a, "resolved_at", pg_i(r, i, AC_RESOLVED_AT));
	json_object_object_add(a, "token_score", json_object_new_int64(pg_i(r, i, AC_TOKEN_SCORE)));
	put_opt(a, "key_id", pg_s(r, i, AC_KEY_ID));
	put_opt(a, "aws_account", pg_s(r, i, AC_AWS_ACCOUNT));
	if (ev && json_object_is_type(ev, json_type_object)) {
		for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++)
			if (json_object_object_get_ex(ev, copied[k], &v))
				json_object_object_add(a, copied[k], json_object_get(v));
		json_object_object_add(a, "evidence", ev);
	} else {
		json_object_put(ev);
	}
	return a;
}

static struct json_object *delivery_row(const PGresult *r, int i)
{
	struct json_object *d = json_object_new_object();

	put_str(d, "target", pg_s(r, i, DL_TARGET));
	json_object_object_add(d, "attempt", json_object_new_int64(pg_i(r, i, DL_ATTEMPT)));
	put_time(d, "ts", pg_i(r, i, DL_TS));
	put_str(d, "outcome", pg_s(r, i, DL_OUTCOME));
	if (pg_i(r, i, DL_HTTP_STATUS))
		json_object_object_add(d, "http_status",
				       json_object_new_int64(pg_i(r, i, DL_HTTP_STATUS)));
	put_opt(d, "error", pg_s(r, i, DL_ERROR));
	return d;
}

static int add_deliveries(struct pg_slot *s, struct json_object *a, int64_t id, struct pg_err *e)
{
	struct json_object *arr = json_object_new_array();

	json_object_object_add(a, "deliveries", arr);
	return rows_json(run_id(s, AL_DELIVERIES, id, e), arr, delivery_row);
}

struct json_object *pg_alert_json(struct pg_slot *s, int64_t finding_id)
{
	char err[256];
	struct pg_err e = { err, sizeof(err), "" };
	PGresult *r = run_id(s, AL_ALERT_ONE, finding_id, &e);
	struct json_object *a = NULL;

	if (r && PQntuples(r) > 0)
		a = alert_object(r, 0);
	PQclear(r);
	return a;
}

int pg_query_alerts(struct store *base, const struct alert_filter *f, struct json_object **out,
		    char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	unsigned limit = f->limit ? f->limit : ALERTS_DEFAULT_LIMIT;
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct json_object *arr;
	struct pg_params p = { 0 };
	PGresult *r = NULL;
	int rc = -1;

	if (!s)
		return -1;
	if (limit > ALERTS_MAX_LIMIT)
		limit = ALERTS_MAX_LIMIT;
	arr = json_object_new_array();
	pg_int(&p, 1, f->min_severity);
	pg_text(&p, 2, f->fingerprint);
	pg_int(&p, 3, f->since_ms);
	pg_int(&p, 4, limit);
	if (pg_exec(s->pc.c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &e, "query") == 0)
		r = pg_run(&s->pc, &stmts, AL_ALERTS, &p, &e, "query");
	if (r) {
		rc = 0;
		for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
			struct json_object *a = alert_object(r, i);

			json_object_array_add(arr, a);
			rc = add_deliveries(s, a, pg_i(r, i, AC_ID), &e);
		}
		PQclear(r);
		if (rc == 0)
			rc = pg_commit(s, &e);
	}
	if (rc < 0)
		json_object_put(arr);
	else
		*out = arr;
	pg_release(st, s);
	return rc;
}

static struct json_object *reason_row(const PGresult *r, int i)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "rule", pg_s(r, i, OR_RULE));
	put_str(o, "severity", severity_name((int)pg_i(r, i, OR_SEVERITY)));
	json_object_object_add(o, "weight", json_object_new_double(pg_d(r, i, OR_WEIGHT)));
	put_str(o, "reason", pg_s(r, i, OR_REASON));
	put_opt(o, "subject", pg_s(r, i, OR_SUBJECT));
	put_time(o, "first_seen", pg_i(r, i, OR_FIRST_SEEN));
	return o;
}

struct json_object *pg_open_reasons(struct pg_slot *s, const char *fingerprint)
{
	char err[256];
	struct pg_err e = { err, sizeof(err), "" };
	struct json_object *arr = json_object_new_array();

	rows_json(run1(s, AL_OPEN_REASONS, fingerprint, &e), arr, reason_row);
	return arr;
}

static struct json_object *held_row(const PGresult *r, int i)
{
	struct json_object *h = json_object_new_object();

	put_str(h, "node", pg_s(r, i, HD_NODE));
	json_object_object_add(h, "pid", json_object_new_int64(pg_i(r, i, HD_PID)));
	put_str(h, "exe", pg_s(r, i, HD_EXE));
	put_str(h, "source", pg_s(r, i, HD_SOURCE));
	put_str(h, "name", pg_s(r, i, HD_NAME));
	put_time(h, "first_seen", pg_i(r, i, HD_FIRST_SEEN));
	put_time(h, "last_seen", pg_i(r, i, HD_LAST_SEEN));
	return h;
}

static int add_held(struct pg_slot *s, struct json_object *tok, const char *fp, int64_t requests,
		    int has_seen, struct pg_err *e)
{
	struct json_object *arr = json_object_new_array();
	const char *state;
	int rc;

	json_object_object_add(tok, "held", arr);
	rc = rows_json(run1(s, AL_TOKEN_HELD, fp, e), arr, held_row);
	if (json_object_array_length(arr) == 0)
		state = "used_not_held";
	else if (requests > 0 || has_seen)
		state = "held_and_used";
	else
		state = "held_never_used";
	put_str(tok, "held_state", state);
	return rc;
}

static struct json_object *revocation_row(const PGresult *r, int i)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "hook", pg_s(r, i, RV_HOOK));
	put_time(o, "ts", pg_i(r, i, RV_TS));
	put_str(o, "outcome", pg_s(r, i, RV_OUTCOME));
	json_object_object_add(o, "exit_code", json_object_new_int64(pg_i(r, i, RV_EXIT_CODE)));
	if (pg_i(r, i, RV_HTTP_STATUS))
		json_object_object_add(o, "http_status",
				       json_object_new_int64(pg_i(r, i, RV_HTTP_STATUS)));
	put_opt(o, "detail", pg_s(r, i, RV_DETAIL));
	json_object_object_add(o, "finding_id", json_object_new_int64(pg_i(r, i, RV_FINDING_ID)));
	return o;
}

static int add_revocations(struct pg_slot *s, struct json_object *tok, const char *fp,
			   struct pg_err *e)
{
	struct json_object *arr = json_object_new_array();
	PGresult *r;

	json_object_object_add(tok, "revocations", arr);
	if (rows_json(run1(s, AL_TOKEN_REVOCATIONS, fp, e), arr, revocation_row) < 0)
		return -1;
	r = run1(s, AL_TOKEN_REVOKE_MARK, fp, e);
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		struct json_object *m = json_object_new_object();

		put_time(m, "marked_at", pg_i(r, 0, RM_MARKED_AT));
		put_str(m, "hook", pg_s(r, 0, RM_HOOK));
		if (!pg_null(r, 0, RM_DONE_AT)) {
			put_time(m, "done_at", pg_i(r, 0, RM_DONE_AT));
			put_opt(m, "done_node", pg_s(r, 0, RM_DONE_NODE));
			put_opt(m, "outcome", pg_s(r, 0, RM_OUTCOME));
		}
		json_object_object_add(tok, "sensor_revocation", m);
	}
	PQclear(r);
	return 0;
}

static int add_findings(struct pg_slot *s, struct json_object *tok, const char *fp,
			struct pg_err *e)
{
	struct json_object *arr = json_object_new_array();

	json_object_object_add(tok, "findings", arr);
	return rows_json(run1(s, AL_TOKEN_FINDINGS, fp, e), arr, alert_object);
}

static void risk_from_row(struct json_object *risk, const PGresult *r)
{
	struct json_object *reasons = json_tokener_parse(pg_s(r, 0, RK_REASONS));

	json_object_object_add(risk, "score", json_object_new_int64(pg_i(r, 0, RK_SCORE)));
	json_object_object_add(risk, "impact", json_object_new_double(pg_d(r, 0, RK_IMPACT)));
	json_object_object_add(risk, "likelihood",
			       json_object_new_double(pg_d(r, 0, RK_LIKELIHOOD)));
	put_opt(risk, "impact_why", pg_s(r, 0, RK_IMPACT_WHY));
	if (!reasons || !json_object_is_type(reasons, json_type_array)) {
		json_object_put(reasons);
		reasons = json_object_new_array();
	}
	json_object_object_add(risk, "reasons", reasons);
	put_time(risk, "updated", pg_i(r, 0, RK_UPDATED));
}

int pg_add_risk(struct pg_slot *s, struct json_object *tok, const char *fingerprint, int full,
		struct pg_err *e)
{
	struct json_object *risk = json_object_new_object(), *req;
	int64_t requests = 0, has_seen;
	PGresult *r;

	json_object_object_add(tok, "risk", risk);
	if (json_object_object_get_ex(tok, "requests", &req))
		requests = json_object_get_int64(req);
	has_seen = pg_one_int(run1(s, AL_TOKEN_SEEN_ANY, fingerprint, e), 0);
	if (has_seen < 0)
		return -1;
	r = run1(s, AL_TOKEN_RISK, fingerprint, e);
	if (!r)
		return -1;
	if (PQntuples(r) > 0) {
		risk_from_row(risk, r);
	} else {
		json_object_object_add(risk, "score", NULL);
		json_object_object_add(risk, "reasons", json_object_new_array());
	}
	PQclear(r);
	if (add_held(s, tok, fingerprint, requests, (int)has_seen, e) < 0)
		return -1;
	if (full && (add_findings(s, tok, fingerprint, e) < 0 ||
		     add_revocations(s, tok, fingerprint, e) < 0))
		return -1;
	return 0;
}

static struct json_object *fingerprint_row(const PGresult *r, int i)
{
	return json_object_new_string(pg_s(r, i, 0));
}

int pg_pending_revocations(struct store *base, struct json_object *arr, unsigned max)
{
	struct pg_store *st = pg_of(base);
	size_t before = json_object_array_length(arr);
	char err[256];
	struct pg_err e = { err, sizeof(err), "" };
	struct pg_slot *s = pg_acquire(st, err, sizeof(err));
	struct pg_params p = { 0 };

	if (!s)
		return -1;
	pg_int(&p, 1, max);
	rows_json(pg_run(&s->pc, &stmts, AL_PENDING_REVOCATIONS, &p, &e, "query"), arr,
		  fingerprint_row);
	pg_release(st, s);
	return (int)(json_object_array_length(arr) - before);
}
