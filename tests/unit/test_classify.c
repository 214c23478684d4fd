/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential classifier: one synthetic sample of every type, checksum
 * valid and invalid, Basic, AWS SigV4 and key ids, Azure identifiable
 * keys, JWT-derived types, opaque fallback, finding prefixed credentials
 * in free text, and the rule that no secret byte ends up in token_info.
 * Samples are built at run time from random characters (never a real
 * token), and assertions compare only types and metadata, so a failure
 * never prints a token. Every type reported must have an entry in the
 * type table. The last test checks that every type id of docs/token-formats.md
 * was produced by some test above.
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

#include "checksum.h"
#include "classify.h"
#include "token_samples.h"
#include "token_types.h"

static struct fp_key test_key = { .bytes = "classify-test-key", .len = 17 };

/* glsa_ + 32 alphanumerics + _ + hex of the little-endian CRC32 of what precedes. */
static size_t build_grafana(char *out, bool valid)
{
	size_t len = build(out, "glsa_", B62, 32);
	uint32_t crc = checksum_crc32(out, len);

	snprintf(out + len, TOK_MAX - len, "_%02x%02x%02x%02x", crc & 0xff, (crc >> 8) & 0xff,
		 (crc >> 16) & 0xff, crc >> 24);
	len += 9;
	if (!valid)
		out[len - 1] = out[len - 1] == '0' ? '1' : '0';
	return len;
}

/* Every type id of docs/token-formats.md; each must be produced by some test. */
static const char *const all_types[] = {
	"github_pat", "github_oauth", "github_user_app", "github_app_install", "github_refresh",
	"github_fine_grained", "gitlab_pat", "gitlab_other", "slack_bot", "slack_user",
	"slack_app", "stripe", "openai", "anthropic", "aws_sigv4", "aws_bedrock", "google_oauth",
	"google_api_key", "azure_entra", "azure_sas", "azure_sharedkey", "azure_apim", "npm",
	"pypi", "twilio", "sendgrid", "datadog", "shopify", "vault", "k8s_serviceaccount",
	"docker", "jwt", "huggingface", "databricks", "grafana", "atlassian", "okta", "newrelic",
	"digitalocean", "sentry", "cloudflare", "onepassword", "terraform", "linear", "postman",
	"tailscale", "ai_misc", "basic", "opaque",
};
#define N_TYPES (sizeof(all_types) / sizeof(all_types[0]))
static bool type_seen[N_TYPES];

static void note_type(const char *type)
{
	/* what the classifier reports, the risk engine must find in the type table */
	if (!token_type_find(type))
		fail_msg("type %s has no entry in the type table", type);
	for (size_t i = 0; i < N_TYPES; i++)
		if (strcmp(type, all_types[i]) == 0)
			type_seen[i] = true;
}

static void classify_cred(const struct credential *c, struct token_info *t)
{
	classify_credential(c, &test_key, t);
	note_type(t->type);
	if (t->basic_password_type[0] && !token_type_find(t->basic_password_type))
		fail_msg("password type %s has no entry in the type table", t->basic_password_type);
}

static void classify_full(const char *v, size_t len, const char *header, const char *scheme,
			  struct token_info *t)
{
	struct credential c;

	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "%s", header ? header : "authorization");
	snprintf(c.scheme, sizeof(c.scheme), "%s", scheme ? scheme : "Bearer");
	c.value = v;
	c.value_len = len;
	classify_cred(&c, t);
}

/* A value with no header and no scheme, as a process holds it. */
static void classify_value(const char *v, size_t len, struct token_info *t)
{
	classify_full(v, len, "", "", t);
}

/* Fails (without printing the token) when any byte window of the secret shows up in t. */
static void assert_no_secret(const struct token_info *t, const char *secret, size_t len)
{
	const size_t w = 10;

	if (len < w)
		return;
	for (size_t off = 0; off + w <= len; off += w / 2) {
		assert_null(memmem(t, sizeof(*t), secret + off, w));
		if (t->jwt) {
			const char *s = json_object_to_json_string(t->jwt);

			assert_null(memmem(s, strlen(s), secret + off, w));
		}
	}
}

struct sample {
	const char *type;
	const char *prefix;    /* built: prefix + n characters of alpha */
	const char *alpha;
	size_t n;
	const char *header;    /* NULL: authorization */
	const char *scheme;    /* NULL: Bearer */
	const char *want_prefix;
};

