/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query latency with a month of history: 10,000 tokens used by 100 nodes
 * for 30 days (each token by two processes on two nodes, in four bursts a
 * day), stored through the store API as the collector stores batches, the
 * risk engine run over it. The database is generated once and reused while
 * its parameters match (PATH.params; on PostgreSQL a row in the database).
 * Then, in alternation, store_query_token (the forensics view of one
 * token), store_query_token_page(sort=risk, PAGE_ROWS rows, walking the
 * pages by cursor) and, as the baseline, store_query_tokens(sort=risk) (the
 * whole list) are timed, and the CLI path (`token FP`, `tokens --sort risk
 * --limit N`, `tokens --sort risk`, process start included) and the HTTP
 * path (`serve` on the same database) once each. The same on PostgreSQL
 * with --pg. Prints p50/p99 and a SUMMARY line per backend.
 *
 * Usage: query_bench --db PATH [--pg URL] [--tokens N] [--days D]
 *                    [--queries Q] [--collector BIN]
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batch_fixture.h"
#include "risk.h"
#include "store.h"

#define TARGET_P99_MS 100.0
#define NODES 100
#define PROCS 40
#define DSTS 300
#define BURSTS_PER_DAY 4
#define DAY_MS 86400000LL
#define MINUTE_MS 60000LL
/*
 * 2: tokens carry their risk score (schema 6 / PostgreSQL 3); 3: `serve`
 * runs without retention, which rolled the history's old minutes up.
 */
#define PARAMS_VERSION 3
/* the console's and the CLI's page */
#define PAGE_ROWS 100
/* pages walked by cursor before starting again at the first */
#define PAGE_WALK 10
#define PG_BENCH_DB "tokentap_query_bench"

struct opts {
	const char *db, *collector, *pg;
	unsigned tokens, days, queries;
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void fp_of(unsigned t, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)mix(t + 0x5157),
		 (unsigned long long)mix(t + 0x77777));
}

