/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid -> executable path. Short-lived clients (curl) may be gone before
 * their events are read, so the path is taken at exec time and cached.
 */
#ifndef TOKENTAP_EXE_CACHE_H
#define TOKENTAP_EXE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct exe_cache;

struct exe_info {
	char exe[512];          /* "" when unknown */
	char container_id[65];  /* from the cgroup path; "" when none */
	char pod_uid[37];       /* Kubernetes pod UID; "" when none */
};

/* An empty cache, or NULL when out of memory. */
struct exe_cache *exe_cache_new(void);
void exe_cache_free(struct exe_cache *c);

/*
 * What is known of pid (empty fields when unknown). c may be NULL: then
 * /proc is read each time and nothing is remembered.
 */
void exe_cache_get(struct exe_cache *c, uint32_t pid, struct exe_info *out);
/*
 * What the cache holds for pid (looked up in /proc and kept when it holds
 * nothing yet), without a copy: valid until the next call on c. NULL when
 * c is NULL, /proc says nothing, or there is no memory to keep it.
 */
const struct exe_info *exe_cache_peek(struct exe_cache *c, uint32_t pid);
/*
 * A process called execve(filename), or was found running: remember its
 * program now. A no-op when c is NULL.
 */
void exe_cache_exec(struct exe_cache *c, uint32_t pid, const char *filename);
/* pid exited (its last events handled): forget it. A no-op when c is NULL. */
void exe_cache_forget(struct exe_cache *c, uint32_t pid);

#endif
