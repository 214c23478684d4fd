/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine's pass over the SQLite store and its outbox: reads what
 * was learnt since the last pass, asks the pure rules (risk.h), writes
 * findings, baselines, scores and queued actions.
 */
#include "risk.h"
#include "sqlite_store.h"
#include "store_json.h"
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
/* dormant, seen and held rows of a pass, and the never-used sweep */
#define TOUCHED_MAX (RISK_PASS_ROWS * 3 + 64)
#define FINDINGS_MAX 24
/* held-never-used tokens evaluated per pass */
#define UNUSED_MAX 64

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
	RK_OUTBOX_DUE,
	RK_OUTBOX_ATTEMPT,
	RK_REVOCATION_ADD,
	RK_DELIVERY_ADD,
	RK_REVOKE_MARK_ADD,
	RK__COUNT
};

/*
 * Statements without a column enum answer one value (column 0, read by
 * sq_one_int) or none.
 */
static const char sql_cursor_get[] = "SELECT value FROM risk_state WHERE name = ?1";
static const char sql_cursor_set[] =
	"INSERT INTO risk_state (name, value) VALUES (?1, ?2)"
	" ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/* Sightings after the cursor ?1, ?2 at most, with the newest description of the process. */
enum {
	SR_ID, SR_FINGERPRINT, SR_SENSOR_ID, SR_NODE, SR_TS, SR_PID, SR_COMM, SR_EXE, SR_DST,
	SR_HOST, SR_TLS, SR_METHOD, SR_PATH, SR_HEADER, SR_IN_QUERY, SR_CMDLINE, SR_CGROUP,
	SR_CONTAINER_ID, SR_K8S_NAMESPACE, SR_WORKLOAD_KIND, SR_WORKLOAD_NAME, SR_CONTAINER,
};
static const char sql_seen_rows[] =
	"SELECT s.id, s.fingerprint, s.sensor_id, s.node, s.ts, s.pid, s.comm, s.exe, s.dst,"
	" s.host, s.tls, s.method, s.path, s.header, s.in_query,"
	" COALESCE(" PROC_OF("s", "cmdline") ", ''),"
	" COALESCE(" PROC_OF("s", "cgroup") ", ''),"
	" COALESCE(" PROC_OF("s", "container_id") ", ''),"
	" COALESCE(" PROC_OF("s", "k8s_namespace") ", ''),"
	" COALESCE(" PROC_OF("s", "workload_kind") ", ''),"
	" COALESCE(" PROC_OF("s", "workload_name") ", ''),"
	" COALESCE(" PROC_OF("s", "container") ", '')"
	" FROM seen_log s WHERE s.id > ?1 ORDER BY s.id LIMIT ?2";

/* What the rules read of a token. */
enum {
	TK_TYPE, TK_PREFIX, TK_SCHEME, TK_HEADER, TK_AWS_KEY_KIND, TK_PW_TYPE, TK_JWT_JSON,
	TK_HAS_CHECKSUM, TK_CHECKSUM_VALID,
};
static const char sql_token[] =
	"SELECT token_type, token_prefix, scheme, header, aws_key_kind, basic_password_type,"
	" jwt_json, has_checksum, checksum_valid FROM tokens WHERE fingerprint = ?1";

static const char sql_first_use[] =
	"SELECT MIN(ts) FROM seen_log WHERE fingerprint = ?1 AND id < ?2";
static const char sql_known[] =
	"SELECT 1 FROM baseline WHERE fingerprint = ?1 AND dim = ?2 AND value = ?3";

/* The methods of a token's baseline: how many, and how many that write. */
enum { MT_COUNT, MT_WRITES };
static const char sql_methods[] =
	"SELECT COUNT(*), COALESCE(SUM(value NOT IN ('GET', 'HEAD', 'OPTIONS')), 0)"
	" FROM baseline WHERE fingerprint = ?1 AND dim = 'method'";

static const char sql_count_dim[] =
	"SELECT COUNT(*) FROM baseline WHERE fingerprint = ?1 AND dim = ?2";
static const char sql_baseline_add[] =
	"INSERT OR IGNORE INTO baseline (fingerprint, dim, value, first_seen)"
	" VALUES (?1, ?2, ?3, ?4)";
