/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec gate (--gate-exec): a program the sensor has not decided on yet
 * does not start before its probes are attached. A fanotify permission
 * event (FAN_OPEN_EXEC_PERM, one mark per filesystem) holds the exec'ing
 * task; an answering thread allows it once an analysis thread has examined
 * the file, or when the deadline passes, whatever happens (gate_timeouts).
 * Never denies. A decided file gets an ignore mark, so the kernel does not
 * even ask again until the file is modified. New filesystems (container
 * root filesystems) are marked as they are mounted: in the sensor's and
 * the host's mount namespaces, and in each namespace a program was seen
 * executing in (fanotify mount notifications, Linux 6.15+).
 */
#ifndef TOKENTAP_EXEC_GATE_H
#define TOKENTAP_EXEC_GATE_H

#include <stddef.h>
#include <stdint.h>

/* Deadline for an answer, in milliseconds (default and bounds of --gate-timeout-ms). */
#define EXEC_GATE_TIMEOUT_MS 200
#define EXEC_GATE_TIMEOUT_MIN_MS 1
#define EXEC_GATE_TIMEOUT_MAX_MS 5000

/*
 * Examines the file open as fd (attaches its probes). Runs on the analysis
 * thread; must not wait on an exec.
 */
typedef void (*exec_gate_decide_fn)(void *ctx, int fd);

struct exec_gate_opts {
	unsigned timeout_ms;
	exec_gate_decide_fn decide;
	void *ctx;
	int verbose;
};

struct exec_gate_stats {
	uint64_t events;        /* permission events read */
	uint64_t allowed_known; /* allowed at once: decided before, or the sensor's own */
	uint64_t decided;       /* allowed after their analysis */
	uint64_t timeouts;      /* allowed at the deadline, analysis unfinished */
	uint64_t overflow;      /* allowed at once: too many waiting */
	uint64_t filesystems;   /* filesystems marked */
	uint64_t ignore_marks;  /* decided files the kernel no longer asks about */
	uint64_t wait_ns_max;   /* longest an exec was held */
	uint64_t mount_namespaces; /* mount namespaces watched (sensor's, host's, each seen executing) */
	uint64_t mount_events;  /* batches of mount notifications that led to a rescan */
	uint64_t ns_overflow;   /* namespaces not watched: too many at once */
	uint64_t overlay_layers; /* allowed at once: the layer file beneath an overlay file asked about */
};

struct exec_gate;

/*
 * Marks every filesystem mounted now and starts the two threads. NULL with
 * a reason in err when fanotify permission events are not available.
 */
struct exec_gate *exec_gate_start(const struct exec_gate_opts *o, char *err, size_t errlen);
/* Stops the threads, answers every waiting event, closes the group (which releases all marks). */
void exec_gate_stop(struct exec_gate *g);
void exec_gate_stats(struct exec_gate *g, struct exec_gate_stats *out);
/*
 * pid executed a program: mark the filesystem it came from if not yet (a
 * private mount), and watch its mount namespace: every filesystem in it,
 * and each mounted there later.
 */
void exec_gate_cover_pid(struct exec_gate *g, uint32_t pid);

#endif
