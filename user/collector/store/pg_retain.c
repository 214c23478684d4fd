/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded history for the PostgreSQL store, the same policy as SQLite's
 * (sqlite_retain.c): per-minute usage folded into hours, hours into days,
 * old days dropped; old batch keys (leaving each sensor's pruned seq
 * behind), read sightings but each token's first, and old delivery log
 * rows pruned. Each step is one transaction that first takes a
 * transaction advisory lock, so replicas running retention at once take
 * turns: a fold read by two of them would otherwise be added twice.
 *
 * Old day partitions are emptied, not dropped: a late batch for such a
 * day would land in the default partition, and the day's partition could
 * then never be made again.
 */
#include "pg_store.h"

#include <stdio.h>

enum retain_stmt {
	RT_LOCK,
	RT_FOLD_MINUTES,
	RT_DROP_MINUTES,
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
	/* "tokend": the retention key beside pg_store.c's */
	[RT_LOCK] = "SELECT pg_advisory_xact_lock(x'746f6b656e04'::bigint)",
	[RT_FOLD_MINUTES] =
		"INSERT INTO usage_hour (obs_id, hour, count) SELECT obs_id, minute - minute % 3600000,"
		" SUM(count) FROM usage WHERE minute < $1 GROUP BY 1, 2"
		" ON CONFLICT (obs_id, hour) DO UPDATE SET count = usage_hour.count + excluded.count",
	[RT_DROP_MINUTES] = "DELETE FROM usage WHERE minute < $1",
	[RT_FOLD_HOURS] =
		"INSERT INTO usage_day (obs_id, day, count) SELECT obs_id, hour - hour % 86400000,"
		" SUM(count) FROM usage_hour WHERE hour < $1 GROUP BY 1, 2"
		" ON CONFLICT (obs_id, day) DO UPDATE SET count = usage_day.count + excluded.count",
	[RT_DROP_HOURS] = "DELETE FROM usage_hour WHERE hour < $1",
	[RT_DROP_DAYS] = "DELETE FROM usage_day WHERE day < $1",
	[RT_WATERMARK] =
		"UPDATE sensors s SET pruned_seq = GREATEST(s.pruned_seq, b.m)"
		" FROM (SELECT sensor_id, MAX(seq) AS m FROM batches WHERE received_at < $1"
		" GROUP BY sensor_id) b WHERE s.sensor_id = b.sensor_id",
	[RT_DROP_BATCHES] = "DELETE FROM batches WHERE received_at < $1",
	[RT_READ_CURSOR] = "SELECT value FROM risk_state WHERE name = 'seen_log'",
	[RT_DROP_SIGHTINGS] =
		("DELETE FROM seen_log s WHERE s.ts < $1 AND s.id <= $2 AND s.ts > (SELECT MIN(m.ts)"
		 " FROM seen_log m WHERE m.fingerprint = s.fingerprint)"),
	[RT_DROP_DELIVERIES] = "DELETE FROM deliveries WHERE ts < $1",
	[RT_DROP_COVERAGE] = "DELETE FROM coverage WHERE last_seen < $1",
};

static const struct pg_stmts retain_stmts = { PGM_RETAIN, retain_sql, RT__COUNT };

/*
 * One step: statements first..last with $1 = cutoff (and $2 = arg), in a
 * transaction behind the retention lock. The rows the last one changed,
 * or -1.
 */
static int64_t step(struct pg_slot *s, struct pg_err *e, const char *what, const int *stmts,
		    int n, int64_t cutoff, int64_t arg)
{
	struct pg_params p = { 0 };
	int64_t changed = 0;

	pg_int(&p, 1, cutoff);
	pg_int(&p, 2, arg);
	if (pg_begin(s, e) < 0)
		return -1;
	if (pg_run0(&s->pc, &retain_stmts, RT_LOCK, NULL, e, what) < 0)
		goto fail;
	for (int i = 0; i < n; i++) {
		PGresult *r;

		/* the statements take $1, or $1 and $2 */
		p.n = stmts[i] == RT_DROP_SIGHTINGS ? 2 : 1;
		r = pg_run(&s->pc, &retain_stmts, stmts[i], &p, e, what);
		if (!r)
			goto fail;
		changed = pg_changes(r);
		PQclear(r);
	}
	return pg_commit(s, e) < 0 ? -1 : changed;
fail:
	pg_rollback(s);
	return -1;
}

/* now - age, or 0 (meaning: keep for ever) when the age is 0. */
static int64_t cutoff_of(int64_t now_ms, int64_t age_ms)
{
	return age_ms > 0 ? now_ms - age_ms : 0;
}

static int run(struct pg_slot *s, struct pg_err *e, const char *what, const int *stmts, int n,
	       int64_t age_ms, int64_t now_ms, int64_t arg, uint64_t *count)
{
	int64_t c = cutoff_of(now_ms, age_ms), k;

	if (!c)
		return 0;
	k = step(s, e, what, stmts, n, c, arg);
	if (k < 0)
		return -1;
	*count += (uint64_t)k;
	return 0;
}

int pg_retain(struct store *base, const struct retention_policy *pol, int64_t now_ms,
	      struct retention_stats *stats, char *err, size_t errlen)
{
	static const int minutes[] = { RT_FOLD_MINUTES, RT_DROP_MINUTES };
	static const int hours[] = { RT_FOLD_HOURS, RT_DROP_HOURS };
	static const int days[] = { RT_DROP_DAYS };
	/* the watermark and the deletion in one transaction: no gap a replay could use */
	static const int batches[] = { RT_WATERMARK, RT_DROP_BATCHES };
	static const int sightings[] = { RT_DROP_SIGHTINGS };
	static const int deliveries[] = { RT_DROP_DELIVERIES };
	static const int coverage[] = { RT_DROP_COVERAGE };
	struct pg_store *st = pg_of(base);
	struct pg_slot *s = pg_acquire(st, err, errlen);
	struct pg_err e = { err, errlen, "" };
	int64_t read_upto = INT64_MAX;
	int rc = -1;

	if (!s)
		return -1;
	if (pol->keep_unread) {
		read_upto = pg_one_int(pg_run(&s->pc, &retain_stmts, RT_READ_CURSOR, NULL, &e,
					      "retention: cursor"), 0);
		if (read_upto < 0)
			goto out;
	}
	if (run(s, &e, "retention: minutes", minutes, 2, pol->minutes_ms, now_ms, 0,
		&stats->minutes_rolled) < 0 ||
	    run(s, &e, "retention: hours", hours, 2, pol->hours_ms, now_ms, 0,
		&stats->hours_rolled) < 0 ||
	    run(s, &e, "retention: days", days, 1, pol->days_ms, now_ms, 0,
		&stats->days_dropped) < 0 ||
	    run(s, &e, "retention: batch keys", batches, 2, pol->dedupe_ms, now_ms, 0,
		&stats->batches_pruned) < 0 ||
	    run(s, &e, "retention: sightings", sightings, 1, pol->sightings_ms, now_ms, read_upto,
		&stats->sightings_pruned) < 0 ||
	    run(s, &e, "retention: deliveries", deliveries, 1, pol->deliveries_ms, now_ms, 0,
		&stats->deliveries_pruned) < 0 ||
	    run(s, &e, "retention: coverage", coverage, 1, pol->coverage_ms, now_ms, 0,
		&stats->coverage_pruned) < 0)
		goto out;
	rc = 0;
out:
	pg_release(st, s);
	return rc;
}
