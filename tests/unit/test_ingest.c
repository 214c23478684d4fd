/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batch ingestion: valid batches (gzip and identity) are stored, a
 * replayed batch is acknowledged and changes nothing, and every class of
 * hostile input gets its specific status and reason with nothing stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch_check.h"
#include "batch_fixture.h"
#include "store_backends.h"
#include "gunzip.h"
#include "ingest.h"
#include "store.h"

#define FP_A "0123456789abcdef0123456789abcdef"
#define SENSOR "sensor-1"
#define T0 1767225600000LL

static struct store *st;
static struct ingest_limits lim;

/* Runs one case on its backend's fresh store (skips PostgreSQL when it is not there). */
static void run_case(void **state)
{
	const struct tb_case *c = *state;
	void *be = (void *)(c->be == TB_PG ? &tb_pg : &tb_sqlite);

	st = tb_open(&be);
	ingest_limits_default(&lim);
	c->fn(state);
}

/* Also after a failed case: the store closed, its database dropped. */
static int teardown(void **state)
{
	const struct tb_case *c = *state;
	void *be = (void *)(c->be == TB_PG ? &tb_pg : &tb_sqlite);

	store_close(st);
	st = NULL;
	return tb_drop(&be);
}

static Tokentap__V1__Batch *good_batch(uint64_t seq)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", seq);

	fx_add_seen(b, FP_A, "github_pat", 10, "/usr/bin/curl", "1.2.3.4:443", "api.github.com", T0);
	fx_add_usage(b, FP_A, "github_pat", 10, "/usr/bin/curl", "1.2.3.4:443", "api.github.com", 4,
		     T0 + 100);
	fx_add_process(b, 10, T0 - 10, "/usr/bin/curl", "curl ***", "");
	fx_add_status(b, T0, 1, 0);
	return b;
}

static void ingest(const char *ce, const uint8_t *body, size_t len, struct ingest_result *r)
{
	ingest_body(st, &lim, ce, body, len, T0 + 1000, r);
}

static int64_t total_requests(void)
{
	struct json_object *arr;
	char err[256];
	int64_t n = 0;

	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &arr, err, sizeof(err)), 0);
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		n += json_object_get_int64(
			json_object_object_get(json_object_array_get_idx(arr, i), "requests"));
	json_object_put(arr);
	return n;
}

static size_t count_rows(struct json_object *(*fn)(void))
{
	struct json_object *a = fn();
	size_t n = json_object_array_length(a);

	json_object_put(a);
	return n;
}

static struct json_object *all_tokens(void)
{
	struct json_object *a;
	char err[256];

	assert_int_equal(store_query_tokens(st, TOKEN_SORT_LAST_SEEN, &a, err, sizeof(err)), 0);
	return a;
}

static struct json_object *all_sensors(void)
{
	struct json_object *a;
	char err[256];

	assert_int_equal(store_query_sensors(st, &a, err, sizeof(err)), 0);
	return a;
}

static void assert_nothing_stored(void)
{
	assert_int_equal(count_rows(all_tokens), 0);
	assert_int_equal(count_rows(all_sensors), 0);
}

static void assert_rejected(const struct ingest_result *r, int http, enum reject_reason why)
{
	assert_int_equal(r->status, INGEST_REJECTED);
	assert_int_equal(r->http_status, http);
	assert_int_equal(r->reason, why);
	assert_true(r->msg[0] != '\0');
	assert_nothing_stored();
}

static void test_valid_gzip_stored(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);

	(void)state;
	ingest("gzip", body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.events, 4);
	assert_int_equal(r.kinds[TOKENTAP__V1__EVENT__KIND_TOKEN_SEEN], 1);
	assert_int_equal(r.kinds[TOKENTAP__V1__EVENT__KIND_TOKEN_USAGE], 1);
	assert_int_equal(total_requests(), 4);
	free(body);
	fx_free(b);
}

static void test_valid_identity_stored(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, false, &len);

	(void)state;
	ingest(NULL, body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	ingest("identity", body, len, &r);
	assert_int_equal(r.status, INGEST_DUPLICATE);
	assert_int_equal(total_requests(), 4);
	free(body);
	fx_free(b);
}

