/* SPDX-License-Identifier: Apache-2.0 */
/* Opening the store, migrations, prepared statements. */
#include "store_internal.h"
#include "clock.h"
#include "store_obs_cache.h"
#include "store_obs_id.h"
#include "store_schema.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_COLS                                                                           \
	"fingerprint, token_type, scheme, header, token_prefix, token_length, has_checksum, " \
	"checksum_valid, confidence, key_id, aws_key_kind, aws_account, aws_region, "          \
	"aws_service, basic_user, basic_password_type, jwt_json, first_seen, last_seen, requests"

/* A later non-empty value replaces an earlier one; "" never erases. */
#define KEEP(c) c " = CASE WHEN excluded." c " <> '' THEN excluded." c " ELSE " c " END"

/* KEEP(c) would leave c as it is: the new value is "" or the same. */
#define SAME(c, n) "(?" n " = '' OR " c " = ?" n ")"

/*
 * A column of the newest process with the pid (and exe, when known) of
 * row, an observation or a sighting.
 */
#define PROC_OF(row, col)                                                                 \
	"(SELECT p." col " FROM processes p WHERE p.sensor_id = " row ".sensor_id AND p.pid = " \
	row ".pid AND (" row ".exe = '' OR p.exe = " row ".exe) ORDER BY p.start_time DESC"   \
	" LIMIT 1)"

