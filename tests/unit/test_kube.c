/* SPDX-License-Identifier: Apache-2.0 */
/* The pod watcher's pure parts: pod JSON, watch lines, lists, workloads, cache, config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_cache.h"
#include "kube_config.h"
#include "kube_pod.h"

#define UID1 "11111111-2222-3333-4444-555555555555"
#define UID2 "11111111-2222-3333-4444-666666666666"
#define CID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* A Deployment's pod, as the API server answers it (trimmed). */
static const char pod_deploy[] =
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"api-7d4b9c8f6-x2x9z\","
	"\"namespace\":\"payments\",\"uid\":\"" UID1 "\",\"resourceVersion\":\"101\","
	"\"labels\":{\"app\":\"api\",\"pod-template-hash\":\"7d4b9c8f6\"},"
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
	"\"name\":\"api-7d4b9c8f6\",\"uid\":\"x\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
	"\"spec\":{\"nodeName\":\"node-1\",\"serviceAccountName\":\"api-sa\","
	"\"containers\":[{\"name\":\"server\",\"image\":\"registry.example/api:1.4\"},"
	"{\"name\":\"proxy\",\"image\":\"envoyproxy/envoy:v1.30\"}],"
	"\"initContainers\":[{\"name\":\"migrate\",\"image\":\"registry.example/api:1.4\"}]},"
	"\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
	"{\"name\":\"server\",\"containerID\":\"containerd://" CID_A "\"},"
	"{\"name\":\"proxy\",\"containerID\":\"cri-o://" CID_B "\"}]}}";

static void test_pod_parse(void **state)
{
	struct json_object *o = json_tokener_parse(pod_deploy);
	struct kube_pod p;
	struct pod_ident id;

	(void)state;
	assert_non_null(o);
	assert_int_equal(kube_pod_from_json(o, &p), 0);
	json_object_put(o);
	assert_string_equal(p.uid, UID1);
	assert_string_equal(p.name, "api-7d4b9c8f6-x2x9z");
	assert_string_equal(p.k8s_namespace, "payments");
	assert_string_equal(p.service_account, "api-sa");
	assert_string_equal(p.workload_kind, "Deployment");
	assert_string_equal(p.workload_name, "api");
	assert_int_equal(p.ncontainers, 3);
	assert_string_equal(p.c[0].id, CID_A);
	assert_string_equal(p.c[1].id, CID_B);
	assert_string_equal(p.c[2].id, "");

	kube_pod_ident(&p, CID_B, &id);
	assert_string_equal(id.container, "proxy");
	assert_string_equal(id.image, "envoyproxy/envoy:v1.30");
	assert_string_equal(id.pod, "api-7d4b9c8f6-x2x9z");
	kube_pod_ident(&p, "", &id);
	assert_string_equal(id.container, "");
	assert_string_equal(id.workload_name, "api");
}

static void test_pod_invalid(void **state)
{
	static const char *const bad[] = {
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}",                   /* no uid */
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"uid\":\"short\"}}", /* bad uid */
		"{\"metadata\":{\"name\":\"A B\",\"namespace\":\"b\",\"uid\":\"" UID1 "\"}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":\"b.c\",\"uid\":\"" UID1 "\"}}",
		"{\"metadata\":{\"name\":\"a\",\"namespace\":7,\"uid\":\"" UID1 "\"}}",
		"[]",
	};
	struct kube_pod p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_tokener_parse(bad[i]);

		assert_int_equal(kube_pod_from_json(o, &p), -1);
		json_object_put(o);
	}
	/* a bare pod: minimal, no containers; bad image and sa are left out */
	{
		struct json_object *o = json_tokener_parse(
			"{\"metadata\":{\"name\":\"debug\",\"namespace\":\"default\",\"uid\":\"" UID2 "\"},"
			"\"spec\":{\"serviceAccountName\":\"x y\",\"containers\":[{\"name\":\"c\","
			"\"image\":\"bad image\"},{\"name\":\"Bad\"}]}}");

		assert_int_equal(kube_pod_from_json(o, &p), 0);
		json_object_put(o);
		assert_string_equal(p.workload_kind, "Pod");
		assert_string_equal(p.workload_name, "debug");
		assert_string_equal(p.service_account, "");
		assert_int_equal(p.ncontainers, 1);
		assert_string_equal(p.c[0].image, "");
	}
}

