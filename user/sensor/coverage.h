/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blind-spot report: each TT_EV_UNCOVERED record (a process with no
 * probed TLS call sent a TLS record, bpf/uncovered.bpf.h) becomes a
 * tls_uncovered event, once per (executable, destination) per interval,
 * with the likely cause read from the process's executable and maps
 * (user/pipeline/uncovered.c chooses it).
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

struct coverage_stats {
	uint64_t sockets;   /* sockets seen sending TLS records with no probe in the process */
	uint64_t reports;   /* tls_uncovered events reported */
};

struct coverage;

/* out NULL: print nothing; sink NULL or sink->uncovered NULL: ship nothing. */
struct coverage *coverage_new(const char *proc_root, struct exe_cache *exes, int interval_s, bool json,
			      FILE *out, const struct pipeline_sink *sink);
void coverage_free(struct coverage *c);
/* One TT_EV_UNCOVERED record; att (read only, its lock held) names the attached files. */
void coverage_record(struct coverage *c, const struct attacher *att, const struct tt_event_hdr *h);
/* NULL-safe: zeros when c is NULL. */
struct coverage_stats coverage_stats(const struct coverage *c);

#endif
