/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential extraction and target redaction. Fake tokens are assembled at
 * run time and compared with memcmp, so no assertion ever prints one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cred.h"
#include "http1.h"

struct fixture {
	struct http1_request req;
	struct cred_list list;
	char store[16384]; /* header names and values live here */
	size_t used;
};

static const char *keep(struct fixture *f, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = f->store + f->used;

	assert_true(f->used + n <= sizeof(f->store));
	memcpy(p, s, n);
	f->used += n;
	return p;
}

static void hdr(struct fixture *f, const char *name, const char *value)
{
	struct http1_header *h = &f->req.headers[f->req.n_headers++];

	h->name = keep(f, name);
	h->name_len = strlen(name);
	h->value = keep(f, value);
	h->value_len = strlen(value);
}

static void target(struct fixture *f, const char *t)
{
	f->req.target = keep(f, t);
	f->req.target_len = strlen(t);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->req.method = "GET";
	f->req.method_len = 3;
	target(f, "/");
	return f;
}

static size_t extract(struct fixture *f)
{
	memset(&f->list, 0xa5, sizeof(f->list)); /* cred_extract must not need an initialised list */
	return cred_extract(&f->req, cred_config_default(), &f->list);
}

/* Compares a secret without printing it on failure. */
static void assert_value(const struct credential *c, const char *want)
{
	assert_int_equal(c->value_len, strlen(want));
	assert_true(memcmp(c->value, want, c->value_len) == 0);
}

/* 40 characters after prefix, built at run time. */
static void fake(char *out, size_t cap, const char *prefix)
{
	size_t n = strlen(prefix);

	assert_true(n + 41 <= cap);
	memcpy(out, prefix, n);
	for (size_t i = 0; i < 40; i++)
		out[n + i] = "Abc9XyZ0"[i % 8];
	out[n + 40] = '\0';
}

static void test_authorization_schemes(void **state)
{
	static const char *schemes[] = { "Bearer", "bearer", "Basic", "token", "Token", "SSWS" };
	char tok[64], v[128];

	(void)state;
	fake(tok, sizeof(tok), "ghp" "_");
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		struct fixture *f = fixture_new();

		snprintf(v, sizeof(v), "%s   %s  ", schemes[i], tok);
		hdr(f, "Host", "api.test");
		hdr(f, "Authorization", v);
		assert_int_equal(extract(f), 1);
		assert_int_equal(f->list.items[0].source, CRED_SRC_HEADER);
		assert_string_equal(f->list.items[0].header, "authorization");
		assert_string_equal(f->list.items[0].scheme, schemes[i]);
		assert_value(&f->list.items[0], tok);
		assert_int_equal(f->list.dropped, 0);
		cred_list_wipe(&f->list);
		free(f);
	}
}

static void test_authorization_without_scheme(void **state)
{
	struct fixture *f = fixture_new();
	char tok[64];

	(void)state;
	fake(tok, sizeof(tok), "lin" "_api_");
	hdr(f, "authorization", tok);
	assert_int_equal(extract(f), 1);
	assert_string_equal(f->list.items[0].scheme, "");
	assert_value(&f->list.items[0], tok);
	free(f);
}

static void test_authorization_nothing_reusable(void **state)
{
	static const char *values[] = {
		"Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"abc\"",
		"Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag",
		"NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==",
		"Bearer",
		"Bearer    ",
		"",
		"   ",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct fixture *f = fixture_new();

		hdr(f, "Authorization", values[i]);
		assert_int_equal(extract(f), 0);
		assert_int_equal(f->list.dropped, 0);
		free(f);
	}
}

static void test_unknown_scheme(void **state)
{
	struct fixture *f = fixture_new();
	char tok[64], v[128];

	(void)state;
	fake(tok, sizeof(tok), "r8" "_");
	snprintf(v, sizeof(v), "Custom %s", tok);
	hdr(f, "Authorization", v);
	assert_int_equal(extract(f), 1);
	assert_string_equal(f->list.items[0].scheme, "Custom");
	assert_value(&f->list.items[0], tok);
	free(f);

	/* A first word that is no token: the whole value is the credential. */
	f = fixture_new();
	snprintf(v, sizeof(v), "k=%s other", tok);
	hdr(f, "Authorization", v);
	assert_int_equal(extract(f), 1);
	assert_string_equal(f->list.items[0].scheme, "");
	assert_value(&f->list.items[0], v);
	free(f);
}

