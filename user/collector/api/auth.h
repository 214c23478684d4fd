/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer tokens: the set a server accepts (sensor tokens, read tokens),
 * loaded from a file with one token per line, and the token a client
 * sends. Only SHA-256 digests of accepted tokens are kept in memory;
 * presented tokens are compared in constant time.
 */
#ifndef TOKENTAP_AUTH_H
#define TOKENTAP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOKEN_MAX 4096
#define AUTH_MAX_TOKENS 4096

struct auth {
	size_t n;
	uint8_t (*digest)[32];
};

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,   /* no Authorization, not Bearer, or empty: 401 */
	AUTH_WRONG,     /* a Bearer token that is not accepted: 403 */
};

/*
 * Loads path: one token per line; blank lines and lines starting with '#'
 * are ignored, surrounding whitespace trimmed. a->n may be 0 (the caller
 * decides whether an empty set is allowed). 0 or -1 with err.
 */
int auth_load(struct auth *a, const char *path, char *err, size_t errlen);
void auth_free(struct auth *a);

/* Checks an Authorization header value (NULL when absent). */
enum auth_result auth_check(const struct auth *a, const char *authorization);

/*
 * The first token of a token file, for a client: out holds it
 * NUL-terminated (wipe it with secure_wipe() after use). 0 or -1 with err.
 */
int auth_read_token(const char *path, char *out, size_t cap, char *err, size_t errlen);

#endif
