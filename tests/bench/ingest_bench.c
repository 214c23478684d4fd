/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collector ingest rate: pre-built gzip(protobuf) batches go through the
 * collector's own ingest path (ingest_body: gunzip, decode, validation, one
 * SQLite transaction per batch) into a fresh database file. The baseline,
 * measured in the same process and alternated with it, is the decode-only
 * path (ingest_decode), so the ratio of the two is what the store costs.
 * Run it pinned to one CPU (run.sh uses taskset). Prints one line per run
 * and a SUMMARY line with the medians.
 *
 * With -p URL (a PostgreSQL role that may create databases) the store is
 * a fresh PostgreSQL database instead, and -n N collector processes
 * ingest it together, each with -c C threads sharing its store (its
 * connection pool), as a collector's HTTP worker threads apply the
 * batches of sensors posting at the same time. Each of the N x C workers
 * applies one sensor's batches in order (see sensors): events per second
 * of all of them, and per process, with the machine's CPU use meanwhile
 * (the database server runs on the same CPUs). -w sets each process's
 * writers (store_set_writers, serve --db-writers; default the store's).
 *
 * Usage: ingest_bench [-b BATCHES] [-e EVENTS] [-t TOKENS] [-r RUNS] [-d DIR]
 *                     [-p URL [-n REPLICAS] [-c THREADS] [-w WRITERS]]
 */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_check.h"
#include "batch_fixture.h"
#include "ingest.h"
#include "risk.h"
#include "store.h"

#define TARGET_EVENTS_PER_S 200000.0
#define TARGET_PG_PER_REPLICA 100000.0
#define T0_MS 1767225600000LL
/* The workload's population: a busy node, steady state. */
#define N_TOKENS_DEFAULT 100
#define N_PROCS 200
#define N_DSTS 50
#define N_TRIPLES 4000
/*
 * Batches come from the sensors in turn, batch seq from sensor seq %
 * sensors: two, or one per worker when there are more workers (-n x -c),
 * so each worker applies one sensor's batches in order, as a sensor posts
 * them one at a time; a single worker applies all of them.
 */
static unsigned sensors = 2;

struct body {
	uint8_t *data;
	size_t len;
	size_t events;
};

struct opts {
	unsigned batches, events, tokens, runs, replicas, threads, writers;
	const char *dir;
	const char *pg; /* admin URL: PostgreSQL instead of SQLite */
};

/* The PostgreSQL admin URL (-p) and the bench database's conninfo. */
static const char *pg_admin;
static char pg_db[64];

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Recreates the bench's PostgreSQL database (empty); 0, or -1. */
static int pg_recreate(int drop_only)
{
	PGconn *c = PQconnectdb(pg_admin);
	char sql[128];
	PGresult *r;
	int rc = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "ingest_bench: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "ingest_bench: %s", PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	if (!drop_only && rc == 0) {

		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_db);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "ingest_bench: %s", PQresultErrorMessage(r));
			rc = -1;
		}
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed seed so every run ingests the same batches. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Synthetic fingerprints: hex of a hash of the index, no credential behind them. */
static void fp_of(unsigned i, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)mix(i),
		 (unsigned long long)mix(i + 0x10000));
}

struct triple {
	unsigned tok, proc, dst;
};

static struct triple triples[N_TRIPLES];

static void triple_names(const struct triple *t, char fp[33], char exe[64], char dst[64],
			 char host[64], uint32_t *pid)
{
	fp_of(t->tok, fp);
	snprintf(exe, 64, "/usr/bin/app%03u", t->proc % 100);
	snprintf(dst, 64, "10.1.%u.%u:443", t->dst / 200, t->dst % 200 + 1);
	snprintf(host, 64, "api%u.example.com", t->dst);
	*pid = 1000 + t->proc;
}

static const char *type_of(unsigned tok)
{
	static const char *const types[] = { "github_pat", "opaque", "jwt", "aws_access_key" };

	return types[tok % 4];
}

/*
 * One batch as a sensor sends it at steady state: mostly token_usage
 * (one per active triple and interval), some first sightings, some
 * process descriptions and one status. Batch k covers second k, so the
 * per-minute usage rows roll over every 60 batches.
 */
static struct body build_body(uint64_t seq, unsigned n_events)
{
	char sensor[32], node[32];
	Tokentap__V1__Batch *b;

