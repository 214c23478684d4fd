/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Releasing start-up memory: after memtrim_after_start() the process runs
 * on unchanged. Read-only data read before and after is identical,
 * relocated pointer tables (RELRO, which a wrong release would turn back
 * into the file's unrelocated bytes) still point at the right functions
 * and strings, written data keeps its values, and the file-backed
 * resident set does not grow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memtrim.h"

/* Read-only data in the file: 64 KiB, so whole pages of it are released. */
#define TABLE_WORDS 16384
#define W(i) (uint32_t)((i) * 2654435761u)
#define W4(i) W(i), W(i + 1), W(i + 2), W(i + 3)
#define W16(i) W4(i), W4(i + 4), W4(i + 8), W4(i + 12)
#define W64(i) W16(i), W16(i + 16), W16(i + 32), W16(i + 48)
#define W256(i) W64(i), W64(i + 64), W64(i + 128), W64(i + 192)
#define W1K(i) W256(i), W256(i + 256), W256(i + 512), W256(i + 768)
#define W4K(i) W1K(i), W1K(i + 1024), W1K(i + 2048), W1K(i + 3072)
static const uint32_t table[TABLE_WORDS] = { W4K(0), W4K(4096), W4K(8192), W4K(12288) };

static int one(void) { return 1; }
static int two(void) { return 2; }

/* Pointers the dynamic linker relocates: RELRO in a position-independent binary. */
static int (*const funcs[])(void) = { one, two };
static const char *const names[] = { "one", "two" };

/* Written data: must survive. */
static uint32_t written[4096];

static uint64_t table_sum(void)
{
	uint64_t s = 0;

	for (size_t i = 0; i < TABLE_WORDS; i++)
		s = s * 31 + table[i];
	return s;
}

static long status_kib(const char *field)
{
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void test_data_unchanged(void **state)
{
	(void)state;
	uint64_t before = table_sum();
	struct memtrim_result r;

	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		written[i] = (uint32_t)i ^ 0xa5a5a5a5u;
	memtrim_after_start(&r);
	/* the program, libc, the loader at least; some of their read-only segments released */
	assert_true(r.objects >= 3);
	assert_true(r.segments >= 1);
	assert_true(r.bytes >= 4096);
	assert_int_equal(table_sum(), before);
	for (size_t i = 0; i < TABLE_WORDS; i += 997)
		assert_int_equal(table[i], W(i));
	assert_int_equal(funcs[0](), 1);
	assert_int_equal(funcs[1](), 2);
	assert_string_equal(names[0], "one");
	assert_string_equal(names[1], "two");
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		assert_int_equal(written[i], (uint32_t)i ^ 0xa5a5a5a5u);
	/* libc still works after its read-only data went (locale tables, strings) */
	char buf[64];
	snprintf(buf, sizeof(buf), "%d %s %.2f", 42, "x", 1.5);
	assert_string_equal(buf, "42 x 1.50");
}

/* Twice in a row, and with the heap's free pages: nothing breaks. */
static void test_again_and_heap(void **state)
{
	(void)state;
	char *p[256];

	for (size_t i = 0; i < 256; i++) {
		p[i] = malloc(4096);
		assert_non_null(p[i]);
		memset(p[i], (int)i, 4096);
	}
	for (size_t i = 0; i < 256; i += 2)
		free(p[i]);
	memtrim_heap();
	memtrim_after_start(NULL);
	for (size_t i = 1; i < 256; i += 2) {
		for (size_t j = 0; j < 4096; j += 512)
			assert_int_equal((unsigned char)p[i][j], (unsigned char)i);
		free(p[i]);
	}
	assert_int_equal(table_sum(), table_sum());
}

/* Pages read again come back; the file-backed resident set does not grow from a release. */
static void test_rss_file_not_more(void **state)
{
	(void)state;
	long before, after;

	(void)table_sum(); /* the table resident */
	before = status_kib("RssFile");
	memtrim_after_start(NULL);
	after = status_kib("RssFile");
	assert_true(before > 0);
	assert_true(after >= 0);
	assert_true(after <= before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_unchanged),
		cmocka_unit_test(test_again_and_heap),
		cmocka_unit_test(test_rss_file_not_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
