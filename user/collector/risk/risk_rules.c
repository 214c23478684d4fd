/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Risk rules: what one use of a token, or a process holding it, says about
 * its risk. Each finding carries a subject (its dedupe key within the token
 * and rule) and a sentence with the evidence. Evidence is metadata only
 * (paths, hosts, methods, header names): never a credential.
 */
#include "risk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "clock.h"
#include "token_types.h"

/* Evidence quoted in a reason: short enough that a sentence of three fits. */
#define EVIDENCE_MAX 96

static const char *const rule_names[RULE__COUNT] = {
	[RULE_NEW_WORKLOAD] = "new_workload",
	[RULE_NEW_DESTINATION] = "new_destination",
	[RULE_NEW_NODE] = "new_node",
	[RULE_PLAINTEXT] = "plaintext",
	[RULE_EXPIRED_JWT] = "expired_jwt",
	[RULE_WRONG_PROVIDER] = "wrong_provider",
	[RULE_SHARED] = "shared",
	[RULE_HUMAN_TOKEN_DAEMON] = "human_token_daemon",
	[RULE_SERVICE_TOKEN_INTERACTIVE] = "service_token_interactive",
	[RULE_DORMANT_ACTIVE] = "dormant_active",
	[RULE_NEW_WRITE_METHOD] = "new_write_method",
	[RULE_QUERY_STRING] = "query_string",
	[RULE_BASIC_PASSWORD] = "basic_password",
	[RULE_HELD_IN_ARGV] = "held_in_argv",
	[RULE_HELD_NEVER_USED] = "held_never_used",
};

static const char *const severity_names[RISK_SEV__COUNT] = {
	"info", "low", "medium", "high", "critical",
};

const char *risk_rule_name(enum risk_rule r)
{
	return (unsigned)r < RULE__COUNT ? rule_names[r] : "";
}

int risk_rule_parse(const char *name, enum risk_rule *out)
{
	for (int r = 0; name && r < RULE__COUNT; r++)
		if (strcmp(name, rule_names[r]) == 0) {
			if (out)
				*out = (enum risk_rule)r;
			return 0;
		}
	return -1;
}

const char *risk_severity_name(enum risk_severity s)
{
	return (unsigned)s < RISK_SEV__COUNT ? severity_names[s] : "";
}

int risk_severity_parse(const char *name, enum risk_severity *out)
{
	for (int s = 0; name && s < RISK_SEV__COUNT; s++)
		if (strcmp(name, severity_names[s]) == 0) {
			if (out)
				*out = (enum risk_severity)s;
			return 0;
		}
	return -1;
}

/* b - a, saturated: times come from sensors and are only loosely trusted. */
static int64_t elapsed(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(b, a, &d))
		return b > a ? INT64_MAX : INT64_MIN;
	return d;
}

bool risk_dormant_then_active(const struct risk_config *c, int64_t prev_last_used_ms,
			      int64_t first_new_use_ms)
{
	return c && prev_last_used_ms > 0 &&
	       elapsed(prev_last_used_ms, first_new_use_ms) >= c->dormant_ms;
}

void risk_duration(char *out, size_t cap, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {
		{ MS_PER_DAY, "day" },
		{ MS_PER_HOUR, "hour" },
		{ 60000, "minute" },
		{ 1000, "second" },
	};
	int64_t n = 0;
	size_t i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (ms >= units[i].ms)
			break;
	n = ms / units[i].ms;
	snprintf(out, cap, "%lld %s%s", (long long)n, units[i].unit, n == 1 ? "" : "s");
}

struct emit {
	const struct risk_config *c;
	struct risk_finding *out;
	size_t cap, n;
};

