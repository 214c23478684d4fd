/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes pod JSON fuzz target: the input is one watch line and, read
 * as a whole, a pod list. Every pod accepted goes through the cache and
 * comes back out as names; every string out must be NUL-terminated within
 * its field and free of control bytes.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube_cache.h"
#include "kube_pod.h"

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	assert(n < cap);
	for (size_t i = 0; i < n; i++)
		assert((unsigned char)s[i] > ' ' && (unsigned char)s[i] <= '~');
}

static void check_pod(struct kube_cache *c, const struct kube_pod *p)
{
	struct pod_ident id;

	check_text(p->uid, sizeof(p->uid));
	check_text(p->name, sizeof(p->name));
	check_text(p->k8s_namespace, sizeof(p->k8s_namespace));
	check_text(p->workload_kind, sizeof(p->workload_kind));
	check_text(p->workload_name, sizeof(p->workload_name));
	assert(p->name[0] && p->k8s_namespace[0] && p->workload_kind[0] && p->workload_name[0]);
	assert(p->ncontainers <= KUBE_CONTAINERS_MAX);
	kube_cache_put(c, p);
	for (size_t i = 0; i < p->ncontainers; i++) {
		check_text(p->c[i].image, sizeof(p->c[i].image));
		assert(kube_cache_lookup(c, p->uid, p->c[i].id, &id) == 1);
		if (p->c[i].id[0])
			assert(id.container[0]);
	}
	assert(kube_cache_lookup(c, p->uid, "", &id) == 1);
	assert(!strcmp(id.pod, p->name));
}

static void on_pod(void *ctx, const struct kube_pod *p)
{
	check_pod(ctx, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kube_cache *c;
	struct kube_watch_event *ev = malloc(sizeof(*ev));
	char rv[KUBE_RV_MAX];
	size_t skipped;

	if (!c)
		c = kube_cache_new();
	if (!ev || !c) {
		free(ev);
		return 0;
	}
	if (kube_watch_line_parse((const char *)data, size, ev) == 0) {
		assert(ev->type <= KUBE_ERROR);
		check_text(ev->resource_version, sizeof(ev->resource_version));
		if (ev->type != KUBE_BOOKMARK && ev->type != KUBE_ERROR)
			check_pod(c, &ev->pod);
		if (ev->type == KUBE_DELETED)
			kube_cache_delete(c, ev->pod.uid, 1);
	}
	kube_cache_begin_relist(c);
	if (kube_list_parse((const char *)data, size, on_pod, c, rv, &skipped) == 0) {
		assert(rv[0]);
		check_text(rv, sizeof(rv));
	}
	kube_cache_end_relist(c, 2);
	kube_cache_expire(c, 2 + KUBE_DELETED_KEEP_MS + 1);
	assert(kube_cache_count(c) <= KUBE_CACHE_MAX);
	free(ev);
	return 0;
}