static const char sql_finding_get[] =
	"SELECT id FROM findings WHERE fingerprint = ?1 AND rule = ?2 AND subject = ?3";
static const char sql_finding_bump[] =
	"UPDATE findings SET last_seen = MAX(last_seen, ?2), count = count + 1,"
	" resolved_at = NULL WHERE id = ?1";
static const char sql_finding_add[] =
	"INSERT INTO findings (fingerprint, rule, subject, severity, weight, reason, evidence,"
	" first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";
static const char sql_outbox_add[] =
	"INSERT OR IGNORE INTO outbox (finding_id, kind, target, next_at) VALUES (?1, ?2, ?3, ?4)";

/* Tokens used again since the engine last looked, ?1 at most. */
enum { DR_FINGERPRINT, DR_LAST_SEEN, DR_LAST_USED };
static const char sql_dormant_rows[] =
	"SELECT t.fingerprint, t.last_seen, r.last_used FROM tokens t"
	" JOIN risk r ON r.fingerprint = t.fingerprint"
	" WHERE t.requests > 0 AND t.last_seen > r.last_used LIMIT ?1";

/*
 * The first use after ?3: a new sighting's exact time, or for a triple
 * already known the start of the first minute with requests (usage is
 * counted per minute: a lower bound). A triple first seen after ?3
 * counts by its exact first time, not its minute.
 */
static const char sql_first_new_use[] =
	"SELECT MIN(x) FROM (SELECT MIN(CASE WHEN c.first_seen > ?3 THEN c.first_seen"
	" ELSE u.minute END) AS x FROM obs_ident i JOIN obs_counts c ON c.id = i.id"
	" JOIN usage u ON u.obs_id = i.id WHERE i.fingerprint = ?1 AND u.minute > ?2"
	" UNION ALL SELECT MIN(ts) FROM seen_log WHERE fingerprint = ?1 AND ts > ?3)";
static const char sql_resolve_held[] =
	"UPDATE findings SET resolved_at = ?2 WHERE fingerprint = ?1"
	" AND rule = 'held_never_used' AND resolved_at IS NULL";

/* Held rows after the cursor ?1, ?2 at most. */
enum {
	HR_ID, HR_FINGERPRINT, HR_NODE, HR_EXE, HR_SOURCE, HR_NAME, HR_FIRST_SEEN, HR_PID,
	HR_SENSOR_ID,
};
static const char sql_held_rows[] =
	"SELECT id, fingerprint, node, exe, source, name, first_seen, pid, sensor_id"
	" FROM held WHERE id > ?1 ORDER BY id LIMIT ?2";

static const char sql_ever_used[] =
	"SELECT EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = ?1)"
	" OR EXISTS (SELECT 1 FROM tokens WHERE fingerprint = ?1 AND requests > 0)";

/* Held, never used, no finding yet, held since ?1 or before; ?2 at most. */
enum { UR_FINGERPRINT, UR_FIRST_SEEN, UR_EXE, UR_NODE, UR_SOURCE, UR_NAME };
static const char sql_unused_rows[] =
	"SELECT h.fingerprint, MIN(h.first_seen), MIN(h.exe), MIN(h.node), MIN(h.source),"
	" MIN(h.name) FROM held h WHERE NOT EXISTS (SELECT 1 FROM seen_log s"
	" WHERE s.fingerprint = h.fingerprint) AND NOT EXISTS (SELECT 1 FROM tokens t"
	" WHERE t.fingerprint = h.fingerprint AND t.requests > 0) AND NOT EXISTS"
	" (SELECT 1 FROM findings f WHERE f.fingerprint = h.fingerprint"
	" AND f.rule = 'held_never_used') GROUP BY h.fingerprint"
	" HAVING MIN(h.first_seen) <= ?1 LIMIT ?2";

enum { OP_RULE };
static const char sql_open_rules[] =
	"SELECT rule FROM findings WHERE fingerprint = ?1 AND resolved_at IS NULL";
