/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The risk engine on the store: batches applied to a private in-memory
 * store, then store_risk_pass at fixed times. Covers the learning window
 * and the baseline rules, the transport rules, held tokens (argv, never
 * used, then used), dormancy, scores and reasons, the outbox (webhooks,
 * retries, revocation hooks, sensor-side marks and their results), the
 * alert filters, and a replayed batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "batch_fixture.h"
#include "webhook.h"
#include "risk.h"
#include "sqlite_store.h"
#include "store_backends.h"
#include "store.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, a whole minute */
#define SEC_MS 1000LL
#define MIN_MS (60 * SEC_MS)
#define DAY_MS (86400 * SEC_MS)

#define SENSOR "7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5d"
#define SENSOR2 "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define FP_A "0123456789abcdef0123456789abcdef"
#define FP_B "11111111111111111111111111111111"
#define FP_C "22222222222222222222222222222222"
#define FP_D "33333333333333333333333333333333"
#define FP_GH "44444444444444444444444444444444"
#define FP_GH2 "55555555555555555555555555555555"

#define EXE_APP "/usr/bin/app"
#define EXE_OTHER "/usr/bin/other"
#define EXE_THIRD "/opt/third/bin/third"
#define HOST "api.example.com"
#define DST "192.0.2.10:443"

#define WEBHOOK_URL "https://hooks.example.com/alerts"
#define HOOK_NAME "gh-revoke"

/* A learning window of 60 s, held-unused after 120 s, the default dormancy. */
#define CFG_SHORT "{\"learning_window\": 60, \"held_unused_after\": 120}"

/* ---- fixtures ------------------------------------------------------------ */


static void config(struct risk_config *c, const char *json)
{
	char err[256] = "";

	risk_config_default(c);
	if (risk_config_parse(c, json, strlen(json), err, sizeof(err)) != 0)
		fail_msg("risk_config_parse: %s", err);
}

/* Applies and frees b; the expected result is checked. */
static void apply_free(struct store *st, Tokentap__V1__Batch *b, enum store_result want)
{
	char err[256] = "";
	enum store_result r = store_apply_batch(st, b, T0, err, sizeof(err));

	fx_free(b);
	if (r == STORE_ERROR)
		fail_msg("apply: %s", err);
	assert_int_equal(r, want);
}

static void apply_ok(struct store *st, Tokentap__V1__Batch *b)
{
	apply_free(st, b, STORE_APPLIED);
}

/* One pass at now; returns the new findings. */
static unsigned pass_at(struct store *st, const struct risk_config *c, int64_t now)
{
	struct risk_pass_stats stats;
	char err[256] = "";

	if (store_risk_pass(st, c, now, &stats, err, sizeof(err)) != 0)
		fail_msg("store_risk_pass: %s", err);
	return stats.findings;
}

/* A first sighting over TLS or not. */
static Tokentap__V1__TokenSeen *seen(Tokentap__V1__Batch *b, const char *fp, const char *type,
				     uint32_t pid, const char *exe, const char *dst,
				     const char *host, int64_t ts, bool tls)
{
	Tokentap__V1__TokenSeen *s = fx_add_seen(b, fp, type, pid, exe, dst, host, ts);

	s->destination->tls = tls;
	return s;
}

