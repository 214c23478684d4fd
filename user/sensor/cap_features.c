/* SPDX-License-Identifier: Apache-2.0 */
#include "cap_features.h"

static bool has(uint64_t eff, int cap)
{
	return (eff & CAPF_BIT(cap)) != 0;
}

static bool kernel_at_least(int kmajor, int kminor, int major, int minor)
{
	return kmajor > major || (kmajor == major && kminor >= minor);
}

/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON on every kernel. */
static bool can_load(uint64_t eff)
{
	return has(eff, CAPF_SYS_ADMIN) || (has(eff, CAPF_BPF) && has(eff, CAPF_PERFMON));
}

enum uprobe_mode cap_uprobe_mode(uint64_t eff, int kmajor, int kminor)
{
	if (!can_load(eff))
		return UPROBE_MODE_NONE;
	if (has(eff, CAPF_SYS_ADMIN))
		return UPROBE_MODE_PERF;
	if (kernel_at_least(kmajor, kminor, 6, 6))
		return UPROBE_MODE_MULTI;
	return UPROBE_MODE_NONE;
}

size_t cap_features(uint64_t eff, int kmajor, int kminor, struct cap_feature *out)
{
	enum uprobe_mode m = cap_uprobe_mode(eff, kmajor, kminor);
	size_t n = 0;

	out[n++] = (struct cap_feature){
		"loading the BPF programs (syscall tracepoints: plaintext HTTP)", can_load(eff),
		can_load(eff) ? "CAP_BPF and CAP_PERFMON" : "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"
	};
	out[n++] = (struct cap_feature){
		"TLS capture (uprobes)", m != UPROBE_MODE_NONE,
		m == UPROBE_MODE_PERF ? "uprobe perf events (CAP_SYS_ADMIN)" :
		m == UPROBE_MODE_MULTI ? "uprobe_multi BPF links (CAP_BPF, CAP_PERFMON)" :
		"needs CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON on Linux >= 6.6 (uprobe_multi links)"
	};
	out[n++] = (struct cap_feature){
		"processes of every container and user (/proc/PID/root, maps, environ)",
		has(eff, CAPF_SYS_PTRACE),
		has(eff, CAPF_SYS_PTRACE) ? "CAP_SYS_PTRACE" :
		"needs CAP_SYS_PTRACE: libraries in other mount namespaces and the held-credential scan of processes holding capabilities the sensor lacks are skipped"
	};
	out[n++] = (struct cap_feature){
		"reading executables and libraries whatever their mode",
		has(eff, CAPF_DAC_READ_SEARCH),
		has(eff, CAPF_DAC_READ_SEARCH) ? "CAP_DAC_READ_SEARCH" :
		"needs CAP_DAC_READ_SEARCH: files root cannot read by their mode bits are not probed"
	};
	/* Before 5.11 BPF maps are charged to RLIMIT_MEMLOCK, which libbpf raises. */
	if (!kernel_at_least(kmajor, kminor, 5, 11))
		out[n++] = (struct cap_feature){
			"locked memory for the BPF maps (kernel < 5.11)", has(eff, CAPF_SYS_RESOURCE),
			has(eff, CAPF_SYS_RESOURCE) ? "CAP_SYS_RESOURCE" :
			"needs CAP_SYS_RESOURCE unless RLIMIT_MEMLOCK is already unlimited"
		};
	return n;
}
