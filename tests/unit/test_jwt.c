/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWT safe-claim filter: kept and dropped claims, keyed hashes, alg none,
 * JWE, Kubernetes (legacy and bound), Entra ID, lifetime and expiry,
 * malformed input. Tokens are built at run time from JSON with json-c and
 * OpenSSL base64; assertions never print a token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "classify.h"
#include "jwt.h"

#define TOK_MAX 16384

static struct fp_key test_key = { .bytes = "jwt-test-key", .len = 12 };

/* base64url without padding; returns the length written. */
static size_t b64url(char *out, const void *data, size_t len)
{
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	return (size_t)n;
}

/* header.payload.signature from two JSON texts. */
static size_t make_jwt(char *out, const char *header, const char *payload)
{
	size_t n = b64url(out, header, strlen(header));

	out[n++] = '.';
	n += b64url(out + n, payload, strlen(payload));
	out[n++] = '.';
	memcpy(out + n, "c2lnbmF0dXJlLWJ5dGVz", 20);
	n += 20;
	out[n] = '\0';
	return n;
}

static void classify_jwt(const char *tok, size_t len, struct token_info *t)
{
	struct credential c;

	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "authorization");
	snprintf(c.scheme, sizeof(c.scheme), "Bearer");
	c.value = tok;
	c.value_len = len;
	classify_credential(&c, &test_key, t);
}

static const char *jstr(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jhas(struct json_object *o, const char *name)
{
	return json_object_object_get_ex(o, name, NULL);
}

static int64_t jint(struct json_object *o, const char *name)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, name, &v));
	return json_object_get_int64(v);
}

static bool jbool(struct json_object *o, const char *name)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, name, &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static bool serialized_contains(struct json_object *o, const char *needle)
{
	return strstr(json_object_to_json_string(o), needle) != NULL;
}

static void expect_hash(struct json_object *o, const char *name, const char *raw)
{
	char hex[FINGERPRINT_HEX_LEN + 1];

	assert_int_equal(fingerprint_hex(&test_key, raw, strlen(raw), hex), 0);
	assert_non_null(jstr(o, name));
	assert_string_equal(jstr(o, name), hex);
}

static void test_claim_filtering(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	struct json_object *j, *scp;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\",\"x5c\":[\"MIIsecretcert\"]}",
		       "{\"iss\":\"https://issuer.example\",\"sub\":\"user-subject-4711\","
		       "\"aud\":[\"api://a\",\"api://b\"],\"azp\":\"client-9\",\"exp\":2000000000,"
		       "\"iat\":1999996400,\"nbf\":1999996400,\"jti\":\"jti-unique-7\",\"oid\":\"oid-42\","
		       "\"email\":\"person@example.com\",\"upn\":\"person@corp.example\","
		       "\"name\":\"Some Person\",\"groups\":[\"g-admins\"],\"nonce\":\"n-123\","
		       "\"custom_claim\":\"custom-value\",\"scope\":\"read write\",\"scp\":[\"a\",\"b\"],"
		       "\"roles\":[\"Reader\",7],\"client_id\":\"cid\",\"appid\":\"app-1\",\"tid\":\"tenant-1\"}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "jwt");
	assert_int_equal(t.confidence, 90);
	j = t.jwt;
	assert_non_null(j);
	assert_string_equal(jstr(j, "alg"), "RS256");
	assert_string_equal(jstr(j, "kid"), "k1");
	assert_string_equal(jstr(j, "typ"), "JWT");
	assert_string_equal(jstr(j, "iss"), "https://issuer.example");
	assert_string_equal(jstr(j, "azp"), "client-9");
	assert_string_equal(jstr(j, "client_id"), "cid");
	assert_string_equal(jstr(j, "appid"), "app-1");
	assert_string_equal(jstr(j, "tid"), "tenant-1");
	assert_string_equal(jstr(j, "scope"), "read write");
	assert_true(json_object_object_get_ex(j, "scp", &scp));
	assert_int_equal(json_object_array_length(scp), 2);
	/* non-string roles entries are dropped */
	assert_true(json_object_object_get_ex(j, "roles", &scp));
	assert_int_equal(json_object_array_length(scp), 1);
	assert_true(json_object_object_get_ex(j, "aud", &scp));
	assert_int_equal(json_object_array_length(scp), 2);
	assert_int_equal(jint(j, "exp"), 2000000000);
	assert_int_equal(jint(j, "iat"), 1999996400);
	assert_int_equal(jint(j, "nbf"), 1999996400);
	assert_int_equal(jint(j, "lifetime"), 3600);
	assert_false(jbool(j, "expired"));

	expect_hash(j, "sub_hash", "user-subject-4711");
	expect_hash(j, "oid_hash", "oid-42");
	expect_hash(j, "jti_hash", "jti-unique-7");
	expect_hash(j, "identity_key", "https://issuer.example|user-subject-4711|[\"api://a\",\"api://b\"]|client-9");

	static const char *const dropped[] = {
		"user-subject-4711", "jti-unique-7", "oid-42", "person@", "Some Person", "g-admins",
		"n-123", "custom", "MIIsecretcert", "signature", "\"sub\"", "\"email\"", "\"upn\"",
	};
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		assert_false(serialized_contains(j, dropped[i]));
	token_info_release(&t);
}

