/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire encoding: every event kind survives encode -> batch -> gzip ->
 * gunzip -> unpack with its fields intact; batch bounds; strings that are
 * not UTF-8 are made valid; the JWT claims travel as compact JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "batch_decode.h"

#define MS 1000000LL
#define FP "00112233445566778899aabbccddeeff"

static void fill_sighting(struct sighting *s)
{
	struct json_object *jwt = json_object_new_object();

	memset(s, 0, sizeof(*s));
	snprintf(s->fingerprint, sizeof(s->fingerprint), FP);
	snprintf(s->info.type, sizeof(s->info.type), "jwt");
	snprintf(s->info.prefix, sizeof(s->info.prefix), "eyJ");
	s->info.length = 321;
	s->info.has_checksum = true;
	s->info.checksum_valid = true;
	s->info.confidence = 90;
	snprintf(s->info.key_id, sizeof(s->info.key_id), "AKIAEXAMPLEKEYID0000");
	snprintf(s->info.aws_key_kind, sizeof(s->info.aws_key_kind), "long-term");
	snprintf(s->info.aws_account, sizeof(s->info.aws_account), "123456789012");
	snprintf(s->info.aws_region, sizeof(s->info.aws_region), "eu-west-1");
	snprintf(s->info.aws_service, sizeof(s->info.aws_service), "s3");
	snprintf(s->info.basic_user, sizeof(s->info.basic_user), "alice");
	snprintf(s->info.basic_password_type, sizeof(s->info.basic_password_type), "opaque");
	json_object_object_add(jwt, "alg", json_object_new_string("RS256"));
	json_object_object_add(jwt, "iss", json_object_new_string("https://issuer.example/realm"));
	json_object_object_add(jwt, "exp", json_object_new_int64(1700000000));
	s->info.jwt = jwt;
	snprintf(s->scheme, sizeof(s->scheme), "Bearer");
	snprintf(s->header, sizeof(s->header), "authorization");
	s->pid = 4242;
	s->tid = 4243;
	s->uid = 1000;
	snprintf(s->comm, sizeof(s->comm), "curl");
	snprintf(s->exe, sizeof(s->exe), "/usr/bin/curl");
	s->cgroup_id = 0x123456789aULL;
	s->tls = true;
	snprintf(s->tls_library, sizeof(s->tls_library), "openssl");
	snprintf(s->src, sizeof(s->src), "10.0.0.2:51234");
	snprintf(s->dst, sizeof(s->dst), "[2001:db8::1]:443");
	snprintf(s->host, sizeof(s->host), "api.example.com");
	snprintf(s->method, sizeof(s->method), "POST");
	snprintf(s->path, sizeof(s->path), "/v1/x?a=&b=");
	s->ts_unix_ns = 1700000000123LL * MS + 456789;
}

/* One event through a one-event batch and back. */
static Tokentap__V1__Batch *round_trip(batch_event *ev)
{
	struct batch b;
	struct batch_meta meta = { .sensor_id = "0b8d4c1e-6a0f-4c57-9d55-4b8c8d6b2a11",
				   .node = "node-1", .seq = 77, .sent_at_ms = 1700000001000LL,
				   .sensor_version = "0.1.0" };
	Tokentap__V1__Batch *out;
	uint8_t *buf;
	size_t len;

	assert_non_null(ev);
	batch_init(&b, 0, 0);
	assert_int_equal(batch_add(&b, ev), 0);
	assert_int_equal(batch_serialize(&b, &meta, &buf, &len), 0);
	/* a gzip member: magic 1f 8b, deflate */
	assert_true(len > 18);
	assert_int_equal(buf[0], 0x1f);
	assert_int_equal(buf[1], 0x8b);
	assert_int_equal(buf[2], 8);
	out = test_decode_batch(buf, len);
	free(buf);
	batch_free(&b);
	assert_non_null(out);
	assert_string_equal(out->sensor_id, meta.sensor_id);
	assert_string_equal(out->node, "node-1");
	assert_int_equal(out->seq, 77);
	assert_int_equal(out->sent_at_ms, 1700000001000LL);
	assert_string_equal(out->sensor_version, "0.1.0");
	assert_int_equal(out->n_events, 1);
	return out;
}

