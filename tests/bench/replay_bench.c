/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay benchmark of the sensor's user space: a generated trace of
 * ring-buffer records, laid out byte for byte as the BPF programs emit them
 * (bpf/tokentap.h), fed to the pipeline without BPF. The mix: plaintext
 * HTTP/1 keep-alive requests, TLS HTTP/1 requests (the first write of each
 * session waits for its bind record), HTTP/2 HEADERS frames on TLS
 * sessions, a share of never-seen tokens, connection closes. The trace is
 * generated once from a fixed seed, so every run and every build replays
 * the same bytes.
 *
 * Two modes alternate in every round: "quiet" (no output stream) and
 * "json" (JSON lines written to /dev/null, as --json does). Each prints
 * events/s per core (process CPU time, one thread), then the medians and
 * the per-round ratio json/quiet. Finally the pipeline's memory: the
 * process's RSS before the pipeline exists, idle after pipeline_new, and
 * its peak after replaying every token from every process.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cred.h"
#include "exe_cache.h"
#include "fingerprint.h"
#include "h2_build.h"
#include "http2.h"
#include "numarg.h"
#include "pipeline.h"
#include "tokentap.h"
#include "wipe.h"

/* Above PID_MAX_LIMIT: no such process, nothing real is read from /proc. */
#define PID_BASE 0x7f000000u
#define TLS_BASE 0x555500000000ULL
#define H2_BASE 0x566600000000ULL
#define PLAIN_FDS 3
#define TOK_LEN 40

struct trace {
	uint8_t *buf;
	size_t len, cap;
	size_t records, data_records;
	int64_t span_ns;          /* monotonic time the trace covers */
};

struct gen {
	uint64_t rng;
	unsigned tokens, procs, new_pct;
	uint64_t fresh;           /* never-seen tokens made so far */
	int64_t now;
	uint32_t *h2_sid;         /* next HTTP/2 stream id per process (0: no preface yet) */
	uint8_t *tls_bound;       /* per process: its TLS session was bound */
	struct tt_data_event ev;
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

/* Token n: a GitHub-shaped or an opaque API key, the same bytes for the same n. */
static size_t make_token(uint64_t n, char *out)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t x = n * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
	size_t off = 0;

	if (n % 4 != 3) {
		memcpy(out, "ghp_", 4);
		off = 4;
	}
	for (size_t i = off; i < TOK_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = b62[x % 62];
	}
	out[TOK_LEN] = '\0';
	return TOK_LEN;
}

/* Appends one record as the ring buffer hands it over: 8-byte aligned. */
static int emit(struct trace *t, const void *rec, size_t size)
{
	size_t need = 8 + ((size + 7) & ~(size_t)7);

	if (t->len + need > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1 << 20;
		uint8_t *b = realloc(t->buf, cap);

		if (!b)
			return -1;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, &size, sizeof(uint32_t));
	memcpy(t->buf + t->len + 8, rec, size);
	t->len += need;
	t->records++;
	return 0;
}

static void hdr(struct gen *g, struct tt_event_hdr *h, unsigned kind, unsigned flags, uint32_t pid,
		int fd, uint64_t conn)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->flags = flags;
	g->now += 1000;
	h->ts_ns = (unsigned long long)g->now;
	h->pid = pid;
	h->tid = pid;
	h->uid = 1000;
	h->fd = fd;
	h->conn = conn;
	h->cgroup_id = 4242;
	snprintf(h->comm, sizeof(h->comm), "client%u", pid - PID_BASE);
}

static void addrs(struct tt_event_hdr *h, uint32_t pid, unsigned k)
{
	h->flags |= TT_F_ADDR;
	h->src.family = AF_INET;
	h->src.port = (unsigned short)(32768 + (pid & 0x3fff) + k);
	memcpy(h->src.addr, (uint8_t[]){ 10, 0, (uint8_t)(pid >> 8), (uint8_t)pid }, 4);
	h->dst.family = AF_INET;
	h->dst.port = k == 0 ? 80 : 443;
	memcpy(h->dst.addr, (uint8_t[]){ 140, 82, 112, (uint8_t)(3 + k) }, 4);
}

static size_t http1_request(struct gen *g, char *out, size_t cap, const char *tok)
{
	unsigned r = (unsigned)(rnd(g) % 1000);

	/* an opaque key travels in x-api-key, a GitHub token as a Bearer */
	if (strncmp(tok, "ghp_", 4) != 0)
		return (size_t)snprintf(out, cap,
			"POST /v1/messages?batch=%u HTTP/1.1\r\nHost: api.example.com\r\n"
			"User-Agent: bench/1.0\r\nContent-Type: application/json\r\n"
			"x-api-key: %s\r\nContent-Length: 120\r\n\r\n", r, tok);
	return (size_t)snprintf(out, cap,
		"GET /repos/org/repo%u/issues?page=%u HTTP/1.1\r\nHost: api.github.com\r\n"
		"User-Agent: bench/1.0\r\nAccept: application/vnd.github+json\r\n"
		"Authorization: Bearer %s\r\n\r\n", r % 50, r, tok);
}

