/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console login sessions. The cookie holds an opaque random value, never
 * the read token; the server keeps only SHA-256 digests of the values it
 * issued, with their expiry, so a logout ends a session for good and a
 * copy of the process memory yields no usable cookie.
 */
#ifndef TOKENTAP_CONSOLE_SESSION_H
#define TOKENTAP_CONSOLE_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_MAX 256                   /* live sessions; the oldest is evicted */
#define SESSION_TTL_MS (12LL * 3600 * 1000)
#define SESSION_VALUE_LEN 64              /* lowercase hex of 32 random bytes */

struct session_table {
	pthread_mutex_t lock;
	struct {
		uint8_t digest[32];
		int64_t expires_ms;       /* 0: free slot */
	} s[SESSION_MAX];
};

void session_table_init(struct session_table *t);
void session_table_free(struct session_table *t);

/* A new session valid until now_ms + SESSION_TTL_MS: its cookie value in out. 0 or -1. */
int session_create(struct session_table *t, int64_t now_ms, char out[SESSION_VALUE_LEN + 1]);
/* Whether value (NULL allowed) names a live session. Constant time per entry. */
bool session_valid(struct session_table *t, const char *value, int64_t now_ms);
/* Ends the session value names, if any. */
void session_end(struct session_table *t, const char *value);

#endif
