/* SPDX-License-Identifier: Apache-2.0 */
#include "hold_watch.h"

#include <bpf/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define SCAN_EVERY_NS (5LL * 1000 * 1000)
#define SCAN_MAX 4096

struct hold_watch {
	int fd;
	pthread_t thread;
	atomic_bool stopping;
	atomic_uint_fast64_t timeouts;
};

/* Continues the processes held since before cutoff_ns (all: INT64_MAX). */
static void continue_old(struct hold_watch *w, int64_t cutoff_ns)
{
	uint32_t keys[SCAN_MAX], key, next;
	size_t n = 0;
	void *prev = NULL;

	/* collect first: deleting while walking would restart the walk */
	while (n < SCAN_MAX && bpf_map_get_next_key(w->fd, prev, &next) == 0) {
		uint64_t ts;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(w->fd, &key, &ts) == 0 && (int64_t)ts < cutoff_ns)
			keys[n++] = key;
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_delete_elem(w->fd, &keys[i]) != 0)
			continue; /* the main loop continued it meanwhile */
		kill((pid_t)keys[i], SIGCONT);
		if (cutoff_ns != INT64_MAX)
			w->timeouts++;
	}
}

static void *watch(void *arg)
{
	struct hold_watch *w = arg;
	struct timespec gap = { 0, SCAN_EVERY_NS };

	while (!w->stopping) {
		continue_old(w, clock_mono_ns() - HOLD_DEADLINE_MS * 1000000LL);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

struct hold_watch *hold_watch_start(int held_fd)
{
	struct hold_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = held_fd;
	if (pthread_create(&w->thread, NULL, watch, w) != 0) {
		free(w);
		return NULL;
	}
	return w;
}

void hold_watch_release(struct hold_watch *w, uint32_t pid)
{
	if (w)
		bpf_map_delete_elem(w->fd, &pid);
}

uint64_t hold_watch_timeouts(const struct hold_watch *w)
{
	return w ? w->timeouts : 0;
}

void hold_watch_stop(struct hold_watch *w)
{
	if (!w)
		return;
	w->stopping = true;
	pthread_join(w->thread, NULL);
	continue_old(w, INT64_MAX);
	free(w);
}
