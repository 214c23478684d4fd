/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's pass over the PostgreSQL store and its outbox, as
 * sqlite_risk.c: reads what was learnt since the last pass, asks the pure
 * rules (risk.h), writes findings, baselines, scores and queued actions.
 * A pass takes a transaction-level advisory lock, so two replicas that
 * both believe they lead for a moment run their passes one after the
 * other; due actions are claimed (FOR UPDATE SKIP LOCKED, then leased),
 * so no two replicas send one alert.
 */
#include "pg_store.h"
#include "risk.h"
#include "store_json.h"
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
#define TOUCHED_MAX (RISK_PASS_ROWS * 3 + 64)
#define FINDINGS_MAX 24
#define UNUSED_MAX 64
/* an action claimed by a replica is another's to retry only after this long */
#define CLAIM_LEASE_MS 60000
#define PG_LOCK_PASS 0x746f6b656e04LL

enum risk_stmt {
	RK_CURSOR_GET,
	RK_CURSOR_SET,
	RK_SEEN_ROWS,
	RK_TOKEN,
	RK_FIRST_USE,
	RK_KNOWN,
	RK_METHODS,
	RK_COUNT_DIM,
	RK_BASELINE_ADD,
	RK_FINDING_GET,
	RK_FINDING_BUMP,
	RK_FINDING_ADD,
	RK_OUTBOX_ADD,
	RK_DORMANT_ROWS,
	RK_FIRST_NEW_USE,
	RK_RESOLVE_HELD,
	RK_HELD_ROWS,
	RK_EVER_USED,
	RK_UNUSED_ROWS,
	RK_OPEN_RULES,
	RK_RISK_UPSERT,
	RK_OUTBOX_CLAIM,
	RK_OUTBOX_ATTEMPT,
	RK_REVOCATION_ADD,
	RK_DELIVERY_ADD,
	RK_REVOKE_MARK_ADD,
	RK_PASS_LOCK,
	RK__COUNT
};

static const char sql_cursor_get[] = "SELECT value FROM risk_state WHERE name = $1";
static const char sql_cursor_set[] =
	"INSERT INTO risk_state (name, value) VALUES ($1, $2)"
	" ON CONFLICT (name) DO UPDATE SET value = excluded.value";

enum {
	SR_ID, SR_FINGERPRINT, SR_SENSOR_ID, SR_NODE, SR_TS, SR_PID, SR_COMM, SR_EXE, SR_DST,
	SR_HOST, SR_TLS, SR_METHOD, SR_PATH, SR_HEADER, SR_IN_QUERY, SR_CMDLINE, SR_CGROUP,
	SR_CONTAINER_ID, SR_K8S_NAMESPACE, SR_WORKLOAD_KIND, SR_WORKLOAD_NAME, SR_CONTAINER,
};
static const char sql_seen_rows[] =
	"SELECT s.id, s.fingerprint, s.sensor_id, s.node, s.ts, s.pid, s.comm, s.exe, s.dst,"
	" s.host, s.tls, s.method, s.path, s.header, s.in_query,"
	" COALESCE(" PG_PROC_OF("s", "cmdline") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "cgroup") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "container_id") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "k8s_namespace") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "workload_kind") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "workload_name") ", ''),"
	" COALESCE(" PG_PROC_OF("s", "container") ", '')"
	" FROM seen_log s WHERE s.id > $1 ORDER BY s.id LIMIT $2";

enum {
	TK_TYPE, TK_PREFIX, TK_SCHEME, TK_HEADER, TK_AWS_KEY_KIND, TK_PW_TYPE, TK_JWT_JSON,
	TK_HAS_CHECKSUM, TK_CHECKSUM_VALID,
};
static const char sql_token[] =
	"SELECT token_type, token_prefix, scheme, header, aws_key_kind, basic_password_type,"
	" jwt_json, has_checksum, checksum_valid FROM tokens WHERE fingerprint = $1";

static const char sql_first_use[] =
	"SELECT MIN(ts) FROM seen_log WHERE fingerprint = $1 AND id < $2";
static const char sql_known[] =
	"SELECT 1 FROM baseline WHERE fingerprint = $1 AND dim = $2 AND value = $3";

enum { MT_COUNT, MT_WRITES };
static const char sql_methods[] =
	"SELECT COUNT(*), COALESCE(SUM((value NOT IN ('GET', 'HEAD', 'OPTIONS'))::int), 0)"
	" FROM baseline WHERE fingerprint = $1 AND dim = 'method'";

static const char sql_count_dim[] =
	"SELECT COUNT(*) FROM baseline WHERE fingerprint = $1 AND dim = $2";
static const char sql_baseline_add[] =
	"INSERT INTO baseline (fingerprint, dim, value, first_seen) VALUES ($1, $2, $3, $4)"
	" ON CONFLICT DO NOTHING";
static const char sql_finding_get[] =
	"SELECT id FROM findings WHERE fingerprint = $1 AND rule = $2 AND subject = $3";
static const char sql_finding_bump[] =
	"UPDATE findings SET last_seen = GREATEST(last_seen, $2), count = count + 1,"
	" resolved_at = NULL WHERE id = $1";
