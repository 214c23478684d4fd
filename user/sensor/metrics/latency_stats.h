/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Percentiles of a delay, over its last LATENCY_SAMPLES samples: how long
 * after a library was mapped its probes were attached, how long a process
 * was held. Not thread-safe.
 */
#ifndef TOKENTAP_LATENCY_STATS_H
#define TOKENTAP_LATENCY_STATS_H

#include <stddef.h>
#include <stdint.h>

#define LATENCY_SAMPLES 4096

struct latency_stats {
	uint64_t count;                   /* samples ever added */
	uint64_t max_ns;                  /* largest ever */
	uint64_t ns[LATENCY_SAMPLES];     /* the last ones, a ring */
};

void latency_add(struct latency_stats *l, uint64_t ns);
/*
 * The p-th percentile (0 < p <= 100, nearest rank) of the samples kept, in
 * nanoseconds; 0 without samples.
 */
uint64_t latency_percentile(const struct latency_stats *l, unsigned p);

#endif
