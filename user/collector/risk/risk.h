/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's risk model, as pure logic: rules over what the store
 * knows of a token and of one use of it, a 0..100 score, the helpers that
 * name workloads and destinations, and the JSON configuration. No SQLite,
 * no network, no global state: every function is safe to call from any
 * thread on its own arguments.
 *
 * What a type is (human or machine token, lifetime, privilege, provider
 * hosts) is read from the type table, token_types.c, on the effective type
 * (the password's type for HTTP Basic whose password was recognised, else
 * the type). Token classes (risk_token_class):
 *   human:   e.g. github_pat, github_fine_grained, slack_user, gitlab_pat;
 *            a JWT (jwt, azure_entra) carrying a "scp" claim (delegated: a
 *            person signed in).
 *   machine: e.g. github_app_install, slack_bot, k8s_serviceaccount, vault,
 *            aws_sigv4 of kind "temporary", openai with prefix
 *            "sk-svcacct-", a JWT (jwt, azure_entra) carrying "roles" and no
 *            "scp" (application).
 *   unknown: everything else (google_oauth, databricks, basic with a plain
 *            password, opaque, ...): neither class rule fires for them.
 *
 * Interactive process (risk_interactive): the executable's base name (or,
 * when unknown, the command line's first word) is a shell, an HTTP or
 * socket tool, a database client or a REPL (bash sh dash zsh fish ksh tcsh
 * csh curl wget http https xh httpie nc ncat socat openssl gnutls-cli
 * telnet psql mysql redis-cli irb ipython ipython3 jshell); or an
 * interpreter (python*, node, nodejs, ruby*, perl*, php*) whose command
 * line names no script, module or inline code ("python3", "python3 -u",
 * "python3 -i app.py" are REPLs; "python3 app.py", "python3 -m pip",
 * "node -e ..." are not; an empty command line is not); or any process in
 * a login session's cgroup (".../session-N.scope"): a person started it.
 *
 * Daemon (risk_daemon): not interactive, and its cgroup is a system
 * service ("/system.slice/<unit>.service") or a container or Kubernetes
 * pod (the path contains "kubepods", "docker-", "/docker/", "containerd",
 * "libpod-" or "crio-").
 */
#ifndef TOKENTAP_RISK_H
#define TOKENTAP_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum risk_severity {
	RISK_SEV_INFO = 0,
	RISK_SEV_LOW,
	RISK_SEV_MEDIUM,
	RISK_SEV_HIGH,
	RISK_SEV_CRITICAL
};
#define RISK_SEV__COUNT (RISK_SEV_CRITICAL + 1)

enum risk_rule {
	RULE_NEW_WORKLOAD,      /* a workload not in the baseline, after the learning window */
	RULE_NEW_DESTINATION,   /* new (host, port) after the window */
	RULE_NEW_NODE,          /* new node after the window */
	RULE_PLAINTEXT,         /* sent without TLS to a non-loopback peer */
	RULE_EXPIRED_JWT,       /* a JWT presented after its exp */
	RULE_WRONG_PROVIDER,    /* token type sent to a host that is not its provider's */
	RULE_SHARED,            /* used by more than N workloads or more than M nodes */
	RULE_HUMAN_TOKEN_DAEMON, /* a human token used by a daemon */
	RULE_SERVICE_TOKEN_INTERACTIVE, /* a machine token used from an interactive tool */
	RULE_DORMANT_ACTIVE,    /* no use for the dormant period, then used */
	RULE_NEW_WRITE_METHOD,  /* a write method where only reads were seen (after the window) */
	RULE_QUERY_STRING,      /* credential carried in the URL query */
	RULE_BASIC_PASSWORD,    /* HTTP Basic with a plain password */
	RULE_HELD_IN_ARGV,      /* held in a process's argv: readable by any local user with ps */
	RULE_HELD_NEVER_USED,   /* held for the unused period, never used: revocation candidate */
	RULE__COUNT
};

/* "new_workload", ... the snake_case of the enum; "" for an out-of-range value. */
const char *risk_rule_name(enum risk_rule r);
int risk_rule_parse(const char *name, enum risk_rule *out); /* 0 or -1 */
/* "info" "low" "medium" "high" "critical"; "" for an out-of-range value. */
const char *risk_severity_name(enum risk_severity s);
int risk_severity_parse(const char *name, enum risk_severity *out); /* 0 or -1 */

