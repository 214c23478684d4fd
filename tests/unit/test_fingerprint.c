/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed fingerprint: HMAC-SHA256 known answers (RFC 4231), key loading
 * from a file, key creation in the state directory and its reuse, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint.h"
#include "wipe.h"

struct tmpdir {
	char path[64];
};

static void make_tmpdir(struct tmpdir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/tokentap-fp-XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

static void path_in(const struct tmpdir *d, const char *name, char *out, size_t cap)
{
	assert_true(snprintf(out, cap, "%s/%s", d->path, name) < (int)cap);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void cleanup_dir(const struct tmpdir *d, const char *const *names, size_t n)
{
	char p[128];

	for (size_t i = 0; i < n; i++) {
		path_in(d, names[i], p, sizeof(p));
		unlink(p);
		rmdir(p);
	}
	rmdir(d->path);
}

/* RFC 4231 test case 1: key = 20 x 0x0b, data = "Hi There". */
static void test_rfc4231_case1(void **state)
{
	struct fp_key key = { .len = 20 };
	char hex[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	memset(key.bytes, 0x0b, 20);
	assert_int_equal(fingerprint_hex(&key, "Hi There", 8, hex), 0);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b");
}

/* RFC 4231 test case 2: key = "Jefe", data = "what do ya want for nothing?". */
static void test_rfc4231_case2(void **state)
{
	struct fp_key key = { .len = 4 };
	char hex[FINGERPRINT_HEX_LEN + 1];
	const char *data = "what do ya want for nothing?";

	(void)state;
	memcpy(key.bytes, "Jefe", 4);
	assert_int_equal(fingerprint_hex(&key, data, strlen(data), hex), 0);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7");
	assert_int_equal(strlen(hex), FINGERPRINT_HEX_LEN);
}

static void test_empty_key_rejected(void **state)
{
	struct fp_key key = { .len = 0 };
	char hex[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	assert_int_equal(fingerprint_hex(&key, "x", 1, hex), -1);
	assert_int_equal(fingerprint_hex(NULL, "x", 1, hex), -1);
}

static void test_key_from_file(void **state)
{
	static const char *const names[] = { "k" };
	struct tmpdir d;
	struct fp_key key;
	char p[128], err[256] = "", hex[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	make_tmpdir(&d);
	path_in(&d, "k", p, sizeof(p));
	write_file(p, "Jefe", 4);
	assert_int_equal(fingerprint_key_load(&key, p, "/nonexistent", err, sizeof(err)), 0);
	assert_int_equal(key.len, 4);
	assert_memory_equal(key.bytes, "Jefe", 4);
	/* the file's raw bytes are the key: same answer as RFC 4231 case 2 */
	assert_int_equal(fingerprint_hex(&key, "what do ya want for nothing?", 28, hex), 0);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7");
	cleanup_dir(&d, names, 1);
}

static void test_key_created_and_reused(void **state)
{
	static const char *const names[] = { "fingerprint.key" };
	struct tmpdir d;
	struct fp_key k1, k2;
	struct stat st;
	char p[128], err[256] = "", h1[FINGERPRINT_HEX_LEN + 1], h2[FINGERPRINT_HEX_LEN + 1];

	(void)state;
	make_tmpdir(&d);
	path_in(&d, "fingerprint.key", p, sizeof(p));
	assert_int_equal(fingerprint_key_load(&k1, NULL, d.path, err, sizeof(err)), 0);
	assert_int_equal(k1.len, 32);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);

	assert_int_equal(fingerprint_key_load(&k2, NULL, d.path, err, sizeof(err)), 0);
	assert_int_equal(k2.len, 32);
	assert_memory_equal(k1.bytes, k2.bytes, 32);
	assert_int_equal(fingerprint_hex(&k1, "abc", 3, h1), 0);
	assert_int_equal(fingerprint_hex(&k2, "abc", 3, h2), 0);
	assert_string_equal(h1, h2);
	cleanup_dir(&d, names, 1);
}

static void test_two_state_dirs_differ(void **state)
{
	static const char *const names[] = { "fingerprint.key" };
	struct tmpdir a, b;
	struct fp_key ka, kb;
	char err[256];

	(void)state;
	make_tmpdir(&a);
	make_tmpdir(&b);
	assert_int_equal(fingerprint_key_load(&ka, NULL, a.path, err, sizeof(err)), 0);
	assert_int_equal(fingerprint_key_load(&kb, NULL, b.path, err, sizeof(err)), 0);
	assert_memory_not_equal(ka.bytes, kb.bytes, 32);
	cleanup_dir(&a, names, 1);
	cleanup_dir(&b, names, 1);
}

static void test_empty_key_file_error(void **state)
{
	static const char *const names[] = { "empty" };
	struct tmpdir d;
	struct fp_key key;
	char p[128], err[256] = "";

	(void)state;
	make_tmpdir(&d);
	path_in(&d, "empty", p, sizeof(p));
	write_file(p, NULL, 0);
	assert_int_equal(fingerprint_key_load(&key, p, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(key.len, 0);
	cleanup_dir(&d, names, 1);
}

/* Root reads any mode, so a directory stands for an unreadable key file. */
static void test_unreadable_key_file_error(void **state)
{
	static const char *const names[] = { "adir" };
	struct tmpdir d;
	struct fp_key key;
	char p[128], err[256] = "";

	(void)state;
	make_tmpdir(&d);
	path_in(&d, "adir", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(fingerprint_key_load(&key, p, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read key file"));
	err[0] = '\0';
	path_in(&d, "missing", p, sizeof(p));
	assert_int_equal(fingerprint_key_load(&key, p, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read key file"));
	cleanup_dir(&d, names, 1);
}

static void test_missing_state_dir_error(void **state)
{
	struct fp_key key;
	char err[256] = "";

	(void)state;
	assert_int_equal(fingerprint_key_load(&key, NULL, "/nonexistent/tokentap-state", err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
}

static void test_secure_wipe(void **state)
{
	char buf[16];

	(void)state;
	memset(buf, 'A', sizeof(buf));
	secure_wipe(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	secure_wipe(NULL, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_case1),
		cmocka_unit_test(test_rfc4231_case2),
		cmocka_unit_test(test_empty_key_rejected),
		cmocka_unit_test(test_key_from_file),
		cmocka_unit_test(test_key_created_and_reused),
		cmocka_unit_test(test_two_state_dirs_differ),
		cmocka_unit_test(test_empty_key_file_error),
		cmocka_unit_test(test_unreadable_key_file_error),
		cmocka_unit_test(test_missing_state_dir_error),
		cmocka_unit_test(test_secure_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
