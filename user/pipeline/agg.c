/* SPDX-License-Identifier: Apache-2.0 */
#include "agg.h"
#include "fnv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The string members of struct token_info, packed in this order in agg_token.strs. */
#define INFO_STR(f) { offsetof(struct token_info, f), sizeof(((struct token_info *)0)->f) }
static const struct {
	size_t off, size;
} info_strs[] = {
	INFO_STR(type), INFO_STR(prefix), INFO_STR(key_id), INFO_STR(aws_key_kind),
	INFO_STR(aws_account), INFO_STR(aws_region), INFO_STR(aws_service), INFO_STR(basic_user),
	INFO_STR(basic_password_type), INFO_STR(azure_signature),
};
#define N_INFO_STRS (sizeof(info_strs) / sizeof(info_strs[0]))

/*
 * The triple: token, process (pid and program), destination (address and
 * Host), and the method, so that a write after reads is reported as a new
 * sighting the collector can judge.
 *
 * The hash covers the fingerprint, the pid and the address: the
 * fingerprint is already uniform hex, so its first 16 digits (64 bits)
 * spread tokens as well as all of it, and hashing every field byte by
 * byte cost more than the rest of the lookup. Entries that agree there
 * are told apart field by field.
 */
static uint64_t triple_hash(const struct agg_key *k)
{
	uint64_t h = fnv1a(FNV1A_SEED, k->fingerprint, strnlen(k->fingerprint, 16));

	h = fnv1a(h, &k->pid, sizeof(k->pid));
	return fnv1a_field(h, k->dst);
}

static bool same_triple(const struct agg_entry *e, const struct agg_key *k)
{
	return e->pid == k->pid && strcmp(e->fingerprint, k->fingerprint) == 0 &&
	       strcmp(e->dst, k->dst) == 0 && strcmp(e->host, k->host) == 0 &&
	       strcmp(e->method, k->method) == 0 && strcmp(e->exe, k->exe) == 0;
}

static struct agg_key sighting_key(const struct sighting *s)
{
	return (struct agg_key){ .pid = s->pid, .fingerprint = s->fingerprint, .dst = s->dst,
				 .host = s->host, .method = s->method, .exe = s->exe };
}

/* The entry of k's triple (hash h), or NULL. */
static struct agg_entry *find(const struct agg *a, const struct agg_key *k, uint64_t h)
{
	size_t pos = (size_t)-1;
	struct agg_entry *e;

	while ((e = ptrtab_next(&a->entries, h, &pos)))
		if (same_triple(e, k))
			return e;
	return NULL;
}

static void count(struct agg_entry *e, int64_t ts_unix_ns)
{
	e->interval_count++;
	e->total_count++;
	e->last_seen_ns = ts_unix_ns;
}

int agg_init(struct agg *a, size_t max_entries)
{
	memset(a, 0, sizeof(*a));
	a->max_entries = max_entries;
	return 0;
}

static void token_put(struct agg *a, struct agg_token *t)
{
	size_t pos = (size_t)-1;
	void *q;

	if (--t->refs)
		return;
	while ((q = ptrtab_next(&a->tokens, t->hash, &pos))) {
		if (q == t) {
			ptrtab_remove_at(&a->tokens, pos);
			break;
		}
	}
	if (t->jwt)
		json_object_put(t->jwt);
	free(t);
}

/* The shared record of s's token, one more reference; NULL when out of memory. */
static struct agg_token *token_get(struct agg *a, const struct sighting *s)
{
	uint64_t h = fnv1a(FNV1A_SEED, s->fingerprint, strlen(s->fingerprint));
	size_t pos = (size_t)-1;
	struct agg_token *t;

	while ((t = ptrtab_next(&a->tokens, h, &pos))) {
		if (strcmp(t->fingerprint, s->fingerprint) == 0) {
			t->refs++;
			return t;
		}
	}
	/* the strings are NUL-terminated within their arrays; count what fits all the same */
	size_t len[N_INFO_STRS], total = 0;

	for (size_t i = 0; i < N_INFO_STRS; i++) {
		len[i] = strnlen((const char *)&s->info + info_strs[i].off, info_strs[i].size - 1);
		total += len[i] + 1;
	}
	t = malloc(sizeof(*t) + total);
	if (!t)
		return NULL;
	t->hash = h;
	t->refs = 1;
	memcpy(t->fingerprint, s->fingerprint, sizeof(t->fingerprint));
	t->has_checksum = s->info.has_checksum;
	t->checksum_valid = s->info.checksum_valid;
	t->confidence = s->info.confidence;
	t->length = s->info.length;
	t->jwt = s->info.jwt;
	total = 0;
	for (size_t i = 0; i < N_INFO_STRS; i++) {
		memcpy(t->strs + total, (const char *)&s->info + info_strs[i].off, len[i]);
		t->strs[total + len[i]] = '\0';
		total += len[i] + 1;
	}
	if (ptrtab_insert(&a->tokens, h, t) != 0) {
		free(t);
		return NULL;
	}
	if (t->jwt)
		json_object_get(t->jwt);
	return t;
}

static void entry_free(struct agg *a, struct agg_entry *e)
{
	const char *strs[] = { e->scheme, e->header, e->comm, e->exe, e->container_id, e->pod_uid,
			       e->tls_library, e->src, e->dst, e->host, e->method, e->path };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		strpool_put(&a->strs, strs[i]);
	if (e->tok)
		token_put(a, e->tok);
	free(e);
}

