/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gathers what /metrics shows from the running sensor (status counters,
 * ring buffer fill, BPF map fill, shipping time, readiness) and publishes
 * it to the metrics server. Runs on the main loop's thread.
 */
#ifndef TOKENTAP_METRICS_COLLECT_H
#define TOKENTAP_METRICS_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

struct attacher;
struct held_procs;
struct metrics_server;
struct pipeline;
struct shipper;
struct tokentap_bpf;
struct coverage;
struct metrics_collect;

struct metrics_collect *metrics_collect_new(struct tokentap_bpf *skel);
void metrics_collect_free(struct metrics_collect *mc);

/*
 * Publishes the current state; started: the start-up scans are done.
 * Counting BPF map entries walks the maps, so it is done at most every
 * map_interval_s seconds.
 */
void metrics_collect_publish(struct metrics_collect *mc, struct metrics_server *ms,
			     struct pipeline *pipe, const struct attacher *att,
			     struct shipper *shipper, struct held_procs *held,
			     const struct coverage *cov, uint64_t scan_overflow, bool started,
			     int map_interval_s);

#endif
