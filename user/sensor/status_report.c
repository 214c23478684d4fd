/* SPDX-License-Identifier: Apache-2.0 */
#include "status_report.h"

#include "attach.h"
#include "held_procs.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "shipper.h"
#include "status_counters.h"
#include "tokentap.h"

void status_collect(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		    struct shipper *shipper, struct held_procs *held, uint64_t scan_overflow,
		    struct status_counters *out, struct shipper_stats *ship_out)
{
	uint64_t k[TT_STAT_MAX];
	const struct pipeline_stats *ps = pipeline_stats(pipe);
	const struct held_procs_stats *hs = held ? held_procs_stats(held) : NULL;
	struct shipper_stats ss = { 0 };

	loader_read_stats(skel, k);
	if (shipper)
		shipper_stats(shipper, &ss);
	if (ship_out)
		*ship_out = ss;
	*out = (struct status_counters){
		.attached_files = att->tls_libs + att->tls_exes,
		.attached_libraries = att->tls_libs,
		.attached_executables = att->tls_exes,
		.attached_openssl = att->files_by_lib[TT_LIB_OPENSSL],
		.attached_gnutls = att->files_by_lib[TT_LIB_GNUTLS],
		.attached_go = att->files_by_lib[TT_LIB_GO],
		.attached_nss = att->files_by_lib[TT_LIB_NSS],
		.uprobes = att->probes,
		.uprobes_at_call_site = att->probes_at_call,
		.attach_errors = att->attach_errors,
		.detached_files = att->released_files,
		.tracepoints = loader_tracepoints(),
		.events = k[TT_STAT_EVENTS],
		.ringbuf_drops = k[TT_STAT_RB_DROP],
		.truncated_writes = k[TT_STAT_TRUNC],
		.tls_binds = k[TT_STAT_BIND],
		.read_failures = k[TT_STAT_READ_FAIL],
		.requests = ps->requests,
		.credentials = ps->credentials,
		.headers_truncated = ps->headers_truncated,
		.headers_incomplete = ps->headers_incomplete,
		.parse_errors = ps->parse_errors,
		.h2_undecodable = ps->h2_undecodable,
		.bad_events = ps->bad_events,
		.unbound_tls = ps->unbound_tls,
		.tls_retries = ps->tls_retries,
		.sessions = ps->sessions,
		.sessions_closed = ps->sessions_closed,
		.session_overflow = ps->session_overflow,
		.aggregation_overflow = ps->agg_overflow,
		.scan_overflow = scan_overflow,
		.spool_bytes = ss.spool_bytes,
		.spool_batches = ss.spool_batches,
		.spool_dropped = ss.spool_dropped,
		.batches_sent = ss.batches_sent,
		.batches_rejected = ss.batches_rejected,
		.batch_retries = ss.retries,
		.held_scanned = hs ? hs->scanned : 0,
		.held_reported = hs ? hs->reported : 0,
	};
}

void report_status(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		   struct shipper *shipper, struct held_procs *held, uint64_t scan_overflow,
		   bool force_line)
{
	/* one sensor per process: the total at the previous report */
	static uint64_t last_drops;
	struct status_counters c;
	struct status_field f[STATUS_COUNTER_COUNT];
	uint64_t drops;

	status_collect(pipe, att, skel, shipper, held, scan_overflow, &c, NULL);
	status_counters_fields(&c, f);
	pipeline_emit_status(pipe, f, STATUS_COUNTER_COUNT);

	drops = c.ringbuf_drops + c.truncated_writes + c.headers_truncated + c.session_overflow +
		c.aggregation_overflow + c.scan_overflow + c.spool_dropped + c.batches_rejected;
	if (drops != last_drops || (force_line && drops))
		log_info("drops: ringbuf=%llu truncated_writes=%llu headers_truncated=%llu "
			 "sessions=%llu aggregation=%llu scans=%llu spool=%llu rejected_batches=%llu",
			 (unsigned long long)c.ringbuf_drops, (unsigned long long)c.truncated_writes,
			 (unsigned long long)c.headers_truncated,
			 (unsigned long long)c.session_overflow,
			 (unsigned long long)c.aggregation_overflow, (unsigned long long)c.scan_overflow,
			 (unsigned long long)c.spool_dropped, (unsigned long long)c.batches_rejected);
	last_drops = drops;
}