static void test_workload(void **state)
{
	char kind[POD_KIND_MAX], name[POD_NAME_MAX];

	(void)state;
	kube_workload("ReplicaSet", "web-5f7c9d", "web-5f7c9d-abcde", "5f7c9d", kind, name);
	assert_string_equal(kind, "Deployment");
	assert_string_equal(name, "web");
	/* a ReplicaSet of its own: no template hash, or one that does not match */
	kube_workload("ReplicaSet", "web-5f7c9d", "web-5f7c9d-abcde", NULL, kind, name);
	assert_string_equal(kind, "ReplicaSet");
	assert_string_equal(name, "web-5f7c9d");
	kube_workload("ReplicaSet", "web-5f7c9d", "p", "zzz", kind, name);
	assert_string_equal(kind, "ReplicaSet");
	kube_workload("Job", "backup-28012345", "backup-28012345-xyz", NULL, kind, name);
	assert_string_equal(kind, "CronJob");
	assert_string_equal(name, "backup");
	/* a Job named with a short number is not a CronJob's */
	kube_workload("Job", "migrate-2", "migrate-2-xyz", NULL, kind, name);
	assert_string_equal(kind, "Job");
	assert_string_equal(name, "migrate-2");
	kube_workload("StatefulSet", "db", "db-0", NULL, kind, name);
	assert_string_equal(kind, "StatefulSet");
	assert_string_equal(name, "db");
	kube_workload("DaemonSet", "agent", "agent-x1", NULL, kind, name);
	assert_string_equal(kind, "DaemonSet");
	kube_workload(NULL, NULL, "lonely", NULL, kind, name);
	assert_string_equal(kind, "Pod");
	assert_string_equal(name, "lonely");
	/* a suffix alone is not a name */
	kube_workload("ReplicaSet", "-abc", "p", "abc", kind, name);
	assert_string_equal(kind, "ReplicaSet");
}

static void test_container_id(void **state)
{
	char out[65];

	(void)state;
	kube_container_id("containerd://" CID_A, out);
	assert_string_equal(out, CID_A);
	kube_container_id("docker://" CID_B, out);
	assert_string_equal(out, CID_B);
	kube_container_id("containerd://" CID_A "0", out);
	assert_string_equal(out, "");
	kube_container_id("containerd://ABC", out);
	assert_string_equal(out, "");
	kube_container_id(CID_A, out);
	assert_string_equal(out, "");
	kube_container_id(NULL, out);
	assert_string_equal(out, "");
}

static void test_watch_lines(void **state)
{
	struct kube_watch_event *ev = malloc(sizeof(*ev));
	char line[4096];

	(void)state;
	assert_non_null(ev);
	snprintf(line, sizeof(line), "{\"type\":\"ADDED\",\"object\":%s}", pod_deploy);
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), 0);
	assert_int_equal(ev->type, KUBE_ADDED);
	assert_string_equal(ev->resource_version, "101");
	assert_string_equal(ev->pod.workload_name, "api");
	snprintf(line, sizeof(line), "{\"type\":\"DELETED\",\"object\":%s}", pod_deploy);
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), 0);
	assert_int_equal(ev->type, KUBE_DELETED);

	snprintf(line, sizeof(line), "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\","
				     "\"metadata\":{\"resourceVersion\":\"777\"}}}");
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), 0);
	assert_int_equal(ev->type, KUBE_BOOKMARK);
	assert_string_equal(ev->resource_version, "777");

	snprintf(line, sizeof(line), "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
				     "\"reason\":\"Expired\",\"code\":410}}");
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), 0);
	assert_int_equal(ev->type, KUBE_ERROR);
	assert_int_equal(ev->code, 410);

	/* malformed: unknown type, no object, a bookmark without version, garbage, too deep */
	snprintf(line, sizeof(line), "{\"type\":\"RENAMED\",\"object\":%s}", pod_deploy);
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), -1);
	snprintf(line, sizeof(line), "{\"type\":\"ADDED\"}");
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), -1);
	snprintf(line, sizeof(line), "{\"type\":\"BOOKMARK\",\"object\":{}}");
	assert_int_equal(kube_watch_line_parse(line, strlen(line), ev), -1);
	assert_int_equal(kube_watch_line_parse("{\"type\":", 8, ev), -1);
	assert_int_equal(kube_watch_line_parse("", 0, ev), -1);
	memset(line, '[', 200);
	assert_int_equal(kube_watch_line_parse(line, 200, ev), -1);
	free(ev);
}

