/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blind-spot report: each TT_EV_UNCOVERED record (a process with no
 * probed TLS call sent a TLS record, bpf/uncovered.bpf.h) becomes a
 * tls_uncovered event, once per (executable, destination) per interval,
 * with the likely cause read from the process's executable and maps
 * (user/pipeline/uncovered.c chooses it).
 *
 * A probed library also sends records outside its write call: a TLS 1.3
 * server its session tickets right after the handshake, a client its
 * certificate. So a report waits COVERAGE_SETTLE_NS and is dropped if a
 * probe fired in the process meanwhile (the BPF map tls_tgids, which this
 * module also cleans when the process exits).
 */
#ifndef TOKENTAP_COVERAGE_H
#define TOKENTAP_COVERAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pipeline.h"
#include "tokentap.h"

struct attacher;
struct exe_cache;

#define COVERAGE_SETTLE_NS 1000000000LL
#define COVERAGE_PENDING_MAX 256

struct coverage_stats {
	uint64_t sockets;   /* sockets seen sending TLS records with no probe in the process */
	uint64_t reports;   /* tls_uncovered events reported */
	uint64_t settled;   /* reports dropped: a probe fired in the process after all */
	uint64_t dropped;   /* reports lost: too many pending, or the pair table full */
};

struct coverage;

/* The tls_tgids map, reached through main.c (this file links no BPF library). */
struct coverage_probed {
	bool (*probed)(void *ctx, uint32_t pid); /* a probed TLS write ran in pid */
	void (*forget)(void *ctx, uint32_t pid); /* pid exited */
	void *ctx;
};

/*
 * out NULL: print nothing; sink NULL or sink->uncovered NULL: ship nothing.
 * probed NULL: no map, reports go out at once.
 */
struct coverage *coverage_new(const char *proc_root, struct exe_cache *exes, int interval_s, bool json,
			      FILE *out, const struct pipeline_sink *sink,
			      const struct coverage_probed *probed);
void coverage_free(struct coverage *c);
/* One TT_EV_UNCOVERED record; att (read only, its lock held) names the attached files. */
void coverage_record(struct coverage *c, const struct attacher *att, const struct tt_event_hdr *h);
/* Reports due by now_ns (CLOCK_MONOTONIC; INT64_MAX: all of them) go out. */
void coverage_tick(struct coverage *c, int64_t now_ns);
/* Process pid exited: its pending reports are decided now, its tls_tgids entry removed. */
void coverage_exit(struct coverage *c, uint32_t pid);
/* NULL-safe: zeros when c is NULL. */
struct coverage_stats coverage_stats(const struct coverage *c);

#endif
