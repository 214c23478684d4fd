/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's periodic status: every counter of status_counters.h read
 * from the attacher, the BPF programs, the pipeline, the shipper and the
 * held-credential scan, emitted as sensor_status through the pipeline (and
 * so its sinks), with a log line when events were dropped.
 */
#ifndef TOKENTAP_STATUS_REPORT_H
#define TOKENTAP_STATUS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

struct attacher;
struct held_procs;
struct pipeline;
struct shipper;
struct tokentap_bpf;
struct latency_stats;
struct exec_gate_stats;
struct java_agent_stats;

/* The sensor's own counters, reported after the common ones. NULL: absent. */
struct status_extra {
	const struct latency_stats *lib_attach; /* library mapped -> probes attached */
	const struct latency_stats *held;       /* --hold-unknown-tls stops */
	const uint64_t *hold_timeouts;          /* of those, continued at the deadline */
	const struct exec_gate_stats *gate;     /* --gate-exec */
	const struct java_agent_stats *java;    /* --java */
	/* ring-buffer records read: ringbuf_records once drained */
	const uint64_t *records_read;
};

struct shipper_stats;
struct status_counters;
struct coverage;

struct kube_cache;
struct kube_watch;
/* The pod watcher whose cache size and API errors are reported (NULL: off). */
void status_set_kube(struct kube_cache *cache, struct kube_watch *watch);

/* Reads every counter (ship_out: the shipper's own stats too, NULL: not wanted). */
void status_collect(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		    struct shipper *shipper, struct held_procs *held, const struct coverage *cov,
		    uint64_t scan_overflow, struct status_counters *out, struct shipper_stats *ship_out);

/*
 * shipper NULL: not shipping; held NULL: no held scan; cov NULL: no coverage report. scan_overflow:
 * process scans lost because the queue was full. The drops line is logged
 * when the drop total changed since the last call, and with force_line
 * (at exit) whenever it is not zero. extra: reported as sensor_status
 * fields (lib_attach_*, hold_*, hold_timeouts, gate_*, java_*) after the common counters.
 */
void report_status(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		   struct shipper *shipper, struct held_procs *held, const struct coverage *cov,
		   uint64_t scan_overflow, const struct status_extra *extra, bool force_line);

#endif