static void check_token(const Tokentap__V1__Token *t)
{
	assert_non_null(t);
	assert_string_equal(t->fingerprint, FP);
	assert_string_equal(t->token_type, "jwt");
	assert_string_equal(t->scheme, "Bearer");
	assert_string_equal(t->header, "authorization");
	assert_string_equal(t->token_prefix, "eyJ");
	assert_int_equal(t->token_length, 321);
	assert_true(t->has_checksum);
	assert_true(t->checksum_valid);
	assert_int_equal(t->confidence, 90);
	assert_string_equal(t->key_id, "AKIAEXAMPLEKEYID0000");
	assert_string_equal(t->aws_key_kind, "long-term");
	assert_string_equal(t->aws_account, "123456789012");
	assert_string_equal(t->aws_region, "eu-west-1");
	assert_string_equal(t->aws_service, "s3");
	assert_string_equal(t->basic_user, "alice");
	assert_string_equal(t->basic_password_type, "opaque");
	/* compact, slashes not escaped */
	assert_string_equal(t->jwt_json,
			    "{\"alg\":\"RS256\",\"iss\":\"https://issuer.example/realm\",\"exp\":1700000000}");
}

static void check_process_dest(const Tokentap__V1__ProcessRef *p, const Tokentap__V1__Destination *d)
{
	assert_non_null(p);
	assert_int_equal(p->pid, 4242);
	assert_int_equal(p->tid, 4243);
	assert_int_equal(p->uid, 1000);
	assert_string_equal(p->comm, "curl");
	assert_string_equal(p->exe, "/usr/bin/curl");
	assert_int_equal(p->cgroup_id, 0x123456789aULL);
	assert_non_null(d);
	assert_string_equal(d->src, "10.0.0.2:51234");
	assert_string_equal(d->dst, "[2001:db8::1]:443");
	assert_string_equal(d->host, "api.example.com");
	assert_true(d->tls);
	assert_string_equal(d->tls_library, "openssl");
}

static void test_token_seen(void **state)
{
	struct sighting s;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *m;

	(void)state;
	fill_sighting(&s);
	b = round_trip(batch_event_token_seen(&s));
	assert_int_equal(b->events[0]->kind_case, TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN);
	m = b->events[0]->token_seen;
	assert_int_equal(m->ts_ms, 1700000000123LL);
	check_token(m->token);
	check_process_dest(m->process, m->destination);
	assert_string_equal(m->method, "POST");
	assert_string_equal(m->path, "/v1/x?a=&b=");
	tokentap__v1__batch__free_unpacked(b, NULL);
	sighting_release(&s);
}

static void test_token_usage(void **state)
{
	struct sighting s;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenUsage *m;

	(void)state;
	memset(&s, 0, sizeof(s));
	fill_sighting(&s);
	b = round_trip(batch_event_token_usage(&s, 1700000009999LL * MS, 17, 1700000000000LL * MS,
					       1700000010000LL * MS));
	assert_int_equal(b->events[0]->kind_case, TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE);
	m = b->events[0]->token_usage;
	assert_int_equal(m->start_ms, 1700000000000LL);
	assert_int_equal(m->end_ms, 1700000010000LL);
	assert_int_equal(m->count, 17);
	assert_int_equal(m->last_seen_ms, 1700000009999LL);
	check_token(m->token);
	check_process_dest(m->process, m->destination);
	assert_string_equal(m->method, "POST");
	assert_string_equal(m->path, "/v1/x?a=&b=");
	tokentap__v1__batch__free_unpacked(b, NULL);
	sighting_release(&s);
}

