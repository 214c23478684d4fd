/* SPDX-License-Identifier: Apache-2.0 */
#include "classify.h"
#include "wipe.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "checksum.h"
#include "jwt.h"
#include "text.h"
#include "token_types.h"

/* Confidence that the credential is of the reported type. */
#define CONF_CHECKSUM_OK 100
#define CONF_STRUCTURE 90  /* exact length and layout, no checksum */
#define CONF_PREFIX 80     /* prefix and alphabet only */
#define CONF_SCHEME 70     /* only the auth scheme says so */
#define CONF_HEADER 60     /* only the header name says so */
#define CONF_CHECKSUM_BAD 50
#define CONF_MALFORMED 30

#define DEFAULT_MAX_LEN 4096

/* The bytes allowed after a rule's prefix. */
enum alphabet {
	AL_ANY = 0,  /* any byte */
	AL_BASE62,   /* A-Z a-z 0-9 */
	AL_WORD,     /* base62 and _ */
	AL_HEX,      /* 0-9 a-f A-F */
	AL_B64URL,   /* base62 - _ */
	AL_TOKEN,    /* base62 - _ . */
	AL_B64,      /* base62 + / = - _ (either base64 flavour) */
	AL_BASE32,   /* A-Z 2-7 (RFC 4648) */
	AL_COUNT,
};

struct rule {
	enum token_type_id type; /* its entry in token_types.c */
	const char *header;    /* only in this header or query parameter (lowercase), or NULL */
	const char *scheme;    /* only with this auth scheme (case-insensitive), or NULL */
	const char *prefix;    /* the value starts with this, or NULL */
	size_t min_len;        /* of the whole value */
	size_t max_len;        /* 0: DEFAULT_MAX_LEN */
	enum alphabet alpha;   /* of the bytes after the prefix */
	/* further layout test; false means the rule does not apply */
	bool (*match)(const char *v, size_t len);
	enum checksum_result (*checksum)(const char *v, size_t len);
	/* fills type-specific fields; may change type and confidence */
	void (*meta)(const struct credential *c, const struct fp_key *key, struct token_info *out);
	const char *keep;      /* non-secret prefix to report; NULL: prefix */
	int confidence;        /* without a checksum; 0: CONF_PREFIX */
};

static bool match_fine_grained(const char *v, size_t len);
static bool match_openai_legacy(const char *v, size_t len);
static bool match_sendgrid(const char *v, size_t len);
static bool match_databricks(const char *v, size_t len);
static bool match_terraform(const char *v, size_t len);
static bool match_jwt(const char *v, size_t len);
static bool match_azure_key(const char *v, size_t len);
static void meta_aws(const struct credential *c, const struct fp_key *key, struct token_info *out);
static void meta_basic(const struct credential *c, const struct fp_key *key, struct token_info *out);
static void meta_jwt(const struct credential *c, const struct fp_key *key, struct token_info *out);
static void meta_azure_key(const struct credential *c, const struct fp_key *key,
			   struct token_info *out);

/* A prefix-only rule: type, prefix, minimum and maximum length, alphabet. */
#define P(t, p, lo, hi, al) { .type = t, .prefix = p, .min_len = lo, .max_len = hi, .alpha = al }
/* The same, reporting a shorter non-secret prefix. */
#define PK(t, p, k, lo, hi, al) { .type = t, .prefix = p, .keep = k, .min_len = lo, .max_len = hi, .alpha = al }
/* GitHub classic and npm: prefix + 36 base62, CRC32 (other lengths: no checksum). */
#define GH(t, p) { .type = t, .prefix = p, .min_len = 40, .max_len = 255, .alpha = AL_BASE62, \
		   .checksum = checksum_github }
/*
 * AWS access key id: kind + 16 base32. Reported like the key id of a SigV4
 * header (no prefix, meta_aws), so a key id held by a process and the same
 * id on the wire classify alike.
 */
#define AWS_KEY_ID(p) { .type = TYPE_AWS_SIGV4, .prefix = p, .keep = "", .min_len = 20, \
			.max_len = 20, .alpha = AL_BASE32, .meta = meta_aws }
/* Azure identifiable key in one of the headers that carry them (signature inside the value). */
#define AZURE_KEY(h) { .type = TYPE_AZURE_APIM, .header = h, .min_len = 44, .max_len = 88, \
		       .alpha = AL_B64, .match = match_azure_key, .meta = meta_azure_key, \
		       .confidence = CONF_STRUCTURE }

