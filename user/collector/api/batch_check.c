/* SPDX-License-Identifier: Apache-2.0 */
#include "batch_check.h"
#include "text.h"
#include "timefmt.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Bounds of events.proto, with room for a terminating byte the sensor drops. */
#define MAX_NODE 256
#define MAX_VERSION 64
#define MAX_TYPE 32
#define MAX_SHORT 32          /* scheme, prefix, key id, AWS fields, password type */
#define MAX_HEADER 64
#define MAX_USER 128
#define MAX_JWT 65536        /* the sensor's own cap */
#define MAX_COMM 16
#define MAX_PATHLIKE 512      /* exe, request path */
#define MAX_ADDR 64
#define MAX_HOST 256
#define MAX_LIBNAME 16
#define MAX_METHOD 16
#define MAX_CMDLINE 4096
#define MAX_CGROUP 4096
#define MAX_CONTAINER_ID 64
#define MAX_NAMESPACE 63      /* a DNS label (namespace, container name) */
#define MAX_K8S_NAME 253      /* a DNS subdomain (pod, workload, service account) */
#define MAX_POD_UID 36
#define MAX_CAUSE 32          /* tls_uncovered.cause: lowercase letters and '_' */
#define MAX_COUNT 1000000000000ULL   /* requests per interval: keeps sums in int64 */

struct ck {
	char *err;
	size_t errlen;
	size_t idx;        /* event index, for messages */
};

static int bad(struct ck *c, const char *what)
{
	snprintf(c->err, c->errlen, "event %zu: %s", c->idx, what);
	return -1;
}

