/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open-addressing index and the string pool built on it: every stored
 * record stays reachable through inserts, growth and removals that shift
 * probe runs (hashes chosen to collide and to wrap round the table's end),
 * checked against a plain array; interned strings are shared and freed
 * with their last reference (ASan/LSan).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ptrtab.h"
#include "strpool.h"

#define NREC 2000

struct rec {
	uint64_t hash;
	bool in;
};

/* Every record is found under its hash exactly when it is in. */
static void check(const struct ptrtab *t, struct rec *r, size_t n)
{
	size_t in = 0;

	for (size_t i = 0; i < n; i++) {
		size_t pos = (size_t)-1, found = 0;
		void *p;

		while ((p = ptrtab_next(t, r[i].hash, &pos)))
			found += p == &r[i];
		assert_int_equal(found, r[i].in ? 1 : 0);
		in += r[i].in;
	}
	assert_int_equal(t->n, in);
}

static void remove_rec(struct ptrtab *t, struct rec *r)
{
	size_t pos = (size_t)-1;
	void *p;

	while ((p = ptrtab_next(t, r->hash, &pos))) {
		if (p == r) {
			ptrtab_remove_at(t, pos);
			r->in = false;
			return;
		}
	}
	fail_msg("record not found");
}

static void test_model(void **state)
{
	static struct rec r[NREC];
	struct ptrtab t = { 0 };
	unsigned seed = 12345;

	(void)state;
	for (size_t i = 0; i < NREC; i++) {
		/* few distinct hashes, many near the top: long runs that wrap */
		r[i].hash = i % 3 ? (uint64_t)(rand_r(&seed) % 16) : UINT64_MAX - (uint64_t)(i % 5);
		r[i].in = false;
	}
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < NREC; i++) {
			if (!r[i].in && rand_r(&seed) % 2) {
				assert_int_equal(ptrtab_insert(&t, r[i].hash, &r[i]), 0);
				r[i].in = true;
			}
		}
		check(&t, r, NREC);
		for (size_t i = 0; i < NREC; i++)
			if (r[i].in && rand_r(&seed) % 3 == 0)
				remove_rec(&t, &r[i]);
		check(&t, r, NREC);
	}
	for (size_t i = 0; i < NREC; i++)
		if (r[i].in)
			remove_rec(&t, &r[i]);
	check(&t, r, NREC);
	ptrtab_free(&t);
	/* a freed table is empty and usable again */
	assert_null(ptrtab_next(&t, 1, &(size_t){ (size_t)-1 }));
	assert_int_equal(ptrtab_insert(&t, 1, &r[0]), 0);
	ptrtab_free(&t);
}

static void test_strpool(void **state)
{
	struct strpool sp = { 0 };
	char buf[16];
	const char *a, *b, *c;

	(void)state;
	a = strpool_get(&sp, "/usr/bin/curl");
	snprintf(buf, sizeof(buf), "/usr/bin/%s", "curl");
	b = strpool_get(&sp, buf);
	c = strpool_get(&sp, "");
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_string_equal(c, "");
	assert_int_equal(sp.tab.n, 2);
	strpool_put(&sp, a);
	assert_int_equal(sp.tab.n, 2);
	assert_string_equal(b, "/usr/bin/curl");
	strpool_put(&sp, b);
	assert_int_equal(sp.tab.n, 1);
	strpool_put(&sp, NULL);
	/* many strings: the pool grows and finds each again */
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		assert_non_null(strpool_get(&sp, buf));
	}
	assert_int_equal(sp.tab.n, 501);
	for (int i = 0; i < 500; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		a = strpool_get(&sp, buf);
		assert_string_equal(a, buf);
		strpool_put(&sp, a);
	}
	assert_int_equal(sp.tab.n, 501);
	/* what is left is freed with the pool */
	strpool_put(&sp, c);
	strpool_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_strpool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
