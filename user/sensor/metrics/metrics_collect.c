/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics_collect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach.h"
#include "clock.h"
#include "metrics_server.h"
#include "sensor_metrics.h"
#include "shipper.h"
#include "status_report.h"
#include "tokentap.skel.h"

#define TEXT_MAX (32 * 1024)

struct metrics_collect {
	struct tokentap_bpf *skel;
	/* the ring buffer's consumer and producer position pages, read only */
	void *rb_pages;
	size_t rb_pages_len, page;
	struct sensor_metrics m;
	int64_t next_map_count;
	char text[TEXT_MAX];
};

struct metrics_collect *metrics_collect_new(struct tokentap_bpf *skel)
{
	struct metrics_collect *mc = calloc(1, sizeof(*mc));
	int fd = bpf_map__fd(skel->maps.events);

	if (!mc)
		return NULL;
	mc->skel = skel;
	mc->page = (size_t)sysconf(_SC_PAGESIZE);
	mc->rb_pages_len = 2 * mc->page;
	/* page 0 holds the consumer position, page 1 the producer's */
	mc->rb_pages = mmap(NULL, mc->rb_pages_len, PROT_READ, MAP_SHARED, fd, 0);
	if (mc->rb_pages == MAP_FAILED)
		mc->rb_pages = NULL;
	mc->m.ringbuf_size_bytes = bpf_map__max_entries(skel->maps.events);
	return mc;
}

void metrics_collect_free(struct metrics_collect *mc)
{
	if (!mc)
		return;
	if (mc->rb_pages)
		munmap(mc->rb_pages, mc->rb_pages_len);
	free(mc);
}

static uint64_t ringbuf_used(const struct metrics_collect *mc)
{
	uint64_t cons, prod;

	if (!mc->rb_pages)
		return 0;
	cons = __atomic_load_n((const unsigned long *)mc->rb_pages, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n((const unsigned long *)((const char *)mc->rb_pages + mc->page),
			       __ATOMIC_ACQUIRE);
	return prod > cons ? prod - cons : 0;
}

/* Entries of a hash map, walked key by key (bounded by its capacity). */
static uint64_t count_entries(const struct bpf_map *map)
{
	uint32_t ks = bpf_map__key_size(map), cap = bpf_map__max_entries(map);
	char *cur = calloc(2, ks ? ks : 1);
	char *next = cur ? cur + ks : NULL;
	int fd = bpf_map__fd(map);
	uint64_t n = 0;

	if (!cur)
		return 0;
	if (bpf_map_get_next_key(fd, NULL, next) == 0) {
		do {
			n++;
			memcpy(cur, next, ks);
		} while (n <= cap && bpf_map_get_next_key(fd, cur, next) == 0);
	}
	free(cur);
	return n;
}

static void count_maps(struct metrics_collect *mc)
{
	struct bpf_map *map;

	mc->m.n_maps = 0;
	bpf_object__for_each_map(map, mc->skel->obj) {
		enum bpf_map_type t = bpf_map__type(map);

		if (t != BPF_MAP_TYPE_HASH && t != BPF_MAP_TYPE_LRU_HASH)
			continue;
		if (mc->m.n_maps == SENSOR_METRICS_MAPS)
			break;
		mc->m.maps[mc->m.n_maps].name = bpf_map__name(map);
		mc->m.maps[mc->m.n_maps].capacity = bpf_map__max_entries(map);
		mc->m.maps[mc->m.n_maps].entries = count_entries(map);
		mc->m.n_maps++;
	}
}

void metrics_collect_publish(struct metrics_collect *mc, struct metrics_server *ms,
			     struct pipeline *pipe, const struct attacher *att,
			     struct shipper *shipper, struct held_procs *held,
			     const struct coverage *cov, uint64_t scan_overflow, bool started,
			     int map_interval_s)
{
	struct shipper_stats ss;
	int64_t now = clock_mono_ns();
	bool tls = attacher_tls_possible(att);
	const char *reason = !started ? "starting: attaching to the TLS libraries in use" :
			     !tls ? "TLS capture is off: uprobes cannot be attached with these capabilities (see the sensor log)" :
			     "";
	size_t len;

	if (!ms || !mc)
		return;
	status_collect(pipe, att, mc->skel, shipper, held, cov, scan_overflow, &mc->m.c, &ss);
	mc->m.attach_denied = att->attach_denied;
	mc->m.tls_capture = tls;
	mc->m.ready = started && tls;
	mc->m.ringbuf_used_bytes = ringbuf_used(mc);
	mc->m.ship_ns_sum = ss.ship_ns_sum;
	mc->m.failovers = ss.failovers;
	if (now >= mc->next_map_count) {
		count_maps(mc);
		mc->next_map_count = now + (int64_t)map_interval_s * 1000000000LL;
	}
	len = sensor_metrics_render(&mc->m, mc->text, sizeof(mc->text));
	metrics_server_publish(ms, mc->text, len, mc->m.ready, reason);
}
