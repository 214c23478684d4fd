/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Risk model: each rule's trigger and a near miss, token classes,
 * interactive tools and daemons, provider host matching, the score's
 * determinism and monotonicity, and the JSON configuration (defaults,
 * success, every class of error, files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "risk.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define T0 1700000000000LL /* 2023-11-14 */

static struct risk_config cfg;

static int setup(void **state)
{
	(void)state;
	risk_config_default(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	risk_config_free(&cfg);
	return 0;
}

static struct risk_token token(const char *type, const char *prefix)
{
	return (struct risk_token){
		.type = type,
		.prefix = prefix,
		.scheme = "Bearer",
		.header = "authorization",
		.aws_key_kind = "",
		.basic_password_type = "",
		.jwt_json = "",
		.has_checksum = false,
		.checksum_valid = false,
	};
}

/* A TLS use by a host process, long after the window, everything known. */
static struct risk_use use(void)
{
	return (struct risk_use){
		.ts_ms = T0 + 10 * DAY_MS,
		.workload = "/usr/bin/app",
		.node = "n1",
		.exe = "/usr/bin/app",
		.comm = "app",
		.cmdline = "/usr/bin/app --serve",
		.cgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/app.service",
		.dst = "140.82.112.5:443",
		.host = "api.github.com",
		.dest = "api.github.com",
		.method = "GET",
		.path = "/user",
		.tls = true,
		.in_query = false,
	};
}

static struct risk_history history(void)
{
	return (struct risk_history){
		.first_used_ms = T0,
		.prev_last_used_ms = T0 + 10 * DAY_MS - HOUR_MS,
		.workload_known = true,
		.dest_known = true,
		.node_known = true,
		.method_known = true,
		.baseline_reads_only = true,
		.workloads = 1,
		.nodes = 1,
	};
}

static size_t eval(const struct risk_token *t, const struct risk_use *u,
		   const struct risk_history *h, struct risk_finding *f)
{
	return risk_eval_use(&cfg, t, u, h, f, RULE__COUNT);
}

static const struct risk_finding *find(const struct risk_finding *f, size_t n, enum risk_rule r)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].rule == r)
			return &f[i];
	return NULL;
}