static void test_sigv4_header(void **state)
{
	struct fixture *f = fixture_new();
	char akid[32], v[512];

	(void)state;
	snprintf(akid, sizeof(akid), "%s%s", "AKIA", "FAKEFAKEFAKE0001");
	snprintf(v, sizeof(v),
		 "AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/s3/aws4_request, "
		 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
		 akid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	hdr(f, "Authorization", v);
	hdr(f, "X-Amz-Security-Token", "FQoGZXIvYXdzEFAKE");
	assert_int_equal(extract(f), 2);
	assert_string_equal(f->list.items[0].scheme, "AWS4-HMAC-SHA256");
	assert_value(&f->list.items[0], akid);
	assert_string_equal(f->list.items[0].aws_region, "us-east-1");
	assert_string_equal(f->list.items[0].aws_service, "s3");
	assert_string_equal(f->list.items[1].header, "x-amz-security-token");
	assert_string_equal(f->list.items[1].scheme, "");
	assert_value(&f->list.items[1], "FQoGZXIvYXdzEFAKE");
	free(f);

	/* Lowercase scheme, extra spaces, Credential not first. */
	f = fixture_new();
	snprintf(v, sizeof(v),
		 "aws4-hmac-sha256   SignedHeaders=host,Credential=%s/20240101/eu-west-2/sts/aws4_request,Signature=00",
		 akid);
	hdr(f, "authorization", v);
	assert_int_equal(extract(f), 1);
	assert_value(&f->list.items[0], akid);
	assert_string_equal(f->list.items[0].aws_region, "eu-west-2");
	assert_string_equal(f->list.items[0].aws_service, "sts");
	free(f);
}

static void test_aws_v2_sharedkey_sas(void **state)
{
	struct fixture *f = fixture_new();
	char akid[32], v[256], sig[64];

	(void)state;
	snprintf(akid, sizeof(akid), "%s%s", "AKIA", "FAKEFAKEFAKE0002");
	snprintf(v, sizeof(v), "AWS %s:frJIUN8DYpKDtOLCwo//yllqDzg=", akid);
	hdr(f, "Authorization", v);
	hdr(f, "Proxy-Authorization", "SharedKey myaccount:ctzMq410TV3wS7upTBcunJTDLEJwMAZuFPfr0mrrA08=");
	snprintf(sig, sizeof(sig), "%s", "abc%2Bdef%3D");
	snprintf(v, sizeof(v),
		 "SharedAccessSignature sr=https%%3A%%2F%%2Fns.servicebus.windows.net%%2Fq&sig=%s&se=1700000000&skn=RootManageSharedAccessKey",
		 sig);
	{
		struct fixture *g = fixture_new();

		hdr(g, "Authorization", v);
		assert_int_equal(extract(g), 1);
		assert_string_equal(g->list.items[0].scheme, "SharedAccessSignature");
		assert_value(&g->list.items[0], "abc+def=");
		assert_true(g->list.scratch_used >= 8);
		/* every byte extraction wrote is wiped (the rest was never written) */
		size_t written = g->list.scratch_hwm;

		assert_true(written >= g->list.scratch_used);
		cred_list_wipe(&g->list);
		for (size_t i = 0; i < written; i++)
			assert_int_equal(g->list.scratch[i], 0);
		assert_null(memmem(g->list.scratch, sizeof(g->list.scratch), "abc+def=", 8));
		assert_int_equal(g->list.n, 0);
		assert_null(g->list.items[0].value);
		free(g);
	}
	assert_int_equal(extract(f), 2);
	assert_string_equal(f->list.items[0].scheme, "AWS");
	assert_value(&f->list.items[0], akid);
	assert_string_equal(f->list.items[1].header, "proxy-authorization");
	assert_string_equal(f->list.items[1].scheme, "SharedKey");
	assert_value(&f->list.items[1], "myaccount");
	free(f);
}

static void test_api_key_headers(void **state)
{
	static const char *names[] = {
		"X-API-Key", "api-key", "x-goog-api-key", "PRIVATE-TOKEN", "JOB-TOKEN",
		"X-Vault-Token", "X-Shopify-Access-Token", "DD-API-KEY", "DD-APPLICATION-KEY",
		"X-Auth-Key", "X-Insert-Key", "Ocp-Apim-Subscription-Key", "x-functions-key",
		"xi-api-key",
	};
	char tok[64], v[80], lname[64];

	(void)state;
	fake(tok, sizeof(tok), "sk-ant-" "api03-");
	snprintf(v, sizeof(v), "  %s\t", tok);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fixture *f = fixture_new();
		size_t j;

		hdr(f, "Accept", "*/*");
		hdr(f, names[i], v);
		hdr(f, "X-Not-A-Key", tok);
		assert_int_equal(extract(f), 1);
		for (j = 0; names[i][j]; j++)
			lname[j] = (char)(names[i][j] >= 'A' && names[i][j] <= 'Z' ? names[i][j] + 32
										   : names[i][j]);
		lname[j] = '\0';
		assert_string_equal(f->list.items[0].header, lname);
		assert_string_equal(f->list.items[0].scheme, "");
		assert_value(&f->list.items[0], tok);
		free(f);
	}
}