/* Replaces a string field of a fixture message (fx_str'd, or the shared empty default). */
/* One integer from SQL over the store's connection (SQLite) or a session of the test's database. */
static int64_t db_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (!sqlite_store_db(st)) {
		PGconn *c = tb_pg_conn();
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQresultErrorMessage(r));
		if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return v;
	}
	assert_int_equal(sqlite3_prepare_v2(sqlite_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ---- JSON access --------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("no key %s in %s", k, json_object_to_json_string(o));
	return v;
}

static const char *gets_(struct json_object *o, const char *k)
{
	return json_object_get_string(get(o, k));
}

static int64_t geti(struct json_object *o, const char *k)
{
	return json_object_get_int64(get(o, k));
}

static bool getb(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static struct json_object *geta(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	assert_true(json_object_is_type(v, json_type_array));
	return v;
}

static struct json_object *idx(struct json_object *arr, size_t i)
{
	return json_object_array_get_idx(arr, i);
}

/* The alerts of fp (NULL: all), newest first; the caller puts the array. */
static struct json_object *alerts(struct store *st, const char *fp)
{
	struct alert_filter f = { .fingerprint = fp };
	struct json_object *arr = NULL;
	char err[256] = "";

	if (store_query_alerts(st, &f, &arr, err, sizeof(err)) != 0)
		fail_msg("store_query_alerts: %s", err);
	assert_true(json_object_is_type(arr, json_type_array));
	return arr;
}

/* Alerts of fp with that rule. */
static size_t count_rule(struct store *st, const char *fp, const char *rule)
{
	struct json_object *arr = alerts(st, fp);
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++)
		n += !strcmp(gets_(idx(arr, i), "rule"), rule);
	json_object_put(arr);
	return n;
}

/* What a test checks of the one alert of fp with that rule. */
struct alert_view {
	int64_t id, count;
	char subject[RISK_SUBJECT_MAX];
	char severity[16];
	char reason[RISK_REASON_MAX];
	bool open;
};

static void one_alert(struct store *st, const char *fp, const char *rule, struct alert_view *v)
{
	struct json_object *arr = alerts(st, fp), *a = NULL, *s;
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (!strcmp(gets_(idx(arr, i), "rule"), rule)) {
			a = idx(arr, i);
			n++;
		}
	if (n != 1)
		fail_msg("%zu alerts %s for %s, want 1", n, rule, fp);
	memset(v, 0, sizeof(*v));
	v->id = geti(a, "id");
	v->count = geti(a, "count");
	/* an empty subject is left out */
	if (json_object_object_get_ex(a, "subject", &s))
		snprintf(v->subject, sizeof(v->subject), "%s", json_object_get_string(s));
	snprintf(v->severity, sizeof(v->severity), "%s", gets_(a, "severity"));
	snprintf(v->reason, sizeof(v->reason), "%s", gets_(a, "reason"));
	v->open = getb(a, "open");
	json_object_put(arr);
}

static struct json_object *token_view(struct store *st, const char *fp)
{
	struct json_object *t = NULL;
	char err[256] = "";

	if (store_query_token(st, fp, &t, err, sizeof(err)) != 1)
		fail_msg("store_query_token %s: %s", fp, err);
	return t;
}

/* ---- 1. learning window, baseline --------------------------------------- */

static void test_new_workload_after_window(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;

	config(&c, CFG_SHORT);

	/* first use, and a second workload inside the window: learnt, no finding */
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_A, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	seen(b, FP_A, "opaque", 101, EXE_OTHER, DST, HOST, T0 + 30 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 31 * SEC_MS), 0);
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM baseline WHERE fingerprint = '" FP_A
				"' AND dim = 'workload'"), 2);

	/* a third workload one second after the window */
	b = fx_batch(SENSOR, "node-1", 2);
	seen(b, FP_A, "opaque", 102, EXE_THIRD, DST, HOST, T0 + 61 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 62 * SEC_MS), 1);
	one_alert(st, FP_A, "new_workload", &v);
	assert_string_equal(v.subject, EXE_THIRD);
	assert_string_equal(v.severity, "medium");
	assert_non_null(strstr(v.reason, EXE_THIRD));
	assert_true(v.open);
	assert_int_equal(v.count, 1);
	/* nothing else fired for this use */
	{
		struct json_object *arr = alerts(st, FP_A);

		assert_int_equal(json_object_array_length(arr), 1);
		json_object_put(arr);
	}

	/* a pass with nothing new adds nothing */
	assert_int_equal(pass_at(st, &c, T0 + 63 * SEC_MS), 0);
	assert_int_equal(pass_at(st, &c, T0 + 64 * SEC_MS), 0);

	/* the same workload again (another process of it): known now */
	b = fx_batch(SENSOR, "node-1", 3);
	seen(b, FP_A, "opaque", 103, EXE_THIRD, DST, HOST, T0 + 120 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 121 * SEC_MS), 0);
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 1);

	risk_config_free(&c);
	store_close(st);
}

static void test_new_destination_and_node(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_A, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	/* inside the window: a second destination is learnt */
	seen(b, FP_A, "opaque", 100, EXE_APP, "192.0.2.11:443", "api2.example.com",
	     T0 + 59 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 60 * SEC_MS), 0);

	/* after the window: a new destination from the known workload and node */
	b = fx_batch(SENSOR, "node-1", 2);
	seen(b, FP_A, "opaque", 100, EXE_APP, "198.51.100.7:443", "Files.Example.NET",
	     T0 + 90 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 91 * SEC_MS), 1);
	one_alert(st, FP_A, "new_destination", &v);
	/* the Host header, lowercase */
	assert_string_equal(v.subject, "files.example.net");
	assert_string_equal(v.severity, "medium");
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 0);
	assert_int_equal(count_rule(st, FP_A, "new_node"), 0);

	/* the known workload and destination from another node */
	b = fx_batch(SENSOR2, "node-2", 1);
	seen(b, FP_A, "opaque", 4242, EXE_APP, DST, HOST, T0 + 100 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 101 * SEC_MS), 1);
	one_alert(st, FP_A, "new_node", &v);
	assert_string_equal(v.subject, "node-2");
	assert_non_null(strstr(v.reason, "node-2"));
	assert_int_equal(count_rule(st, FP_A, "new_destination"), 1);
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 0);

	/* idempotent */
	assert_int_equal(pass_at(st, &c, T0 + 102 * SEC_MS), 0);
	{
		struct json_object *arr = alerts(st, FP_A);

		assert_int_equal(json_object_array_length(arr), 2);
		json_object_put(arr);
	}
	risk_config_free(&c);
	store_close(st);
}

/* ---- 2-4. transport rules ---------------------------------------------- */

static void test_wrong_provider(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	struct json_object *arr;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	seen(b, FP_GH2, "github_pat", 100, EXE_APP, "140.82.112.6:443", "api.github.com", T0,
	     true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 1);

	one_alert(st, FP_GH, "wrong_provider", &v);
	assert_string_equal(v.severity, "high");
	assert_string_equal(v.subject, "127.0.0.1:8443");
	assert_non_null(strstr(v.reason, "github_pat"));
	assert_true(v.open);

	/* its provider's host: no finding at all */
	arr = alerts(st, FP_GH2);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
	risk_config_free(&c);
	store_close(st);
}

static void test_plaintext(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	struct json_object *arr;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_A, "opaque", 100, EXE_APP, "10.1.2.3:80", "", T0, false);
	seen(b, FP_B, "opaque", 100, EXE_APP, "127.0.0.1:80", "", T0, false);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 1);

	one_alert(st, FP_A, "plaintext", &v);
	assert_string_equal(v.subject, "10.1.2.3:80");
	assert_string_equal(v.severity, "high");
	assert_non_null(strstr(v.reason, "10.1.2.3:80"));

	/* loopback: nothing */
	arr = alerts(st, FP_B);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
	risk_config_free(&c);
	store_close(st);
}

