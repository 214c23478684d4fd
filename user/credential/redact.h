/* SPDX-License-Identifier: Apache-2.0 */
/* Removing a known secret from text that is about to be reported. */
#ifndef TOKENTAP_REDACT_H
#define TOKENTAP_REDACT_H

#include <stddef.h>

/*
 * Replaces every occurrence of secret (slen bytes, slen > 0) in text
 * (len bytes) with "***", in place. Returns the new length; text is
 * NUL-terminated when there is room (the new length is never larger).
 */
size_t redact_secret(char *text, size_t len, const void *secret, size_t slen);

#endif