	snprintf(sensor, sizeof(sensor), "bench-sensor-%04u", (unsigned)(seq % sensors));
	snprintf(node, sizeof(node), "bench-node-%u", (unsigned)(seq % sensors));
	b = fx_batch(sensor, node, seq);
	int64_t now = T0_MS + (int64_t)seq * 1000;
	struct body out;
	char fp[33], exe[64], dst[64], host[64], cmd[128];
	uint32_t pid;

	b->sent_at_ms = now + 1000;
	fx_add_status(b, now, seq * n_events, 0);
	for (unsigned i = 1; i < n_events; i++) {
		unsigned r = (unsigned)(rnd() % 100);
		/* a sliding window: no triple twice in a batch, as the sensor aggregates */
		const struct triple *t = &triples[(seq * n_events + i) % N_TRIPLES];

		triple_names(t, fp, exe, dst, host, &pid);
		if (r < 5) {
			snprintf(cmd, sizeof(cmd), "%s --config /etc/app.conf --token ***", exe);
			fx_add_process(b, pid, T0_MS - 60000 - t->proc, exe, cmd, "");
		} else if (r < 15) {
			fx_add_seen(b, fp, type_of(t->tok), pid, exe, dst, host, now + i % 1000);
		} else {
			fx_add_usage(b, fp, type_of(t->tok), pid, exe, dst, host, 1 + rnd() % 50,
				     now + i % 1000);
		}
	}
	out.events = b->n_events;
	out.data = fx_pack(b, true, &out.len);
	fx_free(b);
	return out;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void remove_db(const char *path)
{
	if (pg_admin) {
		pg_recreate(0);
		return;
	}
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[4200];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			fprintf(stderr, "ingest_bench: cannot remove %s: %s\n", p, strerror(errno));
	}
}

/* Decode-only pass over every body; events per second, or -1. */
static double run_decode(const struct ingest_limits *lim, const struct body *bodies, unsigned n)
{
	struct ingest_result res;
	size_t events = 0;
	double t0 = mono_s(), dt;

	for (unsigned i = 0; i < n; i++) {
		if (ingest_decode(lim, "gzip", bodies[i].data, bodies[i].len, &res) < 0) {
			fprintf(stderr, "ingest_bench: batch %u rejected: %s\n", i, res.msg);
			return -1;
		}
		events += res.events;
	}
	dt = mono_s() - t0;
	return (double)events / dt;
}

/*
 * The full ingest path into a fresh database file; events per second, or
 * -1. store_ms receives the time spent inside store transactions.
 */
static double run_store(const struct ingest_limits *lim, const struct body *bodies, unsigned n,
			const char *db, double *store_ms, double *risk_s, unsigned *risk_seen)
{
	struct ingest_result res;
	struct store *st;
	char err[256];
	size_t events = 0;
	uint64_t store_ns = 0;
	double t0, dt;

	remove_db(db);
	st = store_open(db, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "ingest_bench: %s\n", err);
		return -1;
	}
	t0 = mono_s();
	for (unsigned i = 0; i < n; i++) {
		ingest_body(st, lim, "gzip", bodies[i].data, bodies[i].len,
			    T0_MS + (int64_t)i * 1000 + 1100, &res);
		if (res.status != INGEST_STORED) {
			fprintf(stderr, "ingest_bench: batch %u not stored: %s\n", i, res.msg);
			store_close(st);
			return -1;
		}
		events += res.events;
		store_ns += res.store_ns;
	}
	dt = mono_s() - t0;
	{
		/* the risk engine over every first sighting just stored, pass after pass */
		struct risk_config cfg;
		struct risk_pass_stats ps;
		double r0 = mono_s();

		risk_config_default(&cfg);
		*risk_seen = 0;
		do {
			if (store_risk_pass(st, &cfg, T0_MS + (int64_t)n * 1000 + 2000, &ps, err,
					    sizeof(err)) < 0) {
				fprintf(stderr, "ingest_bench: %s\n", err);
				break;
			}
			*risk_seen += ps.seen;
		} while (ps.seen > 0);
		*risk_s = mono_s() - r0;
		risk_config_free(&cfg);
	}
	/* closing checkpoints the WAL: not part of the steady-state rate */
	store_close(st);
	remove_db(db);
	*store_ms = (double)store_ns / 1e6;
	return (double)events / dt;
}