/* One token in pods of two Kubernetes namespaces: shared, and named by namespace. */
static void test_shared_across_namespaces(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	Tokentap__V1__ProcessInfo *pi;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	pi = fx_add_process(b, 100, T0 - 1000, EXE_APP, "app", "");
	fx_set_str(&pi->k8s_namespace, "payments");
	pi = fx_add_process(b, 200, T0 - 1000, EXE_APP, "app", "");
	fx_set_str(&pi->k8s_namespace, "staging");
	seen(b, FP_A, "opaque", 100, EXE_APP, "10.1.2.3:443", "api.internal", T0, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 0);
	assert_int_equal(count_rule(st, FP_A, "shared"), 0);

	b = fx_batch(SENSOR, "node-1", 2);
	seen(b, FP_A, "opaque", 200, EXE_APP, "10.1.2.3:443", "api.internal", T0 + 10, true);
	apply_ok(st, b);
	pass_at(st, &c, T0 + 2 * SEC_MS);
	one_alert(st, FP_A, "shared", &v);
	assert_non_null(strstr(v.reason, "in 2 namespaces"));
	/* inside the learning window the second namespace's workload is baseline, not "new" */
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM baseline WHERE dim = 'workload'"
				    " AND value = 'k8s:staging:/usr/bin/app'"), 1);
	risk_config_free(&c);
	store_close(st);
}

/* A process of a pod the watcher named: its workload is namespace/kind/name:container. */
static Tokentap__V1__ProcessInfo *pod_proc(Tokentap__V1__Batch *b, uint32_t pid, const char *pod,
					   const char *workload)
{
	Tokentap__V1__ProcessInfo *pi = fx_add_process(b, pid, T0 - 1000, EXE_APP, "app", "");

	fx_set_str(&pi->k8s_namespace, "payments");
	fx_set_str(&pi->pod, pod);
	fx_set_str(&pi->workload_kind, "Deployment");
	fx_set_str(&pi->workload_name, workload);
	fx_set_str(&pi->container, "server");
	return pi;
}

/*
 * A restarted pod of the same Deployment (new pod, new pid) after the
 * learning window is not a new workload; another Deployment is, and the
 * alert names it.
 */
static void test_k8s_workload_stable_across_restarts(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	pod_proc(b, 100, "api-7d4b9c8f6-aaaaa", "api");
	seen(b, FP_A, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM baseline WHERE dim = 'workload'"
				    " AND value = 'k8s:payments/Deployment/api:server'"), 1);

	b = fx_batch(SENSOR, "node-2", 2);
	pod_proc(b, 200, "api-5f6a7b8c9-bbbbb", "api");
	seen(b, FP_A, "opaque", 200, EXE_APP, DST, HOST, T0 + 90 * SEC_MS, true);
	apply_ok(st, b);
	pass_at(st, &c, T0 + 91 * SEC_MS);
	assert_int_equal(count_rule(st, FP_A, "new_workload"), 0);

	b = fx_batch(SENSOR, "node-2", 3);
	pod_proc(b, 300, "billing-6d7e8f9a0-ccccc", "billing");
	seen(b, FP_A, "opaque", 300, EXE_APP, DST, HOST, T0 + 95 * SEC_MS, true);
	apply_ok(st, b);
	pass_at(st, &c, T0 + 96 * SEC_MS);
	one_alert(st, FP_A, "new_workload", &v);
	assert_string_equal(v.subject, "k8s:payments/Deployment/billing:server");
	assert_non_null(strstr(v.reason, "k8s:payments/Deployment/billing:server"));
	risk_config_free(&c);
	store_close(st);
}

static void test_query_string_and_basic_password(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *s;
	struct json_object *arr;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	s = seen(b, FP_A, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	s->token->in_query = true;
	fx_set_str(&s->token->scheme, "");
	fx_set_str(&s->token->header, "access_token");
	s = seen(b, FP_B, "basic", 100, EXE_APP, DST, HOST, T0, true);
	fx_set_str(&s->token->scheme, "Basic");
	fx_set_str(&s->token->basic_user, "deploy");
	fx_set_str(&s->token->basic_password_type, "opaque");
	/* Basic whose password was recognised as a token: not a plain password */
	s = seen(b, FP_C, "basic", 100, EXE_APP, "104.16.0.35:443", "registry.npmjs.org", T0,
		 true);
	fx_set_str(&s->token->scheme, "Basic");
	fx_set_str(&s->token->basic_password_type, "npm");
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 2);

	one_alert(st, FP_A, "query_string", &v);
	assert_string_equal(v.subject, "access_token");
	assert_string_equal(v.severity, "low");
	assert_non_null(strstr(v.reason, "access_token"));
	arr = alerts(st, FP_A);
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(arr);

	one_alert(st, FP_B, "basic_password", &v);
	assert_string_equal(v.subject, "");
	assert_string_equal(v.severity, "low");
	arr = alerts(st, FP_B);
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(arr);

	arr = alerts(st, FP_C);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
	risk_config_free(&c);
	store_close(st);
}

/* ---- 5. held tokens ------------------------------------------------------ */

