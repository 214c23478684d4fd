/* SPDX-License-Identifier: Apache-2.0 */
#include "agg.h"
#include "fnv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The triple: token, process (pid and program), destination (address and
 * Host), and the method, so that a write after reads is reported as a new
 * sighting the collector can judge.
 */
/* Appends s and a '|' at *off; false when len is too small. */
static bool put_field(char *buf, size_t len, size_t *off, const char *s, bool sep)
{
	size_t n = strlen(s);

	if (*off + n + 1 >= len)
		return false;
	memcpy(buf + *off, s, n);
	*off += n;
	if (sep)
		buf[(*off)++] = '|';
	buf[*off] = '\0';
	return true;
}

/*
 * "fingerprint|pid|exe|dst|host|method", built by hand: snprintf was the
 * largest cost of counting a sighting, which happens per request.
 */
static int make_key(const struct sighting *s, char *buf, size_t len)
{
	char pid[16];
	size_t off = 0, n = sizeof(pid);
	uint32_t v = s->pid;

	pid[--n] = '\0';
	do {
		pid[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (!put_field(buf, len, &off, s->fingerprint, true) ||
	    !put_field(buf, len, &off, pid + n, true) || !put_field(buf, len, &off, s->exe, true) ||
	    !put_field(buf, len, &off, s->dst, true) || !put_field(buf, len, &off, s->host, true) ||
	    !put_field(buf, len, &off, s->method, false))
		return -1;
	return (int)off;
}

int agg_init(struct agg *a, size_t max_entries)
{
	memset(a, 0, sizeof(*a));
	a->nbuckets = 1024;
	while (a->nbuckets < max_entries && a->nbuckets < (1u << 20))
		a->nbuckets <<= 1;
	a->buckets = calloc(a->nbuckets, sizeof(*a->buckets));
	a->max_entries = max_entries;
	if (!a->buckets) {
		/* agg_free() must not walk buckets that were never allocated */
		a->nbuckets = 0;
		return -1;
	}
	return 0;
}

static void entry_free(struct agg_entry *e)
{
	sighting_release(&e->first);
	free(e->key);
	free(e);
}

void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->nbuckets; i++) {
		struct agg_entry *e = a->buckets[i];

		while (e) {
			struct agg_entry *next = e->next;

			entry_free(e);
			e = next;
		}
	}
	free(a->buckets);
	memset(a, 0, sizeof(*a));
}

enum agg_result agg_add(struct agg *a, const struct sighting *s, const struct agg_entry **entry)
{
	char key[sizeof(s->fingerprint) + 16 + sizeof(s->exe) + sizeof(s->dst) + sizeof(s->host) +
		 sizeof(s->method) + 8];
	int klen = make_key(s, key, sizeof(key));
	uint64_t h;
	struct agg_entry *e;

	if (entry)
		*entry = NULL;
	if (klen < 0) {
		a->overflow++;
		return AGG_FULL;
	}
	/*
	 * The fingerprint, already uniform, and the pid spread the triples;
	 * hashing the whole key byte by byte cost more than the rest of the
	 * lookup. Keys that agree there are told apart by strcmp.
	 */
	h = fnv1a(fnv1a(FNV1A_SEED, s->fingerprint, FINGERPRINT_HEX_LEN), &s->pid, sizeof(s->pid));
	h = fnv1a_field(h, s->dst);
	for (e = a->buckets[h & (a->nbuckets - 1)]; e; e = e->next) {
		if (e->key_hash == h && strcmp(e->key, key) == 0) {
			e->interval_count++;
			e->total_count++;
			e->last_seen_ns = s->ts_unix_ns;
			if (entry)
				*entry = e;
			return AGG_COUNTED;
		}
	}
	if (a->n >= a->max_entries) {
		a->overflow++;
		return AGG_FULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		a->overflow++;
		return AGG_FULL;
	}
	sighting_copy(&e->first, s);
	e->key_hash = h;
	e->interval_count = 1;
	e->total_count = 1;
	e->last_seen_ns = s->ts_unix_ns;
	e->next = a->buckets[h & (a->nbuckets - 1)];
	a->buckets[h & (a->nbuckets - 1)] = e;
	a->n++;
	if (entry)
		*entry = e;
	return AGG_NEW;
}

void agg_flush(struct agg *a, agg_flush_cb cb, void *ctx)
{
	for (size_t i = 0; i < a->nbuckets; i++) {
		for (struct agg_entry *e = a->buckets[i]; e; e = e->next) {
			if (e->interval_count == 0)
				continue;
			cb(e, e->interval_count, ctx);
			e->interval_count = 0;
		}
	}
}

size_t agg_expire(struct agg *a, int64_t cutoff_ns)
{
	size_t dropped = 0;

	for (size_t i = 0; i < a->nbuckets; i++) {
		struct agg_entry **pp = &a->buckets[i];

		while (*pp) {
			struct agg_entry *e = *pp;

			/* never forget counts not yet reported */
			if (e->last_seen_ns < cutoff_ns && e->interval_count == 0) {
				*pp = e->next;
				entry_free(e);
				a->n--;
				dropped++;
			} else {
				pp = &e->next;
			}
		}
	}
	return dropped;
}