static void add(struct emit *e, enum risk_rule r, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct emit *e, enum risk_rule r, const char *subject, const char *fmt, ...)
{
	struct risk_finding *f;
	va_list ap;

	if (!e->c->enabled[r] || e->n >= e->cap)
		return;
	f = &e->out[e->n++];
	memset(f, 0, sizeof(*f));
	f->rule = r;
	f->severity = e->c->severity[r];
	f->weight = e->c->weight[r];
	risk_text(f->subject, sizeof(f->subject), subject);
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	/* the arguments were printable already; this also covers the format's own text */
	risk_text(f->reason, sizeof(f->reason), f->reason);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

static bool is_write_method(const char *m)
{
	static const char *const writes[] = { "POST", "PUT", "PATCH", "DELETE" };

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		if (strcasecmp(m, writes[i]) == 0)
			return true;
	return false;
}

/* " on node n1", or "" when the node is unknown. */
static void on_node(char *out, size_t cap, const char *node)
{
	char n[EVIDENCE_MAX];

	risk_text(n, sizeof(n), node);
	if (n[0])
		snprintf(out, cap, " on node %s", n);
	else
		out[0] = '\0';
}

/* The rules that need the learning window to have passed. */
static void eval_baseline(struct emit *e, const struct risk_use *u, const struct risk_history *h,
			  const char *dest)
{
	char a[EVIDENCE_MAX], b[EVIDENCE_MAX + 16];

	if (h->first_used_ms == 0 || elapsed(h->first_used_ms, u->ts_ms) < e->c->learning_window_ms)
		return;
	if (!h->workload_known && str(u->workload)[0]) {
		risk_text(a, sizeof(a), u->workload);
		on_node(b, sizeof(b), u->node);
		add(e, RULE_NEW_WORKLOAD, u->workload,
		    "used by a new workload %s%s after the learning window", a, b);
	}
	if (!h->dest_known && dest[0]) {
		risk_text(a, sizeof(a), dest);
		add(e, RULE_NEW_DESTINATION, dest,
		    "sent to a new destination %s after the learning window", a);
	}
	if (!h->node_known && str(u->node)[0]) {
		risk_text(a, sizeof(a), u->node);
		add(e, RULE_NEW_NODE, u->node, "used on a new node %s after the learning window",
		    a);
	}
}

static void eval_transport(struct emit *e, const struct risk_token *t, const struct risk_use *u,
			   const char *dest)
{
	char a[EVIDENCE_MAX], b[EVIDENCE_MAX], ty[32];
	struct risk_jwt jwt;
	const char *type = risk_effective_type(t);

	if (!u->tls && str(u->dst)[0] && !risk_loopback(u->dst)) {
		risk_text(a, sizeof(a), dest[0] ? dest : u->dst);
		risk_text(b, sizeof(b), u->dst);
		if (strcmp(a, b) != 0)
			add(e, RULE_PLAINTEXT, dest[0] ? dest : u->dst,
			    "sent in plaintext to %s (%s)", a, b);
		else
			add(e, RULE_PLAINTEXT, u->dst, "sent in plaintext to %s", a);
	}
	if (risk_jwt_read(t->jwt_json, &jwt) && jwt.has_exp && u->ts_ms / 1000 > jwt.exp) {
		risk_duration(a, sizeof(a), elapsed(jwt.exp, u->ts_ms / 1000) * 1000);
		add(e, RULE_EXPIRED_JWT, "", "a JWT presented %s after it expired", a);
	}
	if (risk_wrong_provider(e->c, type, str(u->host)) == 1) {
		char host[RISK_SUBJECT_MAX];

		risk_destination(u->host, "", host, sizeof(host));
		risk_text(a, sizeof(a), host);
		risk_text(ty, sizeof(ty), type);
		add(e, RULE_WRONG_PROVIDER, host, "a %s token sent to %s, not a %s provider host",
		    ty, a, ty);
	}
}

static void eval_process(struct emit *e, const struct risk_token *t, const struct risk_use *u,
			 const struct risk_history *h)
{
	const char *exe = str(u->exe)[0] ? u->exe : str(u->comm);
	const char *who = str(u->workload)[0] ? u->workload : exe;
	enum token_class cls = risk_token_class(t);
	char a[EVIDENCE_MAX], ty[32];

	if (h->workloads > e->c->shared_workloads || h->nodes > e->c->shared_nodes ||
	    h->namespaces > e->c->shared_namespaces)
		add(e, RULE_SHARED, "",
		    "used by %u workloads on %u nodes in %u namespaces (more than %u workloads, %u"
		    " nodes or %u namespaces)", h->workloads, h->nodes, h->namespaces,
		    e->c->shared_workloads, e->c->shared_nodes, e->c->shared_namespaces);
	risk_text(a, sizeof(a), who);
	risk_text(ty, sizeof(ty), risk_effective_type(t));
	if (cls == TOKEN_CLASS_HUMAN && risk_daemon(exe, str(u->cmdline), str(u->cgroup)))
		add(e, RULE_HUMAN_TOKEN_DAEMON, who, "a person's %s token used by the daemon %s",
		    ty, a);
	if (cls == TOKEN_CLASS_MACHINE && risk_interactive(exe, str(u->cmdline), str(u->cgroup)))
		add(e, RULE_SERVICE_TOKEN_INTERACTIVE, who,
		    "a machine %s token used from the interactive tool %s", ty, a);
}

size_t risk_eval_use(const struct risk_config *c, const struct risk_token *t,
		     const struct risk_use *u, const struct risk_history *h,
		     struct risk_finding *out, size_t cap)
{
	struct emit e = { .c = c, .out = out, .cap = cap };
	const char *dest;
	char a[EVIDENCE_MAX], b[EVIDENCE_MAX];

	if (!c || !t || !u || !h || !out)
		return 0;
	dest = str(u->dest)[0] ? u->dest : str(u->dst);
	eval_baseline(&e, u, h, dest);
	eval_transport(&e, t, u, dest);
	eval_process(&e, t, u, h);
	if (risk_dormant_then_active(c, h->prev_last_used_ms, u->ts_ms)) {
		risk_duration(a, sizeof(a), elapsed(h->prev_last_used_ms, u->ts_ms));
		add(&e, RULE_DORMANT_ACTIVE, "", "used again after %s without use", a);
	}
	if (h->first_used_ms != 0 && elapsed(h->first_used_ms, u->ts_ms) >= c->learning_window_ms &&
	    h->baseline_reads_only && !h->method_known && is_write_method(str(u->method))) {
		risk_text(a, sizeof(a), u->method);
		risk_text(b, sizeof(b), dest);
		add(&e, RULE_NEW_WRITE_METHOD, a, "a %s request%s%s where only reads were seen", a,
		    b[0] ? " to " : "", b);
	}
	if (u->in_query) {
		risk_text(a, sizeof(a), t->header);
		risk_text(b, sizeof(b), dest);
		add(&e, RULE_QUERY_STRING, t->header,
		    "carried in the URL query parameter %s%s%s, where logs and proxies keep it",
		    a[0] ? a : "?", b[0] ? " to " : "", b);
	}
	if (token_type_is(t->type, TYPE_BASIC) &&
	    token_type_is(t->basic_password_type, TYPE_OPAQUE)) {
		risk_text(b, sizeof(b), dest);
		add(&e, RULE_BASIC_PASSWORD, "", "HTTP Basic with a plain password sent%s%s",
		    b[0] ? " to " : "", b);
	}
	return e.n;
}

size_t risk_eval_held(const struct risk_config *c, const struct risk_token *t,
		      const struct risk_held *hd, int64_t now_ms, struct risk_finding *out,
		      size_t cap)
{
	struct emit e = { .c = c, .out = out, .cap = cap };
	char exe[EVIDENCE_MAX], node[EVIDENCE_MAX + 16], name[EVIDENCE_MAX],
		where[EVIDENCE_MAX + 40];
	char d[32];
	bool argv;

	if (!c || !t || !hd || !out)
		return 0;
	argv = strcmp(str(hd->source), "argv") == 0;
	risk_text(exe, sizeof(exe), str(hd->exe)[0] ? hd->exe : "a process");
	on_node(node, sizeof(node), hd->node);
	risk_text(name, sizeof(name), hd->name);
	if (argv)
		snprintf(where, sizeof(where), "the command line");
	else if (name[0])
		snprintf(where, sizeof(where), "the environment variable %s", name);
	else
		snprintf(where, sizeof(where), "the environment");
	if (argv)
		add(&e, RULE_HELD_IN_ARGV, str(hd->exe),
		    "held in the command line of %s%s, readable by any local user with ps", exe,
		    node);
	if (!hd->ever_used && hd->first_held_ms > 0 &&
	    elapsed(hd->first_held_ms, now_ms) >= c->held_unused_ms) {
		risk_duration(d, sizeof(d), elapsed(hd->first_held_ms, now_ms));
		add(&e, RULE_HELD_NEVER_USED, "",
		    "held in %s of %s%s for %s and never used: a candidate for revocation", where,
		    exe, node, d);
	}
	return e.n;
}
