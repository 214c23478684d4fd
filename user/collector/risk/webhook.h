/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert webhooks: one JSON POST per attempt (libcurl), the backoff between
 * attempts, and the two bodies the collector sends (Slack-compatible and
 * plain JSON). Delivery bookkeeping (log, retry queue) is the caller's.
 */
#ifndef TOKENTAP_WEBHOOK_H
#define TOKENTAP_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Largest bearer token file, and so the largest token. */
#define NOTIFY_TOKEN_MAX 4096
/* Response bytes read (and discarded) before the transfer is cut short. */
#define NOTIFY_REPLY_MAX (64 * 1024)

struct webhook_result {
	long http_status;       /* 0 when no HTTP answer */
	bool ok;                /* 2xx */
	bool retry;             /* worth retrying: no answer, 408, 425, 429, 5xx */
	int64_t retry_after_ms; /* from Retry-After when given, else 0 */
	char error[256];        /* one line when !ok; never the URL's userinfo, never the bearer */
};

/*
 * POSTs body (application/json) to url with libcurl: timeout_ms total,
 * connect timeout min(timeout_ms, 5000), no redirects followed, only http
 * and https allowed, TLS verification on; bearer (may be NULL) sent as
 * Authorization: Bearer and must be visible ASCII. The response body is
 * read and discarded, at most NOTIFY_REPLY_MAX bytes. Returns 0 when a
 * request was attempted (see r->ok, r->retry), -1 on a setup error such
 * as a bad URL or scheme (r->error says; nothing was sent).
 *
 * Thread-safe: libcurl's global state is initialised once, on first use.
 */
int webhook_post(const char *url, const char *bearer, const char *body, size_t len,
		long timeout_ms, struct webhook_result *r);

/*
 * Backoff before attempt n (1-based; 0 for n < 2): 1 s, 2 s, 4 s ...
 * capped at 5 min, or retry_after_ms when larger (itself capped at 1 h).
 * Pure.
 */
int64_t webhook_backoff_ms(unsigned attempt, int64_t retry_after_ms);

/*
 * Slack-compatible body from an alert object: {"text": "..."} holding one
 * line, e.g. "[HIGH] wrong_provider: <reason> (token github_pat 0123abcd…,
 * node n1)". Alert keys used: severity, rule, reason, token_type,
 * fingerprint, node (strings or numbers, any may be absent). Control
 * characters become spaces, Slack's &, <, > are escaped, long fields are
 * cut. Returns a malloc'd NUL-terminated string, or NULL.
 */
char *webhook_slack_body(struct json_object *alert);

/*
 * The plain body: {"alert": <alert>, "sent_at": "<RFC 3339>",
 * "source": "tokentap-collector"}. Invalid UTF-8 in the alert's strings
 * is replaced with '?'. Returns a malloc'd NUL-terminated string, or NULL.
 */
char *webhook_json_body(struct json_object *alert, int64_t now_ms);

/*
 * Reads a bearer token: the first line of path, surrounding whitespace
 * trimmed; it must be non-empty visible ASCII and the file at most
 * NOTIFY_TOKEN_MAX bytes. out (cap bytes) gets it NUL-terminated: wipe it
 * with secure_wipe() after use. 0, or -1 with a reason in err that never
 * holds the file's content.
 */
int webhook_read_token_file(const char *path, char *out, size_t cap, char *err, size_t errlen);

/*
 * A name for a webhook that can be shown and stored: scheme, host and port
 * of url and the first bytes of its SHA-256 ("https://hooks.slack.com/#3fa2b1c0").
 * Paths and query strings often hold the webhook's secret (Slack), user
 * info a password: none of them appear. 0, or -1 ("webhook") for a bad URL.
 */
int webhook_url_label(const char *url, char *out, size_t cap);

#endif
