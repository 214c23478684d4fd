/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema migrations. Each entry upgrades the schema by one version and is
 * applied once, in order, inside one transaction with its schema_version
 * row. Never edit a released entry: append a new one.
 */
#include "sqlite_schema.h"

#include <stddef.h>

static const char *const migrations[] = {
	/* 1: the inventory. Times are Unix ms; minute is the minute's first ms. */
	"CREATE TABLE sensors ("
	" sensor_id TEXT PRIMARY KEY,"
	" node TEXT NOT NULL,"
	" version TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" last_seq INTEGER NOT NULL,"
	" batches INTEGER NOT NULL DEFAULT 0,"
	" events INTEGER NOT NULL DEFAULT 0,"
	" status_ts INTEGER,"
	" status_json TEXT);"
	/* One row per applied batch: the unique key is the dedupe. */
	"CREATE TABLE batches ("
	" sensor_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" sent_at INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" events INTEGER NOT NULL,"
	" PRIMARY KEY (sensor_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE processes ("
	" sensor_id TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" start_time INTEGER NOT NULL,"
	" node TEXT NOT NULL,"
	" ppid INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" exe TEXT NOT NULL,"
	" cmdline TEXT NOT NULL,"
	" cgroup TEXT NOT NULL,"
	" container_id TEXT NOT NULL,"
	" cgroup_id INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" PRIMARY KEY (sensor_id, pid, start_time)) WITHOUT ROWID;"
	"CREATE TABLE tokens ("
	" fingerprint TEXT PRIMARY KEY,"
	" token_type TEXT NOT NULL,"
	" scheme TEXT NOT NULL,"
	" header TEXT NOT NULL,"
	" token_prefix TEXT NOT NULL,"
	" token_length INTEGER NOT NULL,"
	" has_checksum INTEGER NOT NULL,"
	" checksum_valid INTEGER NOT NULL,"
	" confidence INTEGER NOT NULL,"
	" key_id TEXT NOT NULL,"
	" aws_key_kind TEXT NOT NULL,"
	" aws_account TEXT NOT NULL,"
	" aws_region TEXT NOT NULL,"
	" aws_service TEXT NOT NULL,"
	" basic_user TEXT NOT NULL,"
	" basic_password_type TEXT NOT NULL,"
	" jwt_json TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" requests INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_last_seen ON tokens (last_seen);"
	"CREATE INDEX tokens_requests ON tokens (requests);"
	/* token x process identity x destination. The id is derived from
	 * that identity (store_obs_id.c), so a batch finds its rows without
	 * a lookup on six text columns. */
	"CREATE TABLE observations ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" sensor_id TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" exe TEXT NOT NULL,"
	" dst TEXT NOT NULL,"
	" host TEXT NOT NULL,"
	" node TEXT NOT NULL,"
	" uid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" cgroup_id INTEGER NOT NULL,"
	" src TEXT NOT NULL,"
	" tls INTEGER NOT NULL,"
	" tls_library TEXT NOT NULL,"
	" method TEXT NOT NULL,"
	" path TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" requests INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX observations_fingerprint ON observations (fingerprint);"
	"CREATE TABLE usage ("
	" obs_id INTEGER NOT NULL REFERENCES observations (id),"
	" minute INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (obs_id, minute)) WITHOUT ROWID;",
	/*
	 * 2: an observation's counters, rewritten by nearly every event, move
	 * to a narrow table of their own, so a batch dirties (and commits) a
	 * few small pages instead of every page of the wide identity rows.
	 * "observations" stays as a view with an insert trigger.
	 */
	"CREATE TABLE obs_ident ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" sensor_id TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" exe TEXT NOT NULL,"
	" dst TEXT NOT NULL,"
	" host TEXT NOT NULL,"
	" uid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" cgroup_id INTEGER NOT NULL,"
	" src TEXT NOT NULL,"
	" tls_library TEXT NOT NULL,"
	" method TEXT NOT NULL,"
	" path TEXT NOT NULL);"
	"CREATE TABLE obs_counts ("
	" id INTEGER PRIMARY KEY,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" requests INTEGER NOT NULL DEFAULT 0,"
	" tls INTEGER NOT NULL,"
	" node TEXT NOT NULL);"
	"INSERT INTO obs_ident SELECT id, fingerprint, sensor_id, pid, exe, dst, host, uid, comm,"
	" cgroup_id, src, tls_library, method, path FROM observations;"
	"INSERT INTO obs_counts SELECT id, first_seen, last_seen, requests, tls, node"
	" FROM observations;"
	/* usage referenced the old table: rebuilt without the reference */
	"CREATE TABLE usage_v2 ("
	" obs_id INTEGER NOT NULL,"
	" minute INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (obs_id, minute)) WITHOUT ROWID;"
	"INSERT INTO usage_v2 SELECT obs_id, minute, count FROM usage;"
	"DROP TABLE usage;"
	"ALTER TABLE usage_v2 RENAME TO usage;"
	"DROP TABLE observations;"
	"CREATE INDEX obs_ident_fingerprint ON obs_ident (fingerprint);"
	"CREATE VIEW observations AS SELECT i.id AS id, i.fingerprint AS fingerprint,"
	" i.sensor_id AS sensor_id, i.pid AS pid, i.exe AS exe, i.dst AS dst, i.host AS host,"
	" c.node AS node, i.uid AS uid, i.comm AS comm, i.cgroup_id AS cgroup_id, i.src AS src,"
	" c.tls AS tls, i.tls_library AS tls_library, i.method AS method, i.path AS path,"
	" c.first_seen AS first_seen, c.last_seen AS last_seen, c.requests AS requests"
	" FROM obs_ident i JOIN obs_counts c ON c.id = i.id;"
	"CREATE TRIGGER observations_insert INSTEAD OF INSERT ON observations BEGIN"
	" INSERT INTO obs_ident VALUES (NEW.id, NEW.fingerprint, NEW.sensor_id, NEW.pid, NEW.exe,"
	" NEW.dst, NEW.host, NEW.uid, NEW.comm, NEW.cgroup_id, NEW.src, NEW.tls_library,"
	" NEW.method, NEW.path);"
	" INSERT INTO obs_counts VALUES (NEW.id, NEW.first_seen, NEW.last_seen, NEW.requests,"
	" NEW.tls, NEW.node);"
	" END;",
	/*
	 * 3: risk assessment. seen_log keeps every first sighting (one per
	 * token, process, destination and method per sensor run): the risk
	 * engine reads it in id order and forensics read the detail. held is
	 * the inventory of credentials found in processes' environments and
	 * arguments. The rest is the engine's state and its output.
	 */
	"CREATE TABLE seen_log ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" sensor_id TEXT NOT NULL,"
	" node TEXT NOT NULL,"
	" ts INTEGER NOT NULL,"
	" pid INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" exe TEXT NOT NULL,"
	" src TEXT NOT NULL,"
	" dst TEXT NOT NULL,"
	" host TEXT NOT NULL,"
	" tls INTEGER NOT NULL,"
	" method TEXT NOT NULL,"
	" path TEXT NOT NULL,"
	" header TEXT NOT NULL,"
	" in_query INTEGER NOT NULL);"
	"CREATE INDEX seen_log_fingerprint ON seen_log (fingerprint, ts);"
	/* the inventory stored so far, one sighting per observation, for the engine */
	"INSERT INTO seen_log (fingerprint, sensor_id, node, ts, pid, uid, comm, exe, src, dst,"
	" host, tls, method, path, header, in_query) SELECT i.fingerprint, i.sensor_id, c.node,"
	" c.first_seen, i.pid, i.uid, i.comm, i.exe, i.src, i.dst, i.host, c.tls, i.method, i.path,"
	" COALESCE(t.header, ''), 0 FROM obs_ident i JOIN obs_counts c ON c.id = i.id"
	" LEFT JOIN tokens t ON t.fingerprint = i.fingerprint ORDER BY c.first_seen, i.id;"
	"CREATE TABLE held ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" sensor_id TEXT NOT NULL,"
	" node TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" start_time INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" exe TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" UNIQUE (fingerprint, sensor_id, pid, start_time, exe, source, name));"
	"CREATE INDEX held_fingerprint ON held (fingerprint);"
	/* what the learning window saw of each token: dim workload/dest/node/method */
	"CREATE TABLE baseline ("
	" fingerprint TEXT NOT NULL,"
	" dim TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" PRIMARY KEY (fingerprint, dim, value)) WITHOUT ROWID;"
	/* one row per (token, rule, subject): a finding fires once and then counts */
	"CREATE TABLE findings ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" rule TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" severity INTEGER NOT NULL,"
	" weight REAL NOT NULL,"
	" reason TEXT NOT NULL,"
	" evidence TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" count INTEGER NOT NULL DEFAULT 1,"
	" resolved_at INTEGER,"
	" UNIQUE (fingerprint, rule, subject));"
	"CREATE INDEX findings_first_seen ON findings (first_seen);"
	"CREATE TABLE risk ("
	" fingerprint TEXT PRIMARY KEY,"
	" score INTEGER NOT NULL,"
	" impact REAL NOT NULL,"
	" likelihood REAL NOT NULL,"
	" impact_why TEXT NOT NULL,"
	" reasons TEXT NOT NULL,"
	" updated INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX risk_score ON risk (score);"
	/* the engine's cursors */
	"CREATE TABLE risk_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	/* alert deliveries and revocation hooks still to run, with their retries */
	"CREATE TABLE outbox ("
	" finding_id INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending',"
	" PRIMARY KEY (finding_id, kind, target));"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	/* the delivery log: every attempt */
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" finding_id INTEGER NOT NULL,"
	" target TEXT NOT NULL,"
	" attempt INTEGER NOT NULL,"
	" ts INTEGER NOT NULL,"
	" outcome TEXT NOT NULL,"
	" http_status INTEGER NOT NULL,"
	" error TEXT NOT NULL);"
	"CREATE INDEX deliveries_finding ON deliveries (finding_id);"
	"CREATE TABLE revocations ("
	" id INTEGER PRIMARY KEY,"
	" fingerprint TEXT NOT NULL,"
	" finding_id INTEGER NOT NULL,"
	" hook TEXT NOT NULL,"
	" ts INTEGER NOT NULL,"
	" outcome TEXT NOT NULL,"
	" exit_code INTEGER NOT NULL,"
	" http_status INTEGER NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX revocations_fingerprint ON revocations (fingerprint);"
	/* tokens a revocation hook asked sensors to revoke with the raw token */
	"CREATE TABLE revoke_marks ("
	" fingerprint TEXT PRIMARY KEY,"
	" marked_at INTEGER NOT NULL,"
	" hook TEXT NOT NULL,"
	" done_at INTEGER,"
	" done_node TEXT,"
	" outcome TEXT);",
	/* 4: the Kubernetes namespace of a process, for workloads and sharing */
	"ALTER TABLE processes ADD COLUMN k8s_namespace TEXT NOT NULL DEFAULT '';",
	/*
	 * 5: bounded history. Per-minute usage rolls up to hours, hours to
	 * days (sqlite_retain.c); the time indexes let a retention pass touch
	 * only what it prunes. A batch key dropped by retention leaves its
	 * sensor's highest pruned seq behind: the sensor sends in seq order,
	 * so a batch at or below it was applied or refused before, and the
	 * trigger turns it into a duplicate (the INSERT OR IGNORE changes
	 * nothing).
	 */
	"CREATE TABLE usage_hour ("
	" obs_id INTEGER NOT NULL,"
	" hour INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (obs_id, hour)) WITHOUT ROWID;"
	"CREATE TABLE usage_day ("
	" obs_id INTEGER NOT NULL,"
	" day INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (obs_id, day)) WITHOUT ROWID;"
	"CREATE INDEX usage_minute ON usage (minute);"
	"CREATE INDEX usage_hour_hour ON usage_hour (hour);"
	"CREATE INDEX usage_day_day ON usage_day (day);"
	"CREATE INDEX batches_received ON batches (received_at);"
	"CREATE INDEX seen_log_ts ON seen_log (ts);"
	"CREATE INDEX deliveries_ts ON deliveries (ts);"
	"ALTER TABLE sensors ADD COLUMN pruned_seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE TRIGGER batches_pruned BEFORE INSERT ON batches"
	" WHEN NEW.seq <= (SELECT pruned_seq FROM sensors WHERE sensor_id = NEW.sensor_id)"
	" BEGIN SELECT RAISE(IGNORE); END;",
	/*
	 * 6: the inventory's pages. Each token row carries its risk score
	 * (-1 until assessed), kept by triggers from the risk table, and every
	 * sort of a page has an index in its own order (key descending, then
	 * the fingerprint), so a page reads its rows and nothing else. The
	 * single-column indexes they replace served only those sorts. A
	 * token's row always exists before its risk row: the engine scores
	 * only what a batch stored (sightings, held rows, each with its token).
	 */
	"ALTER TABLE tokens ADD COLUMN risk_score INTEGER NOT NULL DEFAULT -1;"
	"UPDATE tokens SET risk_score = COALESCE((SELECT score FROM risk"
	" WHERE risk.fingerprint = tokens.fingerprint), -1);"
	"DROP INDEX tokens_last_seen;"
	"DROP INDEX tokens_requests;"
	"CREATE INDEX tokens_page_last_seen ON tokens (last_seen DESC, fingerprint);"
	"CREATE INDEX tokens_page_requests ON tokens (requests DESC, fingerprint);"
	"CREATE INDEX tokens_page_risk ON tokens (risk_score DESC, fingerprint);"
	"CREATE INDEX tokens_page_first_seen ON tokens (first_seen DESC, fingerprint);"
	"CREATE TRIGGER risk_score_insert AFTER INSERT ON risk BEGIN"
	" UPDATE tokens SET risk_score = NEW.score WHERE fingerprint = NEW.fingerprint; END;"
	"CREATE TRIGGER risk_score_update AFTER UPDATE OF score ON risk BEGIN"
	" UPDATE tokens SET risk_score = NEW.score WHERE fingerprint = NEW.fingerprint; END;",
	/*
	 * 7: the pod watcher's names of a process in a pod. pod_uid comes
	 * first (from the cgroup path); the names may come later, with
	 * another process of the same pod, and are copied to its rows then.
	 */
	"ALTER TABLE processes ADD COLUMN pod TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN pod_uid TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN container TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN workload_kind TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN workload_name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN service_account TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE processes ADD COLUMN image TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX processes_pod_uid ON processes (pod_uid) WHERE pod_uid <> '';",
	/*
	 * 8: what sensors cannot see: one row per (sensor, executable,
	 * destination) reported as tls_uncovered, with the newest cause.
	 */
	"CREATE TABLE coverage ("
	" sensor_id TEXT NOT NULL,"
	" node TEXT NOT NULL,"
	" exe TEXT NOT NULL,"
	" dst TEXT NOT NULL,"
	" cause TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" container_id TEXT NOT NULL,"
	" pod_uid TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" reports INTEGER NOT NULL DEFAULT 1,"
	" PRIMARY KEY (sensor_id, exe, dst)) WITHOUT ROWID;"
	"CREATE INDEX coverage_last_seen ON coverage (last_seen);",
};

int sqlite_schema_latest(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *sqlite_schema_migration(int version)
{
	if (version < 1 || version > sqlite_schema_latest())
		return NULL;
	return migrations[version - 1];
}
