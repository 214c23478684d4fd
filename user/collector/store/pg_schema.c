/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PostgreSQL schema migrations, the same concepts as the SQLite schema
 * (sqlite_schema.c) in PostgreSQL's types: times are Unix ms (bigint),
 * booleans small integers, so both backends answer the same values. Each
 * entry upgrades by one version, applied once, in order, in one
 * transaction with its schema_version row. Never edit a released entry.
 *
 * The rows every batch rewrites (observations, tokens, usage) leave room
 * on their pages (fillfactor): an update of the counters then stays on its
 * page without new index entries (a HOT update).
 *
 * usage and seen_log grow with time: both are partitioned by day of
 * their time column (pg_part_sql), partitions made on demand, so pruning
 * old data is dropping old partitions.
 */
#include "pg_schema.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

static const char *const migrations[] = {
	/* 1: the inventory and the risk engine's tables */
	"CREATE TABLE sensors ("
	" sensor_id text PRIMARY KEY,"
	" node text NOT NULL,"
	" version text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" last_seq bigint NOT NULL,"
	" batches bigint NOT NULL DEFAULT 0,"
	" events bigint NOT NULL DEFAULT 0,"
	" status_ts bigint,"
	" status_json text);"
	/* one row per applied batch: the primary key is the dedupe */
	"CREATE TABLE batches ("
	" sensor_id text NOT NULL,"
	" seq bigint NOT NULL,"
	" sent_at bigint NOT NULL,"
	" received_at bigint NOT NULL,"
	" events bigint NOT NULL,"
	" PRIMARY KEY (sensor_id, seq));"
	"CREATE INDEX batches_received_at ON batches (received_at);"
	"CREATE TABLE processes ("
	" sensor_id text NOT NULL,"
	" pid bigint NOT NULL,"
	" start_time bigint NOT NULL,"
	" node text NOT NULL,"
	" ppid bigint NOT NULL,"
	" uid bigint NOT NULL,"
	" exe text NOT NULL,"
	" cmdline text NOT NULL,"
	" cgroup text NOT NULL,"
	" container_id text NOT NULL,"
	" cgroup_id bigint NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" k8s_namespace text NOT NULL DEFAULT '',"
	" PRIMARY KEY (sensor_id, pid, start_time));"
	"CREATE TABLE tokens ("
	" fingerprint text PRIMARY KEY,"
	" token_type text NOT NULL,"
	" scheme text NOT NULL,"
	" header text NOT NULL,"
	" token_prefix text NOT NULL,"
	" token_length bigint NOT NULL,"
	" has_checksum integer NOT NULL,"
	" checksum_valid integer NOT NULL,"
	" confidence bigint NOT NULL,"
	" key_id text NOT NULL,"
	" aws_key_kind text NOT NULL,"
	" aws_account text NOT NULL,"
	" aws_region text NOT NULL,"
	" aws_service text NOT NULL,"
	" basic_user text NOT NULL,"
	" basic_password_type text NOT NULL,"
	" jwt_json text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" requests bigint NOT NULL DEFAULT 0) WITH (fillfactor = 70);"
	"CREATE INDEX tokens_last_seen ON tokens (last_seen);"
	"CREATE INDEX tokens_requests ON tokens (requests);"
	/* token x process identity x destination; the id is derived from the
	 * identity (store_obs_id.c), as in SQLite */
	"CREATE TABLE observations ("
	" id bigint PRIMARY KEY,"
	" fingerprint text NOT NULL,"
	" sensor_id text NOT NULL,"
	" pid bigint NOT NULL,"
	" exe text NOT NULL,"
	" dst text NOT NULL,"
	" host text NOT NULL,"
	" node text NOT NULL,"
	" uid bigint NOT NULL,"
	" comm text NOT NULL,"
	" cgroup_id bigint NOT NULL,"
	" src text NOT NULL,"
	" tls integer NOT NULL,"
	" tls_library text NOT NULL,"
	" method text NOT NULL,"
	" path text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" requests bigint NOT NULL DEFAULT 0) WITH (fillfactor = 60);"
	"CREATE INDEX observations_fingerprint ON observations (fingerprint);"
	/* per-minute counts, partitioned by day of minute */
	"CREATE TABLE usage ("
	" obs_id bigint NOT NULL,"
	" minute bigint NOT NULL,"
	" count bigint NOT NULL,"
	" PRIMARY KEY (obs_id, minute)) PARTITION BY RANGE (minute);"
	"CREATE TABLE usage_default PARTITION OF usage DEFAULT WITH (fillfactor = 70);"
	/* what retention rolls minutes up into, as in SQLite (read by the token view) */
	"CREATE TABLE usage_hour ("
	" obs_id bigint NOT NULL,"
	" hour bigint NOT NULL,"
	" count bigint NOT NULL,"
	" PRIMARY KEY (obs_id, hour));"
	"CREATE TABLE usage_day ("
	" obs_id bigint NOT NULL,"
	" day bigint NOT NULL,"
	" count bigint NOT NULL,"
	" PRIMARY KEY (obs_id, day));"
	/* every first sighting, partitioned by day of ts; read by id */
	"CREATE TABLE seen_log ("
	" id bigserial,"
	" fingerprint text NOT NULL,"
	" sensor_id text NOT NULL,"
	" node text NOT NULL,"
	" ts bigint NOT NULL,"
	" pid bigint NOT NULL,"
	" uid bigint NOT NULL,"
	" comm text NOT NULL,"
	" exe text NOT NULL,"
	" src text NOT NULL,"
	" dst text NOT NULL,"
	" host text NOT NULL,"
	" tls integer NOT NULL,"
	" method text NOT NULL,"
	" path text NOT NULL,"
	" header text NOT NULL,"
	" in_query integer NOT NULL,"
	" PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts);"
	"CREATE TABLE seen_log_default PARTITION OF seen_log DEFAULT;"
	"CREATE INDEX seen_log_fingerprint ON seen_log (fingerprint, ts);"
	"CREATE TABLE held ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" fingerprint text NOT NULL,"
	" sensor_id text NOT NULL,"
	" node text NOT NULL,"
	" pid bigint NOT NULL,"
	" start_time bigint NOT NULL,"
	" uid bigint NOT NULL,"
	" exe text NOT NULL,"
	" source text NOT NULL,"
	" name text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" UNIQUE (fingerprint, sensor_id, pid, start_time, exe, source, name));"
	"CREATE INDEX held_fingerprint ON held (fingerprint);"
	"CREATE TABLE baseline ("
	" fingerprint text NOT NULL,"
	" dim text NOT NULL,"
	" value text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" PRIMARY KEY (fingerprint, dim, value));"
	"CREATE TABLE findings ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" fingerprint text NOT NULL,"
	" rule text NOT NULL,"
	" subject text NOT NULL,"
	" severity integer NOT NULL,"
	" weight double precision NOT NULL,"
	" reason text NOT NULL,"
	" evidence text NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" count bigint NOT NULL DEFAULT 1,"
	" resolved_at bigint,"
	" UNIQUE (fingerprint, rule, subject));"
	"CREATE INDEX findings_first_seen ON findings (first_seen);"
	"CREATE TABLE risk ("
	" fingerprint text PRIMARY KEY,"
	" score integer NOT NULL,"
	" impact double precision NOT NULL,"
	" likelihood double precision NOT NULL,"
	" impact_why text NOT NULL,"
	" reasons text NOT NULL,"
	" updated bigint NOT NULL,"
	" last_used bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX risk_score ON risk (score);"
	"CREATE TABLE risk_state (name text PRIMARY KEY, value bigint NOT NULL);"
	"CREATE TABLE outbox ("
	" finding_id bigint NOT NULL,"
	" kind text NOT NULL,"
	" target text NOT NULL,"
	" attempts integer NOT NULL DEFAULT 0,"
	" next_at bigint NOT NULL,"
	" state text NOT NULL DEFAULT 'pending',"
	/* the replica delivering it, and until when others leave it alone */
	" claim_by text NOT NULL DEFAULT '',"
	" claim_until bigint NOT NULL DEFAULT 0,"
	" PRIMARY KEY (finding_id, kind, target));"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	"CREATE TABLE deliveries ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" finding_id bigint NOT NULL,"
	" target text NOT NULL,"
	" attempt integer NOT NULL,"
	" ts bigint NOT NULL,"
	" outcome text NOT NULL,"
	" http_status bigint NOT NULL,"
	" error text NOT NULL);"
	"CREATE INDEX deliveries_finding ON deliveries (finding_id);"
	"CREATE TABLE revocations ("
	" id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	" fingerprint text NOT NULL,"
	" finding_id bigint NOT NULL,"
	" hook text NOT NULL,"
	" ts bigint NOT NULL,"
	" outcome text NOT NULL,"
	" exit_code integer NOT NULL,"
	" http_status bigint NOT NULL,"
	" detail text NOT NULL);"
	"CREATE INDEX revocations_fingerprint ON revocations (fingerprint);"
	"CREATE TABLE revoke_marks ("
	" fingerprint text PRIMARY KEY,"
	" marked_at bigint NOT NULL,"
	" hook text NOT NULL,"
	" done_at bigint,"
	" done_node text,"
	" outcome text);",
	/*
	 * 2: bounded history (pg_retain.c), as SQLite's migration 5: time
	 * indexes for the roll-ups, and the highest seq whose batch key
	 * retention dropped, below which a batch is a duplicate (the trigger
	 * skips its row, so the ON CONFLICT DO NOTHING insert changes nothing).
	 */
	"CREATE INDEX usage_hour_hour ON usage_hour (hour);"
	"CREATE INDEX usage_day_day ON usage_day (day);"
	"CREATE INDEX deliveries_ts ON deliveries (ts);"
	"ALTER TABLE sensors ADD COLUMN pruned_seq bigint NOT NULL DEFAULT 0;"
	"CREATE FUNCTION batches_pruned() RETURNS trigger LANGUAGE plpgsql AS $f$"
	" BEGIN"
	" IF NEW.seq <= (SELECT pruned_seq FROM sensors WHERE sensor_id = NEW.sensor_id) THEN"
	" RETURN NULL; END IF;"
	" RETURN NEW;"
	" END $f$;"
	"CREATE TRIGGER batches_pruned BEFORE INSERT ON batches"
	" FOR EACH ROW EXECUTE FUNCTION batches_pruned();",
	/*
	 * 3: the inventory's pages, as SQLite's migration 6: each token row
	 * carries its risk score (-1 until assessed), kept by triggers from
	 * the risk table, and every sort of a page has an index in its own
	 * order. They replace the single-column indexes, which served only
	 * those sorts.
	 * A token's row always exists before its risk row: the engine scores
	 * only what a batch stored (sightings, held rows, each with its token).
	 */
	"ALTER TABLE tokens ADD COLUMN risk_score bigint NOT NULL DEFAULT -1;"
	"UPDATE tokens t SET risk_score = r.score FROM risk r WHERE r.fingerprint = t.fingerprint;"
	"DROP INDEX tokens_last_seen;"
	"DROP INDEX tokens_requests;"
	"CREATE INDEX tokens_page_last_seen ON tokens (last_seen DESC, fingerprint COLLATE \"C\");"
	"CREATE INDEX tokens_page_requests ON tokens (requests DESC, fingerprint COLLATE \"C\");"
	"CREATE INDEX tokens_page_risk ON tokens (risk_score DESC, fingerprint COLLATE \"C\");"
	"CREATE INDEX tokens_page_first_seen ON tokens (first_seen DESC, fingerprint COLLATE \"C\");"
	"CREATE FUNCTION risk_score_copy() RETURNS trigger LANGUAGE plpgsql AS $f$"
	" BEGIN"
	" UPDATE tokens SET risk_score = NEW.score WHERE fingerprint = NEW.fingerprint"
	" AND risk_score <> NEW.score;"
	" RETURN NULL;"
	" END $f$;"
	"CREATE TRIGGER risk_score_copy AFTER INSERT OR UPDATE OF score ON risk"
	" FOR EACH ROW EXECUTE FUNCTION risk_score_copy();",
	/* 4: the pod watcher's names of a process in a pod, as SQLite's migration 7 */
	"ALTER TABLE processes ADD COLUMN pod text NOT NULL DEFAULT '',"
	" ADD COLUMN pod_uid text NOT NULL DEFAULT '',"
	" ADD COLUMN container text NOT NULL DEFAULT '',"
	" ADD COLUMN workload_kind text NOT NULL DEFAULT '',"
	" ADD COLUMN workload_name text NOT NULL DEFAULT '',"
	" ADD COLUMN service_account text NOT NULL DEFAULT '',"
	" ADD COLUMN image text NOT NULL DEFAULT '';"
	"CREATE INDEX processes_pod_uid ON processes (pod_uid) WHERE pod_uid <> '';",
	/* 5: what sensors cannot see, as SQLite's migration 8 */
	"CREATE TABLE coverage ("
	" sensor_id text NOT NULL,"
	" node text NOT NULL,"
	" exe text NOT NULL,"
	" dst text NOT NULL,"
	" cause text NOT NULL,"
	" detail text NOT NULL,"
	" container_id text NOT NULL,"
	" pod_uid text NOT NULL,"
	" pid bigint NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL,"
	" reports bigint NOT NULL DEFAULT 1,"
	" PRIMARY KEY (sensor_id, exe, dst));"
	"CREATE INDEX coverage_last_seen ON coverage (last_seen);",
};

