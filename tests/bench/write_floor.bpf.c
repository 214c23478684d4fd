// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Benchmark floor for plaintext capture: a write() tracepoint that looks at
 * the first 16 bytes of the buffer, the least any HTTP filter has to read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define PEEK_LEN 16

SEC("tp/syscalls/sys_enter_write")
int write_floor(struct trace_event_raw_sys_enter *ctx)
{
	char head[PEEK_LEN];

	bpf_probe_read_user(head, sizeof(head), (const void *)ctx->args[1]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