static const char sql_risk_upsert[] =
	"INSERT INTO risk (fingerprint, score, impact, likelihood, impact_why, reasons, updated,"
	" last_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE((SELECT CASE WHEN"
	" requests > 0 THEN last_seen ELSE 0 END FROM tokens WHERE fingerprint = ?1), 0))"
	" ON CONFLICT (fingerprint) DO UPDATE SET score = excluded.score,"
	" impact = excluded.impact, likelihood = excluded.likelihood,"
	" impact_why = excluded.impact_why, reasons = excluded.reasons,"
	" updated = excluded.updated, last_used = MAX(last_used, excluded.last_used)";

/* Actions due at ?1, ?2 at most. */
enum { OB_FINDING_ID, OB_KIND, OB_TARGET, OB_ATTEMPTS };
static const char sql_outbox_due[] =
	"SELECT finding_id, kind, target, attempts FROM outbox WHERE state = 'pending'"
	" AND next_at <= ?1 ORDER BY next_at, finding_id LIMIT ?2";
static const char sql_outbox_attempt[] =
	"UPDATE outbox SET attempts = attempts + 1, next_at = ?4, state = ?5"
	" WHERE finding_id = ?1 AND kind = ?2 AND target = ?3";
/* An attempt's log row; both take the same parameters (?5 hooks only, ?8 webhooks only). */
static const char sql_revocation_add[] =
	"INSERT INTO revocations (fingerprint, finding_id, hook, ts, outcome, exit_code,"
	" http_status, detail) SELECT fingerprint, id, ?2, ?3, ?4, ?5, ?6, ?7 FROM findings"
	" WHERE id = ?1";
static const char sql_delivery_add[] =
	"INSERT INTO deliveries (finding_id, target, attempt, ts, outcome, http_status, error)"
	" VALUES (?1, ?2, ?8, ?3, ?4, ?6, ?7)";
static const char sql_revoke_mark_add[] =
	"INSERT OR IGNORE INTO revoke_marks (fingerprint, marked_at, hook)"
	" SELECT fingerprint, ?2, ?3 FROM findings WHERE id = ?1";

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
	[RK_OUTBOX_DUE] = sql_outbox_due,
	[RK_OUTBOX_ATTEMPT] = sql_outbox_attempt,
	[RK_REVOCATION_ADD] = sql_revocation_add,
	[RK_DELIVERY_ADD] = sql_delivery_add,
	[RK_REVOKE_MARK_ADD] = sql_revoke_mark_add,
};

const struct sq_stmts sqlite_risk_stmts = { risk_sql, RK__COUNT, NULL };

static sqlite3_stmt *stmt(struct sqlite_store *st, enum risk_stmt i)
{
	return sq_stmt(&st->stmts[SQM_RISK], i);
}

/* A token's row, copied out of its statement. */
struct tok_row {
	char type[32], prefix[32], scheme[32], header[64], aws_key_kind[32], pw_type[32];
	char *jwt_json;
	int has_checksum, checksum_valid;
	struct risk_token view;
};

struct pass {
	struct sqlite_store *st;
	struct sq_err e;
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

static int64_t cursor_get(struct pass *p, const char *name)
{
	sqlite3_stmt *s = stmt(p->st, RK_CURSOR_GET);

	sq_bind_text(s, 1, name);
	return sq_one_int(s, 0);
}

static int cursor_set(struct pass *p, const char *name, int64_t v)
{
	sqlite3_stmt *s = stmt(p->st, RK_CURSOR_SET);

	sq_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, v);
	return sq_run(&p->e, s, "risk cursor");
}

static void touch(struct pass *p, const char *fp)
{
	for (size_t i = 0; i < p->n_touched; i++)
		if (!strcmp(p->touched[i], fp))
			return;
	if (p->n_touched < TOUCHED_MAX)
		copy(p->touched[p->n_touched++], 33, fp);
}