/*
 * First match wins: scheme- and header-bound rules first, then prefixes
 * (a prefix before any shorter prefix it extends), then header-only
 * guesses. A rule names its type's entry in token_types.c.
 */
static const struct rule rules[] = {
	{ .type = TYPE_AWS_SIGV4, .scheme = "AWS4-HMAC-SHA256", .min_len = 1, .meta = meta_aws },
	{ .type = TYPE_AWS_SIGV4, .header = "x-amz-credential", .min_len = 16, .meta = meta_aws },
	{ .type = TYPE_BASIC, .scheme = "Basic", .min_len = 0, .meta = meta_basic },
	{ .type = TYPE_OKTA, .scheme = "SSWS", .min_len = 1, .confidence = CONF_SCHEME },
	{ .type = TYPE_AZURE_SAS, .scheme = "SharedAccessSignature", .min_len = 1,
	  .confidence = CONF_SCHEME },
	{ .type = TYPE_AZURE_SHAREDKEY, .scheme = "SharedKey", .min_len = 1,
	  .confidence = CONF_SCHEME },
	{ .type = TYPE_AZURE_SHAREDKEY, .scheme = "SharedKeyLite", .min_len = 1,
	  .confidence = CONF_SCHEME },
	/* a SAS in a URL: only its sig parameter is extracted */
	{ .type = TYPE_AZURE_SAS, .header = "sig", .min_len = 1, .confidence = CONF_HEADER },
	AZURE_KEY("ocp-apim-subscription-key"),
	AZURE_KEY("x-functions-key"),
	AZURE_KEY("api-key"),
	/* path credentials: path_token.c checked their shape, the name says which */
	{ .type = TYPE_TELEGRAM_BOT, .header = "telegram-bot-path", .min_len = 1,
	  .confidence = CONF_STRUCTURE },
	{ .type = TYPE_SLACK_WEBHOOK, .header = "slack-webhook-path", .min_len = 1,
	  .confidence = CONF_STRUCTURE },
	{ .type = TYPE_DISCORD_WEBHOOK, .header = "discord-webhook-path", .min_len = 1,
	  .confidence = CONF_STRUCTURE },
	{ .type = TYPE_DATADOG, .header = "dd-api-key", .min_len = 32, .max_len = 32,
	  .alpha = AL_HEX },
	{ .type = TYPE_DATADOG, .header = "dd-application-key", .min_len = 40, .max_len = 40,
	  .alpha = AL_HEX },

	GH(TYPE_GITHUB_PAT, "ghp_"),
	GH(TYPE_GITHUB_OAUTH, "gho_"),
	GH(TYPE_GITHUB_USER_APP, "ghu_"),
	GH(TYPE_GITHUB_APP_INSTALL, "ghs_"),
	GH(TYPE_GITHUB_REFRESH, "ghr_"),
	{ .type = TYPE_GITHUB_FINE_GRAINED, .prefix = "github_pat_", .min_len = 93, .max_len = 93,
	  .alpha = AL_WORD, .match = match_fine_grained, .confidence = CONF_STRUCTURE },
	GH(TYPE_NPM, "npm_"),

	{ .type = TYPE_GRAFANA, .prefix = "glsa_", .min_len = 46, .max_len = 46, .alpha = AL_WORD,
	  .checksum = checksum_grafana_sa },
	/* glc_ decodes to JSON holding the secret: matched, never decoded */
	P(TYPE_GRAFANA, "glc_", 20, 0, AL_B64),
	P(TYPE_GITLAB_PAT, "glpat-", 26, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glcbt-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glrt-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "gldt-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glptt-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glft-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glagent-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "gloas-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glimt-", 20, 0, AL_TOKEN),
	P(TYPE_GITLAB_OTHER, "glsoat-", 20, 0, AL_TOKEN),

	/* rotating tokens: "xoxe." + the token they replace */
	P(TYPE_SLACK_USER, "xoxe.xoxp-", 20, 0, AL_TOKEN),
	P(TYPE_SLACK_BOT, "xoxe.xoxb-", 20, 0, AL_TOKEN),
	P(TYPE_SLACK_REFRESH, "xoxe-", 20, 0, AL_TOKEN),
	P(TYPE_SLACK_BOT, "xoxb-", 15, 0, AL_TOKEN),
	P(TYPE_SLACK_USER, "xoxp-", 15, 0, AL_TOKEN),
	P(TYPE_SLACK_APP, "xapp-", 15, 0, AL_TOKEN),

	P(TYPE_STRIPE, "sk_live_", 18, 0, AL_BASE62),
	P(TYPE_STRIPE, "sk_test_", 18, 0, AL_BASE62),
	P(TYPE_STRIPE, "rk_live_", 18, 0, AL_BASE62),
	P(TYPE_STRIPE, "rk_test_", 18, 0, AL_BASE62),

	/* Anthropic before OpenAI's legacy "sk-" */
	P(TYPE_ANTHROPIC, "sk-ant-admin01-", 40, 0, AL_B64URL),
	P(TYPE_ANTHROPIC, "sk-ant-api03-", 40, 0, AL_B64URL),
	P(TYPE_ANTHROPIC, "sk-ant-", 40, 0, AL_B64URL),
	P(TYPE_OPENAI, "sk-proj-", 40, 0, AL_B64URL),
	P(TYPE_OPENAI, "sk-svcacct-", 40, 0, AL_B64URL),
	P(TYPE_OPENAI, "sk-admin-", 40, 0, AL_B64URL),
	P(TYPE_OPENAI, "sk-None-", 40, 0, AL_B64URL),
	{ .type = TYPE_OPENAI, .prefix = "sk-", .min_len = 40, .alpha = AL_B64URL,
	  .match = match_openai_legacy },

	P(TYPE_AWS_BEDROCK, "bedrock-api-key-", 40, 0, AL_B64),
	P(TYPE_AWS_BEDROCK, "ABSK", 40, 0, AL_B64),
	AWS_KEY_ID("AKIA"),
	AWS_KEY_ID("ASIA"),
	AWS_KEY_ID("ABIA"),
	AWS_KEY_ID("ACCA"),
	P(TYPE_GOOGLE_OAUTH, "ya29.", 20, 0, AL_TOKEN),
	{ .type = TYPE_GOOGLE_API_KEY, .prefix = "AIza", .min_len = 39, .max_len = 39,
	  .alpha = AL_B64URL, .confidence = CONF_STRUCTURE },
	{ .type = TYPE_SENDGRID, .prefix = "SG.", .min_len = 69, .max_len = 69, .alpha = AL_TOKEN,
	  .match = match_sendgrid, .confidence = CONF_STRUCTURE },
	P(TYPE_SHOPIFY, "shpat_", 38, 38, AL_HEX),
	P(TYPE_SHOPIFY, "shpca_", 38, 38, AL_HEX),
	P(TYPE_SHOPIFY, "shppa_", 38, 38, AL_HEX),
	P(TYPE_SHOPIFY, "shpss_", 38, 38, AL_HEX),
	P(TYPE_VAULT, "hvs.", 20, 0, AL_TOKEN),
	P(TYPE_VAULT, "hvb.", 20, 0, AL_TOKEN),
	P(TYPE_VAULT, "hvr.", 20, 0, AL_TOKEN),
	{ .type = TYPE_VAULT, .header = "x-vault-token", .prefix = "s.", .min_len = 20,
	  .alpha = AL_TOKEN },
	P(TYPE_HUGGINGFACE, "hf_", 30, 64, AL_BASE62),
	P(TYPE_HUGGINGFACE, "api_org_", 30, 64, AL_BASE62),
	{ .type = TYPE_DATABRICKS, .prefix = "dapi", .min_len = 36, .max_len = 40,
	  .alpha = AL_B64URL, .match = match_databricks },
	P(TYPE_DIGITALOCEAN, "dop_v1_", 71, 71, AL_HEX),
	P(TYPE_DIGITALOCEAN, "doo_v1_", 71, 71, AL_HEX),
	P(TYPE_DIGITALOCEAN, "dor_v1_", 71, 71, AL_HEX),
	P(TYPE_LINEAR, "lin_api_", 40, 0, AL_BASE62),
	P(TYPE_LINEAR, "lin_oauth_", 40, 0, AL_BASE62),
	P(TYPE_POSTMAN, "PMAK-", 30, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-api-", 20, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-auth-", 20, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-client-", 20, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-scim-", 20, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-webhook-", 20, 0, AL_B64URL),
	P(TYPE_TAILSCALE, "tskey-", 20, 0, AL_B64URL),
	P(TYPE_DOCKER, "dckr_pat_", 20, 0, AL_B64URL),
	P(TYPE_DOCKER, "dckr_oat_", 20, 0, AL_B64URL),
	P(TYPE_NEWRELIC, "NRAK-", 20, 0, AL_BASE62),
	P(TYPE_NEWRELIC, "NRII-", 20, 0, AL_B64URL),
	P(TYPE_SENTRY, "sntryu_", 20, 0, AL_HEX),
	P(TYPE_SENTRY, "sntrys_", 20, 0, AL_B64),
	P(TYPE_CLOUDFLARE, "cfut_", 20, 0, AL_B64URL),
	P(TYPE_CLOUDFLARE, "cfat_", 20, 0, AL_B64URL),
	P(TYPE_ATLASSIAN, "ATATT3", 50, 0, AL_B64),
	/* The base64 after "pypi-" is a constant macaroon header naming the index. */
	PK(TYPE_PYPI, "pypi-AgEIcHlwaS5vcmc", "pypi-", 50, 0, AL_B64URL),
	PK(TYPE_PYPI, "pypi-AgENdGVzdC5weXBpLm9yZw", "pypi-", 50, 0, AL_B64URL),
	P(TYPE_AI_MISC, "xai-", 20, 0, AL_B64URL),
	P(TYPE_AI_MISC, "gsk_", 20, 0, AL_B64URL),
	P(TYPE_AI_MISC, "r8_", 20, 0, AL_B64URL),
	P(TYPE_AI_MISC, "lsv2_pt_", 20, 0, AL_B64URL),
	P(TYPE_AI_MISC, "lsv2_sk_", 20, 0, AL_B64URL),
	P(TYPE_AI_MISC, "pplx-", 20, 0, AL_B64URL),
	/* the payload after ops_ holds secret material: never decoded */
	PK(TYPE_ONEPASSWORD, "ops_eyJ", "ops_", 50, 0, AL_B64),
	{ .type = TYPE_TERRAFORM, .min_len = 80, .alpha = AL_TOKEN, .match = match_terraform,
	  .keep = "atlasv1", .confidence = CONF_STRUCTURE },
	{ .type = TYPE_JWT, .prefix = "eyJ", .keep = "", .min_len = 5, .max_len = JWT_MAX_LEN,
	  .alpha = AL_TOKEN, .match = match_jwt, .meta = meta_jwt, .confidence = CONF_STRUCTURE },

	{ .type = TYPE_VAULT, .header = "x-vault-token", .min_len = 1, .confidence = CONF_HEADER },
	{ .type = TYPE_AZURE_APIM, .header = "ocp-apim-subscription-key", .min_len = 1,
	  .confidence = CONF_HEADER },
	{ .type = TYPE_AZURE_APIM, .header = "x-functions-key", .min_len = 1,
	  .confidence = CONF_HEADER },
	{ .type = TYPE_CLOUDFLARE, .header = "x-auth-key", .min_len = 1,
	  .confidence = CONF_HEADER },
	{ .type = TYPE_AI_MISC, .header = "xi-api-key", .min_len = 1, .confidence = CONF_HEADER },
};

static bool in_alphabet(unsigned char ch, enum alphabet a)
{
	bool alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

	switch (a) {
	case AL_ANY:
		return true;
	case AL_BASE62:
		return alnum;
	case AL_WORD:
		return alnum || ch == '_';
	case AL_HEX:
		return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
	case AL_B64URL:
		return alnum || ch == '-' || ch == '_';
	case AL_TOKEN:
		return alnum || ch == '-' || ch == '_' || ch == '.';
	case AL_B64:
		return alnum || ch == '+' || ch == '/' || ch == '=' || ch == '-' || ch == '_';
	case AL_BASE32:
		return (ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7');
	case AL_COUNT:
		break;
	}
	return false;
}

static bool all_in(const char *v, size_t len, enum alphabet a)
{
	for (size_t i = 0; i < len; i++)
		if (!in_alphabet((unsigned char)v[i], a))
			return false;
	return true;
}

static bool has_prefix(const char *v, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(v, prefix, n) == 0;
}

/* github_pat_ + 22 base62 (id) + "_" + 59 base62 */
static bool match_fine_grained(const char *v, size_t len)
{
	const size_t p = sizeof("github_pat_") - 1;

	return len == p + 82 && v[p + 22] == '_' && all_in(v + p, 22, AL_BASE62) &&
	       all_in(v + p + 23, 59, AL_BASE62);
}

/* Legacy OpenAI keys embed base64("openai") as "T3BlbkFJ". */
static bool match_openai_legacy(const char *v, size_t len)
{
	return memmem(v, len, "T3BlbkFJ", 8) != NULL;
}

/* SG. + 22 (key id) + . + 43 */
static bool match_sendgrid(const char *v, size_t len)
{
	return len == 69 && v[25] == '.' && all_in(v + 3, 22, AL_B64URL) && all_in(v + 26, 43, AL_B64URL);
}

/* dapi + 32 hex, optionally "-" + digits */
static bool match_databricks(const char *v, size_t len)
{
	if (!all_in(v + 4, 32, AL_HEX))
		return false;
	if (len == 36)
		return true;
	if (v[36] != '-')
		return false;
	for (size_t i = 37; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return len > 37;
}

/* 14 alphanumerics (token id) + ".atlasv1." + the secret */
static bool match_terraform(const char *v, size_t len)
{
	static const char mark[] = ".atlasv1.";

	return len > 14 + sizeof(mark) - 1 + 40 && all_in(v, 14, AL_BASE62) &&
	       memcmp(v + 14, mark, sizeof(mark) - 1) == 0 &&
	       all_in(v + 14 + sizeof(mark) - 1, len - 14 - (sizeof(mark) - 1), AL_B64URL);
}

static bool match_jwt(const char *v, size_t len)
{
	return jwt_shape(v, len) != JWT_NONE;
}

/*
 * Azure "identifiable" keys carry a fixed 4-character signature naming
 * the service at a fixed place of a fixed-length base64 key, then a
 * checksum (Marvin32, not verified here) and the padding of the key's
 * byte length (Microsoft security-utilities, IdentifiableMetadata).
 */
static const struct azure_sig {
	size_t len;        /* of the whole key */
	size_t at;         /* offset of the signature */
	const char *sig;
	size_t pad;        /* trailing '=' */
} azure_sigs[] = {
	{ 88, 76, "APIM", 2 }, /* API Management */
	{ 88, 76, "ACDb", 2 }, /* Cosmos DB */
	{ 88, 76, "+ABa", 2 }, /* Batch */
	{ 88, 76, "+AMC", 2 }, /* Machine Learning classic */
	{ 88, 76, "+ASt", 2 }, /* Storage */
	{ 56, 44, "AzFu", 2 }, /* Functions */
	{ 52, 42, "AzSe", 0 }, /* Cognitive Search */
	{ 52, 42, "+ACR", 0 }, /* Container Registry */
	{ 44, 33, "AzCa", 1 }, /* Cache for Redis */
	{ 44, 33, "AIoT", 1 }, /* IoT */
	{ 44, 33, "+ASb", 1 }, /* Service Bus */
	{ 44, 33, "+AEh", 1 }, /* Event Hubs */
	{ 44, 33, "+ARm", 1 }, /* Relay */
};

static const struct azure_sig *azure_key_sig(const char *v, size_t len)
{
	for (size_t i = 0; i < sizeof(azure_sigs) / sizeof(azure_sigs[0]); i++) {
		const struct azure_sig *s = &azure_sigs[i];
		bool padded = true;

		if (len != s->len || memcmp(v + s->at, s->sig, 4) != 0)
			continue;
		for (size_t k = 0; k < s->pad; k++)
			padded = padded && v[len - 1 - k] == '=';
		/* '=' only as padding */
		if (padded && !memchr(v, '=', len - s->pad))
			return s;
	}
	return NULL;
}

static bool match_azure_key(const char *v, size_t len)
{
	return azure_key_sig(v, len) != NULL;
}

/* Fixed-size field copies cannot be compared without a bound. */
static bool field_eq(const char *field, size_t cap, const char *want)
{
	size_t n = strnlen(field, cap);

	return n == strlen(want) && strncasecmp(field, want, n) == 0;
}

static const struct rule *find_rule(const struct credential *c, const char *v, size_t len)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		size_t plen = r->prefix ? strlen(r->prefix) : 0;
		size_t max = r->max_len ? r->max_len : DEFAULT_MAX_LEN;

		if (r->header && !field_eq(c->header, sizeof(c->header), r->header))
			continue;
		if (r->scheme && !field_eq(c->scheme, sizeof(c->scheme), r->scheme))
			continue;
		if (len < r->min_len || len > max || len < plen)
			continue;
		if (r->prefix && !has_prefix(v, len, r->prefix))
			continue;
		if (!all_in(v + plen, len - plen, r->alpha))
			continue;
		if (r->match && !r->match(v, len))
			continue;
		return r;
	}
	return NULL;
}

/* The non-secret prefix a rule reports. */
static const char *rule_keep(const struct rule *r)
{
	return r->keep ? r->keep : r->prefix ? r->prefix : "";
}

/* Sets type, prefix, checksum and confidence from a matched rule. */
static void apply_rule(const struct rule *r, const char *v, size_t len, struct token_info *out)
{
	snprintf(out->type, sizeof(out->type), "%s", token_type_id_str(r->type));
	snprintf(out->prefix, sizeof(out->prefix), "%s", rule_keep(r));
	out->confidence = r->confidence ? r->confidence : CONF_PREFIX;
	if (r->checksum) {
		enum checksum_result cr = r->checksum(v, len);

		if (cr != CHECKSUM_NA) {
			out->has_checksum = true;
			out->checksum_valid = cr == CHECKSUM_OK;
			out->confidence = out->checksum_valid ? CONF_CHECKSUM_OK : CONF_CHECKSUM_BAD;
		}
	}
}

/* ---- AWS ------------------------------------------------------------- */

static int base32_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= '2' && ch <= '7')
		return ch - '2' + 26;
	return -1;
}

