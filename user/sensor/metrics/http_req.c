/* SPDX-License-Identifier: Apache-2.0 */
#include "http_req.h"

#include <stdbool.h>
#include <string.h>

static const struct {
	const char *path;
	enum http_route route;
} routes[] = {
	{ "/metrics", HTTP_ROUTE_METRICS },
	{ "/healthz", HTTP_ROUTE_HEALTHZ },
	{ "/readyz", HTTP_ROUTE_READYZ },
};

/* Offset just past the blank line ending the header block, 0 if none yet. */
static size_t header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool is_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Length of the line at p (up to '\n', without a trailing '\r'). */
static size_t line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (!nl)
		nl = end;
	*next = nl < end ? nl + 1 : end;
	n = (size_t)(nl - p);
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/* "Name: value": a token, a colon, then visible characters, spaces and tabs. */
static bool header_ok(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	for (i++; i < n; i++)
		if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t'))
			return false;
	return true;
}

enum http_req_result http_req_parse(const char *buf, size_t len, enum http_route *route)
{
	size_t end = header_end(buf, len < HTTP_REQ_MAX ? len : HTTP_REQ_MAX);
	const char *p = buf, *stop, *next, *sp1, *sp2;
	size_t n, mlen, tlen, plen;
	bool get;

	if (!end)
		return len >= HTTP_REQ_MAX ? HTTP_REQ_BAD : HTTP_REQ_INCOMPLETE;
	stop = buf + end;
	/* request line: METHOD SP TARGET SP HTTP/1.x */
	n = line_len(p, stop, &next);
	sp1 = memchr(p, ' ', n);
	if (!sp1)
		return HTTP_REQ_BAD;
	mlen = (size_t)(sp1 - p);
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2)
		return HTTP_REQ_BAD;
	tlen = (size_t)(sp2 - sp1 - 1);
	if (n - mlen - tlen - 2 != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)))
		return HTTP_REQ_BAD;
	if (mlen == 0)
		return HTTP_REQ_BAD;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(p[i]))
			return HTTP_REQ_BAD;
	if (tlen == 0 || sp1[1] != '/')
		return HTTP_REQ_BAD;
	for (size_t i = 0; i < tlen; i++)
		if (sp1[1 + i] <= 0x20 || sp1[1 + i] >= 0x7f)
			return HTTP_REQ_BAD;
	/* every header line well formed, up to the blank line */
	for (p = next; p < stop; p = next) {
		size_t hn = line_len(p, stop, &next);

		if (hn == 0)
			break;
		if (!header_ok(p, hn))
			return HTTP_REQ_BAD;
	}
	get = mlen == 3 && memcmp(buf, "GET", 3) == 0;
	if (!get)
		return HTTP_REQ_BAD_METHOD;
	/* the query string, if any, is ignored */
	plen = tlen;
	for (size_t i = 0; i < tlen; i++)
		if (sp1[1 + i] == '?') {
			plen = i;
			break;
		}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strlen(routes[i].path) == plen && memcmp(routes[i].path, sp1 + 1, plen) == 0) {
			*route = routes[i].route;
			return HTTP_REQ_OK;
		}
	return HTTP_REQ_NOT_FOUND;
}