/* ---- configuration ------------------------------------------------------ */

#define RISK_MAX_WEBHOOKS 8
#define RISK_MAX_HOOKS 16
#define RISK_HOOK_ARGV_MAX 16
/* Bounds of what a configuration may add. */
#define RISK_MAX_PROVIDER_ADDS 512        /* provider_hosts suffixes in all */
#define RISK_CONFIG_MAX_BYTES (1u << 20)  /* a configuration document or file */
#define RISK_MAX_SECONDS 315360000.0      /* 10 years: the longest period accepted */

struct risk_webhook {
	char url[512];
	enum risk_severity min_severity;  /* default medium */
	bool slack;                       /* Slack-compatible body {"text": ...} */
	char token_file[256];             /* optional: Bearer token read from this file */
	unsigned max_attempts;            /* default 5 */
};

struct risk_revoke_hook {
	char name[64];
	char token_type[32];              /* "" = any type; else exact type id (e.g. "aws_sigv4") */
	int rule;                         /* -1 = any rule, else enum risk_rule */
	enum risk_severity min_severity;  /* default high */
	/* command (NULL-terminated, each malloc'd) or argv[0] == NULL */
	char *argv[RISK_HOOK_ARGV_MAX + 1];
	char url[512];                    /* or a webhook URL ("" when a command) */
	unsigned timeout_s;               /* default 30 */
	bool mark_for_sensor;             /* also mark the token for sensor-side revocation */
};

/*
 * A host suffix that belongs to a token type's provider. type is an exact
 * type id, or a family prefix followed by '*' ("github_*"); the defaults
 * are the hosts of the type table (token_types.c).
 */
struct provider_host { char type[32]; char suffix[128]; };

struct risk_config {
	int64_t learning_window_ms;       /* default 24 h */
	int64_t dormant_ms;               /* default 30 days */
	int64_t held_unused_ms;           /* default 7 days */
	unsigned shared_workloads;        /* finding when distinct workloads > this; default 3 */
	unsigned shared_nodes;            /* default 5 */
	unsigned shared_namespaces;       /* Kubernetes namespaces; default 1 */
	double base_likelihood;           /* default 0.05 */
	bool enabled[RULE__COUNT];        /* default all true */
	double weight[RULE__COUNT];       /* 0..1 */
	enum risk_severity severity[RULE__COUNT];
	struct provider_host *providers;  /* defaults + configured additions */
	size_t n_providers;
	struct risk_webhook webhooks[RISK_MAX_WEBHOOKS]; size_t n_webhooks;
	struct risk_revoke_hook hooks[RISK_MAX_HOOKS]; size_t n_hooks;
};

/*
 * The defaults (see risk_config.c for the weight and severity of each
 * rule). Must be freed with risk_config_free, even if an allocation failed
 * (then the provider table is empty and risk_wrong_provider answers -1).
 */
void risk_config_default(struct risk_config *c);
/*
 * Applies a JSON document over c (defaults first). -1 with a one-line
 * reason naming the key on any unknown key, wrong type or out-of-range
 * value; c is then left as it was. "provider_hosts" adds to what c has;
 * "webhooks" and "revocation_hooks" replace c's lists. Keys (all optional):
 *   "learning_window", "dormant_after", "held_unused_after": seconds
 *       (integer or fractional; 0 allowed for the learning window only;
 *       at most RISK_MAX_SECONDS)
 *   "shared_workloads", "shared_nodes", "shared_namespaces": integers 1..1000000
 *   "base_likelihood": number 0..1
 *   "rules": {"<rule name>": {"enabled": bool, "weight": 0..1, "severity": "low"...}}
 *   "provider_hosts": {"<type id>": ["host.suffix", ...]}  adds to the defaults
 *   "webhooks": [{"url": "http(s)://...", "min_severity": "medium",
 *                 "format": "json"|"slack", "token_file": "...", "max_attempts": 1..20}]
 *   "revocation_hooks": [{"name": "...", "token_type": "aws_sigv4", "rule": "wrong_provider",
 *                 "min_severity": "high", "command": ["/abs/prog", "arg", ...] | "url": "...",
 *                 "timeout": seconds 1..3600, "mark_for_sensor": bool}]
 */