static void test_held_in_argv(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	struct json_object *t;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	fx_add_held(b, FP_A, "github_pat", 300, "/usr/local/bin/deploy",
		    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV, "argv[2]", T0);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 1);
	one_alert(st, FP_A, "held_in_argv", &v);
	assert_string_equal(v.subject, "/usr/local/bin/deploy");
	assert_string_equal(v.severity, "medium");
	assert_non_null(strstr(v.reason, "node-1"));
	/* not yet held long enough to be "never used" */
	assert_int_equal(count_rule(st, FP_A, "held_never_used"), 0);

	t = token_view(st, FP_A);
	assert_string_equal(gets_(t, "held_state"), "held_never_used");
	assert_int_equal(json_object_array_length(geta(t, "held")), 1);
	assert_string_equal(gets_(idx(geta(t, "held"), 0), "source"), "argv");
	assert_string_equal(gets_(idx(geta(t, "held"), 0), "name"), "argv[2]");
	json_object_put(t);

	/* the held row is evaluated once */
	assert_int_equal(pass_at(st, &c, T0 + 2 * SEC_MS), 0);
	one_alert(st, FP_A, "held_in_argv", &v);
	assert_int_equal(v.count, 1);
	risk_config_free(&c);
	store_close(st);
}

static void test_held_never_used_then_used(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;
	struct json_object *t, *reasons, *findings;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	fx_add_held(b, FP_A, "github_pat", 300, EXE_APP,
		    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON, "GITHUB_TOKEN", T0);
	apply_ok(st, b);

	/* environ alone is no finding; held 119.999 s is not long enough */
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 0);
	assert_int_equal(pass_at(st, &c, T0 + 120 * SEC_MS - 1), 0);
	assert_int_equal(count_rule(st, FP_A, "held_never_used"), 0);

	/* held_unused_after (120 s) reached */
	assert_int_equal(pass_at(st, &c, T0 + 120 * SEC_MS), 1);
	one_alert(st, FP_A, "held_never_used", &v);
	assert_string_equal(v.severity, "low");
	assert_string_equal(v.subject, "");
	assert_true(v.open);
	assert_non_null(strstr(v.reason, "GITHUB_TOKEN"));
	/* found once */
	assert_int_equal(pass_at(st, &c, T0 + 500 * SEC_MS), 0);
	assert_int_equal(count_rule(st, FP_A, "held_never_used"), 1);

	t = token_view(st, FP_A);
	assert_string_equal(gets_(t, "held_state"), "held_never_used");
	reasons = geta(get(t, "risk"), "reasons");
	assert_int_equal(json_object_array_length(reasons), 1);
	assert_string_equal(gets_(idx(reasons, 0), "rule"), "held_never_used");
	json_object_put(t);

	/* now used: its first sighting alone settles it, before any usage count */
	b = fx_batch(SENSOR, "node-1", 2);
	fx_add_seen(b, FP_A, "github_pat", 300, EXE_APP, "140.82.112.6:443", "api.github.com",
		    T0 + 600 * SEC_MS);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 601 * SEC_MS), 0);

	t = token_view(st, FP_A);
	assert_string_equal(gets_(t, "held_state"), "held_and_used");
	findings = geta(t, "findings");
	assert_int_equal(json_object_array_length(findings), 1);
	assert_string_equal(gets_(idx(findings, 0), "rule"), "held_never_used");
	assert_false(getb(idx(findings, 0), "open"));
	assert_non_null(get(idx(findings, 0), "resolved_at"));
	/* a resolved finding is no longer a reason */
	assert_int_equal(json_object_array_length(geta(get(t, "risk"), "reasons")), 0);
	json_object_put(t);
	one_alert(st, FP_A, "held_never_used", &v);
	assert_false(v.open);

	/* and is not raised again */
	assert_int_equal(pass_at(st, &c, T0 + 2 * DAY_MS), 0);
	one_alert(st, FP_A, "held_never_used", &v);
	assert_false(v.open);
	risk_config_free(&c);
	store_close(st);
}

/* ---- 6. dormancy --------------------------------------------------------- */

static void use_at(struct store *st, uint64_t seq, int64_t ts, bool first)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-1", seq);

	if (first)
		fx_add_seen(b, FP_D, "opaque", 100, EXE_APP, DST, HOST, ts);
	fx_add_usage(b, FP_D, "opaque", 100, EXE_APP, DST, HOST, 1, ts);
	apply_ok(st, b);
}

static void test_dormant_then_active(void **state)
{
	const int64_t back = T0 + 31 * DAY_MS;
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	char prev[32];

	config(&c, CFG_SHORT);
	use_at(st, 1, T0, true);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 0);
	assert_int_equal(db_int(st, "SELECT last_used FROM risk WHERE fingerprint = '" FP_D "'"),
			 T0);

	/* 31 days of silence, then a use of the same triple */
	use_at(st, 2, back, false);
	assert_int_equal(pass_at(st, &c, back), 1);
	one_alert(st, FP_D, "dormant_active", &v);
	snprintf(prev, sizeof(prev), "%lld", (long long)T0);
	assert_string_equal(v.subject, prev);
	assert_string_equal(v.severity, "medium");
	assert_string_equal(v.reason, "used again after 31 days without use");
	assert_int_equal(db_int(st, "SELECT first_seen FROM findings WHERE fingerprint = '" FP_D
				"' AND rule = 'dormant_active'"), back);

	/* a minute later: not dormant */
	use_at(st, 3, back + MIN_MS, false);
	assert_int_equal(pass_at(st, &c, back + MIN_MS), 0);
	assert_int_equal(count_rule(st, FP_D, "dormant_active"), 1);
	one_alert(st, FP_D, "dormant_active", &v);
	assert_int_equal(v.count, 1);
	risk_config_free(&c);
	store_close(st);
}