static void test_duplicates_and_limits(void **state)
{
	struct fixture *f = fixture_new();
	char tok[64], tok2[64], v[80];

	(void)state;
	fake(tok, sizeof(tok), "npm" "_");
	fake(tok2, sizeof(tok2), "hf" "_");
	snprintf(v, sizeof(v), "Bearer %s", tok);
	hdr(f, "Authorization", v);
	hdr(f, "authorization", v);
	hdr(f, "X-Api-Key", tok);
	hdr(f, "x-api-key", tok2);
	hdr(f, "x-api-key", tok2);
	/* Same value under another header is another credential. */
	assert_int_equal(extract(f), 3);
	assert_value(&f->list.items[0], tok);
	assert_value(&f->list.items[1], tok);
	assert_value(&f->list.items[2], tok2);
	free(f);

	f = fixture_new();
	for (int i = 0; i < CRED_MAX + 3; i++) {
		snprintf(v, sizeof(v), "%s%02d", tok, i);
		hdr(f, "x-api-key", v);
	}
	assert_int_equal(extract(f), CRED_MAX);
	assert_int_equal(f->list.dropped, 3);
	free(f);
}

static void test_query_params(void **state)
{
	struct fixture *f = fixture_new();
	char tok[64], t[512], want[64];

	(void)state;
	fake(tok, sizeof(tok), "AI" "za");
	/* %41 is 'A'; '+' stays '+'; %zz is kept literally. */
	snprintf(t, sizeof(t),
		 "/v1/x?alt=json&KEY=%%41%s&access_token=a+b%%2Fc%%zz&token=&api_key&sig=s%%3D#token=frag",
		 tok + 1);
	target(f, t);
	assert_int_equal(extract(f), 3);
	assert_int_equal(f->list.items[0].source, CRED_SRC_QUERY);
	assert_string_equal(f->list.items[0].header, "key");
	assert_string_equal(f->list.items[0].scheme, "");
	assert_value(&f->list.items[0], tok);
	assert_string_equal(f->list.items[1].header, "access_token");
	snprintf(want, sizeof(want), "a+b/c%%zz");
	assert_value(&f->list.items[1], want);
	assert_string_equal(f->list.items[2].header, "sig");
	assert_value(&f->list.items[2], "s=");
	cred_list_wipe(&f->list);
	free(f);
}

static void test_query_amz_credential(void **state)
{
	struct fixture *f = fixture_new();
	char akid[32], t[512];

	(void)state;
	snprintf(akid, sizeof(akid), "%s%s", "ASIA", "FAKEFAKEFAKE0003");
	snprintf(t, sizeof(t),
		 "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F20240101%%2Fap-south-1%%2Fs3%%2Faws4_request&X-Amz-Security-Token=IQoFAKE%%2B&X-Amz-Signature=00",
		 akid);
	target(f, t);
	assert_int_equal(extract(f), 2);
	assert_string_equal(f->list.items[0].header, "x-amz-credential");
	assert_string_equal(f->list.items[0].scheme, "AWS4-HMAC-SHA256");
	assert_value(&f->list.items[0], akid);
	assert_string_equal(f->list.items[0].aws_region, "ap-south-1");
	assert_string_equal(f->list.items[0].aws_service, "s3");
	assert_string_equal(f->list.items[1].header, "x-amz-security-token");
	assert_value(&f->list.items[1], "IQoFAKE+");
	free(f);
}

