/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential extraction (see cred.h and docs/ARCHITECTURE.md "Credentials").
 *
 * Values found verbatim in a header point into the request; values that
 * must be decoded (query parameters, the sig= of a SAS header) are written
 * to the list's scratch area, which cred_list_wipe() clears.
 */
#include "cred.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "path_token.h"
#include "text.h"
#include "wipe.h"

static const char *const default_headers[] = {
	"authorization",
	"proxy-authorization",
	"x-api-key",
	"api-key",
	"x-goog-api-key",
	"private-token",
	"job-token",
	"x-vault-token",
	"x-shopify-access-token",
	"dd-api-key",
	"dd-application-key",
	"x-auth-key",
	"x-insert-key",
	"ocp-apim-subscription-key",
	"x-functions-key",
	"xi-api-key",
	"x-amz-security-token",
};

static const char *const default_params[] = {
	"access_token", "api_key", "apikey", "key", "sig", "token",
	"private_token", "x-amz-security-token", "x-amz-credential",
};

static struct cred_config default_config = {
	.headers = default_headers,
	.n_headers = sizeof(default_headers) / sizeof(default_headers[0]),
	.params = default_params,
	.n_params = sizeof(default_params) / sizeof(default_params[0]),
};
static pthread_once_t default_indexed = PTHREAD_ONCE_INIT;

static void index_default(void)
{
	cred_config_index(&default_config);
}

const struct cred_config *cred_config_default(void)
{
	pthread_once(&default_indexed, index_default);
	return &default_config;
}

enum scheme_kind {
	SCHEME_PLAIN,     /* credential follows the scheme */
	SCHEME_NONE,      /* challenge/response: nothing reusable on the wire */
	SCHEME_AWS4,      /* AWS SigV4: the access key id */
	SCHEME_AWS2,      /* "AWS AKID:sig": the access key id */
	SCHEME_SHAREDKEY, /* "account:sig": the account (the key is not sent) */
	SCHEME_SAS,       /* the sig= parameter */
};

static const struct {
	const char *name;
	enum scheme_kind kind;
} schemes[] = {
	{ "Bearer", SCHEME_PLAIN },
	{ "Basic", SCHEME_PLAIN },
	{ "token", SCHEME_PLAIN },
	{ "SSWS", SCHEME_PLAIN },
	{ "Digest", SCHEME_NONE },
	{ "Negotiate", SCHEME_NONE },
	{ "NTLM", SCHEME_NONE },
	{ "AWS4-HMAC-SHA256", SCHEME_AWS4 },
	{ "AWS", SCHEME_AWS2 },
	{ "SharedKey", SCHEME_SHAREDKEY },
	{ "SharedKeyLite", SCHEME_SHAREDKEY },
	{ "SharedAccessSignature", SCHEME_SAS },
};
#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

