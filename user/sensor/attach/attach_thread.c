/* SPDX-License-Identifier: Apache-2.0 */
#include "attach_thread.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* how soon a stop is noticed; events wake the thread at once */
#define POLL_MS 100

struct attach_thread {
	struct ring_buffer *rb;
	pthread_t thread;
	atomic_bool stopping;
};

static void *run(void *arg)
{
	struct attach_thread *t = arg;

	while (!t->stopping) {
		if (ring_buffer__poll(t->rb, POLL_MS) < 0 && errno != EINTR) {
			log_error("mapping events: %s", strerror(errno));
			break;
		}
	}
	return NULL;
}

struct attach_thread *attach_thread_start(int ring_fd, int (*on_event)(void *ctx, void *data, size_t size),
					  void *ctx)
{
	struct attach_thread *t = calloc(1, sizeof(*t));
	int e;

	if (!t)
		return NULL;
	t->rb = ring_buffer__new(ring_fd, on_event, ctx, NULL);
	if (!t->rb)
		goto fail;
	e = pthread_create(&t->thread, NULL, run, t);
	if (e != 0) {
		errno = e;
		goto fail;
	}
	return t;
fail:
	e = errno;
	ring_buffer__free(t->rb);
	free(t);
	errno = e;
	return NULL;
}

void attach_thread_stop(struct attach_thread *t)
{
	if (!t)
		return;
	t->stopping = true;
	pthread_join(t->thread, NULL);
	ring_buffer__consume(t->rb);
	ring_buffer__free(t->rb);
	free(t);
}
