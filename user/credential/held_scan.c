/* SPDX-License-Identifier: Apache-2.0 */
#include "held_scan.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cred.h"
#include "fnv.h"
#include "text.h"

/* ---- what one image already reported ------------------------------------ */

struct seen_entry {
	uint64_t hash;          /* 0: empty slot */
	char name[HELDSCAN_NAME_MAX];
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
};

/* Open addressing, grown at half load; an allocation failure only allows a repeat. */
struct seen_set {
	struct seen_entry *slots;
	size_t cap, n;
};

static uint64_t seen_hash(const char *name, const char *fp)
{
	return fnv1a_field(fnv1a_field(FNV1A_SEED, name), fp) | 1;
}

static struct seen_entry *seen_slot(struct seen_entry *slots, size_t cap, uint64_t h,
				    const char *name, const char *fp)
{
	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct seen_entry *e = &slots[i];

		if (e->hash == 0 || (e->hash == h && strcmp(e->name, name) == 0 &&
				     strcmp(e->fingerprint, fp) == 0))
			return e;
	}
}

static bool seen_grow(struct seen_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct seen_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->slots[i];

		if (e->hash)
			*seen_slot(slots, cap, e->hash, e->name, e->fingerprint) = *e;
	}
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return true;
}

/* True the first time (name, fp) is added. */
static bool seen_add(struct seen_set *s, const char *name, const char *fp)
{
	uint64_t h = seen_hash(name, fp);
	struct seen_entry *e;

	if ((s->n + 1) * 2 > s->cap && !seen_grow(s))
		return true;
	e = seen_slot(s->slots, s->cap, h, name, fp);
	if (e->hash)
		return false;
	e->hash = h;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", fp);
	s->n++;
	return true;
}

/* ---- scanning -------------------------------------------------------------- */

struct scan {
	enum held_source src;
	const struct fp_key *key;
	held_cb cb;
	void *ctx;
	struct seen_set seen;
	size_t reported;
};

/* tok points into the caller's image: nothing here copies it. */
static void report(struct scan *sc, const char *name, const char *tok, size_t n)
{
	struct held_token t;
	struct credential c;

	memset(&t, 0, sizeof(t));
	if (fingerprint_hex(sc->key, tok, n, t.fingerprint) != 0)
		return;
	if (!seen_add(&sc->seen, name, t.fingerprint))
		return;
	t.source = sc->src;
	snprintf(t.name, sizeof(t.name), "%s", name);
	/* as a header value without a scheme: only value rules apply */
	memset(&c, 0, sizeof(c));
	c.source = CRED_SRC_HEADER;
	c.value = tok;
	c.value_len = n;
	classify_credential(&c, sc->key, &t.info);
	sc->cb(sc->ctx, &t);
	token_info_release(&t.info);
	sc->reported++;
}

static void scan_value(struct scan *sc, const char *name, const char *v, size_t len)
{
	size_t at = 0, off, n;

	while (at < len && classify_find_prefixed(v + at, len - at, &off, &n)) {
		report(sc, name, v + at + off, n);
		at += off + n;
	}
}

static void scan_entry(struct scan *sc, size_t index, const char *s, size_t len)
{
	char name[HELDSCAN_NAME_MAX];
	const char *eq;

	if (sc->src == HELD_ARGV) {
		snprintf(name, sizeof(name), "argv[%zu]", index);
		scan_value(sc, name, s, len);
		return;
	}
	eq = memchr(s, '=', len);
	if (!eq) {
		/* not NAME=VALUE: whatever it is may still hold a credential */
		scan_value(sc, "", s, len);
		return;
	}
	text_printable(name, sizeof(name), s, (size_t)(eq - s));
	scan_value(sc, name, eq + 1, len - (size_t)(eq + 1 - s));
}

size_t held_scan_buffer(const char *buf, size_t len, enum held_source src,
		       const struct fp_key *key, held_cb cb, void *ctx)
{
	struct scan sc = { .src = src, .key = key, .cb = cb, .ctx = ctx };
	size_t pos = 0, index = 0;

	if (!buf || !key || !cb)
		return 0;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nul = memchr(s, '\0', len - pos);
		size_t slen = nul ? (size_t)(nul - s) : len - pos;

		scan_entry(&sc, index++, s, slen);
		pos += slen + 1;
	}
	free(sc.seen.slots);
	return sc.reported;
}

/* ---- reading /proc ---------------------------------------------------------- */

/*
 * Reads at most HELDSCAN_MAX_BYTES of path into buf. *used is what may be
 * scanned: when the file is longer, the entry cut by the bound is left
 * out (a cut token would get a wrong fingerprint). *got is what was read
 * (to wipe). Returns 0, or -1 with errno.
 */
static int read_image(const char *path, char *buf, size_t *used, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool more = false;
	int err = 0;

	*used = *got = 0;
	if (fd < 0)
		return -1;
	while (*got < HELDSCAN_MAX_BYTES) {
		ssize_t r = read(fd, buf + *got, HELDSCAN_MAX_BYTES - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	if (!err && *got == HELDSCAN_MAX_BYTES) {
		char extra;
		ssize_t r;

		do
			r = read(fd, &extra, 1);
		while (r < 0 && errno == EINTR);
		more = r > 0;
		secure_wipe(&extra, sizeof(extra));
	}
	close(fd);
	if (err) {
		errno = err;
		return -1;
	}
	*used = *got;
	if (more) {
		const char *last = memrchr(buf, '\0', *got);

		*used = last ? (size_t)(last - buf) + 1 : 0;
	}
	return 0;
}

int held_scan_pid(const char *proc_root, uint32_t pid, const struct fp_key *key,
		 held_cb cb, void *ctx)
{
	char path[PATH_MAX];
	char *env = NULL, *cmd = NULL;
	size_t env_used = 0, env_got = 0, cmd_used = 0, cmd_got = 0, n = 0;
	int rc = -1, err = 0;

	if (!proc_root || !key || !cb) {
		errno = EINVAL;
		return -1;
	}
	env = malloc(HELDSCAN_MAX_BYTES);
	cmd = malloc(HELDSCAN_MAX_BYTES);
	if (!env || !cmd) {
		err = ENOMEM;
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/%u/environ", proc_root, pid) >= (int)sizeof(path)) {
		err = ENAMETOOLONG;
		goto out;
	}
	if (read_image(path, env, &env_used, &env_got) != 0) {
		err = errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	if (read_image(path, cmd, &cmd_used, &cmd_got) != 0) {
		err = errno;
		goto out;
	}
	n = held_scan_buffer(env, env_used, HELD_ENVIRON, key, cb, ctx);
	n += held_scan_buffer(cmd, cmd_used, HELD_ARGV, key, cb, ctx);
	rc = n > INT_MAX ? INT_MAX : (int)n;
out:
	/* the images hold every secret of the process's environment and arguments */
	secure_wipe(env, env_got);
	secure_wipe(cmd, cmd_got);
	free(env);
	free(cmd);
	if (rc < 0)
		errno = err;
	return rc;
}
