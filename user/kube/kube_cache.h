/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pods of this node by UID, as the watcher last saw them. A deleted pod
 * stays KUBE_DELETED_KEEP_MS for the events of its processes that arrive
 * late. Bounded (KUBE_CACHE_MAX pods); safe to use from several threads.
 * Pure logic: times are given by the caller.
 */
#ifndef TOKENTAP_KUBE_CACHE_H
#define TOKENTAP_KUBE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "kube_pod.h"

#define KUBE_CACHE_MAX 2048
#define KUBE_DELETED_KEEP_MS (5 * 60 * 1000)

struct kube_cache;

struct kube_cache *kube_cache_new(void);
void kube_cache_free(struct kube_cache *c);

/* Adds or replaces p (a pod deleted earlier and seen again is live again). */
int kube_cache_put(struct kube_cache *c, const struct kube_pod *p);
/* Marks the pod deleted at now_ms; it is forgotten KUBE_DELETED_KEEP_MS later. */
void kube_cache_delete(struct kube_cache *c, const char *uid, int64_t now_ms);

/*
 * A relist: kube_cache_begin_relist() starts it, put() the listed pods,
 * kube_cache_end_relist() marks deleted every live pod the list did not
 * name.
 */
void kube_cache_begin_relist(struct kube_cache *c);
void kube_cache_end_relist(struct kube_cache *c, int64_t now_ms);

/* Forgets the pods deleted more than KUBE_DELETED_KEEP_MS before now_ms. */
void kube_cache_expire(struct kube_cache *c, int64_t now_ms);

/* 1 and out filled when uid is known (deleted or not), 0 otherwise. */
int kube_cache_lookup(struct kube_cache *c, const char *uid, const char *container_id,
		      struct pod_ident *out);

/* Pods held, deleted ones included. */
size_t kube_cache_count(struct kube_cache *c);

#endif