static int data_rec(struct gen *g, struct trace *t, size_t n)
{
	g->ev.h.len = (unsigned)n;
	g->ev.h.orig_len = (unsigned)n;
	t->data_records++;
	return emit(t, &g->ev, sizeof(g->ev.h) + n);
}

/* One request of process i with token tok: 70% plaintext, 15% TLS, 15% HTTP/2. */
static int gen_request(struct gen *g, struct trace *t, unsigned i, const char *tok)
{
	uint32_t pid = PID_BASE + i;
	unsigned kind = (unsigned)(rnd(g) % 100);
	struct tt_event_hdr *h = &g->ev.h;

	if (kind < 70) {
		int fd = 5 + (int)(rnd(g) % PLAIN_FDS);

		hdr(g, h, TT_EV_DATA, TT_F_START, pid, fd, (uint64_t)fd | TT_CONN_PLAIN);
		addrs(h, pid, 0);
		/* now and then the client closes the connection after its request */
		if (data_rec(g, t, http1_request(g, (char *)g->ev.data, TT_DATA_MAX, tok)) != 0)
			return -1;
		if (rnd(g) % 50 == 0) {
			hdr(g, h, TT_EV_CLOSE, 0, pid, fd, 0);
			return emit(t, h, sizeof(*h));
		}
		return 0;
	}
	if (kind < 85) {
		uint64_t conn = TLS_BASE + (uint64_t)i * 64;
		bool first = !g->tls_bound[i];

		hdr(g, h, TT_EV_DATA, TT_F_TLS | TT_F_START | (first ? TT_F_NEED_BIND : 0), pid, 9,
		    conn);
		h->tls_lib = TT_LIB_OPENSSL;
		if (!first)
			addrs(h, pid, 1);
		if (data_rec(g, t, http1_request(g, (char *)g->ev.data, TT_DATA_MAX, tok)) != 0)
			return -1;
		if (!first)
			return 0;
		g->tls_bound[i] = 1;
		hdr(g, h, TT_EV_BIND, 0, pid, 9, conn);
		addrs(h, pid, 1);
		return emit(t, h, sizeof(*h));
	}
	uint64_t conn = H2_BASE + (uint64_t)i * 64;
	uint8_t block[512];
	char bearer[TOK_LEN + 16], path[64];
	size_t bn = 0, wn = 0;

	if (!g->h2_sid[i]) {
		static const uint8_t settings[] = { 0, 3, 0, 0, 0, 100 };

		hdr(g, h, TT_EV_DATA, TT_F_TLS | TT_F_H2, pid, 11, conn);
		h->tls_lib = TT_LIB_OPENSSL;
		addrs(h, pid, 2);
		memcpy(g->ev.data, H2_PREFACE, H2_PREFACE_LEN);
		wn = H2_PREFACE_LEN + h2_frame(g->ev.data + H2_PREFACE_LEN, 0x4, 0, 0, settings,
					       sizeof(settings));
		if (data_rec(g, t, wn) != 0)
			return -1;
		g->h2_sid[i] = 1;
	}
	snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
	snprintf(path, sizeof(path), "/v1/models/m%u", (unsigned)(rnd(g) % 20));
	bn += hpack_lit(block + bn, ":method", "POST");
	bn += hpack_lit(block + bn, ":scheme", "https");
	bn += hpack_lit(block + bn, ":authority", "api.example.org");
	bn += hpack_lit(block + bn, ":path", path);
	bn += hpack_lit(block + bn, "authorization", bearer);
	hdr(g, h, TT_EV_DATA, TT_F_TLS | TT_F_H2, pid, 11, conn);
	h->tls_lib = TT_LIB_OPENSSL;
	addrs(h, pid, 2);
	wn = h2_frame(g->ev.data, 0x1, 0x4 | 0x1, g->h2_sid[i], block, bn);
	g->h2_sid[i] += 2;
	return data_rec(g, t, wn);
}

/*
 * n requests: process i uses tokens i*k .. (a process holds tokens/procs
 * of them, so every token is sent by some process), new_pct percent of
 * requests carry a token never seen before.
 */
