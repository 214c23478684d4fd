/* SPDX-License-Identifier: Apache-2.0 */
#include "kube_pod.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pods nest a dozen levels; more is not a pod. */
#define JSON_DEPTH 40

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A DNS subdomain (names) or label (namespace, container): [a-z0-9.-], bounded. */
static bool dns_name(const char *s, size_t max, bool dots)
{
	size_t n = 0;

	if (!s || !s[0])
		return false;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (n >= max)
			return false;
		if (!(islower(ch) || isdigit(ch) || ch == '-' || (dots && ch == '.')))
			return false;
	}
	return true;
}

/* Printable ASCII without spaces (an image reference, a resourceVersion). */
static bool token_text(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !s[0])
		return false;
	for (; s[n]; n++)
		if (n >= max || s[n] <= ' ' || s[n] > '~')
			return false;
	return true;
}

static bool kind_text(const char *s)
{
	size_t n = 0;

	if (!s || !s[0])
		return false;
	for (; s[n]; n++)
		if (n >= POD_KIND_MAX - 1 || !isalnum((unsigned char)s[n]))
			return false;
	return true;
}

static bool uid_text(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (n >= 36 || !(isxdigit((unsigned char)s[n]) || s[n] == '-'))
			return false;
	return n == 36;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void kube_container_id(const char *status_id, char out[65])
{
	const char *p;
	size_t n;

	out[0] = '\0';
	if (!status_id || !(p = strstr(status_id, "://")))
		return;
	p += 3;
	for (n = 0; n < 64; n++)
		if (!isxdigit((unsigned char)p[n]) || isupper((unsigned char)p[n]))
			return;
	if (p[64])
		return;
	memcpy(out, p, 64);
	out[64] = '\0';
}

/* "<base>-<suffix>": copies base when the suffix is want_suffix, or (NULL) min_digits digits and more. */
static bool strip_suffix(const char *name, const char *want_suffix, size_t min_digits,
			 char out[POD_NAME_MAX])
{
	const char *dash = strrchr(name, '-');
	size_t i;

	if (!dash || dash == name)
		return false;
	if (want_suffix) {
		if (strcmp(dash + 1, want_suffix) != 0)
			return false;
	} else {
		for (i = 0; dash[1 + i]; i++)
			if (!isdigit((unsigned char)dash[1 + i]))
				return false;
		if (i < min_digits)
			return false;
	}
	snprintf(out, POD_NAME_MAX, "%.*s", (int)(dash - name), name);
	return true;
}

void kube_workload(const char *owner_kind, const char *owner_name, const char *pod_name,
		   const char *template_hash, char kind[POD_KIND_MAX], char name[POD_NAME_MAX])
{
	if (!owner_kind || !owner_name || !owner_name[0]) {
		copy(kind, POD_KIND_MAX, "Pod");
		copy(name, POD_NAME_MAX, pod_name);
		return;
	}
	/* the ReplicaSet of a Deployment is "<deploy>-<pod-template-hash>" */
	if (!strcmp(owner_kind, "ReplicaSet") && template_hash && template_hash[0] &&
	    strip_suffix(owner_name, template_hash, 0, name)) {
		copy(kind, POD_KIND_MAX, "Deployment");
		return;
	}
	/*
	 * A CronJob names its Jobs "<cronjob>-<scheduled minute>" (8 digits
	 * and more since 1990); a shorter number is a Job named so by hand.
	 */
	if (!strcmp(owner_kind, "Job") && strip_suffix(owner_name, NULL, 8, name)) {
		copy(kind, POD_KIND_MAX, "CronJob");
		return;
	}
	copy(kind, POD_KIND_MAX, owner_kind);
	copy(name, POD_NAME_MAX, owner_name);
}

/* The controller owner reference (else the first one) of metadata. */
static void owner_of(struct json_object *meta, const char **kind, const char **name)
{
	struct json_object *refs = get(meta, "ownerReferences");
	size_t i, n;

	*kind = *name = NULL;
	if (!refs || !json_object_is_type(refs, json_type_array))
		return;
	n = json_object_array_length(refs);
	for (i = 0; i < n && i < 16; i++) {
		struct json_object *r = json_object_array_get_idx(refs, i);
		struct json_object *ctl = get(r, "controller");
		const char *k = get_str(r, "kind"), *nm = get_str(r, "name");

		if (!kind_text(k) || !dns_name(nm, POD_NAME_MAX - 1, true))
			continue;
		if (!*kind || (ctl && json_object_get_boolean(ctl))) {
			*kind = k;
			*name = nm;
		}
		if (ctl && json_object_get_boolean(ctl))
			return;
	}
}

static void add_containers(struct kube_pod *p, struct json_object *arr)
{
	size_t i, n;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && p->ncontainers < KUBE_CONTAINERS_MAX; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		const char *nm = get_str(c, "name"), *img = get_str(c, "image");
		struct kube_container *k = &p->c[p->ncontainers];

		if (!dns_name(nm, POD_LABEL_MAX - 1, false))
			continue;
		memset(k, 0, sizeof(*k));
		copy(k->name, sizeof(k->name), nm);
		if (token_text(img, POD_IMAGE_MAX - 1))
			copy(k->image, sizeof(k->image), img);
		p->ncontainers++;
	}
}