static void test_replay_counted_once(void **state)
{
	Tokentap__V1__Batch *b = good_batch(5);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);

	(void)state;
	ingest("gzip", body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	for (int i = 0; i < 3; i++) {
		ingest("gzip", body, len, &r);
		assert_int_equal(r.status, INGEST_DUPLICATE);
		assert_int_equal(r.http_status, 200);
	}
	assert_int_equal(total_requests(), 4);
	free(body);
	fx_free(b);

	/* the next seq counts again */
	b = good_batch(6);
	body = fx_pack(b, true, &len);
	ingest("gzip", body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	assert_int_equal(total_requests(), 8);
	free(body);
	fx_free(b);
}

static void test_bad_gzip(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);
	static const uint8_t garbage[] = "this is not gzip at all";

	(void)state;
	ingest("gzip", garbage, sizeof(garbage), &r);
	assert_rejected(&r, 400, REJECT_BAD_GZIP);
	/* truncated stream */
	ingest("gzip", body, len / 2, &r);
	assert_rejected(&r, 400, REJECT_BAD_GZIP);
	/* CRC-32 in the trailer no longer matches */
	body[len - 6] ^= 0x55;
	ingest("gzip", body, len, &r);
	assert_rejected(&r, 400, REJECT_BAD_GZIP);
	body[len - 6] ^= 0x55;
	/* empty body */
	ingest("gzip", body, 0, &r);
	assert_rejected(&r, 400, REJECT_BAD_GZIP);
	/* trailing bytes after the member */
	{
		uint8_t *more = malloc(len + 4);

		memcpy(more, body, len);
		memcpy(more + len, "XXXX", 4);
		ingest("gzip", more, len + 4, &r);
		assert_rejected(&r, 400, REJECT_BAD_GZIP);
		free(more);
	}
	free(body);
	fx_free(b);
}

static void test_gzip_bomb(void **state)
{
	size_t n = 64u << 20, zlen;
	uint8_t *zeros = calloc(1, n);
	uint8_t *bomb;
	struct ingest_result r;

	(void)state;
	assert_non_null(zeros);
	bomb = fx_gzip(zeros, n, &zlen);
	free(zeros);
	assert_true(zlen < lim.max_body);
	ingest("gzip", bomb, zlen, &r);
	assert_rejected(&r, 413, REJECT_DECOMPRESSED_TOO_LARGE);
	free(bomb);
}

static void test_gunzip_limit_exact(void **state)
{
	uint8_t data[1000], *z, *out;
	size_t zlen, outlen;

	(void)state;
	memset(data, 'a', sizeof(data));
	z = fx_gzip(data, sizeof(data), &zlen);
	assert_int_equal(gunzip_bounded(z, zlen, 1000, &out, &outlen), GUNZIP_OK);
	assert_int_equal(outlen, 1000);
	assert_memory_equal(out, data, 1000);
	free(out);
	assert_int_equal(gunzip_bounded(z, zlen, 999, &out, &outlen), GUNZIP_TOO_LARGE);
	assert_null(out);
	free(z);
}

static void test_oversized_body(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);

	(void)state;
	lim.max_body = len - 1;
	ingest("gzip", body, len, &r);
	assert_rejected(&r, 413, REJECT_BODY_TOO_LARGE);
	ingest_limits_default(&lim);
	free(body);
	fx_free(b);
	body = fx_pack(b = good_batch(1), false, &len);
	/* identity: the decompressed limit applies to the body itself */
	lim.max_decompressed = len - 1;
	ingest(NULL, body, len, &r);
	assert_rejected(&r, 413, REJECT_DECOMPRESSED_TOO_LARGE);
	ingest_limits_default(&lim);
	free(body);
	fx_free(b);
}

static void test_truncated_protobuf(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len, zlen;
	uint8_t *raw = fx_pack(b, false, &len), *z;

	/* every cut inside the last event (tag and length: 2 bytes) is malformed */
	size_t last = tokentap__v1__event__get_packed_size(b->events[b->n_events - 1]) + 2;

	(void)state;
	for (size_t cut = 1; cut < last; cut++) {
		ingest(NULL, raw, len - cut, &r);
		assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
	}
	z = fx_gzip(raw, len - 3, &zlen);
	ingest("gzip", z, zlen, &r);
	assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
	free(z);
	free(raw);
	fx_free(b);
}

static void test_wrong_wire_types(void **state)
{
	/* sensor_id (field 1, a string) sent as a varint */
	static const uint8_t varint_id[] = { 0x08, 0x01, 0x18, 0x01 };
	/* seq (field 3, varint) sent as length-delimited */
	static const uint8_t len_seq[] = { 0x0a, 0x01, 'x', 0x1a, 0x02, 0x01, 0x02 };
	/* an event (field 6) whose token_seen (field 1) is a varint */
	static const uint8_t bad_event[] = { 0x0a, 0x01, 'x', 0x18, 0x01, 0x32, 0x02, 0x08, 0x01 };
	/* a length running past the end */
	static const uint8_t overrun[] = { 0x0a, 0x7f, 'x' };
	struct ingest_result r;

	(void)state;
	ingest(NULL, varint_id, sizeof(varint_id), &r);
	assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
	ingest(NULL, len_seq, sizeof(len_seq), &r);
	assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
	ingest(NULL, bad_event, sizeof(bad_event), &r);
	assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
	ingest(NULL, overrun, sizeof(overrun), &r);
	assert_rejected(&r, 400, REJECT_BAD_PROTOBUF);
}

