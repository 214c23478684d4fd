/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonout.h"
#include "pod_ident.h"
#include "timefmt.h"

#include <string.h>
#include <time.h>

static void put_str(struct json_object *o, const char *k, const char *v)
{
	if (v && v[0])
		json_object_object_add(o, k, json_object_new_string(v));
}

static void put_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

struct json_object *jsonout_token_event(const char *event, int64_t ts_ns, const struct sighting *s,
					uint64_t count)
{
	struct json_object *o = json_object_new_object();
	const struct token_info *t = &s->info;
	char ts[40];

	if (!o)
		return NULL;
	time_rfc3339_ns(ts_ns, ts, sizeof(ts));
	put_str(o, "ts", ts);
	put_str(o, "event", event);
	put_str(o, "fingerprint", s->fingerprint);
	put_str(o, "token_type", t->type);
	put_str(o, "scheme", s->scheme);
	put_str(o, "header", s->header);
	if (s->in_query)
		json_object_object_add(o, "in_query", json_object_new_boolean(true));
	put_u64(o, "pid", s->pid);
	put_u64(o, "tid", s->tid);
	put_u64(o, "uid", s->uid);
	put_str(o, "comm", s->comm);
	put_str(o, "exe", s->exe);
	if (s->cgroup_id)
		put_u64(o, "cgroup_id", s->cgroup_id);
	put_str(o, "container_id", s->container_id);
	put_str(o, "pod_uid", s->pod_uid);
	json_object_object_add(o, "tls", json_object_new_boolean(s->tls));
	put_str(o, "tls_library", s->tls_library);
	put_str(o, "src", s->src);
	put_str(o, "dst", s->dst);
	put_str(o, "host", s->host);
	put_str(o, "method", s->method);
	put_str(o, "path", s->path);
	if (count)
		put_u64(o, "count", count);
	put_str(o, "token_prefix", t->prefix);
	put_u64(o, "token_length", t->length);
	if (t->has_checksum)
		json_object_object_add(o, "checksum_valid", json_object_new_boolean(t->checksum_valid));
	put_u64(o, "confidence", (uint64_t)(t->confidence < 0 ? 0 : t->confidence));
	put_str(o, "key_id", t->key_id);
	put_str(o, "aws_key_kind", t->aws_key_kind);
	put_str(o, "aws_account", t->aws_account);
	put_str(o, "aws_region", t->aws_region);
	put_str(o, "aws_service", t->aws_service);
	put_str(o, "basic_user", t->basic_user);
	put_str(o, "basic_password_type", t->basic_password_type);
	if (t->jwt)
		json_object_object_add(o, "jwt", json_object_get(t->jwt));
	return o;
}

void jsonout_add_pod(struct json_object *o, const struct pod_ident *id)
{
	put_str(o, "pod", id->pod);
	put_str(o, "k8s_namespace", id->k8s_namespace);
	put_str(o, "container", id->container);
	put_str(o, "image", id->image);
	put_str(o, "workload_kind", id->workload_kind);
	put_str(o, "workload_name", id->workload_name);
	put_str(o, "service_account", id->service_account);
}

struct json_object *jsonout_held_event(int64_t ts_ns, const struct sighting *s, const char *source,
				       const char *name)
{
	struct json_object *o = jsonout_token_event("token_held", ts_ns, s, 0);

	if (!o)
		return NULL;
	/* a held token has no destination: the socket fields are meaningless */
	json_object_object_del(o, "tls");
	put_str(o, "source", source);
	put_str(o, "name", name);
	return o;
}

struct json_object *jsonout_uncovered_event(const struct uncov_report *r)
{
	struct json_object *o = json_object_new_object();
	char ts[40];

	if (!o)
		return NULL;
	time_rfc3339_ns(r->ts_ns, ts, sizeof(ts));
	put_str(o, "ts", ts);
	put_str(o, "event", "tls_uncovered");
	put_u64(o, "pid", r->pid);
	put_u64(o, "uid", r->uid);
	put_str(o, "comm", r->comm);
	put_str(o, "exe", r->exe);
	if (r->cgroup_id)
		put_u64(o, "cgroup_id", r->cgroup_id);
	put_str(o, "container_id", r->container_id);
	put_str(o, "pod_uid", r->pod_uid);
	put_str(o, "dst", r->dst);
	put_str(o, "cause", uncov_cause_name(r->cause));
	put_str(o, "detail", r->detail);
	return o;
}

struct json_object *jsonout_status(int64_t ts_ns, const struct status_field *f, size_t n)
{
	struct json_object *o = json_object_new_object();
	char ts[40];

	if (!o)
		return NULL;
	time_rfc3339_ns(ts_ns, ts, sizeof(ts));
	put_str(o, "ts", ts);
	put_str(o, "event", "sensor_status");
	for (size_t i = 0; i < n; i++)
		put_u64(o, f[i].name, f[i].value);
	return o;
}

void textout_token_event(FILE *out, const char *event, int64_t ts_ns, const struct sighting *s,
			 uint64_t count)
{
	char ts[40];

	time_rfc3339_ns(ts_ns, ts, sizeof(ts));
	fprintf(out, "%s %-11s %-18s %.12s pid=%u exe=%s %s%s%s %s %s %s%s",
		ts, event, s->info.type, s->fingerprint, s->pid, s->exe[0] ? s->exe : s->comm,
		s->tls ? "tls:" : "plain", s->tls ? s->tls_library : "", "",
		s->dst[0] ? s->dst : "-", s->method, s->host, s->path);
	if (count)
		fprintf(out, " count=%llu", (unsigned long long)count);
	fputc('\n', out);
}

void textout_held_event(FILE *out, int64_t ts_ns, const struct sighting *s, const char *source,
			const char *name)
{
	char ts[40];

	time_rfc3339_ns(ts_ns, ts, sizeof(ts));
	fprintf(out, "%s %-11s %-18s %.12s pid=%u exe=%s %s %s\n", ts, "token_held", s->info.type,
		s->fingerprint, s->pid, s->exe[0] ? s->exe : s->comm, source, name);
}

void textout_uncovered_event(FILE *out, const struct uncov_report *r)
{
	char ts[40];

	time_rfc3339_ns(r->ts_ns, ts, sizeof(ts));
	fprintf(out, "%s tls_uncovered pid=%u exe=%s %s cause=%s%s%s\n", ts, r->pid,
		r->exe[0] ? r->exe : r->comm, r->dst[0] ? r->dst : "-", uncov_cause_name(r->cause),
		r->detail[0] ? " " : "", r->detail);
}

void textout_status(FILE *out, int64_t ts_ns, const struct status_field *f, size_t n)
{
	char ts[40];

	time_rfc3339_ns(ts_ns, ts, sizeof(ts));
	fprintf(out, "%s status", ts);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s=%llu", f[i].name, (unsigned long long)f[i].value);
	fputc('\n', out);
}