static void test_sensor_status(void **state)
{
	const struct status_field f[] = {
		{ "attached_files", 3 }, { "uprobes", 12 }, { "tracepoints", 8 },
		{ "attach_errors", 1 }, { "events", 1000000 }, { "ringbuf_drops", 2 },
		{ "truncated_writes", 3 }, { "headers_truncated", 4 }, { "requests", 5 },
		{ "credentials", 6 }, { "parse_errors", 7 }, { "spool_bytes", 1ULL << 40 },
		{ "spool_batches", 9 }, { "spool_dropped", 10 }, { "batches_sent", 11 },
		{ "batches_rejected", 12 }, { "aggregation_overflow", 13 },
		{ "not_a_field", 99 },
	};
	const struct status_field big[] = { { "uprobes", 1ULL << 33 } };
	Tokentap__V1__Batch *b;
	Tokentap__V1__SensorStatus *m;

	(void)state;
	b = round_trip(batch_event_status(1700000000500LL * MS, f, sizeof(f) / sizeof(f[0])));
	assert_int_equal(b->events[0]->kind_case, TOKENTAP__V1__EVENT__KIND_SENSOR_STATUS);
	m = b->events[0]->sensor_status;
	assert_int_equal(m->ts_ms, 1700000000500LL);
	assert_int_equal(m->attached_files, 3);
	assert_int_equal(m->uprobes, 12);
	assert_int_equal(m->tracepoints, 8);
	assert_int_equal(m->attach_errors, 1);
	assert_int_equal(m->events, 1000000);
	assert_int_equal(m->ringbuf_drops, 2);
	assert_int_equal(m->truncated_writes, 3);
	assert_int_equal(m->headers_truncated, 4);
	assert_int_equal(m->requests, 5);
	assert_int_equal(m->credentials, 6);
	assert_int_equal(m->parse_errors, 7);
	assert_int_equal(m->spool_bytes, 1ULL << 40);
	assert_int_equal(m->spool_batches, 9);
	assert_int_equal(m->spool_dropped, 10);
	assert_int_equal(m->batches_sent, 11);
	assert_int_equal(m->batches_rejected, 12);
	assert_int_equal(m->overflow, 13);
	tokentap__v1__batch__free_unpacked(b, NULL);

	/* a 32-bit field saturates instead of wrapping */
	b = round_trip(batch_event_status(0, big, 1));
	assert_int_equal(b->events[0]->sensor_status->uprobes, UINT32_MAX);
	tokentap__v1__batch__free_unpacked(b, NULL);
}