/* Packs b, ingests it, and expects an invalid_batch rejection. */
static void expect_invalid(Tokentap__V1__Batch *b, const char *why)
{
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);

	ingest("gzip", body, len, &r);
	if (r.status != INGEST_REJECTED || r.reason != REJECT_INVALID_BATCH)
		fail_msg("%s: expected invalid_batch, got status %d reason %d", why, r.status,
			 r.reason);
	assert_rejected(&r, 400, REJECT_INVALID_BATCH);
	free(body);
	fx_free(b);
}

static void test_invalid_fingerprints(void **state)
{
	static const char *const bad[] = {
		"0123456789ABCDEF0123456789abcdef",  /* uppercase */
		"0123456789abcdef0123456789abcde",   /* 31 */
		"0123456789abcdef0123456789abcdef0", /* 33 */
		"0123456789abcdef0123456789abcdeg",  /* not hex */
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* a valid event first: nothing of the batch may be stored */
		Tokentap__V1__Batch *b = good_batch(1);
		Tokentap__V1__TokenUsage *u = fx_add_usage(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1",
							   "h", 1, T0);

		free(u->token->fingerprint);
		u->token->fingerprint = fx_str(bad[i]);
		expect_invalid(b, bad[i]);
	}
}

static void test_invalid_identity_and_counts(void **state)
{
	Tokentap__V1__Batch *b;
	char longid[80];

	(void)state;
	b = good_batch(0);
	expect_invalid(b, "seq 0");

	b = good_batch(1);
	free(b->sensor_id);
	b->sensor_id = fx_str("");
	expect_invalid(b, "empty sensor id");

	memset(longid, 'a', 65);
	longid[65] = '\0';
	b = good_batch(1);
	free(b->sensor_id);
	b->sensor_id = fx_str(longid);
	expect_invalid(b, "long sensor id");

	b = good_batch(1);
	fx_add_usage(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1", "h", 0, T0);
	expect_invalid(b, "count 0");

	b = good_batch(1);
	fx_add_usage(b, FP_A, "Not A Type", 1, "/x", "1.1.1.1:1", "h", 1, T0);
	expect_invalid(b, "token type");

	b = good_batch(1);
	fx_add_seen(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1", "h", -5);
	expect_invalid(b, "negative time");

	b = good_batch(1);
	fx_add_event(b); /* an event with no kind */
	expect_invalid(b, "empty event");

	b = good_batch(1);
	{
		Tokentap__V1__TokenSeen *s = fx_add_seen(b, FP_A, "jwt", 1, "/x", "1.1.1.1:1", "h", T0);

		s->token->jwt_json = fx_str("[1,2");
	}
	expect_invalid(b, "jwt not an object");

	b = good_batch(1);
	{
		Tokentap__V1__TokenSeen *s = fx_add_seen(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1", "h", T0);
		char *host = malloc(400);

		memset(host, 'h', 399);
		host[399] = '\0';
		free(s->destination->host);
		s->destination->host = host;
	}
	expect_invalid(b, "host too long");

	b = good_batch(1);
	{
		Tokentap__V1__TokenSeen *s = fx_add_seen(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1", "h", T0);

		tokentap__v1__process_ref__free_unpacked(s->process, NULL);
		s->process = NULL;
	}
	expect_invalid(b, "no process");
}

/* tls_uncovered: stored when valid; a cause that is not a lowercase name, an over-long field, or no process refused. */
static void test_tls_uncovered(void **state)
{
	Tokentap__V1__Batch *b;
	Tokentap__V1__TlsUncovered *u;
	struct ingest_result r;
	size_t len;
	uint8_t *body;

	(void)state;
	b = good_batch(2);
	fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "Unknown Cause", "", T0);
	expect_invalid(b, "cause not a name");
	b = good_batch(2);
	fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "", "", T0);
	expect_invalid(b, "empty cause");
	b = good_batch(2);
	fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "unknown", "", 0);
	expect_invalid(b, "no time");
	b = good_batch(2);
	u = fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "unknown", "", T0);
	free(u->dst);
	u->dst = fx_str("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:443");
	expect_invalid(b, "dst too long");
	b = good_batch(2);
	u = fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "unknown", "", T0);
	tokentap__v1__process_ref__free_unpacked(u->process, NULL);
	u->process = NULL;
	expect_invalid(b, "tls_uncovered without a process");

	/* a cause this collector does not know yet is still a name: kept */
	b = good_batch(1);
	fx_add_uncovered(b, 11, "/opt/mbc", "1.2.3.4:443", "some_future_cause", "", T0);
	body = fx_pack(b, true, &len);
	ingest("gzip", body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	assert_int_equal(r.kinds[TOKENTAP__V1__EVENT__KIND_TLS_UNCOVERED], 1);
	free(body);
	fx_free(b);
}