/* 1 found, 0 unknown token. */
static int load_token(struct pass *p, const char *fp, struct tok_row *t)
{
	sqlite3_stmt *s = stmt(p->st, RK_TOKEN);
	int found = 0;

	memset(t, 0, sizeof(*t));
	sq_bind_text(s, 1, fp);
	if (sqlite3_step(s) == SQLITE_ROW) {
		copy(t->type, sizeof(t->type), sq_col_text(s, TK_TYPE));
		copy(t->prefix, sizeof(t->prefix), sq_col_text(s, TK_PREFIX));
		copy(t->scheme, sizeof(t->scheme), sq_col_text(s, TK_SCHEME));
		copy(t->header, sizeof(t->header), sq_col_text(s, TK_HEADER));
		copy(t->aws_key_kind, sizeof(t->aws_key_kind), sq_col_text(s, TK_AWS_KEY_KIND));
		copy(t->pw_type, sizeof(t->pw_type), sq_col_text(s, TK_PW_TYPE));
		t->jwt_json = strdup(sq_col_text(s, TK_JWT_JSON));
		t->has_checksum = sqlite3_column_int(s, TK_HAS_CHECKSUM);
		t->checksum_valid = sqlite3_column_int(s, TK_CHECKSUM_VALID);
		found = 1;
	}
	sqlite3_reset(s);
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
	sqlite3_stmt *s = stmt(p->st, RK_KNOWN);

	sq_bind_text(s, 1, fp);
	sq_bind_text(s, 2, dim);
	sq_bind_text(s, 3, value);
	return sq_one_int(s, 0) == 1;
}

static unsigned count_dim(struct pass *p, const char *fp, const char *dim)
{
	sqlite3_stmt *s = stmt(p->st, RK_COUNT_DIM);

	sq_bind_text(s, 1, fp);
	sq_bind_text(s, 2, dim);
	return (unsigned)sq_one_int(s, 0);
}

static int baseline_add(struct pass *p, const char *fp, const char *dim, const char *value,
			int64_t ts)
{
	sqlite3_stmt *s;

	if (!value[0])
		return 0;
	s = stmt(p->st, RK_BASELINE_ADD);
	sq_bind_text(s, 1, fp);
	sq_bind_text(s, 2, dim);
	sq_bind_text(s, 3, value);
	sqlite3_bind_int64(s, 4, ts);
	return sq_run(&p->e, s, "risk baseline");
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
	sqlite3_stmt *s = stmt(p->st, RK_OUTBOX_ADD);

	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, kind);
	sq_bind_text(s, 3, target);
	sqlite3_bind_int64(s, 4, p->now_ms);
	return sq_run(&p->e, s, "risk outbox");
}