static const struct sample samples[] = {
	{ "gitlab_pat", "glpat-", B64URL, 20, "private-token", "", "glpat-" },
	{ "gitlab_other", "glrt-", B64URL, 20, NULL, NULL, "glrt-" },
	{ "gitlab_other", "glcbt-", B64URL, 30, "job-token", "", "glcbt-" },
	{ "slack_bot", "xoxb-", B64URL, 50, NULL, NULL, "xoxb-" },
	{ "slack_user", "xoxp-", B64URL, 70, NULL, NULL, "xoxp-" },
	{ "slack_app", "xapp-", B64URL, 90, NULL, NULL, "xapp-" },
	{ "slack_user", "xoxe.xoxp-", B64URL, 140, NULL, NULL, "xoxe.xoxp-" },
	{ "slack_refresh", "xoxe-", B64URL, 140, NULL, NULL, "xoxe-" },
	{ "stripe", "sk_live_", B62, 24, NULL, NULL, "sk_live_" },
	{ "stripe", "sk_test_", B62, 99, NULL, "Basic-not", "sk_test_" },
	{ "stripe", "rk_live_", B62, 24, NULL, NULL, "rk_live_" },
	{ "stripe", "rk_test_", B62, 24, NULL, NULL, "rk_test_" },
	{ "openai", "sk-proj-", B64URL, 120, NULL, NULL, "sk-proj-" },
	{ "openai", "sk-svcacct-", B64URL, 120, NULL, NULL, "sk-svcacct-" },
	{ "openai", "sk-admin-", B64URL, 120, NULL, NULL, "sk-admin-" },
	{ "anthropic", "sk-ant-api03-", B64URL, 95, "x-api-key", "", "sk-ant-api03-" },
	{ "anthropic", "sk-ant-admin01-", B64URL, 95, "x-api-key", "", "sk-ant-admin01-" },
	{ "aws_bedrock", "ABSK", B64, 120, NULL, NULL, "ABSK" },
	{ "aws_bedrock", "bedrock-api-key-", B64, 300, NULL, NULL, "bedrock-api-key-" },
	{ "google_oauth", "ya29.", B64URL, 150, NULL, NULL, "ya29." },
	{ "google_api_key", "AIza", B64URL, 35, "x-goog-api-key", "", "AIza" },
	{ "shopify", "shpat_", HEX, 32, "x-shopify-access-token", "", "shpat_" },
	{ "shopify", "shpss_", HEX, 32, NULL, NULL, "shpss_" },
	{ "vault", "hvs.", B64URL, 90, "x-vault-token", "", "hvs." },
	{ "vault", "hvb.", B64URL, 120, NULL, NULL, "hvb." },
	{ "vault", "s.", B62, 24, "x-vault-token", "", "s." },
	{ "huggingface", "hf_", B62, 34, NULL, NULL, "hf_" },
	{ "huggingface", "api_org_", B62, 34, NULL, NULL, "api_org_" },
	{ "databricks", "dapi", HEX, 32, NULL, NULL, "dapi" },
	{ "digitalocean", "dop_v1_", HEX, 64, NULL, NULL, "dop_v1_" },
	{ "digitalocean", "doo_v1_", HEX, 64, NULL, NULL, "doo_v1_" },
	{ "grafana", "glc_", B64, 120, NULL, NULL, "glc_" },
	{ "okta", "", B64URL, 42, NULL, "SSWS", "" },
	{ "linear", "lin_api_", B62, 40, NULL, "", "lin_api_" },
	{ "postman", "PMAK-", HEX, 59, "x-api-key", "", "PMAK-" },
	{ "tailscale", "tskey-auth-", B64URL, 40, NULL, NULL, "tskey-auth-" },
	{ "tailscale", "tskey-api-", B64URL, 40, NULL, "Basic-not", "tskey-api-" },
	{ "docker", "dckr_pat_", B64URL, 27, NULL, NULL, "dckr_pat_" },
	{ "docker", "dckr_oat_", B64URL, 27, NULL, NULL, "dckr_oat_" },
	{ "newrelic", "NRAK-", B62, 27, "x-api-key", "", "NRAK-" },
	{ "newrelic", "NRII-", B64URL, 32, "x-insert-key", "", "NRII-" },
	{ "sentry", "sntryu_", HEX, 64, NULL, NULL, "sntryu_" },
	{ "sentry", "sntrys_", B64, 150, NULL, NULL, "sntrys_" },
	{ "datadog", "", HEX, 32, "dd-api-key", "", "" },
	{ "datadog", "", HEX, 40, "dd-application-key", "", "" },
	{ "atlassian", "ATATT3", B64, 180, NULL, NULL, "ATATT3" },
	{ "pypi", "pypi-AgEIcHlwaS5vcmc", B64URL, 150, NULL, NULL, "pypi-" },
	{ "ai_misc", "xai-", B62, 80, NULL, NULL, "xai-" },
	{ "ai_misc", "gsk_", B62, 52, NULL, NULL, "gsk_" },
	{ "ai_misc", "r8_", B62, 37, NULL, "token", "r8_" },
	{ "ai_misc", "lsv2_pt_", B64URL, 40, "x-api-key", "", "lsv2_pt_" },
	{ "ai_misc", "pplx-", B62, 48, NULL, NULL, "pplx-" },
	{ "ai_misc", "", B62, 32, "xi-api-key", "", "" },
	{ "onepassword", "ops_eyJ", B64, 400, NULL, NULL, "ops_" },
	{ "cloudflare", "cfut_", B64URL, 40, NULL, NULL, "cfut_" },
	{ "azure_apim", "", HEX, 32, "ocp-apim-subscription-key", "", "" },
	{ "azure_sas", "", B64URL, 80, NULL, "SharedAccessSignature", "" },
	{ "azure_sas", "", B64URL, 43, "sig", "", "" },
	{ "azure_sharedkey", "", B62, 12, NULL, "SharedKey", "" },
	{ "azure_sharedkey", "", B62, 12, NULL, "SharedKeyLite", "" },
	{ "azure_apim", "", B62, 44, "x-functions-key", "", "" },
	{ "gitlab_other", "gldt-", B64URL, 20, NULL, NULL, "gldt-" },
	{ "gitlab_other", "glptt-", B64URL, 40, NULL, NULL, "glptt-" },
	{ "gitlab_other", "glft-", B64URL, 20, NULL, NULL, "glft-" },
	{ "gitlab_other", "glagent-", B64URL, 50, NULL, NULL, "glagent-" },
	{ "gitlab_other", "gloas-", B64URL, 64, NULL, NULL, "gloas-" },
	{ "openai", "sk-None-", B64URL, 120, NULL, NULL, "sk-None-" },
	{ "linear", "lin_oauth_", B62, 64, NULL, "", "lin_oauth_" },
	{ "cloudflare", "cfat_", B64URL, 40, NULL, NULL, "cfat_" },
	{ "cloudflare", "", HEX, 37, "x-auth-key", "", "" },
	{ "vault", "hvr.", B64URL, 90, NULL, NULL, "hvr." },
	{ "vault", "", B62, 24, "x-vault-token", "", "" },
	{ "shopify", "shpca_", HEX, 32, NULL, NULL, "shpca_" },
	{ "shopify", "shppa_", HEX, 32, NULL, NULL, "shppa_" },
	{ "digitalocean", "dor_v1_", HEX, 64, NULL, NULL, "dor_v1_" },
	{ "tailscale", "tskey-client-", B64URL, 40, NULL, NULL, "tskey-client-" },
	{ "pypi", "pypi-AgENdGVzdC5weXBpLm9yZw", B64URL, 150, NULL, NULL, "pypi-" },
	{ "ai_misc", "lsv2_sk_", B64URL, 40, NULL, NULL, "lsv2_sk_" },
	{ "slack_bot", "xoxe.xoxb-", B64URL, 140, NULL, NULL, "xoxe.xoxb-" },
	{ "opaque", "", B64URL, 40, NULL, NULL, "" },
	{ "opaque", "", HEX, 32, "x-api-key", "", "" },
};

