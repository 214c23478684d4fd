/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An open-addressing table of (hash, pointer) slots, linear probing: a
 * lookup reads one or two adjacent 16-byte slots and compares hashes
 * before it touches any record, so a miss costs no pointer chase. The
 * caller owns the records and tells equal ones apart. Grows at half load;
 * removal shifts later slots back (no tombstones). Pure logic.
 */
#ifndef TOKENTAP_PTRTAB_H
#define TOKENTAP_PTRTAB_H

#include <stddef.h>
#include <stdint.h>

struct ptrtab_slot {
	uint64_t hash;
	void *p;                   /* NULL: free slot */
};

struct ptrtab {
	struct ptrtab_slot *slots;
	size_t cap;                /* a power of two, or 0 before the first insert */
	size_t n;
};

/* The table is usable zeroed; ptrtab_free() releases the slots only. */
void ptrtab_free(struct ptrtab *t);

/*
 * Candidates for hash h: start with *pos = (size_t)-1; each call returns
 * the next record stored with hash h (and its slot in *pos), NULL after
 * the last.
 */
void *ptrtab_next(const struct ptrtab *t, uint64_t h, size_t *pos);

/* Stores p (not NULL) under h; -1 when out of memory. */
int ptrtab_insert(struct ptrtab *t, uint64_t h, void *p);

/* Empties slot pos (from ptrtab_next or an iteration over slots). */
void ptrtab_remove_at(struct ptrtab *t, size_t pos);

#endif
