/* SPDX-License-Identifier: Apache-2.0 */
#include "numarg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int numarg_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int numarg_size(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	/* "4M", "4MB", "4MiB" */
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return -1;
	if (v == 0 || v > (max >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int numarg_duration(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
	char *end;
	unsigned long long v;
	uint64_t unit;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	if (!strcmp(s, "0")) {
		*out_ms = 0;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !end[0] || end[1])
		return -1;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: return -1;
	}
	if (v > max_ms / unit)
		return -1;
	*out_ms = v * unit;
	return 0;
}
