/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's /metrics text (Prometheus exposition format 0.0.4): pure
 * rendering of the status counters plus what only the metrics carry (BPF
 * map fill, ring buffer fill, shipping time, readiness). Every name starts
 * with tokentap_, counters end in _total, units are in the names.
 */
#ifndef TOKENTAP_SENSOR_METRICS_H
#define TOKENTAP_SENSOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status_counters.h"

#define SENSOR_METRICS_MAPS 16

struct sensor_metrics {
	struct status_counters c;
	uint64_t attach_denied;      /* attach errors for want of a capability */
	bool tls_capture;            /* uprobes can be attached */
	bool ready;
	uint64_t ringbuf_used_bytes, ringbuf_size_bytes;
	struct {
		const char *name;    /* a BPF map, e.g. "ssl_socks" */
		uint64_t entries, capacity;
	} maps[SENSOR_METRICS_MAPS];
	size_t n_maps;
	uint64_t ship_ns_sum;        /* acknowledged POSTs: total time (count: c.batches_sent) */
	uint64_t failovers;
};

/*
 * Writes the exposition text to buf (NUL-terminated). Returns its length,
 * or 0 when cap is too small.
 */
size_t sensor_metrics_render(const struct sensor_metrics *m, char *buf, size_t cap);

#endif
