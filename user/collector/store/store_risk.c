/* SPDX-License-Identifier: Apache-2.0 */
#include "store_risk.h"
#include "webhook.h"
#include "store_alerts.h"
#include "store_internal.h"
#include "store_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000
/* dormant, seen and held rows of a pass, and the never-used sweep */
#define TOUCHED_MAX (RISK_PASS_ROWS * 3 + 64)
#define FINDINGS_MAX 24

/* A token's row, copied out of its statement. */
struct tok_row {
	char type[32], prefix[32], scheme[32], header[64], aws_key_kind[32], pw_type[32];
	char *jwt_json;
	int has_checksum, checksum_valid;
	struct risk_token view;
};

struct pass {
	struct store *st;
	const struct risk_config *cfg;
	int64_t now_ms;
	char (*touched)[33];
	size_t n_touched;
	struct risk_pass_stats *stats;
	char *err;
	size_t errlen;
};

static int fail(struct pass *p, const char *what)
{
	snprintf(p->err, p->errlen, "risk %s: %s", what, sqlite3_errmsg(p->st->db));
	return -1;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static int run(struct pass *p, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(p, what);
}

/* One integer from a statement already bound; dflt when no row or NULL. */
static int64_t one_int(sqlite3_stmt *s, int64_t dflt)
{
	int64_t v = dflt;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

static int64_t cursor_get(struct pass *p, const char *name)
{
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_CURSOR_GET);

	bind_text(s, 1, name);
	return one_int(s, 0);
}

static int cursor_set(struct pass *p, const char *name, int64_t v)
{
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_CURSOR_SET);

	bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, v);
	return run(p, s, "cursor");
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
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_TOKEN);
	int found = 0;

	memset(t, 0, sizeof(*t));
	bind_text(s, 1, fp);
	if (sqlite3_step(s) == SQLITE_ROW) {
		copy(t->type, sizeof(t->type), col_text(s, 0));
		copy(t->prefix, sizeof(t->prefix), col_text(s, 1));
		copy(t->scheme, sizeof(t->scheme), col_text(s, 2));
		copy(t->header, sizeof(t->header), col_text(s, 3));
		copy(t->aws_key_kind, sizeof(t->aws_key_kind), col_text(s, 4));
		copy(t->pw_type, sizeof(t->pw_type), col_text(s, 5));
		t->jwt_json = strdup(col_text(s, 6));
		t->has_checksum = sqlite3_column_int(s, 7);
		t->checksum_valid = sqlite3_column_int(s, 8);
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
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_KNOWN);

	bind_text(s, 1, fp);
	bind_text(s, 2, dim);
	bind_text(s, 3, value);
	return one_int(s, 0) == 1;
}

static unsigned count_dim(struct pass *p, const char *fp, const char *dim)
{
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_COUNT_DIM);

	bind_text(s, 1, fp);
	bind_text(s, 2, dim);
	return (unsigned)one_int(s, 0);
}

