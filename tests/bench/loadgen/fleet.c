/* SPDX-License-Identifier: Apache-2.0 */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decisions of one sensor, drawn from its own generator. */
struct sensor_state {
	uint64_t rng;
	uint64_t last_seq;       /* the last new seq sent */
	uint8_t boot_bits;       /* bit i: seq last_seq - i opened a sensor life */
	bool need_boot;          /* the next new seq opens a life */
	bool dup_pending;
	bool dup_boot;
	enum fleet_kind dup_of;
	uint64_t dup_seq;
	uint32_t replay_left;
	uint64_t replay_next;
};

struct fleet {
	struct fleet_config cfg;
	uint32_t own_tokens;     /* 2 per workload kind: [0, 2W) */
	uint32_t shared_tokens;  /* [2W, 2W + S) */
	uint32_t held_tokens;    /* only held: [2W + S, 2W + S + H) */
	struct sensor_state *sens;
	uint64_t *requests;      /* per token */
	uint8_t *known;          /* per token */
	struct fleet_totals tot;
};

/* One triple a node's process uses: (process, token, destination). */
struct triple {
	uint32_t proc, token, dst;
};

struct node {
	uint32_t n_procs;
	uint32_t workload[FLEET_MAX_PROCS];
	uint32_t pid[FLEET_MAX_PROCS];
	size_t n_triples;
	struct triple triples[FLEET_MAX_TRIPLES];
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A value of the population or of a batch's content, fixed by the seed. */
static uint64_t hash4(const struct fleet *f, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return mix(mix(mix(mix(f->cfg.seed ^ a) ^ b) ^ c) ^ d);
}

/* xorshift64* */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static double next_unit(uint64_t *s)
{
	return (double)(next_rand(s) >> 11) * 0x1.0p-53;
}

struct fleet *fleet_new(const struct fleet_config *cfg, char *err, size_t errlen)
{
	struct fleet *f;
	uint32_t tokens;