void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->entries.cap; i++)
		if (a->entries.slots[i].p)
			entry_free(a, a->entries.slots[i].p);
	ptrtab_free(&a->entries);
	ptrtab_free(&a->tokens);
	strpool_free(&a->strs);
	memset(a, 0, sizeof(*a));
}

/* A new entry for s, its strings interned; NULL when out of memory. */
static struct agg_entry *entry_new(struct agg *a, const struct sighting *s)
{
	struct agg_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	struct {
		const char **dst;
		const char *src;
	} strs[] = {
		{ &e->scheme, s->scheme }, { &e->header, s->header }, { &e->comm, s->comm },
		{ &e->exe, s->exe }, { &e->container_id, s->container_id },
		{ &e->pod_uid, s->pod_uid }, { &e->tls_library, s->tls_library },
		{ &e->src, s->src }, { &e->dst, s->dst }, { &e->host, s->host },
		{ &e->method, s->method }, { &e->path, s->path },
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		*strs[i].dst = strpool_get(&a->strs, strs[i].src);
		if (!*strs[i].dst) {
			entry_free(a, e);
			return NULL;
		}
	}
	e->tok = token_get(a, s);
	if (!e->tok) {
		entry_free(a, e);
		return NULL;
	}
	memcpy(e->fingerprint, s->fingerprint, sizeof(e->fingerprint));
	e->cgroup_id = s->cgroup_id;
	e->first_ns = s->ts_unix_ns;
	e->pid = s->pid;
	e->tid = s->tid;
	e->uid = s->uid;
	e->tls = s->tls;
	e->in_query = s->in_query;
	return e;
}

/*
 * The sighting's strings are NUL-terminated within their arrays (the
 * producers bound them); copy what fits all the same.
 */
static void put(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void agg_entry_sighting(const struct agg_entry *e, struct sighting *s)
{
	const struct agg_token *t = e->tok;
	const char *str = t->strs;

	memset(s, 0, sizeof(*s));
	memcpy(s->fingerprint, t->fingerprint, sizeof(s->fingerprint));
	for (size_t i = 0; i < N_INFO_STRS; i++) {
		put((char *)&s->info + info_strs[i].off, info_strs[i].size, str);
		str += strlen(str) + 1;
	}
	s->info.has_checksum = t->has_checksum;
	s->info.checksum_valid = t->checksum_valid;
	s->info.confidence = t->confidence;
	s->info.length = t->length;
	s->info.jwt = t->jwt;
	put(s->scheme, sizeof(s->scheme), e->scheme);
	put(s->header, sizeof(s->header), e->header);
	s->in_query = e->in_query;
	s->pid = e->pid;
	s->tid = e->tid;
	s->uid = e->uid;
	put(s->comm, sizeof(s->comm), e->comm);
	put(s->exe, sizeof(s->exe), e->exe);
	s->cgroup_id = e->cgroup_id;
	put(s->container_id, sizeof(s->container_id), e->container_id);
	put(s->pod_uid, sizeof(s->pod_uid), e->pod_uid);
	s->tls = e->tls;
	put(s->tls_library, sizeof(s->tls_library), e->tls_library);
	put(s->src, sizeof(s->src), e->src);
	put(s->dst, sizeof(s->dst), e->dst);
	put(s->host, sizeof(s->host), e->host);
	put(s->method, sizeof(s->method), e->method);
	put(s->path, sizeof(s->path), e->path);
	s->ts_unix_ns = e->first_ns;
}

bool agg_count(struct agg *a, const struct agg_key *k, int64_t ts_unix_ns)
{
	struct agg_entry *e = find(a, k, triple_hash(k));

	if (!e)
		return false;
	count(e, ts_unix_ns);
	return true;
}

enum agg_result agg_add(struct agg *a, const struct sighting *s, const struct agg_entry **entry)
{
	struct agg_key k = sighting_key(s);
	uint64_t h = triple_hash(&k);
	struct agg_entry *e = find(a, &k, h);

	if (entry)
		*entry = e;
	if (e) {
		count(e, s->ts_unix_ns);
		return AGG_COUNTED;
	}
	if (a->n >= a->max_entries) {
		a->overflow++;
		return AGG_FULL;
	}
	e = entry_new(a, s);
	if (!e || ptrtab_insert(&a->entries, h, e) != 0) {
		if (e)
			entry_free(a, e);
		a->overflow++;
		return AGG_FULL;
	}
	e->interval_count = 1;
	e->total_count = 1;
	e->last_seen_ns = s->ts_unix_ns;
	a->n++;
	if (entry)
		*entry = e;
	return AGG_NEW;
}

void agg_flush(struct agg *a, agg_flush_cb cb, void *ctx)
{
	for (size_t i = 0; i < a->entries.cap; i++) {
		struct agg_entry *e = a->entries.slots[i].p;

		if (!e || e->interval_count == 0)
			continue;
		cb(e, e->interval_count, ctx);
		e->interval_count = 0;
	}
}

size_t agg_expire(struct agg *a, int64_t cutoff_ns)
{
	size_t dropped = 0, i = 0;

	/*
	 * A removal shifts later slots back into slot i, so i is looked at
	 * again; a slot wrapped round from the start may be looked at twice,
	 * which changes nothing.
	 */
	while (i < a->entries.cap) {
		struct agg_entry *e = a->entries.slots[i].p;

		/* never forget counts not yet reported */
		if (e && e->last_seen_ns < cutoff_ns && e->interval_count == 0) {
			ptrtab_remove_at(&a->entries, i);
			entry_free(a, e);
			a->n--;
			dropped++;
		} else {
			i++;
		}
	}
	return dropped;
}
