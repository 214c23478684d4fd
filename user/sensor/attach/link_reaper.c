/* SPDX-License-Identifier: Apache-2.0 */
#include "link_reaper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

struct link_reaper {
	void (*destroy)(void *item);
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	void *queue[LINK_REAPER_QUEUE]; /* a ring: head is the oldest */
	size_t head, n;
	uint64_t done;
	atomic_int_fast64_t busy_ns; /* the last link_reaper_busy (CLOCK_MONOTONIC) */
};

/* Sleeps until LINK_REAPER_QUIET_MS without attachments, a full half queue, or a stop. Locked. */
static void wait_quiet(struct link_reaper *r)
{
	for (;;) {
		int64_t left = r->busy_ns + LINK_REAPER_QUIET_MS * 1000000LL - clock_mono_ns();
		struct timespec ts;

		if (left <= 0 || r->stopping || r->n >= LINK_REAPER_QUEUE / 2)
			return;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000000000LL;
		ts.tv_nsec += left % 1000000000LL;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
}

static void *reap(void *arg)
{
	struct link_reaper *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		void *item;

		while (r->n == 0 && !r->stopping)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->n == 0)
			break;
		wait_quiet(r);
		item = r->queue[r->head];
		r->head = (r->head + 1) % LINK_REAPER_QUEUE;
		r->n--;
		/* the slow part, unlocked: put() never waits for the kernel */
		pthread_mutex_unlock(&r->lock);
		r->destroy(item);
		pthread_mutex_lock(&r->lock);
		r->done++;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct link_reaper *link_reaper_start(void (*destroy)(void *item))
{
	struct link_reaper *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->destroy = destroy;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, reap, r) != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	return r;
}

bool link_reaper_put(struct link_reaper *r, void *item)
{
	bool queued = false;

	if (!r)
		return false;
	pthread_mutex_lock(&r->lock);
	if (r->n < LINK_REAPER_QUEUE && !r->stopping) {
		r->queue[(r->head + r->n) % LINK_REAPER_QUEUE] = item;
		r->n++;
		queued = true;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return queued;
}

void link_reaper_busy(struct link_reaper *r)
{
	if (r)
		r->busy_ns = clock_mono_ns();
}

void link_reaper_counts(struct link_reaper *r, uint64_t *done, uint64_t *pending)
{
	pthread_mutex_lock(&r->lock);
	*done = r->done;
	*pending = r->n;
	pthread_mutex_unlock(&r->lock);
}

void link_reaper_stop(struct link_reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	/* the thread empties the queue before it returns */
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
