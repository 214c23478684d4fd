/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HPACK decoder: every RFC 7541 Appendix C example (fields and dynamic
 * table state), Huffman, integers, and malformed blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hpack.h"

#define ARENA 8192
#define FIELDS 64

struct out {
	struct hpack_field fields[FIELDS];
	char arena[ARENA];
	struct hpack_block b;
};

static size_t unhex(const char *hex, uint8_t *buf, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		buf[i] = (uint8_t)v;
	}
	return n;
}

static int decode_hex(struct hpack_decoder *d, const char *hex, struct out *o)
{
	uint8_t buf[1024];
	size_t n = unhex(hex, buf, sizeof(buf));

	memset(o, 0, sizeof(*o));
	o->b.fields = o->fields;
	o->b.max_fields = FIELDS;
	o->b.arena = o->arena;
	o->b.arena_cap = ARENA;
	return hpack_decode_block(d, buf, n, &o->b);
}

struct kv {
	const char *name;
	const char *value;
};

static void expect_fields(const struct out *o, const struct kv *want, size_t n)
{
	assert_int_equal(o->b.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(o->fields[i].name_len, strlen(want[i].name));
		assert_memory_equal(o->fields[i].name, want[i].name, strlen(want[i].name));
		assert_int_equal(o->fields[i].value_len, strlen(want[i].value));
		assert_memory_equal(o->fields[i].value, want[i].value, strlen(want[i].value));
	}
}

/* Dynamic table, newest first, and its RFC size. */
static void expect_table(const struct hpack_decoder *d, const struct kv *want, size_t n, size_t size)
{
	assert_int_equal(d->count, n);
	assert_int_equal(d->size, size);
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		size_t nl, vl;

		assert_true(hpack_dyn_entry(d, i + 1, &name, &nl, &value, &vl));
		assert_int_equal(nl, strlen(want[i].name));
		assert_memory_equal(name, want[i].name, nl);
		assert_int_equal(vl, strlen(want[i].value));
		assert_memory_equal(value, want[i].value, vl);
	}
	assert_false(hpack_dyn_entry(d, n + 1, &(const char *){ 0 }, &(size_t){ 0 },
				     &(const char *){ 0 }, &(size_t){ 0 }));
}

static struct out o;

static void test_c2(void **state)
{
	struct hpack_decoder d;
	const struct kv c21[] = { { "custom-key", "custom-header" } };
	const struct kv c22[] = { { ":path", "/sample/path" } };
	const struct kv c23[] = { { "password", "secret" } };
	const struct kv c24[] = { { ":method", "GET" } };

	(void)state;
	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", &o), HPACK_OK);
	expect_fields(&o, c21, 1);
	expect_table(&d, c21, 1, 55);
	hpack_decoder_free(&d);

	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, "040c2f73616d706c652f70617468", &o), HPACK_OK);
	expect_fields(&o, c22, 1);
	expect_table(&d, NULL, 0, 0);
	hpack_decoder_free(&d);

	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, "100870617373776f726406736563726574", &o), HPACK_OK);
	expect_fields(&o, c23, 1);
	assert_true(o.fields[0].never_indexed);
	expect_table(&d, NULL, 0, 0);
	hpack_decoder_free(&d);

	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, "82", &o), HPACK_OK);
	expect_fields(&o, c24, 1);
	expect_table(&d, NULL, 0, 0);
	hpack_decoder_free(&d);
}

static const struct kv req1[] = {
	{ ":method", "GET" }, { ":scheme", "http" }, { ":path", "/" }, { ":authority", "www.example.com" },
};
static const struct kv req2[] = {
	{ ":method", "GET" }, { ":scheme", "http" }, { ":path", "/" },
	{ ":authority", "www.example.com" }, { "cache-control", "no-cache" },
};
static const struct kv req3[] = {
	{ ":method", "GET" }, { ":scheme", "https" }, { ":path", "/index.html" },
	{ ":authority", "www.example.com" }, { "custom-key", "custom-value" },
};
static const struct kv tbl1[] = { { ":authority", "www.example.com" } };
static const struct kv tbl2[] = { { "cache-control", "no-cache" }, { ":authority", "www.example.com" } };
static const struct kv tbl3[] = {
	{ "custom-key", "custom-value" }, { "cache-control", "no-cache" },
	{ ":authority", "www.example.com" },
};

static void requests(const char *const hex[3])
{
	struct hpack_decoder d;

	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, hex[0], &o), HPACK_OK);
	expect_fields(&o, req1, 4);
	expect_table(&d, tbl1, 1, 57);
	assert_int_equal(decode_hex(&d, hex[1], &o), HPACK_OK);
	expect_fields(&o, req2, 5);
	expect_table(&d, tbl2, 2, 110);
	assert_int_equal(decode_hex(&d, hex[2], &o), HPACK_OK);
	expect_fields(&o, req3, 5);
	expect_table(&d, tbl3, 3, 164);
	hpack_decoder_free(&d);
}

static void test_c3(void **state)
{
	static const char *const hex[3] = {
		"828684410f7777772e6578616d706c652e636f6d",
		"828684be58086e6f2d6361636865",
		"828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
	};

	(void)state;
	requests(hex);
}