int risk_config_parse(struct risk_config *c, const char *json, size_t len, char *err,
		      size_t errlen);
/* risk_config_parse of a regular file of at most RISK_CONFIG_MAX_BYTES. */
int risk_config_load(struct risk_config *c, const char *path, char *err, size_t errlen);
/* Frees what c holds and leaves it empty (no providers, no hooks). */
void risk_config_free(struct risk_config *c);
/* A deep copy of src into dst (dst uninitialised). 0, or -1 on allocation failure (dst empty). */
int risk_config_copy(struct risk_config *dst, const struct risk_config *src);

/* ---- tokens, uses, findings ------------------------------------------- */

/* The token, as the store knows it (all strings non-NULL, "" when unknown). */
struct risk_token {
	const char *type, *prefix, *scheme, *header;
	const char *aws_key_kind;          /* "long-term", "temporary", ... */
	const char *basic_password_type;   /* "opaque" = a plain password */
	/* safe claims JSON (exp, iat, lifetime, scp, roles, k8s_legacy ...) or "" */
	const char *jwt_json;
	bool has_checksum, checksum_valid;
};

enum token_class { TOKEN_CLASS_UNKNOWN = 0, TOKEN_CLASS_HUMAN, TOKEN_CLASS_MACHINE };
enum token_class risk_token_class(const struct risk_token *t);
/*
 * The type the rules reason about: for HTTP Basic whose password was
 * recognised (a ghp_ sent as a git password), the password's type; else
 * the token's type.
 */
const char *risk_effective_type(const struct risk_token *t);

/* What the rules and the score read of a token's safe JWT claims. */
struct risk_jwt {
	bool has_exp, has_lifetime, has_scp, has_roles, k8s_legacy;
	int64_t exp;       /* seconds since the epoch */
	int64_t lifetime;  /* exp - iat, seconds */
};
/* false when jwt_json is empty or not a JSON object (out is then all zero). */
bool risk_jwt_read(const char *jwt_json, struct risk_jwt *out);

/* One use of the token: a new (token, process, destination, method) the store learnt. */
struct risk_use {
	int64_t ts_ms;
	const char *workload;  /* from risk_workload() */
	const char *node, *exe, *comm, *cmdline, *cgroup;
	const char *dst;       /* "ip:port" / "[v6]:port" or "" */
	const char *host;      /* Host header or "" */
	const char *dest;      /* from risk_destination() */
	const char *method, *path;
	bool tls, in_query;
};

/* What the store knew of the token before this use. */
struct risk_history {
	int64_t first_used_ms;       /* first use of the token (window start); 0: this is it */
	int64_t prev_last_used_ms;   /* last use before this one; 0 when none */
	bool workload_known, dest_known, node_known, method_known;
	bool baseline_reads_only;    /* baseline has methods and all are reads (GET HEAD OPTIONS) */
	unsigned workloads, nodes;   /* distinct, including this use */
	unsigned namespaces;         /* distinct Kubernetes namespaces, including this use's */
};

#define RISK_SUBJECT_MAX 256
#define RISK_REASON_MAX 320
struct risk_finding {
	enum risk_rule rule;
	enum risk_severity severity;
	double weight;
	/* dedupe key within (token, rule): the workload, dest, node, method, "" */
	char subject[RISK_SUBJECT_MAX];
	char reason[RISK_REASON_MAX];    /* one sentence for people, no secret */
};

/*
 * Rules that a use triggers, in enum order. Returns the number written
 * (<= cap). Disabled rules never fire. Subjects and reasons are printable
 * ASCII (other bytes become '?'), truncated to fit.
 */
size_t risk_eval_use(const struct risk_config *c, const struct risk_token *t,
		     const struct risk_use *u, const struct risk_history *h,
		     struct risk_finding *out, size_t cap);

/* A token held by a process. */
struct risk_held {
	const char *source;  /* "environ" or "argv" */
	const char *name, *exe, *node;
	int64_t first_held_ms;  /* 0 when unknown: never "held unused" */
	bool ever_used;
};
size_t risk_eval_held(const struct risk_config *c, const struct risk_token *t,
		      const struct risk_held *hd, int64_t now_ms, struct risk_finding *out,
		      size_t cap);