static const char *const stmt_sql[SQ__COUNT] = {
	[SQ_BATCH_INSERT] = "INSERT OR IGNORE INTO batches (sensor_id, seq, sent_at, received_at, events)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQ_SENSOR_UPSERT] =
		"INSERT INTO sensors (sensor_id, node, version, first_seen, last_seen, last_seq, batches,"
		" events) VALUES (?1, ?2, ?3, ?4, ?4, ?5, 1, ?6)"
		" ON CONFLICT (sensor_id) DO UPDATE SET node = excluded.node,"
		" version = excluded.version, last_seen = MAX(last_seen, excluded.last_seen),"
		" last_seq = MAX(last_seq, excluded.last_seq), batches = batches + 1,"
		" events = events + excluded.events",
	/* a replayed old batch never replaces a newer status */
	[SQ_SENSOR_STATUS] = "UPDATE sensors SET status_ts = ?2, status_json = ?3 WHERE sensor_id = ?1"
			     " AND (status_ts IS NULL OR status_ts <= ?2)",
	[SQ_PROCESS_UPSERT] =
		"INSERT INTO processes (sensor_id, pid, start_time, node, ppid, uid, exe, cmdline, cgroup,"
		" container_id, cgroup_id, first_seen, last_seen, k8s_namespace)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)"
		" ON CONFLICT (sensor_id, pid, start_time) DO UPDATE SET node = excluded.node,"
		" ppid = excluded.ppid, uid = excluded.uid, " KEEP("exe") ", " KEEP("cmdline") ", "
		KEEP("cgroup") ", " KEEP("container_id") ", " KEEP("k8s_namespace") ","
		" cgroup_id = excluded.cgroup_id,"
		" first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen)",
	[SQ_TOKEN_UPSERT] =
		"INSERT INTO tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
		" ON CONFLICT (fingerprint) DO UPDATE SET " KEEP("token_type") ", " KEEP("scheme") ", "
		KEEP("header") ", " KEEP("token_prefix") ", token_length = excluded.token_length,"
		" has_checksum = excluded.has_checksum, checksum_valid = excluded.checksum_valid,"
		" confidence = excluded.confidence, " KEEP("key_id") ", " KEEP("aws_key_kind") ", "
		KEEP("aws_account") ", " KEEP("aws_region") ", " KEEP("aws_service") ", "
		KEEP("basic_user") ", " KEEP("basic_password_type") ", " KEEP("jwt_json") ","
		" first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen),"
		" requests = requests + excluded.requests",
	/*
	 * The upsert's outcome when the metadata would stay as it is: only
	 * the counters change, without the insert attempt and the CASEs.
	 * Same parameters; no row changed means the upsert has to run.
	 */
	[SQ_TOKEN_COUNTERS] =
		"UPDATE tokens SET first_seen = MIN(first_seen, ?18), last_seen = MAX(last_seen, ?19),"
		" requests = requests + ?20 WHERE fingerprint = ?1 AND " SAME("token_type", "2")
		" AND " SAME("scheme", "3") " AND " SAME("header", "4") " AND "
		SAME("token_prefix", "5") " AND token_length = ?6 AND has_checksum = ?7"
		" AND checksum_valid = ?8 AND confidence = ?9 AND " SAME("key_id", "10") " AND "
		SAME("aws_key_kind", "11") " AND " SAME("aws_account", "12") " AND "
		SAME("aws_region", "13") " AND " SAME("aws_service", "14") " AND "
		SAME("basic_user", "15") " AND " SAME("basic_password_type", "16") " AND "
		SAME("jwt_json", "17"),
	/*
	 * An observation's row is found by its derived id and checked
	 * against its identity: an id held by another identity updates
	 * nothing and the caller probes the next id. Only counts, times,
	 * node and tls change after the first sighting; method and path stay
	 * those of the triple's first request.
	 */
	[SQ_OBS_UPDATE] =
		"UPDATE obs_counts SET first_seen = MIN(first_seen, ?8),"
		" last_seen = MAX(last_seen, ?9), requests = requests + ?10, node = ?11,"
		" tls = MAX(tls, ?12) WHERE id = ?1 AND EXISTS (SELECT 1 FROM obs_ident"
		" WHERE id = ?1 AND fingerprint = ?2 AND sensor_id = ?3 AND pid = ?4 AND exe = ?5"
		" AND dst = ?6 AND host = ?7)",
	/* the counters row follows only when this inserted the identity */
	[SQ_OBS_INSERT] =
		"INSERT OR IGNORE INTO obs_ident (id, fingerprint, sensor_id, pid, exe, dst, host,"
		" uid, comm, cgroup_id, src, tls_library, method, path) VALUES (?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[SQ_OBS_COUNTS_INSERT] =
		"INSERT INTO obs_counts (id, first_seen, last_seen, requests, tls, node)"
		" VALUES (?1, ?8, ?9, ?10, ?12, ?11)",
	/* an id already verified to hold the identity (store_obs_cache.h) */
	[SQ_OBS_COUNTS_UPDATE] =
		"UPDATE obs_counts SET first_seen = MIN(first_seen, ?2),"
		" last_seen = MAX(last_seen, ?3), requests = requests + ?4, node = ?5,"
		" tls = MAX(tls, ?6) WHERE id = ?1",
	[SQ_USAGE_UPSERT] = "INSERT INTO usage (obs_id, minute, count) VALUES (?1, ?2, ?3)"
			    " ON CONFLICT (obs_id, minute) DO UPDATE SET count = count + excluded.count",
	/* SQ_USAGE_UPSERT_MANY is built at open: usage_many_sql() */
	[SQ_SEEN_LOG_INSERT] =
		"INSERT INTO seen_log (fingerprint, sensor_id, node, ts, pid, uid, comm, exe, src, dst,"
		" host, tls, method, path, header, in_query) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[SQ_HELD_UPSERT] =
		"INSERT INTO held (fingerprint, sensor_id, node, pid, start_time, uid, exe, source,"
		" name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
		" ON CONFLICT (fingerprint, sensor_id, pid, start_time, exe, source, name) DO UPDATE"
		" SET first_seen = MIN(first_seen, excluded.first_seen),"
		" last_seen = MAX(last_seen, excluded.last_seen), node = excluded.node",
	/* a token only held so far: known, never used (requests 0); use fills the rest */
	[SQ_TOKEN_INSERT_HELD] =
		"INSERT OR IGNORE INTO tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	[SQ_TOKENS_BY_LAST_SEEN] = "SELECT " TOKEN_COLS " FROM tokens"
				   " ORDER BY last_seen DESC, fingerprint LIMIT ?1",
	[SQ_TOKENS_BY_REQUESTS] = "SELECT " TOKEN_COLS " FROM tokens"
				  " ORDER BY requests DESC, fingerprint LIMIT ?1",
	/* highest score first; tokens not assessed yet last */
	[SQ_TOKENS_BY_RISK] = "SELECT " TOKEN_COLS " FROM tokens LEFT JOIN risk USING (fingerprint)"
			      " ORDER BY COALESCE(risk.score, -1) DESC, last_seen DESC, fingerprint"
			      " LIMIT ?1",
	[SQ_TOKEN_ONE] = "SELECT " TOKEN_COLS " FROM tokens WHERE fingerprint = ?1",
	[SQ_TOKEN_PROCESSES] =
		"SELECT o.sensor_id, o.node, o.pid, o.exe, o.comm, o.uid, SUM(o.requests),"
		" MIN(o.first_seen), MAX(o.last_seen), " PROC_OF("o", "container_id") ", "
		PROC_OF("o", "cmdline") ", " PROC_OF("o", "k8s_namespace") " FROM observations o"
		" WHERE o.fingerprint = ?1"
		" GROUP BY o.sensor_id, o.pid, o.exe ORDER BY 7 DESC, 2, 3, 4 LIMIT ?2",
	[SQ_TOKEN_DESTINATIONS] =
		"SELECT dst, host, tls, MAX(tls_library), SUM(requests), MIN(first_seen),"
		" MAX(last_seen) FROM observations WHERE fingerprint = ?1"
		" GROUP BY dst, host, tls ORDER BY 5 DESC, 1, 2 LIMIT ?2",
	[SQ_TOKEN_NODES] = "SELECT DISTINCT node FROM observations WHERE fingerprint = ?1"
			   " ORDER BY node LIMIT ?2",
	[SQ_TOKEN_OBSERVATIONS] =
		"SELECT node, pid, exe, comm, dst, host, tls, method, path, requests, first_seen,"
		" last_seen FROM observations WHERE fingerprint = ?1 ORDER BY requests DESC, id"
		" LIMIT ?2",
	/* the newest ?2 minutes, returned oldest first */
	[SQ_TOKEN_USAGE] =
		"SELECT minute, total FROM (SELECT u.minute AS minute, SUM(u.count) AS total"
		" FROM observations o JOIN usage u ON u.obs_id = o.id WHERE o.fingerprint = ?1"
		" GROUP BY u.minute ORDER BY u.minute DESC LIMIT ?2) ORDER BY minute",
	[SQ_TOKEN_SEEN_ANY] = "SELECT EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = ?1)",
	[SQ_TOKEN_RISK] = "SELECT score, impact, likelihood, impact_why, reasons, updated FROM risk"
			  " WHERE fingerprint = ?1",
	[SQ_TOKEN_HELD] = "SELECT node, pid, exe, source, name, first_seen, last_seen FROM held"
			  " WHERE fingerprint = ?1 ORDER BY first_seen, id LIMIT 1000",
	[SQ_ALERT_DELIVERIES] = "SELECT target, attempt, ts, outcome, http_status, error"
				" FROM deliveries WHERE finding_id = ?1 ORDER BY id",
	[SQ_OPEN_REASONS] = "SELECT rule, severity, weight, reason, subject, first_seen FROM findings"
			    " WHERE fingerprint = ?1 AND resolved_at IS NULL"
			    " ORDER BY weight DESC, first_seen, id",
	/* the risk engine's pass */
	[SQ_RISK_CURSOR_GET] = "SELECT value FROM risk_state WHERE name = ?1",
	[SQ_RISK_CURSOR_SET] = "INSERT INTO risk_state (name, value) VALUES (?1, ?2)"
			 " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	/* the newest description of the process, when the sensor sent one */
	[SQ_RISK_SEEN_ROWS] =
		"SELECT s.id, s.fingerprint, s.sensor_id, s.node, s.ts, s.pid, s.comm, s.exe, s.dst,"
		" s.host, s.tls, s.method, s.path, s.header, s.in_query,"
		" COALESCE(" PROC_OF("s", "cmdline") ", ''),"
		" COALESCE(" PROC_OF("s", "cgroup") ", ''),"
		" COALESCE(" PROC_OF("s", "container_id") ", ''),"
		" COALESCE(" PROC_OF("s", "k8s_namespace") ", '')"
		" FROM seen_log s WHERE s.id > ?1 ORDER BY s.id LIMIT ?2",
	[SQ_RISK_TOKEN] = "SELECT token_type, token_prefix, scheme, header, aws_key_kind,"
		    " basic_password_type, jwt_json, has_checksum, checksum_valid FROM tokens"
		    " WHERE fingerprint = ?1",
	[SQ_RISK_FIRST_USE] = "SELECT MIN(ts) FROM seen_log WHERE fingerprint = ?1 AND id < ?2",
	[SQ_RISK_KNOWN] = "SELECT 1 FROM baseline WHERE fingerprint = ?1 AND dim = ?2 AND value = ?3",
	[SQ_RISK_METHODS] = "SELECT COUNT(*), COALESCE(SUM(value NOT IN ('GET', 'HEAD', 'OPTIONS')), 0)"
		      " FROM baseline WHERE fingerprint = ?1 AND dim = 'method'",
	[SQ_RISK_COUNT_DIM] = "SELECT COUNT(*) FROM baseline WHERE fingerprint = ?1 AND dim = ?2",
	[SQ_RISK_BASELINE_ADD] = "INSERT OR IGNORE INTO baseline (fingerprint, dim, value, first_seen)"
			   " VALUES (?1, ?2, ?3, ?4)",
	[SQ_RISK_FINDING_GET] = "SELECT id FROM findings WHERE fingerprint = ?1 AND rule = ?2"
			  " AND subject = ?3",
	[SQ_RISK_FINDING_BUMP] = "UPDATE findings SET last_seen = MAX(last_seen, ?2), count = count + 1,"
			   " resolved_at = NULL WHERE id = ?1",
	[SQ_RISK_FINDING_ADD] = "INSERT INTO findings (fingerprint, rule, subject, severity, weight,"
			  " reason, evidence, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
			  " ?7, ?8, ?8)",
	[SQ_RISK_OUTBOX_ADD] = "INSERT OR IGNORE INTO outbox (finding_id, kind, target, next_at)"
			 " VALUES (?1, ?2, ?3, ?4)",
	/* used again since the engine last looked */
	[SQ_RISK_DORMANT_ROWS] = "SELECT t.fingerprint, t.last_seen, r.last_used FROM tokens t"
			   " JOIN risk r ON r.fingerprint = t.fingerprint"
			   " WHERE t.requests > 0 AND t.last_seen > r.last_used LIMIT ?1",
	/*
	 * The first use after ?3: a new sighting's exact time, or for a
	 * triple already known the start of the first minute with requests
	 * (usage is counted per minute: a lower bound). A triple first seen
	 * after ?3 counts by its exact first time, not its minute.
	 */
	[SQ_RISK_FIRST_NEW_USE] =
		"SELECT MIN(x) FROM (SELECT MIN(CASE WHEN c.first_seen > ?3 THEN c.first_seen"
		" ELSE u.minute END) AS x FROM obs_ident i JOIN obs_counts c ON c.id = i.id"
		" JOIN usage u ON u.obs_id = i.id WHERE i.fingerprint = ?1 AND u.minute > ?2"
		" UNION ALL SELECT MIN(ts) FROM seen_log WHERE fingerprint = ?1 AND ts > ?3)",
	[SQ_RISK_RESOLVE_HELD] = "UPDATE findings SET resolved_at = ?2 WHERE fingerprint = ?1"
			   " AND rule = 'held_never_used' AND resolved_at IS NULL",
	[SQ_RISK_HELD_ROWS] = "SELECT id, fingerprint, node, exe, source, name, first_seen, pid, sensor_id"
			" FROM held WHERE id > ?1 ORDER BY id LIMIT ?2",
	[SQ_RISK_EVER_USED] = "SELECT EXISTS (SELECT 1 FROM seen_log WHERE fingerprint = ?1)"
			" OR EXISTS (SELECT 1 FROM tokens WHERE fingerprint = ?1 AND requests > 0)",
	/* held, never used, no open finding yet, held long enough */
	[SQ_RISK_UNUSED_ROWS] =
		"SELECT h.fingerprint, MIN(h.first_seen), MIN(h.exe), MIN(h.node), MIN(h.source),"
		" MIN(h.name) FROM held h WHERE NOT EXISTS (SELECT 1 FROM seen_log s"
		" WHERE s.fingerprint = h.fingerprint) AND NOT EXISTS (SELECT 1 FROM tokens t"
		" WHERE t.fingerprint = h.fingerprint AND t.requests > 0) AND NOT EXISTS"
		" (SELECT 1 FROM findings f WHERE f.fingerprint = h.fingerprint"
		" AND f.rule = 'held_never_used') GROUP BY h.fingerprint"
		" HAVING MIN(h.first_seen) <= ?1 LIMIT ?2",
	[SQ_RISK_OPEN_RULES] = "SELECT rule FROM findings WHERE fingerprint = ?1 AND resolved_at IS NULL",
	[SQ_RISK_RISK_UPSERT] =
		"INSERT INTO risk (fingerprint, score, impact, likelihood, impact_why, reasons, updated,"
		" last_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE((SELECT CASE WHEN"
		" requests > 0 THEN last_seen ELSE 0 END FROM tokens WHERE fingerprint = ?1), 0))"
		" ON CONFLICT (fingerprint) DO UPDATE SET score = excluded.score,"
		" impact = excluded.impact, likelihood = excluded.likelihood,"
		" impact_why = excluded.impact_why, reasons = excluded.reasons,"
		" updated = excluded.updated, last_used = MAX(last_used, excluded.last_used)",
	[SQ_SENSORS] = "SELECT sensor_id, node, version, first_seen, last_seen, last_seq, batches,"
		       " events, status_ts, status_json FROM sensors ORDER BY node, sensor_id",
};

