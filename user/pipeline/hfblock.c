/* SPDX-License-Identifier: Apache-2.0 */
#include "hfblock.h"

#include <string.h>

#include "tokentap.h"
#include "wipe.h"

struct hb_value {
	const char *p;
	size_t len;
	bool set;
};

/* :path as Go's URL.RequestURI gives it: the escaped path, "/" when empty, then "?query". */
static int add_path(struct hf_group *g, const struct hb_value *path, const struct hb_value *raw,
		    const struct hb_value *query)
{
	const struct hb_value *pv = raw->set && raw->len ? raw : path;
	char buf[2 * TT_HB_VALUE_MAX + 2];
	size_t n = 0;
	int rc;

	if (pv->len) {
		memcpy(buf, pv->p, pv->len);
		n = pv->len;
	} else {
		buf[n++] = '/';
	}
	if (query->set) {
		buf[n++] = '?';
		memcpy(buf + n, query->p, query->len);
		n += query->len;
	}
	rc = hf_add(g, ":path", 5, buf, n);
	/* the query may hold a credential (access_token=...) */
	secure_wipe(buf, n);
	return rc;
}

/*
 * Adds the field of the record r at d + off (validated): its name in
 * lowercase, its value; a cut value is left out and marks g lost.
 * keep_pseudo false: a ':' name is skipped. Returns hf_add's answer
 * (nonzero: the group is full).
 */
static int add_record(struct hf_group *g, const uint8_t *d, size_t off, const struct tt_hb_rec *r,
		      bool keep_pseudo)
{
	size_t vl = r->value_len & ~TT_HB_CUT;
	char name[256];

	for (size_t i = 0; i < r->name_len; i++) {
		char c = (char)d[off + sizeof(*r) + i];

		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if (r->value_len & TT_HB_CUT) {
		g->lost = true;
		return 0;
	}
	if (!keep_pseudo && name[0] == ':')
		return 0;
	return hf_add(g, name, r->name_len, (const char *)d + off + sizeof(*r) + r->name_len, vl);
}

/*
 * Reads the record header at d + off into r and its value length into vl.
 * Returns -1 unless the header, its name and its value all fit in the block
 * and the value is within the probe's cap; the kind is the caller's to check.
 */
static int read_record(const uint8_t *d, size_t len, size_t off, struct tt_hb_rec *r, size_t *vl)
{
	if (len - off < sizeof(*r))
		return -1;
	memcpy(r, d + off, sizeof(*r));
	*vl = r->value_len & ~TT_HB_CUT;
	if (*vl > TT_HB_VALUE_MAX || len - off - sizeof(*r) < (size_t)r->name_len + *vl)
		return -1;
	return 0;
}

/*
 * A block of fields as they go on the wire (TT_HB_FIELD only: gRPC-Go),
 * pseudo-headers included, in their order.
 */
static int parse_fields(const uint8_t *d, size_t len, struct hf_group *g)
{
	for (size_t off = 0; off < len;) {
		struct tt_hb_rec r;
		size_t vl;

		if (read_record(d, len, off, &r, &vl) || r.kind != TT_HB_FIELD || r.name_len == 0)
			return -1;
		if (add_record(g, d, off, &r, true))
			return 0;
		off += sizeof(r) + r.name_len + vl;
	}
	return 0;
}

int hb_parse(const uint8_t *d, size_t len, struct hf_group *g)
{
	static const char *const pseudo[TT_HB_KIND_MAX] = {
		[TT_HB_AUTHORITY] = ":authority", [TT_HB_METHOD] = ":method",
		[TT_HB_SCHEME] = ":scheme",
	};
	struct hb_value v[TT_HB_KIND_MAX] = { 0 };
	size_t off = 0, first_header = 0;
	bool cut[TT_HB_KIND_MAX] = { false };

	if (!d && len)
		return -1;
	if (len && d[0] == TT_HB_FIELD)
		return parse_fields(d, len, g);
	/* the pseudo-fields come first, in any order; they are added before the headers */
	while (off < len) {
		struct tt_hb_rec r;
		size_t vl;

		if (read_record(d, len, off, &r, &vl) || r.kind >= TT_HB_KIND_MAX ||
		    r.kind == TT_HB_FIELD || (r.kind != TT_HB_HEADER) != (r.name_len == 0))
			return -1;
		if (r.kind == TT_HB_HEADER) {
			if (!first_header)
				first_header = off + 1;
		} else {
			/* a pseudo-field after a header, or twice: not what the probe writes */
			if (first_header || v[r.kind].set || cut[r.kind])
				return -1;
			if (r.value_len & TT_HB_CUT) {
				cut[r.kind] = true;
				g->lost = true;
			} else {
				v[r.kind] = (struct hb_value){ (const char *)d + off + sizeof(r), vl, true };
			}
		}
		off += sizeof(r) + r.name_len + vl;
	}
	if (v[TT_HB_AUTHORITY].set &&
	    hf_add(g, pseudo[TT_HB_AUTHORITY], 10, v[TT_HB_AUTHORITY].p, v[TT_HB_AUTHORITY].len))
		return 0;
	if (!cut[TT_HB_METHOD] &&
	    hf_add(g, ":method", 7, v[TT_HB_METHOD].len ? v[TT_HB_METHOD].p : "GET",
		   v[TT_HB_METHOD].len ? v[TT_HB_METHOD].len : 3))
		return 0;
	/* a cut part of the URL is no :path at all, rather than a cut query */
	if (!cut[TT_HB_PATH] && !cut[TT_HB_RAWPATH] && !cut[TT_HB_QUERY] &&
	    add_path(g, &v[TT_HB_PATH], &v[TT_HB_RAWPATH], &v[TT_HB_QUERY]))
		return 0;
	if (v[TT_HB_SCHEME].set &&
	    hf_add(g, pseudo[TT_HB_SCHEME], 7, v[TT_HB_SCHEME].p, v[TT_HB_SCHEME].len))
		return 0;
	for (off = first_header ? first_header - 1 : len; off < len;) {
		struct tt_hb_rec r;
		size_t vl;

		if (read_record(d, len, off, &r, &vl) || r.kind != TT_HB_HEADER || r.name_len == 0)
			return -1;
		/* a name Go's client refuses (':' is never valid): not sent, not counted */
		if (add_record(g, d, off, &r, false))
			return 0;
		off += sizeof(r) + r.name_len + vl;
	}
	return 0;
}