static int baseline_add(struct pass *p, const char *fp, const char *dim, const char *value,
			int64_t ts)
{
	sqlite3_stmt *s;

	if (!value[0])
		return 0;
	s = store_stmt(p->st, SQ_RISK_BASELINE_ADD);
	bind_text(s, 1, fp);
	bind_text(s, 2, dim);
	bind_text(s, 3, value);
	sqlite3_bind_int64(s, 4, ts);
	return run(p, s, "baseline");
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

/* Queues the new finding's deliveries and hooks. */
static int queue_actions(struct pass *p, int64_t id, const char *type, const struct risk_finding *f)
{
	const struct risk_config *c = p->cfg;

	for (size_t i = 0; i < c->n_webhooks; i++) {
		char label[600];
		sqlite3_stmt *s;

		if (f->severity < c->webhooks[i].min_severity)
			continue;
		/* the URL itself may be a secret (Slack): stored by its label */
		webhook_url_label(c->webhooks[i].url, label, sizeof(label));
		s = store_stmt(p->st, SQ_RISK_OUTBOX_ADD);
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, "webhook");
		bind_text(s, 3, label);
		sqlite3_bind_int64(s, 4, p->now_ms);
		if (run(p, s, "outbox") < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n_hooks; i++) {
		sqlite3_stmt *s;

		if (!hook_matches(&c->hooks[i], type, f))
			continue;
		s = store_stmt(p->st, SQ_RISK_OUTBOX_ADD);
		sqlite3_bind_int64(s, 1, id);
		bind_text(s, 2, "hook");
		bind_text(s, 3, c->hooks[i].name);
		sqlite3_bind_int64(s, 4, p->now_ms);
		if (run(p, s, "outbox") < 0)
			return -1;
	}
	return 0;
}

/* Records f (new, or counted again); evidence is a JSON object (taken). */
static int record(struct pass *p, const char *fp, const char *type, const struct risk_finding *f,
		  int64_t ts, struct json_object *evidence)
{
	const char *rule = risk_rule_name(f->rule);
	sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_FINDING_GET);
	int64_t id;
	int rc;

	bind_text(s, 1, fp);
	bind_text(s, 2, rule);
	bind_text(s, 3, f->subject);
	id = one_int(s, 0);
	touch(p, fp);
	if (id > 0) {
		json_object_put(evidence);
		s = store_stmt(p->st, SQ_RISK_FINDING_BUMP);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, ts);
		return run(p, s, "finding");
	}
	s = store_stmt(p->st, SQ_RISK_FINDING_ADD);
	bind_text(s, 1, fp);
	bind_text(s, 2, rule);
	bind_text(s, 3, f->subject);
	sqlite3_bind_int(s, 4, (int)f->severity);
	sqlite3_bind_double(s, 5, f->weight);
	bind_text(s, 6, f->reason);
	bind_text(s, 7, json_object_to_json_string_ext(evidence, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	sqlite3_bind_int64(s, 8, ts);
	rc = run(p, s, "finding");
	json_object_put(evidence);
	if (rc < 0)
		return -1;
	p->stats->findings++;
	return queue_actions(p, sqlite3_last_insert_rowid(p->st->db), type, f);
}

/* One first sighting: facts, rules, findings, baseline. */
static int eval_seen(struct pass *p, sqlite3_stmt *r)
{
	const char *fp = col_text(r, 1), *node = col_text(r, 3), *method = col_text(r, 11);
	const char *ns = col_text(r, 18);
	int64_t id = sqlite3_column_int64(r, 0), ts = sqlite3_column_int64(r, 4);
	char workload[RISK_SUBJECT_MAX], dest[RISK_SUBJECT_MAX];
	struct risk_finding f[FINDINGS_MAX];
	struct risk_history h = { 0 };
	struct risk_use u;
	struct tok_row t;
	sqlite3_stmt *s;
	size_t n;
	int rc = 0;

	if (!load_token(p, fp, &t))
		return 0; /* cannot happen: the token row comes with the sighting */
	risk_workload(col_text(r, 7), col_text(r, 17), ns, workload, sizeof(workload));
	risk_destination(col_text(r, 9), col_text(r, 8), dest, sizeof(dest));
	u = (struct risk_use){
		.ts_ms = ts, .workload = workload, .node = node, .exe = col_text(r, 7),
		.comm = col_text(r, 6), .cmdline = col_text(r, 15), .cgroup = col_text(r, 16),
		.dst = col_text(r, 8), .host = col_text(r, 9), .dest = dest, .method = method,
		.path = col_text(r, 12), .tls = sqlite3_column_int(r, 10),
		.in_query = sqlite3_column_int(r, 14),
	};
	s = store_stmt(p->st, SQ_RISK_FIRST_USE);
	bind_text(s, 1, fp);
	sqlite3_bind_int64(s, 2, id);
	h.first_used_ms = one_int(s, 0);
	h.workload_known = known(p, fp, "workload", workload);
	h.dest_known = known(p, fp, "dest", dest);
	h.node_known = known(p, fp, "node", node);
	h.method_known = known(p, fp, "method", method);
	s = store_stmt(p->st, SQ_RISK_METHODS);
	bind_text(s, 1, fp);
	if (sqlite3_step(s) == SQLITE_ROW)
		h.baseline_reads_only = sqlite3_column_int64(s, 0) > 0 &&
					sqlite3_column_int64(s, 1) == 0;
	sqlite3_reset(s);
	h.workloads = count_dim(p, fp, "workload") + !h.workload_known;
	h.nodes = count_dim(p, fp, "node") + !h.node_known;
	h.namespaces = count_dim(p, fp, "namespace") + (ns[0] && !known(p, fp, "namespace", ns));

	n = risk_eval_use(p->cfg, &t.view, &u, &h, f, FINDINGS_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct json_object *ev = json_object_new_object();

		put_opt(ev, "sensor_id", col_text(r, 2));
		put_opt(ev, "node", node);
		json_object_object_add(ev, "pid", json_object_new_int64(sqlite3_column_int64(r, 5)));
		put_opt(ev, "exe", u.exe);
		put_opt(ev, "comm", u.comm);
		put_opt(ev, "workload", workload);
		put_opt(ev, "k8s_namespace", ns);
		put_opt(ev, "dst", u.dst);
		put_opt(ev, "host", u.host);
		json_object_object_add(ev, "tls", json_object_new_boolean(u.tls));
		put_opt(ev, "method", method);
		put_opt(ev, "path", u.path);
		json_object_object_add(ev, "ts", json_object_new_int64(ts));
		rc = record(p, fp, t.type, &f[i], ts, ev);
	}
	if (rc == 0) {
		/* used now: no longer a held-never-used token */
		s = store_stmt(p->st, SQ_RISK_RESOLVE_HELD);
		bind_text(s, 1, fp);
		sqlite3_bind_int64(s, 2, p->now_ms);
		rc = run(p, s, "resolve");
	}
	if (rc == 0)
		rc = baseline_add(p, fp, "workload", workload, ts) ||
		     baseline_add(p, fp, "dest", dest, ts) || baseline_add(p, fp, "node", node, ts) ||
		     baseline_add(p, fp, "method", method, ts) ||
		     baseline_add(p, fp, "namespace", ns, ts) ? -1 : 0;
	touch(p, fp);
	free(t.jwt_json);
	p->stats->seen++;
	return rc;
}

static int pass_seen(struct pass *p)
{
	int64_t cur = cursor_get(p, "seen_log"), last = cur;
	sqlite3_stmt *r = store_stmt(p->st, SQ_RISK_SEEN_ROWS);
	int rc;

	sqlite3_bind_int64(r, 1, cur);
	sqlite3_bind_int(r, 2, RISK_PASS_ROWS);
	/* eval_seen uses other statements only: r stays positioned */
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		last = sqlite3_column_int64(r, 0);
		if (eval_seen(p, r) < 0) {
			sqlite3_reset(r);
			return -1;
		}
	}
	sqlite3_reset(r);
	if (rc != SQLITE_DONE)
		return fail(p, "seen log");
	return last != cur ? cursor_set(p, "seen_log", last) : 0;
}