static int gen_trace(struct trace *t, unsigned n, unsigned tokens, unsigned procs, unsigned new_pct)
{
	struct gen g = { .rng = 0x853c49e6748fea9bULL, .tokens = tokens, .procs = procs,
			 .new_pct = new_pct, .now = 1000000000LL };
	char tok[TOK_LEN + 1];
	int rc = 0;

	g.h2_sid = calloc(procs, sizeof(*g.h2_sid));
	g.tls_bound = calloc(procs, 1);
	if (!g.h2_sid || !g.tls_bound) {
		rc = -1;
		goto out;
	}
	for (unsigned r = 0; r < n && rc == 0; r++) {
		unsigned i = (unsigned)(rnd(&g) % procs);
		uint64_t tn;

		if (rnd(&g) % 100 < new_pct)
			tn = (uint64_t)tokens + g.fresh++;
		else
			tn = ((uint64_t)i + (uint64_t)procs * (rnd(&g) % ((tokens + procs - 1) / procs))) % tokens;
		make_token(tn, tok);
		rc = gen_request(&g, t, i, tok);
	}
	t->span_ns = g.now;
out:
	secure_wipe(tok, sizeof(tok));
	free(g.h2_sid);
	free(g.tls_bound);
	return rc;
}

/* VmRSS or VmHWM of this process, KiB. */
static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t fl = strlen(field);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run_cfg {
	const struct trace *t;
	struct fp_key key;
	unsigned procs;
	unsigned passes;
};

/*
 * One timed replay of the trace, passes times; returns events/s per core.
 * Timers run as the sensor runs them, on the trace's own clock.
 */
static double replay(struct run_cfg *c, bool json, struct pipeline_stats *st_out)
{
	struct exe_cache *exes = exe_cache_new();
	FILE *out = json ? fopen("/dev/null", "w") : NULL;
	struct pipeline_opts o = {
		.json = true, .interval_s = 60, .max_header_bytes = 16384, .key = &c->key,
		.cred = cred_config_default(), .out = out, .exes = exes,
	};
	struct pipeline *p;
	double t0, t1;
	uint64_t n = 0;

	if (!exes || (json && !out)) {
		fprintf(stderr, "replay_bench: out of memory or no /dev/null\n");
		exit(1);
	}
	for (unsigned i = 0; i < c->procs; i++) {
		char exe[64];

		snprintf(exe, sizeof(exe), "/usr/bin/client-%u", i % 37);
		exe_cache_exec(exes, PID_BASE + i, exe);
	}
	p = pipeline_new(&o);
	if (!p) {
		fprintf(stderr, "replay_bench: pipeline_new failed\n");
		exit(1);
	}
	t0 = cpu_s();
	for (unsigned pass = 0; pass < c->passes; pass++) {
		const uint8_t *b = c->t->buf, *end = b + c->t->len;
		int64_t shift = (int64_t)pass * c->t->span_ns;
		int64_t next_tick = 0;

		while (b < end) {
			uint32_t size;
			struct tt_event_hdr *h = (struct tt_event_hdr *)(b + 8);

			memcpy(&size, b, sizeof(size));
			/* later passes: the same records, later in time */
			h->ts_ns += (unsigned long long)shift;
			if ((int64_t)h->ts_ns >= next_tick) {
				pipeline_tick(p, (int64_t)h->ts_ns);
				next_tick = (int64_t)h->ts_ns + 50 * 1000 * 1000;
			}
			pipeline_handle(p, h, size);
			h->ts_ns -= (unsigned long long)shift;
			b += 8 + ((size + 7) & ~(size_t)7);
			n++;
		}
	}
	pipeline_flush_all(p);
	t1 = cpu_s();
	if (st_out)
		*st_out = *pipeline_stats(p);
	pipeline_free(p);
	exe_cache_free(exes);
	if (out)
		fclose(out);
	return (double)n / (t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: replay_bench [-n REQUESTS] [-t TOKENS] [-p PROCS] [-N NEW_PCT] [-P PASSES] [-r RUNS]\n"
		"  -n  requests in the generated trace (default 200000)\n"
		"  -t  distinct tokens (default 10000)\n"
		"  -p  distinct processes (default 1000)\n"
		"  -N  percent of requests with a never-seen token (default 1)\n"
		"  -P  replays of the trace per run (default 5)\n"
		"  -r  rounds; each runs the quiet and the json mode (default 5)\n"
		"  -m  memory only: one json run, then the RSS figures\n"
		"  -q  one quiet run only, printing the records replayed (for a profiler:\n"
		"      valgrind --tool=callgrind --toggle-collect=replay replay_bench -q)\n");
}

