/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod watcher: a thread that lists the pods of one node, then watches
 * them from the list's resourceVersion (bookmarks on), relists on 410 Gone,
 * backs off exponentially on errors while the cache keeps serving, and
 * re-reads the service-account token every minute and on 401 (it rotates).
 * HTTP by libcurl, bodies parsed by kube_pod.c.
 */
#ifndef TOKENTAP_KUBE_WATCH_H
#define TOKENTAP_KUBE_WATCH_H

#include <stdint.h>

#include "kube_cache.h"
#include "kube_config.h"

struct kube_watch;

/* Starts the thread; NULL on failure. cache must outlive the watcher. */
struct kube_watch *kube_watch_start(const struct kube_config *cfg, const char *node,
				    struct kube_cache *cache);
void kube_watch_stop(struct kube_watch *w);

/* Failed API requests (transport, HTTP status, malformed body) so far. */
uint64_t kube_watch_errors(struct kube_watch *w);
/* Whether the first list has been received. */
int kube_watch_synced(struct kube_watch *w);

#endif
