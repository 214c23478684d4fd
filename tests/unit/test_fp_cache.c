/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fingerprint cache: every answer, hit or miss, equals fingerprint_hex();
 * more credentials than the cache holds; another fingerprint key is never
 * answered from entries made with the first; no cache at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp_cache.h"

static void make_key(struct fp_key *k, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < 32; i++)
		k->bytes[i] = (uint8_t)(seed + i * 7);
	k->len = 32;
}

/* Credential n: distinct bytes and lengths. */
static size_t cred(unsigned n, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "ghp_%0*u", (int)(8 + n % 30), n);
}

static void expect_same(struct fp_cache *c, const struct fp_key *k, const char *v, size_t n)
{
	char got[FINGERPRINT_HEX_LEN + 1], want[FINGERPRINT_HEX_LEN + 1];

	assert_int_equal(fingerprint_hex(k, v, n, want), 0);
	assert_int_equal(fp_cache_hex(c, k, v, n, got), 0);
	assert_string_equal(got, want);
}

static void test_hit_and_miss_equal_hmac(void **state)
{
	struct fp_cache *c = fp_cache_new();
	struct fp_key k;
	char v[64];

	(void)state;
	assert_non_null(c);
	make_key(&k, 1);
	for (int round = 0; round < 3; round++)
		for (unsigned n = 0; n < 200; n++)
			expect_same(c, &k, v, cred(n, v, sizeof(v)));
	/* a prefix of a cached credential is another credential */
	expect_same(c, &k, "ghp_abc", 7);
	expect_same(c, &k, "ghp_ab", 6);
	expect_same(c, &k, "ghp_abc", 7);
	fp_cache_free(c);
}

/* Far more credentials than entries: evictions never give a wrong answer. */
static void test_more_than_it_holds(void **state)
{
	struct fp_cache *c = fp_cache_new();
	struct fp_key k;
	char v[64];

	(void)state;
	assert_non_null(c);
	make_key(&k, 2);
	for (int round = 0; round < 2; round++)
		for (unsigned n = 0; n < 40000; n += (round ? 7 : 1))
			expect_same(c, &k, v, cred(n, v, sizeof(v)));
	fp_cache_free(c);
}

static void test_other_key(void **state)
{
	struct fp_cache *c = fp_cache_new();
	struct fp_key k1, k2;
	char a[FINGERPRINT_HEX_LEN + 1], b[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	assert_non_null(c);
	make_key(&k1, 3);
	make_key(&k2, 4);
	assert_int_equal(fp_cache_hex(c, &k1, "sk-secret", 9, a), 0);
	expect_same(c, &k2, "sk-secret", 9);
	assert_int_equal(fp_cache_hex(c, &k2, "sk-secret", 9, b), 0);
	assert_string_not_equal(a, b);
	/* back to the first key: its fingerprint again */
	expect_same(c, &k1, "sk-secret", 9);
	/* a shorter key that is a prefix of the first is another key */
	k2 = k1;
	k2.len = 16;
	expect_same(c, &k2, "sk-secret", 9);
	fp_cache_free(c);
}

static void test_no_cache(void **state)
{
	struct fp_key k;
	char out[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	make_key(&k, 5);
	expect_same(NULL, &k, "token", 5);
	/* the HMAC's own checks still apply */
	k.len = 0;
	assert_int_equal(fp_cache_hex(NULL, &k, "token", 5, out), -1);
	fp_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss_equal_hmac),
		cmocka_unit_test(test_more_than_it_holds),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_no_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