static void test_prefix_samples(void **state)
{
	char tok[TOK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct token_info t;
		size_t len = build(tok, s->prefix, s->alpha, s->n);
		size_t plen = strlen(s->prefix);

		classify_full(tok, len, s->header, s->scheme, &t);
		/* the index names the failing sample */
		if (strcmp(t.type, s->type) != 0 || strcmp(t.prefix, s->want_prefix) != 0)
			fail_msg("sample %zu: want %s/%s, got %s/%s", i, s->type, s->want_prefix,
				 t.type, t.prefix);
		assert_int_equal(t.length, len);
		assert_false(t.has_checksum);
		assert_null(t.jwt);
		if (strcmp(s->type, "opaque") == 0)
			assert_int_equal(t.confidence, 0);
		else
			assert_true(t.confidence >= 60 && t.confidence <= 90);
		assert_no_secret(&t, tok + plen, len - plen);
		token_info_release(&t);
	}
}

/* The public sample of base62-token.js: CRC32 over the 30 random characters only. */
static void test_github_checksum_known_answer(void **state)
{
	char crc[BASE62_CRC_LEN + 1];

	(void)state;
	base62_encode_crc(checksum_crc32("zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ", 30), crc);
	assert_string_equal(crc, "0mLq17");
	base62_encode_crc(0, crc);
	assert_string_equal(crc, "000000");
	base62_encode_crc(UINT32_MAX, crc);
	assert_string_equal(crc, "4gfFC3");
}

static void test_github_and_npm(void **state)
{
	static const struct { const char *prefix, *type; } kinds[] = {
		{ "ghp_", "github_pat" },  { "gho_", "github_oauth" },
		{ "ghu_", "github_user_app" }, { "ghs_", "github_app_install" },
		{ "ghr_", "github_refresh" }, { "npm_", "npm" },
	};
	char tok[TOK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct token_info t;
		size_t len = build_github(tok, kinds[i].prefix, true);

		classify_full(tok, len, NULL, "token", &t);
		assert_string_equal(t.type, kinds[i].type);
		assert_string_equal(t.prefix, kinds[i].prefix);
		assert_true(t.has_checksum);
		assert_true(t.checksum_valid);
		assert_int_equal(t.confidence, 100);
		assert_no_secret(&t, tok + 4, len - 4);

		len = build_github(tok, kinds[i].prefix, false);
		classify_full(tok, len, NULL, "Bearer", &t);
		assert_string_equal(t.type, kinds[i].type);
		assert_true(t.has_checksum);
		assert_false(t.checksum_valid);
		assert_int_equal(t.confidence, 50);
	}
}

static void test_github_edge_cases(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	/* a non-base62 byte: not a GitHub token at all */
	len = build_github(tok, "ghp_", true);
	tok[10] = '-';
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
	assert_string_equal(t.prefix, "");
	/* other lengths carry no checksum: prefix match only */
	len = build(tok, "ghs_", B62, 60);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "github_app_install");
	assert_false(t.has_checksum);
	assert_int_equal(t.confidence, 80);
	/* too short */
	len = build(tok, "ghp_", B62, 20);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
	/* prefixes are case-sensitive */
	len = build_github(tok, "GHP_", true);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
}

static void test_github_fine_grained(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = build(tok, "github_pat_", B62, 22);
	tok[len++] = '_';
	len += build(tok + len, "", B62, 59);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "github_fine_grained");
	assert_string_equal(t.prefix, "github_pat_");
	assert_int_equal(t.confidence, 90);
	assert_no_secret(&t, tok + 11, len - 11);
	/* no separator where the id ends */
	tok[33] = 'x';
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
}

static void test_grafana_checksum(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = build_grafana(tok, true);
	assert_int_equal(checksum_grafana_sa(tok, len), CHECKSUM_OK);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "grafana");
	assert_string_equal(t.prefix, "glsa_");
	assert_true(t.has_checksum);
	assert_true(t.checksum_valid);
	assert_int_equal(t.confidence, 100);
	assert_no_secret(&t, tok + 5, len - 5);

	len = build_grafana(tok, false);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "grafana");
	assert_true(t.has_checksum);
	assert_false(t.checksum_valid);
	assert_int_equal(t.confidence, 50);
	assert_int_equal(checksum_grafana_sa(tok, len - 1), CHECKSUM_NA);
}

