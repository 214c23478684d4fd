/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline checksums that prove a string is a real token of its type
 * (docs/token-formats.md "CRC32"). Pure logic, CRC32 from zlib.
 */
#ifndef TOKENTAP_CHECKSUM_H
#define TOKENTAP_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#define BASE62_CRC_LEN 6

/* Result of a checksum test: the format has no checksum at this length, or it fails, or it holds. */
enum checksum_result {
	CHECKSUM_NA = -1,
	CHECKSUM_BAD = 0,
	CHECKSUM_OK = 1,
};

uint32_t checksum_crc32(const void *data, size_t len);

/*
 * Writes v as exactly BASE62_CRC_LEN base62 digits (alphabet 0-9A-Za-z,
 * most significant first, zero-padded) and a NUL: out holds 7 bytes.
 */
void base62_encode_crc(uint32_t v, char *out);

/*
 * GitHub classic tokens (ghp_ gho_ ghu_ ghs_ ghr_) and npm tokens: a
 * 4-byte prefix, 30 random base62 characters, and base62_encode_crc() of
 * the CRC32 of the 30 random characters. Applies only to 40-byte tokens.
 */
enum checksum_result checksum_github(const char *tok, size_t len);

/*
 * Grafana service account tokens: "glsa_" + 32 alphanumerics + "_" +
 * 8 hex = lowercase hex of the little-endian CRC32 of "glsa_<32>".
 */
enum checksum_result checksum_grafana_sa(const char *tok, size_t len);

#endif