static void count_pod(void *ctx, const struct kube_pod *p)
{
	(*(int *)ctx)++;
	assert_string_equal(p->uid, UID1);
}

static void test_list(void **state)
{
	char body[8192], rv[KUBE_RV_MAX];
	size_t skipped;
	int n = 0;

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5000\"},\"items\":[%s,"
		 "{\"metadata\":{\"name\":\"x\"}}]}", pod_deploy);
	assert_int_equal(kube_list_parse(body, strlen(body), count_pod, &n, rv, &skipped), 0);
	assert_int_equal(n, 1);
	assert_int_equal(skipped, 1);
	assert_string_equal(rv, "5000");
	/* an empty node answers "items": null */
	snprintf(body, sizeof(body), "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"9\"},"
				     "\"items\":null}");
	assert_int_equal(kube_list_parse(body, strlen(body), count_pod, &n, rv, &skipped), 0);
	assert_int_equal(n, 1);
	/* no resourceVersion: nothing to watch from */
	snprintf(body, sizeof(body), "{\"kind\":\"PodList\",\"items\":[]}");
	assert_int_equal(kube_list_parse(body, strlen(body), count_pod, &n, rv, &skipped), -1);
	snprintf(body, sizeof(body), "{\"kind\":\"Status\",\"code\":403}");
	assert_int_equal(kube_list_parse(body, strlen(body), count_pod, &n, rv, &skipped), -1);
}

static void test_cache(void **state)
{
	struct kube_cache *c = kube_cache_new();
	struct json_object *o = json_tokener_parse(pod_deploy);
	struct kube_pod p;
	struct pod_ident id;

	(void)state;
	assert_non_null(c);
	assert_int_equal(kube_pod_from_json(o, &p), 0);
	json_object_put(o);
	assert_int_equal(kube_cache_lookup(c, UID1, CID_A, &id), 0);
	assert_int_equal(kube_cache_put(c, &p), 0);
	assert_int_equal(kube_cache_lookup(c, UID1, CID_A, &id), 1);
	assert_string_equal(id.container, "server");
	assert_string_equal(id.image, "registry.example/api:1.4");
	assert_int_equal(kube_cache_lookup(c, "", CID_A, &id), 0);

	/* deleted: still answered for late events, forgotten after the grace time */
	kube_cache_delete(c, UID1, 1000);
	kube_cache_expire(c, 1000 + KUBE_DELETED_KEEP_MS);
	assert_int_equal(kube_cache_lookup(c, UID1, CID_A, &id), 1);
	kube_cache_expire(c, 1001 + KUBE_DELETED_KEEP_MS);
	assert_int_equal(kube_cache_lookup(c, UID1, CID_A, &id), 0);
	assert_int_equal(kube_cache_count(c), 0);

	/* a relist that no longer names a pod deletes it (after the grace time) */
	assert_int_equal(kube_cache_put(c, &p), 0);
	kube_cache_begin_relist(c);
	kube_cache_end_relist(c, 5000);
	assert_int_equal(kube_cache_count(c), 1);
	kube_cache_expire(c, 5001 + KUBE_DELETED_KEEP_MS);
	assert_int_equal(kube_cache_count(c), 0);

	/* full: deleted pods make room, live ones are never dropped */
	for (unsigned i = 0; i < KUBE_CACHE_MAX; i++) {
		snprintf(p.uid, sizeof(p.uid), "00000000-0000-0000-0000-%012u", i);
		assert_int_equal(kube_cache_put(c, &p), 0);
	}
	snprintf(p.uid, sizeof(p.uid), "%s", UID2);
	assert_int_equal(kube_cache_put(c, &p), -1);
	kube_cache_delete(c, "00000000-0000-0000-0000-000000000007", 10);
	assert_int_equal(kube_cache_put(c, &p), 0);
	assert_int_equal(kube_cache_lookup(c, UID2, "", &id), 1);
	assert_int_equal(kube_cache_lookup(c, "00000000-0000-0000-0000-000000000007", "", &id), 0);
	kube_cache_free(c);
}