/* Tokens used again since the last pass: silence long enough is a finding. */
static int pass_dormant(struct pass *p)
{
	sqlite3_stmt *r = store_stmt(p->st, SQ_RISK_DORMANT_ROWS);
	char (*fps)[33] = calloc(RISK_PASS_ROWS, sizeof(*fps));
	int64_t *prev = calloc(RISK_PASS_ROWS, sizeof(*prev));
	size_t n = 0;
	int rc = 0;

	if (!fps || !prev) {
		free(fps);
		free(prev);
		snprintf(p->err, p->errlen, "out of memory");
		return -1;
	}
	sqlite3_bind_int(r, 1, RISK_PASS_ROWS);
	while (n < RISK_PASS_ROWS && sqlite3_step(r) == SQLITE_ROW) {
		copy(fps[n], 33, col_text(r, 0));
		prev[n++] = sqlite3_column_int64(r, 2);
	}
	sqlite3_reset(r);
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *s = store_stmt(p->st, SQ_RISK_RESOLVE_HELD);
		struct risk_finding f = { 0 };
		int64_t first_new;
		struct tok_row t;

		/* used now: no longer a held-never-used token */
		bind_text(s, 1, fps[i]);
		sqlite3_bind_int64(s, 2, p->now_ms);
		rc = run(p, s, "resolve");
		touch(p, fps[i]);
		if (rc < 0 || prev[i] <= 0)
			continue;
		s = store_stmt(p->st, SQ_RISK_FIRST_NEW_USE);
		bind_text(s, 1, fps[i]);
		sqlite3_bind_int64(s, 2, prev[i] - prev[i] % MINUTE_MS);
		sqlite3_bind_int64(s, 3, prev[i]);
		first_new = one_int(s, 0);
		if (first_new <= 0 || !p->cfg->enabled[RULE_DORMANT_ACTIVE] ||
		    !risk_dormant_then_active(p->cfg, prev[i], first_new))
			continue;
		if (!load_token(p, fps[i], &t))
			continue;
		f.rule = RULE_DORMANT_ACTIVE;
		f.severity = p->cfg->severity[RULE_DORMANT_ACTIVE];
		f.weight = p->cfg->weight[RULE_DORMANT_ACTIVE];
		{
			char gap[48];

			risk_duration(gap, sizeof(gap), first_new - prev[i]);
			snprintf(f.reason, sizeof(f.reason), "used again after %s without use", gap);
		}
		{
			struct json_object *ev = json_object_new_object();

			json_object_object_add(ev, "previous_use", json_object_new_int64(prev[i]));
			json_object_object_add(ev, "ts", json_object_new_int64(first_new));
			/* a subject per silence: the next dormancy is a new finding */
			snprintf(f.subject, sizeof(f.subject), "%lld", (long long)prev[i]);
			rc = record(p, fps[i], t.type, &f, first_new, ev);
		}
		free(t.jwt_json);
	}
	free(fps);
	free(prev);
	return rc;
}

