/* SPDX-License-Identifier: Apache-2.0 */
#include "retention_task.h"
#include "clock.h"
#include "log.h"
#include "napper.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct retention_task {
	struct store *st;
	struct retention_policy policy;
	int64_t every_ms;
	struct napper nap;
	pthread_t thread;
};

static void log_pass(const struct retention_stats *s)
{
	if (!(s->minutes_rolled | s->hours_rolled | s->days_dropped | s->batches_pruned |
	      s->sightings_pruned | s->deliveries_pruned | s->coverage_pruned))
		return;
	log_info("retention: %llu minute rows rolled up to hours, %llu hour rows to days,"
		 " %llu day rows dropped; pruned %llu batch keys, %llu sightings,"
		 " %llu delivery log rows, %llu coverage rows",
		 (unsigned long long)s->minutes_rolled, (unsigned long long)s->hours_rolled,
		 (unsigned long long)s->days_dropped, (unsigned long long)s->batches_pruned,
		 (unsigned long long)s->sightings_pruned, (unsigned long long)s->deliveries_pruned,
		 (unsigned long long)s->coverage_pruned);
}

static void *retention_main(void *arg)
{
	struct retention_task *t = arg;
	char err[512];

	do {
		struct retention_stats s = { 0 };

		if (store_retain(t->st, &t->policy, clock_real_ms(), &s, err, sizeof(err)) < 0)
			log_warn("retention pass failed (next try in %lld s): %s",
				 (long long)(t->every_ms / 1000), err);
		log_pass(&s);
	} while (napper_nap(&t->nap, (long)t->every_ms));
	return NULL;
}

struct retention_task *retention_task_start(struct store *st, const struct retention_policy *p,
					    int64_t every_ms, char *err, size_t errlen)
{
	struct retention_task *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "retention: out of memory");
		return NULL;
	}
	t->st = st;
	t->policy = *p;
	t->every_ms = every_ms;
	napper_init(&t->nap);
	if (pthread_create(&t->thread, NULL, retention_main, t) != 0) {
		snprintf(err, errlen, "retention: cannot start its thread");
		napper_destroy(&t->nap);
		free(t);
		return NULL;
	}
	return t;
}

void retention_task_stop(struct retention_task *t)
{
	if (!t)
		return;
	napper_stop(&t->nap);
	pthread_join(t->thread, NULL);
	napper_destroy(&t->nap);
	free(t);
}