int main(int argc, char **argv)
{
	unsigned n = 200000, tokens = 10000, procs = 1000, new_pct = 1, passes = 5, rounds = 5;
	bool mem_only = false, quiet_only = false;
	struct run_cfg c = { 0 };
	struct trace t = { 0 };
	struct pipeline_stats st;
	long rss_trace, rss_idle, hwm;
	int opt;

	while ((opt = getopt(argc, argv, "n:t:p:N:P:r:mqh")) != -1) {
		unsigned *dst = NULL;

		switch (opt) {
		case 'n': dst = &n; break;
		case 't': dst = &tokens; break;
		case 'p': dst = &procs; break;
		case 'N': dst = &new_pct; break;
		case 'P': dst = &passes; break;
		case 'r': dst = &rounds; break;
		case 'm': mem_only = true; continue;
		case 'q': quiet_only = true; continue;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		uint64_t v;

		if (numarg_uint(optarg, dst == &new_pct ? 0 : 1, 100000000, &v) != 0) {
			fprintf(stderr, "replay_bench: bad -%c value\n", opt);
			return 2;
		}
		*dst = (unsigned)v;
	}
	if (procs > 16384 || new_pct > 100) {
		fprintf(stderr, "replay_bench: -p at most 16384, -N at most 100\n");
		return 2;
	}
	if (gen_trace(&t, n, tokens, procs, new_pct) != 0) {
		fprintf(stderr, "replay_bench: out of memory\n");
		return 1;
	}
	memcpy(c.key.bytes, "replay-bench-fingerprint-key-0123", 33);
	c.key.len = 33;
	c.t = &t;
	c.procs = procs;
	c.passes = passes;
	printf("replay: %zu records (%zu data) for %u requests, %u tokens, %u processes, %u%% new "
	       "tokens, %u passes per run\n",
	       t.records, t.data_records, n, tokens, procs, new_pct, passes);

	if (quiet_only) {
		/* records, not a rate: a profiler's count per record is what is compared */
		replay(&c, false, &st);
		printf("SUMMARY replay-quiet: %zu records replayed\n", t.records * passes);
		free(t.buf);
		return 0;
	}
	/* Speed, or (-m) memory in a fresh process: the runs' peak would hide the latter. */
	if (!mem_only) {
		double *q = calloc(rounds, sizeof(double)), *j = calloc(rounds, sizeof(double));
		double *ratio = calloc(rounds, sizeof(double));

		if (!q || !j || !ratio)
			return 1;
		printf("%-6s %14s %14s %10s\n", "round", "quiet ev/s", "json ev/s", "json/quiet");
		for (unsigned r = 0; r < rounds; r++) {
			/* alternate which mode runs first, so drift favours neither */
			if (r % 2) {
				j[r] = replay(&c, true, NULL);
				q[r] = replay(&c, false, NULL);
			} else {
				q[r] = replay(&c, false, NULL);
				j[r] = replay(&c, true, NULL);
			}
			ratio[r] = j[r] / q[r];
			printf("%-6u %14.0f %14.0f %10.3f\n", r + 1, q[r], j[r], ratio[r]);
			fflush(stdout);
		}
		double mq = median(q, rounds), mj = median(j, rounds), mr = median(ratio, rounds);

		printf("%-6s %14.0f %14.0f %10.3f\n", "median", mq, mj, mr);
		printf("SUMMARY replay: quiet %.0f events/s per core, json %.0f events/s per core "
		       "(target >= 1000000); json/quiet %.3f\n", mq, mj, mr);
		free(q);
		free(j);
		free(ratio);
		free(t.buf);
		return 0;
	}
	/* Memory: the trace itself is counted before the pipeline exists. */
	rss_trace = status_kib("VmRSS");
	{
		struct exe_cache *exes = exe_cache_new();
		struct pipeline_opts o = { .json = true, .interval_s = 60, .max_header_bytes = 16384,
					   .key = &c.key, .cred = cred_config_default(), .exes = exes };
		struct pipeline *p = pipeline_new(&o);

		rss_idle = status_kib("VmRSS");
		pipeline_free(p);
		exe_cache_free(exes);
	}
	c.passes = 1;
	replay(&c, true, &st);
	hwm = status_kib("VmHWM");
	printf("memory: RSS with the trace %ld KiB; pipeline idle +%ld KiB; peak after %llu "
	       "requests (%llu credentials) +%ld KiB\n",
	       rss_trace, rss_idle - rss_trace, (unsigned long long)st.requests,
	       (unsigned long long)st.credentials, hwm - rss_trace);
	printf("SUMMARY replay-memory: pipeline idle %.1f MiB, loaded %.1f MiB (%u tokens x %u "
	       "processes)\n", (double)(rss_idle - rss_trace) / 1024, (double)(hwm - rss_trace) / 1024,
	       tokens, procs);
	free(t.buf);
	return 0;
}
