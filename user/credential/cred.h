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
#include "http1.h"

#define CRED_MAX 8
#define CRED_SCRATCH 8192
#define CRED_NAME_MAX 64

enum cred_source {
	CRED_SRC_HEADER = 0,
	CRED_SRC_QUERY,
};

struct credential {
	enum cred_source source;
	char header[CRED_NAME_MAX]; /* lowercase header name, or query parameter name */
	char scheme[32];            /* "Bearer", "Basic", "token", "AWS4-HMAC-SHA256", ... or "" */
	const char *value;          /* SECRET: the credential (after scheme, trimmed; percent-decoded for query) */
	size_t value_len;
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
};

struct cred_config {
	/* lowercase header names that carry a credential */
	const char *const *headers;
	size_t n_headers;
	/* query parameter names (case-insensitive) that carry a credential */
	const char *const *params;
	size_t n_params;
};

/* Built-in lists: Authorization, Proxy-Authorization, API-key headers of docs/token-formats.md; access_token, api_key, key, sig, ... */
const struct cred_config *cred_config_default(void);

/* Fills out (which need not be initialised); returns out->n. */
size_t cred_extract(const struct http1_request *req, const struct cred_config *cfg,
		    struct cred_list *out);

/* Wipes every secret byte held by the list (scratch and value pointers' targets it owns). */
void cred_list_wipe(struct cred_list *l);

/*
 * Writes target with query values removed and names kept: "/x?a=1&b=2" ->
 * "/x?a=&b=". Fragment dropped. Always NUL-terminates; returns the length
 * written (truncated to outcap-1). Non-printable bytes become '%XX'.
 */
size_t cred_redact_target(const char *target, size_t len, char *out, size_t outcap);

#endif
