/* SPDX-License-Identifier: Apache-2.0 */
#include "strpool.h"
#include "fnv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pstr {
	uint64_t hash;
	uint32_t refs;
	char s[];
};

static struct pstr *of(const char *s)
{
	return (struct pstr *)(void *)(s - offsetof(struct pstr, s));
}

void strpool_free(struct strpool *sp)
{
	for (size_t i = 0; i < sp->tab.cap; i++)
		free(sp->tab.slots[i].p);
	ptrtab_free(&sp->tab);
}

const char *strpool_get(struct strpool *sp, const char *s)
{
	size_t len = strlen(s), pos = (size_t)-1;
	uint64_t h = fnv1a(FNV1A_SEED, s, len);
	struct pstr *p;

	while ((p = ptrtab_next(&sp->tab, h, &pos))) {
		if (strcmp(p->s, s) == 0 && p->refs < UINT32_MAX) {
			p->refs++;
			return p->s;
		}
	}
	p = malloc(sizeof(*p) + len + 1);
	if (!p)
		return NULL;
	p->hash = h;
	p->refs = 1;
	memcpy(p->s, s, len + 1);
	if (ptrtab_insert(&sp->tab, h, p) != 0) {
		free(p);
		return NULL;
	}
	return p->s;
}

void strpool_put(struct strpool *sp, const char *s)
{
	struct pstr *p;
	size_t pos = (size_t)-1;
	void *q;

	if (!s)
		return;
	p = of(s);
	if (--p->refs)
		return;
	while ((q = ptrtab_next(&sp->tab, p->hash, &pos))) {
		if (q == p) {
			ptrtab_remove_at(&sp->tab, pos);
			break;
		}
	}
	free(p);
}