static void test_process_info(void **state)
{
	struct procdesc d;
	Tokentap__V1__Batch *b;
	Tokentap__V1__ProcessInfo *m;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.pid = 99;
	d.ppid = 1;
	d.uid = 33;
	d.start_time_ms = 1699999999000LL;
	snprintf(d.exe, sizeof(d.exe), "/usr/bin/python3.11");
	snprintf(d.cmdline, sizeof(d.cmdline), "python3 app.py --token ***");
	snprintf(d.cgroup, sizeof(d.cgroup), "/system.slice/docker-%064d.scope", 7);
	snprintf(d.container_id, sizeof(d.container_id), "%064d", 7);
	d.cgroup_id = 5555;
	b = round_trip(batch_event_process_info(&d));
	assert_int_equal(b->events[0]->kind_case, TOKENTAP__V1__EVENT__KIND_PROCESS_INFO);
	m = b->events[0]->process_info;
	assert_int_equal(m->pid, 99);
	assert_int_equal(m->ppid, 1);
	assert_int_equal(m->uid, 33);
	assert_int_equal(m->start_time_ms, 1699999999000LL);
	assert_string_equal(m->exe, "/usr/bin/python3.11");
	assert_string_equal(m->cmdline, "python3 app.py --token ***");
	assert_string_equal(m->cgroup, d.cgroup);
	assert_string_equal(m->container_id, d.container_id);
	assert_int_equal(m->cgroup_id, 5555);
	assert_string_equal(m->pod, "");
	tokentap__v1__batch__free_unpacked(b, NULL);

	/* in a pod the watcher knows: its names, its namespace over the volume's */
	snprintf(d.pod_uid, sizeof(d.pod_uid), "0b7c1d2e-3f40-4152-8364-758697a8b9ca");
	snprintf(d.k8s_namespace, sizeof(d.k8s_namespace), "from-volume");
	snprintf(d.pod.pod, sizeof(d.pod.pod), "api-7d4b9c8f6-x2x9z");
	snprintf(d.pod.k8s_namespace, sizeof(d.pod.k8s_namespace), "payments");
	snprintf(d.pod.container, sizeof(d.pod.container), "server");
	snprintf(d.pod.image, sizeof(d.pod.image), "registry.example/api:1.4");
	snprintf(d.pod.workload_kind, sizeof(d.pod.workload_kind), "Deployment");
	snprintf(d.pod.workload_name, sizeof(d.pod.workload_name), "api");
	snprintf(d.pod.service_account, sizeof(d.pod.service_account), "api-sa");
	b = round_trip(batch_event_process_info(&d));
	m = b->events[0]->process_info;
	assert_string_equal(m->pod_uid, d.pod_uid);
	assert_string_equal(m->pod, "api-7d4b9c8f6-x2x9z");
	assert_string_equal(m->k8s_namespace, "payments");
	assert_string_equal(m->container, "server");
	assert_string_equal(m->image, "registry.example/api:1.4");
	assert_string_equal(m->workload_kind, "Deployment");
	assert_string_equal(m->workload_name, "api");
	assert_string_equal(m->service_account, "api-sa");
	tokentap__v1__batch__free_unpacked(b, NULL);
	/* not known: the pod UID alone, the volume's namespace */
	memset(&d.pod, 0, sizeof(d.pod));
	b = round_trip(batch_event_process_info(&d));
	m = b->events[0]->process_info;
	assert_string_equal(m->pod_uid, d.pod_uid);
	assert_string_equal(m->k8s_namespace, "from-volume");
	assert_string_equal(m->pod, "");
	tokentap__v1__batch__free_unpacked(b, NULL);
}

/* Unset fields (no JWT, plaintext, unknown exe) travel as empty. */
static void test_empty_fields(void **state)
{
	struct sighting s;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *m;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(s.info.type, sizeof(s.info.type), "opaque");
	s.info.confidence = -5;
	b = round_trip(batch_event_token_seen(&s));
	m = b->events[0]->token_seen;
	assert_string_equal(m->token->jwt_json, "");
	assert_string_equal(m->token->token_type, "opaque");
	assert_int_equal(m->token->confidence, 0);
	assert_false(m->token->has_checksum);
	assert_string_equal(m->process->exe, "");
	assert_string_equal(m->destination->dst, "");
	assert_false(m->destination->tls);
	tokentap__v1__batch__free_unpacked(b, NULL);
}

/* Captured bytes are not always UTF-8: proto3 strings must be. */
static void test_invalid_utf8(void **state)
{
	struct sighting s;
	Tokentap__V1__Batch *b;
	Tokentap__V1__TokenSeen *m;

	(void)state;
	memset(&s, 0, sizeof(s));
	memcpy(s.path, "/caf\xc3\xa9/\xff\xfe/\xe2\x82", 13);
	memcpy(s.host, "h\xc0\xafx", 4);   /* overlong '/' */
	memcpy(s.method, "\xed\xa0\x80", 3); /* surrogate */
	b = round_trip(batch_event_token_seen(&s));
	m = b->events[0]->token_seen;
	assert_string_equal(m->path, "/caf\xc3\xa9/?" "?/?" "?");
	assert_string_equal(m->destination->host, "h??x");
	assert_string_equal(m->method, "???");
	tokentap__v1__batch__free_unpacked(b, NULL);
}