static void test_c4(void **state)
{
	static const char *const hex[3] = {
		"828684418cf1e3c2e5f23a6ba0ab90f4ff",
		"828684be5886a8eb10649cbf",
		"828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
	};

	(void)state;
	requests(hex);
}

#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC "https://www.example.com"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

/* C.5 and C.6: responses with a 256-byte table, so entries are evicted. */
static void responses(const char *const hex[3])
{
	static const struct kv r1[] = {
		{ ":status", "302" }, { "cache-control", "private" }, { "date", DATE1 }, { "location", LOC },
	};
	static const struct kv t1[] = {
		{ "location", LOC }, { "date", DATE1 }, { "cache-control", "private" }, { ":status", "302" },
	};
	static const struct kv r2[] = {
		{ ":status", "307" }, { "cache-control", "private" }, { "date", DATE1 }, { "location", LOC },
	};
	static const struct kv t2[] = {
		{ ":status", "307" }, { "location", LOC }, { "date", DATE1 }, { "cache-control", "private" },
	};
	static const struct kv r3[] = {
		{ ":status", "200" }, { "cache-control", "private" }, { "date", DATE2 }, { "location", LOC },
		{ "content-encoding", "gzip" }, { "set-cookie", COOKIE },
	};
	static const struct kv t3[] = {
		{ "set-cookie", COOKIE }, { "content-encoding", "gzip" }, { "date", DATE2 },
	};
	struct hpack_decoder d;

	hpack_decoder_init(&d, 65536, true);
	/* the examples run with SETTINGS_HEADER_TABLE_SIZE 256: a size update says so */
	assert_int_equal(decode_hex(&d, "3fe101", &o), HPACK_OK);
	assert_int_equal(d.max_size, 256);
	assert_int_equal(decode_hex(&d, hex[0], &o), HPACK_OK);
	expect_fields(&o, r1, 4);
	expect_table(&d, t1, 4, 222);
	assert_int_equal(decode_hex(&d, hex[1], &o), HPACK_OK);
	expect_fields(&o, r2, 4);
	expect_table(&d, t2, 4, 222);
	assert_int_equal(decode_hex(&d, hex[2], &o), HPACK_OK);
	expect_fields(&o, r3, 6);
	expect_table(&d, t3, 3, 215);
	hpack_decoder_free(&d);
}

static void test_c5(void **state)
{
	static const char *const hex[3] = {
		"4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
		"6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
		"4803333037c1c0bf",
		"88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
		"3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
		"657273696f6e3d31",
	};

	(void)state;
	responses(hex);
}

static void test_c6(void **state)
{
	static const char *const hex[3] = {
		"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f"
		"0b97c8e9ae82ae43d3",
		"4883640effc1c0bf",
		"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df"
		"dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
	};

	(void)state;
	responses(hex);
}

