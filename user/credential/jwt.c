/* SPDX-License-Identifier: Apache-2.0 */
#include "jwt.h"
#include "token_types.h"
#include "wipe.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define JWT_JSON_DEPTH 16
/* base64 text needed for JWT_SEGMENT_MAX decoded bytes, padded to a multiple of 4 */
#define B64_TEXT_MAX (((JWT_SEGMENT_MAX + 2) / 3) * 4)

static bool is_b64url(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

enum jwt_shape jwt_shape(const char *v, size_t len)
{
	size_t dots = 0, seg_start = 0;
	bool second_empty = false;

	if (!v || len < 5 || len > JWT_MAX_LEN || memcmp(v, "eyJ", 3) != 0)
		return JWT_NONE;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || v[i] == '.') {
			/* The header is never empty (it starts with "eyJ"). */
			if (dots == 1)
				second_empty = i == seg_start;
			if (i < len)
				dots++;
			seg_start = i + 1;
			continue;
		}
		if (!is_b64url((unsigned char)v[i]))
			return JWT_NONE;
	}
	/*
	 * A JWS needs its payload; the signature of an unsecured JWS may be
	 * empty. The second segment of a JWE is the encrypted key, empty
	 * with direct encryption ("alg": "dir").
	 */
	if (dots == 2 && !second_empty)
		return JWT_JWS;
	if (dots == 4)
		return JWT_JWE;
	return JWT_NONE;
}

/*
 * Decodes one base64url segment into out (JWT_SEGMENT_MAX bytes + 3 of
 * slack). Returns the decoded length or -1. The text buffer is wiped: it
 * is a copy of part of the credential.
 */
static int b64url_decode(const char *seg, size_t len, unsigned char *out)
{
	unsigned char text[B64_TEXT_MAX];
	size_t padded = (len + 3) & ~(size_t)3;
	size_t pad = padded - len;
	int n;

	if (len == 0 || len % 4 == 1 || padded > sizeof(text))
		return -1;
	for (size_t i = 0; i < len; i++)
		text[i] = seg[i] == '-' ? '+' : seg[i] == '_' ? '/' : (unsigned char)seg[i];
	memset(text + len, '=', pad);
	n = EVP_DecodeBlock(out, text, (int)padded);
	secure_wipe(text, padded);
	/* EVP_DecodeBlock counts the zero bytes that padding stands for. */
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > JWT_SEGMENT_MAX)
		return -1;
	return n - (int)pad;
}

/* Parses a decoded segment as a JSON object, strictly and depth-bounded. */
static struct json_object *parse_object(const unsigned char *buf, int len)
{
	struct json_tokener *tok = json_tokener_new_ex(JWT_JSON_DEPTH);
	struct json_object *obj;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, (const char *)buf, len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != (size_t)len ||
		    !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Decodes and parses segment [seg, seg+len); wipes the decoded bytes. */
static struct json_object *decode_segment(const char *seg, size_t len)
{
	unsigned char buf[JWT_SEGMENT_MAX + 3];
	struct json_object *obj = NULL;
	int n = b64url_decode(seg, len, buf);

	if (n > 0)
		obj = parse_object(buf, n);
	secure_wipe(buf, sizeof(buf));
	return obj;
}

/* A new string holding at most max bytes of s, cut on a UTF-8 boundary. */
static struct json_object *bounded_string(const char *s, size_t len, size_t max)
{
	if (len > max) {
		len = max;
		/* back off continuation bytes so a multi-byte character is not split */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	return json_object_new_string_len(s, (int)len);
}

/* Copies a string, number or boolean, bounded; anything else is dropped. */
static struct json_object *copy_scalar(struct json_object *v, size_t max)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return bounded_string(json_object_get_string(v), (size_t)json_object_get_string_len(v), max);
	case json_type_int:
		return json_object_new_int64(json_object_get_int64(v));
	case json_type_double:
		return json_object_new_double(json_object_get_double(v));
	case json_type_boolean:
		return json_object_new_boolean(json_object_get_boolean(v));
	default:
		return NULL;
	}
}

/* A string, or an array of at most JWT_ARRAY_MAX strings. */
static struct json_object *copy_strings(struct json_object *v)
{
	struct json_object *arr;
	size_t n;

	if (json_object_is_type(v, json_type_string))
		return copy_scalar(v, JWT_STRING_MAX);
	if (!json_object_is_type(v, json_type_array))
		return NULL;
	arr = json_object_new_array();
	n = json_object_array_length(v);
	for (size_t i = 0; arr && i < n && json_object_array_length(arr) < JWT_ARRAY_MAX; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (json_object_is_type(e, json_type_string))
			json_object_array_add(arr, copy_scalar(e, JWT_STRING_MAX));
	}
	return arr;
}

