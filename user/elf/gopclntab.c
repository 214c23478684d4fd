/* SPDX-License-Identifier: Apache-2.0 */
#include "gopclntab.h"

#include <string.h>

#define PTR 8

/* Reads a little-endian unsigned integer of size bytes at off; -1 when out of bounds. */
static int get_le(const uint8_t *tab, size_t len, uint64_t off, unsigned size, uint64_t *out)
{
	uint64_t v = 0;

	if (off > len || size > len - off)
		return -1;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)tab[off + i] << (8 * i);
	*out = v;
	return 0;
}

enum gopcln_version gopclntab_version(const uint8_t *tab, size_t len)
{
	uint64_t magic;

	if (get_le(tab, len, 0, 4, &magic) != 0 || len < 8)
		return GOPCLN_BAD;
	/* pad bytes zero; instruction quantum 1 (x86), 2 (s390x) or 4 (arm) */
	if (tab[4] != 0 || tab[5] != 0 || (tab[6] != 1 && tab[6] != 2 && tab[6] != 4))
		return GOPCLN_BAD;
	if (tab[7] != PTR)
		return GOPCLN_BAD;
	switch (magic) {
	case 0xfffffffb:
		return GOPCLN_12;
	case 0xfffffffa:
		return GOPCLN_116;
	case 0xfffffff0:
		return GOPCLN_118;
	case 0xfffffff1:
		return GOPCLN_120;
	default:
		return GOPCLN_BAD;
	}
}

/* Compares the NUL-terminated name at tab[off] with want, within bounds. */
static int name_is(const uint8_t *tab, size_t len, uint64_t off, const char *want, size_t wlen)
{
	if (off >= len || wlen >= len - off)
		return 0;
	return memcmp(tab + off, want, wlen) == 0 && tab[off + wlen] == '\0';
}

struct layout {
	uint64_t nfunc;
	uint64_t functab;   /* offset of the function table in tab */
	unsigned field;     /* size of one functab field: 4 (1.18+) or PTR */
	uint64_t funcbase;  /* _func offsets are relative to this */
	uint64_t namebase;  /* name offsets are relative to this */
	uint64_t text;      /* entry offsets are relative to this (1.18+) */
};

static int read_layout(const uint8_t *tab, size_t len, enum gopcln_version v, struct layout *l)
{
	uint64_t pcln = 0;

	memset(l, 0, sizeof(*l));
	if (get_le(tab, len, 8, PTR, &l->nfunc) != 0)
		return -1;
	switch (v) {
	case GOPCLN_12:
		l->functab = 8 + PTR;
		l->field = PTR;
		break;
	case GOPCLN_116:
		if (get_le(tab, len, 8 + 2 * PTR, PTR, &l->namebase) != 0 ||
		    get_le(tab, len, 8 + 6 * PTR, PTR, &pcln) != 0)
			return -1;
		l->functab = l->funcbase = pcln;
		l->field = PTR;
		break;
	case GOPCLN_118:
	case GOPCLN_120:
		if (get_le(tab, len, 8 + 2 * PTR, PTR, &l->text) != 0 ||
		    get_le(tab, len, 8 + 3 * PTR, PTR, &l->namebase) != 0 ||
		    get_le(tab, len, 8 + 7 * PTR, PTR, &pcln) != 0)
			return -1;
		l->functab = l->funcbase = pcln;
		l->field = 4;
		break;
	default:
		return -1;
	}
	if (l->functab > len || l->namebase > len || l->funcbase > len)
		return -1;
	/* nfunc pairs must fit in what follows the table start */
	if (l->nfunc == 0 || l->nfunc > (len - l->functab) / (2 * l->field))
		return -1;
	return 0;
}

int gopclntab_find(const uint8_t *tab, size_t len, const char *const *names, size_t n,
		   uint64_t *entries, int *found)
{
	enum gopcln_version v = gopclntab_version(tab, len);
	struct layout l;
	size_t left = n;
	int nfound = 0;

	memset(found, 0, n * sizeof(*found));
	if (v == GOPCLN_BAD || read_layout(tab, len, v, &l) != 0)
		return -1;
	for (uint64_t i = 0; i < l.nfunc && left; i++) {
		uint64_t pair = l.functab + i * 2 * l.field;
		uint64_t entry, funcoff, fentry, nameoff, name;

		if (get_le(tab, len, pair, l.field, &entry) != 0 ||
		    get_le(tab, len, pair + l.field, l.field, &funcoff) != 0)
			return -1;
		if (funcoff > len - l.funcbase)
			continue;
		/* _func: entry (entryoff u32 from 1.18), then nameoff int32 */
		if (get_le(tab, len, l.funcbase + funcoff, l.field, &fentry) != 0 ||
		    get_le(tab, len, l.funcbase + funcoff + l.field, 4, &nameoff) != 0)
			continue;
		/* the two copies of the entry must agree, or this is not a _func */
		if (fentry != entry || nameoff >= 0x80000000u)
			continue;
		name = l.namebase + nameoff;
		for (size_t k = 0; k < n; k++) {
			if (found[k] || !name_is(tab, len, name, names[k], strlen(names[k])))
				continue;
			entries[k] = l.text + entry;
			found[k] = 1;
			nfound++;
			left--;
		}
	}
	return nfound;
}
