/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation of sightings per (token, process, destination) triple: the
 * first sighting of a triple is reported at once, then request counts per
 * interval. Bounded; pure logic.
 *
 * An entry keeps only what its usage reports print, small: the token's
 * description is one record per fingerprint shared by its entries, every
 * string is interned in the table's pool, and the index is an open-
 * addressing table of (hash, entry) slots.
 */
#ifndef TOKENTAP_AGG_H
#define TOKENTAP_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ptrtab.h"
#include "sighting.h"
#include "strpool.h"

/*
 * One per fingerprint (the classification is a function of the
 * credential): its struct token_info packed, the strings (mostly empty)
 * one after the other instead of in their fixed-size arrays.
 */
struct agg_token {
	uint64_t hash;
	uint32_t refs;
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	bool has_checksum, checksum_valid;
	int confidence;
	size_t length;
	struct json_object *jwt;   /* a reference held, or NULL */
	char strs[];               /* the info's strings, NUL-terminated, in agg.c's order */
};

/*
 * The first sighting of the triple, its strings interned, and its counts.
 * What a lookup that hits reads comes first, in the entry's first cache
 * lines: the key (pid, fingerprint inline rather than in the token record,
 * then the interned destination, Host, method, program) and the counts.
 */
struct agg_entry {
	uint32_t pid;
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	uint64_t interval_count;   /* requests since the last flush */
	uint64_t total_count;
	int64_t last_seen_ns;      /* wall clock */
	const char *dst, *host, *method, *exe;
	/* the rest of the first sighting */
	struct agg_token *tok;
	const char *scheme, *header, *comm, *container_id, *pod_uid, *tls_library, *src, *path;
	uint64_t cgroup_id;
	int64_t first_ns;          /* wall clock of the first sighting */
	uint32_t tid, uid;
	bool tls, in_query;
};

struct agg {
	struct ptrtab entries;
	struct ptrtab tokens;
	struct strpool strs;
	size_t n;
	size_t max_entries;
	uint64_t overflow;         /* sightings not aggregated: table full */
};

enum agg_result {
	AGG_NEW = 1,      /* first sighting of this triple: report token_seen */
	AGG_COUNTED = 0,
	AGG_FULL = -1,    /* table full: counted in overflow */
};

/*
 * What tells triples apart: the fields of a sighting agg_add compares,
 * by reference, so a request already counted needs no whole sighting.
 */
struct agg_key {
	uint32_t pid;
	const char *fingerprint, *dst, *host, *method, *exe;
};

int agg_init(struct agg *a, size_t max_entries);
void agg_free(struct agg *a);
enum agg_result agg_add(struct agg *a, const struct sighting *s, const struct agg_entry **entry);
/*
 * One more request of a triple already in the table, at ts_unix_ns, as
 * agg_add() counts it; false when the triple is new (then agg_add() the
 * whole sighting).
 */
bool agg_count(struct agg *a, const struct agg_key *k, int64_t ts_unix_ns);

/*
 * The entry's first sighting, rebuilt in *out. out->info.jwt is borrowed
 * from the entry: never sighting_release() it; valid until the entry goes.
 */
void agg_entry_sighting(const struct agg_entry *e, struct sighting *out);

typedef void (*agg_flush_cb)(const struct agg_entry *e, uint64_t count, void *ctx);
/* Calls cb for every triple with requests since the last flush, then resets those counts. */
void agg_flush(struct agg *a, agg_flush_cb cb, void *ctx);
/* Forgets triples not seen since before cutoff_ns (a later sighting is new again). */
size_t agg_expire(struct agg *a, int64_t cutoff_ns);

#endif
