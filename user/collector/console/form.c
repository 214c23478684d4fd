/* SPDX-License-Identifier: Apache-2.0 */
#include "form.h"
#include "text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Decodes s[0..n) into out; its length or -1. */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = text_hexval(s[i + 1]);
			lo = text_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

long form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0;
	long found = -1;
	int seen = 0;

	if (cap == 0)
		return -1;
	while (i <= len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;

		if (end - i > nl && !memcmp(body + i, name, nl) && body[i + nl] == '=') {
			if (++seen > 1)
				return -1;
			found = decode(body + i + nl + 1, end - i - nl - 1, out, cap);
			if (found < 0)
				return -1;
		}
		if (!amp)
			break;
		i = end + 1;
	}
	return found;
}

bool peer_is_loopback(const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return !memcmp(b, v4mapped, sizeof(v4mapped)) && b[12] == 127;
	}
	return false;
}

bool host_is_loopback(const char *host)
{
	char name[64];
	const char *end;
	size_t n;
	struct in_addr a4;

	if (!host)
		return false;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':'))
			return false;
		return (size_t)(end - host) == 4 && !strncmp(host, "[::1", 4);
	}
	end = strchr(host, ':');
	n = end ? (size_t)(end - host) : strlen(host);
	if (n == 0 || n >= sizeof(name))
		return false;
	if (end && strspn(end + 1, "0123456789") != strlen(end + 1))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (!strcasecmp(name, "localhost"))
		return true;
	/* inet_pton takes only the dotted-quad form: no "127.1" or octal */
	return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool origin_matches(const char *origin, const char *host, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme);

	if (!origin || !host || !host[0])
		return false;
	return !strncasecmp(origin, scheme, sl) && !strcasecmp(origin + sl, host);
}
