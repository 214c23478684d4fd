/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request parser of the sensor's metrics and health endpoint: pure, so
 * it is unit tested and fuzzed. It accepts exactly what a Prometheus scraper
 * or a kubelet probe sends: one HTTP/1.0 or 1.1 GET of a fixed path, header
 * block at most HTTP_REQ_MAX bytes, printable ASCII only.
 */
#ifndef TOKENTAP_HTTP_REQ_H
#define TOKENTAP_HTTP_REQ_H

#include <stddef.h>

#define HTTP_REQ_MAX 4096

enum http_req_result {
	HTTP_REQ_INCOMPLETE,  /* no end of the header block yet: read more */
	HTTP_REQ_OK,          /* a GET of a known path: *route is set */
	HTTP_REQ_NOT_FOUND,   /* a well-formed GET of another path: 404 */
	HTTP_REQ_BAD_METHOD,  /* a well-formed request, not GET: 405 */
	HTTP_REQ_BAD,         /* malformed, or HTTP_REQ_MAX bytes without an end: 400 */
};

enum http_route {
	HTTP_ROUTE_METRICS,   /* /metrics */
	HTTP_ROUTE_HEALTHZ,   /* /healthz */
	HTTP_ROUTE_READYZ,    /* /readyz */
};

/* Parses the len bytes read so far (any bytes, no terminator needed). */
enum http_req_result http_req_parse(const char *buf, size_t len, enum http_route *route);

#endif
