/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded history for the SQLite store: per-minute usage folded into
 * hours, hours into days, old days dropped; old batch keys, sightings and
 * delivery log rows pruned. Each step is its own short transaction under
 * the store's lock, so a batch arriving meanwhile waits for one step at
 * most, never for the whole pass. Nothing here touches the inventory's
 * counters (tokens, observations): totals and first/last seen stay exact.
 */
#include "sqlite_store.h"

#include "clock.h"

#include <stdio.h>

/* Sightings deleted per transaction. */
#define SIGHTINGS_STEP 5000

enum retain_stmt {
	RT_OLDEST_MINUTE,
	RT_FOLD_MINUTES,
	RT_DROP_MINUTES,
	RT_OLDEST_HOUR,
	RT_FOLD_HOURS,
	RT_DROP_HOURS,
	RT_DROP_DAYS,
	RT_WATERMARK,
	RT_DROP_BATCHES,
	RT_READ_CURSOR,
	RT_DROP_SIGHTINGS,
	RT_DROP_DELIVERIES,
	RT_DROP_COVERAGE,
	RT__COUNT
};

static const char *const retain_sql[RT__COUNT] = {
	[RT_OLDEST_MINUTE] = "SELECT MIN(minute) FROM usage",
	/* ?1 <= minute < ?2; the WHERE also settles the upsert's parsing ambiguity */
	[RT_FOLD_MINUTES] =
		"INSERT INTO usage_hour (obs_id, hour, count) SELECT obs_id, minute - minute % 3600000,"
		" SUM(count) FROM usage WHERE minute >= ?1 AND minute < ?2"
		" GROUP BY obs_id, minute - minute % 3600000"
		" ON CONFLICT (obs_id, hour) DO UPDATE SET count = count + excluded.count",
	[RT_DROP_MINUTES] = "DELETE FROM usage WHERE minute >= ?1 AND minute < ?2",
	[RT_OLDEST_HOUR] = "SELECT MIN(hour) FROM usage_hour",
	[RT_FOLD_HOURS] =
		"INSERT INTO usage_day (obs_id, day, count) SELECT obs_id, hour - hour % 86400000,"
		" SUM(count) FROM usage_hour WHERE hour >= ?1 AND hour < ?2"
		" GROUP BY obs_id, hour - hour % 86400000"
		" ON CONFLICT (obs_id, day) DO UPDATE SET count = count + excluded.count",
	[RT_DROP_HOURS] = "DELETE FROM usage_hour WHERE hour >= ?1 AND hour < ?2",
	[RT_DROP_DAYS] = "DELETE FROM usage_day WHERE day < ?1",
	/* the highest seq each sensor loses from the dedupe table (schema 5's trigger) */
	[RT_WATERMARK] =
		"UPDATE sensors SET pruned_seq = MAX(pruned_seq, (SELECT MAX(b.seq) FROM batches b"
		" WHERE b.sensor_id = sensors.sensor_id AND b.received_at < ?1))"
		" WHERE sensor_id IN (SELECT sensor_id FROM batches WHERE received_at < ?1)",
	[RT_DROP_BATCHES] = "DELETE FROM batches WHERE received_at < ?1",
	[RT_READ_CURSOR] = "SELECT value FROM risk_state WHERE name = 'seen_log'",
	/*
	 * Old sightings the engine has read (id <= ?2), but never a token's
	 * earliest: the rules read a token's first use and whether it was
	 * ever seen from here.
	 */
	[RT_DROP_SIGHTINGS] =
		"DELETE FROM seen_log WHERE id IN (SELECT s.id FROM seen_log s WHERE s.ts < ?1"
		" AND s.id <= ?2 AND s.ts > (SELECT MIN(m.ts) FROM seen_log m"
		" WHERE m.fingerprint = s.fingerprint) LIMIT ?3)",
	[RT_DROP_DELIVERIES] = "DELETE FROM deliveries WHERE ts < ?1",
	[RT_DROP_COVERAGE] = "DELETE FROM coverage WHERE last_seen < ?1",
};

const struct sq_stmts sqlite_retain_stmts = { retain_sql, RT__COUNT, NULL };

static sqlite3_stmt *stmt(struct sqlite_store *st, enum retain_stmt i)
{
	return sq_stmt(&st->stmts[SQM_RETAIN], i);
}

/*
 * Runs the bound statements of one step in a transaction; the rows the
 * last one changed, or -1. The caller holds st->lock.
 */
static int64_t step(struct sqlite_store *st, const struct sq_err *e, const char *what,
		    sqlite3_stmt *const *s, int n)
{
	int64_t changed = 0;

	if (sq_begin(e, what) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (sq_run(e, s[i], what) < 0) {
			sq_rollback(st->db);
			return -1;
		}
		changed = sqlite3_changes(st->db);
	}
	return sq_commit(e, what) < 0 ? -1 : changed;
}

static int64_t oldest(struct sqlite_store *st, enum retain_stmt i)
{
	int64_t v;

	pthread_mutex_lock(&st->lock);
	v = sq_one_int(stmt(st, i), INT64_MAX);
	pthread_mutex_unlock(&st->lock);
	return v;
}

/*
 * Folds rows of a fine table older than cutoff into the coarse one, one
 * coarse bucket (width) per transaction, oldest first.
 */