static void test_identity_key_stable(void **state)
{
	char tok[TOK_MAX];
	struct token_info a, b, c;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"ES256\"}",
		       "{\"iss\":\"i\",\"sub\":\"s\",\"aud\":\"x\",\"exp\":100,\"iat\":50,\"jti\":\"1\"}");
	classify_jwt(tok, len, &a);
	len = make_jwt(tok, "{\"alg\":\"ES256\"}",
		       "{\"iss\":\"i\",\"sub\":\"s\",\"aud\":\"x\",\"exp\":200,\"iat\":150,\"jti\":\"2\"}");
	classify_jwt(tok, len, &b);
	len = make_jwt(tok, "{\"alg\":\"ES256\"}", "{\"iss\":\"i\",\"sub\":\"other\",\"aud\":\"x\"}");
	classify_jwt(tok, len, &c);
	/* rotation keeps the identity; another subject changes it */
	assert_string_equal(jstr(a.jwt, "identity_key"), jstr(b.jwt, "identity_key"));
	assert_string_not_equal(jstr(a.jwt, "jti_hash"), jstr(b.jwt, "jti_hash"));
	assert_string_not_equal(jstr(a.jwt, "identity_key"), jstr(c.jwt, "identity_key"));
	expect_hash(a.jwt, "identity_key", "i|s|x|");
	/* expired long ago */
	assert_true(jbool(a.jwt, "expired"));
	assert_int_equal(jint(a.jwt, "lifetime"), 50);
	assert_false(jhas(c.jwt, "lifetime"));
	assert_false(jhas(c.jwt, "expired"));
	token_info_release(&a);
	token_info_release(&b);
	token_info_release(&c);
}

static void test_no_key(void **state)
{
	char tok[TOK_MAX];
	struct json_object *j;
	char type[32];
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"HS256\"}", "{\"iss\":\"i\",\"sub\":\"s\"}");
	j = jwt_safe_info(tok, len, NULL, type, sizeof(type));
	assert_non_null(j);
	assert_string_equal(type, "jwt");
	assert_string_equal(jstr(j, "iss"), "i");
	assert_false(jhas(j, "sub_hash"));
	assert_false(jhas(j, "identity_key"));
	json_object_put(j);
}

static void test_alg_none(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"None\",\"kid\":\"k\"}",
		       "{\"iss\":\"https://sts.windows.net/t/\",\"sub\":\"s\",\"exp\":1}");
	/* unsecured tokens have an empty signature */
	len = (size_t)(strrchr(tok, '.') - tok) + 1;
	tok[len] = '\0';
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "jwt");
	assert_string_equal(json_object_to_json_string_ext(t.jwt, JSON_C_TO_STRING_PLAIN),
			    "{\"alg\":\"none\"}");
	token_info_release(&t);
}

static void test_jwe(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = b64url(tok, "{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}",
		     strlen("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}"));
	memcpy(tok + len, ".a2V5.aXY.Y2lwaGVy.dGFn", 23);
	len += 23;
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "jwt");
	assert_string_equal(json_object_to_json_string_ext(t.jwt, JSON_C_TO_STRING_PLAIN),
			    "{\"jwe\":true}");
	token_info_release(&t);
	assert_int_equal(jwt_shape(tok, len), JWT_JWE);
	assert_int_equal(jwt_shape(tok, 10), JWT_NONE);
}