/* Queues the new finding's deliveries and hooks. */
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
	sqlite3_stmt *s = stmt(p->st, RK_FINDING_GET);
	int64_t id;
	int rc;

	sq_bind_text(s, 1, fp);
	sq_bind_text(s, 2, rule);
	sq_bind_text(s, 3, f->subject);
	id = sq_one_int(s, 0);
	touch(p, fp);
	if (id > 0) {
		json_object_put(evidence);
		s = stmt(p->st, RK_FINDING_BUMP);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, ts);
		return sq_run(&p->e, s, "risk finding");
	}
	s = stmt(p->st, RK_FINDING_ADD);
	sq_bind_text(s, 1, fp);
	sq_bind_text(s, 2, rule);
	sq_bind_text(s, 3, f->subject);
	sqlite3_bind_int(s, 4, (int)f->severity);
	sqlite3_bind_double(s, 5, f->weight);
	sq_bind_text(s, 6, f->reason);
	sq_bind_text(s, 7, json_object_to_json_string_ext(evidence, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	sqlite3_bind_int64(s, 8, ts);
	rc = sq_run(&p->e, s, "risk finding");
	json_object_put(evidence);
	if (rc < 0)
		return -1;
	p->stats->findings++;
	return queue_actions(p, sqlite3_last_insert_rowid(p->st->db), type, f);
}

/* A token used now is no longer a held-never-used token. */
static int resolve_held(struct pass *p, const char *fp)
{
	sqlite3_stmt *s = stmt(p->st, RK_RESOLVE_HELD);

	sq_bind_text(s, 1, fp);
	sqlite3_bind_int64(s, 2, p->now_ms);
	return sq_run(&p->e, s, "risk resolve");
}

/* What the token's baseline knows of the use u, before this sighting (id). */
static void seen_history(struct pass *p, const char *fp, int64_t id, const struct risk_use *u,
			 const char *ns, struct risk_history *h)
{
	sqlite3_stmt *s = stmt(p->st, RK_FIRST_USE);

	sq_bind_text(s, 1, fp);
	sqlite3_bind_int64(s, 2, id);
	h->first_used_ms = sq_one_int(s, 0);
	h->workload_known = known(p, fp, "workload", u->workload);
	h->dest_known = known(p, fp, "dest", u->dest);
	h->node_known = known(p, fp, "node", u->node);
	h->method_known = known(p, fp, "method", u->method);
	s = stmt(p->st, RK_METHODS);
	sq_bind_text(s, 1, fp);
	if (sqlite3_step(s) == SQLITE_ROW)
		h->baseline_reads_only = sqlite3_column_int64(s, MT_COUNT) > 0 &&
					 sqlite3_column_int64(s, MT_WRITES) == 0;
	sqlite3_reset(s);
	h->workloads = count_dim(p, fp, "workload") + !h->workload_known;
	h->nodes = count_dim(p, fp, "node") + !h->node_known;
	h->namespaces = count_dim(p, fp, "namespace") + (ns[0] && !known(p, fp, "namespace", ns));
}

/* A finding's evidence from a sighting row r and its use u. */
static struct json_object *seen_evidence(sqlite3_stmt *r, const struct risk_use *u,
					 const char *ns)
{
	struct json_object *ev = json_object_new_object();

	put_opt(ev, "sensor_id", sq_col_text(r, SR_SENSOR_ID));
	put_opt(ev, "node", u->node);
	json_object_object_add(ev, "pid", json_object_new_int64(sqlite3_column_int64(r, SR_PID)));
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

/* One first sighting (the current row of r): facts, rules, findings, baseline. */
static int eval_seen(struct pass *p, sqlite3_stmt *r)
{
	const char *fp = sq_col_text(r, SR_FINGERPRINT), *ns = sq_col_text(r, SR_K8S_NAMESPACE);
	char workload[RISK_SUBJECT_MAX], dest[RISK_SUBJECT_MAX];
	struct risk_finding f[FINDINGS_MAX];
	struct risk_history h = { 0 };
	struct risk_use u;
	struct tok_row t;
	size_t n;
	int rc = 0;

	if (!load_token(p, fp, &t))
		return 0; /* cannot happen: the token row comes with the sighting */
	risk_workload(&(struct risk_proc){ .exe = sq_col_text(r, SR_EXE),
					   .container_id = sq_col_text(r, SR_CONTAINER_ID),
					   .k8s_namespace = ns,
					   .workload_kind = sq_col_text(r, SR_WORKLOAD_KIND),
					   .workload_name = sq_col_text(r, SR_WORKLOAD_NAME),
					   .container = sq_col_text(r, SR_CONTAINER) },
		      workload, sizeof(workload));
	risk_destination(sq_col_text(r, SR_HOST), sq_col_text(r, SR_DST), dest, sizeof(dest));
	u = (struct risk_use){
		.ts_ms = sqlite3_column_int64(r, SR_TS), .workload = workload,
		.node = sq_col_text(r, SR_NODE), .exe = sq_col_text(r, SR_EXE),
		.comm = sq_col_text(r, SR_COMM), .cmdline = sq_col_text(r, SR_CMDLINE),
		.cgroup = sq_col_text(r, SR_CGROUP), .dst = sq_col_text(r, SR_DST),
		.host = sq_col_text(r, SR_HOST), .dest = dest, .method = sq_col_text(r, SR_METHOD),
		.path = sq_col_text(r, SR_PATH), .tls = sqlite3_column_int(r, SR_TLS),
		.in_query = sqlite3_column_int(r, SR_IN_QUERY),
	};
	seen_history(p, fp, sqlite3_column_int64(r, SR_ID), &u, ns, &h);
	n = risk_eval_use(p->cfg, &t.view, &u, &h, f, FINDINGS_MAX);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = record(p, fp, t.type, &f[i], u.ts_ms, seen_evidence(r, &u, ns));
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
	sqlite3_stmt *r = stmt(p->st, RK_SEEN_ROWS);
	int rc;

	sqlite3_bind_int64(r, 1, cur);
	sqlite3_bind_int(r, 2, RISK_PASS_ROWS);
	/* eval_seen uses other statements only: r stays positioned */
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		last = sqlite3_column_int64(r, SR_ID);
		if (eval_seen(p, r) < 0) {
			sqlite3_reset(r);
			return -1;
		}
	}
	sqlite3_reset(r);
	if (rc != SQLITE_DONE)
		return sq_fail(&p->e, "risk seen log");
	return last != cur ? cursor_set(p, "seen_log", last) : 0;
}

/* A token used at first_new after its previous use prev: silence long enough is a finding. */
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
	/* a subject per silence: the next dormancy is a new finding */
	snprintf(f.subject, sizeof(f.subject), "%lld", (long long)prev);
	rc = record(p, fp, t.type, &f, first_new, ev);
	free(t.jwt_json);
	return rc;
}