static const char sql_finding_add[] =
	"INSERT INTO findings (fingerprint, rule, subject, severity, weight, reason, evidence,"
	" first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
static const char sql_outbox_add[] =
	"INSERT INTO outbox (finding_id, kind, target, next_at) VALUES ($1, $2, $3, $4)"
	" ON CONFLICT DO NOTHING";

enum { DR_FINGERPRINT, DR_LAST_SEEN, DR_LAST_USED };
static const char sql_dormant_rows[] =
	"SELECT t.fingerprint, t.last_seen, r.last_used FROM tokens t"
	" JOIN risk r ON r.fingerprint = t.fingerprint"
	" WHERE t.requests > 0 AND t.last_seen > r.last_used LIMIT $1";

static const char sql_first_new_use[] =
	"SELECT MIN(x) FROM (SELECT MIN(CASE WHEN o.first_seen > $3 THEN o.first_seen"
	" ELSE u.minute END) AS x FROM observations o"
	" JOIN usage u ON u.obs_id = o.id WHERE o.fingerprint = $1 AND u.minute > $2"
	" UNION ALL SELECT MIN(ts) FROM seen_log WHERE fingerprint = $1 AND ts > $3) q";
static const char sql_resolve_held[] =
	"UPDATE findings SET resolved_at = $2 WHERE fingerprint = $1"
	" AND rule = 'held_never_used' AND resolved_at IS NULL";

enum {
	HR_ID, HR_FINGERPRINT, HR_NODE, HR_EXE, HR_SOURCE, HR_NAME, HR_FIRST_SEEN, HR_PID,
	HR_SENSOR_ID,
};
static const char sql_held_rows[] =
	"SELECT id, fingerprint, node, exe, source, name, first_seen, pid, sensor_id"
	" FROM held WHERE id > $1 ORDER BY id LIMIT $2";

static const char sql_ever_used[] =
	"SELECT (EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = $1)"
	" OR EXISTS (SELECT 1 FROM tokens WHERE fingerprint = $1 AND requests > 0))::int";

enum { UR_FINGERPRINT, UR_FIRST_SEEN, UR_EXE, UR_NODE, UR_SOURCE, UR_NAME };
static const char sql_unused_rows[] =
	"SELECT h.fingerprint, MIN(h.first_seen), MIN(h.exe COLLATE \"C\"),"
	" MIN(h.node COLLATE \"C\"), MIN(h.source COLLATE \"C\"), MIN(h.name COLLATE \"C\")"
	" FROM held h WHERE NOT EXISTS (SELECT 1 FROM seen_log s"
	" WHERE s.fingerprint = h.fingerprint) AND NOT EXISTS (SELECT 1 FROM tokens t"
	" WHERE t.fingerprint = h.fingerprint AND t.requests > 0) AND NOT EXISTS"
	" (SELECT 1 FROM findings f WHERE f.fingerprint = h.fingerprint"
	" AND f.rule = 'held_never_used') GROUP BY h.fingerprint"
	" HAVING MIN(h.first_seen) <= $1 LIMIT $2";

static const char sql_open_rules[] =
	"SELECT rule FROM findings WHERE fingerprint = $1 AND resolved_at IS NULL";
static const char sql_risk_upsert[] =
	"INSERT INTO risk AS r (fingerprint, score, impact, likelihood, impact_why, reasons,"
	" updated, last_used) VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE((SELECT CASE WHEN"
	" requests > 0 THEN last_seen ELSE 0 END FROM tokens WHERE fingerprint = $1), 0))"
	" ON CONFLICT (fingerprint) DO UPDATE SET score = excluded.score,"
	" impact = excluded.impact, likelihood = excluded.likelihood,"
	" impact_why = excluded.impact_why, reasons = excluded.reasons,"
	" updated = excluded.updated, last_used = GREATEST(r.last_used, excluded.last_used)";

/*
 * Claims up to $2 actions due at $1 for this replica ($4) until $3: rows
 * another replica claimed and still holds are skipped, as are rows being
 * claimed right now (SKIP LOCKED), so two replicas never send one action.
 * This replica sees its own claims again (as with SQLite) until it
 * records their outcome; a dead replica's claims lapse after the lease.
 */
enum { OB_FINDING_ID, OB_KIND, OB_TARGET, OB_ATTEMPTS };
static const char sql_outbox_claim[] =
	"WITH due AS (SELECT finding_id, kind, target FROM outbox"
	" WHERE state = 'pending' AND next_at <= $1 AND (claim_until <= $1 OR claim_by = $4)"
	" ORDER BY next_at, finding_id LIMIT $2 FOR UPDATE SKIP LOCKED),"
	" claimed AS (UPDATE outbox o SET claim_by = $4, claim_until = $3 FROM due"
	" WHERE o.finding_id = due.finding_id AND o.kind = due.kind AND o.target = due.target"
	" RETURNING o.finding_id, o.kind, o.target, o.attempts, o.next_at)"
	" SELECT finding_id, kind, target, attempts FROM claimed ORDER BY next_at, finding_id";