static void test_k8s_legacy(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"RS256\",\"kid\":\"\"}",
		       "{\"iss\":\"kubernetes/serviceaccount\","
		       "\"kubernetes.io/serviceaccount/namespace\":\"prod\","
		       "\"kubernetes.io/serviceaccount/secret.name\":\"builder-token-abcde\","
		       "\"kubernetes.io/serviceaccount/service-account.name\":\"builder\","
		       "\"kubernetes.io/serviceaccount/service-account.uid\":\"u-1\","
		       "\"sub\":\"system:serviceaccount:prod:builder\"}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "k8s_serviceaccount");
	assert_string_equal(jstr(t.jwt, "k8s_namespace"), "prod");
	assert_string_equal(jstr(t.jwt, "k8s_service_account"), "builder");
	assert_true(jbool(t.jwt, "k8s_legacy"));
	assert_false(serialized_contains(t.jwt, "builder-token"));
	assert_false(serialized_contains(t.jwt, "system:serviceaccount"));
	token_info_release(&t);
}

static void test_k8s_bound(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"alg\":\"RS256\",\"kid\":\"abc\"}",
		       "{\"aud\":[\"https://kubernetes.default.svc.cluster.local\"],\"exp\":1700003600,"
		       "\"iat\":1700000000,\"iss\":\"https://kubernetes.default.svc.cluster.local\","
		       "\"kubernetes.io\":{\"namespace\":\"payments\",\"pod\":{\"name\":\"api-7f\",\"uid\":\"p\"},"
		       "\"serviceaccount\":{\"name\":\"api\",\"uid\":\"s\"}},\"nbf\":1700000000,"
		       "\"sub\":\"system:serviceaccount:payments:api\"}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "k8s_serviceaccount");
	assert_string_equal(jstr(t.jwt, "k8s_namespace"), "payments");
	assert_string_equal(jstr(t.jwt, "k8s_service_account"), "api");
	assert_string_equal(jstr(t.jwt, "k8s_pod"), "api-7f");
	assert_false(jbool(t.jwt, "k8s_legacy"));
	assert_true(jbool(t.jwt, "expired"));
	assert_int_equal(jint(t.jwt, "lifetime"), 3600);
	token_info_release(&t);

	/* bound shape without exp still counts as never expiring */
	len = make_jwt(tok, "{\"alg\":\"RS256\"}",
		       "{\"iss\":\"https://oidc.example\",\"kubernetes.io\":{\"namespace\":\"n\"}}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "k8s_serviceaccount");
	assert_true(jbool(t.jwt, "k8s_legacy"));
	token_info_release(&t);
}

static void test_azure(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = make_jwt(tok, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"x\"}",
		       "{\"aud\":\"https://graph.microsoft.com\",\"iss\":\"https://sts.windows.net/tid-1/\","
		       "\"iat\":1,\"exp\":4000000000,\"appid\":\"app\",\"tid\":\"tid-1\",\"oid\":\"o\","
		       "\"roles\":[\"Directory.Read.All\"],\"upn\":\"someone@corp.example\"}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "azure_entra");
	assert_string_equal(jstr(t.jwt, "tid"), "tid-1");
	assert_false(jbool(t.jwt, "expired"));
	assert_false(serialized_contains(t.jwt, "someone@"));
	token_info_release(&t);

	len = make_jwt(tok, "{\"alg\":\"RS256\"}",
		       "{\"iss\":\"https://login.microsoftonline.com/tid-2/v2.0\",\"scp\":\"User.Read\",\"azp\":\"c\"}");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "azure_entra");
	assert_string_equal(jstr(t.jwt, "scp"), "User.Read");
	token_info_release(&t);
}

static void test_docker_access_and_bounds(void **state)
{
	char tok[TOK_MAX], payload[8192];
	struct token_info t;
	struct json_object *acc, *e;
	size_t n;

	(void)state;
	make_jwt(tok, "{\"alg\":\"ES256\"}",
		 "{\"iss\":\"registry\",\"access\":[{\"type\":\"repository\",\"name\":\"lib/app\","
		 "\"actions\":[\"pull\",\"push\"],\"extra\":\"x-dropped\"},5]}");
	classify_jwt(tok, strlen(tok), &t);
	assert_true(json_object_object_get_ex(t.jwt, "access", &acc));
	assert_int_equal(json_object_array_length(acc), 1);
	e = json_object_array_get_idx(acc, 0);
	assert_string_equal(jstr(e, "name"), "lib/app");
	assert_false(serialized_contains(t.jwt, "x-dropped"));
	token_info_release(&t);

	/* long strings are cut, long arrays capped */
	n = (size_t)snprintf(payload, sizeof(payload), "{\"iss\":\"");
	memset(payload + n, 'i', 1000);
	n += 1000;
	n += (size_t)snprintf(payload + n, sizeof(payload) - n, "\",\"roles\":[");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(payload + n, sizeof(payload) - n, "%s\"r%d\"", i ? "," : "", i);
	snprintf(payload + n, sizeof(payload) - n, "]}");
	make_jwt(tok, "{\"alg\":\"ES256\"}", payload);
	classify_jwt(tok, strlen(tok), &t);
	assert_int_equal(strlen(jstr(t.jwt, "iss")), JWT_STRING_MAX);
	assert_true(json_object_object_get_ex(t.jwt, "roles", &acc));
	assert_int_equal(json_object_array_length(acc), JWT_ARRAY_MAX);
	token_info_release(&t);
}

static void test_malformed(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	/* payload is not JSON */
	len = make_jwt(tok, "{\"alg\":\"HS256\"}", "not json at all");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "jwt");
	assert_true(jbool(t.jwt, "malformed"));
	assert_string_equal(jstr(t.jwt, "alg"), "HS256");
	token_info_release(&t);

	/* header is JSON but not an object; payload an array */
	len = make_jwt(tok, "{\"alg\":1}", "[1,2,3]");
	classify_jwt(tok, len, &t);
	assert_string_equal(t.type, "jwt");
	assert_true(jbool(t.jwt, "malformed"));
	assert_false(jhas(t.jwt, "alg"));
	token_info_release(&t);

	/* trailing garbage after the JSON object */
	len = make_jwt(tok, "{\"alg\":\"HS256\"}", "{\"iss\":\"x\"} trailing");
	classify_jwt(tok, len, &t);
	assert_true(jbool(t.jwt, "malformed"));
	token_info_release(&t);

	/* impossible base64 length (4n+1) in the header */
	snprintf(tok, sizeof(tok), "eyJhbGciOiJIUzI1NiJ9x.eyJpc3MiOiJ4In0.sig");
	classify_jwt(tok, strlen(tok), &t);
	assert_string_equal(t.type, "jwt");
	assert_true(jbool(t.jwt, "malformed"));
	token_info_release(&t);

	/* invalid UTF-8 inside a string */
	len = make_jwt(tok, "{\"alg\":\"HS256\"}", "{\"iss\":\"\xff\xfe\"}");
	classify_jwt(tok, len, &t);
	assert_true(jbool(t.jwt, "malformed"));
	token_info_release(&t);

	/* deep nesting */
	{
		char deep[512];
		size_t n = 0;

		n += (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
		for (int i = 0; i < 100; i++)
			deep[n++] = '[';
		for (int i = 0; i < 100; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = '\0';
		len = make_jwt(tok, "{\"alg\":\"HS256\"}", deep);
		classify_jwt(tok, len, &t);
		assert_true(jbool(t.jwt, "malformed"));
		token_info_release(&t);
	}

	/* wrong shapes are not JWTs */
	static const char *const not_jwt[] = {
		"eyJ.eyJ", "eyJhbGc.eyJ.c.d", "eyJ..sig", "eyJhbGc!.eyJ.sig", "eyJhbGc.eyJ.s.i.g.x",
		"abc.def.ghi", ".eyJ.x",
	};
	for (size_t i = 0; i < sizeof(not_jwt) / sizeof(not_jwt[0]); i++) {
		classify_jwt(not_jwt[i], strlen(not_jwt[i]), &t);
		assert_string_equal(t.type, "opaque");
		assert_null(t.jwt);
	}
}

static void test_oversize_payload(void **state)
{
	char *tok = malloc(JWT_MAX_LEN + 64);
	char *payload = malloc(JWT_SEGMENT_MAX + 64);
	struct token_info t;
	size_t n;

	(void)state;
	assert_non_null(tok);
	assert_non_null(payload);
	n = (size_t)snprintf(payload, JWT_SEGMENT_MAX + 64, "{\"iss\":\"");
	/* 2 bytes over the decoded-segment bound */
	memset(payload + n, 'x', JWT_SEGMENT_MAX - n);
	snprintf(payload + JWT_SEGMENT_MAX, 64, "\"}");
	make_jwt(tok, "{\"alg\":\"HS256\"}", payload);
	classify_jwt(tok, strlen(tok), &t);
	assert_string_equal(t.type, "jwt");
	assert_true(jbool(t.jwt, "malformed"));
	token_info_release(&t);
	free(tok);
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_filtering),
		cmocka_unit_test(test_identity_key_stable),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_jwe),
		cmocka_unit_test(test_k8s_legacy),
		cmocka_unit_test(test_k8s_bound),
		cmocka_unit_test(test_azure),
		cmocka_unit_test(test_docker_access_and_bounds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
