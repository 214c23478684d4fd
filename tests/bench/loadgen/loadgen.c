/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: a fleet of simulated sensors (fleet.c) POSTing real
 * gzip(protobuf) batches to one or more collectors over HTTP. One thread
 * drives every sensor through libcurl's multi interface; each sensor has
 * at most one batch in flight, as a real sensor's sender does. Prints the
 * batches accepted per second, batch latency percentiles, errors by
 * status and the totals the fleet sent; --verify then checks the
 * collector's inventory against those totals, each (sensor, seq) once.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "fleet.h"
#include "fleet_encode.h"
#include "numarg.h"
#include "wipe.h"

#define MAX_COLLECTORS 8
#define MAX_URL 512
#define MAX_REPLY 4096
#define MAX_ATTEMPTS 20
#define MAX_STATUSES 32
#define TOKEN_CAP 4096

struct opts {
	const char *collectors[MAX_COLLECTORS];
	unsigned n_coll;
	bool failover;
	const char *token_file, *read_token_file;
	struct fleet_config fleet;
	double duration_s;      /* 0: until --batches */
	uint64_t batches;       /* new seqs per sensor; 0: until --duration */
	double rate;            /* batches started per second; 0: as fast as answered */
	unsigned concurrency;
	unsigned timeout_s;
	bool json, verify;
	bool warmup;            /* every sensor's first batch before measuring */
};

/* One request in flight, or one waiting to be retried. */
struct slot {
	bool used;
	bool waiting;           /* retry at retry_at_ns */
	int64_t retry_at_ns;
	uint32_t sensor;
	enum fleet_kind kind;
	uint64_t seq;
	size_t events;
	unsigned attempts;
	uint8_t *body;
	size_t len;
	CURL *h;
	int64_t start_ns;
	char reply[MAX_REPLY];
	size_t reply_len;
};

struct status_count {
	long code;              /* HTTP status, or -curl error code */
	uint64_t n;
};