static const char *type_of(unsigned t)
{
	static const char *const types[] = { "github_pat", "opaque", "jwt", "aws_sigv4" };

	return types[t % 4];
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Token t is used on its home node and on a second one. */
static unsigned node_of(unsigned t, unsigned which)
{
	return which ? (t * 7 + 3) % NODES : t % NODES;
}

/* The triples of node n: every (token, which) whose node is n, as (token << 1 | which). */
static unsigned triples_of(const struct opts *o, unsigned n, unsigned *out)
{
	unsigned k = 0;

	for (unsigned t = 0; t < o->tokens; t++)
		for (unsigned w = 0; w < 2; w++)
			if (node_of(t, w) == n)
				out[k++] = t << 1 | w;
	return k;
}

static void names(unsigned t, unsigned w, char exe[64], char dst[64], char host[64], uint32_t *pid)
{
	unsigned proc = (t / NODES + w) % PROCS, d = (t + w) % DSTS;

	snprintf(exe, 64, "/usr/local/bin/svc%02u", proc);
	snprintf(dst, 64, "10.2.%u.%u:443", d / 250, d % 250 + 1);
	snprintf(host, 64, "api%u.example.com", d);
	*pid = 2000 + proc;
}

static int apply(struct store *st, Tokentap__V1__Batch *b, int64_t now)
{
	char err[256];
	enum store_result r = store_apply_batch(st, b, now, err, sizeof(err));

	fx_free(b);
	if (r != STORE_APPLIED) {
		fprintf(stderr, "query_bench: batch not stored: %s\n", err);
		return -1;
	}
	return 0;
}

/* The history into path (label names it: a PostgreSQL conninfo holds a password). */
static int generate(const struct opts *o, const char *path, const char *label)
{
	int64_t now = (int64_t)time(NULL) * 1000, t0 = now - (int64_t)o->days * DAY_MS;
	unsigned *tr = malloc(sizeof(*tr) * o->tokens * 2);
	struct store *st;
	char err[256], fp[33], exe[64], dst[64], host[64], sid[32], node[32];
	uint64_t events = 0;
	double g0 = mono_ms();
	int rc = -1;

	if (!tr)
		return -1;
	st = store_open(path, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "query_bench: %s\n", err);
		free(tr);
		return -1;
	}
	fprintf(stderr, "query_bench: generating %u days of history for %u tokens into %s...\n",
		o->days, o->tokens, label);
	for (unsigned n = 0; n < NODES; n++) {
		unsigned k = triples_of(o, n, tr);
		uint64_t seq = 1;
		Tokentap__V1__Batch *b;

		snprintf(sid, sizeof(sid), "query-bench-%03u", n);
		snprintf(node, sizeof(node), "node-%03u", n);
		/* the first sighting of each triple, then the bursts day by day */
		b = fx_batch(sid, node, seq++);
		b->sent_at_ms = t0;
		for (unsigned i = 0; i < k; i++) {
			uint32_t pid;

			fp_of(tr[i] >> 1, fp);
			names(tr[i] >> 1, tr[i] & 1, exe, dst, host, &pid);
			fx_add_seen(b, fp, type_of(tr[i] >> 1), pid, exe, dst, host, t0 + i);
		}
		events += b->n_events;
		if (apply(st, b, t0) < 0)
			goto out;
		for (unsigned d = 0; d < o->days; d++)
			for (unsigned burst = 0; burst < BURSTS_PER_DAY; burst++) {
				int64_t ts = t0 + d * DAY_MS + burst * (DAY_MS / BURSTS_PER_DAY) +
					     (int64_t)(mix(n * 1000003ULL + d * 31 + burst) % 360) * MINUTE_MS;

				b = fx_batch(sid, node, seq++);
				b->sent_at_ms = ts + 1000;
				for (unsigned i = 0; i < k; i++) {
					uint32_t pid;

					fp_of(tr[i] >> 1, fp);
					names(tr[i] >> 1, tr[i] & 1, exe, dst, host, &pid);
					fx_add_usage(b, fp, type_of(tr[i] >> 1), pid, exe, dst, host,
						     1 + mix(tr[i] + seq) % 20, ts);
				}
				events += b->n_events;
				if (apply(st, b, ts + 1000) < 0)
					goto out;
			}
	}
	{
		/* scores for the risk sort: the engine over every first sighting */
		struct risk_config cfg;
		struct risk_pass_stats ps;

		risk_config_default(&cfg);
		do {
			if (store_risk_pass(st, &cfg, now, &ps, err, sizeof(err)) < 0) {
				fprintf(stderr, "query_bench: %s\n", err);
				risk_config_free(&cfg);
				goto out;
			}
		} while (ps.seen > 0);
		risk_config_free(&cfg);
	}
	fprintf(stderr, "query_bench: %llu events in %.1f s\n", (unsigned long long)events,
		(mono_ms() - g0) / 1e3);
	rc = 0;
out:
	store_close(st);
	free(tr);
	return rc;
}

static void params_line(const struct opts *o, char *want, size_t len)
{
	snprintf(want, len, "query_bench v%d tokens=%u days=%u nodes=%d\n", PARAMS_VERSION,
		 o->tokens, o->days, NODES);
}