/*
 * Newer AKIA/ASIA key ids encode the account: base32-decode the 16
 * characters after the 4-letter kind, take the first 6 bytes big-endian,
 * mask 0x7fffffffff80 and shift right 7 (public research, e.g.
 * hackingthe.cloud "Get Account ID from AWS Access Keys").
 */
static void aws_account_from_key(const char *id, size_t len, char *out, size_t cap)
{
	uint64_t bits = 0;

	if (len != 20 || (memcmp(id, "AKIA", 4) != 0 && memcmp(id, "ASIA", 4) != 0))
		return;
	for (size_t i = 4; i < 20; i++)
		if (base32_value((unsigned char)id[i]) < 0)
			return;
	/* 10 characters give 50 bits; the first 48 are the 6 bytes wanted */
	for (size_t i = 4; i < 14; i++)
		bits = (bits << 5) | (uint64_t)base32_value((unsigned char)id[i]);
	bits >>= 2;
	snprintf(out, cap, "%012" PRIu64, (uint64_t)((bits & 0x7fffffffff80ULL) >> 7));
}

static const char *aws_key_kind(const char *id)
{
	static const struct { const char *prefix, *kind; } kinds[] = {
		{ "AKIA", "long-term" },
		{ "ASIA", "temporary" },
		{ "ABIA", "bearer" },
		{ "ACCA", "context" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (memcmp(id, kinds[i].prefix, 4) == 0)
			return kinds[i].kind;
	return "unknown";
}

/* The value is the access key id, possibly followed by "/date/region/service/aws4_request". */
static void meta_aws(const struct credential *c, const struct fp_key *key, struct token_info *out)
{
	const char *slash = memchr(c->value, '/', c->value_len);
	size_t n = slash ? (size_t)(slash - c->value) : c->value_len;
	bool ok = n >= 16 && n < sizeof(out->key_id);

	(void)key;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = c->value[i];

		ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
	}
	text_printable(out->aws_region, sizeof(out->aws_region), c->aws_region,
		       strnlen(c->aws_region, sizeof(c->aws_region)));
	text_printable(out->aws_service, sizeof(out->aws_service), c->aws_service,
		       strnlen(c->aws_service, sizeof(c->aws_service)));
	/* Anything that is not a key id might be a misplaced secret: keep none of it. */
	if (!ok) {
		out->confidence = CONF_MALFORMED;
		return;
	}
	memcpy(out->key_id, c->value, n);
	out->key_id[n] = '\0';
	snprintf(out->aws_key_kind, sizeof(out->aws_key_kind), "%s", aws_key_kind(out->key_id));
	aws_account_from_key(out->key_id, n, out->aws_account, sizeof(out->aws_account));
	out->confidence = CONF_STRUCTURE;
}

/* ---- Basic ----------------------------------------------------------- */

/* Twilio account or API key SID: "AC" or "SK" + 32 hex. An identifier, not a secret. */
static bool is_twilio_sid(const unsigned char *u, size_t len)
{
	return len == 34 && (memcmp(u, "AC", 2) == 0 || memcmp(u, "SK", 2) == 0) &&
	       all_in((const char *)u + 2, 32, AL_HEX);
}

static void meta_basic(const struct credential *c, const struct fp_key *key, struct token_info *out)
{
	unsigned char plain[CRED_BASIC_PLAIN_MAX + 3];
	struct credential pw = { .source = c->source };
	const struct rule *r;
	const unsigned char *colon;
	int n = cred_basic_decode(c->value, c->value_len, plain);

	(void)key;
	if (n <= 0) {
		out->confidence = CONF_MALFORMED;
		secure_wipe(plain, sizeof(plain));
		return;
	}
	colon = memchr(plain, ':', (size_t)n);
	if (!colon) {
		/* no user part: all of it may be secret */
		out->confidence = CONF_MALFORMED;
		snprintf(out->basic_password_type, sizeof(out->basic_password_type), "%s",
			 token_type_id_str(TYPE_OPAQUE));
		secure_wipe(plain, sizeof(plain));
		return;
	}
	text_printable(out->basic_user, sizeof(out->basic_user), (const char *)plain,
		       (size_t)(colon - plain));
	if (is_twilio_sid(plain, (size_t)(colon - plain)))
		snprintf(out->type, sizeof(out->type), "%s", token_type_id_str(TYPE_TWILIO));
	/* The password is classified by value alone: no header or scheme applies to it. */
	pw.value = (const char *)colon + 1;
	pw.value_len = (size_t)n - (size_t)(colon + 1 - plain);
	r = find_rule(&pw, pw.value, pw.value_len);
	out->confidence = CONF_STRUCTURE;
	if (r) {
		struct token_info inner;

		memset(&inner, 0, sizeof(inner));
		apply_rule(r, pw.value, pw.value_len, &inner);
		snprintf(out->basic_password_type, sizeof(out->basic_password_type), "%s",
			 token_type_id_str(r->type));
		/*
		 * A known token sent as the password is that token (one
		 * fingerprint over the password, cred.h): it takes the token's
		 * type and length, the user stays as metadata.
		 */
		snprintf(out->type, sizeof(out->type), "%s", token_type_id_str(r->type));
		out->length = pw.value_len;
		memcpy(out->prefix, inner.prefix, sizeof(out->prefix));
		out->has_checksum = inner.has_checksum;
		out->checksum_valid = inner.checksum_valid;
		if (inner.has_checksum && !inner.checksum_valid)
			out->confidence = CONF_CHECKSUM_BAD;
	} else {
		snprintf(out->basic_password_type, sizeof(out->basic_password_type), "%s",
			 token_type_id_str(TYPE_OPAQUE));
	}
	secure_wipe(plain, sizeof(plain));
}

/* ---- Azure identifiable keys ------------------------------------------ */

/* The signature names the service; it is a constant of the format, not secret. */
static void meta_azure_key(const struct credential *c, const struct fp_key *key,
			   struct token_info *out)
{
	const struct azure_sig *s = azure_key_sig(c->value, c->value_len);

	(void)key;
	if (s)
		snprintf(out->azure_signature, sizeof(out->azure_signature), "%s", s->sig);
}

/* ---- JWT ------------------------------------------------------------- */

static void meta_jwt(const struct credential *c, const struct fp_key *key, struct token_info *out)
{
	out->jwt = jwt_safe_info(c->value, c->value_len, key, out->type, sizeof(out->type));
}

/* ---- entry points ---------------------------------------------------- */

void classify_credential(const struct credential *c, const struct fp_key *key,
			 struct token_info *out)
{
	struct credential view;
	const struct rule *r;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	snprintf(out->type, sizeof(out->type), "%s", token_type_id_str(TYPE_OPAQUE));
	if (!c)
		return;
	/* A NULL value is classified as an empty one. */
	view = *c;
	if (!view.value) {
		view.value = "";
		view.value_len = 0;
	}
	out->length = view.value_len;
	r = find_rule(&view, view.value, view.value_len);
	if (!r)
		return;
	apply_rule(r, view.value, view.value_len, out);
	if (r->meta)
		r->meta(&view, key, out);
}

/*
 * Types an extractor reports instead of its rule's: a JWT's issuer names
 * Kubernetes or Entra ID (jwt.c), a Twilio SID is the user of a Basic
 * credential (meta_basic).
 */
static const enum token_type_id extractor_types[] = {
	TYPE_K8S_SERVICEACCOUNT,
	TYPE_AZURE_ENTRA,
	TYPE_TWILIO,
};

bool classify_rule_at(size_t i, enum token_type_id *type, const char **prefix)
{
	const struct rule *r;

	if (i >= sizeof(rules) / sizeof(rules[0]))
		return false;
	r = &rules[i];
	if (type)
		*type = r->type;
	if (prefix)
		*prefix = rule_keep(r);
	return true;
}

bool classify_can_report(enum token_type_id t)
{
	if (t == TYPE_OPAQUE)
		return true;
	for (size_t i = 0; i < sizeof(extractor_types) / sizeof(extractor_types[0]); i++)
		if (extractor_types[i] == t)
			return true;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].type == t)
			return true;
	return false;
}

