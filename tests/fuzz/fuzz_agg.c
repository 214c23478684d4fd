/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation table fuzz target: the input is a sequence of operations
 * (add a sighting of one of 4 x 16 x 4 triples at a given time, count one
 * by its key alone, flush, expire before a cutoff) on a table of at most
 * 64 entries, checked
 * against a plain array model: every result (new, counted, full), every
 * flushed count and rebuilt first sighting, every expiry count. Exercises
 * the open-addressing index's growth and backward-shift removal and the
 * string pool's reference counts (ASan: nothing freed too early or leaked).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

#define NFP 4
#define NPID 16
#define NDST 4
#define NTRIPLE (NFP * NPID * NDST)
#define MAX_ENTRIES 64

struct model {
	bool in[NTRIPLE];
	uint64_t interval[NTRIPLE], total[NTRIPLE];
	int64_t first[NTRIPLE], last[NTRIPLE];
	size_t n;
};

static const char *const fps[NFP] = {
	"00112233445566778899aabbccddeeff",
	"00112233445566778899aabbccddee00", /* the same hashed prefix */
	"ffeeddccbbaa99887766554433221100",
	"0123",
};
static const char *const dsts[NDST] = { "10.0.0.1:443", "10.0.0.2:443", "[::1]:80", "" };

static void make(struct sighting *s, unsigned t, int64_t ts)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", fps[t % NFP]);
	s->pid = (t / NFP) % NPID;
	snprintf(s->dst, sizeof(s->dst), "%s", dsts[t / (NFP * NPID)]);
	snprintf(s->info.type, sizeof(s->info.type), "type%u", t % NFP);
	snprintf(s->exe, sizeof(s->exe), "/bin/p%u", s->pid % 3);
	snprintf(s->host, sizeof(s->host), "h");
	snprintf(s->method, sizeof(s->method), "GET");
	snprintf(s->path, sizeof(s->path), "/%lld", (long long)ts);
	s->ts_unix_ns = ts;
}

static unsigned triple_of(const struct agg_entry *e)
{
	unsigned f = 0, d = 0;

	while (f < NFP && strcmp(fps[f], e->fingerprint) != 0)
		f++;
	while (d < NDST && strcmp(dsts[d], e->dst) != 0)
		d++;
	if (f == NFP || d == NDST || e->pid >= NPID)
		abort();
	return f + NFP * e->pid + NFP * NPID * d;
}

static void on_flush(const struct agg_entry *e, uint64_t count, void *ctx)
{
	struct model *m = ctx;
	unsigned t = triple_of(e);
	struct sighting s, want;

	if (!m->in[t] || count != m->interval[t] || count == 0 || e->total_count != m->total[t] ||
	    e->last_seen_ns != m->last[t])
		abort();
	agg_entry_sighting(e, &s);
	make(&want, t, m->first[t]);
	if (memcmp(&s, &want, sizeof(s)) != 0)
		abort();
	m->interval[t] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct agg a;
	struct sighting s;

	memset(&m, 0, sizeof(m));
	if (agg_init(&a, MAX_ENTRIES) != 0)
		return 0;
	for (size_t i = 0; i + 2 < size; i += 3) {
		unsigned op = data[i] % 8, t = data[i + 1] % NTRIPLE;
		int64_t ts = data[i + 2];
		enum agg_result r, want;

		if (op == 5) {
			struct agg_key k;

			make(&s, t, ts);
			k = (struct agg_key){ .pid = s.pid, .fingerprint = s.fingerprint, .dst = s.dst,
					      .host = s.host, .method = s.method, .exe = s.exe };
			/* counts exactly the triples agg_add would count, makes none */
			if (agg_count(&a, &k, ts) != m.in[t])
				abort();
			if (m.in[t]) {
				m.interval[t]++;
				m.total[t]++;
				m.last[t] = ts;
			}
		} else if (op < 6) {
			make(&s, t, ts);
			r = agg_add(&a, &s, NULL);
			want = m.in[t] ? AGG_COUNTED : m.n >= MAX_ENTRIES ? AGG_FULL : AGG_NEW;
			if (r != want)
				abort();
			if (r == AGG_NEW) {
				m.in[t] = true;
				m.n++;
				m.first[t] = ts;
			}
			if (r != AGG_FULL) {
				m.interval[t]++;
				m.total[t]++;
				m.last[t] = ts;
			}
		} else if (op == 6) {
			agg_flush(&a, on_flush, &m);
			for (unsigned k = 0; k < NTRIPLE; k++)
				if (m.interval[k])
					abort(); /* counted but not reported */
		} else {
			size_t dropped = 0;

			for (unsigned k = 0; k < NTRIPLE; k++) {
				if (m.in[k] && m.last[k] < ts && m.interval[k] == 0) {
					memset(&m.interval[k], 0, sizeof(m.interval[k]));
					m.in[k] = false;
					m.total[k] = 0;
					m.n--;
					dropped++;
				}
			}
			if (agg_expire(&a, ts) != dropped)
				abort();
		}
		if (a.n != m.n)
			abort();
	}
	agg_free(&a);
	return 0;
}
