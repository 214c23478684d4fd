/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Grouping header fields captured before HPACK encoding into requests:
 * splitting "name NUL value", where a request ends (a pseudo-header after
 * a regular field, or one repeated), bounds, and requests vs responses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hfgroup.h"

static void add(struct hf_group *g, const char *name, const char *value)
{
	assert_int_equal(hf_add(g, name, strlen(name), value, strlen(value)), 0);
}

static void test_split(void **state)
{
	static const uint8_t ok[] = "authorization\0Bearer x";
	static const uint8_t empty_value[] = { 'a', 0 };
	static const uint8_t no_nul[] = { 'a', 'b' };
	static const uint8_t no_name[] = { 0, 'v' };
	const char *n, *v;
	size_t nl, vl;

	(void)state;
	assert_int_equal(hf_split(ok, sizeof(ok) - 1, &n, &nl, &v, &vl), 0);
	assert_int_equal(nl, 13);
	assert_memory_equal(n, "authorization", 13);
	assert_int_equal(vl, 8);
	assert_memory_equal(v, "Bearer x", 8);
	assert_int_equal(hf_split(empty_value, sizeof(empty_value), &n, &nl, &v, &vl), 0);
	assert_int_equal(vl, 0);
	assert_int_equal(hf_split(no_nul, sizeof(no_nul), &n, &nl, &v, &vl), -1);
	assert_int_equal(hf_split(no_name, sizeof(no_name), &n, &nl, &v, &vl), -1);
	assert_int_equal(hf_split(NULL, 0, &n, &nl, &v, &vl), -1);
}

static void test_boundaries(void **state)
{
	struct hf_group *g = calloc(1, sizeof(*g));

	(void)state;
	assert_non_null(g);
	assert_false(hf_opens_next(g, ":authority", 10));
	add(g, ":authority", "example.com");
	add(g, ":method", "GET");
	add(g, ":path", "/x");
	add(g, ":scheme", "https");
	assert_false(hf_opens_next(g, "authorization", 13));
	add(g, "authorization", "Bearer t");
	add(g, "user-agent", "Go-http-client/2.0");
	assert_true(hf_is_request(g));
	/* the next request's first field */
	assert_true(hf_opens_next(g, ":authority", 10));
	assert_false(hf_opens_next(g, "accept", 6));
	hf_reset(g);
	assert_int_equal(g->n, 0);
	assert_false(hf_opens_next(g, ":authority", 10));
	/* a repeated pseudo-header opens the next even without regular fields */
	add(g, ":authority", "a");
	add(g, ":method", "GET");
	assert_true(hf_opens_next(g, ":method", 7));
	assert_false(hf_opens_next(g, ":path", 5));
	free(g);
}

static void test_response_and_bounds(void **state)
{
	struct hf_group *g = calloc(1, sizeof(*g));
	static char big[HF_ARENA_MAX];

	(void)state;
	assert_non_null(g);
	add(g, ":status", "200");
	add(g, "content-type", "text/plain");
	assert_false(hf_is_request(g));
	hf_reset(g);
	memset(big, 'v', sizeof(big));
	assert_int_equal(hf_add(g, "x", 1, big, sizeof(big)), -1);
	assert_true(g->lost);
	assert_int_equal(g->n, 0);
	hf_reset(g);
	for (int i = 0; i < HF_FIELDS_MAX; i++)
		add(g, "a", "b");
	assert_int_equal(hf_add(g, "a", 1, "b", 1), -1);
	assert_int_equal(g->n, HF_FIELDS_MAX);
	assert_string_equal(g->f[HF_FIELDS_MAX - 1].value, "b");
	hf_reset(g);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_response_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
