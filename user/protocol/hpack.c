/* SPDX-License-Identifier: Apache-2.0 */
#include "hpack.h"

#include <stdlib.h>
#include <string.h>

#include "wipe.h"
#include "hpack_tables.h"

/* Largest string length or table size an integer may announce. */
#define HPACK_INT_MAX (1ULL << 32)

const char *hpack_strerror(int err)
{
	switch (err) {
	case HPACK_OK: return "ok";
	case HPACK_E_TRUNCATED: return "truncated";
	case HPACK_E_INT_OVERFLOW: return "integer overflow";
	case HPACK_E_INDEX_ZERO: return "index 0";
	case HPACK_E_INDEX_RANGE: return "index out of range";
	case HPACK_E_HUFFMAN: return "bad huffman string";
	case HPACK_E_TABLE_SIZE: return "table size above limit";
	case HPACK_E_UPDATE_POS: return "size update after a field";
	case HPACK_E_SPACE: return "output space exhausted";
	case HPACK_E_NOMEM: return "out of memory";
	case HPACK_E_UNKNOWN_INDEX: return "unknown dynamic index";
	default: return "unknown error";
	}
}

int hpack_decoder_init(struct hpack_decoder *d, size_t limit, bool synced)
{
	memset(d, 0, sizeof(*d));
	d->limit = limit;
	d->max_size = HPACK_DEFAULT_TABLE_SIZE < limit ? HPACK_DEFAULT_TABLE_SIZE : limit;
	d->synced = synced;
	return 0;
}

static void entry_free(struct hpack_entry *e)
{
	if (e->buf) {
		secure_wipe(e->buf, e->name_len + e->value_len + 2);
		free(e->buf);
	}
	memset(e, 0, sizeof(*e));
}

static void evict_oldest(struct hpack_decoder *d)
{
	struct hpack_entry *e = &d->entries[0];

	d->size -= e->name_len + e->value_len + HPACK_ENTRY_OVERHEAD;
	entry_free(e);
	memmove(&d->entries[0], &d->entries[1], (d->count - 1) * sizeof(*e));
	d->count--;
	memset(&d->entries[d->count], 0, sizeof(*e));
}

static void evict_to(struct hpack_decoder *d, size_t target)
{
	while (d->count && d->size > target)
		evict_oldest(d);
}

void hpack_decoder_free(struct hpack_decoder *d)
{
	while (d->count)
		evict_oldest(d);
	free(d->entries);
	memset(d, 0, sizeof(*d));
}

/* RFC 7541 4.4: make room, then add; an entry larger than the table empties it. */
static int table_insert(struct hpack_decoder *d, const char *name, size_t nlen, const char *value,
			size_t vlen)
{
	size_t need = nlen + vlen + HPACK_ENTRY_OVERHEAD;
	struct hpack_entry *e;

	if (need > d->max_size) {
		evict_to(d, 0);
		return HPACK_OK;
	}
	evict_to(d, d->max_size - need);
	if (d->count == d->alloc) {
		/* at most max_size / 32 entries fit: the array stays bounded */
		size_t n = d->alloc ? d->alloc * 2 : 16;
		struct hpack_entry *ne = realloc(d->entries, n * sizeof(*ne));

		if (!ne)
			return HPACK_E_NOMEM;
		memset(ne + d->alloc, 0, (n - d->alloc) * sizeof(*ne));
		d->entries = ne;
		d->alloc = n;
	}
	e = &d->entries[d->count];
	e->buf = malloc(nlen + vlen + 2);
	if (!e->buf)
		return HPACK_E_NOMEM;
	memcpy(e->buf, name, nlen);
	e->buf[nlen] = '\0';
	memcpy(e->buf + nlen + 1, value, vlen);
	e->buf[nlen + 1 + vlen] = '\0';
	e->name_len = nlen;
	e->value_len = vlen;
	d->count++;
	d->size += need;
	return HPACK_OK;
}

bool hpack_dyn_entry(const struct hpack_decoder *d, size_t i, const char **name, size_t *name_len,
		     const char **value, size_t *value_len)
{
	const struct hpack_entry *e;

	if (i == 0 || i > d->count)
		return false;
	e = &d->entries[d->count - i];
	*name = e->buf;
	*name_len = e->name_len;
	*value = e->buf + e->name_len + 1;
	*value_len = e->value_len;
	return true;
}