/* One worker thread of a collector process: the batches i = first (mod step), in order. */
struct worker {
	pthread_t tid;
	struct store *st;
	const struct ingest_limits *lim;
	const struct body *bodies;
	unsigned first, step, n;
	int failed;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct ingest_result res;

	for (unsigned i = w->first; i < w->n; i += w->step) {
		ingest_body(w->st, w->lim, "gzip", w->bodies[i].data, w->bodies[i].len,
			    T0_MS + (int64_t)i * 1000 + 1100, &res);
		if (res.status != INGEST_STORED) {
			fprintf(stderr, "ingest_bench: batch %u not stored: %s\n", i, res.msg);
			w->failed = 1;
			break;
		}
	}
	return NULL;
}

/* Busy and total jiffies of all CPUs (/proc/stat); 0, or -1. */
static int cpu_ticks(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	/* idle and iowait are the CPUs' spare time */
	*busy = *total - v[3] - v[4];
	return 0;
}

/*
 * PostgreSQL with several collector processes of several threads: each
 * process opens its own store (its own pool of connections), its threads
 * share it, and worker w = k x threads + j applies every workers-th batch
 * from the w-th. The clock runs from the moment all are connected until
 * the last has finished. Events per second of all of them, or -1;
 * cpu_pct receives the share of the machine's CPU time in use meanwhile.
 */