static void test_query_scratch_bound(void **state)
{
	struct fixture *f = fixture_new();
	size_t n = CRED_SCRATCH + 100;
	char *t = malloc(n + 32);

	(void)state;
	assert_non_null(t);
	memcpy(t, "/?key=", 6);
	memset(t + 6, 'k', n);
	memcpy(t + 6 + n, "&token=abc", 11);
	f->req.target = t;
	f->req.target_len = strlen(t);
	assert_int_equal(extract(f), 1);
	assert_int_equal(f->list.dropped, 1);
	assert_string_equal(f->list.items[0].header, "token");
	assert_value(&f->list.items[0], "abc");
	free(t);
	free(f);
}

static void test_custom_config(void **state)
{
	static const char *const headers[] = { "x-my-token" };
	static const char *const params[] = { "secret" };
	const struct cred_config cfg = {
		.headers = headers, .n_headers = 1, .params = params, .n_params = 1,
	};
	struct fixture *f = fixture_new();

	(void)state;
	hdr(f, "Authorization", "Bearer zzz");
	hdr(f, "X-My-Token", "mine");
	target(f, "/p?secret=s1&key=k");
	assert_int_equal(cred_extract(&f->req, &cfg, &f->list), 2);
	assert_string_equal(f->list.items[0].header, "x-my-token");
	assert_value(&f->list.items[0], "mine");
	assert_int_equal(f->list.items[1].source, CRED_SRC_QUERY);
	assert_value(&f->list.items[1], "s1");
	assert_int_equal(cred_extract(NULL, &cfg, &f->list), 0);
	assert_int_equal(cred_extract(&f->req, &cfg, NULL), 0);
	free(f);
}

/*
 * The header index passes over names no configured name could match, and
 * nothing else: the same config indexed and not finds the same headers,
 * whatever the case of a name's first letter, a first byte outside a-z,
 * or a name of 63 bytes or more (those share one length bit).
 */
static void test_indexed_config(void **state)
{
	static const char long_name[] = "x-a-very-long-credential-header-name-of-seventy-bytes-or-so-000000";
	static const char long_other[] = "x-a-very-long-credential-header-name-of-seventy-bytes-or-so-111111";
	static const char *const headers[] = { "Api-Token", "9-key", long_name };
	struct cred_config plain = { .headers = headers, .n_headers = 3 };
	struct cred_config indexed = plain;
	struct fixture *f = fixture_new();
	size_t n;

	(void)state;
	cred_config_index(&indexed);
	assert_true(indexed.indexed);
	hdr(f, "api-token", "t1");
	hdr(f, "API-TOKENS", "no");
	hdr(f, "9-KEY", "t2");
	hdr(f, "9-kez", "no");
	hdr(f, long_other, "no");
	hdr(f, long_name, "t3");
	hdr(f, "", "no");
	for (int pass = 0; pass < 2; pass++) {
		n = cred_extract(&f->req, pass ? &indexed : &plain, &f->list);
		assert_int_equal(n, 3);
		assert_value(&f->list.items[0], "t1");
		assert_value(&f->list.items[1], "t2");
		assert_value(&f->list.items[2], "t3");
	}
	/* the built-in list is indexed: its names are found */
	assert_true(cred_config_default()->indexed);
	free(f);
}

/* End to end: a request parsed from the wire, extraction inside the callback. */
struct wire_result {
	size_t n;
	int ok;
};

static char wire_token[64];

static void on_wire_request(const struct http1_request *req, void *ctx)
{
	struct wire_result *r = ctx;
	struct cred_list *l = malloc(sizeof(*l));

	assert_non_null(l);
	r->n = cred_extract(req, cred_config_default(), l);
	r->ok = r->n == 1 && l->items[0].value_len == strlen(wire_token) &&
		memcmp(l->items[0].value, wire_token, strlen(wire_token)) == 0 &&
		strcmp(l->items[0].scheme, "token") == 0;
	cred_list_wipe(l);
	free(l);
}

