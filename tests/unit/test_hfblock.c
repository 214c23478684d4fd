/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A whole request's header records (Go's once-per-request probe,
 * TT_F_HBLOCK) -> the fields Go's HTTP/2 client sends: pseudo-fields in
 * wire order, :path composed as URL.RequestURI, lowercase header names,
 * cut values left out, malformed blocks refused; gRPC-Go's wire-order
 * fields taken as they are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hfblock.h"
#include "tokentap.h"

struct blk {
	uint8_t b[4 * TT_HB_VALUE_MAX];
	size_t n;
};

static void rec(struct blk *k, unsigned kind, const char *name, const char *value, bool cut)
{
	size_t nl = name ? strlen(name) : 0, vl = strlen(value);
	struct tt_hb_rec r = { (unsigned char)kind, (unsigned char)nl,
			       (unsigned short)(vl | (cut ? TT_HB_CUT : 0)) };

	assert_true(k->n + sizeof(r) + nl + vl <= sizeof(k->b));
	memcpy(k->b + k->n, &r, sizeof(r));
	memcpy(k->b + k->n + sizeof(r), name ? name : "", nl);
	memcpy(k->b + k->n + sizeof(r) + nl, value, vl);
	k->n += sizeof(r) + nl + vl;
}

static const char *field(const struct hf_group *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->f[i].name_len == strlen(name) && !memcmp(g->f[i].name, name, g->f[i].name_len))
			return g->f[i].value;
	return NULL;
}

static struct hf_group *group(void)
{
	struct hf_group *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	return g;
}

static void test_request(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();

	(void)state;
	rec(k, TT_HB_AUTHORITY, NULL, "api.example.com", false);
	rec(k, TT_HB_METHOD, NULL, "POST", false);
	rec(k, TT_HB_SCHEME, NULL, "https", false);
	rec(k, TT_HB_PATH, NULL, "/v1/a b", false);
	rec(k, TT_HB_RAWPATH, NULL, "/v1/a%20b", false);
	rec(k, TT_HB_QUERY, NULL, "access_token=x&y=1", false);
	rec(k, TT_HB_HEADER, "Authorization", "Bearer t", false);
	rec(k, TT_HB_HEADER, "X-Api-Key", "k", false);
	assert_int_equal(hb_parse(k->b, k->n, g), 0);
	assert_int_equal(g->n, 6);
	/* the order Go's encodeHeaders writes */
	assert_string_equal(g->f[0].name, ":authority");
	assert_string_equal(g->f[1].name, ":method");
	assert_string_equal(g->f[2].name, ":path");
	assert_string_equal(g->f[3].name, ":scheme");
	assert_string_equal(field(g, ":authority"), "api.example.com");
	assert_string_equal(field(g, ":method"), "POST");
	assert_string_equal(field(g, ":path"), "/v1/a%20b?access_token=x&y=1");
	assert_string_equal(field(g, "authorization"), "Bearer t");
	assert_string_equal(field(g, "x-api-key"), "k");
	assert_false(g->lost);
	assert_true(hf_is_request(g));
	hf_reset(g);
	free(g);
	free(k);
}

static void test_defaults(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();

	(void)state;
	/* empty method is GET, empty path is "/", no query no '?' */
	rec(k, TT_HB_AUTHORITY, NULL, "h", false);
	rec(k, TT_HB_METHOD, NULL, "", false);
	rec(k, TT_HB_SCHEME, NULL, "https", false);
	rec(k, TT_HB_PATH, NULL, "", false);
	assert_int_equal(hb_parse(k->b, k->n, g), 0);
	assert_string_equal(field(g, ":method"), "GET");
	assert_string_equal(field(g, ":path"), "/");
	hf_reset(g);
	/* an empty block: only the method Go defaults to, and "/" */
	assert_int_equal(hb_parse(NULL, 0, g), 0);
	assert_string_equal(field(g, ":method"), "GET");
	assert_null(field(g, ":authority"));
	hf_reset(g);
	free(g);
	free(k);
}

static void test_cut_values_left_out(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();

	(void)state;
	rec(k, TT_HB_AUTHORITY, NULL, "h", false);
	rec(k, TT_HB_METHOD, NULL, "GET", false);
	rec(k, TT_HB_PATH, NULL, "/p", false);
	rec(k, TT_HB_QUERY, NULL, "access_token=abc", true);
	rec(k, TT_HB_HEADER, "Authorization", "Bearer cut", true);
	rec(k, TT_HB_HEADER, "Cookie", "c=1", false);
	assert_int_equal(hb_parse(k->b, k->n, g), 0);
	assert_true(g->lost);
	/* a cut query is no :path at all, never a partial credential */
	assert_null(field(g, ":path"));
	assert_null(field(g, "authorization"));
	assert_string_equal(field(g, "cookie"), "c=1");
	hf_reset(g);
	free(g);
	free(k);
}