/*
 * Docker registry "access": [{"type","name","actions":[...]}]. Only those
 * three fields are copied, bounded.
 */
static struct json_object *copy_access(struct json_object *v)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return copy_strings(v);
	arr = json_object_new_array();
	n = json_object_array_length(v);
	for (size_t i = 0; arr && i < n && json_object_array_length(arr) < JWT_ARRAY_MAX; i++) {
		struct json_object *e = json_object_array_get_idx(v, i), *f, *o;

		if (!json_object_is_type(e, json_type_object))
			continue;
		o = json_object_new_object();
		if (!o)
			break;
		if (json_object_object_get_ex(e, "type", &f) && json_object_is_type(f, json_type_string))
			json_object_object_add(o, "type", copy_scalar(f, JWT_STRING_MAX));
		if (json_object_object_get_ex(e, "name", &f) && json_object_is_type(f, json_type_string))
			json_object_object_add(o, "name", copy_scalar(f, JWT_STRING_MAX));
		if (json_object_object_get_ex(e, "actions", &f))
			json_object_object_add(o, "actions", copy_strings(f));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Adds name: copy(v) to out when copy yields something. */
static void put(struct json_object *out, const char *name, struct json_object *copy)
{
	if (copy)
		json_object_object_add(out, name, copy);
}

static struct json_object *get(struct json_object *obj, const char *name)
{
	struct json_object *v = NULL;

	if (!obj || !json_object_object_get_ex(obj, name, &v))
		return NULL;
	return v;
}

static bool get_int(struct json_object *obj, const char *name, int64_t *out)
{
	struct json_object *v = get(obj, name);

	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		/* within ±2^62 so the subtraction below cannot overflow */
		if (d > -4.6e18 && d < 4.6e18) {
			*out = (int64_t)d;
			return true;
		}
	}
	return false;
}

/* The claim as text: strings as they are, anything else as compact JSON; "" when absent. */
static const char *claim_text(struct json_object *v, size_t *len)
{
	const char *s;

	if (!v) {
		*len = 0;
		return "";
	}
	if (json_object_is_type(v, json_type_string)) {
		*len = (size_t)json_object_get_string_len(v);
		return json_object_get_string(v);
	}
	s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*len = s ? strlen(s) : 0;
	return s ? s : "";
}

static void put_hash(struct json_object *out, const char *name, struct json_object *v,
		     const struct fp_key *key)
{
	char hex[FINGERPRINT_HEX_LEN + 1];
	size_t len;
	const char *s;

	if (!v)
		return;
	s = claim_text(v, &len);
	if (fingerprint_hex(key, s, len, hex) == 0)
		json_object_object_add(out, name, json_object_new_string(hex));
}

/* HMAC of "iss|sub|aud|azp": stable while tokens of one identity rotate. */
static void put_identity_key(struct json_object *out, struct json_object *claims,
			     const struct fp_key *key)
{
	static const char *const names[] = { "iss", "sub", "aud", "azp" };
	const char *parts[4];
	size_t lens[4], total = 4;
	char hex[FINGERPRINT_HEX_LEN + 1];
	char *buf, *p;

	for (size_t i = 0; i < 4; i++) {
		parts[i] = claim_text(get(claims, names[i]), &lens[i]);
		total += lens[i];
	}
	buf = malloc(total);
	if (!buf)
		return;
	p = buf;
	for (size_t i = 0; i < 4; i++) {
		if (i)
			*p++ = '|';
		memcpy(p, parts[i], lens[i]);
		p += lens[i];
	}
	if (fingerprint_hex(key, buf, (size_t)(p - buf), hex) == 0)
		json_object_object_add(out, "identity_key", json_object_new_string(hex));
	secure_wipe(buf, total);
	free(buf);
}

static bool str_has_prefix(struct json_object *v, const char *prefix)
{
	size_t n = strlen(prefix);

	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) >= n &&
	       memcmp(json_object_get_string(v), prefix, n) == 0;
}

static bool str_equals(struct json_object *v, const char *s)
{
	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == strlen(s) &&
	       memcmp(json_object_get_string(v), s, strlen(s)) == 0;
}

static void put_string_claim(struct json_object *out, const char *name, struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		put(out, name, copy_scalar(v, JWT_STRING_MAX));
}

