/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool: append and replay in seq order, the byte bound dropping the
 * oldest, corrupt files (bad crc, truncated, bad magic, absurd length)
 * skipped and counted, foreign names ignored, reopening sees what a
 * previous run left, interrupted writes cleaned up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

#define REC(n) (SPOOL_HEADER_LEN + (n))

static char dir[256];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tt-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static struct spool *open_spool(uint64_t max)
{
	char err[256];
	struct spool *s = spool_open(dir, max, err, sizeof(err));

	assert_non_null(s);
	return s;
}

static void payload(uint8_t *buf, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
}

static void append(struct spool *s, uint64_t seq, size_t n)
{
	uint8_t buf[4096];

	assert_true(n <= sizeof(buf));
	payload(buf, n, seq);
	assert_int_equal(spool_append(s, seq, buf, n), 0);
}

/* Pops the oldest batch, checks its seq and content. */
static void expect_oldest(struct spool *s, uint64_t want, size_t n)
{
	uint8_t exp[4096], *buf;
	uint64_t seq = 0;
	size_t len;

	assert_int_equal(spool_oldest(s, &seq, &buf, &len), 1);
	assert_int_equal(seq, want);
	assert_int_equal(len, n);
	payload(exp, n, want);
	assert_memory_equal(buf, exp, n);
	free(buf);
	spool_remove(s, seq);
}

static void expect_empty(struct spool *s)
{
	uint8_t *buf = (uint8_t *)1;
	uint64_t seq;
	size_t len;

	assert_int_equal(spool_oldest(s, &seq, &buf, &len), 0);
	assert_null(buf);
}

static void path_of(uint64_t seq, char *out, size_t len)
{
	snprintf(out, len, "%s/%020llu.batch", dir, (unsigned long long)seq);
}

static void test_order(void **state)
{
	struct spool *s = open_spool(0);
	struct spool_stats st;

	(void)state;
	expect_empty(s);
	append(s, 5, 10);
	append(s, 2, 20);
	append(s, 9, 0);
	append(s, 7, 30);
	spool_stats(s, &st);
	assert_int_equal(st.files, 4);
	assert_int_equal(st.bytes, REC(10) + REC(20) + REC(0) + REC(30));
	assert_int_equal(spool_max_seq(s), 9);
	expect_oldest(s, 2, 20);
	expect_oldest(s, 5, 10);
	expect_oldest(s, 7, 30);
	expect_oldest(s, 9, 0);
	expect_empty(s);
	spool_stats(s, &st);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.dropped_full + st.dropped_corrupt, 0);
	/* removing what is gone is harmless */
	spool_remove(s, 5);
	spool_close(s);
}

/* The same seq written twice keeps the last content, counted once. */
static void test_replace(void **state)
{
	struct spool *s = open_spool(0);
	struct spool_stats st;

	(void)state;
	append(s, 3, 100);
	append(s, 3, 40);
	spool_stats(s, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.bytes, REC(40));
	expect_oldest(s, 3, 40);
	spool_close(s);
}

static void test_reopen(void **state)
{
	struct spool *s = open_spool(0);
	struct spool_stats st;
	char tmp[512];
	int fd;

	(void)state;
	append(s, 1, 50);
	append(s, 2, 60);
	append(s, 3, 70);
	expect_oldest(s, 1, 50);
	spool_close(s);
	/* a write that never reached its rename */
	snprintf(tmp, sizeof(tmp), "%s/%020llu.batch.tmp", dir, 4ULL);
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "TTSP1\n", 6), 6);
	close(fd);

	s = open_spool(0);
	spool_stats(s, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.bytes, REC(60) + REC(70));
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(spool_max_seq(s), 3);
	expect_oldest(s, 2, 60);
	expect_oldest(s, 3, 70);
	expect_empty(s);
	spool_close(s);
}

static void test_bound(void **state)
{
	struct spool *s = open_spool(3 * REC(100));
	struct spool_stats st;
	uint8_t big[4096];

	(void)state;
	append(s, 1, 100);
	append(s, 2, 100);
	append(s, 3, 100);
	spool_stats(s, &st);
	assert_int_equal(st.dropped_full, 0);
	/* a fourth does not fit: the oldest goes */
	append(s, 4, 100);
	spool_stats(s, &st);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.dropped_full, 1);
	assert_true(st.bytes <= 3 * REC(100));
	/* a larger one pushes out two */
	append(s, 5, 150);
	spool_stats(s, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dropped_full, 3);
	/* larger than the whole bound: refused, counted, nothing else lost */
	memset(big, 0, sizeof(big));
	assert_int_equal(spool_append(s, 6, big, 3 * REC(100)), -1);
	spool_stats(s, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dropped_full, 4);
	expect_oldest(s, 4, 100);
	expect_oldest(s, 5, 150);
	expect_empty(s);
	spool_close(s);

	/* reopened with a smaller bound: the newest are kept */
	s = open_spool(0);
	append(s, 10, 100);
	append(s, 11, 100);
	append(s, 12, 100);
	spool_close(s);
	s = open_spool(2 * REC(100));
	spool_stats(s, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dropped_full, 1);
	expect_oldest(s, 11, 100);
	expect_oldest(s, 12, 100);
	spool_close(s);
}

