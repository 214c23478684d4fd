// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Benchmark floor: the cheapest possible uprobe. Its cost is the uprobe
 * trap itself, which is what any SSL_write capture must pay at least.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_uprobe(void *ctx)
{
	return 0;
}

/*
 * The same nothing on the syscall tracepoints the sensor enables: what
 * having them on costs every syscall of every process, with no work done.
 */
SEC("tracepoint")
int empty_tp(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