/*
 * A short silence across a minute boundary, ended by a new process: its
 * exact first time counts, not the start of its usage minute.
 */
static void test_dormant_across_minute(void **state)
{
	const int64_t first = T0 + 57500, again = T0 + 63500;
	struct store *st = tb_open(state);
	struct risk_config c;
	struct alert_view v;
	Tokentap__V1__Batch *b;

	config(&c, "{\"learning_window\": 60, \"dormant_after\": 5}");
	use_at(st, 1, first, true);
	assert_int_equal(pass_at(st, &c, first + 100), 0);
	b = fx_batch(SENSOR, "node-1", 2);
	fx_add_seen(b, FP_D, "opaque", 101, EXE_APP, DST, HOST, again);
	fx_add_usage(b, FP_D, "opaque", 101, EXE_APP, DST, HOST, 1, again);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, again + 100), 1);
	one_alert(st, FP_D, "dormant_active", &v);
	assert_string_equal(v.reason, "used again after 6 seconds without use");
	risk_config_free(&c);
	store_close(st);
}

/* ---- 7. scores ----------------------------------------------------------- */

static void test_scores_and_reasons(void **state)
{
	static const enum risk_rule rules[] = { RULE_WRONG_PROVIDER, RULE_PLAINTEXT,
						RULE_QUERY_STRING };
	static const char *const order[] = { "wrong_provider", "plaintext", "query_string" };
	struct risk_token tok = {
		.type = "github_pat", .prefix = "ghp_", .scheme = "Bearer",
		.header = "access_token", .aws_key_kind = "", .basic_password_type = "",
		.jwt_json = "",
	};
	struct store *st = tb_open(state);
	struct risk_config c;
	struct risk_score want;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *s;
	struct json_object *list, *t, *risk, *reasons;
	int64_t prev = 100;

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	/* three findings on one token */
	s = seen(b, FP_GH, "github_pat", 100, EXE_APP, "10.1.2.3:80", "evil.example", T0, false);
	s->token->in_query = true;
	fx_set_str(&s->token->header, "access_token");
	/* one each */
	seen(b, FP_A, "opaque", 100, EXE_APP, "10.1.2.3:80", "", T0, false);
	s = seen(b, FP_B, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	s->token->in_query = true;
	/* none */
	seen(b, FP_C, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	fx_add_held(b, FP_D, "opaque", 300, EXE_APP,
		    TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON, "API_KEY", T0);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 5);

	/* every token touched has a score */
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM tokens"), 5);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM tokens WHERE fingerprint NOT IN"
				" (SELECT fingerprint FROM risk)"), 0);

	/* the stored score is the model's for the open rules */
	risk_score_token(&c, &tok, rules, 3, T0 + SEC_MS, &want);
	assert_int_equal(db_int(st, "SELECT score FROM risk WHERE fingerprint = '" FP_GH "'"),
			 want.score);

	list = NULL;
	{
		char err[256] = "";

		if (store_query_tokens(st, TOKEN_SORT_RISK, &list, err, sizeof(err)) != 0)
			fail_msg("store_query_tokens: %s", err);
	}
	assert_int_equal(json_object_array_length(list), 5);
	assert_string_equal(gets_(idx(list, 0), "fingerprint"), FP_GH);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *sc = get(get(idx(list, i), "risk"), "score");
		int64_t score;

		assert_true(json_object_is_type(sc, json_type_int));
		score = json_object_get_int64(sc);
		assert_true(score >= 0 && score <= 100);
		assert_true(score <= prev);
		prev = score;
	}
	json_object_put(list);

	t = token_view(st, FP_GH);
	risk = get(t, "risk");
	assert_int_equal(geti(risk, "score"), want.score);
	reasons = geta(risk, "reasons");
	assert_int_equal(json_object_array_length(reasons), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(gets_(idx(reasons, i), "rule"), order[i]);
		if (i > 0)
			assert_true(json_object_get_double(get(idx(reasons, i - 1), "weight")) >=
				    json_object_get_double(get(idx(reasons, i), "weight")));
	}
	json_object_put(t);
	risk_config_free(&c);
	store_close(st);
}

/* ---- 8. the outbox --------------------------------------------------------- */

#define CFG_OUTBOX                                                                         \
	"{\"learning_window\": 60, \"held_unused_after\": 120,"                            \
	" \"webhooks\": [{\"url\": \"" WEBHOOK_URL "\", \"min_severity\": \"high\"}],"     \
	" \"revocation_hooks\": [{\"name\": \"" HOOK_NAME "\", \"token_type\": \"github_pat\"," \
	" \"rule\": \"wrong_provider\", \"command\": [\"/bin/true\"],"                     \
	" \"mark_for_sensor\": true}]}"

static int due(struct store *st, int64_t now, struct risk_action *out, size_t cap)
{
	char err[256] = "";
	int n = store_risk_due(st, now, out, cap, err, sizeof(err));

	if (n < 0)
		fail_msg("store_risk_due: %s", err);
	return n;
}

static void release_all(struct risk_action *a, int n)
{
	for (int i = 0; i < n; i++)
		risk_action_release(&a[i]);
}

static void record(struct store *st, const struct risk_action *a, int64_t now,
		   const struct risk_outcome *o)
{
	char err[256] = "";

	if (store_risk_record(st, a, now, o, err, sizeof(err)) != 0)
		fail_msg("store_risk_record: %s", err);
}

