/* SPDX-License-Identifier: Apache-2.0 */
/* The load generator's fleet model (tests/bench/loadgen/fleet.c): its invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fleet.h"

#define T0 1767225600000LL
#define SENSORS 40
#define SENDS_PER_SENSOR 60

static struct fleet_config config(uint64_t seed, double dup, double restart)
{
	return (struct fleet_config){ .sensors = SENSORS, .seed = seed, .events_per_batch = 50,
				      .dup_rate = dup, .restart_rate = restart, .t0_ms = T0,
				      .interval_ms = 10000 };
}

static struct fleet *make(const struct fleet_config *c)
{
	char err[128];
	struct fleet *f = fleet_new(c, err, sizeof(err));

	assert_non_null(f);
	return f;
}

/* FNV-1a over every field of a batch's events, so two contents compare by value. */
static uint64_t content_hash(const struct fleet_batch *b)
{
	uint64_t h = 1469598103934665603ULL;

#define MIXIN(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
	MIXIN(b->sensor);
	MIXIN(b->seq);
	MIXIN(b->boot);
	MIXIN(b->sent_at_ms);
	MIXIN(b->n_events);
	for (size_t i = 0; i < b->n_events; i++) {
		const struct fleet_event *e = &b->events[i];

		MIXIN(e->kind);
		MIXIN(e->token);
		MIXIN(e->proc);
		MIXIN(e->pid);
		MIXIN(e->workload);
		MIXIN(e->dst);
		MIXIN(e->count);
		MIXIN(e->ts_ms);
	}
#undef MIXIN
	return h;
}

struct record {
	uint32_t sensor;
	uint64_t seq;
	enum fleet_kind kind;
	uint64_t hash;
};

/* Drives every sensor SENDS_PER_SENSOR times, round-robin or sensor by sensor. */
static struct record *drive(struct fleet *f, int by_sensor)
{
	struct record *out = calloc(SENSORS * SENDS_PER_SENSOR, sizeof(*out));
	struct fleet_batch b = { .events = calloc(fleet_max_events(f), sizeof(struct fleet_event)) };

	assert_non_null(out);
	assert_non_null(b.events);
	for (int k = 0; k < SENSORS * SENDS_PER_SENSOR; k++) {
		uint32_t s = by_sensor ? (uint32_t)(k / SENDS_PER_SENSOR) : (uint32_t)(k % SENSORS);
		int n = by_sensor ? k % SENDS_PER_SENSOR : k / SENSORS;

		fleet_next(f, s, &b);
		assert_int_equal(b.sensor, s);
		assert_true(b.n_events >= 1 && b.n_events <= fleet_max_events(f));
		out[s * SENDS_PER_SENSOR + n] =
			(struct record){ s, b.seq, b.kind, content_hash(&b) };
	}
	free(b.events);
	return out;
}

static void test_deterministic_for_a_seed(void **state)
{
	struct fleet_config c = config(7, 0.2, 0.1);
	struct fleet *a = make(&c), *b = make(&c), *d;
	struct record *ra = drive(a, 0), *rb = drive(b, 1), *rd;

	(void)state;
	/* the same per-sensor sends whatever order the sensors are driven in */
	assert_memory_equal(ra, rb, SENSORS * SENDS_PER_SENSOR * sizeof(*ra));
	assert_memory_equal(fleet_totals(a), fleet_totals(b), sizeof(struct fleet_totals));
	for (uint32_t t = 0; t < fleet_tokens(a); t++)
		assert_int_equal(fleet_token_requests(a, t), fleet_token_requests(b, t));
	/* another seed, another fleet */
	c.seed = 8;
	d = make(&c);
	rd = drive(d, 0);
	assert_true(memcmp(ra, rd, SENSORS * SENDS_PER_SENSOR * sizeof(*ra)) != 0);
	free(ra);
	free(rb);
	free(rd);
	fleet_free(a);
	fleet_free(b);
	fleet_free(d);
}

static void test_seqs_increase_and_resends_repeat(void **state)
{
	struct fleet_config c = config(11, 0.15, 0.08);
	struct fleet *f = make(&c);
	struct record *r = drive(f, 0);
	/* the content of each new (sensor, seq): seqs are dense from 1 */
	uint64_t *first = calloc(SENSORS * (SENDS_PER_SENSOR + 1), sizeof(*first));
	unsigned dups = 0, replays = 0, news = 0;

	(void)state;
	assert_non_null(first);
	for (uint32_t s = 0; s < SENSORS; s++) {
		uint64_t last = 0;

		for (int n = 0; n < SENDS_PER_SENSOR; n++) {
			const struct record *x = &r[s * SENDS_PER_SENSOR + n];

			if (x->kind == FLEET_NEW) {
				assert_int_equal(x->seq, last + 1);
				last = x->seq;
				first[s * (SENDS_PER_SENSOR + 1) + x->seq] = x->hash;
				news++;
				continue;
			}
			/* a duplicate or a replay: a seq already sent, with the same content */
			assert_true(x->seq >= 1 && x->seq <= last);
			assert_true(last - x->seq < 3 || x->kind == FLEET_DUP);
			assert_int_equal(x->hash, first[s * (SENDS_PER_SENSOR + 1) + x->seq]);
			if (x->kind == FLEET_DUP)
				dups++;
			else
				replays++;
		}
		assert_int_equal(fleet_sent(f, s), last);
	}
	/* with these rates both kinds occur */
	assert_true(dups > 0);
	assert_true(replays > 0);
	assert_int_equal(fleet_totals(f)->dups, dups);
	assert_int_equal(fleet_totals(f)->replays, replays);
	assert_int_equal(fleet_totals(f)->batches, news);
	assert_int_equal(fleet_totals(f)->sends, SENSORS * SENDS_PER_SENSOR);
	free(first);
	free(r);
	fleet_free(f);
}