struct run {
	struct opts *o;
	struct fleet *f;
	struct fleet_batch b;
	CURLM *multi;
	struct curl_slist *headers;
	char urls[MAX_COLLECTORS][MAX_URL];
	uint8_t *busy;          /* per sensor: a slot holds its send */
	uint8_t *coll;          /* per sensor: the collector it sends to */
	struct slot *slots;
	uint32_t cursor;
	uint64_t started, stored, duplicates, refused, lost, retries;
	uint64_t stored_events;
	uint64_t dedupe_mismatch;   /* new seq answered duplicate, or a resend stored */
	struct status_count st[MAX_STATUSES];
	unsigned n_st;
	double *lat_ms;
	size_t n_lat, cap_lat;
	bool warming;           /* only first batches; figures reset afterwards */
	double warmup_s;
	uint64_t warmup_batches;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: loadgen --collector URL [--collector URL ...] [options]\n"
		"\n"
		"Simulates a fleet of tokentap sensors: each sends real gzip(protobuf)\n"
		"batches to POST URL/v1/batches, one at a time, with duplicates and\n"
		"restarts that replay spooled batches. Prints batches/s accepted, batch\n"
		"latency p50/p99, errors by status and the totals the fleet sent.\n"
		"\n"
		"  --collector URL        collector base URL (repeatable, up to %d)\n"
		"  --failover             every sensor starts on the first collector and moves\n"
		"                         to the next after a failure (default: sensors are\n"
		"                         spread round-robin, and also move on failure)\n"
		"  --token-file FILE      sensor token for Authorization: Bearer (first line)\n"
		"  --read-token-file FILE token for GET /v1/* when verifying\n"
		"  --sensors N            simulated sensors (default 100, at most %u)\n"
		"  --duration SECONDS     stop starting batches after this long\n"
		"  --batches N            new batches per sensor (default 10 without --duration)\n"
		"  --rate R               batches started per second at most (default: no limit)\n"
		"  --concurrency N        requests in flight at most (default 64)\n"
		"  --seed N               the fleet's seed (default 1): same seed, same batches\n"
		"  --events-per-batch N   usage events per batch at most, plus status and, in a\n"
		"                         sensor's first batch, its processes, held tokens and\n"
		"                         first sightings (default 100)\n"
		"  --dup-rate P           chance a batch is delivered twice (default 0.01)\n"
		"  --restart-rate P       chance a sensor restarts after a batch and replays up\n"
		"                         to 3 spooled batches (default 0.002)\n"
		"  --timeout SECONDS      per request (default 30)\n"
		"  --warmup               first let every sensor deliver its first batch (its\n"
		"                         processes, held tokens, first sightings), then measure\n"
		"                         (--duration and the figures start there)\n"
		"  --verify               afterwards, check GET /v1/tokens and /v1/sensors of the\n"
		"                         collectors against the totals sent (exit 1 if unequal)\n"
		"  --json                 print the results as one JSON object\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 when every batch was accepted (and verified), 1 otherwise,\n"
		"2 on a usage error. Fingerprints are synthetic: no credential is sent.\n",
		MAX_COLLECTORS, FLEET_MAX_SENSORS);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int bad_arg(const char *flag, const char *what)
{
	fprintf(stderr, "loadgen: %s must be %s\n", flag, what);
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_COLL = 256, O_FAILOVER, O_TOKEN, O_READ_TOKEN, O_SENSORS, O_DURATION, O_BATCHES,
	       O_RATE, O_CONC, O_SEED, O_EPB, O_DUP, O_RESTART, O_TIMEOUT, O_VERIFY, O_JSON, O_WARMUP };
	static const struct option lo[] = {
		{ "collector", required_argument, NULL, O_COLL },
		{ "failover", no_argument, NULL, O_FAILOVER },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "read-token-file", required_argument, NULL, O_READ_TOKEN },
		{ "sensors", required_argument, NULL, O_SENSORS },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "batches", required_argument, NULL, O_BATCHES },
		{ "rate", required_argument, NULL, O_RATE },
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "seed", required_argument, NULL, O_SEED },
		{ "events-per-batch", required_argument, NULL, O_EPB },
		{ "dup-rate", required_argument, NULL, O_DUP },
		{ "restart-rate", required_argument, NULL, O_RESTART },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "warmup", no_argument, NULL, O_WARMUP },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct opts){ .concurrency = 64, .timeout_s = 30 };
	o->fleet = (struct fleet_config){ .sensors = 100, .seed = 1, .events_per_batch = 100,
					  .dup_rate = 0.01, .restart_rate = 0.002,
					  .interval_ms = 10000 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_COLL:
			if (o->n_coll == MAX_COLLECTORS)
				return bad_arg("--collector", "given at most 8 times");
			if ((strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) ||
			    strlen(optarg) > MAX_URL - 16)
				return bad_arg("--collector", "an http:// or https:// URL");
			o->collectors[o->n_coll++] = optarg;
			break;
		case O_FAILOVER: o->failover = true; break;
		case O_TOKEN: o->token_file = optarg; break;
		case O_READ_TOKEN: o->read_token_file = optarg; break;
		case O_SENSORS:
			if (numarg_uint(optarg, 1, FLEET_MAX_SENSORS, &v) < 0)
				return bad_arg("--sensors", "1..100000");
			o->fleet.sensors = (uint32_t)v;
			break;
		case O_DURATION:
			if (parse_double(optarg, 0.01, 86400, &o->duration_s) < 0)
				return bad_arg("--duration", "0.01..86400 seconds");
			break;
		case O_BATCHES:
			if (numarg_uint(optarg, 1, 1000000, &o->batches) < 0)
				return bad_arg("--batches", "1..1000000");
			break;
		case O_RATE:
			if (parse_double(optarg, 0.001, 1e7, &o->rate) < 0)
				return bad_arg("--rate", "0.001..1e7 batches per second");
			break;
		case O_CONC:
			if (numarg_uint(optarg, 1, 4096, &v) < 0)
				return bad_arg("--concurrency", "1..4096");
			o->concurrency = (unsigned)v;
			break;
		case O_SEED:
			if (numarg_uint(optarg, 0, UINT64_MAX, &o->fleet.seed) < 0)
				return bad_arg("--seed", "an unsigned 64-bit integer");
			break;
		case O_EPB:
			if (numarg_uint(optarg, 2, FLEET_MAX_EVENTS, &v) < 0)
				return bad_arg("--events-per-batch", "2..10000");
			o->fleet.events_per_batch = (uint32_t)v;
			break;
		case O_DUP:
			if (parse_double(optarg, 0, 1, &o->fleet.dup_rate) < 0)
				return bad_arg("--dup-rate", "between 0 and 1");
			break;
		case O_RESTART:
			if (parse_double(optarg, 0, 1, &o->fleet.restart_rate) < 0)
				return bad_arg("--restart-rate", "between 0 and 1");
			break;
		case O_TIMEOUT:
			if (numarg_uint(optarg, 1, 3600, &v) < 0)
				return bad_arg("--timeout", "1..3600 seconds");
			o->timeout_s = (unsigned)v;
			break;
		case O_VERIFY: o->verify = true; break;
		case O_WARMUP: o->warmup = true; break;
		case O_JSON: o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "loadgen: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (!o->n_coll)
		return bad_arg("--collector", "given at least once");
	if (!o->duration_s && !o->batches)
		o->batches = 10;
	return 0;
}

