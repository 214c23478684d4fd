/* SPDX-License-Identifier: Apache-2.0 */
/* PostgreSQL connection strings: which name PostgreSQL, and their printable form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg_conninfo.h"

static void redacts(const char *in, const char *want)
{
	char out[256];

	pg_conninfo_redact(in, out, sizeof(out));
	assert_string_equal(out, want);
	assert_null(strstr(out, "s3cret"));
}

static void test_is_pg(void **state)
{
	(void)state;
	assert_true(pg_conninfo_is_pg("postgres://h/db"));
	assert_true(pg_conninfo_is_pg("postgresql://u@h:5432/db"));
	assert_true(pg_conninfo_is_pg("host=h dbname=db"));
	assert_true(pg_conninfo_is_pg("dbname=db"));
	assert_false(pg_conninfo_is_pg("./state/collector.db"));
	assert_false(pg_conninfo_is_pg(":memory:"));
	assert_false(pg_conninfo_is_pg("/var/lib/postgres://x"));
	assert_false(pg_conninfo_is_pg("hostname.db"));
	assert_false(pg_conninfo_is_pg(NULL));
}

static void test_redact_url(void **state)
{
	(void)state;
	redacts("postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db");
	redacts("postgres://u@h/db", "postgres://u@h/db");
	redacts("postgres://h/db", "postgres://h/db");
	/* an '@' in the password (percent-encoding forgotten): the last one ends it */
	redacts("postgres://u:s3@cret@h/db", "postgres://u:***@h/db");
	redacts("postgres://u@h/db?sslmode=require&password=s3cret&x=1",
		"postgres://u@h/db?sslmode=require&password=***&x=1");
	redacts("postgres://u@h/db?password=s3cret", "postgres://u@h/db?password=***");
}

static void test_redact_keywords(void **state)
{
	(void)state;
	redacts("host=h password=s3cret dbname=db", "host=h password=*** dbname=db");
	redacts("host=h password = 's3 cret\\' x' dbname=db", "host=h password=*** dbname=db");
	redacts("host=h application_name='a password=b' password=s3cret",
		"host=h application_name='a password=b' password=***");
	redacts("host=h dbname=db", "host=h dbname=db");
}

static void test_redact_truncates(void **state)
{
	char out[12];

	(void)state;
	pg_conninfo_redact("postgresql://u:s3cret@h/db", out, sizeof(out));
	assert_string_equal(out, "postgresql:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_pg),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_redact_keywords),
		cmocka_unit_test(test_redact_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
