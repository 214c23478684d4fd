/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_fetch.h"
#include "auth.h"
#include "wipe.h"
#include "risk.h"
#include "token_page_args.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE (256u << 20)

struct body {
	char *p;
	size_t len;
	int too_large;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	char *np;

	if (add > MAX_RESPONSE - b->len) {
		b->too_large = 1;
		return 0;
	}
	np = realloc(b->p, b->len + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->len, data, add);
	b->p = np;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

int cli_source_open(struct cli_source *s, char *err, size_t errlen)
{
	char token[AUTH_TOKEN_MAX + 1], hdr[AUTH_TOKEN_MAX + 32];

	if (!!s->db == !!s->url) {
		snprintf(err, errlen, "give exactly one of --db PATH and --url URL");
		return -1;
	}
	if (s->db) {
		s->st = store_open(s->db, STORE_READONLY, err, errlen);
		return s->st ? 0 : -1;
	}
	if (strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8)) {
		snprintf(err, errlen, "--url must start with http:// or https://");
		return -1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	s->curl = curl_easy_init();
	if (!s->curl) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	if (s->token_file) {
		if (auth_read_token(s->token_file, token, sizeof(token), err, errlen) < 0)
			return -1;
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
		s->headers = curl_slist_append(NULL, hdr);
		secure_wipe(token, sizeof(token));
		secure_wipe(hdr, sizeof(hdr));
		if (!s->headers) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

void cli_source_close(struct cli_source *s)
{
	store_close(s->st);
	s->st = NULL;
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		curl_slist_free_all(s->headers);
		curl_global_cleanup();
	}
	s->curl = NULL;
	s->headers = NULL;
}

/* GET base+path. 1 on 200 with *out parsed, 0 on 404, -1 on anything else. */
static int http_get(struct cli_source *s, const char *path, struct json_object **out, char *err,
		    size_t errlen)
{
	struct body b = { 0 };
	size_t blen = strlen(s->url);
	char *url;
	long code = 0;
	CURLcode rc;
	int res = -1;

	while (blen > 0 && s->url[blen - 1] == '/')
		blen--;
	url = malloc(blen + strlen(path) + 1);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(url, s->url, blen);
	strcpy(url + blen, path);
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(s->curl);
	free(url);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", s->url,
			 b.too_large ? "response too large" : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 404 && strncmp(path, "/v1/tokens/", 11) == 0) {
		res = 0;
		goto out;
	}
	{
		struct json_object *o = b.p ? json_tokener_parse(b.p) : NULL;
		struct json_object *e;

		if (code == 200 && o) {
			*out = o;
			res = 1;
			goto out;
		}
		if (o && json_object_object_get_ex(o, "error", &e))
			snprintf(err, errlen, "%s: HTTP %ld: %s", s->url, code, json_object_get_string(e));
		else
			snprintf(err, errlen, "%s: HTTP %ld%s", s->url, code,
				 code == 200 ? ": response is not JSON" : "");
		json_object_put(o);
	}
out:
	free(b.p);
	return res;
}

int cli_fetch_tokens(struct cli_source *s, enum token_sort sort, struct json_object **out,
		     char *err, size_t errlen)
{
	if (s->st)
		return store_query_tokens(s->st, sort, out, err, errlen);
	return http_get(s, sort == TOKEN_SORT_REQUESTS ? "/v1/tokens?sort=requests" :
			   sort == TOKEN_SORT_RISK ? "/v1/tokens?sort=risk" : "/v1/tokens?sort=last_seen",
			out, err, errlen) == 1 ? 0 : -1;
}

int cli_fetch_token_page(struct cli_source *s, const struct token_page_query *q,
			 const char *const *args, struct json_object **out, char *err,
			 size_t errlen)
{
	char *path;
	size_t len = sizeof("/v1/tokens");
	int rc;

	if (s->st)
		return store_query_token_page(s->st, q, out, err, errlen);
	/* the values were validated, but a workload or node may hold any printable byte */
	for (size_t i = 0; i < TOKEN_PAGE_ARG_COUNT; i++)
		if (args[i])
			len += strlen(token_page_arg_names[i]) + 2 + 3 * strlen(args[i]);
	path = malloc(len);
	if (!path) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	strcpy(path, "/v1/tokens");
	for (size_t i = 0, n = 0; i < TOKEN_PAGE_ARG_COUNT; i++) {
		char *v;

		if (!args[i])
			continue;
		v = curl_easy_escape(s->curl, args[i], 0);
		if (!v) {
			free(path);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		strcat(path, n++ ? "&" : "?");
		strcat(path, token_page_arg_names[i]);
		strcat(path, "=");
		strcat(path, v);
		curl_free(v);
	}
	rc = http_get(s, path, out, err, errlen) == 1 ? 0 : -1;
	free(path);
	return rc;
}

int cli_fetch_token(struct cli_source *s, const char *fingerprint, struct json_object **out,
		    char *err, size_t errlen)
{
	char path[64];

	if (s->st)
		return store_query_token(s->st, fingerprint, out, err, errlen);
	/* the caller validated the fingerprint: nothing to escape */
	snprintf(path, sizeof(path), "/v1/tokens/%s", fingerprint);
	return http_get(s, path, out, err, errlen);
}

int cli_fetch_alerts(struct cli_source *s, const struct alert_filter *f, struct json_object **out,
		     char *err, size_t errlen)
{
	char path[160];

	if (s->st)
		return store_query_alerts(s->st, f, out, err, errlen);
	/* every value is validated by the caller: nothing to escape */
	snprintf(path, sizeof(path), "/v1/alerts?min_severity=%s&limit=%u%s%s",
		 risk_severity_name((enum risk_severity)f->min_severity), f->limit,
		 f->fingerprint ? "&fingerprint=" : "", f->fingerprint ? f->fingerprint : "");
	return http_get(s, path, out, err, errlen) == 1 ? 0 : -1;
}

int cli_fetch_coverage(struct cli_source *s, struct json_object **out, char *err, size_t errlen)
{
	if (s->st)
		return store_query_coverage(s->st, out, err, errlen);
	return http_get(s, "/v1/coverage", out, err, errlen) == 1 ? 0 : -1;
}

int cli_fetch_sensors(struct cli_source *s, struct json_object **out, char *err, size_t errlen)
{
	if (s->st)
		return store_query_sensors(s->st, out, err, errlen);
	return http_get(s, "/v1/sensors", out, err, errlen) == 1 ? 0 : -1;
}
