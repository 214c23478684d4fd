/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema migrations. Each entry upgrades the schema by one version and is
 * applied once, in order, inside one transaction with its schema_version
 * row. Never edit a released entry: append a new one.
 */
#include "store_schema.h"

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
};

int store_schema_latest(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *store_schema_migration(int version)
{
	if (version < 1 || version > store_schema_latest())
		return NULL;
	return migrations[version - 1];
}