/* The first use of fp after prev (its previous use), or 0. */
static int64_t first_new_use(struct pass *p, const char *fp, int64_t prev)
{
	sqlite3_stmt *s = stmt(p->st, RK_FIRST_NEW_USE);

	sq_bind_text(s, 1, fp);
	sqlite3_bind_int64(s, 2, prev - prev % MINUTE_MS);
	sqlite3_bind_int64(s, 3, prev);
	return sq_one_int(s, 0);
}

/* Tokens used again since the last pass. */
static int pass_dormant(struct pass *p)
{
	sqlite3_stmt *r = stmt(p->st, RK_DORMANT_ROWS);
	char (*fps)[33] = calloc(RISK_PASS_ROWS, sizeof(*fps));
	int64_t *prev = calloc(RISK_PASS_ROWS, sizeof(*prev));
	size_t n = 0;
	int rc = 0;

	if (!fps || !prev) {
		free(fps);
		free(prev);
		snprintf(p->e.buf, p->e.len, "out of memory");
		return -1;
	}
	sqlite3_bind_int(r, 1, RISK_PASS_ROWS);
	while (n < RISK_PASS_ROWS && sqlite3_step(r) == SQLITE_ROW) {
		copy(fps[n], 33, sq_col_text(r, DR_FINGERPRINT));
		prev[n++] = sqlite3_column_int64(r, DR_LAST_USED);
	}
	sqlite3_reset(r);
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

/* A held token: where it was held, and since when. */
struct held_row {
	const char *fp, *source, *name, *exe, *node, *sensor_id;
	int64_t first, pid;
};

static int eval_held(struct pass *p, const struct held_row *w, int only_unused)
{
	struct risk_finding f[FINDINGS_MAX];
	struct risk_held hd;
	struct tok_row t;
	sqlite3_stmt *s;
	size_t n;
	int rc = 0;

	if (!load_token(p, w->fp, &t))
		return 0;
	s = stmt(p->st, RK_EVER_USED);
	sq_bind_text(s, 1, w->fp);
	hd = (struct risk_held){ .source = w->source, .name = w->name, .exe = w->exe,
				 .node = w->node, .first_held_ms = w->first,
				 .ever_used = sq_one_int(s, 0) == 1 };
	n = risk_eval_held(p->cfg, &t.view, &hd, p->now_ms, f, FINDINGS_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct json_object *ev;

		/* held_in_argv comes from the held row; never-used from the sweep */
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
	sqlite3_stmt *r = stmt(p->st, RK_HELD_ROWS);
	struct held_row w;
	int rc = 0;

	sqlite3_bind_int64(r, 1, cur);
	sqlite3_bind_int(r, 2, RISK_PASS_ROWS);
	/* eval_held uses other statements only: r stays positioned */
	while (rc == 0 && sqlite3_step(r) == SQLITE_ROW) {
		last = sqlite3_column_int64(r, HR_ID);
		w = (struct held_row){
			.fp = sq_col_text(r, HR_FINGERPRINT), .source = sq_col_text(r, HR_SOURCE),
			.name = sq_col_text(r, HR_NAME), .exe = sq_col_text(r, HR_EXE),
			.node = sq_col_text(r, HR_NODE), .sensor_id = sq_col_text(r, HR_SENSOR_ID),
			.first = sqlite3_column_int64(r, HR_FIRST_SEEN),
			.pid = sqlite3_column_int64(r, HR_PID),
		};
		rc = eval_held(p, &w, 0);
		p->stats->held++;
	}
	sqlite3_reset(r);
	if (rc < 0)
		return -1;
	return last != cur ? cursor_set(p, "held", last) : 0;
}

/* Held long enough and never used: copied out, then evaluated. */
static int pass_unused(struct pass *p)
{
	struct unused {
		char fp[33], exe[256], node[128], source[16], name[64];
		int64_t first;
	} *u = calloc(UNUSED_MAX, sizeof(*u));
	sqlite3_stmt *r;
	size_t n = 0;
	int rc = 0;

	if (!u)
		return 0;
	r = stmt(p->st, RK_UNUSED_ROWS);
	sqlite3_bind_int64(r, 1, p->now_ms - p->cfg->held_unused_ms);
	sqlite3_bind_int(r, 2, UNUSED_MAX);
	while (n < UNUSED_MAX && sqlite3_step(r) == SQLITE_ROW) {
		copy(u[n].fp, sizeof(u[n].fp), sq_col_text(r, UR_FINGERPRINT));
		u[n].first = sqlite3_column_int64(r, UR_FIRST_SEEN);
		copy(u[n].exe, sizeof(u[n].exe), sq_col_text(r, UR_EXE));
		copy(u[n].node, sizeof(u[n].node), sq_col_text(r, UR_NODE));
		copy(u[n].source, sizeof(u[n].source), sq_col_text(r, UR_SOURCE));
		copy(u[n].name, sizeof(u[n].name), sq_col_text(r, UR_NAME));
		n++;
	}
	sqlite3_reset(r);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct held_row w = { .fp = u[i].fp, .source = u[i].source, .name = u[i].name,
				      .exe = u[i].exe, .node = u[i].node, .sensor_id = "",
				      .first = u[i].first };

		rc = eval_held(p, &w, 1);
	}
	free(u);
	return rc;
}

/* Rescores one token from its open findings. */
static int score(struct pass *p, const char *fp)
{
	enum risk_rule rules[RULE__COUNT];
	struct risk_score sc;
	struct json_object *reasons;
	struct tok_row t;
	sqlite3_stmt *s;
	size_t n = 0;
	int rc;

	if (!load_token(p, fp, &t))
		return 0;
	s = stmt(p->st, RK_OPEN_RULES);
	sq_bind_text(s, 1, fp);
	while (sqlite3_step(s) == SQLITE_ROW) {
		enum risk_rule r;

		if (risk_rule_parse(sq_col_text(s, OP_RULE), &r) == 0 && n < RULE__COUNT)
			rules[n++] = r;
	}
	sqlite3_reset(s);
	risk_score_token(p->cfg, &t.view, rules, n, p->now_ms, &sc);
	free(t.jwt_json);
	reasons = sqlite_open_reasons(p->st, fp);
	s = stmt(p->st, RK_RISK_UPSERT);
	sq_bind_text(s, 1, fp);
	sqlite3_bind_int(s, 2, sc.score);
	sqlite3_bind_double(s, 3, sc.impact);
	sqlite3_bind_double(s, 4, sc.likelihood);
	sq_bind_text(s, 5, sc.impact_why);
	sq_bind_text(s, 6, reasons ? json_object_to_json_string_ext(reasons, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE)
				   : "[]");
	sqlite3_bind_int64(s, 7, p->now_ms);
	rc = sq_run(&p->e, s, "risk score");
	json_object_put(reasons);
	p->stats->scored++;
	return rc;
}

int sqlite_risk_pass(struct store *base, const struct risk_config *cfg, int64_t now_ms,
		     struct risk_pass_stats *stats, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct risk_pass_stats dummy;
	struct pass p = { .st = st, .e = { st->db, err, errlen }, .cfg = cfg, .now_ms = now_ms,
			  .stats = stats ? stats : &dummy };
	int rc = -1;

	memset(p.stats, 0, sizeof(*p.stats));
	p.touched = calloc(TOUCHED_MAX, sizeof(*p.touched));
	if (!p.touched) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&st->lock);
	if (sq_begin(&p.e, "risk begin") < 0)
		goto out;
	/* dormancy first: it compares with last_used before scoring moves it */
	if (pass_dormant(&p) < 0 || pass_seen(&p) < 0 || pass_held(&p) < 0 || pass_unused(&p) < 0)
		goto rollback;
	for (size_t i = 0; i < p.n_touched; i++)
		if (score(&p, p.touched[i]) < 0)
			goto rollback;
	rc = sq_commit(&p.e, "risk commit");
	goto out;
rollback:
	sq_rollback(st->db);
out:
	pthread_mutex_unlock(&st->lock);
	free(p.touched);
	return rc;
}

