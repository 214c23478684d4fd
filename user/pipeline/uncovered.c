/* SPDX-License-Identifier: Apache-2.0 */
#include "uncovered.h"

#include <stdlib.h>
#include <string.h>
#include "fnv.h"
#include "tokentap.h"

#define UNCOV_NAME_(id, name) name,
static const char *const cause_names[UNCOV_CAUSE_COUNT] = { UNCOV_CAUSES(UNCOV_NAME_) };
#undef UNCOV_NAME_

const char *uncov_cause_name(enum uncov_cause c)
{
	if ((unsigned)c >= UNCOV_CAUSE_COUNT)
		return cause_names[UNCOV_UNKNOWN];
	return cause_names[c];
}

int uncov_cause_find(const char *name)
{
	for (int i = 0; name && i < UNCOV_CAUSE_COUNT; i++)
		if (strcmp(name, cause_names[i]) == 0)
			return i;
	return -1;
}

/*
 * The most specific explanation wins: a JVM is a JVM whatever it maps; a
 * probed library that failed to attach is a fault of ours, before any
 * library we do not know; a static or stripped program says least.
 */
enum uncov_cause uncov_cause_choose(const struct uncov_facts *f)
{
	if (f->jvm && !f->java_agent)
		return UNCOV_JVM;
	if (f->probed_lib_unattached)
		return UNCOV_ATTACH_FAILED;
	if (f->unsupported_lib[0])
		return UNCOV_UNSUPPORTED_LIB;
	if (f->rust && !f->has_symtab)
		return UNCOV_RUST_STRIPPED;
	if (f->is_static && !f->known_tls_syms)
		return UNCOV_STATIC_TLS;
	return UNCOV_UNKNOWN;
}

bool tls_record_uncovered(const uint8_t *b, size_t n)
{
	unsigned rlen;

	if (n < 5 || b[0] != 0x17 || b[1] != 0x03 || b[2] != 0x03)
		return false;
	rlen = (unsigned)b[3] << 8 | b[4];
	return rlen >= TT_TLS_REC_MIN && rlen <= TT_TLS_REC_MAX;
}

/* Does basename start with one of prefixes followed by ".so" or "-"? */
static bool lib_in(const char *base, const char *const *prefixes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(prefixes[i]);

		if (strncmp(base, prefixes[i], l) == 0 &&
		    (strncmp(base + l, ".so", 3) == 0 || base[l] == '-'))
			return true;
	}
	return false;
}

bool uncov_is_unsupported_lib(const char *base)
{
	static const char *const libs[] = {
		"libmbedtls", "libwolfssl", "libbotan-2", "libbotan-3", "libs2n",
		"libmatrixssl", "librustls", "libtls", "libaws-lc",
	};

	return lib_in(base, libs, sizeof(libs) / sizeof(libs[0]));
}

bool uncov_is_probed_lib(const char *base)
{
	static const char *const libs[] = { "libssl", "libgnutls", "libnss3", "libssl3" };

	return lib_in(base, libs, sizeof(libs) / sizeof(libs[0]));
}

struct uncov_dedupe {
	uint64_t *keys;   /* 0: free */
	size_t cap;
	size_t used;
	int64_t interval_ns;
	int64_t cur;      /* the interval the table is for */
	uint64_t overflow;
};

struct uncov_dedupe *uncov_dedupe_new(size_t capacity, int64_t interval_ns)
{
	struct uncov_dedupe *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cap = capacity < 16 ? 16 : capacity;
	d->keys = calloc(d->cap, sizeof(*d->keys));
	if (!d->keys) {
		free(d);
		return NULL;
	}
	d->interval_ns = interval_ns > 0 ? interval_ns : 1;
	d->cur = -1;
	return d;
}

void uncov_dedupe_free(struct uncov_dedupe *d)
{
	if (!d)
		return;
	free(d->keys);
	free(d);
}

bool uncov_dedupe_first(struct uncov_dedupe *d, const char *exe, const char *dst, int64_t now_ns)
{
	int64_t iv = now_ns / d->interval_ns;
	uint64_t h = fnv1a_field(fnv1a_field(FNV1A_SEED, exe ? exe : ""), dst ? dst : "");
	size_t i;

	/* a new interval: every pair may be reported again */
	if (iv != d->cur) {
		memset(d->keys, 0, d->cap * sizeof(*d->keys));
		d->used = 0;
		d->cur = iv;
	}
	if (h == 0)
		h = 1;
	/* three quarters full at most, so a probe always ends */
	for (i = h % d->cap;; i = (i + 1) % d->cap) {
		if (d->keys[i] == h)
			return false;
		if (d->keys[i] == 0)
			break;
	}
	if ((d->used + 1) * 4 > d->cap * 3) {
		d->overflow++;
		return false;
	}
	d->keys[i] = h;
	d->used++;
	return true;
}

uint64_t uncov_dedupe_overflow(const struct uncov_dedupe *d)
{
	return d->overflow;
}