/* A byte range of the request or of scratch. */
struct span {
	const char *p;
	size_t n;
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool span_eq_nocase(struct span s, const char *lit)
{
	size_t i;

	/*
	 * Called per header and configured name: the first byte rejects most,
	 * and the literal's end is found on the way rather than by a strlen.
	 */
	if (s.n == 0)
		return false;
	for (i = 0; i < s.n; i++)
		if (!lit[i] || lower(s.p[i]) != lower(lit[i]))
			return false;
	return lit[i] == '\0';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static struct span trim(struct span s)
{
	while (s.n && is_ows(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Splits s at the first c: returns the part before it, leaves the rest in *s. */
static struct span split(struct span *s, char c)
{
	const char *at = s->n ? memchr(s->p, c, s->n) : NULL;
	struct span head = *s;

	if (!at) {
		s->p += s->n;
		s->n = 0;
		return head;
	}
	head.n = (size_t)(at - s->p);
	s->n -= head.n + 1;
	s->p = at + 1;
	return head;
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Copies non-secret metadata (scheme, region, names) only when it is a clean token. */
static void copy_token(char *dst, size_t cap, struct span s, bool lowercase)
{
	dst[0] = '\0';
	if (s.n >= cap)
		return;
	for (size_t i = 0; i < s.n; i++)
		if (!is_token_char(s.p[i]))
			return;
	for (size_t i = 0; i < s.n; i++)
		dst[i] = lowercase ? lower(s.p[i]) : s.p[i];
	dst[s.n] = '\0';
}

/*
 * Percent-decodes s into scratch (not committed: scratch_used is not moved).
 * '+' stays '+': tokens hold no spaces, so a raw '+' is a literal one sent
 * unencoded, and keeping it gives the same fingerprint as the header form.
 * Returns false when scratch is too small.
 */
/* Extends the part of scratch cred_list_wipe() clears to its first end bytes. */
static void note_written(struct cred_list *l, size_t end)
{
	if (end > l->scratch_hwm)
		l->scratch_hwm = end;
}

static bool decode_to_scratch(struct cred_list *l, struct span s, struct span *out)
{
	char *dst = l->scratch + l->scratch_used;
	size_t room = sizeof(l->scratch) - l->scratch_used;
	size_t o = 0;

	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		int hi, lo;

		if (c == '%' && i + 2 < s.n &&
		    (hi = text_hexval(s.p[i + 1])) >= 0 && (lo = text_hexval(s.p[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o == room) {
			secure_wipe(dst, o);
			return false;
		}
		dst[o++] = c;
	}
	note_written(l, l->scratch_used + o);
	out->p = dst;
	out->n = o;
	return true;
}

/* Same header (or parameter) and same value already listed? */
static bool is_duplicate(const struct cred_list *l, enum cred_source src, const char *name,
			 struct span v)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct credential *c = &l->items[i];

		if (c->source == src && c->value_len == v.n && strcmp(c->header, name) == 0 &&
		    memcmp(c->value, v.p, v.n) == 0)
			return true;
	}
	return false;
}

/*
 * Adds one credential. in_scratch: v lies at the uncommitted end of scratch
 * (with used bytes in all); it is committed when kept, wiped otherwise.
 */
static struct credential *add(struct cred_list *l, enum cred_source src, const char *name,
			      struct span scheme, struct span v, size_t scratch_bytes)
{
	struct credential *c = NULL;
	char lname[CRED_NAME_MAX];

	copy_token(lname, sizeof(lname), (struct span){ name, strlen(name) }, true);
	if (v.n == 0 || is_duplicate(l, src, lname, v)) {
		/* not a credential, or already listed */
	} else if (l->n >= CRED_MAX) {
		l->dropped++;
	} else {
		c = &l->items[l->n++];
		memset(c, 0, sizeof(*c));
		c->source = src;
		memcpy(c->header, lname, sizeof(c->header));
		copy_token(c->scheme, sizeof(c->scheme), scheme, false);
		c->value = v.p;
		c->value_len = v.n;
	}
	if (scratch_bytes) {
		if (c)
			l->scratch_used += scratch_bytes;
		else
			secure_wipe(l->scratch + l->scratch_used, scratch_bytes);
	}
	return c;
}

/* "AKID/date/region/service/aws4_request" */
static void add_aws_credential_scope(struct cred_list *l, enum cred_source src, const char *name,
				     struct span scope, size_t scratch_bytes)
{
	static const char aws4[] = "AWS4-HMAC-SHA256";
	struct span akid = split(&scope, '/');
	struct span region, service;
	struct credential *c;

	split(&scope, '/'); /* date */
	region = split(&scope, '/');
	service = split(&scope, '/');
	c = add(l, src, name, (struct span){ aws4, sizeof(aws4) - 1 }, akid, scratch_bytes);
	if (!c)
		return;
	copy_token(c->aws_region, sizeof(c->aws_region), region, false);
	copy_token(c->aws_service, sizeof(c->aws_service), service, false);
}

/* "Credential=AKID/..., SignedHeaders=..., Signature=..." */
static void add_sigv4(struct cred_list *l, const char *name, struct span params)
{
	while (params.n) {
		struct span item = trim(split(&params, ','));
		struct span key = trim(split(&item, '='));

		if (span_eq_nocase(key, "Credential")) {
			add_aws_credential_scope(l, CRED_SRC_HEADER, name, trim(item), 0);
			return;
		}
	}
}

/* "sr=<uri>&sig=<signature>&se=<expiry>&skn=<key name>" */
static void add_sas(struct cred_list *l, const char *name, struct span scheme, struct span params)
{
	while (params.n) {
		struct span item = split(&params, '&');
		struct span key = trim(split(&item, '='));
		struct span v;

		if (!span_eq_nocase(key, "sig"))
			continue;
		if (!decode_to_scratch(l, trim(item), &v)) {
			l->dropped++;
			return;
		}
		add(l, CRED_SRC_HEADER, name, scheme, v, v.n);
		return;
	}
}

/* ---- Basic -------------------------------------------------------------- */

static bool is_b64_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

int cred_basic_decode(const char *v, size_t len, unsigned char *out)
{
	unsigned char text[CRED_BASIC_TEXT_MAX];
	size_t body = len, padded;
	int n;

	while (body > 0 && len - body < 2 && v[body - 1] == '=')
		body--;
	if (body == 0 || body % 4 == 1 || len > sizeof(text) || (body != len && len % 4 != 0))
		return -1;
	for (size_t i = 0; i < body; i++)
		if (!is_b64_char((unsigned char)v[i]))
			return -1;
	padded = (body + 3) & ~(size_t)3;
	memcpy(text, v, body);
	memset(text + body, '=', padded - body);
	n = EVP_DecodeBlock(out, text, (int)padded);
	secure_wipe(text, padded);
	if (n < 0 || (size_t)n < padded - body)
		return -1;
	return n - (int)(padded - body);
}

/*
 * The password of a Basic "user:password", copied to scratch, is the
 * credential's secret. Without a colon, with an empty password, or with
 * no room left, the secret stays the whole value.
 */
static void basic_secret(struct cred_list *l, struct credential *c)
{
	unsigned char plain[CRED_BASIC_PLAIN_MAX + 3];
	const unsigned char *colon;
	int n = cred_basic_decode(c->value, c->value_len, plain);
	size_t pw;

	if (n > 0 && (colon = memchr(plain, ':', (size_t)n)) != NULL) {
		pw = (size_t)n - (size_t)(colon + 1 - plain);
		if (pw > 0 && pw <= sizeof(l->scratch) - l->scratch_used) {
			memcpy(l->scratch + l->scratch_used, colon + 1, pw);
			note_written(l, l->scratch_used + pw);
			c->secret = l->scratch + l->scratch_used;
			c->secret_len = pw;
			l->scratch_used += pw;
		}
	}
	secure_wipe(plain, sizeof(plain));
}

static bool scheme_is(const struct credential *c, const char *name)
{
	return strcasecmp(c->scheme, name) == 0;
}

static void set_secrets(struct cred_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct credential *c = &l->items[i];

		c->secret = c->value;
		c->secret_len = c->value_len;
		if (c->source == CRED_SRC_HEADER && scheme_is(c, "Basic"))
			basic_secret(l, c);
	}
}

static void add_authorization(struct cred_list *l, const char *name, struct span v)
{
	struct span rest = v, scheme;
	size_t sp = 0;

	while (sp < v.n && !is_ows(v.p[sp]))
		sp++;
	scheme = (struct span){ v.p, sp };
	rest = trim((struct span){ v.p + sp, v.n - sp });
	for (size_t i = 0; i < N_SCHEMES; i++) {
		if (!span_eq_nocase(scheme, schemes[i].name))
			continue;
		switch (schemes[i].kind) {
		case SCHEME_PLAIN:
			add(l, CRED_SRC_HEADER, name, scheme, rest, 0);
			break;
		case SCHEME_NONE:
			break;
		case SCHEME_AWS4:
			add_sigv4(l, name, rest);
			break;
		case SCHEME_AWS2:
		case SCHEME_SHAREDKEY:
			add(l, CRED_SRC_HEADER, name, scheme, split(&rest, ':'), 0);
			break;
		case SCHEME_SAS:
			add_sas(l, name, scheme, rest);
			break;
		}
		return;
	}
	/* No space (Linear's raw "lin_api_..."), or a first word that is no scheme name. */
	if (sp == v.n || sp >= sizeof(l->items[0].scheme)) {
		add(l, CRED_SRC_HEADER, name, (struct span){ "", 0 }, v, 0);
		return;
	}
	for (size_t i = 0; i < sp; i++) {
		if (!is_token_char(v.p[i])) {
			add(l, CRED_SRC_HEADER, name, (struct span){ "", 0 }, v, 0);
			return;
		}
	}
	add(l, CRED_SRC_HEADER, name, scheme, rest, 0);
}

/* header_lens's slot for a name's first byte */
static unsigned len_slot(char c)
{
	c = lower(c);
	return c >= 'a' && c <= 'z' ? (unsigned)(c - 'a') : 26;
}

static uint64_t len_bit(size_t n)
{
	return 1ULL << (n < 63 ? n : 63);
}

void cred_config_index(struct cred_config *cfg)
{
	memset(cfg->header_lens, 0, sizeof(cfg->header_lens));
	for (size_t i = 0; i < cfg->n_headers; i++) {
		const char *name = cfg->headers[i];

		if (name && name[0])
			cfg->header_lens[len_slot(name[0])] |= len_bit(strlen(name));
	}
	cfg->indexed = true;
}

static const char *find_name(const char *const *names, size_t n, struct span s)
{
	char first = s.n ? lower(s.p[0]) : '\0';

	/* a header the index let through: the first byte, inline, rejects most names */
	for (size_t i = 0; i < n; i++)
		if (names[i] && lower(names[i][0]) == first && span_eq_nocase(s, names[i]))
			return names[i];
	return NULL;
}

static void extract_headers(const struct http1_request *req, const struct cred_config *cfg,
			    struct cred_list *l)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		struct span hn = { h->name, h->name_len };
		struct span v;
		const char *name;

		if (!h->name || (!h->value && h->value_len))
			continue;
		if (cfg->indexed &&
		    (!hn.n || !(cfg->header_lens[len_slot(hn.p[0])] & len_bit(hn.n))))
			continue;
		name = find_name(cfg->headers, cfg->n_headers, hn);
		if (!name)
			continue;
		v = trim((struct span){ h->value, h->value_len });
		if (span_eq_nocase(hn, "authorization") || span_eq_nocase(hn, "proxy-authorization"))
			add_authorization(l, name, v);
		else
			add(l, CRED_SRC_HEADER, name, (struct span){ "", 0 }, v, 0);
	}
}

static void extract_query(const struct http1_request *req, const struct cred_config *cfg,
			  struct cred_list *l)
{
	struct span q = { req->target, req->target_len };

	if (!q.p)
		return;
	split(&q, '?');
	q = split(&q, '#');
	while (q.n) {
		struct span item = split(&q, '&');
		struct span key;
		struct span v;
		const char *name;

		if (!memchr(item.p, '=', item.n))
			continue;
		key = split(&item, '=');
		name = find_name(cfg->params, cfg->n_params, key);
		if (!name || item.n == 0)
			continue;
		if (!decode_to_scratch(l, item, &v)) {
			l->dropped++;
			continue;
		}
		if (span_eq_nocase(key, "x-amz-credential"))
			add_aws_credential_scope(l, CRED_SRC_QUERY, name, v, v.n);
		else
			add(l, CRED_SRC_QUERY, name, (struct span){ "", 0 }, v, v.n);
	}
}

/* A credential in the path (path_token.h); the target is the request's own bytes. */
static void extract_path(const struct http1_request *req, struct cred_list *l)
{
	enum path_token_kind kind;
	size_t off, n;

	if (req->target && path_token_find(req->target, req->target_len, &kind, &off, &n))
		add(l, CRED_SRC_PATH, path_token_name(kind), (struct span){ "", 0 },
		    (struct span){ req->target + off, n }, 0);
}

size_t cred_extract(const struct http1_request *req, const struct cred_config *cfg,
		    struct cred_list *out)
{
	if (!out)
		return 0;
	/* items past n are never read; add() clears each one it takes */
	out->n = 0;
	out->dropped = 0;
	out->scratch_used = 0;
	out->scratch_hwm = 0;
	if (!req)
		return 0;
	if (!cfg)
		cfg = cred_config_default();
	if (cfg->headers)
		extract_headers(req, cfg, out);
	if (cfg->params)
		extract_query(req, cfg, out);
	extract_path(req, out);
	set_secrets(out);
	return out->n;
}

void cred_list_wipe(struct cred_list *l)
{
	if (!l)
		return;
	/*
	 * Only the bytes this extraction wrote can hold a secret: wiping all
	 * 8 KiB per request was most of extraction's cost.
	 */
	if (l->scratch_hwm > sizeof(l->scratch))
		l->scratch_hwm = sizeof(l->scratch);
	secure_wipe(l->scratch, l->scratch_hwm);
	if (l->n > CRED_MAX)
		l->n = CRED_MAX;
	secure_wipe(l->items, l->n * sizeof(l->items[0]));
	l->n = 0;
	l->scratch_used = 0;
	l->scratch_hwm = 0;
}

size_t cred_redact_target(const char *target, size_t len, char *out, size_t outcap)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char mark[] = "{redacted}";
	bool in_query = false, in_value = false;
	enum path_token_kind kind;
	size_t o = 0, tok_off = SIZE_MAX, tok_n = 0;

	if (!out || outcap == 0)
		return 0;
	if (!path_token_find(target, len, &kind, &tok_off, &tok_n))
		tok_off = SIZE_MAX;
	for (size_t i = 0; target && i < len; i++) {
		unsigned char c = (unsigned char)target[i];

		if (i == tok_off) {
			if (o + sizeof(mark) - 1 >= outcap)
				break;
			memcpy(out + o, mark, sizeof(mark) - 1);
			o += sizeof(mark) - 1;
			i += tok_n - 1;
			continue;
		}
		if (c == '#')
			break;
		if (in_query && c == '&')
			in_value = false;
		else if (in_value)
			continue; /* the value is never copied */
		else if (in_query && c == '=')
			in_value = true;
		else if (c == '?')
			in_query = true;
		if (c > 0x20 && c < 0x7f) {
			if (o + 1 >= outcap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outcap)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}
