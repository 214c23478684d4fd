/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's status counters, declared once. The list below generates the
 * struct the sensor fills, the fields of sensor_status (JSON and text, in
 * this order), and the SensorStatus fields shipped to the collector
 * (batch.c), so a counter cannot be reported under one name and shipped
 * under another. It needs no other header: any output (metrics) can expand it.
 */
#ifndef TOKENTAP_STATUS_COUNTERS_H
#define TOKENTAP_STATUS_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/*
 * WIRE(name, field): reported as name, shipped as SensorStatus.field (a
 * uint32 or uint64 member, checked when batch.c compiles).
 * LOCAL(name): reported as name, not shipped.
 * A new counter is one line here plus the line in status_report.c that
 * fills it; a new wire field is added to events.proto first.
 */
#define STATUS_COUNTERS(WIRE, LOCAL)				\
	WIRE(attached_files, attached_files)			\
	LOCAL(attached_libraries)				\
	LOCAL(attached_executables)				\
	LOCAL(attached_openssl)					\
	LOCAL(attached_gnutls)					\
	LOCAL(attached_go)					\
	LOCAL(attached_nss)					\
	LOCAL(attached_rustls)					\
	LOCAL(rust_stripped)					\
	WIRE(uprobes, uprobes)					\
	LOCAL(uprobes_at_call_site)				\
	WIRE(attach_errors, attach_errors)			\
	LOCAL(detached_files)					\
	WIRE(tracepoints, tracepoints)				\
	WIRE(events, events)					\
	WIRE(ringbuf_drops, ringbuf_drops)			\
	LOCAL(ringbuf_records)					\
	LOCAL(ringbuf_data_drops)				\
	WIRE(truncated_writes, truncated_writes)		\
	LOCAL(tls_binds)					\
	LOCAL(read_failures)					\
	WIRE(requests, requests)				\
	WIRE(credentials, credentials)				\
	WIRE(headers_truncated, headers_truncated)		\
	LOCAL(headers_incomplete)				\
	WIRE(parse_errors, parse_errors)			\
	LOCAL(h2_undecodable)					\
	LOCAL(bad_events)					\
	LOCAL(unbound_tls)					\
	LOCAL(tls_retries)					\
	LOCAL(sessions)						\
	LOCAL(sessions_closed)					\
	LOCAL(session_overflow)					\
	WIRE(aggregation_overflow, overflow)			\
	LOCAL(scan_overflow)					\
	WIRE(spool_bytes, spool_bytes)				\
	WIRE(spool_batches, spool_batches)			\
	WIRE(spool_dropped, spool_dropped)			\
	LOCAL(spool_write_failures)				\
	LOCAL(batches_held)					\
	LOCAL(batches_lost)					\
	WIRE(batches_sent, batches_sent)			\
	WIRE(batches_rejected, batches_rejected)		\
	LOCAL(batch_retries)					\
	LOCAL(held_scanned)					\
	LOCAL(held_reported)					\
	WIRE(pods_cached, pods_cached)				\
	WIRE(kube_api_errors, kube_api_errors)			\
	WIRE(tls_uncovered_reports, tls_uncovered_reports)	\
	WIRE(tls_uncovered_sockets, tls_uncovered_sockets)	\
	LOCAL(tls_uncovered_settled)				\
	LOCAL(tls_uncovered_dropped)

#define STATUS_WIRE_MEMBER_(name, field) uint64_t name;
#define STATUS_LOCAL_MEMBER_(name) uint64_t name;
struct status_counters {
	STATUS_COUNTERS(STATUS_WIRE_MEMBER_, STATUS_LOCAL_MEMBER_)
};
#undef STATUS_WIRE_MEMBER_
#undef STATUS_LOCAL_MEMBER_

/* Position of each counter in the list: STATUS_ID_events, ... */
#define STATUS_WIRE_ID_(name, field) STATUS_ID_##name,
#define STATUS_LOCAL_ID_(name) STATUS_ID_##name,
enum status_counter_id {
	STATUS_COUNTERS(STATUS_WIRE_ID_, STATUS_LOCAL_ID_)
	STATUS_COUNTER_COUNT
};
#undef STATUS_WIRE_ID_
#undef STATUS_LOCAL_ID_

/* The rendering form of a counter (jsonout.h, the pipeline's sinks). */
struct status_field {
	const char *name;
	uint64_t value;
};

/* Every counter of c as a field, in list order. */
void status_counters_fields(const struct status_counters *c,
			    struct status_field f[STATUS_COUNTER_COUNT]);
/* The counter reported as name, or -1 when there is none. */
int status_counter_find(const char *name);

#endif
