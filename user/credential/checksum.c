/* SPDX-License-Identifier: Apache-2.0 */
#include "checksum.h"

#include <string.h>
#include <zlib.h>

/* GitHub and npm use the "lexicographic" (GMP) base62 alphabet. */
static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#define GH_PREFIX_LEN 4
#define GH_RANDOM_LEN 30
#define GH_TOKEN_LEN (GH_PREFIX_LEN + GH_RANDOM_LEN + BASE62_CRC_LEN)

uint32_t checksum_crc32(const void *data, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	/* zlib takes uInt lengths: feed in pieces so huge inputs stay correct. */
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		crc = crc32(crc, data, n);
		data = (const unsigned char *)data + n;
		len -= n;
	}
	return (uint32_t)crc;
}

void base62_encode_crc(uint32_t v, char *out)
{
	for (int i = BASE62_CRC_LEN - 1; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
	out[BASE62_CRC_LEN] = '\0';
}

/*
 * GitHub's format (github.blog, 2021-04-05, "Behind GitHub's new
 * authentication token formats"): prefix, 30 random base62 characters,
 * then a 6-character base62 CRC32. Public verifiers (e.g. credsweeper,
 * base62-token.js) compute the CRC over the 30 random characters only,
 * not the prefix; their published sample token verifies that way (the
 * unit test uses it as a known answer).
 * npm adopted the same layout ("npm_" prefix).
 */
enum checksum_result checksum_github(const char *tok, size_t len)
{
	char want[BASE62_CRC_LEN + 1];

	if (!tok || len != GH_TOKEN_LEN)
		return CHECKSUM_NA;
	base62_encode_crc(checksum_crc32(tok + GH_PREFIX_LEN, GH_RANDOM_LEN), want);
	return memcmp(want, tok + GH_PREFIX_LEN + GH_RANDOM_LEN, BASE62_CRC_LEN) == 0 ?
	       CHECKSUM_OK : CHECKSUM_BAD;
}

#define GRAFANA_PREFIX "glsa_"
#define GRAFANA_SECRET_LEN 32
#define GRAFANA_KEY_LEN (sizeof(GRAFANA_PREFIX) - 1 + GRAFANA_SECRET_LEN)
#define GRAFANA_TOKEN_LEN (GRAFANA_KEY_LEN + 1 + 8)

/*
 * Grafana's satokengen: key = "gl" + "sa" + "_" + secret; checksum =
 * crc32.ChecksumIEEE(key) stored little-endian and hex-encoded; token =
 * key + "_" + checksum.
 */
enum checksum_result checksum_grafana_sa(const char *tok, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char want[8];
	uint32_t crc;

	if (!tok || len != GRAFANA_TOKEN_LEN || tok[GRAFANA_KEY_LEN] != '_' ||
	    memcmp(tok, GRAFANA_PREFIX, sizeof(GRAFANA_PREFIX) - 1) != 0)
		return CHECKSUM_NA;
	crc = checksum_crc32(tok, GRAFANA_KEY_LEN);
	for (int i = 0; i < 4; i++) {
		uint8_t b = (uint8_t)(crc >> (8 * i));

		want[2 * i] = hex[b >> 4];
		want[2 * i + 1] = hex[b & 15];
	}
	return memcmp(want, tok + GRAFANA_KEY_LEN + 1, sizeof(want)) == 0 ? CHECKSUM_OK : CHECKSUM_BAD;
}
