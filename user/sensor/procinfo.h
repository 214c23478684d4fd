/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid -> executable path. Short-lived clients (curl) may be gone before
 * their events are read, so the path is taken at exec time and cached.
 */
#ifndef TOKENTAP_PROCINFO_H
#define TOKENTAP_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

int procinfo_init(void);
void procinfo_free(void);
struct procinfo {
	char exe[512];          /* "" when unknown */
	char container_id[65];  /* from the cgroup path; "" when none */
	char pod_uid[37];       /* Kubernetes pod UID; "" when none */
};

/* What is known of pid (empty fields when unknown). */
void procinfo_get(uint32_t pid, struct procinfo *out);
/*
 * A process called execve(filename), or was found running: remember its
 * program now.
 */
void procinfo_exec(uint32_t pid, const char *filename);

#endif