static void test_structured_types(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	/* SendGrid: SG. + 22 + . + 43 */
	len = build(tok, "SG.", B64URL, 22);
	tok[len++] = '.';
	len += build(tok + len, "", B64URL, 43);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "sendgrid");
	assert_string_equal(t.prefix, "SG.");
	assert_no_secret(&t, tok + 3, len - 3);

	/* Terraform: 14 + .atlasv1. + 67 */
	len = build(tok, "", B62, 14);
	memcpy(tok + len, ".atlasv1.", 9);
	len += 9;
	len += build(tok + len, "", B64URL, 67);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "terraform");
	assert_string_equal(t.prefix, "atlasv1");
	assert_no_secret(&t, tok, len);

	/* Legacy OpenAI: sk- + 20 + T3BlbkFJ + 20 */
	len = build(tok, "sk-", B62, 20);
	memcpy(tok + len, "T3BlbkFJ", 8);
	len += 8;
	len += build(tok + len, "", B62, 20);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "openai");
	assert_string_equal(t.prefix, "sk-");
	/* without the marker an sk- string is not OpenAI's */
	memcpy(tok + 23, "XXXXXXXX", 8);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");

	/* Databricks with a -N suffix */
	len = build(tok, "dapi", HEX, 32);
	memcpy(tok + len, "-2", 2);
	len += 2;
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "databricks");

	/* a datadog-looking value outside the datadog headers is opaque */
	len = build(tok, "", HEX, 32);
	classify_full(tok, len, "authorization", "Bearer", &t);
	assert_string_equal(t.type, "opaque");

	/* a JWT by shape */
	snprintf(tok, sizeof(tok), "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.");
	len = strlen(tok);
	len += build(tok + len, "", B64URL, 43);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "jwt");
	assert_string_equal(t.prefix, "");
	assert_non_null(t.jwt);
	token_info_release(&t);
	assert_null(t.jwt);
}

static void test_aws_sigv4(void **state)
{
	struct credential c;
	struct token_info t;
	const char *id = "ASIAY34FZKBOKMUTVV7A";

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "authorization");
	snprintf(c.scheme, sizeof(c.scheme), "AWS4-HMAC-SHA256");
	snprintf(c.aws_region, sizeof(c.aws_region), "eu-west-1");
	snprintf(c.aws_service, sizeof(c.aws_service), "s3");
	c.value = id;
	c.value_len = strlen(id);
	classify_cred(&c, &t);
	assert_string_equal(t.type, "aws_sigv4");
	assert_string_equal(t.key_id, id);
	assert_string_equal(t.aws_key_kind, "temporary");
	assert_string_equal(t.aws_account, "609629065308");
	assert_string_equal(t.aws_region, "eu-west-1");
	assert_string_equal(t.aws_service, "s3");
	assert_int_equal(t.confidence, 90);

	/* AWS documentation's example key id; lowercase scheme too */
	id = "AKIAIOSFODNN7EXAMPLE";
	c.value = id;
	c.value_len = strlen(id);
	snprintf(c.scheme, sizeof(c.scheme), "aws4-hmac-sha256");
	classify_cred(&c, &t);
	assert_string_equal(t.type, "aws_sigv4");
	assert_string_equal(t.aws_key_kind, "long-term");
	assert_string_equal(t.aws_account, "581039954779");

	/* key id + scope (presigned URL parameter) */
	id = "ASIAQNZGKIQY56JQ7WML/20240101/us-east-1/sts/aws4_request";
	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "x-amz-credential");
	c.value = id;
	c.value_len = strlen(id);
	classify_cred(&c, &t);
	assert_string_equal(t.type, "aws_sigv4");
	assert_string_equal(t.key_id, "ASIAQNZGKIQY56JQ7WML");
	assert_string_equal(t.aws_account, "029608264753");

	/* other kinds: no account derivation */
	id = "ABIAQNZGKIQY56JQ7WML";
	c.value = id;
	c.value_len = strlen(id);
	classify_cred(&c, &t);
	assert_string_equal(t.aws_key_kind, "bearer");
	assert_string_equal(t.aws_account, "");
	id = "ACCAQNZGKIQY56JQ7WML";
	c.value = id;
	classify_cred(&c, &t);
	assert_string_equal(t.aws_key_kind, "context");

	/* not a key id: nothing of it is kept */
	id = "not-a-key-id/but/something/else";
	memset(&c, 0, sizeof(c));
	snprintf(c.scheme, sizeof(c.scheme), "AWS4-HMAC-SHA256");
	c.value = id;
	c.value_len = strlen(id);
	classify_cred(&c, &t);
	assert_string_equal(t.type, "aws_sigv4");
	assert_string_equal(t.key_id, "");
	assert_string_equal(t.aws_account, "");
	assert_int_equal(t.confidence, 30);
}

static size_t b64(char *out, const char *plain, size_t len)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)len);
}