/* "45 days", "3 hours", "1 minute", "20 seconds": the largest whole unit of ms. */
void risk_duration(char *out, size_t cap, int64_t ms);

/* Activity after silence: prev_last_used_ms and the first new use. */
bool risk_dormant_then_active(const struct risk_config *c, int64_t prev_last_used_ms,
			      int64_t first_new_use_ms);

/* ---- score ---------------------------------------------------------------- */

struct risk_score {
	int score;           /* 0..100 */
	double impact;       /* 0..1 */
	double likelihood;   /* 0..1 */
	char impact_why[160];/* e.g. "long-lived, full access" */
};
/*
 * score = round(100 * impact * likelihood), 0..100.
 * likelihood = 1 - (1 - base_likelihood) * prod(1 - weight[r]) over the
 * distinct enabled rules given (duplicates, disabled and out-of-range
 * values ignored). impact = privilege * lifetime * confidence, the
 * classes of the type table (token_types.c):
 *   privilege 1.0 admin (sk-ant-admin01-, sk-admin-, AWS long-term key,
 *             Cloudflare global key in x-auth-key), 0.3 test ("_test_" in
 *             the prefix), 0.6 restricted (prefix rk_), else 0.8;
 *   lifetime  1.0 long-lived (static API keys and passwords, JWT without
 *             exp, legacy Kubernetes tokens, JWT lifetime > 1 day), 0.6
 *             short-lived (AWS temporary, ghs_, ya29., bedrock-api-key-,
 *             JWT lifetime <= 1 h), else 0.85;
 *   confidence 0.5 when the token has a checksum that does not verify.
 * rules: the distinct rules of the token's open findings. Deterministic
 * (the order of rules does not matter); now_ms is accepted for time-aware
 * factors and does not change the result today.
 */
void risk_score_token(const struct risk_config *c, const struct risk_token *t,
		      const enum risk_rule *rules, size_t n, int64_t now_ms,
		      struct risk_score *out);

/* ---- subject helpers ------------------------------------------------------ */

/*
 * The workload key: the executable path; "container:" + path for a process
 * in a container (container_id non-empty). The container id itself is left
 * out so a restarted or rescheduled container is the same workload; "" when
 * the executable is unknown.
 */
/* What names a process's workload; any field may be NULL or "". */
struct risk_proc {
	const char *exe;
	const char *container_id;
	const char *k8s_namespace;
	const char *workload_kind, *workload_name; /* the pod's owner (Deployment, ...) */
	const char *container;                     /* the container's name in the pod */
};

/*
 * The workload a use belongs to: "k8s:<namespace>/<kind>/<name>:<container>"
 * when the pod watcher named the pod's owner (":<container>" left out when
 * unknown), else "k8s:<namespace>:<path>" in a pod whose namespace is
 * known, "container:<path>" in a container, the executable path otherwise.
 * Pod names, pod UIDs and container ids are left out: a restarted or
 * rescheduled pod is the same workload.
 */
void risk_workload(const struct risk_proc *p, char *out, size_t cap);
/*
 * The destination key: the Host header, lowercase (with the port the
 * client sent, which it does only for a non-default port), else dst
 * ("ip:port"); "" when both are unknown.
 */
void risk_destination(const char *host, const char *dst, char *out, size_t cap);
/* 127.0.0.0/8, ::1, ::ffff:127.x.x.x or "localhost", with or without [ ] and :port. */
bool risk_loopback(const char *dst);
bool risk_interactive(const char *exe, const char *cmdline, const char *cgroup);
bool risk_daemon(const char *exe, const char *cmdline, const char *cgroup);
/*
 * 1: host is not a provider host of type; 0: it is; -1: type has no
 * provider table or host is unknown. host is compared lowercase, without
 * :port and a trailing dot; it matches a suffix when equal to it or ending
 * in "." + suffix. An IP literal is never a provider host.
 */
int risk_wrong_provider(const struct risk_config *c, const char *type, const char *host);
/* A valid provider type id: [a-z0-9_]{1,31}. */
bool risk_type_id_valid(const char *s);
/* Copies src into dst (cap bytes with the NUL), bytes outside printable ASCII as '?'. */
void risk_text(char *dst, size_t cap, const char *src);

#endif