static int eval_held(struct pass *p, const char *fp, const char *source, const char *name,
		     const char *exe, const char *node, int64_t first_held, int64_t pid,
		     const char *sensor_id, int only_unused)
{
	struct risk_finding f[FINDINGS_MAX];
	struct risk_held hd;
	struct tok_row t;
	sqlite3_stmt *s;
	size_t n;
	int rc = 0;

	if (!load_token(p, fp, &t))
		return 0;
	s = store_stmt(p->st, SQ_RISK_EVER_USED);
	bind_text(s, 1, fp);
	hd = (struct risk_held){ .source = source, .name = name, .exe = exe, .node = node,
				 .first_held_ms = first_held, .ever_used = one_int(s, 0) == 1 };
	n = risk_eval_held(p->cfg, &t.view, &hd, p->now_ms, f, FINDINGS_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct json_object *ev;

		/* held_in_argv comes from the held row; never-used from the sweep */
		if ((f[i].rule == RULE_HELD_NEVER_USED) != !!only_unused)
			continue;
		ev = json_object_new_object();
		put_opt(ev, "sensor_id", sensor_id);
		put_opt(ev, "node", node);
		if (pid > 0)
			json_object_object_add(ev, "pid", json_object_new_int64(pid));
		put_opt(ev, "exe", exe);
		put_opt(ev, "source", source);
		put_opt(ev, "name", name);
		json_object_object_add(ev, "held_since", json_object_new_int64(first_held));
		rc = record(p, fp, t.type, &f[i], only_unused ? p->now_ms : first_held, ev);
	}
	touch(p, fp);
	free(t.jwt_json);
	return rc;
}