static void test_basic(void **state)
{
	char plain[TOK_MAX], enc[TOK_MAX * 2];
	struct token_info t;
	size_t len, n;

	(void)state;
	/* user and a plain password */
	n = (size_t)snprintf(plain, sizeof(plain), "alice:");
	n += build(plain + n, "", B62, 16);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
	assert_string_equal(t.basic_user, "alice");
	assert_string_equal(t.basic_password_type, "opaque");
	assert_string_equal(t.prefix, "");
	assert_false(t.has_checksum);
	assert_no_secret(&t, plain + 6, n - 6);
	assert_no_secret(&t, enc, len);

	/* git over HTTPS: x-access-token:ghp_..., scheme case-insensitive */
	n = (size_t)snprintf(plain, sizeof(plain), "x-access-token:");
	n += build_github(plain + n, "ghp_", true);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "basic", &t);
	/* a known token as the password is that token, sent as Basic */
	assert_string_equal(t.type, "github_pat");
	assert_int_equal(t.length, n - 15);
	assert_string_equal(t.basic_user, "x-access-token");
	assert_string_equal(t.basic_password_type, "github_pat");
	assert_string_equal(t.prefix, "ghp_");
	assert_true(t.has_checksum);
	assert_true(t.checksum_valid);
	assert_no_secret(&t, plain + 19, n - 19);

	/* checksum-invalid password lowers confidence */
	n = (size_t)snprintf(plain, sizeof(plain), "x-access-token:");
	n += build_github(plain + n, "ghp_", false);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.basic_password_type, "github_pat");
	assert_false(t.checksum_valid);
	assert_int_equal(t.confidence, 50);

	/* PyPI upload token */
	n = (size_t)snprintf(plain, sizeof(plain), "__token__:");
	n += build(plain + n, "pypi-AgEIcHlwaS5vcmc", B64URL, 150);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.basic_user, "__token__");
	assert_string_equal(t.basic_password_type, "pypi");
	assert_string_equal(t.prefix, "pypi-");

	/* unprintable user bytes, long user truncated */
	memcpy(plain, "a\x01\xff", 3);
	memset(plain + 3, 'u', 300);
	n = 303;
	plain[n++] = ':';
	n += build(plain + n, "", B62, 20);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_int_equal(strlen(t.basic_user), sizeof(t.basic_user) - 1);
	assert_memory_equal(t.basic_user, "a??uuu", 6);

	/* missing padding is tolerated */
	len = b64(enc, "bob:pwd", 7);
	while (enc[len - 1] == '=')
		len--;
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.basic_user, "bob");

	/* no colon: nothing kept */
	len = b64(enc, "justasecretvalue", 16);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
	assert_string_equal(t.basic_user, "");
	assert_string_equal(t.basic_password_type, "opaque");

	/* not base64 */
	classify_full("!!!notbase64", 12, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
	assert_string_equal(t.basic_user, "");
	assert_int_equal(t.confidence, 30);
	classify_full("YQ=b", 4, NULL, "Basic", &t);
	assert_string_equal(t.basic_user, "");
	classify_full("", 0, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
}

static void test_opaque_fallback(void **state)
{
	struct credential c;
	struct token_info t;
	static const char bin[] = { 0, 1, 2, (char)0xff, (char)0x80, 'g', 'h', 'p', '_' };

	(void)state;
	memset(&c, 0, sizeof(c));
	classify_cred(&c, &t);
	assert_string_equal(t.type, "opaque");
	assert_int_equal(t.length, 0);
	classify_credential(NULL, &test_key, &t);
	assert_string_equal(t.type, "opaque");
	c.value = bin;
	c.value_len = sizeof(bin);
	classify_credential(&c, NULL, &t);
	assert_string_equal(t.type, "opaque");
	assert_int_equal(t.length, sizeof(bin));
	assert_string_equal(t.prefix, "");
	classify_full("ghp_", 4, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
	classify_full("eyJ", 3, NULL, NULL, &t);
	assert_string_equal(t.type, "opaque");
	assert_null(t.jwt);
	token_info_release(&t);
	token_info_release(NULL);
}

/* A checksum-invalid GitHub token is still a GitHub token, with lower confidence. */
static void test_github_checksum_invalid_still_typed(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	len = build_github(tok, "ghp_", false);
	classify_value(tok, len, &t);
	assert_string_equal(t.type, "github_pat");
	assert_string_equal(t.prefix, "ghp_");
	assert_true(t.has_checksum);
	assert_false(t.checksum_valid);
	assert_true(t.confidence < 100);
	assert_no_secret(&t, tok + 4, len - 4);
	len = build_github(tok, "ghp_", true);
	classify_value(tok, len, &t);
	assert_int_equal(t.confidence, 100);
}

/* A key id alone (as in AWS_ACCESS_KEY_ID) classifies as its SigV4 use does. */
static void test_aws_key_id_value(void **state)
{
	static const struct { const char *id, *kind, *account; } ids[] = {
		{ "AKIAIOSFODNN7EXAMPLE", "long-term", "581039954779" },
		{ "ASIAY34FZKBOKMUTVV7A", "temporary", "609629065308" },
		{ "ABIAQNZGKIQY56JQ7WML", "bearer", "" },
		{ "ACCAQNZGKIQY56JQ7WML", "context", "" },
	};
	struct credential c;
	struct token_info t, wire;
	char tok[TOK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		classify_value(ids[i].id, 20, &t);
		assert_string_equal(t.type, "aws_sigv4");
		assert_string_equal(t.key_id, ids[i].id);
		assert_string_equal(t.aws_key_kind, ids[i].kind);
		assert_string_equal(t.aws_account, ids[i].account);
		assert_string_equal(t.prefix, "");
		assert_int_equal(t.confidence, 90);
		assert_false(t.has_checksum);

		/* the same id in a SigV4 header: same type, prefix and metadata */
		memset(&c, 0, sizeof(c));
		snprintf(c.header, sizeof(c.header), "authorization");
		snprintf(c.scheme, sizeof(c.scheme), "AWS4-HMAC-SHA256");
		snprintf(c.aws_region, sizeof(c.aws_region), "us-east-1");
		snprintf(c.aws_service, sizeof(c.aws_service), "sts");
		c.value = ids[i].id;
		c.value_len = 20;
		classify_cred(&c, &wire);
		assert_string_equal(wire.type, t.type);
		assert_string_equal(wire.prefix, t.prefix);
		assert_string_equal(wire.key_id, t.key_id);
		assert_string_equal(wire.aws_account, t.aws_account);
		assert_int_equal(wire.confidence, t.confidence);
		/* the scheme rule still wins: it keeps region and service */
		assert_string_equal(wire.aws_region, "us-east-1");
		assert_string_equal(wire.aws_service, "sts");
	}
	/* the old SigV2 header names its key id too */
	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "authorization");
	snprintf(c.scheme, sizeof(c.scheme), "AWS");
	c.value = ids[0].id;
	c.value_len = 20;
	classify_cred(&c, &t);
	assert_string_equal(t.type, "aws_sigv4");
	assert_string_equal(t.key_id, ids[0].id);

	/* not key ids: wrong length, alphabet, case or kind */
	build(tok, "AKIA", B32, 15);
	classify_value(tok, 19, &t);
	assert_string_equal(t.type, "opaque");
	build(tok, "AKIA", B32, 17);
	classify_value(tok, 21, &t);
	assert_string_equal(t.type, "opaque");
	memcpy(tok, "AKIAIOSFODNN7EXAMPL0", 20);
	classify_value(tok, 20, &t);
	assert_string_equal(t.type, "opaque");
	memcpy(tok, "AKIAIOSFODNN7EXAMPLe", 20);
	classify_value(tok, 20, &t);
	assert_string_equal(t.type, "opaque");
	memcpy(tok, "AXIAIOSFODNN7EXAMPLE", 20);
	classify_value(tok, 20, &t);
	assert_string_equal(t.type, "opaque");
}

static void test_twilio(void **state)
{
	char plain[TOK_MAX], enc[TOK_MAX * 2];
	struct token_info t;
	size_t len, n;

	(void)state;
	/* account SID and auth token */
	n = build(plain, "AC", HEX, 32);
	plain[n++] = ':';
	n += build(plain + n, "", HEX, 32);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "twilio");
	assert_memory_equal(t.basic_user, plain, 34);
	assert_int_equal(strlen(t.basic_user), 34);
	assert_string_equal(t.basic_password_type, "opaque");
	assert_false(t.has_checksum);
	assert_int_equal(t.confidence, 90);
	assert_no_secret(&t, plain + 35, 32);
	assert_no_secret(&t, enc, len);

	/* API key SID and secret */
	n = build(plain, "SK", HEX, 32);
	plain[n++] = ':';
	n += build(plain + n, "", B62, 32);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "twilio");
	assert_memory_equal(t.basic_user, "SK", 2);

	/* not a SID: one hex digit short, or another letter pair */
	n = build(plain, "AC", HEX, 31);
	plain[n++] = ':';
	n += build(plain + n, "", HEX, 32);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
	n = build(plain, "AX", HEX, 32);
	plain[n++] = ':';
	n += build(plain + n, "", HEX, 32);
	len = b64(enc, plain, n);
	classify_full(enc, len, NULL, "Basic", &t);
	assert_string_equal(t.type, "basic");
}

