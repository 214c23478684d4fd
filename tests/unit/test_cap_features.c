/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which features a capability set allows: the uprobe attachment mode (perf
 * PMU with CAP_SYS_ADMIN, uprobe_multi links with CAP_BPF + CAP_PERFMON on
 * 6.6+, else none) and the feature list the sensor logs at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cap_features.h"

#define B(n) CAPF_BIT(CAPF_##n)
/* the documented least-privilege set */
#define LEAST (B(BPF) | B(PERFMON) | B(SYS_PTRACE) | B(DAC_READ_SEARCH))

static void uprobe_modes(void **state)
{
	(void)state;
	assert_int_equal(cap_uprobe_mode(B(SYS_ADMIN), 5, 10), UPROBE_MODE_PERF);
	assert_int_equal(cap_uprobe_mode(LEAST | B(SYS_ADMIN), 6, 18), UPROBE_MODE_PERF);
	assert_int_equal(cap_uprobe_mode(LEAST, 6, 18), UPROBE_MODE_MULTI);
	assert_int_equal(cap_uprobe_mode(LEAST, 6, 6), UPROBE_MODE_MULTI);
	assert_int_equal(cap_uprobe_mode(LEAST, 7, 0), UPROBE_MODE_MULTI);
	/* before uprobe_multi, CAP_PERFMON alone cannot attach uprobes any more */
	assert_int_equal(cap_uprobe_mode(LEAST, 6, 5), UPROBE_MODE_NONE);
	assert_int_equal(cap_uprobe_mode(LEAST, 5, 15), UPROBE_MODE_NONE);
	/* nothing loads without CAP_BPF and CAP_PERFMON */
	assert_int_equal(cap_uprobe_mode(B(BPF), 6, 18), UPROBE_MODE_NONE);
	assert_int_equal(cap_uprobe_mode(B(PERFMON), 6, 18), UPROBE_MODE_NONE);
	assert_int_equal(cap_uprobe_mode(0, 6, 18), UPROBE_MODE_NONE);
}

static const struct cap_feature *find(const struct cap_feature *f, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(f[i].name, prefix, strlen(prefix)) == 0)
			return &f[i];
	return NULL;
}

static void least_privilege_all_on(void **state)
{
	struct cap_feature f[CAP_FEATURE_MAX];
	size_t n = cap_features(LEAST, 6, 18, f);

	(void)state;
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_true(f[i].on);
		assert_non_null(f[i].detail);
	}
	assert_non_null(strstr(find(f, n, "TLS")->detail, "uprobe_multi"));
}

static void missing_capability_names_the_feature(void **state)
{
	struct cap_feature f[CAP_FEATURE_MAX];
	size_t n;

	(void)state;
	n = cap_features(LEAST & ~B(SYS_PTRACE), 6, 18, f);
	assert_false(find(f, n, "processes of every container")->on);
	assert_non_null(strstr(find(f, n, "processes of every container")->detail, "CAP_SYS_PTRACE"));
	assert_true(find(f, n, "TLS")->on);

	n = cap_features(LEAST & ~B(DAC_READ_SEARCH), 6, 18, f);
	assert_false(find(f, n, "reading executables")->on);
	assert_non_null(strstr(find(f, n, "reading executables")->detail, "CAP_DAC_READ_SEARCH"));

	n = cap_features(LEAST, 6, 1, f);
	assert_false(find(f, n, "TLS")->on);
	assert_non_null(strstr(find(f, n, "TLS")->detail, "CAP_SYS_ADMIN"));
	assert_true(f[0].on);

	n = cap_features(LEAST & ~B(PERFMON), 6, 18, f);
	assert_false(f[0].on);
	assert_false(find(f, n, "TLS")->on);
}

static void memlock_only_on_old_kernels(void **state)
{
	struct cap_feature f[CAP_FEATURE_MAX];
	size_t n;

	(void)state;
	n = cap_features(LEAST, 5, 10, f);
	assert_int_equal(n, 5);
	assert_false(find(f, n, "locked memory")->on);
	n = cap_features(LEAST | B(SYS_RESOURCE), 5, 10, f);
	assert_true(find(f, n, "locked memory")->on);
	n = cap_features(LEAST, 5, 11, f);
	assert_null(find(f, n, "locked memory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uprobe_modes),
		cmocka_unit_test(least_privilege_all_on),
		cmocka_unit_test(missing_capability_names_the_feature),
		cmocka_unit_test(memlock_only_on_old_kernels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