/* Headers of every batch; the Authorization line is wiped when freed. */
static struct curl_slist *auth_headers(const char *token_file, const char *const *extra)
{
	struct curl_slist *h = NULL, *n;
	char token[TOKEN_CAP], line[TOKEN_CAP + 32], err[256];

	for (; extra && *extra; extra++) {
		n = curl_slist_append(h, *extra);
		if (!n)
			goto oom;
		h = n;
	}
	if (!token_file)
		return h ? h : curl_slist_append(NULL, "Expect:");
	if (auth_read_token(token_file, token, sizeof(token), err, sizeof(err)) < 0) {
		fprintf(stderr, "loadgen: %s\n", err);
		curl_slist_free_all(h);
		return NULL;
	}
	snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
	n = curl_slist_append(h, line);
	secure_wipe(token, sizeof(token));
	secure_wipe(line, sizeof(line));
	if (!n)
		goto oom;
	return n;
oom:
	fprintf(stderr, "loadgen: out of memory\n");
	curl_slist_free_all(h);
	return NULL;
}

static void free_headers(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p; p = p->next)
		secure_wipe(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static size_t on_reply(char *p, size_t sz, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = sz * n, room = sizeof(s->reply) - 1 - s->reply_len;

	/* only the start of an answer matters: its status word */
	memcpy(s->reply + s->reply_len, p, len < room ? len : room);
	s->reply_len += len < room ? len : room;
	s->reply[s->reply_len] = 0;
	return len;
}

static void count_status(struct run *r, long code)
{
	for (unsigned i = 0; i < r->n_st; i++)
		if (r->st[i].code == code) {
			r->st[i].n++;
			return;
		}
	if (r->n_st < MAX_STATUSES)
		r->st[r->n_st++] = (struct status_count){ code, 1 };
}

static void keep_latency(struct run *r, double ms)
{
	if (r->n_lat == r->cap_lat) {
		size_t cap = r->cap_lat ? r->cap_lat * 2 : 4096;
		double *n = realloc(r->lat_ms, cap * sizeof(*n));

		if (!n)
			return; /* the figure is then over fewer batches */
		r->lat_ms = n;
		r->cap_lat = cap;
	}
	r->lat_ms[r->n_lat++] = ms;
}

static int start_slot(struct run *r, struct slot *s)
{
	char url[MAX_URL + 16];

	snprintf(url, sizeof(url), "%s/v1/batches", r->urls[r->coll[s->sensor]]);
	curl_easy_reset(s->h);
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, (long)r->o->timeout_s);
	curl_easy_setopt(s->h, CURLOPT_POST, 1L);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	s->reply_len = 0;
	s->reply[0] = 0;
	s->waiting = false;
	s->attempts++;
	s->start_ns = clock_mono_ns();
	return curl_multi_add_handle(r->multi, s->h) == CURLM_OK ? 0 : -1;
}