int hpack_decode_int(const uint8_t *in, size_t len, size_t *pos, int prefix_bits, uint64_t max,
		     uint64_t *out)
{
	uint64_t mask = (1u << prefix_bits) - 1;
	uint64_t v;
	unsigned shift = 0;

	if (*pos >= len)
		return HPACK_E_TRUNCATED;
	v = in[(*pos)++] & mask;
	if (v < mask) {
		*out = v;
		return v > max ? HPACK_E_INT_OVERFLOW : HPACK_OK;
	}
	for (;;) {
		uint8_t b;

		if (*pos >= len)
			return HPACK_E_TRUNCATED;
		b = in[(*pos)++];
		/* past 8 continuation bytes any value exceeds every max used here */
		if (shift > 56)
			return HPACK_E_INT_OVERFLOW;
		v += (uint64_t)(b & 0x7f) << shift;
		if (v > max)
			return HPACK_E_INT_OVERFLOW;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	*out = v;
	return HPACK_OK;
}

long hpack_huffman_decode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	uint32_t code = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		for (int k = 7; k >= 0; k--) {
			uint32_t off;

			code = (code << 1) | ((in[i] >> k) & 1);
			bits++;
			if (bits > HPACK_HUFF_MAXLEN)
				return HPACK_E_HUFFMAN;
			/* canonical code: codes of one length are consecutive */
			off = code - hpack_huff_first[bits];
			if (code < hpack_huff_first[bits] || off >= hpack_huff_count[bits])
				continue;
			uint16_t sym = hpack_huff_sorted[hpack_huff_offset[bits] + off];

			if (sym == HPACK_HUFF_EOS)
				return HPACK_E_HUFFMAN;
			if (n >= cap)
				return HPACK_E_SPACE;
			out[n++] = (char)sym;
			code = 0;
			bits = 0;
		}
	}
	/* RFC 7541 5.2: padding is under 8 bits, all ones (an EOS prefix) */
	if (bits > 7 || code != (1u << bits) - 1)
		return HPACK_E_HUFFMAN;
	return (long)n;
}

/* Copies or Huffman-decodes a string literal into the arena, NUL-terminated. */
static int read_string(const uint8_t *in, size_t len, size_t *pos, struct hpack_block *out,
		       const char **s, size_t *slen)
{
	char *dst = out->arena + out->arena_used;
	size_t room = out->arena_cap - out->arena_used;
	bool huff;
	uint64_t n;
	int rc;

	if (*pos >= len)
		return HPACK_E_TRUNCATED;
	huff = in[*pos] & 0x80;
	rc = hpack_decode_int(in, len, pos, 7, HPACK_INT_MAX, &n);
	if (rc)
		return rc;
	if (n > len - *pos)
		return HPACK_E_TRUNCATED;
	if (room == 0)
		return HPACK_E_SPACE;
	if (huff) {
		long r = hpack_huffman_decode(in + *pos, (size_t)n, dst, room - 1);

		if (r < 0)
			return (int)r;
		*slen = (size_t)r;
	} else {
		if (n > room - 1)
			return HPACK_E_SPACE;
		memcpy(dst, in + *pos, (size_t)n);
		*slen = (size_t)n;
	}
	dst[*slen] = '\0';
	*s = dst;
	out->arena_used += *slen + 1;
	*pos += (size_t)n;
	return HPACK_OK;
}

static int arena_copy(struct hpack_block *out, const char *src, size_t n, const char **s)
{
	char *dst = out->arena + out->arena_used;

	if (out->arena_cap - out->arena_used < n + 1)
		return HPACK_E_SPACE;
	memcpy(dst, src, n);
	dst[n] = '\0';
	out->arena_used += n + 1;
	*s = dst;
	return HPACK_OK;
}

/* Name and value of table index idx (static, then dynamic), copied to the arena. */
static int lookup(const struct hpack_decoder *d, uint64_t idx, bool want_value, struct hpack_block *out,
		  struct hpack_field *f)
{
	const char *name, *value;
	size_t nlen, vlen;
	int rc;