static const char sql_outbox_attempt[] =
	"UPDATE outbox SET attempts = attempts + 1, next_at = $4, state = $5"
	" WHERE finding_id = $1 AND kind = $2 AND target = $3";
static const char sql_revocation_add[] =
	"INSERT INTO revocations (fingerprint, finding_id, hook, ts, outcome, exit_code,"
	" http_status, detail) SELECT fingerprint, id, $2, $3, $4, $5, $6, $7 FROM findings"
	" WHERE id = $1";
static const char sql_delivery_add[] =
	"INSERT INTO deliveries (finding_id, target, attempt, ts, outcome, http_status, error)"
	" VALUES ($1, $2, $5, $3, $4, $6, $7)";
static const char sql_revoke_mark_add[] =
	"INSERT INTO revoke_marks (fingerprint, marked_at, hook)"
	" SELECT fingerprint, $2, $3 FROM findings WHERE id = $1 ON CONFLICT DO NOTHING";
static const char sql_pass_lock[] = "SELECT pg_advisory_xact_lock($1)";

static const char *const risk_sql[RK__COUNT] = {
	[RK_CURSOR_GET] = sql_cursor_get,
	[RK_CURSOR_SET] = sql_cursor_set,
	[RK_SEEN_ROWS] = sql_seen_rows,
	[RK_TOKEN] = sql_token,
	[RK_FIRST_USE] = sql_first_use,
	[RK_KNOWN] = sql_known,
	[RK_METHODS] = sql_methods,
	[RK_COUNT_DIM] = sql_count_dim,
	[RK_BASELINE_ADD] = sql_baseline_add,
	[RK_FINDING_GET] = sql_finding_get,
	[RK_FINDING_BUMP] = sql_finding_bump,
	[RK_FINDING_ADD] = sql_finding_add,
	[RK_OUTBOX_ADD] = sql_outbox_add,
	[RK_DORMANT_ROWS] = sql_dormant_rows,
	[RK_FIRST_NEW_USE] = sql_first_new_use,
	[RK_RESOLVE_HELD] = sql_resolve_held,
	[RK_HELD_ROWS] = sql_held_rows,
	[RK_EVER_USED] = sql_ever_used,
	[RK_UNUSED_ROWS] = sql_unused_rows,
	[RK_OPEN_RULES] = sql_open_rules,
	[RK_RISK_UPSERT] = sql_risk_upsert,
	[RK_OUTBOX_CLAIM] = sql_outbox_claim,
	[RK_OUTBOX_ATTEMPT] = sql_outbox_attempt,
	[RK_REVOCATION_ADD] = sql_revocation_add,
	[RK_DELIVERY_ADD] = sql_delivery_add,
	[RK_REVOKE_MARK_ADD] = sql_revoke_mark_add,
	[RK_PASS_LOCK] = sql_pass_lock,
};

static const struct pg_stmts stmts = { PGM_RISK, risk_sql, RK__COUNT };

struct tok_row {
	char type[32], prefix[32], scheme[32], header[64], aws_key_kind[32], pw_type[32];
	char *jwt_json;
	int has_checksum, checksum_valid;
	struct risk_token view;
};

struct pass {
	struct pg_slot *s;
	struct pg_err e;
	const struct risk_config *cfg;
	int64_t now_ms;
	char (*touched)[33];
	size_t n_touched;
	struct risk_pass_stats *stats;
};

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static PGresult *run(struct pass *p, enum risk_stmt i, const struct pg_params *pp, const char *what)
{
	return pg_run(&p->s->pc, &stmts, i, pp, &p->e, what);
}

static int run0(struct pass *p, enum risk_stmt i, const struct pg_params *pp, const char *what)
{
	return pg_run0(&p->s->pc, &stmts, i, pp, &p->e, what);
}

static int64_t cursor_get(struct pass *p, const char *name)
{
	struct pg_params pp = { 0 };

	pg_text(&pp, 1, name);
	return pg_one_int(run(p, RK_CURSOR_GET, &pp, "risk cursor"), 0);
}

static int cursor_set(struct pass *p, const char *name, int64_t v)
{
	struct pg_params pp = { 0 };

	pg_text(&pp, 1, name);
	pg_int(&pp, 2, v);
	return run0(p, RK_CURSOR_SET, &pp, "risk cursor");
}

static void touch(struct pass *p, const char *fp)
{
	for (size_t i = 0; i < p->n_touched; i++)
		if (!strcmp(p->touched[i], fp))
			return;
	if (p->n_touched < TOUCHED_MAX)
		copy(p->touched[p->n_touched++], 33, fp);
}