/* containerStatuses name the running container's id; matched by name. */
static void add_statuses(struct kube_pod *p, struct json_object *arr)
{
	size_t i, j, n;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < 64; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		const char *nm = get_str(s, "name");

		if (!nm)
			continue;
		for (j = 0; j < p->ncontainers; j++)
			if (!strcmp(p->c[j].name, nm))
				kube_container_id(get_str(s, "containerID"), p->c[j].id);
	}
}

int kube_pod_from_json(struct json_object *obj, struct kube_pod *out)
{
	struct json_object *meta = get(obj, "metadata"), *spec = get(obj, "spec");
	struct json_object *status = get(obj, "status");
	const char *uid = get_str(meta, "uid"), *name = get_str(meta, "name");
	const char *ns = get_str(meta, "namespace"), *sa = get_str(spec, "serviceAccountName");
	const char *ok, *on, *hash = get_str(get(meta, "labels"), "pod-template-hash");

	memset(out, 0, sizeof(*out));
	if (!uid_text(uid) || !dns_name(name, POD_NAME_MAX - 1, true) ||
	    !dns_name(ns, POD_LABEL_MAX - 1, false))
		return -1;
	copy(out->uid, sizeof(out->uid), uid);
	copy(out->name, sizeof(out->name), name);
	copy(out->k8s_namespace, sizeof(out->k8s_namespace), ns);
	if (dns_name(sa, POD_NAME_MAX - 1, true))
		copy(out->service_account, sizeof(out->service_account), sa);
	owner_of(meta, &ok, &on);
	if (hash && !dns_name(hash, POD_LABEL_MAX - 1, false))
		hash = NULL;
	kube_workload(ok, on, out->name, hash, out->workload_kind, out->workload_name);
	add_containers(out, get(spec, "containers"));
	add_containers(out, get(spec, "initContainers"));
	add_containers(out, get(spec, "ephemeralContainers"));
	add_statuses(out, get(status, "containerStatuses"));
	add_statuses(out, get(status, "initContainerStatuses"));
	add_statuses(out, get(status, "ephemeralContainerStatuses"));
	return 0;
}

void kube_pod_ident(const struct kube_pod *p, const char *container_id, struct pod_ident *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	copy(out->pod, sizeof(out->pod), p->name);
	copy(out->k8s_namespace, sizeof(out->k8s_namespace), p->k8s_namespace);
	copy(out->service_account, sizeof(out->service_account), p->service_account);
	copy(out->workload_kind, sizeof(out->workload_kind), p->workload_kind);
	copy(out->workload_name, sizeof(out->workload_name), p->workload_name);
	if (!container_id || !container_id[0])
		return;
	for (i = 0; i < p->ncontainers; i++)
		if (!strcmp(p->c[i].id, container_id)) {
			copy(out->container, sizeof(out->container), p->c[i].name);
			copy(out->image, sizeof(out->image), p->c[i].image);
			return;
		}
}

static struct json_object *parse_bounded(const char *buf, size_t len, size_t max)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!buf || len == 0 || len > max)
		return NULL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void copy_rv(char rv[KUBE_RV_MAX], const char *s)
{
	rv[0] = '\0';
	if (token_text(s, KUBE_RV_MAX - 1))
		copy(rv, KUBE_RV_MAX, s);
}

int kube_watch_line_parse(const char *line, size_t len, struct kube_watch_event *out)
{
	static const char *const types[] = { "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR" };
	struct json_object *o = parse_bounded(line, len, KUBE_LINE_MAX), *obj;
	const char *type;
	int rc = -1;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!o)
		return -1;
	type = get_str(o, "type");
	obj = get(o, "object");
	if (!type || !obj || !json_object_is_type(obj, json_type_object))
		goto out;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i]))
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		goto out;
	out->type = (enum kube_watch_type)i;
	copy_rv(out->resource_version, get_str(get(obj, "metadata"), "resourceVersion"));
	switch (out->type) {
	case KUBE_ERROR: {
		struct json_object *code = get(obj, "code");

		out->code = code && json_object_is_type(code, json_type_int) ?
				    (int)json_object_get_int(code) : 0;
		rc = 0;
		break;
	}
	case KUBE_BOOKMARK:
		rc = out->resource_version[0] ? 0 : -1;
		break;
	default:
		rc = kube_pod_from_json(obj, &out->pod);
	}
out:
	json_object_put(o);
	return rc;
}

int kube_list_parse(const char *body, size_t len,
		    void (*on_pod)(void *ctx, const struct kube_pod *p), void *ctx,
		    char rv[KUBE_RV_MAX], size_t *skipped)
{
	struct json_object *o = parse_bounded(body, len, KUBE_LIST_MAX), *items;
	struct kube_pod *p = NULL;
	size_t i, n;
	int rc = -1;

	rv[0] = '\0';
	*skipped = 0;
	if (!o)
		return -1;
	items = get(o, "items");
	/* "items": null is an empty list */
	if (items && !json_object_is_type(items, json_type_array))
		goto out;
	copy_rv(rv, get_str(get(o, "metadata"), "resourceVersion"));
	if (!rv[0])
		goto out;
	p = malloc(sizeof(*p));
	if (!p)
		goto out;
	n = items ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		if (kube_pod_from_json(json_object_array_get_idx(items, i), p) == 0)
			on_pod(ctx, p);
		else
			(*skipped)++;
	}
	rc = 0;
out:
	free(p);
	json_object_put(o);
	return rc;
}
