/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWT safe-claim filter (docs/token-formats.md "JWT rules"): decodes a JWS
 * header and payload and keeps only non-secret fields; identity claims are
 * replaced by keyed hashes. Pure logic (OpenSSL base64, json-c).
 */
#ifndef TOKENTAP_JWT_H
#define TOKENTAP_JWT_H

#include <json-c/json.h>
#include <stddef.h>
#include "fingerprint.h"

#define JWT_MAX_LEN 32768      /* longer values are not treated as JWTs */
#define JWT_SEGMENT_MAX 8192   /* decoded header or payload bytes */
#define JWT_STRING_MAX 256     /* bytes kept of one string claim */
#define JWT_ARRAY_MAX 32       /* entries kept of one array claim */

enum jwt_shape {
	JWT_NONE = 0, /* not a JWT */
	JWT_JWS,      /* header.payload.signature */
	JWT_JWE,      /* five segments: encrypted, never decoded */
};

/* Three or five base64url segments, the first starting with "eyJ". */
enum jwt_shape jwt_shape(const char *v, size_t len);

/*
 * Returns a new object with the safe header fields and claims of v, or
 * NULL when v is not JWT-shaped. Writes the type id ("jwt",
 * "k8s_serviceaccount", "azure_entra") to type. key hashes sub/oid/jti and
 * the identity key; without a usable key those fields are omitted.
 * Undecodable parts give {"malformed": true} plus what could be read.
 */
struct json_object *jwt_safe_info(const char *v, size_t len, const struct fp_key *key,
				  char *type, size_t typecap);

#endif
