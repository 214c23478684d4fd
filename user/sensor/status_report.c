/* SPDX-License-Identifier: Apache-2.0 */
#include "status_report.h"

#include "attach.h"
#include "coverage.h"
#include "exec_gate.h"
#include "java_agent.h"
#include "held_procs.h"
#include "kube_cache.h"
#include "kube_watch.h"
#include "latency_stats.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "shipper.h"
#include "status_counters.h"
#include "tokentap.h"

/* latency_fields twice, records_read, hold_timeouts, gate (11), java (3) */
#define EXTRA_FIELDS 24

/* Percentiles of a delay as name_count, name_p50_us, name_p99_us, name_max_us. */
static size_t latency_fields(const char *const names[4], const struct latency_stats *l,
			     struct status_field *f)
{
	f[0] = (struct status_field){ names[0], l->count };
	f[1] = (struct status_field){ names[1], latency_percentile(l, 50) / 1000 };
	f[2] = (struct status_field){ names[2], latency_percentile(l, 99) / 1000 };
	f[3] = (struct status_field){ names[3], l->max_ns / 1000 };
	return 4;
}

static size_t extra_fields(const struct status_extra *x, struct status_field *f)
{
	static const char *const lib[4] = { "lib_attach_count", "lib_attach_p50_us",
					    "lib_attach_p99_us", "lib_attach_max_us" };
	static const char *const hold[4] = { "hold_count", "hold_p50_us", "hold_p99_us",
					     "hold_max_us" };
	size_t n = 0;

	if (!x)
		return 0;
	if (x->lib_attach)
		n += latency_fields(lib, x->lib_attach, f + n);
	if (x->held)
		n += latency_fields(hold, x->held, f + n);
	if (x->records_read)
		f[n++] = (struct status_field){ "records_read", *x->records_read };
	if (x->hold_timeouts)
		f[n++] = (struct status_field){ "hold_timeouts", *x->hold_timeouts };
	if (x->gate) {
		f[n++] = (struct status_field){ "gate_events", x->gate->events };
		f[n++] = (struct status_field){ "gate_allowed_known", x->gate->allowed_known };
		f[n++] = (struct status_field){ "gate_decided", x->gate->decided };
		f[n++] = (struct status_field){ "gate_timeouts", x->gate->timeouts };
		f[n++] = (struct status_field){ "gate_overflow", x->gate->overflow };
		f[n++] = (struct status_field){ "gate_filesystems", x->gate->filesystems };
		f[n++] = (struct status_field){ "gate_ignore_marks", x->gate->ignore_marks };
		f[n++] = (struct status_field){ "gate_wait_max_us", x->gate->wait_ns_max / 1000 };
		f[n++] = (struct status_field){ "gate_mount_namespaces", x->gate->mount_namespaces };
		f[n++] = (struct status_field){ "gate_mount_events", x->gate->mount_events };
		f[n++] = (struct status_field){ "gate_overlay_layers", x->gate->overlay_layers };
	}
	if (x->java) {
		f[n++] = (struct status_field){ "java_attached", x->java->attached };
		f[n++] = (struct status_field){ "java_failed", x->java->failed };
		f[n++] = (struct status_field){ "java_overflow", x->java->overflow };
	}
	return n;
}

/* The pod watcher, when on: set once at start, before any report. */
static struct kube_cache *kube_cache;
static struct kube_watch *kube_watch;

void status_set_kube(struct kube_cache *cache, struct kube_watch *watch)
{
	kube_cache = cache;
	kube_watch = watch;
}

void status_collect(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		    struct shipper *shipper, struct held_procs *held, const struct coverage *cov,
		    uint64_t scan_overflow, struct status_counters *out, struct shipper_stats *ship_out)
{
	uint64_t k[TT_STAT_MAX];
	const struct pipeline_stats *ps = pipeline_stats(pipe);
	const struct held_procs_stats *hs = held ? held_procs_stats(held) : NULL;
	struct shipper_stats ss = { 0 };
	struct coverage_stats cs = coverage_stats(cov);

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
		.attached_rustls = att->files_by_lib[TT_LIB_RUSTLS],
		.rust_stripped = att->rust_stripped,
		.uprobes = att->probes,
		.uprobes_at_call_site = att->probes_at_call,
		.attach_errors = att->attach_errors,
		.detached_files = att->released_files,
		.tracepoints = loader_tracepoints(),
		.events = k[TT_STAT_EVENTS],
		.ringbuf_drops = k[TT_STAT_RB_DROP],
		.ringbuf_records = k[TT_STAT_RECORDS],
		.ringbuf_data_drops = k[TT_STAT_DATA_DROP],
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
		.spool_write_failures = ss.spool_write_failures,
		.batches_held = ss.batches_held,
		.batches_lost = ss.batches_lost,
		.batches_sent = ss.batches_sent,
		.batches_rejected = ss.batches_rejected,
		.batch_retries = ss.retries,
		.held_scanned = hs ? hs->scanned : 0,
		.held_reported = hs ? hs->reported : 0,
		.pods_cached = kube_cache ? kube_cache_count(kube_cache) : 0,
		.kube_api_errors = kube_watch_errors(kube_watch),
		.tls_uncovered_reports = cs.reports,
		.tls_uncovered_sockets = cs.sockets,
		.tls_uncovered_settled = cs.settled,
		.tls_uncovered_dropped = cs.dropped,
	};
}

void report_status(struct pipeline *pipe, const struct attacher *att, struct tokentap_bpf *skel,
		   struct shipper *shipper, struct held_procs *held, const struct coverage *cov,
		   uint64_t scan_overflow, const struct status_extra *extra, bool force_line)
{
	/* one sensor per process: the total at the previous report */
	static uint64_t last_drops;
	struct status_counters c;
	struct status_field f[STATUS_COUNTER_COUNT + EXTRA_FIELDS];
	size_t n = STATUS_COUNTER_COUNT;
	uint64_t drops;

	status_collect(pipe, att, skel, shipper, held, cov, scan_overflow, &c, NULL);
	status_counters_fields(&c, f);
	n += extra_fields(extra, f + n);
	pipeline_emit_status(pipe, f, n);

	drops = c.ringbuf_drops + c.truncated_writes + c.headers_truncated + c.session_overflow +
		c.aggregation_overflow + c.scan_overflow + c.spool_dropped + c.batches_rejected +
		c.batches_lost;
	if (drops != last_drops || (force_line && drops))
		log_info("drops: ringbuf=%llu truncated_writes=%llu headers_truncated=%llu "
			 "sessions=%llu aggregation=%llu scans=%llu spool=%llu rejected_batches=%llu "
			 "lost_batches=%llu",
			 (unsigned long long)c.ringbuf_drops, (unsigned long long)c.truncated_writes,
			 (unsigned long long)c.headers_truncated,
			 (unsigned long long)c.session_overflow,
			 (unsigned long long)c.aggregation_overflow, (unsigned long long)c.scan_overflow,
			 (unsigned long long)c.spool_dropped, (unsigned long long)c.batches_rejected,
			 (unsigned long long)c.batches_lost);
	last_drops = drops;
}