static void patch_file(uint64_t seq, off_t off, const void *bytes, size_t n)
{
	char p[512];
	int fd;

	path_of(seq, p, sizeof(p));
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, n, off), (ssize_t)n);
	close(fd);
}

static void write_file(const char *name, const void *bytes, size_t n)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

static void test_corrupt(void **state)
{
	struct spool *s = open_spool(0);
	struct spool_stats st;
	char p[512];
	const uint8_t flip = 0xee, bad_magic[] = "XXSP1\n";
	const uint8_t huge_len[4] = { 0xff, 0xff, 0xff, 0x7f };

	(void)state;
	for (uint64_t q = 1; q <= 8; q++)
		append(s, q, 64);
	patch_file(1, SPOOL_HEADER_LEN + 10, &flip, 1);         /* crc mismatch */
	path_of(3, p, sizeof(p));
	assert_int_equal(truncate(p, SPOOL_HEADER_LEN + 20), 0);  /* cut payload */
	patch_file(4, 0, bad_magic, 6);                          /* not ours */
	patch_file(6, SPOOL_MAGIC_LEN, huge_len, 4);             /* absurd length */
	path_of(7, p, sizeof(p));
	assert_int_equal(truncate(p, 3), 0);                      /* cut header */

	expect_oldest(s, 2, 64);
	expect_oldest(s, 5, 64);
	expect_oldest(s, 8, 64);
	expect_empty(s);
	spool_stats(s, &st);
	assert_int_equal(st.dropped_corrupt, 5);
	assert_int_equal(st.files, 0);
	assert_int_equal(st.bytes, 0);
	/* the corrupt files are gone from disk */
	path_of(1, p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	spool_close(s);
}

/* Names that are not batches and files that vanish are left alone. */
static void test_foreign(void **state)
{
	struct spool *s;
	struct spool_stats st;
	char p[512];
	uint8_t junk[64];

	(void)state;
	memset(junk, 'j', sizeof(junk));
	write_file("notes.txt", junk, sizeof(junk));
	write_file("123.batch", junk, sizeof(junk));
	write_file("0000000000000000000x.batch", junk, sizeof(junk));
	write_file("99999999999999999999.batch", junk, sizeof(junk)); /* > UINT64_MAX */
	snprintf(p, sizeof(p), "%s/%020llu.batch", dir, 42ULL);
	assert_int_equal(mkdir(p, 0700), 0);                    /* a directory */
	s = open_spool(0);
	spool_stats(s, &st);
	assert_int_equal(st.files, 0);
	append(s, 50, 10);
	/* deleted behind the spool's back: skipped, not counted as corrupt */
	path_of(50, p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	append(s, 51, 10);
	expect_oldest(s, 51, 10);
	expect_empty(s);
	spool_stats(s, &st);
	assert_int_equal(st.dropped_corrupt, 0);
	spool_close(s);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	assert_int_equal(access(p, F_OK), 0);
}

/* A garbage file as large as the bound is read no further than its header. */
static void test_garbage_file(void **state)
{
	struct spool *s;
	struct spool_stats st;
	uint8_t *junk = malloc(1 << 20);
	uint8_t *buf;
	uint64_t seq;
	size_t len;

	(void)state;
	assert_non_null(junk);
	for (size_t i = 0; i < (1 << 20); i++)
		junk[i] = (uint8_t)(i * 7919 >> 3);
	memcpy(junk, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	write_file("00000000000000000001.batch", junk, 1 << 20);
	write_file("00000000000000000002.batch", junk, 0);
	free(junk);
	s = open_spool(0);
	assert_int_equal(spool_oldest(s, &seq, &buf, &len), 0);
	spool_stats(s, &st);
	assert_int_equal(st.dropped_corrupt, 2);
	spool_close(s);
}

static void test_open_errors(void **state)
{
	char err[256] = "";
	char p[512];

	(void)state;
	snprintf(p, sizeof(p), "%s/file", dir);
	write_file("file", "x", 1);
	assert_null(spool_open(p, 0, err, sizeof(err)));
	assert_true(strlen(err) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
