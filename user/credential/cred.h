/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential extraction from a parsed HTTP request: which header or query
 * parameter carries a credential, its scheme, and the credential itself
 * (docs/ARCHITECTURE.md "Credentials"). Pure logic.
 *
 * The credential bytes are secret. They live in the request buffer or in
 * the list's scratch area; cred_list_wipe() must be called when done.
 */
#ifndef TOKENTAP_CRED_H
#define TOKENTAP_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http1.h"

#define CRED_MAX 8
#define CRED_SCRATCH 8192
#define CRED_NAME_MAX 64

enum cred_source {
	CRED_SRC_HEADER = 0,
	CRED_SRC_QUERY,
	CRED_SRC_PATH,              /* a URL path segment (path_token.h) */
};

/* Base64 bytes of a Basic value decoded at most, and the room its decoding needs. */
#define CRED_BASIC_TEXT_MAX 4096
#define CRED_BASIC_PLAIN_MAX (CRED_BASIC_TEXT_MAX / 4 * 3)

struct credential {
	enum cred_source source;
	char header[CRED_NAME_MAX]; /* lowercase header name, query parameter name, or the
				     * path credential's name (path_token_name) */
	char scheme[32];            /* "Bearer", "Basic", "token", "AWS4-HMAC-SHA256", ... or "" */
	const char *value;          /* SECRET: the credential (after scheme, trimmed; percent-decoded for query) */
	size_t value_len;
	/*
	 * SECRET: what identifies the credential however it is presented: the
	 * bytes fingerprinted and handed to revocation. The value itself, but
	 * for Basic "user:password" the password alone, so a token sent as a
	 * Basic password, as a Bearer token or held in an environment variable
	 * is one fingerprint; the user stays metadata.
	 */
	const char *secret;
	size_t secret_len;
	/* AWS SigV4 only (value is then the access key id, not secret) */
	char aws_region[32];
	char aws_service[32];
};

struct cred_list {
	struct credential items[CRED_MAX];
	size_t n;
	size_t dropped;             /* credentials beyond CRED_MAX or scratch space */
	char scratch[CRED_SCRATCH]; /* decoded values (query parameters) */
	size_t scratch_used;
	size_t scratch_hwm;         /* scratch bytes written since cred_extract: what a wipe clears */
};

struct cred_config {
	/* lowercase header names that carry a credential */
	const char *const *headers;
	size_t n_headers;
	/* query parameter names (case-insensitive) that carry a credential */
	const char *const *params;
	size_t n_params;
	/*
	 * Filled by cred_config_index(): bit L of header_lens[c] is set when a
	 * header name starts with letter c (slot 26: any other byte) and is L
	 * bytes long (bit 63: 63 or more). Every request header meets every
	 * name, and most match none: this passes them over with one test. A
	 * config not indexed compares every name.
	 */
	bool indexed;
	uint64_t header_lens[27];
};

/* Fills cfg's header index from its header names; call again after changing them. */
void cred_config_index(struct cred_config *cfg);

/* Built-in lists: Authorization, Proxy-Authorization, API-key headers of docs/token-formats.md; access_token, api_key, key, sig, ... */
const struct cred_config *cred_config_default(void);

/* Fills out (which need not be initialised); returns out->n. */
size_t cred_extract(const struct http1_request *req, const struct cred_config *cfg,
		    struct cred_list *out);

/*
 * Strict base64 (standard alphabet, padding only at the end, missing
 * padding tolerated) of a Basic value into out (CRED_BASIC_PLAIN_MAX + 3
 * bytes; the caller wipes it). Returns the decoded length or -1.
 */
int cred_basic_decode(const char *v, size_t len, unsigned char *out);

/* Wipes every secret byte held by the list (scratch and value pointers' targets it owns). */
void cred_list_wipe(struct cred_list *l);

/*
 * Writes target with query values removed and names kept: "/x?a=1&b=2" ->
 * "/x?a=&b=", and a path credential replaced by "{redacted}":
 * "/bot123:AA.../getMe" -> "/bot{redacted}/getMe". Fragment dropped. Always NUL-terminates; returns the length
 * written (truncated to outcap-1). Non-printable bytes become '%XX'.
 */
size_t cred_redact_target(const char *target, size_t len, char *out, size_t outcap);

#endif