static void test_integers(void **state)
{
	/* RFC 7541 C.1: 10 in a 5-bit prefix, 1337 in 5 bits, 42 in 8 bits */
	static const uint8_t a[] = { 0x0a }, b[] = { 0x1f, 0x9a, 0x0a }, c[] = { 0x2a };
	static const uint8_t trunc[] = { 0x1f, 0x9a }, huge[] = { 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t zeros[] = { 0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	uint64_t v;
	size_t pos;

	(void)state;
	pos = 0;
	assert_int_equal(hpack_decode_int(a, sizeof(a), &pos, 5, 1u << 20, &v), HPACK_OK);
	assert_int_equal(v, 10);
	pos = 0;
	assert_int_equal(hpack_decode_int(b, sizeof(b), &pos, 5, 1u << 20, &v), HPACK_OK);
	assert_int_equal(v, 1337);
	assert_int_equal(pos, 3);
	pos = 0;
	assert_int_equal(hpack_decode_int(c, sizeof(c), &pos, 8, 1u << 20, &v), HPACK_OK);
	assert_int_equal(v, 42);
	pos = 0;
	assert_int_equal(hpack_decode_int(trunc, sizeof(trunc), &pos, 5, 1u << 20, &v), HPACK_E_TRUNCATED);
	pos = 0;
	assert_int_equal(hpack_decode_int(huge, sizeof(huge), &pos, 5, 1ULL << 32, &v), HPACK_E_INT_OVERFLOW);
	pos = 0;
	assert_int_equal(hpack_decode_int(zeros, sizeof(zeros), &pos, 5, 1ULL << 32, &v), HPACK_E_INT_OVERFLOW);
	pos = 0;
	assert_int_equal(hpack_decode_int(a, 0, &pos, 5, 10, &v), HPACK_E_TRUNCATED);
}

static void test_huffman(void **state)
{
	static const uint8_t www[] = { 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff };
	static const uint8_t eos[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t long_pad[] = { 0xf1, 0xff };  /* 'w' then 8 one-bits */
	static const uint8_t zero_pad[] = { 0xf0 };        /* 'w' (1111000) then a 0 bit */
	char out[64];

	(void)state;
	assert_int_equal(hpack_huffman_decode(www, sizeof(www), out, sizeof(out)), 15);
	assert_memory_equal(out, "www.example.com", 15);
	assert_int_equal(hpack_huffman_decode(www, sizeof(www), out, 5), HPACK_E_SPACE);
	assert_int_equal(hpack_huffman_decode(eos, sizeof(eos), out, sizeof(out)), HPACK_E_HUFFMAN);
	assert_int_equal(hpack_huffman_decode(long_pad, sizeof(long_pad), out, sizeof(out)), HPACK_E_HUFFMAN);
	assert_int_equal(hpack_huffman_decode(zero_pad, sizeof(zero_pad), out, sizeof(out)), HPACK_E_HUFFMAN);
	assert_int_equal(hpack_huffman_decode(www, 0, out, sizeof(out)), 0);
}

static void expect_err(const char *hex, int err)
{
	struct hpack_decoder d;

	hpack_decoder_init(&d, 4096, true);
	assert_int_equal(decode_hex(&d, hex, &o), err);
	assert_false(d.synced);
	hpack_decoder_free(&d);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_err("80", HPACK_E_INDEX_ZERO);
	expect_err("be", HPACK_E_INDEX_RANGE);          /* 62: empty dynamic table */
	expect_err("ff80ffffff0f", HPACK_E_INDEX_RANGE);
	expect_err("3fe21f", HPACK_E_TABLE_SIZE);       /* 4096 + 31 > limit 4096 */
	expect_err("8220", HPACK_E_UPDATE_POS);
	expect_err("40036162", HPACK_E_TRUNCATED);     /* string ends early */
	expect_err("4003", HPACK_E_TRUNCATED);
	expect_err("7f", HPACK_E_TRUNCATED);           /* integer ends early */
	expect_err("408100", HPACK_E_HUFFMAN);         /* zero padding */
	expect_err("4084ffffffff", HPACK_E_HUFFMAN);   /* EOS */
	expect_err("407fffffffffffff7f", HPACK_E_INT_OVERFLOW);
	expect_err("4f", HPACK_E_TRUNCATED);           /* name index, no value */
}

static void test_eviction_and_updates(void **state)
{
	struct hpack_decoder d;
	const struct kv one[] = { { "custom-key", "custom-header" } };

	(void)state;
	hpack_decoder_init(&d, 65536, true);
	assert_int_equal(decode_hex(&d, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", &o), HPACK_OK);
	expect_table(&d, one, 1, 55);
	/* shrink below the entry: evicted; then an entry larger than the table empties it */
	assert_int_equal(decode_hex(&d, "34", &o), HPACK_OK);
	expect_table(&d, NULL, 0, 0);
	assert_int_equal(decode_hex(&d, "400a637573746f6d2d6b65790d637573746f6d2d686561646572", &o), HPACK_OK);
	expect_table(&d, NULL, 0, 0);
	/* two updates in a row at the start of a block are allowed */
	assert_int_equal(decode_hex(&d, "203fe11f82", &o), HPACK_OK);
	assert_int_equal(d.max_size, 4096);
	assert_int_equal(o.b.n, 1);
	hpack_decoder_free(&d);
}

/* A connection seen late: dynamic indices are skipped and counted, never guessed. */
static void test_unsynced(void **state)
{
	struct hpack_decoder d;
	const struct kv want[] = { { ":method", "GET" }, { "password", "secret" } };

	(void)state;
	hpack_decoder_init(&d, 65536, false);
	/* 82, be (dynamic 62), 7f00 (literal with dynamic name 63), then never-indexed literal */
	assert_int_equal(decode_hex(&d, "82be7f00017810" "0870617373776f726406736563726574", &o), HPACK_OK);
	assert_int_equal(o.b.unknown, 2);
	expect_fields(&o, want, 2);
	assert_false(d.synced);
	/* emptying the table makes it known again */
	assert_int_equal(decode_hex(&d, "20", &o), HPACK_OK);
	assert_true(d.synced);
	hpack_decoder_free(&d);
}

static void test_space(void **state)
{
	struct hpack_decoder d;
	uint8_t buf[] = { 0x82, 0x82, 0x82 };
	struct hpack_field f[2];
	char arena[64];
	struct hpack_block b = { .fields = f, .max_fields = 2, .arena = arena, .arena_cap = sizeof(arena) };

	(void)state;
	hpack_decoder_init(&d, 4096, true);
	assert_int_equal(hpack_decode_block(&d, buf, sizeof(buf), &b), HPACK_E_SPACE);
	b.max_fields = 3;
	b.arena_cap = 10;
	hpack_decoder_init(&d, 4096, true);
	assert_int_equal(hpack_decode_block(&d, buf, sizeof(buf), &b), HPACK_E_SPACE);
	hpack_decoder_free(&d);
	assert_string_equal(hpack_strerror(HPACK_E_HUFFMAN), "bad huffman string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c2),
		cmocka_unit_test(test_c3),
		cmocka_unit_test(test_c4),
		cmocka_unit_test(test_c5),
		cmocka_unit_test(test_c6),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_huffman),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_eviction_and_updates),
		cmocka_unit_test(test_unsynced),
		cmocka_unit_test(test_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
