/* SPDX-License-Identifier: Apache-2.0 */
#include "webhook.h"
#include "text.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wipe.h"
#include "timefmt.h"

#ifndef TOKENTAP_VERSION
#define TOKENTAP_VERSION "0"
#endif

#define CONNECT_TIMEOUT_MAX_MS 5000L
#define BACKOFF_BASE_MS 1000LL
#define BACKOFF_MAX_MS (5 * 60 * 1000LL)
#define RETRY_AFTER_MAX_MS (60 * 60 * 1000LL)
/* Retry-After seconds kept before the multiplication, so it cannot overflow. */
#define RETRY_AFTER_KEEP_S (24 * 3600)

static bool visible_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* ---- UTF-8 -------------------------------------------------------------- */

/*
 * Replaces each byte of an invalid UTF-8 sequence with '?'. On serialised
 * JSON this keeps the document valid: such bytes only occur inside strings
 * and are never structural.
 */
static void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (k == 0) {
			p[i++] = '?';
			continue;
		}
		i += k;
	}
}

/* ---- POST --------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* libcurl's global state, set up once whichever thread posts first. */
static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Counts and discards the reply; past NOTIFY_REPLY_MAX, returning 0 makes libcurl stop. */
static size_t on_reply(char *p, size_t size, size_t nmemb, void *arg)
{
	size_t *got = arg;
	size_t n = size * nmemb;

	(void)p;
	if (n > NOTIFY_REPLY_MAX - *got)
		return 0;
	*got += n;
	return n;
}

static int setup_error(struct webhook_result *r, const char *msg)
{
	snprintf(r->error, sizeof(r->error), "%s", msg);
	return -1;
}

/*
 * Only http and https with a host: anything else is refused before libcurl
 * sees it. *userinfo tells whether the URL carries a user or password.
 */
static int check_url(const char *url, bool *userinfo, struct webhook_result *r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *part = NULL;
	int rc = -1;

	if (!u)
		return setup_error(r, "out of memory");
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		rc = -2;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	*userinfo = curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK;
	curl_free(part);
	part = NULL;
	*userinfo |= curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK;
	rc = 0;
out:
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (rc == -1)
		return setup_error(r, "invalid URL");
	if (rc == -2)
		return setup_error(r, "URL scheme must be http or https");
	return 0;
}

/*
 * libcurl's detail text made one printable line; none when it is empty,
 * when the URL has credentials (libcurl may quote them), or when it
 * repeats the bearer.
 */
static const char *clean_detail(char *buf, bool userinfo, const char *bearer)
{
	if (!*buf || userinfo || (bearer && strstr(buf, bearer)))
		return NULL;
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = (*p == '\n' || *p == '\r') ? ' ' : '?';
	for (size_t n = strlen(buf); n > 0 && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
	return *buf ? buf : NULL;
}

static void transport_error(CURL *c, CURLcode rc, long timeout_ms, char *errbuf, bool userinfo,
			    const char *bearer, struct webhook_result *r)
{
	const char *detail = clean_detail(errbuf, userinfo, bearer);
	const char *why = detail ? detail : curl_easy_strerror(rc);
	size_t cap = sizeof(r->error);
	long os_errno = 0;

	r->retry = true;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno > 0)
			why = strerror((int)os_errno);
		snprintf(r->error, cap, "connect: %.200s", why);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(r->error, cap, "timeout: no answer within %ld ms", timeout_ms);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(r->error, cap, "resolve: %.200s", why);
		break;
	default:
		if (detail)
			snprintf(r->error, cap, "%.60s: %.180s", curl_easy_strerror(rc), detail);
		else
			snprintf(r->error, cap, "%.200s", why);
		break;
	}
}

static void http_outcome(CURL *c, long status, struct webhook_result *r)
{
	curl_off_t ra = -1;

	r->http_status = status;
	r->ok = status >= 200 && status <= 299;
	r->retry = status == 408 || status == 425 || status == 429 ||
		   (status >= 500 && status <= 599);
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		r->retry_after_ms = (ra > RETRY_AFTER_KEEP_S ? RETRY_AFTER_KEEP_S : ra) * 1000;
	if (r->ok)
		return;
	if (status >= 300 && status <= 399)
		snprintf(r->error, sizeof(r->error), "HTTP %ld (redirects are not followed)",
			 status);
	else
		snprintf(r->error, sizeof(r->error), "HTTP %ld", status);
}