/* The totals are the sums over the new batches, each (sensor, seq) once. */
static void test_totals_count_each_batch_once(void **state)
{
	struct fleet_config c = config(3, 0.3, 0.1);
	struct fleet *f = make(&c);
	struct fleet_batch b = { .events = calloc(fleet_max_events(f), sizeof(struct fleet_event)) };
	uint32_t nt = fleet_tokens(f);
	uint64_t *req = calloc(nt, sizeof(*req)), events = 0, requests = 0, batches = 0;
	unsigned char *known = calloc(nt, 1);
	const struct fleet_totals *t;

	(void)state;
	assert_non_null(req);
	assert_non_null(known);
	for (int k = 0; k < 2000; k++) {
		fleet_next(f, (uint32_t)(k * 7 % SENSORS), &b);
		if (b.kind != FLEET_NEW)
			continue;
		batches++;
		events += b.n_events;
		for (size_t i = 0; i < b.n_events; i++) {
			const struct fleet_event *e = &b.events[i];

			if (e->kind == FE_STATUS || e->kind == FE_PROCESS)
				continue;
			assert_true(e->token < nt);
			known[e->token] = 1;
			if (e->kind == FE_USAGE) {
				assert_true(e->count >= 1);
				req[e->token] += e->count;
				requests += e->count;
			}
		}
	}
	t = fleet_totals(f);
	assert_int_equal(t->batches, batches);
	assert_int_equal(t->events, events);
	assert_int_equal(t->requests, requests);
	assert_int_equal(t->sends, 2000);
	assert_int_equal(t->sends, t->batches + t->dups + t->replays);
	for (uint32_t i = 0; i < nt; i++) {
		assert_int_equal(fleet_token_requests(f, i), req[i]);
		assert_int_equal(fleet_token_known(f, i), known[i]);
	}
	free(req);
	free(known);
	free(b.events);
	fleet_free(f);
}

/* A sensor life opens with its processes, held tokens and first sightings. */
static void test_boot_batches(void **state)
{
	struct fleet_config c = config(5, 0, 1);
	struct fleet *f = make(&c);
	struct fleet_batch b = { .events = calloc(fleet_max_events(f), sizeof(struct fleet_event)) };
	int kinds[5] = { 0 };
	uint32_t held_only = 0;

	(void)state;
	/* restart after every batch: new seqs are all boots, each followed by replays */
	for (int k = 0; k < 30; k++) {
		fleet_next(f, 0, &b);
		assert_true(b.boot);
		if (b.kind == FLEET_NEW) {
			memset(kinds, 0, sizeof(kinds));
			for (size_t i = 0; i < b.n_events; i++)
				kinds[b.events[i].kind]++;
			assert_int_equal(kinds[FE_STATUS], 1);
			assert_true(kinds[FE_PROCESS] >= 2);
			assert_true(kinds[FE_HELD] >= 2 * kinds[FE_PROCESS]);
			assert_true(kinds[FE_SEEN] >= 2 * kinds[FE_PROCESS]);
			assert_true(kinds[FE_USAGE] <= 49);
		}
	}
	assert_true(fleet_totals(f)->restarts >= 10);
	/* no restart, no duplicate: one boot, then plain batches of status + usage */
	fleet_free(f);
	c = config(5, 0, 0);
	f = make(&c);
	for (int k = 0; k < 10; k++) {
		fleet_next(f, 1, &b);
		assert_int_equal(b.kind, FLEET_NEW);
		assert_int_equal(b.seq, (uint64_t)k + 1);
		assert_int_equal(b.boot, k == 0);
		if (k)
			assert_true(b.n_events <= 50);
	}
	assert_int_equal(fleet_totals(f)->dups + fleet_totals(f)->replays, 0);
	/* some tokens are only ever held: known, no requests */
	for (uint32_t s = 0; s < SENSORS; s++)
		fleet_next(f, s, &b);
	for (uint32_t t = 0; t < fleet_tokens(f); t++)
		held_only += fleet_token_known(f, t) && fleet_token_requests(f, t) == 0;
	assert_true(held_only > 0);
	free(b.events);
	fleet_free(f);
}

static void test_names_and_bounds(void **state)
{
	struct fleet_config c = config(9, 0, 0);
	struct fleet *f = make(&c), *g;
	char fp[33], fp2[33], err[128];

	(void)state;
	fleet_fingerprint(f, 0, fp);
	assert_int_equal(strlen(fp), 32);
	assert_int_equal(strspn(fp, "0123456789abcdef"), 32);
	fleet_fingerprint(f, 1, fp2);
	assert_string_not_equal(fp, fp2);
	c.seed = 10;
	g = make(&c);
	fleet_fingerprint(g, 0, fp2);
	assert_string_not_equal(fp, fp2);
	fleet_free(g);
	fleet_free(f);
	c = config(1, 0, 0);
	c.sensors = 0;
	assert_null(fleet_new(&c, err, sizeof(err)));
	c = config(1, 1.5, 0);
	assert_null(fleet_new(&c, err, sizeof(err)));
	c = config(1, 0, 0);
	c.events_per_batch = 1;
	assert_null(fleet_new(&c, err, sizeof(err)));
	c = config(1, 0, 0);
	c.t0_ms = 0;
	assert_null(fleet_new(&c, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic_for_a_seed),
		cmocka_unit_test(test_seqs_increase_and_resends_repeat),
		cmocka_unit_test(test_totals_count_each_batch_once),
		cmocka_unit_test(test_boot_batches),
		cmocka_unit_test(test_names_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
