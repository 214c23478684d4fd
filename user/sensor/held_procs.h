/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials processes hold: the environment and arguments of every
 * process at start and of each program executed later, scanned by the
 * classifier's prefix rules (held_scan.c). Each (token, process, program,
 * source, name) is reported once: on stdout like the pipeline's events,
 * and to the collector through the sink's held callback.
 */
#ifndef TOKENTAP_HELD_PROCS_H
#define TOKENTAP_HELD_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "fingerprint.h"
#include "pipeline.h"

struct held_procs_stats {
	uint64_t scanned;   /* processes scanned */
	uint64_t reported;  /* held credentials reported */
	uint64_t gone;      /* processes that exited before their scan */
};

struct held_procs;

/* out NULL: print nothing; sink NULL or sink->held NULL: ship nothing. */
struct held_procs *held_procs_new(const struct fp_key *key, const char *proc_root, bool json, FILE *out,
				const struct pipeline_sink *sink);
/* Names the pod (or podman image) of each holder in the JSON lines. */
void held_procs_set_pods(struct held_procs *w, const struct pod_resolver *pods);
void held_procs_free(struct held_procs *w);
/* Scans every process now running (at start). only_pid 0: all. */
void held_procs_scan_all(struct held_procs *w, uint32_t only_pid);
/* pid executed a program: scan its new environment and arguments. */
void held_procs_scan_pid(struct held_procs *w, uint32_t pid);
const struct held_procs_stats *held_procs_stats(const struct held_procs *w);

#endif