static void test_malformed(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();
	struct tt_hb_rec r;

	(void)state;
	/* a record past the end */
	rec(k, TT_HB_HEADER, "Authorization", "Bearer t", false);
	assert_int_equal(hb_parse(k->b, k->n - 1, g), -1);
	hf_reset(g);
	assert_int_equal(hb_parse(k->b, 3, g), -1);
	hf_reset(g);
	/* a pseudo-field after a header */
	rec(k, TT_HB_METHOD, NULL, "GET", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	/* a pseudo-field twice */
	k->n = 0;
	rec(k, TT_HB_METHOD, NULL, "GET", false);
	rec(k, TT_HB_METHOD, NULL, "PUT", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	/* an unknown kind, a named pseudo-field, a header without a name */
	k->n = 0;
	rec(k, TT_HB_KIND_MAX, NULL, "x", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	k->n = 0;
	rec(k, TT_HB_METHOD, "m", "GET", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	k->n = 0;
	rec(k, TT_HB_HEADER, NULL, "x", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	/* a value longer than the probe ever copies */
	r = (struct tt_hb_rec){ TT_HB_HEADER, 1, TT_HB_VALUE_MAX + 1 };
	memcpy(k->b, &r, sizeof(r));
	memset(k->b + sizeof(r), 'a', 1 + TT_HB_VALUE_MAX + 1);
	assert_int_equal(hb_parse(k->b, sizeof(r) + 1 + TT_HB_VALUE_MAX + 1, g), -1);
	hf_reset(g);
	free(g);
	free(k);
}

/* gRPC-Go's blocks: the fields as sent, pseudo-headers included, in their order. */
static void test_wire_fields(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();

	(void)state;
	rec(k, TT_HB_FIELD, ":method", "POST", false);
	rec(k, TT_HB_FIELD, ":scheme", "https", false);
	rec(k, TT_HB_FIELD, ":path", "/grpc.health.v1.Health/Check", false);
	rec(k, TT_HB_FIELD, ":authority", "127.0.0.1:50051", false);
	rec(k, TT_HB_FIELD, "content-type", "application/grpc", false);
	rec(k, TT_HB_FIELD, "Authorization", "Bearer t", false);
	rec(k, TT_HB_FIELD, "x-api-key", "k-cut", true);
	assert_int_equal(hb_parse(k->b, k->n, g), 0);
	assert_int_equal(g->n, 6);
	assert_string_equal(g->f[0].name, ":method");
	assert_string_equal(field(g, ":path"), "/grpc.health.v1.Health/Check");
	assert_string_equal(field(g, ":authority"), "127.0.0.1:50051");
	assert_string_equal(field(g, "authorization"), "Bearer t");
	/* a cut value is left out, and the request known to be incomplete */
	assert_null(field(g, "x-api-key"));
	assert_true(g->lost);
	assert_true(hf_is_request(g));
	hf_reset(g);
	/* mixed with Go's request records, or a field without a name: malformed */
	k->n = 0;
	rec(k, TT_HB_FIELD, ":method", "POST", false);
	rec(k, TT_HB_HEADER, "a", "b", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	k->n = 0;
	rec(k, TT_HB_METHOD, NULL, "POST", false);
	rec(k, TT_HB_FIELD, "a", "b", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	k->n = 0;
	rec(k, TT_HB_FIELD, NULL, "b", false);
	assert_int_equal(hb_parse(k->b, k->n, g), -1);
	hf_reset(g);
	free(g);
	free(k);
}

static void test_pseudo_named_header_ignored(void **state)
{
	struct blk *k = calloc(1, sizeof(*k));
	struct hf_group *g = group();

	(void)state;
	/* Go refuses to send it; it must not pass for the request's :method */
	rec(k, TT_HB_AUTHORITY, NULL, "h", false);
	rec(k, TT_HB_HEADER, ":method", "CONNECT", false);
	assert_int_equal(hb_parse(k->b, k->n, g), 0);
	assert_string_equal(field(g, ":method"), "GET");
	assert_int_equal(g->n, 3);
	hf_reset(g);
	free(g);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_cut_values_left_out),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_pseudo_named_header_ignored),
		cmocka_unit_test(test_wire_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