/* Wipes the header values (one holds the bearer) before freeing the list. */
static void free_headers(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p; p = p->next)
		secure_wipe(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static struct curl_slist *make_headers(const char *bearer)
{
	static const char prefix[] = "Authorization: Bearer ";
	struct curl_slist *h = NULL, *t;
	char auth[sizeof(prefix) + NOTIFY_TOKEN_MAX];

	t = curl_slist_append(h, "Content-Type: application/json");
	if (!t)
		return NULL;
	h = t;
	/* no "Expect: 100-continue" round trip before larger bodies */
	t = curl_slist_append(h, "Expect:");
	if (!t)
		goto fail;
	h = t;
	if (bearer) {
		snprintf(auth, sizeof(auth), "%s%s", prefix, bearer);
		t = curl_slist_append(h, auth);
		secure_wipe(auth, sizeof(auth));
		if (!t)
			goto fail;
		h = t;
	}
	return h;
fail:
	free_headers(h);
	return NULL;
}

int webhook_post(const char *url, const char *bearer, const char *body, size_t len,
		long timeout_ms, struct webhook_result *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	size_t reply_bytes = 0;
	bool userinfo = false;
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (!url)
		return setup_error(r, "no URL");
	if (!body && len)
		return setup_error(r, "no body");
	if (timeout_ms <= 0)
		return setup_error(r, "timeout must be positive");
	if (bearer && (!*bearer || strlen(bearer) > NOTIFY_TOKEN_MAX ||
		       !visible_ascii(bearer, strlen(bearer))))
		return setup_error(r, "bearer token must be 1 to 4096 visible ASCII characters");
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return setup_error(r, "cannot initialise libcurl");
	if (check_url(url, &userinfo, r) < 0)
		return -1;
	headers = make_headers(bearer);
	c = curl_easy_init();
	if (!headers || !c) {
		setup_error(r, "cannot initialise libcurl");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* signals are the process's business: libcurl must not install handlers in a worker */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tokentap-collector/" TOKENTAP_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < CONNECT_TIMEOUT_MAX_MS ? timeout_ms : CONNECT_TIMEOUT_MAX_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply_bytes);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

	rc = curl_easy_perform(c);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
		setup_error(r, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/*
	 * A status line means the receiver answered: that answer decides, even
	 * when the (discarded) response body was cut short or failed.
	 */
	if (status > 0)
		http_outcome(c, status, r);
	else
		transport_error(c, rc, timeout_ms, errbuf, userinfo, bearer, r);
	ret = 0;
out:
	if (c)
		curl_easy_cleanup(c);
	free_headers(headers);
	secure_wipe(errbuf, sizeof(errbuf));
	return ret;
}

int64_t webhook_backoff_ms(unsigned attempt, int64_t retry_after_ms)
{
	int64_t d = 0;

	if (attempt >= 2) {
		d = BACKOFF_MAX_MS;
		/* 1000 << 9 already passes the cap: no shift can overflow */
		if (attempt - 2 < 9)
			d = BACKOFF_BASE_MS << (attempt - 2);
		if (d > BACKOFF_MAX_MS)
			d = BACKOFF_MAX_MS;
	}
	if (retry_after_ms > RETRY_AFTER_MAX_MS)
		retry_after_ms = RETRY_AFTER_MAX_MS;
	return retry_after_ms > d ? retry_after_ms : d;
}

/* ---- bodies ------------------------------------------------------------- */

#define SLACK_TEXT_MAX 8192

struct text {
	char buf[SLACK_TEXT_MAX];
	size_t len;
};

/* Appends a piece whole or not at all, so a cut never splits a UTF-8 sequence. */
static void put(struct text *t, const char *s, size_t n)
{
	if (n >= sizeof(t->buf) - t->len)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void put_str(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/*
 * Appends untrusted text, at most max characters: control characters
 * become spaces, invalid UTF-8 '?', and Slack's three markup characters
 * are escaped so a value cannot ping a channel or forge a link.
 */
static void put_field(struct text *t, const char *s, size_t max, bool upper)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;

	for (size_t i = 0; i < n; chars++) {
		size_t k;

		if (chars == max) {
			put_str(t, "\u2026");
			return;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			put(t, "?", 1);
			i++;
			continue;
		}
		if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			put(t, " ", 1); /* C1 controls */
		} else if (k > 1) {
			put(t, s + i, k);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			put(t, " ", 1);
		} else if (p[i] == '&') {
			put_str(t, "&amp;");
		} else if (p[i] == '<') {
			put_str(t, "&lt;");
		} else if (p[i] == '>') {
			put_str(t, "&gt;");
		} else {
			char c = (char)p[i];

			if (upper && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			put(t, &c, 1);
		}
		i += k;
	}
}

/* A key's value as text: strings and numbers; absent, null, empty or structured -> NULL. */
static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		s = json_object_get_string(v);
		return s && *s ? s : NULL;
	default:
		return NULL;
	}
}

static char *serialise(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = s ? strdup(s) : NULL;

	if (out)
		utf8_scrub(out);
	return out;
}

char *webhook_slack_body(struct json_object *alert)
{
	const char *sev, *rule, *reason, *type, *fp, *node;
	struct json_object *o, *str;
	struct text *t;
	char *out = NULL;

	if (!alert || !json_object_is_type(alert, json_type_object))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	sev = field(alert, "severity");
	rule = field(alert, "rule");
	reason = field(alert, "reason");
	type = field(alert, "token_type");
	fp = field(alert, "fingerprint");
	node = field(alert, "node");

	if (sev) {
		put_str(t, "[");
		put_field(t, sev, 16, true);
		put_str(t, "] ");
	}
	put_field(t, rule ? rule : "alert", 64, false);
	if (reason) {
		put_str(t, ": ");
		put_field(t, reason, 512, false);
	}
	if (type || fp || node)
		put_str(t, " (");
	if (type || fp) {
		put_str(t, "token");
		if (type) {
			put_str(t, " ");
			put_field(t, type, 64, false);
		}
		if (fp) {
			/* a prefix is enough to find the token; the whole key adds nothing */
			put_str(t, " ");
			put_field(t, fp, 8, false);
		}
	}
	if (node) {
		if (type || fp)
			put_str(t, ", ");
		put_str(t, "node ");
		put_field(t, node, 128, false);
	}
	if (type || fp || node)
		put_str(t, ")");

	o = json_object_new_object();
	str = json_object_new_string_len(t->buf, (int)t->len);
	if (o && str && json_object_object_add(o, "text", str) == 0) {
		str = NULL;
		out = serialise(o);
	}
	json_object_put(str);
	json_object_put(o);
	free(t);
	return out;
}

char *webhook_json_body(struct json_object *alert, int64_t now_ms)
{
	struct json_object *o;
	char when[40];
	char *out = NULL;
	int err = 0;

	if (!alert || !json_object_is_type(alert, json_type_object))
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	time_rfc3339_ms(now_ms, when, sizeof(when));
	/* the object takes a reference of its own and drops it with o */
	if (json_object_object_add(o, "alert", json_object_get(alert)) != 0) {
		json_object_put(alert);
		err = 1;
	}
	err |= json_object_object_add(o, "sent_at", json_object_new_string(when));
	err |= json_object_object_add(o, "source", json_object_new_string("tokentap-collector"));
	if (!err)
		out = serialise(o);
	json_object_put(o);
	return out;
}

/* ---- token file --------------------------------------------------------- */

int webhook_read_token_file(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	char buf[NOTIFY_TOKEN_MAX + 1];
	size_t got = 0, s = 0, e;
	struct stat sb;
	int fd, rc = -1;

	if (cap)
		out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > NOTIFY_TOKEN_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path,
			 NOTIFY_TOKEN_MAX);
		goto out;
	}
	/* one byte more than allowed: a file that grew since fstat is caught */
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > NOTIFY_TOKEN_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, NOTIFY_TOKEN_MAX);
		goto out;
	}
	for (e = 0; e < got && buf[e] != '\n'; e++)
		;
	while (s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
		s++;
	while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
		e--;
	if (s == e) {
		snprintf(err, errlen, "%s: the first line holds no token", path);
		goto out;
	}
	if (!visible_ascii(buf + s, e - s)) {
		snprintf(err, errlen, "%s: the token holds characters other than visible ASCII",
			 path);
		goto out;
	}
	if (e - s >= cap) {
		snprintf(err, errlen, "%s: the token is longer than %zu bytes", path,
			 cap ? cap - 1 : 0);
		goto out;
	}
	memcpy(out, buf + s, e - s);
	out[e - s] = '\0';
	rc = 0;
out:
	secure_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

int webhook_url_label(const char *url, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u = curl_url();
	int rc = -1;

	if (!u || !url || cap == 0)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	if (!EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL) || mdlen < 4)
		goto out;
	snprintf(out, cap, "%s://%s%s%s/#%02x%02x%02x%02x", scheme, host, port ? ":" : "",
		 port ? port : "", md[0], md[1], md[2], md[3]);
	rc = 0;
out:
	if (rc < 0 && out && cap)
		snprintf(out, cap, "webhook");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}