static bool fires(const struct risk_token *t, const struct risk_use *u,
		  const struct risk_history *h, enum risk_rule r)
{
	struct risk_finding f[RULE__COUNT];

	return find(f, eval(t, u, h, f), r) != NULL;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* ---- names ----------------------------------------------------------------- */

static void test_names(void **state)
{
	enum risk_rule r;
	enum risk_severity s;

	(void)state;
	for (int i = 0; i < RULE__COUNT; i++) {
		assert_true(risk_rule_name((enum risk_rule)i)[0] != '\0');
		assert_int_equal(risk_rule_parse(risk_rule_name((enum risk_rule)i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(risk_rule_name(RULE_NEW_WORKLOAD), "new_workload");
	assert_string_equal(risk_rule_name(RULE_SERVICE_TOKEN_INTERACTIVE),
			    "service_token_interactive");
	assert_string_equal(risk_rule_name(RULE_HELD_NEVER_USED), "held_never_used");
	assert_string_equal(risk_rule_name(RULE__COUNT), "");
	assert_int_equal(risk_rule_parse("New_Workload", &r), -1);
	assert_int_equal(risk_rule_parse("", &r), -1);
	assert_int_equal(risk_rule_parse(NULL, &r), -1);
	for (int i = RISK_SEV_INFO; i <= RISK_SEV_CRITICAL; i++) {
		assert_int_equal(risk_severity_parse(risk_severity_name((enum risk_severity)i), &s),
				 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(risk_severity_name(RISK_SEV_HIGH), "high");
	assert_int_equal(risk_severity_parse("severe", &s), -1);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg.learning_window_ms, DAY_MS);
	assert_int_equal(cfg.dormant_ms, 30 * DAY_MS);
	assert_int_equal(cfg.held_unused_ms, 7 * DAY_MS);
	assert_int_equal(cfg.shared_workloads, 3);
	assert_int_equal(cfg.shared_nodes, 5);
	assert_int_equal(cfg.shared_namespaces, 1);
	assert_true(cfg.base_likelihood == 0.05);
	for (int r = 0; r < RULE__COUNT; r++) {
		assert_true(cfg.enabled[r]);
		assert_true(cfg.weight[r] > 0 && cfg.weight[r] <= 1);
	}
	assert_true(cfg.weight[RULE_WRONG_PROVIDER] == 0.8);
	assert_int_equal(cfg.severity[RULE_WRONG_PROVIDER], RISK_SEV_HIGH);
	assert_true(cfg.weight[RULE_HELD_NEVER_USED] == 0.25);
	assert_int_equal(cfg.severity[RULE_NEW_WRITE_METHOD], RISK_SEV_LOW);
	assert_int_equal(cfg.severity[RULE_SERVICE_TOKEN_INTERACTIVE], RISK_SEV_HIGH);
	assert_true(cfg.n_providers > 30);
	assert_int_equal(cfg.n_webhooks, 0);
	assert_int_equal(cfg.n_hooks, 0);
}

/* ---- rules over a use -------------------------------------------------------- */

static void test_nothing_for_a_known_use(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];

	(void)state;
	assert_int_equal(eval(&t, &u, &h, f), 0);
}

static void test_learning_window(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;
	size_t n;

	(void)state;
	h.workload_known = h.dest_known = h.node_known = false;
	u.workload = "/usr/bin/python3.11";
	u.dest = "api.github.com:8443";
	u.node = "n2";
	n = eval(&t, &u, &h, f);
	x = find(f, n, RULE_NEW_WORKLOAD);
	assert_non_null(x);
	assert_string_equal(x->subject, "/usr/bin/python3.11");
	assert_string_equal(
		x->reason,
		"used by a new workload /usr/bin/python3.11 on node n2 after the learning window");
	assert_int_equal(x->severity, RISK_SEV_MEDIUM);
	assert_true(x->weight == 0.5);
	x = find(f, n, RULE_NEW_DESTINATION);
	assert_non_null(x);
	assert_string_equal(x->subject, "api.github.com:8443");
	x = find(f, n, RULE_NEW_NODE);
	assert_non_null(x);
	assert_string_equal(x->subject, "n2");

	/* inside the window: still learning */
	u.ts_ms = T0 + DAY_MS - 1;
	assert_false(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	assert_false(fires(&t, &u, &h, RULE_NEW_DESTINATION));
	assert_false(fires(&t, &u, &h, RULE_NEW_NODE));
	u.ts_ms = T0 + DAY_MS;
	assert_true(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	/* the first use of a token is the baseline */
	h.first_used_ms = 0;
	assert_false(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	/* a configured shorter window */
	h.first_used_ms = T0;
	u.ts_ms = T0 + 600;
	assert_false(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	assert_int_equal(risk_config_parse(&cfg, "{\"learning_window\": 0.5}", 24, NULL, 0), 0);
	assert_int_equal(cfg.learning_window_ms, 500);
	assert_true(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	/* an unknown workload is no subject */
	u.workload = "";
	assert_false(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	/* a disabled rule never fires */
	u.workload = "/usr/bin/x";
	cfg.enabled[RULE_NEW_WORKLOAD] = false;
	assert_false(fires(&t, &u, &h, RULE_NEW_WORKLOAD));
	assert_true(fires(&t, &u, &h, RULE_NEW_NODE));
}

static void test_plaintext(void **state)
{
	static const char *const loopbacks[] = {
		"127.0.0.1:80", "127.3.2.1:8080", "[::1]:80", "::1",
		"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.9", "127.0.0.1", "localhost:80",
	};
	struct risk_token t = token("opaque", "");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	u.tls = false;
	u.dst = "10.0.0.5:80";
	u.host = "";
	u.dest = "10.0.0.5:80";
	x = find(f, eval(&t, &u, &h, f), RULE_PLAINTEXT);
	assert_non_null(x);
	assert_string_equal(x->reason, "sent in plaintext to 10.0.0.5:80");
	assert_string_equal(x->subject, "10.0.0.5:80");
	assert_int_equal(x->severity, RISK_SEV_HIGH);
	u.host = "internal.example";
	u.dest = "internal.example";
	x = find(f, eval(&t, &u, &h, f), RULE_PLAINTEXT);
	assert_non_null(x);
	assert_string_equal(x->reason, "sent in plaintext to internal.example (10.0.0.5:80)");
	assert_string_equal(x->subject, "internal.example");
	for (size_t i = 0; i < sizeof(loopbacks) / sizeof(loopbacks[0]); i++) {
		u.dst = loopbacks[i];
		assert_false(fires(&t, &u, &h, RULE_PLAINTEXT));
	}
	u.dst = "";
	assert_false(fires(&t, &u, &h, RULE_PLAINTEXT));
	u.dst = "[2001:db8::1]:80";
	assert_true(fires(&t, &u, &h, RULE_PLAINTEXT));
	u.tls = true;
	assert_false(fires(&t, &u, &h, RULE_PLAINTEXT));
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(risk_loopback("127.0.0.1:443"));
	assert_true(risk_loopback("[::1]:443"));
	assert_true(risk_loopback("[::ffff:127.1.2.3]:1"));
	assert_false(risk_loopback("128.0.0.1:80"));
	assert_false(risk_loopback("[::2]:80"));
	assert_false(risk_loopback("[::ffff:10.0.0.1]:80"));
	assert_false(risk_loopback("[::1"));
	assert_false(risk_loopback(""));
	assert_false(risk_loopback(NULL));
	assert_false(risk_loopback("127.0.0.1.evil.example:80"));
}

static void test_expired_jwt(void **state)
{
	struct risk_token t = token("jwt", "");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;
	char claims[128];

	(void)state;
	u.host = ""; /* no provider table for jwt anyway */
	snprintf(claims, sizeof(claims), "{\"exp\":%lld,\"iat\":%lld}",
		 (long long)(u.ts_ms / 1000 - 7200), (long long)(u.ts_ms / 1000 - 10800));
	t.jwt_json = claims;
	x = find(f, eval(&t, &u, &h, f), RULE_EXPIRED_JWT);
	assert_non_null(x);
	assert_string_equal(x->subject, "");
	assert_string_equal(x->reason, "a JWT presented 2 hours after it expired");
	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", (long long)(u.ts_ms / 1000));
	assert_false(fires(&t, &u, &h, RULE_EXPIRED_JWT));
	snprintf(claims, sizeof(claims), "{\"exp\":\"soon\"}");
	assert_false(fires(&t, &u, &h, RULE_EXPIRED_JWT));
	t.jwt_json = "";
	assert_false(fires(&t, &u, &h, RULE_EXPIRED_JWT));
	t.jwt_json = "{not json";
	assert_false(fires(&t, &u, &h, RULE_EXPIRED_JWT));
}

static void test_wrong_provider(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;
	const char *doc = "{\"provider_hosts\": {\"github_pat\": [\"GHE.corp.example\"]}}";

	(void)state;
	assert_false(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	u.host = "localhost";
	x = find(f, eval(&t, &u, &h, f), RULE_WRONG_PROVIDER);
	assert_non_null(x);
	assert_string_equal(x->subject, "localhost");
	assert_string_equal(x->reason,
			    "a github_pat token sent to localhost, not a github_pat provider host");
	u.host = "example.com";
	x = find(f, eval(&t, &u, &h, f), RULE_WRONG_PROVIDER);
	assert_non_null(x);
	assert_string_equal(
		x->reason,
		"a github_pat token sent to example.com, not a github_pat provider host");
	/* no Host header: nothing to judge */
	u.host = "";
	assert_false(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	/* a configured internal host */
	u.host = "git.ghe.corp.example";
	assert_true(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	assert_int_equal(risk_config_parse(&cfg, doc, strlen(doc), NULL, 0), 0);
	assert_false(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	/* the addition is for github_pat only */
	t = token("github_oauth", "gho_");
	assert_true(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	/* a ghp_ sent as a git Basic password is judged as a github_pat */
	t = token("basic", "ghp_");
	t.basic_password_type = "github_pat";
	u.host = "evil.example";
	assert_true(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	u.host = "github.com";
	assert_false(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
	/* types without a table never fire */
	t = token("opaque", "");
	u.host = "evil.example";
	assert_false(fires(&t, &u, &h, RULE_WRONG_PROVIDER));
}

static void test_provider_matching(void **state)
{
	(void)state;
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "api.github.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "github.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "API.GitHub.COM:443"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "github.com."), 0);
	assert_int_equal(
		risk_wrong_provider(&cfg, "github_fine_grained", "raw.githubusercontent.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_app_install", "ghcr.io"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "evilgithub.com"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "github.com.evil.example"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "github.co"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "140.82.112.5:443"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "[2606:50c0::1]:443"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", "2606:50c0::1"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", ""), -1);
	assert_int_equal(risk_wrong_provider(&cfg, "github_pat", ":443"), -1);
	assert_int_equal(risk_wrong_provider(&cfg, "aws_sigv4", "s3.eu-west-1.amazonaws.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "aws_sigv4", "s3.cn-north-1.amazonaws.com.cn"),
			 0);
	assert_int_equal(risk_wrong_provider(&cfg, "slack_bot", "slack.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "slack_bot", "hooks.slack.com.evil.example"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "huggingface", "hf.co"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "datadog", "http-intake.logs.datadoghq.eu"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "jwt", "evil.example"), -1);
	assert_int_equal(risk_wrong_provider(&cfg, "k8s_serviceaccount", "evil.example"), -1);
	assert_int_equal(risk_wrong_provider(&cfg, "azure_entra", "evil.example"), -1);
	assert_int_equal(risk_wrong_provider(&cfg, "", "evil.example"), -1);
	/* "github_*" is a pattern of the table, not a type */
	assert_int_equal(risk_wrong_provider(&cfg, "githubx", "evil.example"), -1);
}

static void test_shared(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	h.workloads = 3;
	h.nodes = 5;
	h.namespaces = 1;
	assert_false(fires(&t, &u, &h, RULE_SHARED));
	h.workloads = 4;
	x = find(f, eval(&t, &u, &h, f), RULE_SHARED);
	assert_non_null(x);
	assert_string_equal(x->subject, "");
	assert_string_equal(x->reason, "used by 4 workloads on 5 nodes in 1 namespaces (more than 3"
				       " workloads, 5 nodes or 1 namespaces)");
	h.workloads = 1;
	h.nodes = 6;
	assert_true(fires(&t, &u, &h, RULE_SHARED));
	/* a second Kubernetes namespace is sharing already */
	h.nodes = 1;
	assert_false(fires(&t, &u, &h, RULE_SHARED));
	h.namespaces = 2;
	assert_true(fires(&t, &u, &h, RULE_SHARED));
}

static void test_token_class(void **state)
{
	static const char *const human[] = {
		"github_pat", "github_fine_grained", "github_oauth", "github_user_app",
		"slack_user", "gitlab_pat", "atlassian",
	};
	static const char *const machine[] = {
		"github_app_install", "slack_bot", "slack_app",
		"k8s_serviceaccount", "azure_sas", "vault",
	};
	static const char *const unknown[] = {
		"opaque", "google_oauth", "databricks", "jwt", "stripe",
	};
	struct risk_token t;

	(void)state;
	for (size_t i = 0; i < sizeof(human) / sizeof(human[0]); i++) {
		t = token(human[i], "");
		assert_int_equal(risk_token_class(&t), TOKEN_CLASS_HUMAN);
	}
	for (size_t i = 0; i < sizeof(machine) / sizeof(machine[0]); i++) {
		t = token(machine[i], "");
		assert_int_equal(risk_token_class(&t), TOKEN_CLASS_MACHINE);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		t = token(unknown[i], "");
		assert_int_equal(risk_token_class(&t), TOKEN_CLASS_UNKNOWN);
	}
	t = token("aws_sigv4", "");
	t.aws_key_kind = "temporary";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_MACHINE);
	t.aws_key_kind = "long-term";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_UNKNOWN);
	t = token("jwt", "");
	t.jwt_json = "{\"scp\":[\"User.Read\"],\"roles\":[\"x\"]}";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_HUMAN);
	t = token("azure_entra", "");
	t.jwt_json = "{\"scp\":\"User.Read Mail.Read\"}";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_HUMAN);
	t.jwt_json = "{\"roles\":[\"Reader\"]}";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_MACHINE);
	t.jwt_json = "{\"roles\":[]}";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_UNKNOWN);
	t = token("basic", "ghp_");
	t.basic_password_type = "github_pat";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_HUMAN);
	t.basic_password_type = "opaque";
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_UNKNOWN);
	t = token("openai", "sk-svcacct-");
	assert_int_equal(risk_token_class(&t), TOKEN_CLASS_MACHINE);
}

static void test_interactive_daemon(void **state)
{
	static const char *const svc = "/system.slice/nginx.service";
	static const char *const pod = "/kubepods.slice/kubepods-burstable.slice/"
				       "kubepods-burstable-pod1234.slice/cri-containerd-abc.scope";
	static const char *const login = "/user.slice/user-1000.slice/session-4.scope";

	(void)state;
	assert_true(risk_interactive("/usr/bin/curl", "curl https://x", ""));
	assert_true(risk_interactive("/bin/bash", "", ""));
	assert_true(risk_interactive("/usr/bin/gnutls-cli", "", svc));
	assert_true(risk_interactive("/usr/bin/python3.11", "python3", ""));
	assert_true(risk_interactive("/usr/bin/python3.11", "python3 -u", ""));
	assert_true(risk_interactive("/usr/bin/python3.11", "python3 -i app.py", ""));
	assert_true(risk_interactive("", "ipython3", ""));
	assert_true(risk_interactive("/usr/local/bin/node", "node", ""));
	assert_false(risk_interactive("/usr/bin/python3.11", "python3 app.py", ""));
	assert_false(risk_interactive("/usr/bin/python3.11", "python3 -m pip install x", ""));
	assert_false(risk_interactive("/usr/bin/python3.11", "python3 -c import requests", ""));
	assert_false(risk_interactive("/usr/bin/python3.11", "", ""));
	assert_false(risk_interactive("/usr/local/bin/node", "node server.js", pod));
	assert_false(risk_interactive("/usr/sbin/php-fpm8.2", "php-fpm: pool www", ""));
	assert_false(risk_interactive("/usr/bin/app", "/usr/bin/app", svc));
	assert_false(risk_interactive("/usr/bin/bashful", "", ""));
	/* whatever runs in a login session was started by a person */
	assert_true(risk_interactive("/usr/bin/app", "/usr/bin/app", login));
	assert_false(risk_interactive("/usr/bin/app", "",
				      "/user.slice/user-1000.slice/session-4.scopes"));

	assert_true(risk_daemon("/usr/sbin/nginx", "nginx: worker", svc));
	assert_true(risk_daemon("/app/server", "/app/server", pod));
	assert_true(risk_daemon("/app/server", "", "/system.slice/docker-0123abcd.scope"));
	assert_true(risk_daemon("/app/server", "", "/docker/0123abcd"));
	assert_true(
		risk_daemon("/app/server", "", "/machine.slice/libpod-0123abcd.scope/container"));
	assert_true(
		risk_daemon("/app/server", "", "/kubepods/besteffort/pod1/crio-0123abcd.scope"));
	assert_false(risk_daemon("/bin/bash", "bash", pod)); /* kubectl exec: a person */
	assert_false(risk_daemon("/usr/bin/app", "", login));
	assert_false(
		risk_daemon("/usr/bin/app", "",
			    "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"));
	assert_false(risk_daemon("/usr/bin/app", "", "/system.slice/cron.timer"));
	assert_false(risk_daemon("/usr/bin/app", "", ""));
}

static void test_class_rules(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	u.cgroup = "/system.slice/deploy.service";
	x = find(f, eval(&t, &u, &h, f), RULE_HUMAN_TOKEN_DAEMON);
	assert_non_null(x);
	assert_string_equal(x->subject, "/usr/bin/app");
	assert_string_equal(x->reason,
			    "a person's github_pat token used by the daemon /usr/bin/app");
	assert_false(fires(&t, &u, &h, RULE_SERVICE_TOKEN_INTERACTIVE));
	/* a person's token from a person's shell: nothing */
	u.exe = "/usr/bin/curl";
	u.workload = "/usr/bin/curl";
	u.cgroup = "/user.slice/user-1000.slice/session-2.scope";
	assert_false(fires(&t, &u, &h, RULE_HUMAN_TOKEN_DAEMON));
	assert_false(fires(&t, &u, &h, RULE_SERVICE_TOKEN_INTERACTIVE));
	/* a service account token from curl in the pod */
	t = token("k8s_serviceaccount", "");
	u.workload = "container:/usr/bin/curl";
	u.cgroup = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope";
	u.host = "kubernetes.default.svc";
	x = find(f, eval(&t, &u, &h, f), RULE_SERVICE_TOKEN_INTERACTIVE);
	assert_non_null(x);
	assert_string_equal(x->subject, "container:/usr/bin/curl");
	assert_int_equal(x->severity, RISK_SEV_HIGH);
	assert_false(fires(&t, &u, &h, RULE_HUMAN_TOKEN_DAEMON));
	/* the same token from the workload itself */
	u.exe = "/app/controller";
	u.workload = "container:/app/controller";
	u.cmdline = "/app/controller --leader-elect";
	assert_int_equal(eval(&t, &u, &h, f), 0);
	/* tokens of no class fire neither */
	t = token("opaque", "");
	u.exe = "/usr/bin/curl";
	assert_false(fires(&t, &u, &h, RULE_SERVICE_TOKEN_INTERACTIVE));
}

static void test_dormant(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	assert_false(risk_dormant_then_active(&cfg, 0, T0));
	assert_false(risk_dormant_then_active(&cfg, T0, T0 + 30 * DAY_MS - 1));
	assert_true(risk_dormant_then_active(&cfg, T0, T0 + 30 * DAY_MS));
	assert_false(risk_dormant_then_active(&cfg, T0, T0 - 40 * DAY_MS));
	assert_false(risk_dormant_then_active(&cfg, INT64_MAX, INT64_MIN));
	assert_true(risk_dormant_then_active(&cfg, 1, INT64_MAX));
	assert_false(risk_dormant_then_active(NULL, T0, T0 + 90 * DAY_MS));
	h.prev_last_used_ms = u.ts_ms - 45 * DAY_MS;
	x = find(f, eval(&t, &u, &h, f), RULE_DORMANT_ACTIVE);
	assert_non_null(x);
	assert_string_equal(x->reason, "used again after 45 days without use");
	h.prev_last_used_ms = 0;
	assert_false(fires(&t, &u, &h, RULE_DORMANT_ACTIVE));
	h.prev_last_used_ms = u.ts_ms - 29 * DAY_MS;
	assert_false(fires(&t, &u, &h, RULE_DORMANT_ACTIVE));
}

static void test_new_write_method(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	u.method = "DELETE";
	h.method_known = false;
	x = find(f, eval(&t, &u, &h, f), RULE_NEW_WRITE_METHOD);
	assert_non_null(x);
	assert_string_equal(x->subject, "DELETE");
	assert_string_equal(x->reason,
			    "a DELETE request to api.github.com where only reads were seen");
	assert_int_equal(x->severity, RISK_SEV_LOW);
	u.method = "OPTIONS";
	assert_false(fires(&t, &u, &h, RULE_NEW_WRITE_METHOD));
	u.method = "POST";
	h.baseline_reads_only = false;
	assert_false(fires(&t, &u, &h, RULE_NEW_WRITE_METHOD));
	h.baseline_reads_only = true;
	h.method_known = true;
	assert_false(fires(&t, &u, &h, RULE_NEW_WRITE_METHOD));
	h.method_known = false;
	u.ts_ms = T0 + HOUR_MS;
	assert_false(fires(&t, &u, &h, RULE_NEW_WRITE_METHOD));
	h.first_used_ms = 0;
	u.ts_ms = T0 + 10 * DAY_MS;
	assert_false(fires(&t, &u, &h, RULE_NEW_WRITE_METHOD));
}

static void test_query_and_basic(void **state)
{
	struct risk_token t = token("google_api_key", "AIza");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;

	(void)state;
	t.header = "key";
	u.host = "maps.googleapis.com";
	u.dest = "maps.googleapis.com";
	assert_false(fires(&t, &u, &h, RULE_QUERY_STRING));
	u.in_query = true;
	x = find(f, eval(&t, &u, &h, f), RULE_QUERY_STRING);
	assert_non_null(x);
	assert_string_equal(x->subject, "key");
	assert_non_null(strstr(x->reason, "URL query parameter key to maps.googleapis.com"));

	t = token("basic", "");
	t.scheme = "Basic";
	t.basic_password_type = "opaque";
	u.in_query = false;
	x = find(f, eval(&t, &u, &h, f), RULE_BASIC_PASSWORD);
	assert_non_null(x);
	assert_string_equal(x->subject, "");
	assert_string_equal(x->reason,
			    "HTTP Basic with a plain password sent to maps.googleapis.com");
	t.basic_password_type = "github_pat";
	assert_false(fires(&t, &u, &h, RULE_BASIC_PASSWORD));
	t = token("opaque", "");
	t.basic_password_type = "opaque";
	assert_false(fires(&t, &u, &h, RULE_BASIC_PASSWORD));
}

static void test_held(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	struct risk_held hd = {
		.source = "argv",
		.name = "",
		.exe = "/usr/bin/deploy",
		.node = "n1",
		.first_held_ms = T0,
		.ever_used = true,
	};
	struct risk_finding f[RULE__COUNT];
	const struct risk_finding *x;
	size_t n;

	(void)state;
	n = risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, RULE__COUNT);
	assert_int_equal(n, 1);
	x = find(f, n, RULE_HELD_IN_ARGV);
	assert_non_null(x);
	assert_string_equal(x->subject, "/usr/bin/deploy");
	assert_string_equal(x->reason, "held in the command line of /usr/bin/deploy on node n1, "
				       "readable by any local user with ps");
	hd.source = "environ";
	hd.name = "GITHUB_TOKEN";
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, RULE__COUNT), 0);
	hd.ever_used = false;
	n = risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, RULE__COUNT);
	x = find(f, n, RULE_HELD_NEVER_USED);
	assert_non_null(x);
	assert_string_equal(x->subject, "");
	assert_string_equal(x->reason, "held in the environment variable GITHUB_TOKEN of "
				       "/usr/bin/deploy on node n1 for 8 days "
				       "and never used: a candidate for revocation");
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 7 * DAY_MS - 1, f, RULE__COUNT), 0);
	hd.first_held_ms = 0;
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, RULE__COUNT), 0);
	/* both, in rule order; a cap of one keeps the first */
	hd.first_held_ms = T0;
	hd.source = "argv";
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, RULE__COUNT), 2);
	assert_int_equal(f[0].rule, RULE_HELD_IN_ARGV);
	assert_int_equal(f[1].rule, RULE_HELD_NEVER_USED);
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, 1), 1);
	assert_int_equal(f[0].rule, RULE_HELD_IN_ARGV);
	cfg.enabled[RULE_HELD_IN_ARGV] = false;
	assert_int_equal(risk_eval_held(&cfg, &t, &hd, T0 + 8 * DAY_MS, f, 1), 1);
	assert_int_equal(f[0].rule, RULE_HELD_NEVER_USED);
}

