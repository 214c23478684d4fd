/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The headers every answer of the collector carries, console pages and
 * JSON alike: a strict Content-Security-Policy (no inline script or style,
 * nothing from elsewhere, no framing), no MIME sniffing, no Referer.
 */
#ifndef TOKENTAP_CONSOLE_SECURITY_HEADERS_H
#define TOKENTAP_CONSOLE_SECURITY_HEADERS_H

#include <microhttpd.h>

#define CONSOLE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " \
	"base-uri 'none'; form-action 'self'"

void security_headers_add(struct MHD_Response *resp);

#endif