static int pending(struct store *st, struct json_object **arr)
{
	int n;

	*arr = json_object_new_array();
	n = store_pending_revocations(st, *arr, STORE_REVOKE_REPLY_MAX);
	assert_int_equal((size_t)n, json_object_array_length(*arr));
	return n;
}

static void test_outbox(void **state)
{
	const int64_t now = T0 + 62 * SEC_MS;
	struct store *st = tb_open(state);
	struct risk_config c;
	struct risk_action a[8], webhook, hook;
	struct alert_view wp, nw;
	Tokentap__V1__Batch *b;
	struct json_object *arr, *t, *revs, *mark, *dl;
	char label[600];
	int n;

	config(&c, CFG_OUTBOX);
	assert_int_equal(c.n_webhooks, 1);
	assert_int_equal(c.n_hooks, 1);
	/* a webhook is queued and logged by its label: its path may be a secret */
	assert_int_equal(webhook_url_label(WEBHOOK_URL, label, sizeof(label)), 0);
	assert_null(strstr(label, "/alerts"));

	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	seen(b, FP_A, "opaque", 100, EXE_APP, DST, HOST, T0, true);
	apply_ok(st, b);
	b = fx_batch(SENSOR, "node-1", 2);
	seen(b, FP_A, "opaque", 101, EXE_OTHER, DST, HOST, T0 + 61 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, now), 2);
	one_alert(st, FP_GH, "wrong_provider", &wp);
	one_alert(st, FP_A, "new_workload", &nw);
	assert_string_equal(nw.severity, "medium");

	/* the high finding: one webhook delivery, one hook; the medium one: nothing */
	assert_int_equal(due(st, now - 1, a, 8), 0);
	n = due(st, now, a, 8);
	assert_int_equal(n, 2);
	memset(&webhook, 0, sizeof(webhook));
	memset(&hook, 0, sizeof(hook));
	for (int i = 0; i < n; i++) {
		assert_int_equal(a[i].finding_id, wp.id);
		assert_int_equal(a[i].attempts, 0);
		assert_non_null(a[i].alert);
		assert_string_equal(gets_(a[i].alert, "rule"), "wrong_provider");
		assert_string_equal(gets_(a[i].alert, "fingerprint"), FP_GH);
		assert_string_equal(gets_(a[i].alert, "severity"), "high");
		if (!strcmp(a[i].kind, "webhook")) {
			assert_string_equal(a[i].target, label);
			webhook = a[i];
		} else {
			assert_string_equal(a[i].kind, "hook");
			assert_string_equal(a[i].target, HOOK_NAME);
			hook = a[i];
		}
	}
	assert_string_equal(webhook.kind, "webhook");
	assert_string_equal(hook.kind, "hook");
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM outbox o JOIN findings f"
				" ON f.id = o.finding_id WHERE f.rule = 'new_workload'"), 0);
	/* the alerts stay owned by a[] */
	webhook.alert = NULL;
	hook.alert = NULL;
	release_all(a, n);

	/* a failed delivery retried in a minute: not due before */
	record(st, &webhook, now,
	       &(struct risk_outcome){ .outcome = "retry", .next_at = now + MIN_MS,
				       .http_status = 503, .detail = "HTTP 503" });
	n = due(st, now, a, 8);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].kind, "hook");
	release_all(a, n);
	n = due(st, now + MIN_MS - 1, a, 8);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].kind, "hook");
	release_all(a, n);

	/* the hook ran and asked sensors to revoke */
	assert_int_equal(pending(st, &arr), 0);
	json_object_put(arr);
	record(st, &hook, now + SEC_MS,
	       &(struct risk_outcome){ .outcome = "ok", .exit_code = 0, .detail = "revoked",
				       .mark = 1 });
	assert_int_equal(pending(st, &arr), 1);
	assert_string_equal(json_object_get_string(idx(arr, 0)), FP_GH);
	json_object_put(arr);

	/* the retry is due at its time, once, with the attempt counted */
	n = due(st, now + MIN_MS, a, 8);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].kind, "webhook");
	assert_int_equal(a[0].attempts, 1);
	record(st, &a[0], now + MIN_MS,
	       &(struct risk_outcome){ .outcome = "ok", .http_status = 200 });
	release_all(a, n);
	assert_int_equal(due(st, now + DAY_MS, a, 8), 0);

	/* each webhook attempt is in the delivery log */
	arr = alerts(st, FP_GH);
	assert_int_equal(json_object_array_length(arr), 1);
	dl = geta(idx(arr, 0), "deliveries");
	assert_int_equal(json_object_array_length(dl), 2);
	assert_string_equal(gets_(idx(dl, 0), "target"), label);
	assert_string_equal(gets_(idx(dl, 1), "target"), label);
	assert_int_equal(geti(idx(dl, 0), "attempt"), 1);
	assert_string_equal(gets_(idx(dl, 0), "outcome"), "retry");
	assert_int_equal(geti(idx(dl, 0), "http_status"), 503);
	assert_string_equal(gets_(idx(dl, 0), "error"), "HTTP 503");
	assert_int_equal(geti(idx(dl, 1), "attempt"), 2);
	assert_string_equal(gets_(idx(dl, 1), "outcome"), "ok");
	assert_int_equal(geti(idx(dl, 1), "http_status"), 200);
	json_object_put(arr);

	/* a sensor reports the revocation: no longer pending */
	b = fx_batch(SENSOR, "node-1", 3);
	fx_add_revocation(b, FP_GH, "ok", now + 2 * MIN_MS);
	apply_ok(st, b);
	assert_int_equal(pending(st, &arr), 0);
	json_object_put(arr);

	t = token_view(st, FP_GH);
	revs = geta(t, "revocations");
	assert_int_equal(json_object_array_length(revs), 2);
	assert_string_equal(gets_(idx(revs, 0), "hook"), HOOK_NAME);
	assert_string_equal(gets_(idx(revs, 0), "outcome"), "ok");
	assert_int_equal(geti(idx(revs, 0), "exit_code"), 0);
	assert_int_equal(geti(idx(revs, 0), "finding_id"), wp.id);
	assert_string_equal(gets_(idx(revs, 0), "detail"), "revoked");
	assert_string_equal(gets_(idx(revs, 1), "hook"), "sensor:node-1");
	assert_string_equal(gets_(idx(revs, 1), "outcome"), "ok");
	assert_int_equal(geti(idx(revs, 1), "finding_id"), 0);
	mark = get(t, "sensor_revocation");
	assert_string_equal(gets_(mark, "hook"), HOOK_NAME);
	assert_string_equal(gets_(mark, "done_node"), "node-1");
	assert_string_equal(gets_(mark, "outcome"), "ok");
	assert_non_null(get(mark, "done_at"));
	json_object_put(t);
	risk_config_free(&c);
	store_close(st);
}