/* Many findings at once: the cap holds, every string is printable, nothing overflows. */
static void test_cap_and_hostile_text(void **state)
{
	struct risk_token t = token("basic", "");
	struct risk_use u = use();
	struct risk_history h = history();
	struct risk_finding f[RULE__COUNT + 1];
	char longname[2000];
	size_t n, all;

	(void)state;
	memset(longname, 'w', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[3] = '\n';
	longname[4] = (char)0xff;
	t.basic_password_type = "opaque";
	t.header = "tok\x01";
	u.workload = longname;
	u.node = longname;
	u.dest = longname;
	u.host = longname;
	u.dst = "10.1.1.1:80";
	u.method = "PUT";
	u.tls = false;
	u.in_query = true;
	u.exe = "/usr/bin/curl";
	u.cgroup = "/system.slice/x.service";
	h = (struct risk_history){ .first_used_ms = T0,
				   .prev_last_used_ms = T0,
				   .baseline_reads_only = true,
				   .workloads = 9,
				   .nodes = 9 };
	all = risk_eval_use(&cfg, &t, &u, &h, f, RULE__COUNT + 1);
	assert_true(all >= 7);
	for (size_t i = 0; i < all; i++) {
		assert_true(printable(f[i].subject));
		assert_true(printable(f[i].reason));
		assert_true(strlen(f[i].reason) < RISK_REASON_MAX);
		assert_true(strlen(f[i].subject) < RISK_SUBJECT_MAX);
		if (i)
			assert_true(f[i].rule > f[i - 1].rule);
	}
	assert_string_equal(find(f, all, RULE_QUERY_STRING)->subject, "tok?");
	memset(f, 0x5a, sizeof(f));
	n = risk_eval_use(&cfg, &t, &u, &h, f, 2);
	assert_int_equal(n, 2);
	assert_int_equal((unsigned char)((char *)&f[2])[0], 0x5a);
	assert_int_equal(risk_eval_use(&cfg, &t, &u, &h, f, 0), 0);
	assert_int_equal(risk_eval_use(NULL, &t, &u, &h, f, 4), 0);
}

/* ---- score --------------------------------------------------------------------- */

static void test_score_values(void **state)
{
	struct risk_token t = token("github_pat", "ghp_");
	enum risk_rule r[] = { RULE_WRONG_PROVIDER };
	struct risk_score s;

	(void)state;
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_true(s.likelihood > 0.0499 && s.likelihood < 0.0501);
	assert_true(s.impact > 0.7999 && s.impact < 0.8001);
	assert_int_equal(s.score, 4);
	assert_string_equal(s.impact_why, "long-lived, full access");
	/* 1 - 0.95 * 0.2 = 0.81; 0.8 * 0.81 = 0.648 */
	risk_score_token(&cfg, &t, r, 1, T0, &s);
	assert_int_equal(s.score, 65);

	t = token("anthropic", "sk-ant-admin01-");
	risk_score_token(&cfg, &t, r, 1, T0, &s);
	assert_int_equal(s.score, 81);
	assert_string_equal(s.impact_why, "long-lived, admin");
	t = token("aws_sigv4", "");
	t.aws_key_kind = "long-term";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, admin");
	t.aws_key_kind = "temporary";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "short-lived, full access");
	t = token("cloudflare", "");
	t.header = "x-auth-key";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, admin");
	t = token("stripe", "rk_live_");
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, restricted");
	t = token("k8s_serviceaccount", "");
	t.jwt_json = "{\"k8s_legacy\":true}";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, full access");
	t.jwt_json =
		"{\"exp\":1700003600,\"iat\":1700000000,\"lifetime\":3600,\"k8s_legacy\":false}";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "short-lived, full access");
	t.jwt_json = "{\"exp\":1700007200,\"lifetime\":7200}";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "lifetime unknown, full access");
	t = token("jwt", "");
	t.jwt_json = "{\"iss\":\"x\"}";
	risk_score_token(&cfg, &t, NULL, 0, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, full access");
	t = token("github_pat", "ghp_");
	t.has_checksum = true;
	risk_score_token(&cfg, &t, r, 1, T0, &s);
	assert_string_equal(s.impact_why, "long-lived, full access, checksum does not verify");
	assert_int_equal(s.score, 32);
	t.checksum_valid = true;
	risk_score_token(&cfg, &t, r, 1, T0, &s);
	assert_int_equal(s.score, 65);
	/* every weight at 1: certain misuse, the score is the impact */
	for (int i = 0; i < RULE__COUNT; i++)
		cfg.weight[i] = 1;
	t = token("anthropic", "sk-ant-admin01-");
	risk_score_token(&cfg, &t, r, 1, T0, &s);
	assert_int_equal(s.score, 100);
	/* disabled rules and values out of range count for nothing */
	cfg.enabled[RULE_WRONG_PROVIDER] = false;
	{
		enum risk_rule odd[] = { RULE_WRONG_PROVIDER, (enum risk_rule)99,
					 (enum risk_rule) - 1 };

		risk_score_token(&cfg, &t, odd, 3, T0, &s);
		assert_int_equal(s.score, 5);
	}
}