void token_info_release(struct token_info *t)
{
	if (!t)
		return;
	json_object_put(t->jwt);
	t->jwt = NULL;
}

/* ---- finding credentials in free text ----------------------------------- */

/* Bytes that continue a word: a credential must not start or end next to one. */
static bool is_word_byte(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

/* Rules that a value alone can satisfy from its prefix. */
static bool is_findable(const struct rule *r)
{
	return r->prefix && r->prefix[0] && !r->header && !r->scheme && r->alpha != AL_ANY;
}

/*
 * End of the run of alphabet bytes starting at j. A run is the same from
 * every position inside it, so the last run of each alphabet is kept:
 * base64 runs cross word boundaries ('/', '+', '=') and would otherwise be
 * walked again from every candidate inside them.
 */
struct run_cache {
	size_t from[AL_COUNT], end[AL_COUNT];
	bool valid[AL_COUNT];
};

static size_t run_end(struct run_cache *rc, const char *s, size_t len, size_t j, enum alphabet a)
{
	size_t e;

	if (rc->valid[a] && j >= rc->from[a] && j <= rc->end[a])
		return rc->end[a];
	for (e = j; e < len && in_alphabet((unsigned char)s[e], a); e++) {
		/* joined the cached run (a longer prefix at the same place was tried first) */
		if (rc->valid[a] && e == rc->from[a]) {
			e = rc->end[a];
			break;
		}
	}
	rc->valid[a] = true;
	rc->from[a] = j;
	rc->end[a] = e;
	return e;
}

/* The first bytes of findable prefixes: most positions are rejected by one lookup. */
static bool first_bytes[256];
static pthread_once_t first_bytes_once = PTHREAD_ONCE_INIT;

static void first_bytes_init(void)
{
	for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
		if (is_findable(&rules[k]))
			first_bytes[(unsigned char)rules[k].prefix[0]] = true;
}

bool classify_find_prefixed(const char *s, size_t len, size_t *off, size_t *n)
{
	const size_t n_rules = sizeof(rules) / sizeof(rules[0]);
	const bool *first = first_bytes;
	struct run_cache rc;

	if (!s || !off || !n)
		return false;
	pthread_once(&first_bytes_once, first_bytes_init);
	memset(&rc, 0, sizeof(rc));
	for (size_t i = 0; i < len; i++) {
		if (!first[(unsigned char)s[i]] || (i > 0 && is_word_byte((unsigned char)s[i - 1])))
			continue;
		for (size_t k = 0; k < n_rules; k++) {
			const struct rule *r = &rules[k];
			size_t plen, max, e;

			if (!is_findable(r) || r->prefix[0] != s[i])
				continue;
			plen = strlen(r->prefix);
			if (!has_prefix(s + i, len - i, r->prefix))
				continue;
			max = r->max_len ? r->max_len : DEFAULT_MAX_LEN;
			e = run_end(&rc, s, len, i + plen, r->alpha);
			/* the run must end where the word ends, not inside a longer one */
			if (e < len && is_word_byte((unsigned char)s[e]))
				continue;
			if (e - i < r->min_len || e - i > max)
				continue;
			if (r->match && !r->match(s + i, e - i))
				continue;
			*off = i;
			*n = e - i;
			return true;
		}
	}
	return false;
}