/* 1 found, 0 unknown token (or an error, which fails the pass at commit). */
static int load_token(struct pass *p, const char *fp, struct tok_row *t)
{
	struct pg_params pp = { 0 };
	PGresult *r;
	int found = 0;

	memset(t, 0, sizeof(*t));
	pg_text(&pp, 1, fp);
	r = run(p, RK_TOKEN, &pp, "risk token");
	if (r && PQntuples(r) > 0) {
		copy(t->type, sizeof(t->type), pg_s(r, 0, TK_TYPE));
		copy(t->prefix, sizeof(t->prefix), pg_s(r, 0, TK_PREFIX));
		copy(t->scheme, sizeof(t->scheme), pg_s(r, 0, TK_SCHEME));
		copy(t->header, sizeof(t->header), pg_s(r, 0, TK_HEADER));
		copy(t->aws_key_kind, sizeof(t->aws_key_kind), pg_s(r, 0, TK_AWS_KEY_KIND));
		copy(t->pw_type, sizeof(t->pw_type), pg_s(r, 0, TK_PW_TYPE));
		t->jwt_json = strdup(pg_s(r, 0, TK_JWT_JSON));
		t->has_checksum = (int)pg_i(r, 0, TK_HAS_CHECKSUM);
		t->checksum_valid = (int)pg_i(r, 0, TK_CHECKSUM_VALID);
		found = 1;
	}
	PQclear(r);
	t->view = (struct risk_token){
		.type = t->type, .prefix = t->prefix, .scheme = t->scheme, .header = t->header,
		.aws_key_kind = t->aws_key_kind, .basic_password_type = t->pw_type,
		.jwt_json = t->jwt_json ? t->jwt_json : "",
		.has_checksum = t->has_checksum, .checksum_valid = t->checksum_valid,
	};
	return found;
}

static bool known(struct pass *p, const char *fp, const char *dim, const char *value)
{
	struct pg_params pp = { 0 };

	pg_text(&pp, 1, fp);
	pg_text(&pp, 2, dim);
	pg_text(&pp, 3, value);
	return pg_one_int(run(p, RK_KNOWN, &pp, "risk baseline"), 0) == 1;
}

static unsigned count_dim(struct pass *p, const char *fp, const char *dim)
{
	struct pg_params pp = { 0 };
	int64_t n;

	pg_text(&pp, 1, fp);
	pg_text(&pp, 2, dim);
	n = pg_one_int(run(p, RK_COUNT_DIM, &pp, "risk baseline"), 0);
	return n > 0 ? (unsigned)n : 0;
}

static int baseline_add(struct pass *p, const char *fp, const char *dim, const char *value,
			int64_t ts)
{
	struct pg_params pp = { 0 };

	if (!value[0])
		return 0;
	pg_text(&pp, 1, fp);
	pg_text(&pp, 2, dim);
	pg_text(&pp, 3, value);
	pg_int(&pp, 4, ts);
	return run0(p, RK_BASELINE_ADD, &pp, "risk baseline");
}

static bool hook_matches(const struct risk_revoke_hook *h, const char *type,
			 const struct risk_finding *f)
{
	if (h->token_type[0] && strcmp(h->token_type, type) != 0)
		return false;
	if (h->rule >= 0 && h->rule != (int)f->rule)
		return false;
	return f->severity >= h->min_severity;
}

static int outbox_add(struct pass *p, int64_t id, const char *kind, const char *target)
{
	struct pg_params pp = { 0 };

	pg_int(&pp, 1, id);
	pg_text(&pp, 2, kind);
	pg_text(&pp, 3, target);
	pg_int(&pp, 4, p->now_ms);
	return run0(p, RK_OUTBOX_ADD, &pp, "risk outbox");
}