static double run_replicas(const struct ingest_limits *lim, const struct body *bodies, unsigned n,
			   const char *db, unsigned replicas, unsigned threads, unsigned writers,
			   double *cpu_pct)
{
	int ready[2], go[2], status, failed = 0;
	unsigned long long b0 = 0, t0j = 0, b1 = 0, t1j = 0;
	unsigned workers = replicas * threads;
	size_t events = 0;
	char err[256], byte = 0;
	struct store *st;
	double t0;

	remove_db(db);
	/* the schema first, so replicas do not queue on the migration lock while timed */
	st = store_open(db, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "ingest_bench: %s\n", err);
		return -1;
	}
	store_close(st);
	if (pipe(ready) < 0 || pipe(go) < 0)
		return -1;
	fflush(NULL);
	for (unsigned k = 0; k < replicas; k++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			struct worker w[16];
			int bad = 0;

			st = store_open(db, 0, err, sizeof(err));
			if (!st) {
				fprintf(stderr, "ingest_bench: %s\n", err);
				_exit(1);
			}
			if (writers && store_set_writers(st, writers) < 0) {
				fprintf(stderr, "ingest_bench: -w %u refused\n", writers);
				_exit(1);
			}
			if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1)
				_exit(1);
			for (unsigned j = 0; j < threads; j++) {
				w[j] = (struct worker){ .st = st, .lim = lim, .bodies = bodies,
							.first = k * threads + j, .step = workers,
							.n = n };
				if (pthread_create(&w[j].tid, NULL, worker_run, &w[j]) != 0)
					_exit(1);
			}
			for (unsigned j = 0; j < threads; j++) {
				pthread_join(w[j].tid, NULL);
				bad |= w[j].failed;
			}
			store_close(st);
			_exit(bad);
		}
	}
	for (unsigned k = 0; k < replicas; k++)
		if (read(ready[0], &byte, 1) != 1)
			return -1;
	t0 = mono_s();
	if (cpu_ticks(&b0, &t0j) < 0)
		b0 = t0j = 0;
	for (unsigned k = 0; k < replicas; k++)
		if (write(go[1], &byte, 1) != 1)
			return -1;
	for (unsigned k = 0; k < replicas; k++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	t0 = mono_s() - t0;
	if (cpu_ticks(&b1, &t1j) < 0 || t1j <= t0j)
		*cpu_pct = -1;
	else
		*cpu_pct = 100.0 * (double)(b1 - b0) / (double)(t1j - t0j);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	for (unsigned i = 0; i < n; i++)
		events += bodies[i].events;
	return failed ? -1 : (double)events / t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
	double s[64];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static unsigned parse_uint(const char *s, unsigned lo, unsigned hi, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "ingest_bench: %s must be in [%u, %u]\n", what, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ 200, 1000, N_TOKENS_DEFAULT, 5, 1, 1, 0, "/tmp", NULL };
	while ((c = getopt(argc, argv, "b:e:t:r:d:p:n:c:w:")) != -1) {
		switch (c) {
		case 'b': o->batches = parse_uint(optarg, 1, 100000, "-b BATCHES"); break;
		case 'e': o->events = parse_uint(optarg, 2, BATCH_CHECK_MAX_EVENTS, "-e EVENTS"); break;
		case 't': o->tokens = parse_uint(optarg, 1, N_TRIPLES, "-t TOKENS"); break;
		case 'r': o->runs = parse_uint(optarg, 1, 63, "-r RUNS"); break;
		case 'd': o->dir = optarg; break;
		case 'p': o->pg = optarg; break;
		case 'n': o->replicas = parse_uint(optarg, 1, 16, "-n REPLICAS"); break;
		case 'c': o->threads = parse_uint(optarg, 1, 16, "-c THREADS"); break;
		case 'w': o->writers = parse_uint(optarg, 1, 5, "-w WRITERS"); break;
		default:
			fprintf(stderr, "usage: ingest_bench [-b BATCHES] [-e EVENTS] [-t TOKENS] [-r RUNS] "
				"[-d DIR] [-p URL [-n REPLICAS] [-c THREADS] [-w WRITERS]]\n");
			exit(2);
		}
	}
	/* SQLite has one writer: processes and threads are PostgreSQL's */
	if (!o->pg && (o->replicas > 1 || o->threads > 1 || o->writers)) {
		fprintf(stderr, "ingest_bench: -n, -c and -w need -p URL\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ingest_limits lim;
	struct body *bodies;
	double dec[64], sto[64], ratio[64], share[64], risk[64], store_ms, risk_s;
	unsigned risk_seen;
	int multi;
	size_t bytes = 0, events = 0;
	char db[4200];

	parse_opts(argc, argv, &o);
	multi = o.replicas > 1 || o.threads > 1 || o.writers;
	if (o.replicas * o.threads > sensors)
		sensors = o.replicas * o.threads;
	ingest_limits_default(&lim);
	snprintf(db, sizeof(db), "%s/ingest-bench-%ld.db", o.dir, (long)getpid());
	if (o.pg) {
		/* the bench's own database on the server of the admin URL, by keyword */
		PGconn *c = PQconnectdb(o.pg);
		PQconninfoOption *opts = PQconninfo(c);
		size_t off = 0;

		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "ingest_bench: -p: %s", PQerrorMessage(c));
			return 1;
		}
		pg_admin = o.pg;
		snprintf(pg_db, sizeof(pg_db), "ingest_bench_%ld", (long)getpid());
		for (PQconninfoOption *q = opts; q && q->keyword; q++)
			if (q->val && q->val[0] && (!strcmp(q->keyword, "host") ||
						    !strcmp(q->keyword, "port") ||
						    !strcmp(q->keyword, "user") ||
						    !strcmp(q->keyword, "password")))
				off += (size_t)snprintf(db + off, sizeof(db) - off, "%s='%s' ",
							q->keyword, q->val);
		snprintf(db + off, sizeof(db) - off, "dbname=%s", pg_db);
		PQconninfoFree(opts);
		PQfinish(c);
	}
	for (unsigned i = 0; i < N_TRIPLES; i++)
		triples[i] = (struct triple){ (unsigned)(rnd() % o.tokens),
					      (unsigned)(rnd() % N_PROCS),
					      (unsigned)(rnd() % N_DSTS) };
	bodies = fx_alloc(o.batches * sizeof(*bodies));
	for (unsigned i = 0; i < o.batches; i++) {
		bodies[i] = build_body(i + 1, o.events);
		bytes += bodies[i].len;
		events += bodies[i].events;
	}
	printf("ingest: %u batches x %u events (%zu events, %.1f KiB gzip per batch); "
	       "%u tokens, %u processes, %u destinations, %u active triples; "
	       "%u runs, each into a fresh %s/*.db\n",
	       o.batches, o.events, events, (double)bytes / o.batches / 1024, o.tokens, N_PROCS,
	       N_DSTS, N_TRIPLES, o.runs, o.dir);
	printf("%-6s %12s %12s %10s %10s %10s %10s\n", "run", "decode ev/s", "ingest ev/s",
	       "dec/ingest", multi ? "cpu %" : "store %", "risk sg/s", "risk/ing");
	/* warm-up: page cache, allocator, SQLite's first file */
	if (run_decode(&lim, bodies, o.batches) < 0 ||
	    run_store(&lim, bodies, o.batches < 20 ? o.batches : 20, db, &store_ms, &risk_s,
		      &risk_seen) < 0)
		return 1;
	for (unsigned r = 0; r < o.runs; r++) {
		double t_total, cpu = -1;

		/* alternate the order so drift does not favour one path */
		if (r % 2 == 0)
			dec[r] = run_decode(&lim, bodies, o.batches);
		if (multi) {
			sto[r] = run_replicas(&lim, bodies, o.batches, db, o.replicas, o.threads,
					      o.writers, &cpu);
			/* the processes' own times are not collected: rates and CPU use only */
			store_ms = 0;
			risk_s = 1;
			risk_seen = 0;
		} else {
			sto[r] = run_store(&lim, bodies, o.batches, db, &store_ms, &risk_s, &risk_seen);
		}
		if (r % 2)
			dec[r] = run_decode(&lim, bodies, o.batches);
		if (dec[r] < 0 || sto[r] < 0)
			return 1;
		ratio[r] = dec[r] / sto[r];
		t_total = (double)events / sto[r] * 1000;
		share[r] = multi ? cpu : 100 * store_ms / t_total;
		/* engine time for these sightings over the time to ingest them */
		risk[r] = risk_s / ((double)events / sto[r]);
		printf("%-6u %12.0f %12.0f %10.2f %9.1f%% %10.0f %10.3f\n", r + 1, dec[r], sto[r],
		       ratio[r], share[r], risk_seen / risk_s, risk[r]);
	}
	printf("%-6s %12.0f %12.0f %10.2f %9.1f%% %10s %10.3f\n", "median", median(dec, o.runs),
	       median(sto, o.runs), median(ratio, o.runs), median(share, o.runs), "",
	       median(risk, o.runs));
	printf("(decode = gunzip + protobuf unpack + validation only; ingest = the same plus "
	       "the store's transaction; dec/ingest = how many times slower storing makes it; "
	       "%s; risk sg/s = first sightings the risk engine evaluates per second; "
	       "risk/ing = engine time for the run's sightings over the time to ingest the "
	       "run)\n",
	       multi ? "cpu % = the machine's CPU time in use during the run, the database "
		       "server's included"
		     : "store % = share of ingest time inside store transactions");
	if (o.pg) {
		pg_recreate(1);
		char wr[32] = "", cpu[48] = "";

		if (o.writers)
			snprintf(wr, sizeof(wr), ", %u writer%s", o.writers, o.writers > 1 ? "s" : "");
		if (multi)
			snprintf(cpu, sizeof(cpu), "; machine CPU in use %.0f%%", median(share, o.runs));
		printf("SUMMARY ingest-pg: %.0f events/s into PostgreSQL with %u collector "
		       "process%s of %u thread%s%s, %.0f per process (median of %u runs; the "
		       "server on the same machine%s); target >= %.0f per process: %s\n",
		       median(sto, o.runs), o.replicas, o.replicas > 1 ? "es" : "", o.threads,
		       o.threads > 1 ? "s" : "", wr, median(sto, o.runs) / o.replicas, o.runs, cpu,
		       TARGET_PG_PER_REPLICA,
		       median(sto, o.runs) / o.replicas >= TARGET_PG_PER_REPLICA ? "met" : "NOT met");
		return 0;
	}
	printf("SUMMARY ingest: %.0f events/s into SQLite (median of %u runs, one CPU); "
	       "decode-only %.0f events/s; decode/ingest %.2f; risk engine time / ingest time "
	       "%.3f; target >= %.0f events/s: %s\n",
	       median(sto, o.runs), o.runs, median(dec, o.runs), median(ratio, o.runs),
	       median(risk, o.runs),
	       TARGET_EVENTS_PER_S, median(sto, o.runs) >= TARGET_EVENTS_PER_S ? "met" : "NOT met");
	for (unsigned i = 0; i < o.batches; i++)
		free(bodies[i].data);
	free(bodies);
	return 0;
}
