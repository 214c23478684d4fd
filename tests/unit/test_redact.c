/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redact_secret: every occurrence masked, in place, the text never longer
 * than it was and NUL-terminated when it shrank; nothing read or written
 * past len (the texts are exact-size heap copies, so ASan sees any stray
 * byte); an exhaustive comparison with a simple model on a small alphabet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

/* An exact-size copy of text (no room for a NUL) plus a guard byte. */
struct buf {
	char *p;
	size_t len;
};

static struct buf mk(const char *text, size_t len)
{
	struct buf b = { .p = malloc(len + 1), .len = len };

	assert_non_null(b.p);
	memcpy(b.p, text, len);
	b.p[len] = 'G'; /* must never be touched: only len bytes are the text's */
	return b;
}

/*
 * Redacts text (its strlen) of secret (its strlen) and checks the result
 * is want, the guard byte, and the NUL when the text shrank.
 */
static void check(const char *text, const char *secret, const char *want)
{
	struct buf b = mk(text, strlen(text));
	size_t n = redact_secret(b.p, b.len, secret, strlen(secret));

	assert_int_equal(n, strlen(want));
	assert_true(n <= b.len);
	assert_memory_equal(b.p, want, n);
	if (n < b.len)
		assert_int_equal(b.p[n], '\0');
	assert_int_equal(b.p[b.len], 'G');
	free(b.p);
}

static void test_no_occurrence(void **state)
{
	(void)state;
	check("GET /user HTTP/1.1", "ghp_secret", "GET /user HTTP/1.1");
	/* a partial match at the end is not an occurrence */
	check("token=ghp_secre", "ghp_secret", "token=ghp_secre");
	/* case matters: the secret is bytes */
	check("token=GHP_SECRET", "ghp_secret", "token=GHP_SECRET");
	check("", "ghp_secret", "");
}

static void test_one(void **state)
{
	(void)state;
	check("curl: (22) token ghp_secret rejected", "ghp_secret",
	      "curl: (22) token *** rejected");
}

static void test_several(void **state)
{
	(void)state;
	check("a=ghp_secret b=ghp_secret c=ghp_secret", "ghp_secret", "a=*** b=*** c=***");
}

static void test_adjacent(void **state)
{
	(void)state;
	check("ghp_secretghp_secret", "ghp_secret", "******");
	check("xghp_secretghp_secretghp_secretx", "ghp_secret", "x*********x");
}

static void test_start_and_end(void **state)
{
	(void)state;
	check("ghp_secret: bad credentials", "ghp_secret", "***: bad credentials");
	check("bad credentials: ghp_secret", "ghp_secret", "bad credentials: ***");
	check("ghp_secret", "ghp_secret", "***");
}

static void test_overlapping_left_to_right(void **state)
{
	(void)state;
	/* occurrences are taken left to right, without overlap */
	check("abababa", "aba", "***b***");
	check("aaaaaaa", "aaa", "******a");
	check("aaaa", "aaa", "***a");
}

static void test_secret_shorter_than_mark(void **state)
{
	(void)state;
	/* masked by as many '*' as the secret has bytes: never longer */
	check("xaby", "ab", "x**y");
	check("banana", "a", "b*n*n*");
	check("a", "a", "*");
	check("abab", "ab", "****");
	/* exactly as long as the mark */
	check("xabcx", "abc", "x***x");
}

static void test_secret_longer_than_text(void **state)
{
	(void)state;
	check("ghp_", "ghp_secret", "ghp_");
	check("x", "xy", "x");
}

static void test_binary_secret(void **state)
{
	static const char text[] = { 'k', '=', 's', '\0', 'e', 'c', ';', '!' };
	static const char secret[] = { 's', '\0', 'e', 'c' };
	struct buf b = mk(text, sizeof(text));
	size_t n = redact_secret(b.p, b.len, secret, sizeof(secret));

	(void)state;
	assert_int_equal(n, 7);
	assert_memory_equal(b.p, "k=***;!", 7);
	assert_int_equal(b.p[7], '\0');
	assert_int_equal(b.p[8], 'G');
	free(b.p);
}

static void test_no_secret(void **state)
{
	struct buf b = mk("token ghp_secret", 16);

	(void)state;
	/* slen 0 or no secret: nothing changes, nothing is written */
	assert_int_equal(redact_secret(b.p, b.len, "ghp_secret", 0), 16);
	assert_memory_equal(b.p, "token ghp_secret", 16);
	assert_int_equal(redact_secret(b.p, b.len, NULL, 10), 16);
	assert_int_equal(redact_secret(b.p, b.len, NULL, 0), 16);
	assert_memory_equal(b.p, "token ghp_secret", 16);
	assert_int_equal(b.p[16], 'G');
	/* an empty text */
	assert_int_equal(redact_secret(b.p, 0, "ghp_secret", 10), 0);
	assert_memory_equal(b.p, "token ghp_secret", 16);
	free(b.p);
}

static void test_nul_terminated_in_larger_buffer(void **state)
{
	char text[64];
	size_t n;

	(void)state;
	memset(text, 'Z', sizeof(text));
	memcpy(text, "Authorization: Bearer ghp_0123456789 sent", 41);
	n = redact_secret(text, 41, "ghp_0123456789", 14);
	assert_int_equal(n, 30);
	assert_string_equal(text, "Authorization: Bearer *** sent");
	/* nothing past the original length */
	assert_int_equal(text[41], 'Z');
}

/* The model: leftmost matches without overlap, each as min(slen, 3) '*'. */
static size_t model(const char *in, size_t len, const char *sec, size_t slen, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (i + slen <= len && !memcmp(in + i, sec, slen)) {
			for (size_t k = 0; k < (slen < 3 ? slen : 3); k++)
				out[o++] = '*';
			i += slen;
		} else {
			out[o++] = in[i++];
		}
	}
	return o;
}

/* Fills s (n bytes) with the digits of v in base 2 over "ab". */
static void word(char *s, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (v >> i) & 1 ? 'b' : 'a';
}

static void test_exhaustive_never_grows(void **state)
{
	char text[10], sec[5], want[10];
	unsigned cases = 0;

	(void)state;
	for (size_t len = 0; len <= 9; len++)
		for (unsigned tv = 0; tv < (1u << len); tv++)
			for (size_t slen = 1; slen <= 4; slen++)
				for (unsigned sv = 0; sv < (1u << slen); sv++) {
					struct buf b;
					size_t n, w;

					word(text, len, tv);
					word(sec, slen, sv);
					w = model(text, len, sec, slen, want);
					b = mk(text, len);
					n = redact_secret(b.p, len, sec, slen);
					assert_int_equal(n, w);
					assert_true(n <= len);
					assert_memory_equal(b.p, want, n);
					if (n < len)
						assert_int_equal(b.p[n], '\0');
					assert_int_equal(b.p[len], 'G');
					free(b.p);
					cases++;
				}
	assert_true(cases > 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_occurrence),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_adjacent),
		cmocka_unit_test(test_start_and_end),
		cmocka_unit_test(test_overlapping_left_to_right),
		cmocka_unit_test(test_secret_shorter_than_mark),
		cmocka_unit_test(test_secret_longer_than_text),
		cmocka_unit_test(test_binary_secret),
		cmocka_unit_test(test_no_secret),
		cmocka_unit_test(test_nul_terminated_in_larger_buffer),
		cmocka_unit_test(test_exhaustive_never_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
