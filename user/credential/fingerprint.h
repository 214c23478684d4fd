/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed credential fingerprint (docs/ARCHITECTURE.md "Credentials"): lowercase hex of the first 16
 * bytes of HMAC-SHA256(key, credential). */
#ifndef TOKENTAP_FINGERPRINT_H
#define TOKENTAP_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define FINGERPRINT_BYTES 16
#define FINGERPRINT_HEX_LEN (FINGERPRINT_BYTES * 2)
#define FINGERPRINT_KEY_MAX 4096

struct fp_key {
	uint8_t bytes[FINGERPRINT_KEY_MAX];
	size_t len;
};

/* out must hold FINGERPRINT_HEX_LEN + 1 bytes. Returns 0 or -1. */
int fingerprint_hex(const struct fp_key *key, const void *data, size_t len, char *out);

/*
 * Loads the key: the raw bytes of key_file when given, else
 * <state_dir>/fingerprint.key, created with 32 random bytes and mode 0600
 * when missing. On error returns -1 and writes a one-line reason to err.
 */
int fingerprint_key_load(struct fp_key *key, const char *key_file, const char *state_dir,
			 char *err, size_t errlen);

#endif
