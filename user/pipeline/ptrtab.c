/* SPDX-License-Identifier: Apache-2.0 */
#include "ptrtab.h"

#include <stdlib.h>

#define PTRTAB_MIN 64

void ptrtab_free(struct ptrtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
	t->n = 0;
}

void *ptrtab_next(const struct ptrtab *t, uint64_t h, size_t *pos)
{
	size_t mask = t->cap - 1, i;

	if (!t->cap)
		return NULL;
	i = *pos == (size_t)-1 ? (size_t)h & mask : (*pos + 1) & mask;
	for (; t->slots[i].p; i = (i + 1) & mask) {
		if (t->slots[i].hash == h) {
			*pos = i;
			return t->slots[i].p;
		}
	}
	return NULL;
}

static void place(struct ptrtab_slot *slots, size_t mask, uint64_t h, void *p)
{
	size_t i = (size_t)h & mask;

	while (slots[i].p)
		i = (i + 1) & mask;
	slots[i].hash = h;
	slots[i].p = p;
}

static int grow(struct ptrtab *t)
{
	size_t cap = t->cap ? t->cap * 2 : PTRTAB_MIN;
	struct ptrtab_slot *s;

	if (cap < t->cap || cap > SIZE_MAX / sizeof(*s))
		return -1;
	s = calloc(cap, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].p)
			place(s, cap - 1, t->slots[i].hash, t->slots[i].p);
	free(t->slots);
	t->slots = s;
	t->cap = cap;
	return 0;
}

int ptrtab_insert(struct ptrtab *t, uint64_t h, void *p)
{
	/* at most half full: probe runs stay short */
	if ((t->n + 1) * 2 > t->cap && grow(t) != 0)
		return -1;
	place(t->slots, t->cap - 1, h, p);
	t->n++;
	return 0;
}

void ptrtab_remove_at(struct ptrtab *t, size_t pos)
{
	size_t mask = t->cap - 1, hole = pos, i = pos;

	/*
	 * Backward shift: a later slot of the same probe run moves into the
	 * hole unless its home lies cyclically in (hole, i], where a lookup
	 * would no longer reach it past the hole.
	 */
	for (;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!t->slots[i].p)
			break;
		home = (size_t)t->slots[i].hash & mask;
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole].p = NULL;
	t->slots[hole].hash = 0;
	t->n--;
}