/* The history at o->db, generated unless PATH.params says it matches. */
static int ensure_history(const struct opts *o)
{
	char params[4200], want[128], have[128] = "", tmp[4200];
	FILE *f;
	struct stat sb;

	snprintf(params, sizeof(params), "%s.params", o->db);
	params_line(o, want, sizeof(want));
	f = fopen(params, "r");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = 0;
		fclose(f);
	}
	if (!strcmp(have, want) && stat(o->db, &sb) == 0) {
		fprintf(stderr, "query_bench: reusing %s\n", o->db);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->db);
	unlink(tmp);
	unlink(params);
	if (generate(o, tmp, tmp) < 0)
		return -1;
	if (rename(tmp, o->db) < 0) {
		fprintf(stderr, "query_bench: rename %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	f = fopen(params, "w");
	if (!f || fputs(want, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "query_bench: cannot write %s\n", params);
		return -1;
	}
	return 0;
}

/* One statement on c; 0, or -1 said on stderr. */
static int pg_do(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "query_bench: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

/*
 * The history in the database PG_BENCH_DB of the server at admin (a role
 * that may create databases), generated unless its params row matches.
 * Its conninfo in url.
 */
static int pg_ensure_history(const struct opts *o, char *url, size_t len)
{
	PGconn *a = PQconnectdb(o->pg), *c;
	PQconninfoOption *opts;
	char want[128];
	size_t n = 0;
	int match = 0, rc = -1;

	if (PQstatus(a) != CONNECTION_OK) {
		fprintf(stderr, "query_bench: --pg: %s", PQerrorMessage(a));
		PQfinish(a);
		return -1;
	}
	opts = PQconninfo(a);
	url[0] = 0;
	for (PQconninfoOption *p = opts; p && p->keyword; p++) {
		static const char *const keep[] = { "host", "port", "user", "password" };

		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
			if (!strcmp(p->keyword, keep[k]) && p->val && p->val[0])
				n += (size_t)snprintf(url + n, n < len ? len - n : 0, "%s='%s' ",
						      p->keyword, p->val);
	}
	snprintf(url + n, n < len ? len - n : 0, "dbname=" PG_BENCH_DB);
	PQconninfoFree(opts);
	params_line(o, want, sizeof(want));
	c = PQconnectdb(url);
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, "SELECT v FROM query_bench_params");

		match = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			!strcmp(PQgetvalue(r, 0, 0), want);
		PQclear(r);
	}
	PQfinish(c);
	if (match) {
		fprintf(stderr, "query_bench: reusing the PostgreSQL history\n");
		PQfinish(a);
		return 0;
	}
	if (pg_do(a, "DROP DATABASE IF EXISTS " PG_BENCH_DB) < 0 ||
	    pg_do(a, "CREATE DATABASE " PG_BENCH_DB) < 0 || generate(o, url, "PostgreSQL database " PG_BENCH_DB) < 0)
		goto out;
	c = PQconnectdb(url);
	if (PQstatus(c) == CONNECTION_OK && pg_do(c, "CREATE TABLE query_bench_params (v text)") == 0) {
		const char *v[1] = { want };
		PGresult *r = PQexecParams(c, "INSERT INTO query_bench_params VALUES ($1)", 1, NULL,
					   v, NULL, NULL, 0);

		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		PQclear(r);
		/* the planner's statistics for the queries timed next */
		if (rc == 0)
			rc = pg_do(c, "ANALYZE tokens, risk, observations, held, seen_log, usage");
	}
	PQfinish(c);
out:
	PQfinish(a);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, unsigned n, double p)
{
	size_t k = (size_t)ceil(p / 100.0 * n);

	qsort(v, n, sizeof(*v), cmp_double);
	return v[k ? k - 1 : 0];
}

/* Wall time of one CLI command, output discarded; -1 when it fails. */
static double run_cli(char *const argv[])
{
	double t0;
	int status;
	pid_t p;

	/* the child's freopen would flush a copy of what is buffered */
	fflush(stdout);
	t0 = mono_ms();
	p = fork();

	if (p < 0)
		return -1;
	if (p == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return mono_ms() - t0;
}

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

/* Wall time of one GET answered 200; -1 otherwise. */
static double http_get(const char *url)
{
	CURL *h = curl_easy_init();
	long code = 0;
	double t0, ms = -1;

	if (!h)
		return -1;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	/* the whole list, the baseline, takes seconds on a busy machine */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
	t0 = mono_ms();
	if (curl_easy_perform(h) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
		ms = mono_ms() - t0;
	curl_easy_cleanup(h);
	return ms;
}

/*
 * `serve` on the history (store only, loopback, a free port; no risk
 * engine and no retention, which would change the history), one GET of
 * each kind, then SIGTERM. Sets the two times (-1 on failure).
 */
static void run_http(const char *collector, const char *db, const char *fp, double *one,
		     double *page, double *list)
{
	char *argv[] = { (char *)collector, "serve", "--db", (char *)db, "--listen", "127.0.0.1:0",
			 "--insecure-no-auth", "--no-risk", "--retention", "off", NULL };
	char line[512], url[600];
	int fd[2], status;
	unsigned port = 0;
	FILE *err;
	pid_t p;

	*one = *page = *list = -1;
	fflush(stdout);
	if (pipe(fd) < 0)
		return;
	p = fork();
	if (p < 0) {
		close(fd[0]);
		close(fd[1]);
		return;
	}
	if (p == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	err = fdopen(fd[0], "r");
	while (err && fgets(line, sizeof(line), err)) {
		const char *q = strstr(line, "(port ");

		if (q && sscanf(q, "(port %u)", &port) == 1)
			break;
	}
	if (port) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/tokens/%s", port, fp);
		*one = http_get(url);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/tokens?sort=risk&limit=%d", port,
			 PAGE_ROWS);
		*page = http_get(url);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/tokens?sort=risk", port);
		*list = http_get(url);
	}
	kill(p, SIGTERM);
	if (err)
		fclose(err);
	else
		close(fd[0]);
	waitpid(p, &status, 0);
}

static unsigned parse_uint(const char *s, unsigned lo, unsigned hi, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "query_bench: %s must be in [%u, %u]\n", what, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tokens", required_argument, NULL, 't' },
		{ "days", required_argument, NULL, 'D' },
		{ "queries", required_argument, NULL, 'q' },
		{ "collector", required_argument, NULL, 'c' },
		{ "pg", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .tokens = 10000, .days = 30, .queries = 200 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 't': o->tokens = parse_uint(optarg, 1, 1000000, "--tokens"); break;
		case 'D': o->days = parse_uint(optarg, 1, 365, "--days"); break;
		case 'q': o->queries = parse_uint(optarg, 2, 100000, "--queries"); break;
		case 'c': o->collector = optarg; break;
		case 'p': o->pg = optarg; break;
		default:
			fprintf(stderr, "usage: query_bench --db PATH [--tokens N] [--days D] "
				"[--queries Q] [--collector BIN] [--pg URL]\n");
			exit(2);
		}
	}
	if (!o->db) {
		fprintf(stderr, "query_bench: --db PATH is required\n");
		exit(2);
	}
}