/* The next sensor with something to send, round-robin; UINT32_MAX when none. */
static uint32_t next_sensor(struct run *r, bool new_allowed, bool *any_left)
{
	uint32_t n = r->o->fleet.sensors;

	*any_left = false;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t s = (r->cursor + k) % n;
		uint64_t limit = r->warming ? 1 : r->o->batches;
		bool more = !fleet_idle(r->f, s) ||
			    (new_allowed && (!limit || fleet_sent(r->f, s) < limit));

		if (r->busy[s])
			continue;
		if (more) {
			*any_left = true;
			r->cursor = (s + 1) % n;
			return s;
		}
	}
	return UINT32_MAX;
}

static int fill_slot(struct run *r, struct slot *s, uint32_t sensor)
{
	fleet_next(r->f, sensor, &r->b);
	s->used = true;
	s->sensor = sensor;
	s->kind = r->b.kind;
	s->seq = r->b.seq;
	s->events = r->b.n_events;
	s->attempts = 0;
	s->body = fleet_encode(r->f, &r->b, &s->len);
	r->busy[sensor] = 1;
	r->started++;
	return start_slot(r, s);
}

static void release(struct run *r, struct slot *s)
{
	free(s->body);
	s->body = NULL;
	s->used = false;
	r->busy[s->sensor] = 0;
}

/* A failure worth retrying: no answer, 408, 429, 5xx. */
static bool retryable(CURLcode cc, long code)
{
	return cc != CURLE_OK || code == 408 || code == 429 || code >= 500;
}

static void finish(struct run *r, CURLMsg *m)
{
	struct slot *s = NULL;
	long code = 0;
	CURLcode cc = m->data.result;
	double ms;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
	curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(r->multi, m->easy_handle);
	ms = (double)(clock_mono_ns() - s->start_ns) / 1e6;
	if (cc == CURLE_OK && code == 200) {
		bool dup = strstr(s->reply, "\"duplicate\"") != NULL;

		keep_latency(r, ms);
		count_status(r, 200);
		if (dup)
			r->duplicates++;
		else {
			r->stored++;
			r->stored_events += s->events;
		}
		/* a first delivery must be stored, every resend found a duplicate */
		if (dup != (s->kind != FLEET_NEW) && s->attempts == 1)
			r->dedupe_mismatch++;
		release(r, s);
		return;
	}
	count_status(r, cc != CURLE_OK ? -(long)cc : code);
	if (retryable(cc, code) && s->attempts < MAX_ATTEMPTS && !stop_requested) {
		unsigned shift = s->attempts < 5 ? s->attempts : 5;

		/* back off, and try the next collector as the sensor's shipper does */
		r->retries++;
		r->coll[s->sensor] = (uint8_t)((r->coll[s->sensor] + 1) % r->o->n_coll);
		s->waiting = true;
		s->retry_at_ns = clock_mono_ns() + (int64_t)(50LL << shift) * 1000000;
		return;
	}
	if (retryable(cc, code))
		r->lost++;
	else
		r->refused++;
	release(r, s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)ceil(p / 100.0 * (double)n);
	return v[k ? k - 1 : 0];
}

