/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the Kubernetes API says of a process's pod: names only, nothing
 * secret. Filled by the sensor's pod watcher (user/kube/) from the pod UID
 * and container id that procdesc.c reads from the cgroup path.
 */
#ifndef TOKENTAP_POD_IDENT_H
#define TOKENTAP_POD_IDENT_H

#define POD_NAME_MAX 254  /* a DNS subdomain (253) and its NUL */
#define POD_LABEL_MAX 64  /* a DNS label (63) and its NUL */
#define POD_IMAGE_MAX 512
#define POD_KIND_MAX 32

struct pod_ident {
	char pod[POD_NAME_MAX];
	char k8s_namespace[POD_LABEL_MAX];
	char service_account[POD_NAME_MAX];
	char container[POD_LABEL_MAX];      /* "" when the container id is not in the pod */
	char image[POD_IMAGE_MAX];
	char workload_kind[POD_KIND_MAX];   /* Deployment, CronJob, StatefulSet, DaemonSet, Job, ReplicaSet, Pod... */
	char workload_name[POD_NAME_MAX];
};

/*
 * Finds the pod of pod_uid and the container of container_id (may be "").
 * 1 when the pod is known (out filled), 0 otherwise. With pod_uid "", a
 * container outside Kubernetes: 1 when its image is known (out->image).
 */
typedef int (*pod_resolve_fn)(void *ctx, const char *pod_uid, const char *container_id,
			      struct pod_ident *out);

struct pod_resolver {
	pod_resolve_fn resolve; /* NULL: no pod watcher */
	void *ctx;
};

#endif
