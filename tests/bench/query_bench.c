/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Query latency with a month of history: 10,000 tokens used by 100 nodes
 * for 30 days (each token by two processes on two nodes, in four bursts a
 * day), stored through the store API as the collector stores batches, the
 * risk engine run over it. The database is generated once and reused while
 * its parameters match (PATH.params). Then store_query_token (the
 * forensics view of one token) and store_query_tokens(sort=risk) are timed
 * in alternation, and the CLI path (`token FP`, `tokens --sort risk`,
 * process start included) and the HTTP path (`serve` on the same file,
 * GET /v1/tokens/FP and /v1/tokens?sort=risk) once each. Prints p50/p99 and a SUMMARY line.
 *
 * Usage: query_bench --db PATH [--tokens N] [--days D] [--queries Q]
 *                    [--collector BIN]
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <json-c/json.h>
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
#define PARAMS_VERSION 1

struct opts {
	const char *db, *collector;
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

static int generate(const struct opts *o, const char *path)
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
		o->days, o->tokens, path);
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

/* The history at o->db, generated unless PATH.params says it matches. */
static int ensure_history(const struct opts *o)
{
	char params[4200], want[128], have[128] = "", tmp[4200];
	FILE *f;
	struct stat sb;

	snprintf(params, sizeof(params), "%s.params", o->db);
	snprintf(want, sizeof(want), "query_bench v%d tokens=%u days=%u nodes=%d\n", PARAMS_VERSION,
		 o->tokens, o->days, NODES);
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
	if (generate(o, tmp) < 0)
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
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	t0 = mono_ms();
	if (curl_easy_perform(h) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
		ms = mono_ms() - t0;
	curl_easy_cleanup(h);
	return ms;
}

/*
 * `serve` on the history (store only, loopback, a free port), one GET of
 * each kind, then SIGTERM. Sets the two times (-1 on failure).
 */
static void run_http(const char *collector, const char *db, const char *fp, double *one,
		     double *list)
{
	char *argv[] = { (char *)collector, "serve", "--db", (char *)db, "--listen", "127.0.0.1:0",
			 "--insecure-no-auth", "--no-risk", NULL };
	char line[512], url[600];
	int fd[2], status;
	unsigned port = 0;
	FILE *err;
	pid_t p;

	*one = *list = -1;
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
		default:
			fprintf(stderr, "usage: query_bench --db PATH [--tokens N] [--days D] "
				"[--queries Q] [--collector BIN]\n");
			exit(2);
		}
	}
	if (!o->db) {
		fprintf(stderr, "query_bench: --db PATH is required\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct store *st;
	char err[256], fp[33];
	double *one, *list, t0;
	unsigned n_list;
	size_t listed = 0;
	int rc = 0;

	parse_opts(argc, argv, &o);
	if (ensure_history(&o) < 0)
		return 1;
	st = store_open(o.db, STORE_READONLY, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "query_bench: %s\n", err);
		return 1;
	}
	/* the full list is ~100x the work of one token: fewer of them */
	n_list = o.queries / 10 > 5 ? o.queries / 10 : 5;
	one = calloc(o.queries, sizeof(*one));
	list = calloc(n_list, sizeof(*list));
	if (!one || !list)
		return 1;
	for (unsigned i = 0, j = 0; i < o.queries; i++) {
		struct json_object *out = NULL;

		fp_of((unsigned)(mix(i) % o.tokens), fp);
		t0 = mono_ms();
		if (store_query_token(st, fp, &out, err, sizeof(err)) != 1) {
			fprintf(stderr, "query_bench: token %s: %s\n", fp, err);
			rc = 1;
			break;
		}
		one[i] = mono_ms() - t0;
		json_object_put(out);
		if (i % (o.queries / n_list) == 0 && j < n_list) {
			t0 = mono_ms();
			if (store_query_tokens(st, TOKEN_SORT_RISK, &out, err, sizeof(err)) < 0) {
				fprintf(stderr, "query_bench: tokens: %s\n", err);
				rc = 1;
				break;
			}
			list[j++] = mono_ms() - t0;
			listed = json_object_array_length(out);
			json_object_put(out);
		}
	}
	store_close(st);
	if (rc)
		return rc;
	printf("\n== query: %u tokens, %u days of history (%s) ==\n", o.tokens, o.days, o.db);
	{
		double o50 = pct(one, o.queries, 50), o99 = pct(one, o.queries, 99);
		double l50 = pct(list, n_list, 50), l99 = pct(list, n_list, 99);
		double cli_one = -1, cli_list = -1, http_one = -1, http_list = -1;

		printf("store_query_token:              p50 %8.2f ms  p99 %8.2f ms  (%u queries)\n", o50,
		       o99, o.queries);
		printf("store_query_tokens(sort=risk):  p50 %8.2f ms  p99 %8.2f ms  (%u queries, %zu "
		       "tokens each)\n", l50, l99, n_list, listed);
		if (o.collector) {
			char *a1[] = { (char *)o.collector, "token", fp, "--db", (char *)o.db, "--json",
				       NULL };
			char *a2[] = { (char *)o.collector, "tokens", "--sort", "risk", "--db",
				       (char *)o.db, NULL };

			cli_one = run_cli(a1);
			cli_list = run_cli(a2);
			if (cli_one < 0 || cli_list < 0) {
				fprintf(stderr, "query_bench: the CLI failed\n");
				rc = 1;
			}
			printf("CLI once (process start included): token FP --json %.1f ms, tokens "
			       "--sort risk %.1f ms\n", cli_one, cli_list);
			run_http(o.collector, o.db, fp, &http_one, &http_list);
			if (http_one < 0 || http_list < 0) {
				fprintf(stderr, "query_bench: the HTTP path failed\n");
				rc = 1;
			}
			printf("HTTP once (serve on the same file): GET /v1/tokens/FP %.1f ms, "
			       "GET /v1/tokens?sort=risk %.1f ms\n", http_one, http_list);
		}
		printf("SUMMARY query: token p50 %.2f ms p99 %.2f ms; tokens --sort risk p50 %.2f ms "
		       "p99 %.2f ms; CLI token %.1f ms, tokens %.1f ms; HTTP token %.1f ms, tokens "
		       "%.1f ms; target p99 <= %.0f ms: %s\n",
		       o50, o99, l50, l99, cli_one, cli_list, http_one, http_list, TARGET_P99_MS,
		       o99 <= TARGET_P99_MS && l99 <= TARGET_P99_MS ? "met" : "NOT met");
	}
	free(one);
	free(list);
	return rc;
}
