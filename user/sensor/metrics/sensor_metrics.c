/* SPDX-License-Identifier: Apache-2.0 */
#include "sensor_metrics.h"

#include <stdarg.h>
#include <stdio.h>

#ifndef TOKENTAP_VERSION
#define TOKENTAP_VERSION "0"
#endif

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP tokentap_%s %s\n# TYPE tokentap_%s %s\n", name, help, name, type);
}

static void one(struct out *o, const char *name, const char *type, const char *help, uint64_t v)
{
	family(o, name, type, help);
	put(o, "tokentap_%s %llu\n", name, (unsigned long long)v);
}

size_t sensor_metrics_render(const struct sensor_metrics *m, char *buf, size_t cap)
{
	const struct status_counters *c = &m->c;
	struct out o = { buf, cap, 0, cap == 0 };
	const struct {
		const char *reason;
		uint64_t v;
	} drops[] = {
		{ "ringbuf_full", c->ringbuf_drops },
		{ "write_truncated", c->truncated_writes },
		{ "headers_truncated", c->headers_truncated },
		{ "session_table_full", c->session_overflow },
		{ "aggregation_table_full", c->aggregation_overflow },
		{ "scan_queue_full", c->scan_overflow },
		{ "spool_full", c->spool_dropped },
		{ "batch_lost", c->batches_lost },
		{ "batch_rejected", c->batches_rejected },
	};
	const struct {
		const char *lib;
		uint64_t v;
	} libs[] = {
		{ "openssl", c->attached_openssl }, { "gnutls", c->attached_gnutls },
		{ "go", c->attached_go }, { "nss", c->attached_nss },
		{ "rustls", c->attached_rustls },
	};

	put(&o, "# HELP tokentap_build_info The sensor's version.\n# TYPE tokentap_build_info gauge\n"
		"tokentap_build_info{version=\"%s\"} 1\n", TOKENTAP_VERSION);
	one(&o, "ready", "gauge", "1 when the sensor is attached and can capture TLS (as /readyz).", m->ready);
	one(&o, "tls_capture_possible", "gauge",
	    "1 when uprobes can be attached with the sensor's capabilities.", m->tls_capture);
	one(&o, "events_total", "counter", "Events the BPF programs wrote to the ring buffer.", c->events);
	one(&o, "requests_total", "counter", "HTTP requests parsed.", c->requests);
	one(&o, "credentials_total", "counter", "Credentials found in requests.", c->credentials);
	one(&o, "parse_errors_total", "counter", "Captured writes that did not parse as HTTP.", c->parse_errors);
	family(&o, "drops_total", "counter", "Events or batches lost, by reason.");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		put(&o, "tokentap_drops_total{reason=\"%s\"} %llu\n", drops[i].reason,
		    (unsigned long long)drops[i].v);
	one(&o, "tracepoints", "gauge", "Syscall and scheduler tracepoints attached.", c->tracepoints);
	family(&o, "attached_files", "gauge", "TLS libraries and executables with probes, by library.");
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		put(&o, "tokentap_attached_files{library=\"%s\"} %llu\n", libs[i].lib,
		    (unsigned long long)libs[i].v);
	one(&o, "uprobes", "gauge", "uprobes attached.", c->uprobes);
	one(&o, "attach_errors_total", "counter", "uprobe attachments that failed.", c->attach_errors);
	one(&o, "attach_denied_total", "counter",
	    "uprobe attachments the kernel refused for want of a capability.", m->attach_denied);
	one(&o, "detached_files_total", "counter", "Attachments released after their last user exited.",
	    c->detached_files);
	one(&o, "ringbuf_used_bytes", "gauge", "Bytes waiting in the BPF ring buffer.", m->ringbuf_used_bytes);
	one(&o, "ringbuf_size_bytes", "gauge", "Size of the BPF ring buffer.", m->ringbuf_size_bytes);
	family(&o, "bpf_map_entries", "gauge", "Entries in a BPF map.");
	for (size_t i = 0; i < m->n_maps; i++)
		put(&o, "tokentap_bpf_map_entries{map=\"%s\"} %llu\n", m->maps[i].name,
		    (unsigned long long)m->maps[i].entries);
	family(&o, "bpf_map_capacity_entries", "gauge", "Entries a BPF map can hold.");
	for (size_t i = 0; i < m->n_maps; i++)
		put(&o, "tokentap_bpf_map_capacity_entries{map=\"%s\"} %llu\n", m->maps[i].name,
		    (unsigned long long)m->maps[i].capacity);
	one(&o, "sessions_total", "counter", "TLS and HTTP sessions tracked.", c->sessions);
	one(&o, "spool_bytes", "gauge", "Batches waiting in the spool, in bytes.", c->spool_bytes);
	one(&o, "spool_batches", "gauge", "Batches waiting in the spool.", c->spool_batches);
	one(&o, "spool_write_failures_total", "counter",
	    "Batches the spool could not take (a full disk): held in memory, or lost.",
	    c->spool_write_failures);
	one(&o, "batches_held", "gauge", "Batches held in memory until the spool takes them.",
	    c->batches_held);
	one(&o, "batches_sent_total", "counter", "Batches the collector acknowledged.", c->batches_sent);
	one(&o, "batch_retries_total", "counter", "Failed uploads that will be retried.", c->batch_retries);
	one(&o, "collector_failovers_total", "counter", "Moves to the next collector after a failure.",
	    m->failovers);
	family(&o, "ship_duration_seconds", "summary", "Time of the acknowledged batch uploads.");
	put(&o, "tokentap_ship_duration_seconds_sum %.6f\ntokentap_ship_duration_seconds_count %llu\n",
	    (double)m->ship_ns_sum / 1e9, (unsigned long long)c->batches_sent);
	one(&o, "pods_cached", "gauge", "Pods in the pod watcher's cache (deleted ones kept a while).",
	    c->pods_cached);
	one(&o, "kube_api_errors_total", "counter", "Kubernetes API requests that failed.",
	    c->kube_api_errors);
	one(&o, "held_credentials_scanned_total", "counter", "Processes scanned for held credentials.",
	    c->held_scanned);
	one(&o, "tls_uncovered_reports_total", "counter",
	    "Programs and destinations reported sending TLS the sensor cannot read.",
	    c->tls_uncovered_reports);
	one(&o, "tls_uncovered_sockets_total", "counter",
	    "Sockets seen sending TLS records from processes with no TLS probe fired.",
	    c->tls_uncovered_sockets);
	return o.full ? 0 : o.len;
}
