/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wall-clock ends of a usage interval: it ends at the wall clock's now
 * and lasts what the monotonic clock measured, so a step of the wall clock
 * during the interval (back or forward) never gives a negative or a
 * stretched interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline_internal.h"

#define S 1000000000LL

static void test_steady(void **state)
{
	int64_t a, b;

	(void)state;
	usage_interval(100 * S, 110 * S, 1700000010 * S, &a, &b);
	assert_true(b == 1700000010 * S);
	assert_true(a == 1700000000 * S);
}

static void test_step_back(void **state)
{
	int64_t a, b;

	(void)state;
	/* the wall clock went back an hour in the middle of a 10 s interval */
	usage_interval(100 * S, 110 * S, (1700000010 - 3600) * S, &a, &b);
	assert_true(b - a == 10 * S);
	assert_true(b == (1700000010 - 3600) * S);
}

static void test_step_forward(void **state)
{
	int64_t a, b;

	(void)state;
	usage_interval(100 * S, 110 * S, (1700000010 + 3600) * S, &a, &b);
	assert_true(b - a == 10 * S);
}

static void test_never_negative(void **state)
{
	int64_t a, b;

	(void)state;
	/* a start after now (cannot happen with CLOCK_MONOTONIC) is an empty interval */
	usage_interval(120 * S, 110 * S, 1700000010 * S, &a, &b);
	assert_true(a == b);
	/* a wall clock near 0 clamps the start at 0 */
	usage_interval(100 * S, 110 * S, 5 * S, &a, &b);
	assert_true(a == 0 && b == 5 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady),
		cmocka_unit_test(test_step_back),
		cmocka_unit_test(test_step_forward),
		cmocka_unit_test(test_never_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