static int fold(struct sqlite_store *st, const struct sq_err *e, enum retain_stmt first,
		enum retain_stmt ins, enum retain_stmt del, int64_t width, int64_t cutoff,
		const char *what, uint64_t *rolled)
{
	for (;;) {
		int64_t lo = oldest(st, first), hi;
		sqlite3_stmt *s[2];
		int64_t n;

		if (lo == INT64_MAX || lo >= cutoff)
			return 0;
		/* a whole bucket (floored for negative times too), never past the cutoff */
		hi = lo - ((lo % width) + width) % width + width;
		if (hi > cutoff)
			hi = cutoff;
		pthread_mutex_lock(&st->lock);
		s[0] = stmt(st, ins);
		s[1] = stmt(st, del);
		for (int k = 0; k < 2; k++) {
			sqlite3_bind_int64(s[k], 1, lo);
			sqlite3_bind_int64(s[k], 2, hi);
		}
		n = step(st, e, what, s, 2);
		pthread_mutex_unlock(&st->lock);
		if (n <= 0)
			return (int)n; /* 0: nothing moved, the oldest row is gone meanwhile */
		*rolled += (uint64_t)n;
	}
}

static int drop_before(struct sqlite_store *st, const struct sq_err *e, enum retain_stmt i,
		       int64_t cutoff, const char *what, uint64_t *dropped)
{
	sqlite3_stmt *s;
	int64_t n;

	pthread_mutex_lock(&st->lock);
	s = stmt(st, i);
	sqlite3_bind_int64(s, 1, cutoff);
	n = step(st, e, what, &s, 1);
	pthread_mutex_unlock(&st->lock);
	if (n < 0)
		return -1;
	*dropped += (uint64_t)n;
	return 0;
}

static int prune_batches(struct sqlite_store *st, const struct sq_err *e, int64_t cutoff,
			 uint64_t *dropped)
{
	sqlite3_stmt *s[2];
	int64_t n;

	pthread_mutex_lock(&st->lock);
	s[0] = stmt(st, RT_WATERMARK);
	s[1] = stmt(st, RT_DROP_BATCHES);
	sqlite3_bind_int64(s[0], 1, cutoff);
	sqlite3_bind_int64(s[1], 1, cutoff);
	/* the watermark and the deletion in one transaction: no gap a replay could use */
	n = step(st, e, "retention: batch keys", s, 2);
	pthread_mutex_unlock(&st->lock);
	if (n < 0)
		return -1;
	*dropped += (uint64_t)n;
	return 0;
}

static int prune_sightings(struct sqlite_store *st, const struct sq_err *e, int64_t cutoff,
			   int keep_unread, uint64_t *dropped)
{
	int64_t read_upto = INT64_MAX, n;
	sqlite3_stmt *s;

	if (keep_unread) {
		pthread_mutex_lock(&st->lock);
		read_upto = sq_one_int(stmt(st, RT_READ_CURSOR), 0);
		pthread_mutex_unlock(&st->lock);
	}
	do {
		pthread_mutex_lock(&st->lock);
		s = stmt(st, RT_DROP_SIGHTINGS);
		sqlite3_bind_int64(s, 1, cutoff);
		sqlite3_bind_int64(s, 2, read_upto);
		sqlite3_bind_int(s, 3, SIGHTINGS_STEP);
		n = step(st, e, "retention: sightings", &s, 1);
		pthread_mutex_unlock(&st->lock);
		if (n < 0)
			return -1;
		*dropped += (uint64_t)n;
	} while (n == SIGHTINGS_STEP);
	return 0;
}

/* now - age, or INT64_MIN (nothing is that old) when the age is 0: kept for ever. */
static int64_t cutoff_of(int64_t now_ms, int64_t age_ms)
{
	return age_ms > 0 ? now_ms - age_ms : INT64_MIN;
}

int sqlite_retain(struct store *base, const struct retention_policy *p, int64_t now_ms,
		  struct retention_stats *stats, char *err, size_t errlen)
{
	struct sqlite_store *st = sqlite_of(base);
	const struct sq_err e = { st->db, err, errlen };
	int64_t c;

	c = cutoff_of(now_ms, p->minutes_ms);
	if (c != INT64_MIN && fold(st, &e, RT_OLDEST_MINUTE, RT_FOLD_MINUTES, RT_DROP_MINUTES,
				   MS_PER_HOUR, c, "retention: minutes", &stats->minutes_rolled) < 0)
		return -1;
	c = cutoff_of(now_ms, p->hours_ms);
	if (c != INT64_MIN && fold(st, &e, RT_OLDEST_HOUR, RT_FOLD_HOURS, RT_DROP_HOURS, MS_PER_DAY,
				   c, "retention: hours", &stats->hours_rolled) < 0)
		return -1;
	c = cutoff_of(now_ms, p->days_ms);
	if (c != INT64_MIN &&
	    drop_before(st, &e, RT_DROP_DAYS, c, "retention: days", &stats->days_dropped) < 0)
		return -1;
	c = cutoff_of(now_ms, p->dedupe_ms);
	if (c != INT64_MIN && prune_batches(st, &e, c, &stats->batches_pruned) < 0)
		return -1;
	c = cutoff_of(now_ms, p->sightings_ms);
	if (c != INT64_MIN &&
	    prune_sightings(st, &e, c, p->keep_unread, &stats->sightings_pruned) < 0)
		return -1;
	c = cutoff_of(now_ms, p->deliveries_ms);
	if (c != INT64_MIN && drop_before(st, &e, RT_DROP_DELIVERIES, c, "retention: deliveries",
					  &stats->deliveries_pruned) < 0)
		return -1;
	c = cutoff_of(now_ms, p->coverage_ms);
	if (c != INT64_MIN && drop_before(st, &e, RT_DROP_COVERAGE, c, "retention: coverage",
					  &stats->coverage_pruned) < 0)
		return -1;
	return 0;
}