/* Kubernetes claims; returns true when the token is a service account token. */
static bool put_kubernetes(struct json_object *out, struct json_object *claims)
{
	struct json_object *k8s = get(claims, "kubernetes.io");
	struct json_object *legacy_ns = get(claims, "kubernetes.io/serviceaccount/namespace");
	bool legacy_iss = str_equals(get(claims, "iss"), "kubernetes/serviceaccount");
	int64_t exp;

	if (!json_object_is_type(k8s, json_type_object))
		k8s = NULL;
	if (!k8s && !legacy_ns && !legacy_iss)
		return false;
	if (k8s) {
		put_string_claim(out, "k8s_namespace", get(k8s, "namespace"));
		put_string_claim(out, "k8s_service_account", get(get(k8s, "serviceaccount"), "name"));
		put_string_claim(out, "k8s_pod", get(get(k8s, "pod"), "name"));
	} else {
		put_string_claim(out, "k8s_namespace", legacy_ns);
		put_string_claim(out, "k8s_service_account",
				 get(claims, "kubernetes.io/serviceaccount/service-account.name"));
	}
	/* Legacy secret-based tokens never expire. */
	json_object_object_add(out, "k8s_legacy",
			       json_object_new_boolean(legacy_iss || !get_int(claims, "exp", &exp)));
	return true;
}

static void put_claims(struct json_object *out, struct json_object *claims,
		       const struct fp_key *key, char *type, size_t typecap)
{
	static const char *const times[] = { "exp", "nbf", "iat" };
	static const char *const strings[] = { "iss", "azp", "client_id", "appid", "tid" };
	static const char *const lists[] = { "aud", "scope", "scp", "roles" };
	int64_t exp, iat, t;
	struct json_object *iss = get(claims, "iss");

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		put_string_claim(out, strings[i], get(claims, strings[i]));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct json_object *v = get(claims, lists[i]);

		if (v)
			put(out, lists[i], copy_strings(v));
	}
	if (get(claims, "access"))
		put(out, "access", copy_access(get(claims, "access")));
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		if (get_int(claims, times[i], &t))
			json_object_object_add(out, times[i], json_object_new_int64(t));
	if (get_int(claims, "exp", &exp)) {
		json_object_object_add(out, "expired", json_object_new_boolean(exp < (int64_t)time(NULL)));
		if (get_int(claims, "iat", &iat))
			json_object_object_add(out, "lifetime", json_object_new_int64(exp - iat));
	}
	put_hash(out, "sub_hash", get(claims, "sub"), key);
	put_hash(out, "oid_hash", get(claims, "oid"), key);
	put_hash(out, "jti_hash", get(claims, "jti"), key);
	put_identity_key(out, claims, key);

	if (put_kubernetes(out, claims))
		snprintf(type, typecap, "%s", token_type_id_str(TYPE_K8S_SERVICEACCOUNT));
	else if (str_has_prefix(iss, "https://sts.windows.net/") ||
		 str_has_prefix(iss, "https://login.microsoftonline.com/"))
		snprintf(type, typecap, "%s", token_type_id_str(TYPE_AZURE_ENTRA));
}

struct json_object *jwt_safe_info(const char *v, size_t len, const struct fp_key *key,
				  char *type, size_t typecap)
{
	enum jwt_shape shape = jwt_shape(v, len);
	struct json_object *out, *header, *claims, *alg;
	const char *dot1, *dot2;

	if (shape == JWT_NONE)
		return NULL;
	snprintf(type, typecap, "%s", token_type_id_str(TYPE_JWT));
	out = json_object_new_object();
	if (!out)
		return NULL;
	if (shape == JWT_JWE) {
		json_object_object_add(out, "jwe", json_object_new_boolean(1));
		return out;
	}
	dot1 = memchr(v, '.', len);
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - v));

	header = decode_segment(v, (size_t)(dot1 - v));
	if (!header) {
		json_object_object_add(out, "malformed", json_object_new_boolean(1));
		return out;
	}
	alg = get(header, "alg");
	/* An unsecured token is itself the credential: keep nothing of it. */
	if (json_object_is_type(alg, json_type_string) &&
	    strcasecmp(json_object_get_string(alg), "none") == 0) {
		json_object_object_add(out, "alg", json_object_new_string("none"));
		json_object_put(header);
		return out;
	}
	put_string_claim(out, "alg", alg);
	put_string_claim(out, "kid", get(header, "kid"));
	put_string_claim(out, "typ", get(header, "typ"));
	json_object_put(header);

	claims = decode_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!claims) {
		json_object_object_add(out, "malformed", json_object_new_boolean(1));
		return out;
	}
	put_claims(out, claims, key, type, typecap);
	json_object_put(claims);
	return out;
}
