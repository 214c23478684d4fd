/* SPDX-License-Identifier: Apache-2.0 */
/* The console's request checks: pure functions on untrusted strings. */
#ifndef TOKENTAP_CONSOLE_FORM_H
#define TOKENTAP_CONSOLE_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * The value of field name in an application/x-www-form-urlencoded body
 * (len bytes, not NUL-terminated), decoded ('+' and %XX) into out (cap
 * bytes, NUL-terminated). Its length, or -1 when the field is absent,
 * repeated, malformed, holds a NUL byte or does not fit.
 */
long form_field(const char *body, size_t len, const char *name, char *out, size_t cap);

/* Whether sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
bool peer_is_loopback(const struct sockaddr *sa);

/*
 * Whether a Host header names this machine's loopback: localhost,
 * 127.x.y.z or [::1], with an optional port. A page served to loopback
 * only must not answer a name a remote site controls (DNS rebinding).
 */
bool host_is_loopback(const char *host);

/* Whether origin is exactly scheme://host (https when tls), host as sent. */
bool origin_matches(const char *origin, const char *host, bool tls);

#endif