/* A failed final attempt: no retry, no mark; a hook without mark leaves nothing pending. */
static void test_outbox_failed_and_unmarked(void **state)
{
	const int64_t now = T0 + SEC_MS;
	struct store *st = tb_open(state);
	struct risk_config c;
	struct risk_action a[8];
	Tokentap__V1__Batch *b;
	struct json_object *arr;
	int n;

	config(&c, CFG_OUTBOX);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, now), 1);
	n = due(st, now, a, 8);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		record(st, &a[i], now,
		       &(struct risk_outcome){ .outcome = "failed", .exit_code = 1,
					       .http_status = 500, .detail = "boom", .mark = 1 });
	release_all(a, n);
	assert_int_equal(due(st, now + DAY_MS, a, 8), 0);
	assert_int_equal(pending(st, &arr), 0);
	json_object_put(arr);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM outbox WHERE state = 'failed'"), 2);
	risk_config_free(&c);
	store_close(st);
}

/* ---- 9. alert filters ------------------------------------------------------ */

static void test_alert_filters(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *s;
	struct alert_filter f;
	struct json_object *arr;
	char err[256] = "";

	config(&c, CFG_SHORT);
	b = fx_batch(SENSOR, "node-1", 1);
	/* high at T0 + 1 s, low at T0 + 2 s, high at T0 + 3 s */
	seen(b, FP_A, "opaque", 100, EXE_APP, "10.1.2.3:80", "", T0 + SEC_MS, false);
	s = seen(b, FP_B, "opaque", 100, EXE_APP, DST, HOST, T0 + 2 * SEC_MS, true);
	s->token->in_query = true;
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443",
	     T0 + 3 * SEC_MS, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, T0 + 4 * SEC_MS), 3);

	/* everything, newest first */
	arr = alerts(st, NULL);
	assert_int_equal(json_object_array_length(arr), 3);
	assert_string_equal(gets_(idx(arr, 0), "fingerprint"), FP_GH);
	assert_string_equal(gets_(idx(arr, 0), "rule"), "wrong_provider");
	assert_string_equal(gets_(idx(arr, 1), "fingerprint"), FP_B);
	assert_string_equal(gets_(idx(arr, 1), "rule"), "query_string");
	assert_string_equal(gets_(idx(arr, 2), "fingerprint"), FP_A);
	assert_string_equal(gets_(idx(arr, 2), "rule"), "plaintext");
	assert_string_equal(gets_(idx(arr, 2), "first_seen"), "2026-01-01T00:00:01.000Z");
	assert_int_equal(json_object_array_length(geta(idx(arr, 0), "deliveries")), 0);
	json_object_put(arr);

	/* min_severity */
	f = (struct alert_filter){ .min_severity = RISK_SEV_HIGH };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(gets_(idx(arr, 0), "fingerprint"), FP_GH);
	assert_string_equal(gets_(idx(arr, 1), "fingerprint"), FP_A);
	json_object_put(arr);
	f = (struct alert_filter){ .min_severity = RISK_SEV_CRITICAL };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);

	/* fingerprint */
	f = (struct alert_filter){ .fingerprint = FP_B };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(gets_(idx(arr, 0), "rule"), "query_string");
	json_object_put(arr);
	f = (struct alert_filter){ .fingerprint = FP_C };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);

	/* limit keeps the newest */
	f = (struct alert_filter){ .limit = 2 };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(gets_(idx(arr, 0), "fingerprint"), FP_GH);
	assert_string_equal(gets_(idx(arr, 1), "fingerprint"), FP_B);
	json_object_put(arr);

	/* since, combined with min_severity */
	f = (struct alert_filter){ .min_severity = RISK_SEV_HIGH, .since_ms = T0 + 2 * SEC_MS };
	assert_int_equal(store_query_alerts(st, &f, &arr, err, sizeof(err)), 0);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(gets_(idx(arr, 0), "fingerprint"), FP_GH);
	json_object_put(arr);
	risk_config_free(&c);
	store_close(st);
}

/* ---- 10. a replayed batch ------------------------------------------------- */