static int drive(struct run *r, double *elapsed_s)
{
	struct opts *o = r->o;
	int64_t t0 = clock_mono_ns(), end_ns = o->duration_s ? t0 + (int64_t)(o->duration_s * 1e9) : 0;
	unsigned inflight = 0;

	r->warming = o->warmup;

	for (;;) {
		int64_t now = clock_mono_ns();
		bool new_allowed = !stop_requested && (r->warming || !end_ns || now < end_ns);
		bool any_left = true;
		int running, left, timeout_ms = 50;
		CURLMsg *m;

		for (unsigned i = 0; i < o->concurrency; i++) {
			struct slot *s = &r->slots[i];

			if (s->used && s->waiting && now >= s->retry_at_ns) {
				if (start_slot(r, s) < 0)
					return -1;
			} else if (s->used && s->waiting && s->retry_at_ns - now < timeout_ms * 1000000LL) {
				timeout_ms = (int)((s->retry_at_ns - now) / 1000000) + 1;
			}
		}
		for (unsigned i = 0; i < o->concurrency && any_left; i++) {
			struct slot *s = &r->slots[i];
			uint32_t sensor;

			if (s->used)
				continue;
			/* --rate: never ahead of rate x elapsed */
			if (o->rate && (double)r->started >= o->rate * (double)(now - t0) / 1e9) {
				timeout_ms = 1;
				break;
			}
			sensor = next_sensor(r, new_allowed, &any_left);
			if (sensor == UINT32_MAX)
				break;
			if (fill_slot(r, s, sensor) < 0)
				return -1;
		}
		inflight = 0;
		for (unsigned i = 0; i < o->concurrency; i++)
			inflight += r->slots[i].used;
		if (!inflight) {
			bool more;

			if (next_sensor(r, new_allowed, &more) == UINT32_MAX && !more) {
				if (!r->warming)
					break;
				/* the fleet is up: measure from here */
				r->warming = false;
				r->warmup_s = (double)(now - t0) / 1e9;
				r->warmup_batches = r->stored + r->duplicates;
				r->stored = r->duplicates = r->stored_events = r->started = 0;
				r->n_lat = 0;
				t0 = clock_mono_ns();
				end_ns = o->duration_s ? t0 + (int64_t)(o->duration_s * 1e9) : 0;
				continue;
			}
		}
		if (curl_multi_perform(r->multi, &running) != CURLM_OK ||
		    curl_multi_poll(r->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
			return -1;
		curl_multi_perform(r->multi, &running);
		while ((m = curl_multi_info_read(r->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				finish(r, m);
	}
	*elapsed_s = (double)(clock_mono_ns() - t0) / 1e9;
	return 0;
}

/* GET url into a parsed JSON value; NULL with a message on stderr. */
static struct json_object *get_json(const char *url, struct curl_slist *headers, unsigned timeout)
{
	CURL *h = curl_easy_init();
	struct { char *p; size_t n; } buf = { NULL, 0 };
	FILE *mem = open_memstream(&buf.p, &buf.n);
	struct json_object *out = NULL;
	long code = 0;
	CURLcode cc;

	if (!h || !mem) {
		fprintf(stderr, "loadgen: out of memory\n");
		goto done;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
	cc = curl_easy_perform(h);
	fclose(mem);
	mem = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (cc != CURLE_OK || code != 200) {
		fprintf(stderr, "loadgen: GET %s: %s\n", url,
			cc != CURLE_OK ? curl_easy_strerror(cc) : "not 200");
		goto done;
	}
	out = json_tokener_parse(buf.p ? buf.p : "");
	if (!out)
		fprintf(stderr, "loadgen: GET %s: not JSON\n", url);
done:
	if (mem)
		fclose(mem);
	free(buf.p);
	curl_easy_cleanup(h);
	return out;
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

/* Fingerprint -> token index, by a sorted table of the model's fingerprints. */
struct fp_index {
	char fp[33];
	uint32_t t;
};

static int fp_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fp_index *)a)->fp, ((const struct fp_index *)b)->fp);
}

struct verdict {
	uint64_t tokens_expected, tokens_seen, tokens_wrong, tokens_missing, tokens_unknown;
	uint64_t requests_seen, batches_seen, events_seen;
	bool ok;
};

/*
 * Sums the collectors' inventories: every token the fleet mentioned with
 * its exact request count, no other token, and the sensors' batches and
 * events equal to the distinct batches sent (a duplicate counted twice
 * would show in all three).
 */
static int verify(struct run *r, struct verdict *v)
{
	uint32_t nt = fleet_tokens(r->f);
	struct fp_index *idx = calloc(nt, sizeof(*idx));
	uint64_t *got = calloc(nt, sizeof(*got));
	uint8_t *seen = calloc(nt, 1);
	struct curl_slist *h = auth_headers(r->o->read_token_file, NULL);
	const struct fleet_totals *tot = fleet_totals(r->f);
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (!idx || !got || !seen || !h) {
		fprintf(stderr, "loadgen: verify: out of memory or no read token\n");
		goto out;
	}
	for (uint32_t t = 0; t < nt; t++) {
		fleet_fingerprint(r->f, t, idx[t].fp);
		idx[t].t = t;
		v->tokens_expected += fleet_token_known(r->f, t);
	}
	qsort(idx, nt, sizeof(*idx), fp_cmp);
	for (unsigned c = 0; c < r->o->n_coll; c++) {
		char url[MAX_URL + 32];
		struct json_object *arr;

		snprintf(url, sizeof(url), "%s/v1/tokens?sort=requests", r->urls[c]);
		arr = get_json(url, h, r->o->timeout_s);
		if (!arr || !json_object_is_type(arr, json_type_array)) {
			json_object_put(arr);
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i), *fv;
			struct fp_index key = { .fp = "" }, *hit;

			if (!json_object_object_get_ex(o, "fingerprint", &fv))
				continue;
			snprintf(key.fp, sizeof(key.fp), "%s", json_object_get_string(fv));
			hit = bsearch(&key, idx, nt, sizeof(*idx), fp_cmp);
			if (!hit) {
				v->tokens_unknown++;
				continue;
			}
			seen[hit->t] = 1;
			got[hit->t] += (uint64_t)jint(o, "requests");
			v->requests_seen += (uint64_t)jint(o, "requests");
		}
		json_object_put(arr);
		snprintf(url, sizeof(url), "%s/v1/sensors", r->urls[c]);
		arr = get_json(url, h, r->o->timeout_s);
		if (!arr || !json_object_is_type(arr, json_type_array)) {
			json_object_put(arr);
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);

			v->batches_seen += (uint64_t)jint(o, "batches");
			v->events_seen += (uint64_t)jint(o, "events");
		}
		json_object_put(arr);
	}
	for (uint32_t t = 0; t < nt; t++) {
		if (!fleet_token_known(r->f, t))
			continue;
		if (!seen[t])
			v->tokens_missing++;
		else if (got[t] != fleet_token_requests(r->f, t))
			v->tokens_wrong++;
		else
			v->tokens_seen++;
	}
	v->ok = !v->tokens_missing && !v->tokens_wrong && !v->tokens_unknown &&
		v->tokens_seen == v->tokens_expected && v->requests_seen == tot->requests &&
		v->batches_seen == tot->batches && v->events_seen == tot->events;
	rc = 0;
out:
	free_headers(h);
	free(idx);
	free(got);
	free(seen);
	return rc;
}

static void report(struct run *r, double elapsed, const struct verdict *v)
{
	const struct fleet_totals *t = fleet_totals(r->f);
	double p50, p99, accepted = (double)(r->stored + r->duplicates);
	uint64_t errors = 0;

	qsort(r->lat_ms, r->n_lat, sizeof(*r->lat_ms), cmp_double);
	p50 = pct(r->lat_ms, r->n_lat, 50);
	p99 = pct(r->lat_ms, r->n_lat, 99);
	for (unsigned i = 0; i < r->n_st; i++)
		if (r->st[i].code != 200)
			errors += r->st[i].n;
	if (r->o->json) {
		struct json_object *o = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(o, "sensors", json_object_new_int64(r->o->fleet.sensors));
		json_object_object_add(o, "seed", json_object_new_uint64(r->o->fleet.seed));
		json_object_object_add(o, "elapsed_s", json_object_new_double(elapsed));
		json_object_object_add(o, "warmup_s", json_object_new_double(r->warmup_s));
		json_object_object_add(o, "warmup_batches", json_object_new_uint64(r->warmup_batches));
		json_object_object_add(o, "batches_per_s", json_object_new_double(accepted / elapsed));
		json_object_object_add(o, "events_per_s",
				       json_object_new_double((double)r->stored_events / elapsed));
		json_object_object_add(o, "latency_p50_ms", json_object_new_double(p50));
		json_object_object_add(o, "latency_p99_ms", json_object_new_double(p99));
		json_object_object_add(o, "accepted", json_object_new_uint64(r->stored + r->duplicates));
		json_object_object_add(o, "stored", json_object_new_uint64(r->stored));
		json_object_object_add(o, "duplicates", json_object_new_uint64(r->duplicates));
		json_object_object_add(o, "refused", json_object_new_uint64(r->refused));
		json_object_object_add(o, "lost", json_object_new_uint64(r->lost));
		json_object_object_add(o, "retries", json_object_new_uint64(r->retries));
		json_object_object_add(o, "dedupe_mismatch", json_object_new_uint64(r->dedupe_mismatch));
		json_object_object_add(o, "errors", json_object_new_uint64(errors));
		for (unsigned i = 0; i < r->n_st; i++) {
			char k[32];

			if (r->st[i].code == 200)
				continue;
			if (r->st[i].code < 0)
				snprintf(k, sizeof(k), "curl_%ld", -r->st[i].code);
			else
				snprintf(k, sizeof(k), "%ld", r->st[i].code);
			json_object_object_add(e, k, json_object_new_uint64(r->st[i].n));
		}
		json_object_object_add(o, "errors_by_status", e);
		json_object_object_add(o, "sent_batches", json_object_new_uint64(t->batches));
		json_object_object_add(o, "sent_events", json_object_new_uint64(t->events));
		json_object_object_add(o, "sent_requests", json_object_new_uint64(t->requests));
		json_object_object_add(o, "sends", json_object_new_uint64(t->sends));
		json_object_object_add(o, "dups", json_object_new_uint64(t->dups));
		json_object_object_add(o, "replays", json_object_new_uint64(t->replays));
		json_object_object_add(o, "restarts", json_object_new_uint64(t->restarts));
		if (v) {
			json_object_object_add(o, "verified", json_object_new_boolean(v->ok));
			json_object_object_add(o, "verify_tokens_missing",
					       json_object_new_uint64(v->tokens_missing));
			json_object_object_add(o, "verify_tokens_wrong",
					       json_object_new_uint64(v->tokens_wrong));
			json_object_object_add(o, "verify_tokens_unknown",
					       json_object_new_uint64(v->tokens_unknown));
			json_object_object_add(o, "verify_batches", json_object_new_uint64(v->batches_seen));
			json_object_object_add(o, "verify_requests", json_object_new_uint64(v->requests_seen));
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	printf("loadgen: %u sensors, seed %llu, %.2f s: %.1f batches/s accepted (%llu stored, "
	       "%llu duplicates), %.0f events/s stored\n",
	       r->o->fleet.sensors, (unsigned long long)r->o->fleet.seed, elapsed, accepted / elapsed,
	       (unsigned long long)r->stored, (unsigned long long)r->duplicates,
	       (double)r->stored_events / elapsed);
	if (r->o->warmup)
		printf("warm-up: %.2f s for %llu first batches (not in the figures)\n", r->warmup_s,
		       (unsigned long long)r->warmup_batches);
	printf("latency: p50 %.2f ms, p99 %.2f ms over %zu accepted batches\n", p50, p99, r->n_lat);
	printf("errors: %llu (refused %llu, lost %llu, retries %llu, dedupe mismatches %llu)",
	       (unsigned long long)errors, (unsigned long long)r->refused,
	       (unsigned long long)r->lost, (unsigned long long)r->retries,
	       (unsigned long long)r->dedupe_mismatch);
	for (unsigned i = 0; i < r->n_st; i++)
		if (r->st[i].code != 200)
			printf(r->st[i].code < 0 ? "; curl error %ld: %llu" : "; HTTP %ld: %llu",
			       r->st[i].code < 0 ? -r->st[i].code : r->st[i].code,
			       (unsigned long long)r->st[i].n);
	printf("\n");
	printf("sent: %llu distinct batches, %llu events, %llu requests in usage; %llu sends "
	       "(%llu duplicates, %llu replays after %llu restarts)\n",
	       (unsigned long long)t->batches, (unsigned long long)t->events,
	       (unsigned long long)t->requests, (unsigned long long)t->sends,
	       (unsigned long long)t->dups, (unsigned long long)t->replays,
	       (unsigned long long)t->restarts);
	if (v)
		printf("verify: %s: %llu of %llu tokens exact (%llu missing, %llu wrong count, %llu "
		       "unknown); batches %llu of %llu, requests %llu of %llu\n",
		       v->ok ? "ok" : "MISMATCH", (unsigned long long)v->tokens_seen,
		       (unsigned long long)v->tokens_expected, (unsigned long long)v->tokens_missing,
		       (unsigned long long)v->tokens_wrong, (unsigned long long)v->tokens_unknown,
		       (unsigned long long)v->batches_seen, (unsigned long long)t->batches,
		       (unsigned long long)v->requests_seen, (unsigned long long)t->requests);
}

int main(int argc, char **argv)
{
	static const char *const batch_headers[] = {
		"Content-Type: application/x-protobuf", "Content-Encoding: gzip", "Expect:", NULL,
	};
	struct opts o;
	struct run r = { .o = &o };
	struct verdict v;
	double elapsed = 0;
	char err[256];
	int rc = 1;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	o.fleet.t0_ms = clock_real_ms() - 60000;
	r.f = fleet_new(&o.fleet, err, sizeof(err));
	if (!r.f) {
		fprintf(stderr, "loadgen: %s\n", err);
		return 2;
	}
	for (unsigned c = 0; c < o.n_coll; c++) {
		size_t n = strlen(o.collectors[c]);

		/* a trailing slash would make //v1/... */
		while (n > 1 && o.collectors[c][n - 1] == '/')
			n--;
		snprintf(r.urls[c], sizeof(r.urls[c]), "%.*s", (int)n, o.collectors[c]);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r.b.events = calloc(fleet_max_events(r.f), sizeof(*r.b.events));
	r.busy = calloc(o.fleet.sensors, 1);
	r.coll = calloc(o.fleet.sensors, 1);
	r.slots = calloc(o.concurrency, sizeof(*r.slots));
	r.multi = curl_multi_init();
	r.headers = auth_headers(o.token_file, batch_headers);
	if (!r.b.events || !r.busy || !r.coll || !r.slots || !r.multi || !r.headers)
		goto out;
	for (uint32_t s = 0; s < o.fleet.sensors; s++)
		r.coll[s] = (uint8_t)(o.failover ? 0 : s % o.n_coll);
	for (unsigned i = 0; i < o.concurrency; i++)
		if (!(r.slots[i].h = curl_easy_init()))
			goto out;
	curl_multi_setopt(r.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o.concurrency);
	if (drive(&r, &elapsed) < 0) {
		fprintf(stderr, "loadgen: libcurl failed\n");
		goto out;
	}
	if (o.verify && verify(&r, &v) < 0)
		goto out;
	report(&r, elapsed, o.verify ? &v : NULL);
	rc = r.refused || r.lost || r.dedupe_mismatch || (o.verify && !v.ok) ? 1 : 0;
out:
	if (r.slots)
		for (unsigned i = 0; i < o.concurrency; i++) {
			if (r.slots[i].h) {
				curl_multi_remove_handle(r.multi, r.slots[i].h);
				curl_easy_cleanup(r.slots[i].h);
			}
			free(r.slots[i].body);
		}
	if (r.multi)
		curl_multi_cleanup(r.multi);
	free_headers(r.headers);
	curl_global_cleanup();
	free(r.slots);
	free(r.busy);
	free(r.coll);
	free(r.b.events);
	free(r.lat_ms);
	fleet_free(r.f);
	return rc;
}
