/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Non-secret description of a process from a /proc-like tree: ids, start
 * time, executable, command line with credential-looking arguments masked,
 * cgroup v2 path, container id, Kubernetes pod UID and namespace (from the
 * pod's service-account volume, when mounted). The roots are
 * parameters so tests can use a fake tree. Every file read is bounded.
 */
#ifndef TOKENTAP_PROCDESC_H
#define TOKENTAP_PROCDESC_H

#include <stddef.h>
#include <stdint.h>

#include "pod_ident.h"

#define PROCDESC_EXE_MAX 512
#define PROCDESC_CMDLINE_MAX 4096
#define PROCDESC_CGROUP_MAX 512
#define PROCDESC_NAMESPACE_MAX 64

struct procdesc {
	uint32_t pid, ppid, uid;
	int64_t start_time_ms;              /* Unix ms; 0 when unknown */
	char exe[PROCDESC_EXE_MAX];         /* "" when unknown */
	char cmdline[PROCDESC_CMDLINE_MAX]; /* masked, arguments joined by spaces */
	char cgroup[PROCDESC_CGROUP_MAX];   /* cgroup v2 path, "" when unknown */
	char container_id[65];              /* 64 lowercase hex, or "" */
	char pod_uid[37];                   /* Kubernetes pod UID (with dashes), or "" */
	char k8s_namespace[PROCDESC_NAMESPACE_MAX]; /* the pod's namespace, "" when unknown */
	uint64_t cgroup_id;                 /* inode of the cgroup directory; 0 when unknown */
	struct pod_ident pod;               /* from the pod watcher; zeroed by procdesc_read */
};

/*
 * Describes pid from proc_root (normally "/proc"). cgroup_root (normally
 * "/sys/fs/cgroup") gives cgroup_id; NULL leaves it 0. Returns 0 when the
 * process was found (fields that could not be read stay empty), -1 when
 * it is gone.
 */
int procdesc_read(const char *proc_root, const char *cgroup_root, uint32_t pid,
		  struct procdesc *out);

/*
 * Masks credential-looking arguments of a NUL-separated argument list (as
 * /proc/PID/cmdline) and joins them with spaces into out. Always
 * NUL-terminates; returns the length written.
 */
size_t procdesc_mask_cmdline(const char *args, size_t len, char *out, size_t outcap);

/* Container id and pod UID of pid, from its cgroup; "" when none. */
void procdesc_container(const char *proc_root, uint32_t pid, char container_id[65], char pod_uid[37]);

/* Container id and pod UID named by a cgroup path; "" when none. */
void procdesc_container_id(const char *cgroup_path, char out[65]);
void procdesc_pod_uid(const char *cgroup_path, char out[37]);

#endif
