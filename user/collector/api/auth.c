/* SPDX-License-Identifier: Apache-2.0 */
#include "auth.h"
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_FILE_MAX (1u << 20)

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -1;
}

/* Reads a whole small file into a NUL-terminated malloc'd buffer. */
static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)AUTH_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path,
			 AUTH_FILE_MAX);
		goto fail;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Calls fn for each token line; stops when fn returns non-zero. */
static int each_token(char *buf, size_t len, int (*fn)(void *, const char *, size_t, size_t),
		      void *arg)
{
	size_t line = 0;

	for (size_t i = 0; i < len;) {
		size_t end = i, s, e;
		int rc;

		while (end < len && buf[end] != '\n')
			end++;
		line++;
		s = i;
		e = end;
		while (s < e && is_space(buf[s]))
			s++;
		while (e > s && is_space(buf[e - 1]))
			e--;
		i = end + 1;
		if (s == e || buf[s] == '#')
			continue;
		rc = fn(arg, buf + s, e - s, line);
		if (rc)
			return rc;
	}
	return 0;
}

struct load_ctx {
	struct auth *a;
	char *err;
	size_t errlen;
};

static int add_token(void *arg, const char *tok, size_t n, size_t line)
{
	struct load_ctx *c = arg;

	if (n > AUTH_TOKEN_MAX) {
		snprintf(c->err, c->errlen, "line %zu: token longer than %d bytes", line,
			 AUTH_TOKEN_MAX);
		return -1;
	}
	if (c->a->n >= AUTH_MAX_TOKENS) {
		snprintf(c->err, c->errlen, "more than %d tokens", AUTH_MAX_TOKENS);
		return -1;
	}
	if (sha256(tok, n, c->a->digest[c->a->n]) < 0) {
		snprintf(c->err, c->errlen, "SHA-256 failed");
		return -1;
	}
	c->a->n++;
	return 0;
}

int auth_load(struct auth *a, const char *path, char *err, size_t errlen)
{
	char msg[128] = "";
	struct load_ctx c = { a, msg, sizeof(msg) };
	size_t len = 0;
	char *buf;
	int rc;

	memset(a, 0, sizeof(*a));
	buf = read_small_file(path, &len, err, errlen);
	if (!buf)
		return -1;
	a->digest = calloc(AUTH_MAX_TOKENS, sizeof(*a->digest));
	if (!a->digest) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	} else {
		rc = each_token(buf, len, add_token, &c);
		if (rc)
			snprintf(err, errlen, "%s: %s", path, msg);
	}
	/* the file held secrets */
	secure_wipe(buf, len);
	free(buf);
	if (rc) {
		auth_free(a);
		return -1;
	}
	return 0;
}

void auth_free(struct auth *a)
{
	if (a->digest)
		secure_wipe(a->digest, AUTH_MAX_TOKENS * sizeof(*a->digest));
	free(a->digest);
	memset(a, 0, sizeof(*a));
}

enum auth_result auth_check(const struct auth *a, const char *authorization)
{
	const char *p = authorization;
	uint8_t d[32];
	size_t n;
	int match = 0;

	if (!p)
		return AUTH_MISSING;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return AUTH_MISSING;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && is_space(p[n - 1]))
		n--;
	if (n == 0)
		return AUTH_MISSING;
	if (n > AUTH_TOKEN_MAX || sha256(p, n, d) < 0)
		return AUTH_WRONG;
	/* compare digests: fixed length, and every entry is looked at */
	for (size_t i = 0; i < a->n; i++)
		match |= CRYPTO_memcmp(d, a->digest[i], sizeof(d)) == 0;
	secure_wipe(d, sizeof(d));
	return match ? AUTH_OK : AUTH_WRONG;
}

struct first_ctx {
	char *out;
	size_t cap;
	int found;
};

static int take_first(void *arg, const char *tok, size_t n, size_t line)
{
	struct first_ctx *c = arg;

	(void)line;
	if (n >= c->cap)
		return -1;
	memcpy(c->out, tok, n);
	c->out[n] = '\0';
	c->found = 1;
	return 1;
}

int auth_read_token(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	struct first_ctx c = { out, cap, 0 };
	size_t len = 0;
	char *buf = read_small_file(path, &len, err, errlen);
	int rc;

	if (!buf)
		return -1;
	rc = each_token(buf, len, take_first, &c);
	secure_wipe(buf, len);
	free(buf);
	if (rc < 0 || !c.found) {
		snprintf(err, errlen, "%s: %s", path, rc < 0 ? "token too long" : "no token in file");
		return -1;
	}
	return 0;
}