static void test_bound_events(void **state)
{
	struct batch b;
	const struct status_field f[] = { { "events", 1 } };

	(void)state;
	batch_init(&b, 3, 0);
	for (int i = 0; i < 3; i++) {
		assert_false(batch_full(&b));
		assert_int_equal(batch_add(&b, batch_event_status(i, f, 1)), 0);
	}
	assert_true(batch_full(&b));
	/* refused, and freed (LSan would see a leak) */
	assert_int_equal(batch_add(&b, batch_event_status(3, f, 1)), -1);
	assert_int_equal(b.n, 3);
	batch_reset(&b);
	assert_int_equal(b.n, 0);
	assert_false(batch_full(&b));
	assert_int_equal(batch_add(&b, batch_event_status(4, f, 1)), 0);
	batch_free(&b);
}

static void test_bound_bytes(void **state)
{
	struct batch b;
	struct procdesc d;
	struct batch_meta meta = { .sensor_id = "x", .node = "n", .seq = 1 };
	Tokentap__V1__Batch *out;
	uint8_t *buf;
	size_t len, n = 0;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(d.cmdline, 'a', 3000);
	batch_init(&b, 1000, 10000);
	while (batch_add(&b, batch_event_process_info(&d)) == 0)
		n++;
	/* 3 events of ~3 kB fit in 10 kB, a fourth does not */
	assert_int_equal(n, 3);
	assert_true(b.bytes <= 10000);
	assert_int_equal(batch_serialize(&b, &meta, &buf, &len), 0);
	out = test_decode_batch(buf, len);
	assert_non_null(out);
	assert_int_equal(out->n_events, 3);
	tokentap__v1__batch__free_unpacked(out, NULL);
	free(buf);
	batch_free(&b);

	/* an empty batch takes one event larger than the bound */
	batch_init(&b, 1000, 100);
	assert_int_equal(batch_add(&b, batch_event_process_info(&d)), 0);
	assert_true(batch_full(&b));
	batch_free(&b);
}

/* Many events: order kept, the gzip wrapper valid for a large input. */
static void test_many_events(void **state)
{
	struct batch b;
	struct batch_meta meta = { .sensor_id = "x", .node = "n", .seq = 2 };
	Tokentap__V1__Batch *out;
	uint8_t *buf;
	size_t len;

	(void)state;
	batch_init(&b, 0, 0);
	for (uint64_t i = 0; i < BATCH_DEFAULT_MAX_EVENTS; i++) {
		const struct status_field f[] = { { "events", i } };

		assert_int_equal(batch_add(&b, batch_event_status((int64_t)i * MS, f, 1)), 0);
	}
	assert_true(batch_full(&b));
	assert_int_equal(batch_serialize(&b, &meta, &buf, &len), 0);
	out = test_decode_batch(buf, len);
	assert_non_null(out);
	assert_int_equal(out->n_events, BATCH_DEFAULT_MAX_EVENTS);
	for (size_t i = 0; i < out->n_events; i++)
		assert_int_equal(out->events[i]->sensor_status->events, i);
	tokentap__v1__batch__free_unpacked(out, NULL);
	free(buf);
	batch_free(&b);
}

static void test_empty_batch(void **state)
{
	struct batch b;
	struct batch_meta meta = { 0 };
	Tokentap__V1__Batch *out;
	uint8_t *buf;
	size_t len;

	(void)state;
	batch_init(&b, 0, 0);
	assert_int_equal(batch_serialize(&b, &meta, &buf, &len), 0);
	out = test_decode_batch(buf, len);
	assert_non_null(out);
	assert_int_equal(out->n_events, 0);
	assert_string_equal(out->sensor_id, "");
	tokentap__v1__batch__free_unpacked(out, NULL);
	free(buf);
	batch_free(&b);
	batch_event_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_seen),
		cmocka_unit_test(test_token_usage),
		cmocka_unit_test(test_sensor_status),
		cmocka_unit_test(test_process_info),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_bound_events),
		cmocka_unit_test(test_bound_bytes),
		cmocka_unit_test(test_many_events),
		cmocka_unit_test(test_empty_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