static Tokentap__V1__Batch *replay_batch(void)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-1", 7);

	seen(b, FP_A, "opaque", 100, EXE_APP, "10.1.2.3:80", "", T0, false);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	fx_add_held(b, FP_B, "opaque", 300, EXE_APP, TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV,
		    "argv[1]", T0);
	return b;
}

static void test_replay_changes_nothing(void **state)
{
	struct store *st = tb_open(state);
	struct risk_config c;

	config(&c, CFG_SHORT);
	apply_ok(st, replay_batch());
	assert_int_equal(pass_at(st, &c, T0 + SEC_MS), 3);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM seen_log"), 2);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM held"), 1);

	apply_free(st, replay_batch(), STORE_DUPLICATE);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM seen_log"), 2);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM held"), 1);
	assert_int_equal(pass_at(st, &c, T0 + 2 * SEC_MS), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM findings"), 3);
	assert_int_equal(db_int(st, "SELECT SUM(count) FROM findings"), 3);
	risk_config_free(&c);
	store_close(st);
}

/*
 * Two collectors on one PostgreSQL database, both running the engine for a
 * moment (as during a leader change): one pass finds the alert once, and
 * its deliveries are claimed by one of them only: each is sent once.
 */
static void test_pg_two_leaders_deliver_once(void **state)
{
	const int64_t now = T0 + 62 * SEC_MS;
	char url[512], err[512];
	const char *path = tb_path(state, url, sizeof(url));
	struct store *st = store_open(path, 0, err, sizeof(err)), *other;
	struct risk_config c;
	struct risk_action a[8], b2[8];
	Tokentap__V1__Batch *b;
	int n;

	if (!st)
		fail_msg("store_open: %s", err);
	other = store_open(path, 0, err, sizeof(err));
	if (!other)
		fail_msg("store_open: %s", err);
	config(&c, CFG_OUTBOX);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	apply_ok(st, b);
	/* both pass: the second finds nothing new (the cursor moved under the pass lock) */
	assert_int_equal(pass_at(st, &c, now), 1);
	assert_int_equal(pass_at(other, &c, now), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM findings"), 1);

	n = due(st, now, a, 8);
	assert_int_equal(n, 2); /* the webhook and the hook */
	/* claimed by the first: the other sees nothing due while the claim holds */
	assert_int_equal(due(other, now, b2, 8), 0);
	assert_int_equal(due(other, now + 30 * SEC_MS, b2, 8), 0);
	for (int i = 0; i < n; i++)
		record(st, &a[i], now, &(struct risk_outcome){ .outcome = "ok", .detail = "" });
	release_all(a, n);
	/* done: due for nobody, even after the claim would have lapsed */
	assert_int_equal(due(other, now + 600 * SEC_MS, b2, 8), 0);
	assert_int_equal(due(st, now + 600 * SEC_MS, a, 8), 0);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM deliveries"), 1);
	assert_int_equal(db_int(st, "SELECT COUNT(*) FROM revocations"), 1);
	risk_config_free(&c);
	store_close(other);
	store_close(st);
}

/* A claim whose holder never recorded the outcome (killed) lapses to another replica. */
static void test_pg_claim_lapses(void **state)
{
	const int64_t now = T0 + 62 * SEC_MS;
	char url[512], err[512];
	const char *path = tb_path(state, url, sizeof(url));
	struct store *st = store_open(path, 0, err, sizeof(err)), *other;
	struct risk_config c;
	struct risk_action a[8];
	Tokentap__V1__Batch *b;
	int n;

	if (!st)
		fail_msg("store_open: %s", err);
	other = store_open(path, 0, err, sizeof(err));
	if (!other)
		fail_msg("store_open: %s", err);
	config(&c, CFG_OUTBOX);
	b = fx_batch(SENSOR, "node-1", 1);
	seen(b, FP_GH, "github_pat", 100, EXE_APP, "127.0.0.1:8443", "127.0.0.1:8443", T0, true);
	apply_ok(st, b);
	assert_int_equal(pass_at(st, &c, now), 1);
	n = due(st, now, a, 8);
	assert_int_equal(n, 2);
	release_all(a, n);
	store_close(st);
	assert_int_equal(due(other, now + 59 * SEC_MS, a, 8), 0);
	n = due(other, now + 60 * SEC_MS, a, 8);
	assert_int_equal(n, 2);
	release_all(a, n);
	risk_config_free(&c);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		STORE_TEST(test_new_workload_after_window),
		STORE_TEST(test_k8s_workload_stable_across_restarts),
		STORE_TEST(test_new_destination_and_node),
		STORE_TEST(test_wrong_provider),
		STORE_TEST(test_plaintext),
		STORE_TEST(test_shared_across_namespaces),
		STORE_TEST(test_query_string_and_basic_password),
		STORE_TEST(test_held_in_argv),
		STORE_TEST(test_held_never_used_then_used),
		STORE_TEST(test_dormant_then_active),
		STORE_TEST(test_dormant_across_minute),
		STORE_TEST(test_scores_and_reasons),
		STORE_TEST(test_outbox),
		STORE_TEST(test_outbox_failed_and_unmarked),
		STORE_TEST(test_alert_filters),
		STORE_TEST(test_replay_changes_nothing),
		{ "test_pg_two_leaders_deliver_once", test_pg_two_leaders_deliver_once, NULL, tb_drop,
		  (void *)&tb_pg },
		{ "test_pg_claim_lapses", test_pg_claim_lapses, NULL, tb_drop, (void *)&tb_pg },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