	if (cfg->sensors == 0 || cfg->sensors > FLEET_MAX_SENSORS) {
		snprintf(err, errlen, "sensors must be 1..%u", FLEET_MAX_SENSORS);
		return NULL;
	}
	if (cfg->events_per_batch < 2 || cfg->events_per_batch > FLEET_MAX_EVENTS) {
		snprintf(err, errlen, "events per batch must be 2..%u", FLEET_MAX_EVENTS);
		return NULL;
	}
	if (!(cfg->dup_rate >= 0 && cfg->dup_rate <= 1) ||
	    !(cfg->restart_rate >= 0 && cfg->restart_rate <= 1)) {
		snprintf(err, errlen, "rates must be between 0 and 1");
		return NULL;
	}
	if (cfg->workloads > 1000000 || cfg->dsts > 1000000 || cfg->interval_ms == 0 ||
	    cfg->interval_ms > 3600000 || cfg->t0_ms <= 0) {
		snprintf(err, errlen, "workloads, destinations, interval or start time out of range");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto oom;
	f->cfg = *cfg;
	if (!f->cfg.workloads)
		f->cfg.workloads = cfg->sensors / 4 + 8;
	if (!f->cfg.dsts)
		f->cfg.dsts = 64;
	f->own_tokens = 2 * f->cfg.workloads;
	f->shared_tokens = f->cfg.workloads / 8 + 1;
	f->held_tokens = f->cfg.workloads / 4 + 1;
	tokens = fleet_tokens(f);
	f->sens = calloc(cfg->sensors, sizeof(*f->sens));
	f->requests = calloc(tokens, sizeof(*f->requests));
	f->known = calloc(tokens, 1);
	if (!f->sens || !f->requests || !f->known) {
		fleet_free(f);
		goto oom;
	}
	for (uint32_t s = 0; s < cfg->sensors; s++) {
		f->sens[s].rng = mix(cfg->seed ^ mix(s + 1)) | 1;
		f->sens[s].need_boot = true;
	}
	return f;
oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	free(f->sens);
	free(f->requests);
	free(f->known);
	free(f);
}

uint32_t fleet_tokens(const struct fleet *f)
{
	return f->own_tokens + f->shared_tokens + f->held_tokens;
}

/* Boot events at most: processes, held tokens (3 used + 1 only held each), sightings. */
static size_t boot_events(void)
{
	return FLEET_MAX_PROCS + FLEET_MAX_PROCS * 4 + FLEET_MAX_TRIPLES;
}

size_t fleet_max_events(const struct fleet *f)
{
	return f->cfg.events_per_batch + boot_events();
}

/* The tokens a workload kind uses: two of its own, and for a third of kinds a shared one. */
static uint32_t workload_tokens(const struct fleet *f, uint32_t w, uint32_t out[3])
{
	uint64_t h = hash4(f, 1, w, 0, 0);

	out[0] = 2 * w;
	out[1] = 2 * w + 1;
	if (h % 3)
		return 2;
	out[2] = f->own_tokens + (uint32_t)((h >> 8) % f->shared_tokens);
	return 3;
}

/* One or two destinations per token. */
static uint32_t token_dsts(const struct fleet *f, uint32_t t, uint32_t out[2])
{
	uint64_t h = hash4(f, 2, t, 0, 0);

	out[0] = (uint32_t)(h % f->cfg.dsts);
	if ((h >> 32) % 5)
		return 1;
	out[1] = (out[0] + 1 + (uint32_t)((h >> 40) % (f->cfg.dsts - 1 ? f->cfg.dsts - 1 : 1))) %
		 f->cfg.dsts;
	return out[1] == out[0] ? 1 : 2;
}

/* The held-only token of process p of node s, or UINT32_MAX (three processes in four). */
static uint32_t held_only(const struct fleet *f, uint32_t s, uint32_t p)
{
	uint64_t h = hash4(f, 4, s, p, 0);

	if (h % 4)
		return UINT32_MAX;
	return f->own_tokens + f->shared_tokens + (uint32_t)((h >> 8) % f->held_tokens);
}

/*
 * Node s: 2..FLEET_MAX_PROCS processes; a kind is the product of two
 * uniform draws scaled down, so low-numbered kinds run on many nodes.
 */
static void node_of(const struct fleet *f, uint32_t s, struct node *n)
{
	uint32_t W = f->cfg.workloads;

	n->n_procs = 2 + (uint32_t)(hash4(f, 3, s, 0, 0) % (FLEET_MAX_PROCS - 1));
	n->n_triples = 0;
	for (uint32_t p = 0; p < n->n_procs; p++) {
		uint64_t h = hash4(f, 3, s, p + 1, 0);
		uint64_t a = h % W, b = (h >> 32) % W;
		uint32_t toks[3], nt;

		n->workload[p] = (uint32_t)(a * b / W);
		n->pid[p] = 1000 + p * 16 + (uint32_t)((h >> 20) % 16);
		nt = workload_tokens(f, n->workload[p], toks);
		for (uint32_t i = 0; i < nt; i++) {
			uint32_t d[2], nd = token_dsts(f, toks[i], d);

			for (uint32_t j = 0; j < nd; j++)
				n->triples[n->n_triples++] = (struct triple){ p, toks[i], d[j] };
		}
	}
}

static struct fleet_event *add(struct fleet_batch *b, enum fleet_event_kind k, int64_t ts)
{
	struct fleet_event *e = &b->events[b->n_events++];

	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->ts_ms = ts;
	return e;
}

/*
 * The content of (s, seq): status, then for a sensor life's first batch
 * its processes, what they hold and a first sighting per triple, then
 * usage: three triples in four per interval, over as many intervals back
 * as fit in events_per_batch (a sensor catching up on a backlog).
 */
static void build(const struct fleet *f, uint32_t s, uint64_t seq, bool boot, struct fleet_batch *b)
{
	struct node n;
	int64_t base = f->cfg.t0_ms + (int64_t)(seq - 1) * f->cfg.interval_ms + s % 1000;
	size_t cap;

	node_of(f, s, &n);
	b->n_events = 0;
	b->sent_at_ms = base + 500;
	add(b, FE_STATUS, base);
	cap = f->cfg.events_per_batch;
	if (boot) {
		for (uint32_t p = 0; p < n.n_procs; p++) {
			struct fleet_event *e = add(b, FE_PROCESS, base);

			e->proc = p;
			e->pid = n.pid[p];
			e->workload = n.workload[p];
		}
		for (uint32_t p = 0; p < n.n_procs; p++) {
			uint32_t toks[4], nt = workload_tokens(f, n.workload[p], toks);

			toks[nt] = held_only(f, s, p);
			if (toks[nt] != UINT32_MAX)
				nt++;
			for (uint32_t i = 0; i < nt; i++) {
				struct fleet_event *e = add(b, FE_HELD, base);

				e->proc = p;
				e->pid = n.pid[p];
				e->workload = n.workload[p];
				e->token = toks[i];
			}
		}
		for (size_t i = 0; i < n.n_triples; i++) {
			struct fleet_event *e = add(b, FE_SEEN, base + (int64_t)i);

			e->proc = n.triples[i].proc;
			e->pid = n.pid[e->proc];
			e->workload = n.workload[e->proc];
			e->token = n.triples[i].token;
			e->dst = n.triples[i].dst;
		}
		cap += b->n_events - 1;
	}
	for (uint32_t r = 0; r < 60 && b->n_events < cap; r++) {
		size_t off = (size_t)(hash4(f, 5, s, seq, r) % n.n_triples);

		for (size_t k = 0; k < n.n_triples && b->n_events < cap; k++) {
			size_t i = (off + k) % n.n_triples;
			uint64_t h = hash4(f, 6, s, seq, r * FLEET_MAX_TRIPLES + i);
			struct fleet_event *e;

			if (h % 4 == 0)
				continue;
			e = add(b, FE_USAGE, base - (int64_t)r * 1000 + (int64_t)i);
			e->proc = n.triples[i].proc;
			e->pid = n.pid[e->proc];
			e->workload = n.workload[e->proc];
			e->token = n.triples[i].token;
			e->dst = n.triples[i].dst;
			e->count = 1 + (h >> 8) % 50;
		}
	}
}

static void account(struct fleet *f, const struct fleet_batch *b)
{
	f->tot.batches++;
	f->tot.events += b->n_events;
	for (size_t i = 0; i < b->n_events; i++) {
		const struct fleet_event *e = &b->events[i];

		if (e->kind == FE_HELD || e->kind == FE_SEEN || e->kind == FE_USAGE)
			f->known[e->token] = 1;
		if (e->kind == FE_USAGE) {
			f->requests[e->token] += e->count;
			f->tot.requests += e->count;
		}
	}
}

static void emit(struct fleet *f, uint32_t s, uint64_t seq, bool boot, enum fleet_kind k,
		 struct fleet_batch *out)
{
	out->sensor = s;
	out->seq = seq;
	out->kind = k;
	out->boot = boot;
	out->n_events = 0;
	build(f, s, seq, boot, out);
	f->tot.sends++;
}

void fleet_next(struct fleet *f, uint32_t s, struct fleet_batch *out)
{
	struct sensor_state *st = &f->sens[s];
	enum fleet_kind k;
	uint64_t seq;
	bool boot;

	if (st->dup_pending) {
		st->dup_pending = false;
		f->tot.dups++;
		emit(f, s, st->dup_seq, st->dup_boot, FLEET_DUP, out);
		return;
	}
	if (st->replay_left) {
		seq = st->replay_next++;
		st->replay_left--;
		boot = st->boot_bits >> (st->last_seq - seq) & 1;
		k = FLEET_REPLAY;
		f->tot.replays++;
		emit(f, s, seq, boot, k, out);
	} else {
		seq = ++st->last_seq;
		boot = st->need_boot;
		st->need_boot = false;
		st->boot_bits = (uint8_t)(st->boot_bits << 1 | boot);
		k = FLEET_NEW;
		emit(f, s, seq, boot, k, out);
		account(f, out);
	}
	if (next_unit(&st->rng) < f->cfg.dup_rate) {
		st->dup_pending = true;
		st->dup_seq = seq;
		st->dup_boot = boot;
	}
	/* a restart re-sends the spooled batches whose answers it never got */
	if (k == FLEET_NEW && next_unit(&st->rng) < f->cfg.restart_rate) {
		uint64_t n = 1 + next_rand(&st->rng) % FLEET_MAX_REPLAY;

		f->tot.restarts++;
		st->need_boot = true;
		st->replay_left = (uint32_t)(n < st->last_seq ? n : st->last_seq);
		st->replay_next = st->last_seq - st->replay_left + 1;
	}
}

uint64_t fleet_sent(const struct fleet *f, uint32_t s)
{
	return f->sens[s].last_seq;
}

bool fleet_idle(const struct fleet *f, uint32_t s)
{
	return !f->sens[s].dup_pending && !f->sens[s].replay_left;
}

const struct fleet_totals *fleet_totals(const struct fleet *f)
{
	return &f->tot;
}

uint64_t fleet_token_requests(const struct fleet *f, uint32_t t)
{
	return t < fleet_tokens(f) ? f->requests[t] : 0;
}

bool fleet_token_known(const struct fleet *f, uint32_t t)
{
	return t < fleet_tokens(f) && f->known[t];
}

void fleet_fingerprint(const struct fleet *f, uint32_t t, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)hash4(f, 7, t, 0, 0),
		 (unsigned long long)hash4(f, 7, t, 1, 0));
}

void fleet_sensor_id(const struct fleet *f, uint32_t s, char *out, size_t len)
{
	snprintf(out, len, "loadgen-%08llx-%05u", (unsigned long long)(mix(f->cfg.seed) >> 32), s);
}

void fleet_node(uint32_t s, char *out, size_t len)
{
	snprintf(out, len, "node-%05u", s);
}

void fleet_exe(uint32_t workload, char *out, size_t len)
{
	snprintf(out, len, "/usr/local/bin/svc%04u", workload);
}

void fleet_dst(uint32_t dst, char *addr, size_t alen, char *host, size_t hlen)
{
	snprintf(addr, alen, "10.%u.%u.%u:443", 20 + dst / 65536 % 200, dst / 256 % 256, dst % 256);
	snprintf(host, hlen, "api%u.example.com", dst);
}

const char *fleet_token_type(uint32_t t)
{
	static const char *const types[] = { "github_pat", "opaque", "jwt", "aws_sigv4" };

	return types[t % 4];
}