	if (idx == 0)
		return HPACK_E_INDEX_ZERO;
	if (idx <= HPACK_STATIC_COUNT) {
		name = hpack_static_table[idx - 1].name;
		value = hpack_static_table[idx - 1].value;
		nlen = strlen(name);
		vlen = strlen(value);
	} else if (!d->synced) {
		return HPACK_E_UNKNOWN_INDEX;
	} else if (!hpack_dyn_entry(d, (size_t)(idx - HPACK_STATIC_COUNT), &name, &nlen, &value, &vlen)) {
		return HPACK_E_INDEX_RANGE;
	}
	rc = arena_copy(out, name, nlen, &f->name);
	f->name_len = nlen;
	if (!rc && want_value) {
		rc = arena_copy(out, value, vlen, &f->value);
		f->value_len = vlen;
	}
	return rc;
}

static int add_field(struct hpack_block *out, const struct hpack_field *f)
{
	if (out->n >= out->max_fields)
		return HPACK_E_SPACE;
	out->fields[out->n++] = *f;
	return HPACK_OK;
}

/* A literal field (RFC 7541 6.2): indexed or literal name, literal value. */
static int decode_literal(struct hpack_decoder *d, const uint8_t *in, size_t len, size_t *pos,
			  int prefix, bool index, bool never, struct hpack_block *out)
{
	struct hpack_field f = { .never_indexed = never };
	uint64_t idx;
	int rc = hpack_decode_int(in, len, pos, prefix, HPACK_INT_MAX, &idx);
	bool unknown = false;

	if (rc)
		return rc;
	if (idx) {
		rc = lookup(d, idx, false, out, &f);
		if (rc == HPACK_E_UNKNOWN_INDEX)
			unknown = true;
		else if (rc)
			return rc;
	} else {
		rc = read_string(in, len, pos, out, &f.name, &f.name_len);
		if (rc)
			return rc;
	}
	rc = read_string(in, len, pos, out, &f.value, &f.value_len);
	if (rc)
		return rc;
	if (unknown) {
		out->unknown++;
		return HPACK_OK;
	}
	if (index) {
		rc = table_insert(d, f.name, f.name_len, f.value, f.value_len);
		if (rc)
			return rc;
	}
	return add_field(out, &f);
}

static int decode_one(struct hpack_decoder *d, const uint8_t *in, size_t len, size_t *pos,
		      bool *fields_seen, struct hpack_block *out)
{
	uint8_t b = in[*pos];
	uint64_t v;
	int rc;

	if (b & 0x80) {
		struct hpack_field f = { 0 };

		rc = hpack_decode_int(in, len, pos, 7, HPACK_INT_MAX, &v);
		if (!rc)
			rc = lookup(d, v, true, out, &f);
		*fields_seen = true;
		if (rc == HPACK_E_UNKNOWN_INDEX) {
			out->unknown++;
			return HPACK_OK;
		}
		return rc ? rc : add_field(out, &f);
	}
	if ((b & 0xc0) == 0x40) {
		*fields_seen = true;
		return decode_literal(d, in, len, pos, 6, true, false, out);
	}
	if ((b & 0xe0) == 0x20) {
		if (*fields_seen)
			return HPACK_E_UPDATE_POS;
		rc = hpack_decode_int(in, len, pos, 5, HPACK_INT_MAX, &v);
		if (rc)
			return rc;
		if (v > d->limit)
			return HPACK_E_TABLE_SIZE;
		d->max_size = (size_t)v;
		evict_to(d, d->max_size);
		/* an emptied table is known again: what follows is tracked from here */
		if (v == 0 && !d->synced)
			d->synced = true;
		return HPACK_OK;
	}
	*fields_seen = true;
	return decode_literal(d, in, len, pos, 4, false, (b & 0xf0) == 0x10, out);
}

int hpack_decode_block(struct hpack_decoder *d, const uint8_t *in, size_t len,
		       struct hpack_block *out)
{
	size_t pos = 0;
	bool fields_seen = false;

	out->n = 0;
	out->arena_used = 0;
	out->unknown = 0;
	while (pos < len) {
		int rc = decode_one(d, in, len, &pos, &fields_seen, out);

		if (rc) {
			/* the table may now differ from the peer's */
			d->synced = false;
			return rc;
		}
	}
	return HPACK_OK;
}