static int queue_actions(struct pass *p, int64_t id, const char *type, const struct risk_finding *f)
{
	const struct risk_config *c = p->cfg;

	for (size_t i = 0; i < c->n_webhooks; i++) {
		char label[600];

		if (f->severity < c->webhooks[i].min_severity)
			continue;
		/* the URL itself may be a secret (Slack): stored by its label */
		webhook_url_label(c->webhooks[i].url, label, sizeof(label));
		if (outbox_add(p, id, "webhook", label) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n_hooks; i++)
		if (hook_matches(&c->hooks[i], type, f) &&
		    outbox_add(p, id, "hook", c->hooks[i].name) < 0)
			return -1;
	return 0;
}

/* Records f (new, or counted again); evidence is a JSON object (taken). */
static int record(struct pass *p, const char *fp, const char *type, const struct risk_finding *f,
		  int64_t ts, struct json_object *evidence)
{
	const char *rule = risk_rule_name(f->rule);
	struct pg_params pp = { 0 };
	PGresult *r;
	int64_t id;

	pg_text(&pp, 1, fp);
	pg_text(&pp, 2, rule);
	pg_text(&pp, 3, f->subject);
	id = pg_one_int(run(p, RK_FINDING_GET, &pp, "risk finding"), 0);
	touch(p, fp);
	if (id < 0) {
		json_object_put(evidence);
		return -1;
	}
	if (id > 0) {
		json_object_put(evidence);
		memset(&pp, 0, sizeof(pp));
		pg_int(&pp, 1, id);
		pg_int(&pp, 2, ts);
		return run0(p, RK_FINDING_BUMP, &pp, "risk finding");
	}
	pg_int(&pp, 4, (int)f->severity);
	pg_double(&pp, 5, f->weight);
	pg_text(&pp, 6, f->reason);
	pg_text(&pp, 7, json_object_to_json_string_ext(evidence, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	pg_int(&pp, 8, ts);
	r = run(p, RK_FINDING_ADD, &pp, "risk finding");
	json_object_put(evidence);
	if (!r)
		return -1;
	id = pg_i(r, 0, 0);
	PQclear(r);
	p->stats->findings++;
	return queue_actions(p, id, type, f);
}

static int resolve_held(struct pass *p, const char *fp)
{
	struct pg_params pp = { 0 };

	pg_text(&pp, 1, fp);
	pg_int(&pp, 2, p->now_ms);
	return run0(p, RK_RESOLVE_HELD, &pp, "risk resolve");
}

static void seen_history(struct pass *p, const char *fp, int64_t id, const struct risk_use *u,
			 const char *ns, struct risk_history *h)
{
	struct pg_params pp = { 0 };
	PGresult *r;

	pg_text(&pp, 1, fp);
	pg_int(&pp, 2, id);
	h->first_used_ms = pg_one_int(run(p, RK_FIRST_USE, &pp, "risk history"), 0);
	h->workload_known = known(p, fp, "workload", u->workload);
	h->dest_known = known(p, fp, "dest", u->dest);
	h->node_known = known(p, fp, "node", u->node);
	h->method_known = known(p, fp, "method", u->method);
	memset(&pp, 0, sizeof(pp));
	pg_text(&pp, 1, fp);
	r = run(p, RK_METHODS, &pp, "risk history");
	if (r && PQntuples(r) > 0)
		h->baseline_reads_only = pg_i(r, 0, MT_COUNT) > 0 && pg_i(r, 0, MT_WRITES) == 0;
	PQclear(r);
	h->workloads = count_dim(p, fp, "workload") + !h->workload_known;
	h->nodes = count_dim(p, fp, "node") + !h->node_known;
	h->namespaces = count_dim(p, fp, "namespace") + (ns[0] && !known(p, fp, "namespace", ns));
}

static struct json_object *seen_evidence(const PGresult *r, int i, const struct risk_use *u,
					 const char *ns)
{
	struct json_object *ev = json_object_new_object();

	put_opt(ev, "sensor_id", pg_s(r, i, SR_SENSOR_ID));
	put_opt(ev, "node", u->node);
	json_object_object_add(ev, "pid", json_object_new_int64(pg_i(r, i, SR_PID)));
	put_opt(ev, "exe", u->exe);
	put_opt(ev, "comm", u->comm);
	put_opt(ev, "workload", u->workload);
	put_opt(ev, "k8s_namespace", ns);
	put_opt(ev, "dst", u->dst);
	put_opt(ev, "host", u->host);
	json_object_object_add(ev, "tls", json_object_new_boolean(u->tls));
	put_opt(ev, "method", u->method);
	put_opt(ev, "path", u->path);
	json_object_object_add(ev, "ts", json_object_new_int64(u->ts_ms));
	return ev;
}

static int seen_baseline(struct pass *p, const char *fp, const struct risk_use *u, const char *ns)
{
	return baseline_add(p, fp, "workload", u->workload, u->ts_ms) ||
	       baseline_add(p, fp, "dest", u->dest, u->ts_ms) ||
	       baseline_add(p, fp, "node", u->node, u->ts_ms) ||
	       baseline_add(p, fp, "method", u->method, u->ts_ms) ||
	       baseline_add(p, fp, "namespace", ns, u->ts_ms) ? -1 : 0;
}

/* One first sighting (row i of r): facts, rules, findings, baseline. */
static int eval_seen(struct pass *p, const PGresult *r, int i)
{
	const char *fp = pg_s(r, i, SR_FINGERPRINT), *ns = pg_s(r, i, SR_K8S_NAMESPACE);
	char workload[RISK_SUBJECT_MAX], dest[RISK_SUBJECT_MAX];
	struct risk_finding f[FINDINGS_MAX];
	struct risk_history h = { 0 };
	struct risk_use u;
	struct tok_row t;
	size_t n;
	int rc = 0;

	if (!load_token(p, fp, &t))
		return 0;
	risk_workload(&(struct risk_proc){ .exe = pg_s(r, i, SR_EXE),
					   .container_id = pg_s(r, i, SR_CONTAINER_ID),
					   .k8s_namespace = ns,
					   .workload_kind = pg_s(r, i, SR_WORKLOAD_KIND),
					   .workload_name = pg_s(r, i, SR_WORKLOAD_NAME),
					   .container = pg_s(r, i, SR_CONTAINER) },
		      workload, sizeof(workload));
	risk_destination(pg_s(r, i, SR_HOST), pg_s(r, i, SR_DST), dest, sizeof(dest));
	u = (struct risk_use){
		.ts_ms = pg_i(r, i, SR_TS), .workload = workload,
		.node = pg_s(r, i, SR_NODE), .exe = pg_s(r, i, SR_EXE),
		.comm = pg_s(r, i, SR_COMM), .cmdline = pg_s(r, i, SR_CMDLINE),
		.cgroup = pg_s(r, i, SR_CGROUP), .dst = pg_s(r, i, SR_DST),
		.host = pg_s(r, i, SR_HOST), .dest = dest, .method = pg_s(r, i, SR_METHOD),
		.path = pg_s(r, i, SR_PATH), .tls = (int)pg_i(r, i, SR_TLS),
		.in_query = (int)pg_i(r, i, SR_IN_QUERY),
	};
	seen_history(p, fp, pg_i(r, i, SR_ID), &u, ns, &h);
	n = risk_eval_use(p->cfg, &t.view, &u, &h, f, FINDINGS_MAX);
	for (size_t k = 0; k < n && rc == 0; k++)
		rc = record(p, fp, t.type, &f[k], u.ts_ms, seen_evidence(r, i, &u, ns));
	if (rc == 0)
		rc = resolve_held(p, fp);
	if (rc == 0)
		rc = seen_baseline(p, fp, &u, ns);
	touch(p, fp);
	free(t.jwt_json);
	p->stats->seen++;
	return rc;
}

static int pass_seen(struct pass *p)
{
	int64_t cur = cursor_get(p, "seen_log"), last = cur;
	struct pg_params pp = { 0 };
	PGresult *r;
	int rc = 0;

	if (cur < 0)
		return -1;
	pg_int(&pp, 1, cur);
	pg_int(&pp, 2, RISK_PASS_ROWS);
	r = run(p, RK_SEEN_ROWS, &pp, "risk seen log");
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		last = pg_i(r, i, SR_ID);
		rc = eval_seen(p, r, i);
	}
	PQclear(r);
	if (rc < 0)
		return -1;
	return last != cur ? cursor_set(p, "seen_log", last) : 0;
}

static int eval_dormant(struct pass *p, const char *fp, int64_t prev, int64_t first_new)
{
	struct risk_finding f = { 0 };
	struct json_object *ev;
	struct tok_row t;
	char gap[48];
	int rc;

	if (!load_token(p, fp, &t))
		return 0;
	f.rule = RULE_DORMANT_ACTIVE;
	f.severity = p->cfg->severity[RULE_DORMANT_ACTIVE];
	f.weight = p->cfg->weight[RULE_DORMANT_ACTIVE];
	risk_duration(gap, sizeof(gap), first_new - prev);
	snprintf(f.reason, sizeof(f.reason), "used again after %s without use", gap);
	ev = json_object_new_object();
	json_object_object_add(ev, "previous_use", json_object_new_int64(prev));
	json_object_object_add(ev, "ts", json_object_new_int64(first_new));
	snprintf(f.subject, sizeof(f.subject), "%lld", (long long)prev);
	rc = record(p, fp, t.type, &f, first_new, ev);
	free(t.jwt_json);
	return rc;
}

static int64_t first_new_use(struct pass *p, const char *fp, int64_t prev)
{
	struct pg_params pp = { 0 };

	pg_text(&pp, 1, fp);
	pg_int(&pp, 2, prev - prev % MINUTE_MS);
	pg_int(&pp, 3, prev);
	return pg_one_int(run(p, RK_FIRST_NEW_USE, &pp, "risk dormant"), 0);
}

static int pass_dormant(struct pass *p)
{
	char (*fps)[33] = calloc(RISK_PASS_ROWS, sizeof(*fps));
	int64_t *prev = calloc(RISK_PASS_ROWS, sizeof(*prev));
	struct pg_params pp = { 0 };
	PGresult *r;
	size_t n = 0;
	int rc = 0;

	if (!fps || !prev) {
		free(fps);
		free(prev);
		snprintf(p->e.buf, p->e.len, "out of memory");
		return -1;
	}
	pg_int(&pp, 1, RISK_PASS_ROWS);
	r = run(p, RK_DORMANT_ROWS, &pp, "risk dormant");
	if (!r)
		rc = -1;
	for (int i = 0; r && i < PQntuples(r) && n < RISK_PASS_ROWS; i++) {
		copy(fps[n], 33, pg_s(r, i, DR_FINGERPRINT));
		prev[n++] = pg_i(r, i, DR_LAST_USED);
	}
	PQclear(r);
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t first_new;

		rc = resolve_held(p, fps[i]);
		touch(p, fps[i]);
		if (rc < 0 || prev[i] <= 0)
			continue;
		first_new = first_new_use(p, fps[i], prev[i]);
		if (first_new <= 0 || !p->cfg->enabled[RULE_DORMANT_ACTIVE] ||
		    !risk_dormant_then_active(p->cfg, prev[i], first_new))
			continue;
		rc = eval_dormant(p, fps[i], prev[i], first_new);
	}
	free(fps);
	free(prev);
	return rc;
}

struct held_row {
	const char *fp, *source, *name, *exe, *node, *sensor_id;
	int64_t first, pid;
};

static int eval_held(struct pass *p, const struct held_row *w, int only_unused)
{
	struct risk_finding f[FINDINGS_MAX];
	struct pg_params pp = { 0 };
	struct risk_held hd;
	struct tok_row t;
	size_t n;
	int rc = 0;

	if (!load_token(p, w->fp, &t))
		return 0;
	pg_text(&pp, 1, w->fp);
	hd = (struct risk_held){ .source = w->source, .name = w->name, .exe = w->exe,
				 .node = w->node, .first_held_ms = w->first,
				 .ever_used = pg_one_int(run(p, RK_EVER_USED, &pp, "risk held"), 0) == 1 };
	n = risk_eval_held(p->cfg, &t.view, &hd, p->now_ms, f, FINDINGS_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct json_object *ev;

		if ((f[i].rule == RULE_HELD_NEVER_USED) != !!only_unused)
			continue;
		ev = json_object_new_object();
		put_opt(ev, "sensor_id", w->sensor_id);
		put_opt(ev, "node", w->node);
		if (w->pid > 0)
			json_object_object_add(ev, "pid", json_object_new_int64(w->pid));
		put_opt(ev, "exe", w->exe);
		put_opt(ev, "source", w->source);
		put_opt(ev, "name", w->name);
		json_object_object_add(ev, "held_since", json_object_new_int64(w->first));
		rc = record(p, w->fp, t.type, &f[i], only_unused ? p->now_ms : w->first, ev);
	}
	touch(p, w->fp);
	free(t.jwt_json);
	return rc;
}

static int pass_held(struct pass *p)
{
	int64_t cur = cursor_get(p, "held"), last = cur;
	struct pg_params pp = { 0 };
	PGresult *r;
	int rc = 0;

	if (cur < 0)
		return -1;
	pg_int(&pp, 1, cur);
	pg_int(&pp, 2, RISK_PASS_ROWS);
	r = run(p, RK_HELD_ROWS, &pp, "risk held");
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		struct held_row w = {
			.fp = pg_s(r, i, HR_FINGERPRINT), .source = pg_s(r, i, HR_SOURCE),
			.name = pg_s(r, i, HR_NAME), .exe = pg_s(r, i, HR_EXE),
			.node = pg_s(r, i, HR_NODE), .sensor_id = pg_s(r, i, HR_SENSOR_ID),
			.first = pg_i(r, i, HR_FIRST_SEEN), .pid = pg_i(r, i, HR_PID),
		};

		last = pg_i(r, i, HR_ID);
		rc = eval_held(p, &w, 0);
		p->stats->held++;
	}
	PQclear(r);
	if (rc < 0)
		return -1;
	return last != cur ? cursor_set(p, "held", last) : 0;
}

