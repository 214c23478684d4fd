/* SPDX-License-Identifier: Apache-2.0 */
/* Untrusted bytes made safe to report: UTF-8 validation and printable copies. */
#ifndef TOKENTAP_TEXT_H
#define TOKENTAP_TEXT_H

#include <stddef.h>

/*
 * Length (1..4) of the valid UTF-8 sequence at s, n bytes available (n >=
 * 1); 0 when it is not UTF-8 (overlong forms, surrogates, beyond U+10FFFF).
 */
size_t utf8_seq(const unsigned char *s, size_t n);

/*
 * Copies at most cap-1 of the len bytes of src into dst, printable ASCII
 * only (other bytes become '?'), and NUL-terminates. cap >= 1.
 */
void text_printable(char *dst, size_t cap, const char *src, size_t len);

/* Value of the hexadecimal digit c (either case), or -1. */
int text_hexval(char c);

/*
 * snprintf(dst, cap, "%s", src) without the format machinery, for copies
 * made per request: at most cap-1 bytes, NUL-terminated. cap >= 1.
 */
void text_copy(char *dst, size_t cap, const char *src);

#endif