/* A random base64 key of total bytes, the signature at "at", then the padding of its layout. */
static size_t build_azure(char *out, size_t total, size_t at, const char *sig, size_t pad)
{
	build(out, "", B62, at);
	memcpy(out + at, sig, 4);
	build(out + at + 4, "", B64, total - at - 4 - pad);
	memset(out + total - pad, '=', pad);
	out[total] = '\0';
	return total;
}

static void test_azure_identifiable_keys(void **state)
{
	static const struct {
		const char *header, *sig;
		size_t len, at, pad;
	} keys[] = {
		{ "ocp-apim-subscription-key", "APIM", 88, 76, 2 },
		{ "x-functions-key", "AzFu", 56, 44, 2 },
		{ "api-key", "AzSe", 52, 42, 0 },
		{ "api-key", "+ACR", 52, 42, 0 },
		{ "api-key", "+ASb", 44, 33, 1 },
		{ "ocp-apim-subscription-key", "+ASt", 88, 76, 2 },
	};
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		len = build_azure(tok, keys[i].len, keys[i].at, keys[i].sig, keys[i].pad);
		classify_full(tok, len, keys[i].header, "", &t);
		if (strcmp(t.type, "azure_apim") != 0)
			fail_msg("key %zu: got %s", i, t.type);
		assert_string_equal(t.azure_signature, keys[i].sig);
		assert_false(t.has_checksum);
		assert_int_equal(t.confidence, 90);
		assert_string_equal(t.prefix, "");
		assert_no_secret(&t, tok, keys[i].at);
		/* only in the headers that carry them */
		classify_full(tok, len, NULL, NULL, &t);
		assert_string_not_equal(t.type, "azure_apim");
	}
	/* the signature in the wrong place, or a stray '=' */
	len = build_azure(tok, 88, 75, "APIM", 2);
	classify_full(tok, len, "api-key", "", &t);
	assert_string_equal(t.type, "opaque");
	len = build_azure(tok, 56, 44, "AzFu", 2);
	tok[10] = '=';
	classify_full(tok, len, "api-key", "", &t);
	assert_string_equal(t.type, "opaque");
	/* api-key is generic: without a signature it says nothing */
	len = build(tok, "", HEX, 32);
	classify_full(tok, len, "api-key", "", &t);
	assert_string_equal(t.type, "opaque");
	/* the subscription-key header alone still names APIM, with less confidence */
	classify_full(tok, len, "ocp-apim-subscription-key", "", &t);
	assert_string_equal(t.type, "azure_apim");
	assert_string_equal(t.azure_signature, "");
	assert_int_equal(t.confidence, 60);
}

/* base64url without padding */
static size_t b64url(char *out, const char *plain)
{
	size_t n = b64(out, plain, strlen(plain));

	for (size_t i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	return n;
}

static size_t make_jwt(char *out, const char *header, const char *payload, bool signature)
{
	size_t n = b64url(out, header);

	out[n++] = '.';
	n += b64url(out + n, payload);
	out[n++] = '.';
	if (signature)
		n += build(out + n, "", B64URL, 43);
	out[n] = '\0';
	return n;
}

static struct json_object *jget(struct json_object *o, const char *name)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, name, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *name)
{
	struct json_object *v = jget(o, name);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "(none)";
}

