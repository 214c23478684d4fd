/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Array parameters of the PostgreSQL store's bulk statements: text
 * literals, and bigint[] in PostgreSQL's binary array format, byte for
 * byte; with TOKENTAP_TEST_PG set, the server reads them back too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_util.h"

static void test_text_literal(void **state)
{
	struct pg_buf b = { 0 };
	struct pg_params p = { 0 };

	(void)state;
	pg_arr_begin(&b);
	pg_arr_text(&b, "a\"b\\c");
	pg_arr_int(&b, -7);
	assert_int_equal(pg_arr_bind(&p, 2, &b), 0);
	assert_string_equal(p.v[1], "{\"a\\\"b\\\\c\",-7}");
	assert_int_equal(p.fmt[1], 0);
	assert_int_equal(p.binary, 0);
	assert_int_equal(p.n, 2);
	pg_buf_free(&b);
}

static void test_binary_bigints(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 1, /* header */
		0, 0, 0, 8, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  /* 0x0102030405060708 */
		0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,  /* -2 */
	};
	struct pg_buf b = { 0 };
	struct pg_params p = { 0 };

	(void)state;
	pg_arr_begin_i8(&b);
	pg_arr_int(&b, 0x0102030405060708LL);
	pg_arr_int(&b, -2);
	assert_int_equal(pg_arr_bind(&p, 1, &b), 0);
	assert_int_equal(p.fmt[0], 1);
	assert_int_equal(p.binary, 1);
	assert_int_equal(p.len[0], (int)sizeof(want));
	assert_memory_equal(p.v[0], want, sizeof(want));
	/* a buffer reused for text is text again */
	pg_arr_begin(&b);
	pg_arr_int(&b, 5);
	assert_string_equal(pg_arr_end(&b), "{5}");
	pg_buf_free(&b);
}

/* No element: no dimension, as PostgreSQL writes an empty array. */
static void test_binary_empty(void **state)
{
	static const unsigned char want[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20 };
	struct pg_buf b = { 0 };
	struct pg_params p = { 0 };

	(void)state;
	pg_arr_begin_i8(&b);
	assert_int_equal(pg_arr_bind(&p, 1, &b), 0);
	assert_int_equal(p.len[0], (int)sizeof(want));
	assert_memory_equal(p.v[0], want, sizeof(want));
	pg_buf_free(&b);
}

/* The server's reading of both forms, when one is at hand. */
static void test_server_reads_them(void **state)
{
	static const char *const sql[] = {
		("SELECT array_to_string($1::bigint[], ',') || '|' || cardinality($2::bigint[])"
		 " || '|' || array_to_string($3::text[], ',')"),
	};
	static const struct pg_stmts set = { PGM_STORE, sql, 1 };
	const char *url = getenv("TOKENTAP_TEST_PG");
	struct pg_buf b[3] = { 0 };
	struct pg_params p = { 0 };
	struct pg_conn pc = { 0 };
	char msg[256];
	struct pg_err e = { msg, sizeof(msg), "" };
	PGresult *r;

	(void)state;
	if (!url || !url[0]) {
		const char *req = getenv("TOKENTAP_REQUIRE_PG");

		if (req && req[0] && strcmp(req, "0") != 0)
			fail_msg("PostgreSQL required (TOKENTAP_REQUIRE_PG) but TOKENTAP_TEST_PG is not set");
		print_message("skipped: TOKENTAP_TEST_PG is not set\n");
		skip();
	}
	pc.c = PQconnectdb(url);
	if (PQstatus(pc.c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(pc.c));
	pg_arr_begin_i8(&b[0]);
	pg_arr_int(&b[0], INT64_MIN);
	pg_arr_int(&b[0], 0);
	pg_arr_int(&b[0], INT64_MAX);
	pg_arr_begin_i8(&b[1]);
	pg_arr_begin(&b[2]);
	pg_arr_text(&b[2], "x");
	for (int i = 0; i < 3; i++)
		assert_int_equal(pg_arr_bind(&p, i + 1, &b[i]), 0);
	r = pg_run(&pc, &set, 0, &p, &e, "read back");
	if (!r)
		fail_msg("%s", msg);
	assert_string_equal(PQgetvalue(r, 0, 0),
			    "-9223372036854775808,0,9223372036854775807|0|x");
	PQclear(r);
	PQfinish(pc.c);
	for (int i = 0; i < 3; i++)
		pg_buf_free(&b[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_literal),
		cmocka_unit_test(test_binary_bigints),
		cmocka_unit_test(test_binary_empty),
		cmocka_unit_test(test_server_reads_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