static void test_from_parser(void **state)
{
	struct http1_parser p;
	struct wire_result r = { 0 };
	char wire[256];
	int n;

	(void)state;
	fake(wire_token, sizeof(wire_token), "gh" "s_");
	n = snprintf(wire, sizeof(wire),
		     "GET /user HTTP/1.1\r\nHost: api.test\r\nAuthorization: token\r\n  %s\r\n\r\n",
		     wire_token);
	assert_int_equal(http1_parser_init(&p, 4096), 0);
	assert_int_equal(http1_parser_feed(&p, (const uint8_t *)wire, (size_t)n, on_wire_request, &r), 1);
	assert_int_equal(r.n, 1);
	assert_true(r.ok);
	http1_parser_free(&p);
}

static void check_redact(const char *in, size_t outcap, const char *want)
{
	char out[256];
	size_t n;

	assert_true(outcap <= sizeof(out));
	memset(out, 'Z', sizeof(out));
	n = cred_redact_target(in, strlen(in), out, outcap);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

/* Compares a credential's secret without printing it on failure. */
static void assert_secret(const struct credential *c, const char *want)
{
	assert_int_equal(c->secret_len, strlen(want));
	assert_true(memcmp(c->secret, want, c->secret_len) == 0);
}

/* Standard base64 of s, for Basic values (test code: a few dozen bytes). */
static void b64(char *out, const char *s)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = al[(v >> 18) & 63];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? al[v & 63] : '=';
	}
	out[o] = '\0';
}

/*
 * One credential, one secret: a token sent as a Basic password has the
 * secret of the same token sent as Bearer; other credentials' secret is
 * their value.
 */
static void test_secret_basic_password(void **state)
{
	char tok[64], plain[128], enc[256], v[300];
	struct fixture *f;

	(void)state;
	fake(tok, sizeof(tok), "ghp" "_");
	snprintf(plain, sizeof(plain), "x-access-token:%s", tok);
	b64(enc, plain);

	f = fixture_new();
	snprintf(v, sizeof(v), "Basic %s", enc);
	hdr(f, "Authorization", v);
	snprintf(v, sizeof(v), "Bearer %s", tok);
	hdr(f, "Proxy-Authorization", v);
	assert_int_equal(extract(f), 2);
	assert_value(&f->list.items[0], enc);
	assert_secret(&f->list.items[0], tok);
	assert_value(&f->list.items[1], tok);
	assert_secret(&f->list.items[1], tok);
	cred_list_wipe(&f->list);
	free(f);

	/* no colon, an empty password, or not base64: the whole value is the secret */
	static const char *const odd[] = { "bm9jb2xvbg==" /* nocolon */, "dXNlcjo=" /* user: */,
					   "!!notbase64!!" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		f = fixture_new();
		snprintf(v, sizeof(v), "basic %s", odd[i]);
		hdr(f, "Authorization", v);
		assert_int_equal(extract(f), 1);
		assert_secret(&f->list.items[0], odd[i]);
		cred_list_wipe(&f->list);
		free(f);
	}
	/* the scratch copy of the password is wiped with the list */
	f = fixture_new();
	snprintf(v, sizeof(v), "Basic %s", enc);
	hdr(f, "Authorization", v);
	assert_int_equal(extract(f), 1);
	cred_list_wipe(&f->list);
	assert_null(memmem(f->list.scratch, sizeof(f->list.scratch), tok, strlen(tok)));
	free(f);
}