/* ---- the outbox ------------------------------------------------------ */

int sqlite_risk_due(struct store *base, int64_t now_ms, struct risk_action *out, size_t cap,
		    char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	sqlite3_stmt *s;
	size_t n = 0;

	(void)err;
	(void)errlen;
	pthread_mutex_lock(&st->lock);
	s = stmt(st, RK_OUTBOX_DUE);
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, (int64_t)cap);
	while (n < cap && sqlite3_step(s) == SQLITE_ROW) {
		struct risk_action *a = &out[n];

		memset(a, 0, sizeof(*a));
		a->finding_id = sqlite3_column_int64(s, OB_FINDING_ID);
		copy(a->kind, sizeof(a->kind), sq_col_text(s, OB_KIND));
		copy(a->target, sizeof(a->target), sq_col_text(s, OB_TARGET));
		a->attempts = (unsigned)sqlite3_column_int(s, OB_ATTEMPTS);
		n++;
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < n; i++)
		out[i].alert = sqlite_alert_json(st, out[i].finding_id);
	pthread_mutex_unlock(&st->lock);
	return (int)n;
}

/* The attempt's log row: a revocation for hooks, a delivery for webhooks. */
static int log_attempt(struct sqlite_store *st, const struct sq_err *e, const struct risk_action *a,
		       int64_t now_ms, const struct risk_outcome *o, bool hook)
{
	sqlite3_stmt *s = stmt(st, hook ? RK_REVOCATION_ADD : RK_DELIVERY_ADD);

	sqlite3_bind_int64(s, 1, a->finding_id);
	sq_bind_text(s, 2, a->target);
	sqlite3_bind_int64(s, 3, now_ms);
	sq_bind_text(s, 4, o->outcome);
	sqlite3_bind_int(s, 5, o->exit_code);
	sqlite3_bind_int64(s, 6, o->http_status);
	sq_bind_text(s, 7, o->detail);
	if (!hook)
		sqlite3_bind_int64(s, 8, (int64_t)a->attempts + 1);
	return sq_run(e, s, "outbox");
}

