/* SPDX-License-Identifier: Apache-2.0 */
/* Environment checks and loading of the BPF capture programs. */
#ifndef TOKENTAP_LOADER_H
#define TOKENTAP_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tokentap.h"

struct tokentap_bpf;

struct loader_opts {
	uint32_t only_pid;
	uint32_t max_capture;
	uint32_t ringbuf_bytes;  /* 0: the object's size; else a power of two >= the page size */
	int verbose;
	bool hold_unknown_tls;  /* SIGSTOP processes mapping an undecided TLS library */
};

/*
 * Checks root, BTF and kernel version. On failure writes a one-line reason
 * to err and returns -1.
 */
int loader_check_env(char *err, size_t errlen);

/* Opens, configures, loads and attaches the tracepoint programs. */
struct tokentap_bpf *loader_load(const struct loader_opts *o, char *err, size_t errlen);
/* Number of tracepoints a successful loader_load has attached. */
unsigned loader_tracepoints(void);
void loader_destroy(struct tokentap_bpf *skel);
/* Sums the per-CPU counters (enum tt_stat). */
void loader_read_stats(struct tokentap_bpf *skel, uint64_t out[TT_STAT_MAX]);

#endif