/* SQ_USAGE_UPSERT with STORE_USAGE_ROWS rows of VALUES; free() it. */
static char *usage_many_sql(void)
{
	static const char head[] = "INSERT INTO usage (obs_id, minute, count) VALUES ";
	static const char tail[] = " ON CONFLICT (obs_id, minute) DO UPDATE SET"
				   " count = count + excluded.count";
	size_t cap = sizeof(head) + sizeof(tail) + STORE_USAGE_ROWS * 8;
	char *sql = malloc(cap);
	size_t off;

	if (!sql)
		return NULL;
	off = (size_t)snprintf(sql, cap, "%s", head);
	for (int i = 0; i < STORE_USAGE_ROWS; i++)
		off += (size_t)snprintf(sql + off, cap - off, i ? ",(?,?,?)" : "(?,?,?)");
	snprintf(sql + off, cap - off, "%s", tail);
	return sql;
}

sqlite3_stmt *store_stmt(struct store *st, enum store_stmt i)
{
	sqlite3_stmt *s = st->stmt[i];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* -1 on error; 0 when there is no schema_version table yet. */
static int read_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1, &s,
			       NULL) != SQLITE_OK) {
		/* no table: an empty database */
		return sqlite3_get_autocommit(db) ? 0 : -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int latest = store_schema_latest(), v;
	char sql[160];

	/* IMMEDIATE: two collectors starting on one file migrate one at a time */
	if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
			 " applied_at INTEGER NOT NULL)", err, errlen) < 0)
		goto fail;
	v = read_version(db);
	if (v < 0) {
		snprintf(err, errlen, "cannot read schema_version: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (v > latest) {
		snprintf(err, errlen, "database schema %d is newer than this collector's (%d)", v,
			 latest);
		goto fail;
	}
	for (int next = v + 1; next <= latest; next++) {
		if (exec_sql(db, store_schema_migration(next), err, errlen) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, %lld)", next,
			 (long long)clock_real_ms());
		if (exec_sql(db, sql, err, errlen) < 0)
			goto fail;
	}
	return exec_sql(db, "COMMIT", err, errlen);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < SQ__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	obs_hasher_free(st->hasher);
	obs_cache_free(st->verified);
	/* closing the last connection checkpoints the WAL into the file */
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