static void test_path_tokens(void **state)
{
	static const char tg[] = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
	static const char slack[] = "XXXXXXXXXXXXXXXXXXXXXXXX";
	static const char discord[] =
		"abcdEFGHijklMNOPqrstUVWXyz0123456789_-abcdEFGHijklMNOPqrstUVWXyz0123";
	char t[512];
	struct fixture *f;

	(void)state;
	f = fixture_new();
	snprintf(t, sizeof(t), "/bot%s/sendMessage?chat_id=1", tg);
	target(f, t);
	assert_int_equal(extract(f), 1);
	assert_int_equal(f->list.items[0].source, CRED_SRC_PATH);
	assert_string_equal(f->list.items[0].header, "telegram-bot-path");
	assert_secret(&f->list.items[0], tg);
	cred_list_wipe(&f->list);
	free(f);

	f = fixture_new();
	snprintf(t, sizeof(t), "/services/T0AB12CD3/B0EF45GH6/%s", slack);
	target(f, t);
	assert_int_equal(extract(f), 1);
	assert_string_equal(f->list.items[0].header, "slack-webhook-path");
	assert_secret(&f->list.items[0], slack);
	cred_list_wipe(&f->list);
	free(f);

	f = fixture_new();
	snprintf(t, sizeof(t), "/api/webhooks/112233445566778899/%s?wait=true", discord);
	target(f, t);
	assert_int_equal(extract(f), 1);
	assert_string_equal(f->list.items[0].header, "discord-webhook-path");
	assert_secret(&f->list.items[0], discord);
	cred_list_wipe(&f->list);
	free(f);

	/* shapes that are not credentials: too short, wrong alphabet, in the query */
	static const char *const not_tokens[] = {
		"/bot12:short/x", "/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PAL$saw/x",
		"/botnotdigits:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "/services/T0AB/B0EF/short",
		"/services/t0ab12cd3/B0EF45GH6/XXXXXXXXXXXXXXXXXXXXXXXX", "/api/webhooks/12/abc",
		"/x?p=/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/",
	};
	for (size_t i = 0; i < sizeof(not_tokens) / sizeof(not_tokens[0]); i++) {
		f = fixture_new();
		target(f, not_tokens[i]);
		assert_int_equal(extract(f), 0);
		free(f);
	}
}

static void test_redact_path_tokens(void **state)
{
	(void)state;
	check_redact("/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe?x=1", 256,
		     "/bot{redacted}/getMe?x=");
	check_redact("/services/T0AB12CD3/B0EF45GH6/XXXXXXXXXXXXXXXXXXXXXXXX", 256,
		     "/services/T0AB12CD3/B0EF45GH6/{redacted}");
	/* no room for the whole mark: nothing of the token either */
	check_redact("/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe", 8, "/bot");
}

static void test_redact_target(void **state)
{
	char out[8];

	(void)state;
	check_redact("/x?a=1&b=2#frag", 256, "/x?a=&b=");
	check_redact("/plain/path", 256, "/plain/path");
	check_redact("/x?flag&k=v=w&&z=", 256, "/x?flag&k=&&z=");
	check_redact("/x?a=1?b=2&c=3", 256, "/x?a=&c=");
	check_redact("/x#f?a=1", 256, "/x");
	check_redact("/a\x01" "b?n\x7f=\x02secret", 256, "/a%01b?n%7F=");
	check_redact("/\xc3\xa9?q=\xff", 256, "/%C3%A9?q=");
	check_redact("*", 256, "*");
	check_redact("", 256, "");
	/* Truncation never emits half an escape nor any value byte. */
	check_redact("/x?key=secretvalue", 8, "/x?key=");
	check_redact("/x?key=secretvalue", 4, "/x?");
	check_redact("/\x01\x02", 5, "/%01");
	check_redact("/abc", 1, "");
	assert_int_equal(cred_redact_target("/abc", 4, out, 0), 0);
	assert_int_equal(cred_redact_target("/abc", 4, NULL, 8), 0);
	assert_int_equal(cred_redact_target(NULL, 4, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authorization_schemes),
		cmocka_unit_test(test_authorization_without_scheme),
		cmocka_unit_test(test_authorization_nothing_reusable),
		cmocka_unit_test(test_unknown_scheme),
		cmocka_unit_test(test_sigv4_header),
		cmocka_unit_test(test_aws_v2_sharedkey_sas),
		cmocka_unit_test(test_api_key_headers),
		cmocka_unit_test(test_duplicates_and_limits),
		cmocka_unit_test(test_query_params),
		cmocka_unit_test(test_query_amz_credential),
		cmocka_unit_test(test_query_scratch_bound),
		cmocka_unit_test(test_custom_config),
		cmocka_unit_test(test_indexed_config),
		cmocka_unit_test(test_from_parser),
		cmocka_unit_test(test_redact_target),
		cmocka_unit_test(test_secret_basic_password),
		cmocka_unit_test(test_path_tokens),
		cmocka_unit_test(test_redact_path_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