int pg_schema_latest(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *pg_schema_migration(int version)
{
	if (version < 1 || version > pg_schema_latest())
		return NULL;
	return migrations[version - 1];
}

static const char *const part_tables[PG_PART__COUNT] = {
	[PG_PART_USAGE] = "usage",
	[PG_PART_SEEN_LOG] = "seen_log",
};

const char *pg_part_table_name(enum pg_part_table t)
{
	return part_tables[t];
}

int pg_part_sql(enum pg_part_table t, int64_t day_ms, char *buf, size_t len)
{
	time_t secs;
	struct tm tm;

	/* 1970-01-01 .. 9999-12-31 */
	if (day_ms < 0 || day_ms > 253402214400000LL || day_ms % MS_PER_DAY)
		return -1;
	secs = (time_t)(day_ms / 1000);
	if (!gmtime_r(&secs, &tm))
		return -1;
	snprintf(buf, len,
		 "CREATE TABLE IF NOT EXISTS %s_d%04d%02d%02d PARTITION OF %s"
		 " FOR VALUES FROM (%lld) TO (%lld)%s",
		 part_tables[t], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, part_tables[t],
		 (long long)day_ms, (long long)(day_ms + MS_PER_DAY),
		 t == PG_PART_USAGE ? " WITH (fillfactor = 70)" : "");
	return 0;
}
