/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const reason_names[REJECT__COUNT] = {
	[REJECT_UNAUTHORIZED] = "unauthorized",
	[REJECT_FORBIDDEN] = "forbidden",
	[REJECT_UNSUPPORTED_MEDIA_TYPE] = "unsupported_media_type",
	[REJECT_BODY_TOO_LARGE] = "body_too_large",
	[REJECT_DECOMPRESSED_TOO_LARGE] = "decompressed_too_large",
	[REJECT_BAD_GZIP] = "bad_gzip",
	[REJECT_BAD_PROTOBUF] = "bad_protobuf",
	[REJECT_INVALID_BATCH] = "invalid_batch",
	[REJECT_STORE_ERROR] = "store_error",
	[REJECT_NOT_FOUND] = "not_found",
	[REJECT_METHOD_NOT_ALLOWED] = "method_not_allowed",
	[REJECT_BAD_REQUEST] = "bad_request",
};

static const char *const kind_names[METRICS_EVENT_KINDS] = {
	"unknown", "token_seen", "token_usage", "process_info", "sensor_status",
	"token_held", "revocation_result", "tls_uncovered",
};

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bucket_le[METRICS_LATENCY_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

void metrics_init(struct metrics *m)
{
	atomic_init(&m->batches, 0);
	atomic_init(&m->duplicates, 0);
	atomic_init(&m->leader, 0);
	for (int i = 0; i < METRICS_EVENT_KINDS; i++)
		atomic_init(&m->events[i], 0);
	for (int i = 0; i < REJECT__COUNT; i++)
		atomic_init(&m->rejects[i], 0);
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++)
		atomic_init(&m->latency_bucket[i], 0);
	atomic_init(&m->latency_count, 0);
	atomic_init(&m->latency_sum_ns, 0);
}

const char *reject_reason_name(enum reject_reason r)
{
	return (unsigned)r < REJECT__COUNT ? reason_names[r] : "unknown";
}

void metrics_reject(struct metrics *m, enum reject_reason r)
{
	if ((unsigned)r < REJECT__COUNT)
		atomic_fetch_add(&m->rejects[r], 1);
}

void metrics_store_latency(struct metrics *m, uint64_t ns)
{
	int i = 0;

	while (i < METRICS_LATENCY_BUCKETS - 1 && (double)ns / 1e9 > bucket_le[i])
		i++;
	atomic_fetch_add(&m->latency_bucket[i], 1);
	atomic_fetch_add(&m->latency_count, 1);
	atomic_fetch_add(&m->latency_sum_ns, ns);
}

static unsigned long long ld(atomic_uint_fast64_t *v)
{
	return (unsigned long long)atomic_load(v);
}

char *metrics_render(struct metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	unsigned long long cum = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	fprintf(f, "# HELP tokentap_collector_batches_total Batches stored.\n"
		   "# TYPE tokentap_collector_batches_total counter\n"
		   "tokentap_collector_batches_total %llu\n", ld(&m->batches));
	fprintf(f, "# HELP tokentap_collector_duplicate_batches_total Batches received again"
		   " and ignored.\n"
		   "# TYPE tokentap_collector_duplicate_batches_total counter\n"
		   "tokentap_collector_duplicate_batches_total %llu\n", ld(&m->duplicates));
	fprintf(f, "# HELP tokentap_collector_leader 1 while this collector runs the risk engine"
		   " and alert deliveries (one replica per database).\n"
		   "# TYPE tokentap_collector_leader gauge\n"
		   "tokentap_collector_leader %d\n", atomic_load(&m->leader));
	fprintf(f, "# HELP tokentap_collector_events_total Events stored, by kind.\n"
		   "# TYPE tokentap_collector_events_total counter\n");
	for (int i = 1; i < METRICS_EVENT_KINDS; i++)
		fprintf(f, "tokentap_collector_events_total{kind=\"%s\"} %llu\n", kind_names[i],
			ld(&m->events[i]));
	fprintf(f, "# HELP tokentap_collector_rejects_total Requests refused, by reason.\n"
		   "# TYPE tokentap_collector_rejects_total counter\n");
	for (int i = 0; i < REJECT__COUNT; i++)
		fprintf(f, "tokentap_collector_rejects_total{reason=\"%s\"} %llu\n", reason_names[i],
			ld(&m->rejects[i]));
	fprintf(f, "# HELP tokentap_collector_store_seconds Time to apply one batch to the"
		   " store.\n"
		   "# TYPE tokentap_collector_store_seconds histogram\n");
	for (int i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
		cum += ld(&m->latency_bucket[i]);
		if (i < METRICS_LATENCY_BUCKETS - 1)
			fprintf(f, "tokentap_collector_store_seconds_bucket{le=\"%g\"} %llu\n",
				bucket_le[i], cum);
		else
			fprintf(f, "tokentap_collector_store_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	fprintf(f, "tokentap_collector_store_seconds_sum %.6f\n",
		(double)ld(&m->latency_sum_ns) / 1e9);
	fprintf(f, "tokentap_collector_store_seconds_count %llu\n", ld(&m->latency_count));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