/*
 * Times the three reads on db (label names it in the output): the token
 * view and a page o->queries times, the whole list n_full times, in
 * alternation; then the CLI and HTTP paths once. 0, or 1 on a failure.
 */
static int bench_db(const struct opts *o, const char *db, const char *label, unsigned n_full)
{
	struct store *st;
	struct token_page_query q;
	char err[256], fp[33] = "";
	double *one = calloc(o->queries, sizeof(double)), *page = calloc(o->queries, sizeof(double));
	double *full = calloc(n_full, sizeof(double)), t0;
	size_t listed = 0, paged = 0;
	unsigned every = o->queries / n_full ? o->queries / n_full : 1;
	int rc = 0;

	if (!one || !page || !full)
		return 1;
	st = store_open(db, STORE_READONLY, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "query_bench: %s: %s\n", label, err);
		return 1;
	}
	token_page_query_init(&q, TOKEN_SORT_RISK);
	q.limit = PAGE_ROWS;
	for (unsigned i = 0, j = 0; i < o->queries && rc == 0; i++) {
		struct json_object *out = NULL, *next;

		fp_of((unsigned)(mix(i) % o->tokens), fp);
		t0 = mono_ms();
		if (store_query_token(st, fp, &out, err, sizeof(err)) != 1) {
			fprintf(stderr, "query_bench: %s: token %s: %s\n", label, fp, err);
			rc = 1;
			break;
		}
		one[i] = mono_ms() - t0;
		json_object_put(out);
		/* the next page by cursor, back to the first after PAGE_WALK */
		if (i % PAGE_WALK == 0)
			q.has_cursor = 0;
		t0 = mono_ms();
		if (store_query_token_page(st, &q, &out, err, sizeof(err)) < 0) {
			fprintf(stderr, "query_bench: %s: page: %s\n", label, err);
			rc = 1;
			break;
		}
		page[i] = mono_ms() - t0;
		paged = json_object_array_length(json_object_object_get(out, "tokens"));
		if (!json_object_object_get_ex(out, "next_cursor", &next) ||
		    token_cursor_parse(json_object_get_string(next), &q) < 0)
			q.has_cursor = 0;
		json_object_put(out);
		if (i % every == 0 && j < n_full) {
			t0 = mono_ms();
			if (store_query_tokens(st, TOKEN_SORT_RISK, &out, err, sizeof(err)) < 0) {
				fprintf(stderr, "query_bench: %s: tokens: %s\n", label, err);
				rc = 1;
				break;
			}
			full[j++] = mono_ms() - t0;
			listed = json_object_array_length(out);
			json_object_put(out);
		}
	}
	store_close(st);
	if (rc == 0) {
		double o50 = pct(one, o->queries, 50), o99 = pct(one, o->queries, 99);
		double p50 = pct(page, o->queries, 50), p99 = pct(page, o->queries, 99);
		double f50 = pct(full, n_full, 50), f99 = pct(full, n_full, 99);
		double cli_one = -1, cli_page = -1, cli_full = -1;
		double http_one = -1, http_page = -1, http_full = -1;
		char limit[16];

		snprintf(limit, sizeof(limit), "%d", PAGE_ROWS);
		printf("\n== query (%s): %u tokens, %u days of history ==\n", label, o->tokens, o->days);
		printf("store_query_token:                   p50 %8.2f ms  p99 %8.2f ms  (%u queries)\n",
		       o50, o99, o->queries);
		printf("store_query_token_page(risk, %3d):   p50 %8.2f ms  p99 %8.2f ms  (%u queries, "
		       "%zu tokens each, pages 1..%d by cursor)\n", PAGE_ROWS, p50, p99, o->queries,
		       paged, PAGE_WALK);
		printf("store_query_tokens(risk) baseline:   p50 %8.2f ms  p99 %8.2f ms  (%u queries, "
		       "%zu tokens each)\n", f50, f99, n_full, listed);
		printf("whole list / page: p50 %.1fx\n", p50 > 0 ? f50 / p50 : 0);
		if (o->collector) {
			char *a1[] = { (char *)o->collector, "token", fp, "--db", (char *)db, "--json",
				       NULL };
			char *a2[] = { (char *)o->collector, "tokens", "--sort", "risk", "--limit", limit,
				       "--db", (char *)db, NULL };
			char *a3[] = { (char *)o->collector, "tokens", "--sort", "risk", "--db",
				       (char *)db, NULL };

			cli_one = run_cli(a1);
			cli_page = run_cli(a2);
			cli_full = run_cli(a3);
			if (cli_one < 0 || cli_page < 0 || cli_full < 0) {
				fprintf(stderr, "query_bench: %s: the CLI failed\n", label);
				rc = 1;
			}
			printf("CLI once (process start included): token FP --json %.1f ms, tokens --sort "
			       "risk --limit %d %.1f ms, tokens --sort risk %.1f ms\n", cli_one, PAGE_ROWS,
			       cli_page, cli_full);
			run_http(o->collector, db, fp, &http_one, &http_page, &http_full);
			if (http_one < 0 || http_page < 0 || http_full < 0) {
				fprintf(stderr, "query_bench: %s: the HTTP path failed\n", label);
				rc = 1;
			}
			printf("HTTP once (serve on the same database): GET /v1/tokens/FP %.1f ms, GET "
			       "/v1/tokens?sort=risk&limit=%d %.1f ms, GET /v1/tokens?sort=risk %.1f ms\n",
			       http_one, PAGE_ROWS, http_page, http_full);
		}
		printf("SUMMARY query %s: token p50 %.2f ms p99 %.2f ms; tokens --sort risk --limit %d "
		       "p50 %.2f ms p99 %.2f ms; whole list (baseline) p50 %.2f ms p99 %.2f ms, "
		       "%.1fx the page; CLI token %.1f ms, page %.1f ms; HTTP token %.1f ms, page "
		       "%.1f ms; target p99 <= %.0f ms: %s\n",
		       label, o50, o99, PAGE_ROWS, p50, p99, f50, f99, p50 > 0 ? f50 / p50 : 0,
		       cli_one, cli_page, http_one, http_page, TARGET_P99_MS,
		       o99 <= TARGET_P99_MS && p99 <= TARGET_P99_MS ? "met" : "NOT met");
	}
	free(one);
	free(page);
	free(full);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	char url[1024];
	int rc;

	parse_opts(argc, argv, &o);
	if (ensure_history(&o) < 0)
		return 1;
	/* the whole list is ~100x the work of one token: fewer of them */
	rc = bench_db(&o, o.db, "sqlite", o.queries / 10 > 5 ? o.queries / 10 : 5);
	if (o.pg) {
		if (pg_ensure_history(&o, url, sizeof(url)) < 0)
			return 1;
		/* on PostgreSQL each of its statements is a round trip: fewer still */
		rc |= bench_db(&o, url, "postgresql", 5);
	}
	return rc;
}
