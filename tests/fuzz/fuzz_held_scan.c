/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Held-token scanner fuzz target: the input (an exact-size heap copy, so
 * any over-read is caught) is scanned as an environ image and as a cmdline
 * image with a fixed key, and searched with classify_find_prefixed(). Every
 * report must carry a bounded name, a 32-hex fingerprint and a type other
 * than "opaque"; every match must lie inside the input, on word
 * boundaries, and classify as what its rule names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "held_scan.h"

static const struct fp_key key = { .bytes = "fuzz-key", .len = 8 };

static bool is_word_byte(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

static void on_held(void *ctx, const struct held_token *t)
{
	size_t *n = ctx;

	if (!memchr(t->name, '\0', sizeof(t->name)) ||
	    strlen(t->fingerprint) != FINGERPRINT_HEX_LEN ||
	    strspn(t->fingerprint, "0123456789abcdef") != FINGERPRINT_HEX_LEN ||
	    strcmp(t->info.type, "opaque") == 0 ||
	    (t->source != HELD_ENVIRON && t->source != HELD_ARGV))
		abort();
	for (const char *p = t->name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	if (t->info.jwt)
		(void)json_object_to_json_string(t->info.jwt);
	(*n)++;
}

static void check_find(const char *s, size_t len)
{
	size_t at = 0, off, n;

	while (at < len && classify_find_prefixed(s + at, len - at, &off, &n)) {
		const char *m = s + at + off;
		struct credential c;
		struct token_info t;

		if (n == 0 || off > len - at || n > len - at - off)
			abort();
		if ((m > s && is_word_byte((unsigned char)m[-1])) ||
		    (m + n < s + len && is_word_byte((unsigned char)m[n])))
			abort();
		memset(&c, 0, sizeof(c));
		c.value = m;
		c.value_len = n;
		classify_credential(&c, &key, &t);
		if (strcmp(t.type, "opaque") == 0)
			abort();
		token_info_release(&t);
		at += off + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t reported = 0, want;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	want = held_scan_buffer(buf, size, HELD_ENVIRON, &key, on_held, &reported);
	want += held_scan_buffer(buf, size, HELD_ARGV, &key, on_held, &reported);
	if (want != reported)
		abort();
	check_find(buf, size);
	free(buf);
	return 0;
}
