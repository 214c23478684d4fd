/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reaper thread that destroys released uprobe links: every item queued
 * is destroyed exactly once, a full queue is refused (the caller destroys
 * inline), and a stop destroys what is left even during a busy period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>

#include <cmocka.h>

#include "link_reaper.h"

#define ITEMS 100

static atomic_int destroyed[LINK_REAPER_QUEUE + 2];
static int ids[LINK_REAPER_QUEUE + 2];
static sem_t entered, proceed;
static atomic_bool block_first;

static void reset(void)
{
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ids[i] = (int)i;
		destroyed[i] = 0;
	}
	block_first = false;
}

static void destroy(void *item)
{
	int id = *(int *)item;

	/* the first item can be made to wait: the queue stays as the test left it */
	if (block_first && id == 0) {
		sem_post(&entered);
		sem_wait(&proceed);
	}
	destroyed[id]++;
}

static void test_every_item_once(void **state)
{
	struct link_reaper *r;
	uint64_t done, pending;

	(void)state;
	reset();
	r = link_reaper_start(destroy);
	assert_non_null(r);
	for (int i = 0; i < ITEMS; i++)
		assert_true(link_reaper_put(r, &ids[i]));
	link_reaper_stop(r);
	for (int i = 0; i < ITEMS; i++)
		assert_int_equal(destroyed[i], 1);
	assert_int_equal(destroyed[ITEMS], 0);

	r = link_reaper_start(destroy);
	assert_non_null(r);
	link_reaper_counts(r, &done, &pending);
	assert_int_equal(done, 0);
	assert_int_equal(pending, 0);
	link_reaper_stop(r);
}

static void test_full_queue_refused(void **state)
{
	struct link_reaper *r;
	uint64_t done, pending;

	(void)state;
	reset();
	sem_init(&entered, 0, 0);
	sem_init(&proceed, 0, 0);
	block_first = true;
	r = link_reaper_start(destroy);
	assert_non_null(r);
	assert_true(link_reaper_put(r, &ids[0]));
	/* item 0 is out of the queue and being destroyed */
	sem_wait(&entered);
	for (int i = 1; i <= LINK_REAPER_QUEUE; i++)
		assert_true(link_reaper_put(r, &ids[i]));
	assert_false(link_reaper_put(r, &ids[LINK_REAPER_QUEUE + 1]));
	link_reaper_counts(r, &done, &pending);
	assert_int_equal(done, 0);
	assert_int_equal(pending, LINK_REAPER_QUEUE);
	sem_post(&proceed);
	link_reaper_stop(r);
	for (int i = 0; i <= LINK_REAPER_QUEUE; i++)
		assert_int_equal(destroyed[i], 1);
	/* refused: left to the caller */
	assert_int_equal(destroyed[LINK_REAPER_QUEUE + 1], 0);
	sem_destroy(&entered);
	sem_destroy(&proceed);
}

static void test_stop_during_busy_period(void **state)
{
	struct link_reaper *r;

	(void)state;
	reset();
	r = link_reaper_start(destroy);
	assert_non_null(r);
	/* an attachment under way: destruction is deferred, but a stop does not wait for quiet */
	link_reaper_busy(r);
	assert_true(link_reaper_put(r, &ids[0]));
	assert_true(link_reaper_put(r, &ids[1]));
	link_reaper_stop(r);
	assert_int_equal(destroyed[0], 1);
	assert_int_equal(destroyed[1], 1);
}

static void test_null(void **state)
{
	(void)state;
	assert_false(link_reaper_put(NULL, &ids[0]));
	link_reaper_busy(NULL);
	link_reaper_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_item_once),
		cmocka_unit_test(test_full_queue_refused),
		cmocka_unit_test(test_stop_during_busy_period),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