static const char *fake_env_in_pod(const char *name)
{
	if (!strcmp(name, "KUBERNETES_SERVICE_HOST"))
		return "10.96.0.1";
	if (!strcmp(name, "KUBERNETES_SERVICE_PORT"))
		return "443";
	return NULL;
}

static const char *fake_env_v6(const char *name)
{
	return !strcmp(name, "KUBERNETES_SERVICE_HOST") ? "fd00::1" : NULL;
}

static const char *fake_env_bad(const char *name)
{
	return !strcmp(name, "KUBERNETES_SERVICE_HOST") ? "evil/host?x" : NULL;
}

static const char *fake_env_none(const char *name)
{
	(void)name;
	return NULL;
}

static void test_config(void **state)
{
	struct kube_config k;
	char err[128];

	(void)state;
	assert_int_equal(kube_config_resolve(NULL, NULL, NULL, fake_env_none, &k, err, sizeof(err)), 0);
	assert_int_equal(kube_config_resolve(NULL, "/t", NULL, fake_env_none, &k, err, sizeof(err)), 0);
	assert_int_equal(kube_config_resolve(NULL, NULL, NULL, fake_env_in_pod, &k, err, sizeof(err)), 1);
	assert_string_equal(k.api, "https://10.96.0.1:443");
	assert_string_equal(k.token_file, KUBE_SA_DIR "/token");
	assert_string_equal(k.ca_file, KUBE_SA_DIR "/ca.crt");
	assert_int_equal(kube_config_resolve(NULL, NULL, NULL, fake_env_v6, &k, err, sizeof(err)), 1);
	assert_string_equal(k.api, "https://[fd00::1]:443");
	assert_int_equal(kube_config_resolve(NULL, NULL, NULL, fake_env_bad, &k, err, sizeof(err)), -1);
	/* flags win over the environment, and nothing is implied outside a pod */
	assert_int_equal(kube_config_resolve("https://127.0.0.1:6443/", "/tok", "/ca", fake_env_in_pod,
					     &k, err, sizeof(err)), 1);
	assert_string_equal(k.api, "https://127.0.0.1:6443");
	assert_string_equal(k.token_file, "/tok");
	assert_string_equal(k.ca_file, "/ca");
	assert_int_equal(kube_config_resolve("https://h:1", NULL, NULL, fake_env_none, &k, err, sizeof(err)), 1);
	assert_string_equal(k.token_file, "");
	assert_int_equal(kube_config_resolve("ftp://h", NULL, NULL, fake_env_none, &k, err, sizeof(err)), -1);
	assert_int_equal(kube_config_resolve("https://h/?x=1", NULL, NULL, fake_env_none, &k, err, sizeof(err)), -1);
	assert_int_equal(kube_config_resolve("https://h /", NULL, NULL, fake_env_none, &k, err, sizeof(err)), -1);
	assert_int_equal(kube_config_resolve("https://u:p@h/", NULL, NULL, fake_env_none, &k, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_parse),
		cmocka_unit_test(test_pod_invalid),
		cmocka_unit_test(test_workload),
		cmocka_unit_test(test_container_id),
		cmocka_unit_test(test_watch_lines),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