static int pass_unused(struct pass *p)
{
	struct pg_params pp = { 0 };
	PGresult *r;
	int rc = 0;

	pg_int(&pp, 1, p->now_ms - p->cfg->held_unused_ms);
	pg_int(&pp, 2, UNUSED_MAX);
	r = run(p, RK_UNUSED_ROWS, &pp, "risk unused");
	if (!r)
		return -1;
	/* the result holds the rows while eval_held runs other statements */
	for (int i = 0; i < PQntuples(r) && i < UNUSED_MAX && rc == 0; i++) {
		struct held_row w = { .fp = pg_s(r, i, UR_FINGERPRINT),
				      .source = pg_s(r, i, UR_SOURCE), .name = pg_s(r, i, UR_NAME),
				      .exe = pg_s(r, i, UR_EXE), .node = pg_s(r, i, UR_NODE),
				      .sensor_id = "", .first = pg_i(r, i, UR_FIRST_SEEN) };

		rc = eval_held(p, &w, 1);
	}
	PQclear(r);
	return rc;
}

static int score(struct pass *p, const char *fp)
{
	enum risk_rule rules[RULE__COUNT];
	struct pg_params pp = { 0 };
	struct risk_score sc;
	struct json_object *reasons;
	struct tok_row t;
	PGresult *r;
	size_t n = 0;
	int rc;

	if (!load_token(p, fp, &t))
		return 0;
	pg_text(&pp, 1, fp);
	r = run(p, RK_OPEN_RULES, &pp, "risk score");
	for (int i = 0; r && i < PQntuples(r); i++) {
		enum risk_rule rr;

		if (risk_rule_parse(pg_s(r, i, 0), &rr) == 0 && n < RULE__COUNT)
			rules[n++] = rr;
	}
	PQclear(r);
	risk_score_token(p->cfg, &t.view, rules, n, p->now_ms, &sc);
	free(t.jwt_json);
	reasons = pg_open_reasons(p->s, fp);
	pg_int(&pp, 2, sc.score);
	pg_double(&pp, 3, sc.impact);
	pg_double(&pp, 4, sc.likelihood);
	pg_text(&pp, 5, sc.impact_why);
	pg_text(&pp, 6, reasons ? json_object_to_json_string_ext(reasons, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
				: "[]");
	pg_int(&pp, 7, p->now_ms);
	rc = run0(p, RK_RISK_UPSERT, &pp, "risk score");
	json_object_put(reasons);
	p->stats->scored++;
	return rc;
}

int pg_risk_pass(struct store *base, const struct risk_config *cfg, int64_t now_ms,
		 struct risk_pass_stats *stats, char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct risk_pass_stats dummy;
	struct pass p = { .e = { err, errlen, "" }, .cfg = cfg, .now_ms = now_ms,
			  .stats = stats ? stats : &dummy };
	struct pg_params pp = { 0 };
	int rc = -1;

	memset(p.stats, 0, sizeof(*p.stats));
	p.touched = calloc(TOUCHED_MAX, sizeof(*p.touched));
	if (!p.touched) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p.s = pg_acquire(st, err, errlen);
	if (!p.s)
		goto out;
	if (pg_begin(p.s, &p.e) < 0)
		goto release;
	/* one pass at a time across replicas: a second leader waits, then sees the cursors moved */
	pg_int(&pp, 1, PG_LOCK_PASS);
	if (run0(&p, RK_PASS_LOCK, &pp, "risk lock") < 0)
		goto release;
	if (pass_dormant(&p) < 0 || pass_seen(&p) < 0 || pass_held(&p) < 0 || pass_unused(&p) < 0)
		goto release;
	for (size_t i = 0; i < p.n_touched; i++)
		if (score(&p, p.touched[i]) < 0)
			goto release;
	rc = pg_commit(p.s, &p.e);
release:
	/* an open transaction (a failed step) is rolled back here */
	pg_release(st, p.s);
out:
	free(p.touched);
	return rc;
}

/* ---- the outbox ------------------------------------------------------ */

int pg_risk_due(struct store *base, int64_t now_ms, struct risk_action *out, size_t cap,
		char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct pg_params pp = { 0 };
	PGresult *r;
	size_t n = 0;

	if (!s)
		return -1;
	pg_int(&pp, 1, now_ms);
	pg_int(&pp, 2, (int64_t)cap);
	pg_int(&pp, 3, now_ms + CLAIM_LEASE_MS);
	pg_text(&pp, 4, st->replica_id);
	r = pg_run(&s->pc, &stmts, RK_OUTBOX_CLAIM, &pp, &e, "outbox");
	if (!r) {
		pg_release(st, s);
		return -1;
	}
	for (int i = 0; i < PQntuples(r) && n < cap; i++) {
		struct risk_action *a = &out[n++];

		memset(a, 0, sizeof(*a));
		a->finding_id = pg_i(r, i, OB_FINDING_ID);
		copy(a->kind, sizeof(a->kind), pg_s(r, i, OB_KIND));
		copy(a->target, sizeof(a->target), pg_s(r, i, OB_TARGET));
		a->attempts = (unsigned)pg_i(r, i, OB_ATTEMPTS);
	}
	PQclear(r);
	for (size_t i = 0; i < n; i++)
		out[i].alert = pg_alert_json(s, out[i].finding_id);
	pg_release(st, s);
	return (int)n;
}

static int record_attempt(struct pg_slot *s, struct pg_err *e, const struct risk_action *a,
			  int64_t now_ms, const struct risk_outcome *o)
{
	bool hook = !strcmp(a->kind, "hook");
	bool final = strcmp(o->outcome, "retry") != 0;
	struct pg_params pp = { 0 };

	pg_int(&pp, 1, a->finding_id);
	pg_text(&pp, 2, a->kind);
	pg_text(&pp, 3, a->target);
	pg_int(&pp, 4, final ? now_ms : o->next_at);
	pg_text(&pp, 5, final ? (!strcmp(o->outcome, "ok") ? "done" : "failed") : "pending");
	if (pg_run0(&s->pc, &stmts, RK_OUTBOX_ATTEMPT, &pp, e, "outbox") < 0)
		return -1;
	memset(&pp, 0, sizeof(pp));
	pg_int(&pp, 1, a->finding_id);
	pg_text(&pp, 2, a->target);
	pg_int(&pp, 3, now_ms);
	pg_text(&pp, 4, o->outcome);
	if (hook)
		pg_int(&pp, 5, o->exit_code);
	else
		pg_int(&pp, 5, (int64_t)a->attempts + 1);
	pg_int(&pp, 6, o->http_status);
	pg_text(&pp, 7, o->detail);
	if (pg_run0(&s->pc, &stmts, hook ? RK_REVOCATION_ADD : RK_DELIVERY_ADD, &pp, e,
		    "outbox") < 0)
		return -1;
	if (!hook || !o->mark || strcmp(o->outcome, "ok") != 0)
		return 0;
	memset(&pp, 0, sizeof(pp));
	pg_int(&pp, 1, a->finding_id);
	pg_int(&pp, 2, now_ms);
	pg_text(&pp, 3, a->target);
	return pg_run0(&s->pc, &stmts, RK_REVOKE_MARK_ADD, &pp, e, "outbox");
}

int pg_risk_record(struct store *base, const struct risk_action *a, int64_t now_ms,
		   const struct risk_outcome *o, char *err, size_t errlen)
{
	struct pg_store *st = pg_of(base);
	struct pg_err e = { err, errlen, "" };
	struct pg_slot *s = pg_acquire(st, err, errlen);
	int rc = -1;

	if (!s)
		return -1;
	if (pg_begin(s, &e) == 0 && record_attempt(s, &e, a, now_ms, o) == 0)
		rc = pg_commit(s, &e);
	pg_release(st, s);
	return rc;
}