static void test_score_deterministic_monotonic(void **state)
{
	static const char *const prefixes[][2] = {
		{ "github_pat", "ghp_" }, { "stripe", "sk_live_" }, { "stripe", "sk_test_" },
		{ "openai", "sk-admin-" }, { "opaque", "" }, { "google_oauth", "ya29." },
	};
	enum risk_rule all[RULE__COUNT], rev[RULE__COUNT], dup[2 * RULE__COUNT];
	struct risk_score a, b, prev;

	(void)state;
	for (int i = 0; i < RULE__COUNT; i++) {
		all[i] = (enum risk_rule)i;
		rev[i] = (enum risk_rule)(RULE__COUNT - 1 - i);
		dup[2 * i] = dup[2 * i + 1] = (enum risk_rule)i;
	}
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		struct risk_token t = token(prefixes[p][0], prefixes[p][1]);

		risk_score_token(&cfg, &t, NULL, 0, T0, &prev);
		for (size_t n = 1; n <= RULE__COUNT; n++) {
			risk_score_token(&cfg, &t, all, n, T0, &a);
			assert_true(a.score >= prev.score);
			assert_true(a.likelihood >= prev.likelihood);
			assert_true(a.score >= 0 && a.score <= 100);
			prev = a;
		}
		risk_score_token(&cfg, &t, all, RULE__COUNT, T0, &a);
		risk_score_token(&cfg, &t, rev, RULE__COUNT, T0 + DAY_MS, &b);
		assert_memory_equal(&a, &b, sizeof(a));
		risk_score_token(&cfg, &t, dup, 2 * RULE__COUNT, T0, &b);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* a test-mode key scores lower than a live one with the same findings */
	{
		struct risk_token live = token("stripe", "sk_live_"),
				  test = token("stripe", "sk_test_");
		enum risk_rule r[] = { RULE_PLAINTEXT, RULE_SHARED };

		risk_score_token(&cfg, &live, r, 2, T0, &a);
		risk_score_token(&cfg, &test, r, 2, T0, &b);
		assert_true(b.score < a.score);
		assert_string_equal(b.impact_why, "long-lived, test mode");
	}
}

