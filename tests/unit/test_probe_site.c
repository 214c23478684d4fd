/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe_site_offset: the code read from the file at the function's offset
 * (Debian 12's SSL_write placed after a gap in a temporary file), and the
 * entry whenever the code cannot be analysed (no size, too large, file
 * missing or shorter than the symbol says).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe_site.h"
#include "ssl_write_code.h"

#define GAP 1000

static char path[64];

static int make_file(void **state)
{
	static const uint8_t zeros[GAP];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/tokentap-test-probe-site.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros) ||
	    write(fd, ssl_write, sizeof(ssl_write)) != (ssize_t)sizeof(ssl_write))
		return -1;
	return close(fd);
}

static int remove_file(void **state)
{
	(void)state;
	return unlink(path);
}

static void test_call_site_from_file(void **state)
{
	struct elf_func fn = { .vaddr = SSL_WRITE_VADDR, .size = SSL_WRITE_SIZE, .offset = GAP };
	uint64_t target = 1;
	char why[96];

	(void)state;
	assert_int_equal(probe_site_offset(path, &fn, 3, &target, why, sizeof(why)), GAP + 30);
	assert_int_equal(target, 0x355e0);
	assert_non_null(strstr(why, "call site"));
}

static void expect_entry(struct elf_func fn, const char *file)
{
	uint64_t target = 1;
	char why[96];

	assert_int_equal(probe_site_offset(file, &fn, 3, &target, why, sizeof(why)), fn.offset);
	assert_int_equal(target, 0);
	assert_memory_equal(why, "entry", 5);
}

static void test_entry_when_unreadable(void **state)
{
	struct elf_func fn = { .vaddr = SSL_WRITE_VADDR, .size = SSL_WRITE_SIZE, .offset = GAP };

	(void)state;
	fn.size = 0;
	expect_entry(fn, path);
	fn.size = PROBE_SITE_CODE_MAX + 1;
	expect_entry(fn, path);
	fn.size = SSL_WRITE_SIZE;
	expect_entry(fn, "/nonexistent/tokentap-probe-site");
	/* the symbol says more bytes than the file holds */
	fn.offset = GAP + sizeof(ssl_write) - 10;
	expect_entry(fn, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_site_from_file),
		cmocka_unit_test(test_entry_when_unreadable),
	};

	return cmocka_run_group_tests(tests, make_file, remove_file);
}