static void test_jwt_types(void **state)
{
	char tok[TOK_MAX];
	struct token_info t;
	size_t len;

	(void)state;
	/* legacy service account token: fixed issuer, no exp */
	len = make_jwt(tok, "{\"alg\":\"RS256\"}",
		       "{\"iss\":\"kubernetes/serviceaccount\","
		       "\"kubernetes.io/serviceaccount/namespace\":\"ci\","
		       "\"kubernetes.io/serviceaccount/service-account.name\":\"deployer\","
		       "\"sub\":\"system:serviceaccount:ci:deployer\"}", true);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "k8s_serviceaccount");
	assert_string_equal(jstr(t.jwt, "k8s_namespace"), "ci");
	assert_string_equal(jstr(t.jwt, "k8s_service_account"), "deployer");
	assert_true(json_object_get_boolean(jget(t.jwt, "k8s_legacy")));
	assert_null(jget(t.jwt, "sub"));
	token_info_release(&t);

	/* bound token: kubernetes.io claim with namespace, service account, pod */
	len = make_jwt(tok, "{\"alg\":\"RS256\",\"kid\":\"k\"}",
		       "{\"iss\":\"https://kubernetes.default.svc\","
		       "\"exp\":4000000000,\"iat\":3999996400,"
		       "\"kubernetes.io\":{\"namespace\":\"shop\",\"pod\":{\"name\":\"cart-1\"},"
		       "\"serviceaccount\":{\"name\":\"cart\"}},\"sub\":\"s\"}", true);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "k8s_serviceaccount");
	assert_string_equal(jstr(t.jwt, "k8s_namespace"), "shop");
	assert_string_equal(jstr(t.jwt, "k8s_service_account"), "cart");
	assert_string_equal(jstr(t.jwt, "k8s_pod"), "cart-1");
	assert_false(json_object_get_boolean(jget(t.jwt, "k8s_legacy")));
	token_info_release(&t);

	/* Entra ID, delegated (scp) */
	len = make_jwt(tok, "{\"alg\":\"RS256\"}",
		       "{\"iss\":\"https://login.microsoftonline.com/t-1/v2.0\",\"tid\":\"t-1\","
		       "\"azp\":\"client-1\",\"scp\":\"User.Read Mail.Send\","
		       "\"name\":\"Some One\"}", true);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "azure_entra");
	assert_string_equal(jstr(t.jwt, "tid"), "t-1");
	assert_string_equal(jstr(t.jwt, "azp"), "client-1");
	assert_string_equal(jstr(t.jwt, "scp"), "User.Read Mail.Send");
	assert_null(jget(t.jwt, "roles"));
	assert_null(jget(t.jwt, "name"));
	token_info_release(&t);

	/* Entra ID, application (roles) */
	len = make_jwt(tok, "{\"alg\":\"RS256\"}",
		       "{\"iss\":\"https://sts.windows.net/t-2/\",\"tid\":\"t-2\","
		       "\"appid\":\"app-2\","
		       "\"roles\":[\"Sites.Read.All\"]}", true);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "azure_entra");
	assert_string_equal(jstr(t.jwt, "appid"), "app-2");
	assert_non_null(jget(t.jwt, "roles"));
	assert_null(jget(t.jwt, "scp"));
	token_info_release(&t);

	/* alg none: nothing of the payload is kept */
	len = make_jwt(tok, "{\"alg\":\"none\"}",
		       "{\"iss\":\"https://sts.windows.net/t-3/\",\"tid\":\"t-3\"}", false);
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "jwt");
	assert_string_equal(json_object_to_json_string_ext(t.jwt, JSON_C_TO_STRING_PLAIN),
			    "{\"alg\":\"none\"}");
	token_info_release(&t);

	/* five segments: encrypted, not decoded */
	len = b64url(tok, "{\"alg\":\"dir\",\"enc\":\"A128GCM\"}");
	memcpy(tok + len, "..aXZpdg.Y2lwaGVydGV4dA.dGFn", 28);
	len += 28;
	tok[len] = '\0';
	classify_full(tok, len, NULL, NULL, &t);
	assert_string_equal(t.type, "jwt");
	assert_string_equal(json_object_to_json_string_ext(t.jwt, JSON_C_TO_STRING_PLAIN),
			    "{\"jwe\":true}");
	token_info_release(&t);
}

/* classify_find_prefixed on s; off and n are set only when found. */
static bool find(const char *s, size_t len, size_t *off, size_t *n)
{
	*off = *n = (size_t)-1;
	return classify_find_prefixed(s, len, off, n);
}