/* ---- configuration -------------------------------------------------------------- */

static void test_config_success(void **state)
{
	const char *doc =
		"{\n"
		"  \"learning_window\": 2, \"dormant_after\": 86400.5, \"held_unused_after\": "
		"3600,\n"
		"  \"shared_workloads\": 10, \"shared_nodes\": 1, \"shared_namespaces\": 3,\n"
		"  \"base_likelihood\": 0,\n"
		"  \"rules\": {\"plaintext\": {\"enabled\": false},\n"
		"            \"new_node\": {\"weight\": 0.9, \"severity\": \"critical\"}},\n"
		"  \"provider_hosts\": {\"vault\": [\"vault.corp.example\"], \"github_pat\": "
		"[\"ghe.example\", \"ghe.example\"]},\n"
		"  \"webhooks\": [{\"url\": \"https://hooks.example/x\", \"format\": \"slack\", "
		"\"min_severity\": \"high\",\n"
		"                 \"token_file\": \"/etc/tokentap/hook.token\", \"max_attempts\": "
		"20},\n"
		"               {\"url\": \"http://127.0.0.1:9000/alerts\"}],\n"
		"  \"revocation_hooks\": [\n"
		"     {\"name\": \"aws\", \"token_type\": \"aws_sigv4\", \"rule\": "
		"\"wrong_provider\",\n"
		"      \"min_severity\": \"critical\", \"command\": "
		"[\"/usr/local/bin/revoke-aws\", \"--key\"],\n"
		"      \"timeout\": 0.5, \"mark_for_sensor\": true},\n"
		"     {\"name\": \"any\", \"url\": \"https://revoke.example/v1\"}]\n"
		"}\n";
	char err[256];
	size_t before = cfg.n_providers;
	struct risk_config copy;

	(void)state;
	assert_int_equal(risk_config_parse(&cfg, doc, strlen(doc), err, sizeof(err)), 0);
	assert_int_equal(cfg.learning_window_ms, 2000);
	assert_int_equal(cfg.dormant_ms, 86400500);
	assert_int_equal(cfg.held_unused_ms, 3600000);
	assert_int_equal(cfg.shared_workloads, 10);
	assert_int_equal(cfg.shared_nodes, 1);
	assert_int_equal(cfg.shared_namespaces, 3);
	assert_true(cfg.base_likelihood == 0);
	assert_false(cfg.enabled[RULE_PLAINTEXT]);
	assert_true(cfg.enabled[RULE_NEW_NODE]);
	assert_true(cfg.weight[RULE_NEW_NODE] == 0.9);
	assert_int_equal(cfg.severity[RULE_NEW_NODE], RISK_SEV_CRITICAL);
	assert_true(cfg.weight[RULE_PLAINTEXT] == 0.6);
	assert_int_equal(cfg.n_providers, before + 2);
	assert_int_equal(risk_wrong_provider(&cfg, "vault", "vault.corp.example:8200"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "vault", "evil.example"), 1);
	assert_int_equal(cfg.n_webhooks, 2);
	assert_string_equal(cfg.webhooks[0].url, "https://hooks.example/x");
	assert_true(cfg.webhooks[0].slack);
	assert_int_equal(cfg.webhooks[0].min_severity, RISK_SEV_HIGH);
	assert_string_equal(cfg.webhooks[0].token_file, "/etc/tokentap/hook.token");
	assert_int_equal(cfg.webhooks[0].max_attempts, 20);
	assert_false(cfg.webhooks[1].slack);
	assert_int_equal(cfg.webhooks[1].min_severity, RISK_SEV_MEDIUM);
	assert_int_equal(cfg.webhooks[1].max_attempts, 5);
	assert_string_equal(cfg.webhooks[1].token_file, "");
	assert_int_equal(cfg.n_hooks, 2);
	assert_string_equal(cfg.hooks[0].name, "aws");
	assert_string_equal(cfg.hooks[0].token_type, "aws_sigv4");
	assert_int_equal(cfg.hooks[0].rule, RULE_WRONG_PROVIDER);
	assert_int_equal(cfg.hooks[0].min_severity, RISK_SEV_CRITICAL);
	assert_string_equal(cfg.hooks[0].argv[0], "/usr/local/bin/revoke-aws");
	assert_string_equal(cfg.hooks[0].argv[1], "--key");
	assert_null(cfg.hooks[0].argv[2]);
	assert_string_equal(cfg.hooks[0].url, "");
	assert_int_equal(cfg.hooks[0].timeout_s, 1);
	assert_true(cfg.hooks[0].mark_for_sensor);
	assert_string_equal(cfg.hooks[1].name, "any");
	assert_null(cfg.hooks[1].argv[0]);
	assert_string_equal(cfg.hooks[1].url, "https://revoke.example/v1");
	assert_int_equal(cfg.hooks[1].rule, -1);
	assert_string_equal(cfg.hooks[1].token_type, "");
	assert_int_equal(cfg.hooks[1].min_severity, RISK_SEV_HIGH);
	assert_int_equal(cfg.hooks[1].timeout_s, 30);
	assert_false(cfg.hooks[1].mark_for_sensor);

	/* a deep copy outlives its source */
	assert_int_equal(risk_config_copy(&copy, &cfg), 0);
	assert_ptr_not_equal(copy.hooks[0].argv[0], cfg.hooks[0].argv[0]);
	risk_config_free(&cfg);
	assert_string_equal(copy.hooks[0].argv[1], "--key");
	assert_int_equal(copy.n_providers, before + 2);
	cfg = copy;

	/* a second document replaces the lists and keeps the rest */
	assert_int_equal(
		risk_config_parse(&cfg, "{\"revocation_hooks\": []}", 24, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_hooks, 0);
	assert_int_equal(cfg.n_webhooks, 2);
	assert_int_equal(cfg.learning_window_ms, 2000);
	/* empty object and whitespace */
	assert_int_equal(risk_config_parse(&cfg, " {} \n", 5, err, sizeof(err)), 0);
}

struct bad {
	const char *doc;
	const char *key; /* the message must start with this */
};

static void test_config_errors(void **state)
{
	static const struct bad bad[] = {
		/* unknown keys */
		{ "{\"learning_windows\": 1}", "learning_windows: unknown key" },
		{ "{\"rules\": {\"new_workload\": {\"enable\": true}}}",
		  "rules.new_workload.enable: unknown key" },
		{ "{\"rules\": {\"new_worklod\": {}}}", "rules.new_worklod: unknown rule" },
		{ "{\"webhooks\": [{\"url\": \"https://a.example\", \"retries\": 3}]}",
		  "webhooks[0].retries: unknown key" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"url\": \"https://a.example\", "
		  "\"cmd\": []}]}",
		  "revocation_hooks[0].cmd: unknown key" },
		/* wrong types */
		{ "{\"learning_window\": \"1d\"}", "learning_window: must be a number" },
		{ "{\"shared_workloads\": 3.5}", "shared_workloads: must be an integer" },
		{ "{\"rules\": {\"plaintext\": {\"enabled\": 1}}}",
		  "rules.plaintext.enabled: must be true or false" },
		{ "{\"rules\": []}", "rules: must be an object" },
		{ "{\"webhooks\": {}}", "webhooks: must be an array" },
		{ "{\"provider_hosts\": {\"github_pat\": \"ghe.example\"}}",
		  "provider_hosts.github_pat: must be an array" },
		{ "{\"provider_hosts\": {\"github_pat\": [7]}}",
		  "provider_hosts.github_pat[0]: must be a string" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"command\": \"/bin/revoke\"}]}",
		  "revocation_hooks[0].command: must be an array" },
		/* out of range */
		{ "{\"rules\": {\"plaintext\": {\"weight\": 1.5}}}",
		  "rules.plaintext.weight: must be a number in 0..1" },
		{ "{\"rules\": {\"plaintext\": {\"weight\": -0.1}}}",
		  "rules.plaintext.weight: must be a number in 0..1" },
		{ "{\"base_likelihood\": 2}", "base_likelihood: must be a number in 0..1" },
		{ "{\"learning_window\": -1}", "learning_window: must be a number in" },
		{ "{\"dormant_after\": 0}", "dormant_after: must be at least" },
		{ "{\"held_unused_after\": 1e300}", "held_unused_after: must be a number in" },
		{ "{\"shared_nodes\": 0}", "shared_nodes: must be an integer in 1..1000000" },
		{ "{\"shared_nodes\": 99999999999999999999}",
		  "shared_nodes: must be an integer in" },
		{ "{\"webhooks\": [{\"url\": \"https://a.example\", \"max_attempts\": 21}]}",
		  "webhooks[0].max_attempts: must be an integer in 1..20" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"url\": \"https://a.example\", "
		  "\"timeout\": 0}]}",
		  "revocation_hooks[0].timeout: must be more than 0" },
		/* bad severities and names */
		{ "{\"rules\": {\"shared\": {\"severity\": \"severe\"}}}",
		  "rules.shared.severity: must be one of" },
		{ "{\"webhooks\": [{\"url\": \"https://a.example\", \"min_severity\": \"HIGH\"}]}",
		  "webhooks[0].min_severity: must be one of" },
		{ "{\"webhooks\": [{\"url\": \"https://a.example\", \"format\": \"xml\"}]}",
		  "webhooks[0].format: must be" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"url\": \"https://a.example\", "
		  "\"rule\": \"bogus\"}]}",
		  "revocation_hooks[0].rule: must be a rule name" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"url\": \"https://a.example\", "
		  "\"token_type\": \"AWS\"}]}",
		  "revocation_hooks[0].token_type: must be a token type id" },
		{ "{\"provider_hosts\": {\"GitHub\": []}}",
		  "provider_hosts.GitHub: must be a token type id" },
		{ "{\"provider_hosts\": {\"github_pat\": [\"a..b\"]}}",
		  "provider_hosts.github_pat[0]: must be a host" },
		{ "{\"provider_hosts\": {\"github_pat\": [\"*.example\"]}}",
		  "provider_hosts.github_pat[0]: must be a host" },
		/* commands and URLs */
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"command\": [\"revoke.sh\"]}]}",
		  "revocation_hooks[0].command[0]: must be an absolute path" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"command\": []}]}",
		  "revocation_hooks[0].command: must have 1..16" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"command\": [\"/bin/a\"], \"url\": "
		  "\"https://a.example\"}]}",
		  "revocation_hooks[0]: needs exactly one of" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\"}]}",
		  "revocation_hooks[0]: needs exactly one of" },
		{ "{\"revocation_hooks\": [{\"url\": \"https://a.example\"}]}",
		  "revocation_hooks[0]: needs a \"name\"" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"url\": \"https://a.example\"},"
		  " {\"name\": \"x\", \"url\": \"https://b.example\"}]}",
		  "revocation_hooks[1]: duplicate hook name" },
		{ "{\"revocation_hooks\": [{\"name\": \"x\", \"command\": [\"/bin/a\", "
		  "\"b\\u0000c\"]}]}",
		  "revocation_hooks[0].command[1]: must not contain control characters" },
		{ "{\"webhooks\": [{\"url\": \"ftp://a.example\"}]}",
		  "webhooks[0].url: must be an http:// or https:// URL" },
		{ "{\"webhooks\": [{\"url\": \"https:///x\"}]}",
		  "webhooks[0].url: must name a host" },
		{ "{\"webhooks\": [{\"url\": \"https://a.example/ x\"}]}",
		  "webhooks[0].url: must not contain" },
		{ "{\"webhooks\": [{}]}", "webhooks[0]: needs a \"url\"" },
		{ "{\"webhooks\": [1,2,3,4,5,6,7,8,9]}", "webhooks: at most 8" },
		/* documents */
		{ "", "invalid JSON: unexpected end" },
		{ "{\"learning_window\": 1", "invalid JSON: unexpected end" },
		{ "{\"a\": nan}", "invalid JSON at byte" },
		{ "{} x", "invalid JSON at byte 3" },
		{ "[]", "the configuration must be a JSON object" },
		{ "{\"\\u0001\\n\": 1}", "??: unknown key" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct risk_config before;

		assert_int_equal(risk_config_copy(&before, &cfg), 0);
		memset(err, 0, sizeof(err));
		if (risk_config_parse(&cfg, bad[i].doc, strlen(bad[i].doc), err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].doc);
		if (strncmp(err, bad[i].key, strlen(bad[i].key)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", bad[i].doc, err, bad[i].key);
		assert_null(strchr(err, '\n'));
		assert_true(printable(err));
		/* a rejected document changes nothing */
		assert_int_equal(cfg.n_providers, before.n_providers);
		assert_int_equal(cfg.n_hooks, before.n_hooks);
		assert_int_equal(cfg.n_webhooks, before.n_webhooks);
		assert_int_equal(cfg.learning_window_ms, before.learning_window_ms);
		assert_memory_equal(cfg.weight, before.weight, sizeof(cfg.weight));
		assert_memory_equal(cfg.enabled, before.enabled, sizeof(cfg.enabled));
		risk_config_free(&before);
	}
	/* a NUL inside the document */
	assert_int_equal(risk_config_parse(&cfg, "{}\0{}", 5, err, sizeof(err)), -1);
	/* no error buffer is fine */
	assert_int_equal(risk_config_parse(&cfg, "{\"x\":1}", 7, NULL, 0), -1);
	/* a tiny error buffer is truncated, terminated */
	assert_int_equal(risk_config_parse(&cfg, "{\"x\":1}", 7, err, 4), -1);
	assert_string_equal(err, "x: ");
}

static void test_config_hostile_sizes(void **state)
{
	char *doc;
	char err[256];
	size_t n = 0, cap = 64 * 1024;

	(void)state;
	/* more provider hosts than allowed */
	doc = malloc(cap);
	assert_non_null(doc);
	n += (size_t)snprintf(doc + n, cap - n, "{\"provider_hosts\": {\"vault\": [");
	for (int i = 0; i < RISK_MAX_PROVIDER_ADDS + 1; i++)
		n += (size_t)snprintf(doc + n, cap - n, "%s\"h%d.example\"", i ? "," : "", i);
	n += (size_t)snprintf(doc + n, cap - n, "]}}");
	assert_int_equal(risk_config_parse(&cfg, doc, n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many provider hosts"));
	/* deep nesting is refused by the parser */
	n = 0;
	for (int i = 0; i < 1000; i++)
		doc[n++] = '[';
	assert_int_equal(risk_config_parse(&cfg, doc, n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid JSON"));
	/* long keys are cut in the message */
	n = (size_t)snprintf(doc, cap, "{\"");
	memset(doc + n, 'k', 1000);
	n += 1000;
	n += (size_t)snprintf(doc + n, cap - n, "\": 1}");
	assert_int_equal(risk_config_parse(&cfg, doc, n, err, sizeof(err)), -1);
	assert_true(strlen(err) < 100);
	free(doc);
	assert_int_equal(risk_config_parse(&cfg, "{}", RISK_CONFIG_MAX_BYTES + 1, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "larger than"));
}

static void test_config_load(void **state)
{
	char path[] = "/tmp/tokentap-risk-test.XXXXXX", err[512];
	const char *doc = "{\"shared_nodes\": 7}";
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	assert_int_equal(risk_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg.shared_nodes, 7);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"shared_nodes\": \"7\"}", f);
	fclose(f);
	assert_int_equal(risk_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "shared_nodes: must be an integer"));
	assert_int_equal(cfg.shared_nodes, 7);
	/* too large */
	f = fopen(path, "w");
	assert_non_null(f);
	fputc('{', f);
	for (unsigned i = 0; i < RISK_CONFIG_MAX_BYTES; i++)
		fputc(' ', f);
	fputc('}', f);
	fclose(f);
	assert_int_equal(risk_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	unlink(path);
	assert_int_equal(risk_config_load(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(risk_config_load(&cfg, "/tmp", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

/* ---- subject helpers -------------------------------------------------------------- */

static void test_subjects(void **state)
{
	char out[RISK_SUBJECT_MAX], small[8];

	(void)state;
#define WL(...) risk_workload(&(struct risk_proc){ __VA_ARGS__ }, out, sizeof(out))
	WL(.exe = "/usr/bin/python3.11", .container_id = "", .k8s_namespace = "");
	assert_string_equal(out, "/usr/bin/python3.11");
	WL(.exe = "/usr/bin/python3.11", .container_id = "0123456789abcdef");
	assert_string_equal(out, "container:/usr/bin/python3.11");
	WL(.exe = "", .container_id = "0123456789abcdef", .k8s_namespace = "");
	assert_string_equal(out, "");
	WL(.exe = "/bin/\x7f\x01x");
	assert_string_equal(out, "/bin/??x");
	risk_workload(&(struct risk_proc){ .exe = "/usr/bin/python3.11" }, small, sizeof(small));
	assert_string_equal(small, "/usr/bi");
	risk_workload(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	/* in a pod: the namespace, not the container id, names the workload */
	WL(.exe = "/app/server", .container_id = "0123456789abcdef", .k8s_namespace = "payments");
	assert_string_equal(out, "k8s:payments:/app/server");
	/* the pod watcher named the owner: namespace/kind/name and the container */
	WL(.exe = "/app/server", .container_id = "0123456789abcdef", .k8s_namespace = "payments",
	   .workload_kind = "Deployment", .workload_name = "api", .container = "server");
	assert_string_equal(out, "k8s:payments/Deployment/api:server");
	/* a restarted pod (new container id, new exe path) is the same workload */
	WL(.exe = "/other", .container_id = "fedcba9876543210", .k8s_namespace = "payments",
	   .workload_kind = "Deployment", .workload_name = "api", .container = "server");
	assert_string_equal(out, "k8s:payments/Deployment/api:server");
	/* container unknown: the workload alone; no exe needed */
	WL(.exe = "", .k8s_namespace = "batch", .workload_kind = "CronJob", .workload_name = "nightly");
	assert_string_equal(out, "k8s:batch/CronJob/nightly");
	/* a kind without a namespace is not enough */
	WL(.exe = "/app/x", .workload_kind = "Deployment", .workload_name = "api");
	assert_string_equal(out, "/app/x");
	/* control bytes never reach a subject */
	WL(.k8s_namespace = "ns", .workload_kind = "Pod", .workload_name = "p\x01", .container = "c\n");
	assert_string_equal(out, "k8s:ns/Pod/p?:c?");
#undef WL

	risk_destination("API.GitHub.com", "140.82.112.5:443", out, sizeof(out));
	assert_string_equal(out, "api.github.com");
	risk_destination("api.example:8443", "10.0.0.1:8443", out, sizeof(out));
	assert_string_equal(out, "api.example:8443");
	risk_destination("", "10.0.0.1:80", out, sizeof(out));
	assert_string_equal(out, "10.0.0.1:80");
	risk_destination("", "", out, sizeof(out));
	assert_string_equal(out, "");
	risk_destination(NULL, NULL, out, sizeof(out));
	assert_string_equal(out, "");

	assert_true(risk_type_id_valid("github_pat"));
	assert_false(risk_type_id_valid("GitHub"));
	assert_false(risk_type_id_valid(""));
	assert_false(risk_type_id_valid("a_very_long_type_id_of_32_chars_"));
}

static void test_jwt_read(void **state)
{
	struct risk_jwt j;

	(void)state;
	assert_true(risk_jwt_read(
		"{\"exp\":1700000000,\"lifetime\":3600.9,\"scp\":\"a\",\"k8s_legacy\":true}", &j));
	assert_true(j.has_exp);
	assert_int_equal(j.exp, 1700000000);
	assert_true(j.has_lifetime);
	assert_int_equal(j.lifetime, 3600);
	assert_true(j.has_scp);
	assert_false(j.has_roles);
	assert_true(j.k8s_legacy);
	assert_true(risk_jwt_read("{\"exp\":1e300}", &j));
	assert_false(j.has_exp);
	assert_false(risk_jwt_read("[1]", &j));
	assert_false(risk_jwt_read("", &j));
	assert_false(risk_jwt_read(NULL, &j));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_names),
		T(test_defaults),
		T(test_nothing_for_a_known_use),
		T(test_learning_window),
		T(test_plaintext),
		T(test_loopback),
		T(test_expired_jwt),
		T(test_wrong_provider),
		T(test_provider_matching),
		T(test_shared),
		T(test_token_class),
		T(test_interactive_daemon),
		T(test_class_rules),
		T(test_dormant),
		T(test_new_write_method),
		T(test_query_and_basic),
		T(test_held),
		T(test_cap_and_hostile_text),
		T(test_score_values),
		T(test_score_deterministic_monotonic),
		T(test_config_success),
		T(test_config_errors),
		T(test_config_hostile_sizes),
		T(test_config_load),
		T(test_subjects),
		T(test_jwt_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
