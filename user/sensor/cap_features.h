/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the sensor can do with the capabilities it holds: pure logic from an
 * effective capability set and a kernel version to the feature list the
 * sensor logs at start (README: Least privilege).
 *
 * uprobes are the one feature with two ways in: the uprobe perf PMU, which
 * needs CAP_SYS_ADMIN (Linux 6.16 and the stable kernels reverted it from
 * CAP_PERFMON, "perf: Revert to requiring CAP_SYS_ADMIN for uprobes"), and
 * BPF uprobe_multi links (Linux >= 6.6), which need only CAP_BPF and
 * CAP_PERFMON, the capabilities that load the programs.
 */
#ifndef TOKENTAP_CAP_FEATURES_H
#define TOKENTAP_CAP_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capability numbers of linux/capability.h: bit n of the effective set. */
#define CAPF_DAC_READ_SEARCH 2
#define CAPF_SYS_PTRACE 19
#define CAPF_SYS_ADMIN 21
#define CAPF_SYS_RESOURCE 24
#define CAPF_PERFMON 38
#define CAPF_BPF 39
#define CAPF_BIT(n) (1ULL << (n))

enum uprobe_mode {
	UPROBE_MODE_NONE,   /* no way to attach: TLS capture off */
	UPROBE_MODE_PERF,   /* perf_event_open on the uprobe PMU (CAP_SYS_ADMIN) */
	UPROBE_MODE_MULTI,  /* BPF_LINK_CREATE uprobe_multi (CAP_BPF + CAP_PERFMON, 6.6+) */
};

struct cap_feature {
	const char *name;   /* e.g. "TLS capture (uprobes)" */
	bool on;
	const char *detail; /* how it works, or why it is off and what turns it on */
};

enum { CAP_FEATURE_MAX = 6 };

/* The way uprobes can be attached with this set on this kernel. */
enum uprobe_mode cap_uprobe_mode(uint64_t eff, int kmajor, int kminor);

/*
 * Fills out[] (CAP_FEATURE_MAX entries) and returns how many were written.
 * The first entry is always loading the BPF programs: when it is off the
 * sensor cannot run at all.
 */
size_t cap_features(uint64_t eff, int kmajor, int kminor, struct cap_feature *out);

#endif
