/* SPDX-License-Identifier: Apache-2.0 */
#include "redact.h"

#include <string.h>

#define MARK "***"
#define MARK_LEN (sizeof(MARK) - 1)

size_t redact_secret(char *text, size_t len, const void *secret, size_t slen)
{
	size_t in = 0, out = 0;

	if (!text || !secret || slen == 0)
		return len;
	while (in < len) {
		if (len - in >= slen && memcmp(text + in, secret, slen) == 0) {
			/*
			 * A secret shorter than the mark would grow the text:
			 * such a secret is masked by as many '*' as it has bytes.
			 */
			size_t m = slen < MARK_LEN ? slen : MARK_LEN;

			memset(text + out, '*', m);
			out += m;
			in += slen;
			continue;
		}
		text[out++] = text[in++];
	}
	if (out < len)
		text[out] = '\0';
	return out;
}