static void test_invalid_utf8_repaired(void **state)
{
	Tokentap__V1__Batch *b = fx_batch(SENSOR, "node-a", 1);
	Tokentap__V1__TokenUsage *u = fx_add_usage(b, FP_A, "opaque", 1, "/x", "1.1.1.1:1", "h", 2, T0);
	struct ingest_result r;
	struct json_object *t;
	char err[256];
	size_t len;
	uint8_t *body;

	(void)state;
	free(u->process->exe);
	u->process->exe = fx_str("/tmp/\xff\xfe-caf\xc3\xa9");
	body = fx_pack(b, true, &len);
	ingest("gzip", body, len, &r);
	assert_int_equal(r.status, INGEST_STORED);
	assert_int_equal(store_query_token(st, FP_A, &t, err, sizeof(err)), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(json_object_object_get(t, "processes"), 0),
				    "exe")),
			    "/tmp/?" "?-caf\xc3\xa9");
	json_object_put(t);
	free(body);
	fx_free(b);
}

static void test_unsupported_encoding(void **state)
{
	static const uint8_t x[] = { 1, 2, 3 };
	struct ingest_result r;

	(void)state;
	ingest("br", x, sizeof(x), &r);
	assert_rejected(&r, 415, REJECT_UNSUPPORTED_MEDIA_TYPE);
	ingest("gzip, br", x, sizeof(x), &r);
	assert_rejected(&r, 415, REJECT_UNSUPPORTED_MEDIA_TYPE);
}

static void test_decode_memory_budget(void **state)
{
	/* a million empty events: 2 bytes each on the wire, far more decoded */
	size_t n = 1000000, len = 3 + 2 + 2 * n;
	uint8_t *raw = malloc(len), *z;
	size_t zlen;
	struct ingest_result r;

	(void)state;
	assert_non_null(raw);
	memcpy(raw, "\x0a\x01x\x18\x01", 5);
	for (size_t i = 0; i < n; i++) {
		raw[5 + 2 * i] = 0x32;
		raw[6 + 2 * i] = 0x00;
	}
	z = fx_gzip(raw, len, &zlen);
	ingest("gzip", z, zlen, &r);
	assert_rejected(&r, 413, REJECT_DECOMPRESSED_TOO_LARGE);
	free(z);
	free(raw);
}

static void test_decode_only(void **state)
{
	Tokentap__V1__Batch *b = good_batch(1);
	struct ingest_result r;
	size_t len;
	uint8_t *body = fx_pack(b, true, &len);

	(void)state;
	assert_int_equal(ingest_decode(&lim, "gzip", body, len, &r), 0);
	assert_int_equal(r.events, 4);
	assert_int_equal(ingest_decode(&lim, "gzip", body, len - 1, &r), -1);
	assert_int_equal(r.reason, REJECT_BAD_GZIP);
	assert_nothing_stored();
	free(body);
	fx_free(b);
}

int main(void)
{
#define T(f)                                                                           \
	{ #f "/sqlite", run_case, NULL, teardown, &(struct tb_case){ TB_SQLITE, f } },   \
	{ #f "/pg", run_case, NULL, teardown, &(struct tb_case){ TB_PG, f } }
	const struct CMUnitTest tests[] = {
		T(test_valid_gzip_stored),
		T(test_valid_identity_stored),
		T(test_replay_counted_once),
		T(test_bad_gzip),
		T(test_gzip_bomb),
		T(test_gunzip_limit_exact),
		T(test_oversized_body),
		T(test_truncated_protobuf),
		T(test_wrong_wire_types),
		T(test_invalid_fingerprints),
		T(test_invalid_identity_and_counts),
		T(test_tls_uncovered),
		T(test_invalid_utf8_repaired),
		T(test_unsupported_encoding),
		T(test_decode_memory_budget),
		T(test_decode_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
