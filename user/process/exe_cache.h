/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid -> executable path. Short-lived clients (curl) may be gone before
 * their events are read, so the path is taken at exec time and cached.
 */
#ifndef TOKENTAP_EXE_CACHE_H
#define TOKENTAP_EXE_CACHE_H

#include <stddef.h>
#include <stdint.h>

int exe_cache_init(void);
void exe_cache_free(void);
struct exe_info {
	char exe[512];          /* "" when unknown */
	char container_id[65];  /* from the cgroup path; "" when none */
	char pod_uid[37];       /* Kubernetes pod UID; "" when none */
};

/* What is known of pid (empty fields when unknown). */
void exe_cache_get(uint32_t pid, struct exe_info *out);
/*
 * A process called execve(filename), or was found running: remember its
 * program now.
 */
void exe_cache_exec(uint32_t pid, const char *filename);

#endif
