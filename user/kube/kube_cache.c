/* SPDX-License-Identifier: Apache-2.0 */
#include "kube_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct kube_pod pod;
	int64_t deleted_ms; /* 0: live */
	bool listed;        /* named by the relist under way */
};

/*
 * A node runs at most a few hundred pods: a linear scan over a flat array
 * is cheaper than any index at this size, and lookups happen once per
 * process described.
 */
struct kube_cache {
	pthread_mutex_t lock;
	size_t n;
	struct entry *e;
};

struct kube_cache *kube_cache_new(void)
{
	struct kube_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->e = calloc(KUBE_CACHE_MAX, sizeof(*c->e));
	if (!c->e) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void kube_cache_free(struct kube_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c);
}

static struct entry *find(struct kube_cache *c, const char *uid)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].pod.uid, uid))
			return &c->e[i];
	return NULL;
}

static void drop(struct kube_cache *c, struct entry *e)
{
	*e = c->e[--c->n];
}

int kube_cache_put(struct kube_cache *c, const struct kube_pod *p)
{
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	e = find(c, p->uid);
	if (!e && c->n == KUBE_CACHE_MAX) {
		size_t i, old = 0;
		bool any = false;

		/* full: the pod deleted longest ago makes room; live pods stay */
		for (i = 0; i < c->n; i++)
			if (c->e[i].deleted_ms &&
			    (!any || c->e[i].deleted_ms < c->e[old].deleted_ms)) {
				old = i;
				any = true;
			}
		if (any)
			drop(c, &c->e[old]);
	}
	if (!e && c->n < KUBE_CACHE_MAX)
		e = &c->e[c->n++];
	if (e) {
		e->pod = *p;
		e->deleted_ms = 0;
		e->listed = true;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void kube_cache_delete(struct kube_cache *c, const char *uid, int64_t now_ms)
{
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, uid);
	if (e && !e->deleted_ms)
		e->deleted_ms = now_ms > 0 ? now_ms : 1;
	pthread_mutex_unlock(&c->lock);
}

void kube_cache_begin_relist(struct kube_cache *c)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		c->e[i].listed = false;
	pthread_mutex_unlock(&c->lock);
}

void kube_cache_end_relist(struct kube_cache *c, int64_t now_ms)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		if (!c->e[i].listed && !c->e[i].deleted_ms)
			c->e[i].deleted_ms = now_ms > 0 ? now_ms : 1;
	pthread_mutex_unlock(&c->lock);
}

void kube_cache_expire(struct kube_cache *c, int64_t now_ms)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n;) {
		if (c->e[i].deleted_ms && now_ms - c->e[i].deleted_ms > KUBE_DELETED_KEEP_MS)
			drop(c, &c->e[i]);
		else
			i++;
	}
	pthread_mutex_unlock(&c->lock);
}

int kube_cache_lookup(struct kube_cache *c, const char *uid, const char *container_id,
		      struct pod_ident *out)
{
	struct entry *e;
	int found = 0;

	if (!uid || !uid[0])
		return 0;
	pthread_mutex_lock(&c->lock);
	e = find(c, uid);
	if (e) {
		kube_pod_ident(&e->pod, container_id, out);
		found = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

size_t kube_cache_count(struct kube_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}