/* The attempt's outcome in the outbox, then its log row and the mark for sensors. */
static int record_attempt(struct sqlite_store *st, const struct sq_err *e,
			  const struct risk_action *a, int64_t now_ms, const struct risk_outcome *o)
{
	bool hook = !strcmp(a->kind, "hook");
	bool final = strcmp(o->outcome, "retry") != 0;
	sqlite3_stmt *s = stmt(st, RK_OUTBOX_ATTEMPT);

	sqlite3_bind_int64(s, 1, a->finding_id);
	sq_bind_text(s, 2, a->kind);
	sq_bind_text(s, 3, a->target);
	sqlite3_bind_int64(s, 4, final ? now_ms : o->next_at);
	sq_bind_text(s, 5, final ? (!strcmp(o->outcome, "ok") ? "done" : "failed") : "pending");
	if (sq_run(e, s, "outbox") < 0 || log_attempt(st, e, a, now_ms, o, hook) < 0)
		return -1;
	if (!hook || !o->mark || strcmp(o->outcome, "ok") != 0)
		return 0;
	s = stmt(st, RK_REVOKE_MARK_ADD);
	sqlite3_bind_int64(s, 1, a->finding_id);
	sqlite3_bind_int64(s, 2, now_ms);
	sq_bind_text(s, 3, a->target);
	return sq_run(e, s, "outbox");
}

int sqlite_risk_record(struct store *base, const struct risk_action *a, int64_t now_ms,
		       const struct risk_outcome *o, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	struct sq_err e = { st->db, err, errlen };
	int rc = -1;

	pthread_mutex_lock(&st->lock);
	if (sq_begin(&e, "outbox") < 0)
		goto out;
	if (record_attempt(st, &e, a, now_ms, o) < 0)
		sq_rollback(st->db);
	else
		rc = sq_commit(&e, "outbox");
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}