int fingerprint_valid(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++)
		if (i >= 32 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

/* Bounds s and repairs its UTF-8 in place. NULL counts as "". */
static int text(struct ck *c, char *s, size_t max, const char *name)
{
	size_t len;

	if (!s)
		return 0;
	len = strnlen(s, max + 1);
	if (len > max) {
		char what[96];

		snprintf(what, sizeof(what), "%s longer than %zu bytes", name, max);
		return bad(c, what);
	}
	for (size_t i = 0; i < len;) {
		size_t n;

		/* ASCII, nearly every byte of a batch, without the call */
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq((unsigned char *)s + i, len - i);
		if (n == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
	return 0;
}

static bool time_ok(int64_t ms)
{
	return ms >= 0 && ms <= TIME_MAX_MS;
}

static int check_token(struct ck *c, Tokentap__V1__Token *t)
{
	const char *ty;

	if (!t)
		return bad(c, "token missing");
	if (!fingerprint_valid(t->fingerprint))
		return bad(c, "token.fingerprint is not 32 lowercase hex characters");
	ty = t->token_type ? t->token_type : "";
	if (!ty[0] || strlen(ty) > MAX_TYPE)
		return bad(c, "token.token_type empty or too long");
	/* type ids are [a-z0-9_]; a little slack so a newer sensor's id is not fatal */
	for (const char *p = ty; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.' || *p == ':'))
			return bad(c, "token.token_type has characters outside [A-Za-z0-9_.:-]");
	if (t->confidence > 100)
		return bad(c, "token.confidence above 100");
	if (text(c, t->scheme, MAX_SHORT, "token.scheme") || text(c, t->header, MAX_HEADER, "token.header") ||
	    text(c, t->token_prefix, MAX_SHORT, "token.token_prefix") ||
	    text(c, t->key_id, MAX_SHORT, "token.key_id") ||
	    text(c, t->aws_key_kind, MAX_SHORT, "token.aws_key_kind") ||
	    text(c, t->aws_account, MAX_SHORT, "token.aws_account") ||
	    text(c, t->aws_region, MAX_SHORT, "token.aws_region") ||
	    text(c, t->aws_service, MAX_SHORT, "token.aws_service") ||
	    text(c, t->basic_user, MAX_USER, "token.basic_user") ||
	    text(c, t->basic_password_type, MAX_SHORT, "token.basic_password_type") ||
	    text(c, t->jwt_json, MAX_JWT, "token.jwt_json"))
		return -1;
	if (t->jwt_json && t->jwt_json[0]) {
		struct json_object *j = json_tokener_parse(t->jwt_json);
		bool ok = j && json_object_is_type(j, json_type_object);

		json_object_put(j);
		if (!ok)
			return bad(c, "token.jwt_json is not a JSON object");
	}
	return 0;
}

static int check_process_ref(struct ck *c, Tokentap__V1__ProcessRef *p)
{
	if (!p)
		return bad(c, "process missing");
	return text(c, p->comm, MAX_COMM, "process.comm") ||
	       text(c, p->exe, MAX_PATHLIKE, "process.exe") ? -1 : 0;
}

static int check_destination(struct ck *c, Tokentap__V1__Destination *d)
{
	if (!d)
		return 0; /* all unknown */
	return text(c, d->src, MAX_ADDR, "destination.src") ||
	       text(c, d->dst, MAX_ADDR, "destination.dst") ||
	       text(c, d->host, MAX_HOST, "destination.host") ||
	       text(c, d->tls_library, MAX_LIBNAME, "destination.tls_library") ? -1 : 0;
}

static int check_request(struct ck *c, char *method, char *path)
{
	return text(c, method, MAX_METHOD, "method") || text(c, path, MAX_PATHLIKE, "path") ? -1 : 0;
}

static int check_seen(struct ck *c, Tokentap__V1__TokenSeen *e)
{
	if (e->ts_ms <= 0 || !time_ok(e->ts_ms))
		return bad(c, "token_seen.ts_ms out of range");
	if (check_token(c, e->token) || check_process_ref(c, e->process) ||
	    check_destination(c, e->destination) || check_request(c, e->method, e->path))
		return -1;
	return 0;
}

static int check_usage(struct ck *c, Tokentap__V1__TokenUsage *e)
{
	if (!time_ok(e->start_ms) || !time_ok(e->end_ms) || !time_ok(e->last_seen_ms))
		return bad(c, "token_usage time out of range");
	if (e->last_seen_ms == 0 && e->end_ms == 0 && e->start_ms == 0)
		return bad(c, "token_usage without a time");
	if (e->count == 0 || e->count > MAX_COUNT)
		return bad(c, "token_usage.count out of range");
	if (check_token(c, e->token) || check_process_ref(c, e->process) ||
	    check_destination(c, e->destination) || check_request(c, e->method, e->path))
		return -1;
	return 0;
}

static int check_held(struct ck *c, Tokentap__V1__TokenHeld *e)
{
	if (e->ts_ms <= 0 || !time_ok(e->ts_ms) || !time_ok(e->process_start_ms))
		return bad(c, "token_held time out of range");
	if (e->source != TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ENVIRON &&
	    e->source != TOKENTAP__V1__HELD_SOURCE__HELD_SOURCE_ARGV)
		return bad(c, "token_held.source unknown");
	if (check_token(c, e->token) || check_process_ref(c, e->process) ||
	    text(c, e->name, MAX_HEADER, "token_held.name"))
		return -1;
	return 0;
}

static int check_revocation(struct ck *c, Tokentap__V1__RevocationResult *e)
{
	static const char *const outcomes[] = { "ok", "failed", "timeout", "error" };
	bool known = false;

	if (e->ts_ms <= 0 || !time_ok(e->ts_ms))
		return bad(c, "revocation_result.ts_ms out of range");
	if (!fingerprint_valid(e->fingerprint))
		return bad(c, "revocation_result.fingerprint is not 32 lowercase hex characters");
	for (size_t i = 0; e->outcome && i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		known |= !strcmp(e->outcome, outcomes[i]);
	if (!known)
		return bad(c, "revocation_result.outcome unknown");
	return text(c, e->detail, 1024, "revocation_result.detail") ||
	       text(c, e->token_type, MAX_TYPE, "revocation_result.token_type") ? -1 : 0;
}

/*
 * The cause is a name, not free text: any lowercase word is accepted, so
 * a sensor that knows a cause this collector does not is still stored.
 */
static int check_uncovered(struct ck *c, Tokentap__V1__TlsUncovered *e)
{
	size_t n = e->cause ? strlen(e->cause) : 0;

	if (e->ts_ms <= 0 || !time_ok(e->ts_ms))
		return bad(c, "tls_uncovered.ts_ms out of range");
	if (n == 0 || n > MAX_CAUSE || strspn(e->cause, "abcdefghijklmnopqrstuvwxyz_") != n)
		return bad(c, "tls_uncovered.cause is not a lowercase name");
	return check_process_ref(c, e->process) || text(c, e->dst, MAX_ADDR, "tls_uncovered.dst") ||
	       text(c, e->detail, MAX_HEADER, "tls_uncovered.detail") ||
	       text(c, e->container_id, MAX_CONTAINER_ID, "tls_uncovered.container_id") ||
	       text(c, e->pod_uid, MAX_POD_UID, "tls_uncovered.pod_uid") ? -1 : 0;
}

static int check_process_info(struct ck *c, Tokentap__V1__ProcessInfo *e)
{
	if (!time_ok(e->start_time_ms))
		return bad(c, "process_info.start_time_ms out of range");
	return text(c, e->exe, MAX_PATHLIKE, "process_info.exe") ||
	       text(c, e->cmdline, MAX_CMDLINE, "process_info.cmdline") ||
	       text(c, e->cgroup, MAX_CGROUP, "process_info.cgroup") ||
	       text(c, e->container_id, MAX_CONTAINER_ID, "process_info.container_id") ||
	       text(c, e->k8s_namespace, MAX_NAMESPACE, "process_info.k8s_namespace") ||
	       text(c, e->pod, MAX_K8S_NAME, "process_info.pod") ||
	       text(c, e->pod_uid, MAX_POD_UID, "process_info.pod_uid") ||
	       text(c, e->container, MAX_NAMESPACE, "process_info.container") ||
	       text(c, e->workload_kind, MAX_TYPE, "process_info.workload_kind") ||
	       text(c, e->workload_name, MAX_K8S_NAME, "process_info.workload_name") ||
	       text(c, e->service_account, MAX_K8S_NAME, "process_info.service_account") ||
	       text(c, e->image, MAX_PATHLIKE, "process_info.image") ? -1 : 0;
}

static int check_event(struct ck *c, Tokentap__V1__Event *e)
{
	if (!e)
		return bad(c, "empty event");
	switch (e->kind_case) {
	case TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN:
		return e->token_seen ? check_seen(c, e->token_seen) : bad(c, "empty token_seen");
	case TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE:
		return e->token_usage ? check_usage(c, e->token_usage) : bad(c, "empty token_usage");
	case TOKENTAP__V1__EVENT__KIND_PROCESS_INFO:
		return e->process_info ? check_process_info(c, e->process_info)
				       : bad(c, "empty process_info");
	case TOKENTAP__V1__EVENT__KIND_REVOCATION_RESULT:
		return e->revocation_result ? check_revocation(c, e->revocation_result)
					    : bad(c, "empty revocation_result");
	case TOKENTAP__V1__EVENT__KIND_TOKEN_HELD:
		return e->token_held ? check_held(c, e->token_held) : bad(c, "empty token_held");
	case TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED:
		return e->tls_uncovered ? check_uncovered(c, e->tls_uncovered)
					: bad(c, "empty tls_uncovered");
	case TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS:
		if (!e->sensor_status || !time_ok(e->sensor_status->ts_ms))
			return bad(c, "sensor_status.ts_ms out of range");
		return 0;
	default:
		return bad(c, "event of no known kind");
	}
}

static int check_sensor_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > SENSOR_ID_MAX)
		return 0;
	/* printable ASCII without spaces: it is shown and used in URLs */
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

int batch_check(Tokentap__V1__Batch *b, char *err, size_t errlen)
{
	struct ck c = { err, errlen, 0 };

	if (!check_sensor_id(b->sensor_id)) {
		snprintf(err, errlen, "sensor_id must be 1..%d printable characters", SENSOR_ID_MAX);
		return -1;
	}
	if (b->seq == 0 || b->seq > INT64_MAX) {
		snprintf(err, errlen, "seq must be between 1 and 2^63-1");
		return -1;
	}
	if (!time_ok(b->sent_at_ms)) {
		snprintf(err, errlen, "sent_at_ms out of range");
		return -1;
	}
	if (b->n_events > BATCH_CHECK_MAX_EVENTS) {
		snprintf(err, errlen, "more than %d events", BATCH_CHECK_MAX_EVENTS);
		return -1;
	}
	if (text(&c, b->node, MAX_NODE, "node") || text(&c, b->sensor_version, MAX_VERSION, "sensor_version")) {
		/* batch-level fields: no event index */
		snprintf(err, errlen, "node or sensor_version too long");
		return -1;
	}
	for (c.idx = 0; c.idx < b->n_events; c.idx++)
		if (check_event(&c, b->events[c.idx]) < 0)
			return -1;
	return 0;
}
