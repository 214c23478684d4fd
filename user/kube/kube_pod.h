/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure parsing of the Kubernetes API's pod JSON: one pod object, a pod
 * list (GET /api/v1/pods) and one line of a watch stream. Only names are
 * kept (pod, namespace, service account, containers with image and id, the
 * owning workload); every string is bounded and checked, anything out of
 * shape is refused. No I/O.
 */
#ifndef TOKENTAP_KUBE_POD_H
#define TOKENTAP_KUBE_POD_H

#include <stddef.h>
#include <json-c/json.h>

#include "pod_ident.h"

#define KUBE_CONTAINERS_MAX 16
#define KUBE_RV_MAX 64
/* A list body and a watch line larger than these are refused. */
#define KUBE_LIST_MAX (32u << 20)
#define KUBE_LINE_MAX (1u << 20)

struct kube_container {
	char name[POD_LABEL_MAX];
	char image[POD_IMAGE_MAX];
	char id[65]; /* 64 lowercase hex from containerStatuses[].containerID, "" before it runs */
};

struct kube_pod {
	char uid[37];
	char name[POD_NAME_MAX];
	char k8s_namespace[POD_LABEL_MAX];
	char service_account[POD_NAME_MAX];
	char workload_kind[POD_KIND_MAX];
	char workload_name[POD_NAME_MAX];
	size_t ncontainers;
	struct kube_container c[KUBE_CONTAINERS_MAX];
};

/* 0 when obj is a pod with a valid uid, name and namespace; -1 otherwise. */
int kube_pod_from_json(struct json_object *obj, struct kube_pod *out);

/*
 * The workload that owns a pod, from its controller owner reference
 * (kind/name, NULL when none) and its pod-template-hash label (NULL when
 * none): a ReplicaSet "<deploy>-<hash>" is its Deployment, a Job
 * "<cronjob>-<8+ digits>" its CronJob, no owner the bare Pod.
 */
void kube_workload(const char *owner_kind, const char *owner_name, const char *pod_name,
		   const char *template_hash, char kind[POD_KIND_MAX], char name[POD_NAME_MAX]);

/* Fills out from one of p's containers matched by id; "" container when none. */
void kube_pod_ident(const struct kube_pod *p, const char *container_id, struct pod_ident *out);

enum kube_watch_type {
	KUBE_ADDED,
	KUBE_MODIFIED,
	KUBE_DELETED,
	KUBE_BOOKMARK,
	KUBE_ERROR,
};

struct kube_watch_event {
	enum kube_watch_type type;
	char resource_version[KUBE_RV_MAX]; /* the object's, "" when absent */
	int code;                           /* KUBE_ERROR: the Status code (410: relist) */
	struct kube_pod pod;                /* ADDED, MODIFIED, DELETED */
};

/* One line of a watch stream (no newline needed). 0, or -1 when malformed. */
int kube_watch_line_parse(const char *line, size_t len, struct kube_watch_event *out);

/*
 * A pod list: on_pod is called for each valid pod (invalid items are
 * skipped and counted in *skipped), rv gets the list's resourceVersion.
 * 0, or -1 when the body is not a pod list.
 */
int kube_list_parse(const char *body, size_t len,
		    void (*on_pod)(void *ctx, const struct kube_pod *p), void *ctx,
		    char rv[KUBE_RV_MAX], size_t *skipped);

/* The 64-hex id of "containerd://<id>", "cri-o://<id>", "docker://<id>"; "" otherwise. */
void kube_container_id(const char *status_id, char out[65]);

#endif