static int pass_held(struct pass *p)
{
	int64_t cur = cursor_get(p, "held"), last = cur;
	sqlite3_stmt *r = store_stmt(p->st, SQ_RISK_HELD_ROWS);
	int rc = 0, step;

	sqlite3_bind_int64(r, 1, cur);
	sqlite3_bind_int(r, 2, RISK_PASS_ROWS);
	while (rc == 0 && (step = sqlite3_step(r)) == SQLITE_ROW) {
		last = sqlite3_column_int64(r, 0);
		rc = eval_held(p, col_text(r, 1), col_text(r, 4), col_text(r, 5), col_text(r, 3),
			       col_text(r, 2), sqlite3_column_int64(r, 6), sqlite3_column_int64(r, 7),
			       col_text(r, 8), 0);
		p->stats->held++;
	}
	sqlite3_reset(r);
	if (rc < 0)
		return -1;
	if (last != cur && cursor_set(p, "held", last) < 0)
		return -1;

	/* held long enough and never used: copy out, then evaluate */
	{
		struct unused {
			char fp[33], exe[256], node[128], source[16], name[64];
			int64_t first;
		} *u = calloc(64, sizeof(*u));
		size_t n = 0;

		if (!u)
			return 0;
		r = store_stmt(p->st, SQ_RISK_UNUSED_ROWS);
		sqlite3_bind_int64(r, 1, p->now_ms - p->cfg->held_unused_ms);
		sqlite3_bind_int(r, 2, 64);
		while (n < 64 && sqlite3_step(r) == SQLITE_ROW) {
			copy(u[n].fp, sizeof(u[n].fp), col_text(r, 0));
			u[n].first = sqlite3_column_int64(r, 1);
			copy(u[n].exe, sizeof(u[n].exe), col_text(r, 2));
			copy(u[n].node, sizeof(u[n].node), col_text(r, 3));
			copy(u[n].source, sizeof(u[n].source), col_text(r, 4));
			copy(u[n].name, sizeof(u[n].name), col_text(r, 5));
			n++;
		}
		sqlite3_reset(r);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = eval_held(p, u[i].fp, u[i].source, u[i].name, u[i].exe, u[i].node,
				       u[i].first, 0, "", 1);
		free(u);
	}
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
	s = store_stmt(p->st, SQ_RISK_OPEN_RULES);
	bind_text(s, 1, fp);
	while (sqlite3_step(s) == SQLITE_ROW) {
		enum risk_rule r;

		if (risk_rule_parse(col_text(s, 0), &r) == 0 && n < RULE__COUNT)
			rules[n++] = r;
	}
	sqlite3_reset(s);
	risk_score_token(p->cfg, &t.view, rules, n, p->now_ms, &sc);
	free(t.jwt_json);
	reasons = store_open_reasons(p->st, fp);
	s = store_stmt(p->st, SQ_RISK_RISK_UPSERT);
	bind_text(s, 1, fp);
	sqlite3_bind_int(s, 2, sc.score);
	sqlite3_bind_double(s, 3, sc.impact);
	sqlite3_bind_double(s, 4, sc.likelihood);
	bind_text(s, 5, sc.impact_why);
	bind_text(s, 6, reasons ? json_object_to_json_string_ext(reasons, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
				: "[]");
	sqlite3_bind_int64(s, 7, p->now_ms);
	rc = run(p, s, "score");
	json_object_put(reasons);
	p->stats->scored++;
	return rc;
}

int store_risk_pass(struct store *st, const struct risk_config *cfg, int64_t now_ms,
		    struct risk_pass_stats *stats, char *err, size_t errlen)
{
	struct risk_pass_stats dummy;
	struct pass p = { .st = st, .cfg = cfg, .now_ms = now_ms, .err = err, .errlen = errlen,
			  .stats = stats ? stats : &dummy };
	int rc = -1;

	memset(p.stats, 0, sizeof(*p.stats));
	p.touched = calloc(TOUCHED_MAX, sizeof(*p.touched));
	if (!p.touched) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&st->lock);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		fail(&p, "begin");
		goto out;
	}
	/* dormancy first: it compares with last_used before scoring moves it */
	if (pass_dormant(&p) < 0 || pass_seen(&p) < 0 || pass_held(&p) < 0)
		goto rollback;
	for (size_t i = 0; i < p.n_touched; i++)
		if (score(&p, p.touched[i]) < 0)
			goto rollback;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(&p, "commit");
		goto rollback;
	}
	rc = 0;
	goto out;
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&st->lock);
	free(p.touched);
	return rc;
}

/* ---- the outbox ------------------------------------------------------ */

void risk_action_release(struct risk_action *a)
{
	json_object_put(a->alert);
	a->alert = NULL;
}

