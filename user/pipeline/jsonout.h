/* SPDX-License-Identifier: Apache-2.0 */
/* Encoding of the sensor's output events (JSON lines and a readable form). */
#ifndef TOKENTAP_JSONOUT_H
#define TOKENTAP_JSONOUT_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include "sighting.h"
#include "status_counters.h"
#include "uncovered.h"

/*
 * "token_seen" (count 0: omitted) or "token_usage" (count: requests in the
 * interval). Fields that are unknown are absent. Caller puts the object.
 */
struct json_object *jsonout_token_event(const char *event, int64_t ts_ns, const struct sighting *s,
					uint64_t count);

/* Adds the pod watcher's names (pod, namespace, container, workload...) to an event. */
struct pod_ident;
void jsonout_add_pod(struct json_object *o, const struct pod_ident *id);

/* "token_held": a credential in a process's environment or argv (source "environ"/"argv"). */
struct json_object *jsonout_held_event(int64_t ts_ns, const struct sighting *s, const char *source,
				       const char *name);

/* "tls_uncovered": a process whose TLS the sensor cannot see, its destination and why. */
struct json_object *jsonout_uncovered_event(const struct uncov_report *r);

/* "sensor_status": the fields in order (status_counters_fields()). */
struct json_object *jsonout_status(int64_t ts_ns, const struct status_field *f, size_t n);

/* One line per event: what a person reads in a terminal. */
void textout_token_event(FILE *out, const char *event, int64_t ts_ns, const struct sighting *s,
			 uint64_t count);
void textout_held_event(FILE *out, int64_t ts_ns, const struct sighting *s, const char *source,
			const char *name);
void textout_uncovered_event(FILE *out, const struct uncov_report *r);
void textout_status(FILE *out, int64_t ts_ns, const struct status_field *f, size_t n);

#endif