struct store *store_open(const char *path, int flags, char *err, size_t errlen)
{
	int ro = flags & STORE_READONLY;
	int oflags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		     SQLITE_OPEN_NOMUTEX;
	struct store *st = calloc(1, sizeof(*st));

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->hasher = obs_hasher_new();
	st->verified = obs_cache_new();
	if (!st->hasher || !st->verified) {
		snprintf(err, errlen, "SHA-256 unavailable or out of memory");
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if (!ro) {
		/* WAL: readers (the CLI, queries) never block the ingest */
		if (exec_sql(st->db, "PRAGMA journal_mode = WAL", err, errlen) < 0 ||
		    exec_sql(st->db, "PRAGMA synchronous = NORMAL", err, errlen) < 0 ||
		    /* every batch rewrites pages all over the counters: checkpointing
		     * less often copies each page once per many batches (~16 MiB WAL) */
		    exec_sql(st->db, "PRAGMA wal_autocheckpoint = 4000", err, errlen) < 0 ||
		    migrate(st->db, err, errlen) < 0)
			goto fail;
	} else {
		int v = read_version(st->db);

		if (v != store_schema_latest()) {
			snprintf(err, errlen, "%s: not a tokentap database of schema %d (found %d)",
				 path, store_schema_latest(), v);
			goto fail;
		}
	}
	for (int i = 0; i < SQ__COUNT; i++) {
		char *built = i == SQ_USAGE_UPSERT_MANY ? usage_many_sql() : NULL;
		int rc;

		if (i == SQ_USAGE_UPSERT_MANY && !built) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		rc = sqlite3_prepare_v3(st->db, built ? built : stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		free(built);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

int store_schema_version(struct store *st)
{
	int v;

	pthread_mutex_lock(&st->lock);
	v = read_version(st->db);
	pthread_mutex_unlock(&st->lock);
	return v;
}