int store_risk_due(struct store *st, int64_t now_ms, struct risk_action *out, size_t cap,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s;
	size_t n = 0;

	pthread_mutex_lock(&st->lock);
	if (sqlite3_prepare_v2(st->db, "SELECT finding_id, kind, target, attempts FROM outbox"
				       " WHERE state = 'pending' AND next_at <= ?1"
				       " ORDER BY next_at, finding_id LIMIT ?2", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "outbox: %s", sqlite3_errmsg(st->db));
		pthread_mutex_unlock(&st->lock);
		return -1;
	}
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, (int64_t)cap);
	while (n < cap && sqlite3_step(s) == SQLITE_ROW) {
		struct risk_action *a = &out[n];

		memset(a, 0, sizeof(*a));
		a->finding_id = sqlite3_column_int64(s, 0);
		copy(a->kind, sizeof(a->kind), col_text(s, 1));
		copy(a->target, sizeof(a->target), col_text(s, 2));
		a->attempts = (unsigned)sqlite3_column_int(s, 3);
		n++;
	}
	sqlite3_finalize(s);
	/* store_alert_json_locked: the lock is held */
	for (size_t i = 0; i < n; i++)
		out[i].alert = store_alert_json_locked(st, out[i].finding_id);
	pthread_mutex_unlock(&st->lock);
	return (int)n;
}

int store_risk_record(struct store *st, const struct risk_action *a, int64_t now_ms,
		      const struct risk_outcome *o, char *err, size_t errlen)
{
	bool hook = !strcmp(a->kind, "hook");
	bool final = strcmp(o->outcome, "retry") != 0;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	pthread_mutex_lock(&st->lock);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(st->db, "UPDATE outbox SET attempts = attempts + 1, next_at = ?4,"
				       " state = ?5 WHERE finding_id = ?1 AND kind = ?2 AND target = ?3",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail_tx;
	sqlite3_bind_int64(s, 1, a->finding_id);
	bind_text(s, 2, a->kind);
	bind_text(s, 3, a->target);
	sqlite3_bind_int64(s, 4, final ? now_ms : o->next_at);
	bind_text(s, 5, final ? (!strcmp(o->outcome, "ok") ? "done" : "failed") : "pending");
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail_tx;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(st->db, hook ?
			       "INSERT INTO revocations (fingerprint, finding_id, hook, ts, outcome,"
			       " exit_code, http_status, detail) SELECT fingerprint, id, ?2, ?3, ?4,"
			       " ?5, ?6, ?7 FROM findings WHERE id = ?1" :
			       "INSERT INTO deliveries (finding_id, target, attempt, ts, outcome,"
			       " http_status, error) VALUES (?1, ?2, ?8, ?3, ?4, ?6, ?7)",
			       -1, &s, NULL) != SQLITE_OK)
		goto fail_tx;
	sqlite3_bind_int64(s, 1, a->finding_id);
	bind_text(s, 2, a->target);
	sqlite3_bind_int64(s, 3, now_ms);
	bind_text(s, 4, o->outcome);
	sqlite3_bind_int(s, 5, o->exit_code);
	sqlite3_bind_int64(s, 6, o->http_status);
	bind_text(s, 7, o->detail);
	if (!hook)
		sqlite3_bind_int64(s, 8, (int64_t)a->attempts + 1);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail_tx;
	sqlite3_finalize(s);
	s = NULL;
	if (hook && o->mark && !strcmp(o->outcome, "ok")) {
		if (sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO revoke_marks (fingerprint,"
					       " marked_at, hook) SELECT fingerprint, ?2, ?3 FROM findings"
					       " WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
			goto fail_tx;
		sqlite3_bind_int64(s, 1, a->finding_id);
		sqlite3_bind_int64(s, 2, now_ms);
		bind_text(s, 3, a->target);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail_tx;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_tx;
	rc = 0;
	goto out;
fail_tx:
	snprintf(err, errlen, "outbox: %s", sqlite3_errmsg(st->db));
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	goto out;
fail:
	snprintf(err, errlen, "outbox: %s", sqlite3_errmsg(st->db));
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}