static void test_find_prefixed(void **state)
{
	char tok[TOK_MAX], text[TOK_MAX * 2], jwt[TOK_MAX];
	size_t len, tl, off, n;

	(void)state;
	len = build_github(tok, "ghp_", true);

	/* alone, after a scheme, inside a URL, after an option, in quotes */
	assert_true(find(tok, len, &off, &n));
	assert_int_equal(off, 0);
	assert_int_equal(n, len);
	tl = (size_t)snprintf(text, sizeof(text), "Bearer %s", tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 7);
	assert_int_equal(n, len);
	tl = (size_t)snprintf(text, sizeof(text), "https://x-access-token:%s@github.com/o/r.git",
			      tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 23);
	assert_int_equal(n, len);
	tl = (size_t)snprintf(text, sizeof(text), "--token=%s", tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 8);
	tl = (size_t)snprintf(text, sizeof(text), "{\"token\":\"%s\"}", tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 10);
	assert_int_equal(n, len);

	/* not at a boundary, or running on into a longer word */
	tl = (size_t)snprintf(text, sizeof(text), "xghp_%s", tok + 4);
	assert_false(find(text, tl, &off, &n));
	tl = (size_t)snprintf(text, sizeof(text), "a-%s", tok);
	assert_false(find(text, tl, &off, &n));
	tl = (size_t)snprintf(text, sizeof(text), "%s-x", tok);
	assert_false(find(text, tl, &off, &n));
	tl = (size_t)snprintf(text, sizeof(text), "%s.", tok);
	assert_false(find(text, tl, &off, &n));

	/* checksum-invalid tokens are still found */
	len = build_github(tok, "npm_", false);
	tl = (size_t)snprintf(text, sizeof(text), "//registry.npmjs.org/:_authToken=%s", tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(n, len);

	/* AWS key ids, exactly 20 characters */
	tl = (size_t)snprintf(text, sizeof(text), "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 20);
	assert_int_equal(n, 20);
	tl = (size_t)snprintf(text, sizeof(text), "AKIAIOSFODNN7EXAMPLEX");
	assert_false(find(text, tl, &off, &n));
	tl = (size_t)snprintf(text, sizeof(text), "AKIAIOSFODNN7EXAMPLe");
	assert_false(find(text, tl, &off, &n));

	/* a JWT in text (its dots are part of it) */
	len = make_jwt(jwt, "{\"alg\":\"HS256\"}", "{\"iss\":\"x\"}", true);
	tl = (size_t)snprintf(text, sizeof(text), "Authorization: Bearer %s", jwt);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 22);
	assert_int_equal(n, len);
	/* two segments only: not a JWT */
	tl = (size_t)snprintf(text, sizeof(text), "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0");
	assert_false(find(text, tl, &off, &n));

	/* a base64 token may contain '/' and '+' */
	len = build(tok, "glc_", B64, 80);
	tl = (size_t)snprintf(text, sizeof(text), "key: %s ", tok);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 5);
	assert_int_equal(n, len);

	/* the first of several, then the next */
	len = build(tok, "xoxb-", B64URL, 40);
	tl = (size_t)snprintf(text, sizeof(text), "a=%s b=", tok);
	tl += build_github(text + tl, "ghs_", true);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 2);
	assert_int_equal(n, len);
	tl -= off + n;
	memmove(text, text + off + n, tl);
	assert_true(find(text, tl, &off, &n));
	assert_int_equal(off, 3);
	assert_int_equal(n, 40);

	/* a prefix alone, or too short: nothing */
	assert_false(find("sk-", 3, &off, &n));
	assert_false(find("use sk- keys", 12, &off, &n));
	assert_false(find("ghp_", 4, &off, &n));
	assert_false(find("AKIA", 4, &off, &n));
	assert_false(find("eyJ", 3, &off, &n));
	assert_false(find("hf_abc", 6, &off, &n));
	assert_false(find("", 0, &off, &n));
	assert_false(classify_find_prefixed(NULL, 5, &off, &n));
	assert_false(classify_find_prefixed("ghp_", 4, NULL, &n));

	/* only prefix rules: header-bound, scheme-bound and prefix-less rules are not guessed */
	len = build(tok, "s.", B62, 24);
	assert_false(find(tok, len, &off, &n));
	len = build(tok, "", HEX, 32);
	assert_false(find(tok, len, &off, &n));
	len = build(tok, "", B62, 14);
	memcpy(tok + len, ".atlasv1.", 9);
	len += 9;
	len += build(tok + len, "", B64URL, 67);
	assert_false(find(tok, len, &off, &n));
	len = build_azure(tok, 88, 76, "APIM", 2);
	assert_false(find(tok, len, &off, &n));
	/* long random hex and base64 */
	for (size_t k = 0; k < 50; k++) {
		len = build(tok, "", k % 2 ? HEX : B64, 200 + k * 10);
		if (find(tok, len, &off, &n))
			fail_msg("random string %zu matched at %zu", k, off);
	}
}

/* Long adversarial inputs stay fast: candidates are not walked again and again. */
static void test_find_prefixed_linear(void **state)
{
	static const char *const patterns[] = { "glc_/", "sk-ant-api03-/", "eyJ. ", "A", "ABSK+" };
	const size_t len = 1 << 20;
	char *s = malloc(len);
	size_t off, n;

	(void)state;
	assert_non_null(s);
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		size_t pl = strlen(patterns[p]);

		for (size_t i = 0; i < len; i++)
			s[i] = patterns[p][i % pl];
		/* a word byte outside every alphabet at the end: no run ends on a boundary */
		s[len - 1] = '.';
		if (classify_find_prefixed(s, len, &off, &n))
			fail_msg("pattern %zu matched at %zu", p, off);
	}
	free(s);
}

static void test_every_type_covered(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TYPES; i++)
		if (!type_seen[i])
			fail_msg("no test produced type %s", all_types[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_samples),
		cmocka_unit_test(test_github_checksum_known_answer),
		cmocka_unit_test(test_github_and_npm),
		cmocka_unit_test(test_github_edge_cases),
		cmocka_unit_test(test_github_fine_grained),
		cmocka_unit_test(test_grafana_checksum),
		cmocka_unit_test(test_structured_types),
		cmocka_unit_test(test_aws_sigv4),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_opaque_fallback),
		cmocka_unit_test(test_github_checksum_invalid_still_typed),
		cmocka_unit_test(test_aws_key_id_value),
		cmocka_unit_test(test_twilio),
		cmocka_unit_test(test_azure_identifiable_keys),
		cmocka_unit_test(test_jwt_types),
		cmocka_unit_test(test_find_prefixed),
		cmocka_unit_test(test_find_prefixed_linear),
		/* last: every type id was produced above */
		cmocka_unit_test(test_every_type_covered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
