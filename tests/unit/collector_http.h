/* SPDX-License-Identifier: Apache-2.0 */
/* A libcurl client for collector tests: one request, status and body back. */
#ifndef TOKENTAP_TEST_COLLECTOR_HTTP_H
#define TOKENTAP_TEST_COLLECTOR_HTTP_H

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct http_reply {
	long status;
	char *body;   /* NUL-terminated, malloc'd */
	size_t len;
};

static inline size_t http_on_data(char *p, size_t size, size_t n, void *arg)
{
	struct http_reply *r = arg;
	char *nb = realloc(r->body, r->len + size * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, p, size * n);
	r->body = nb;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/*
 * method "GET" or "POST"; headers: NULL-terminated list of "Name: value".
 * Returns 0, or -1 when no HTTP answer came.
 */
static inline int http_do(const char *method, const char *url, const char *const *headers,
			  const void *body, size_t len, struct http_reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (!c)
		return -1;
	for (size_t i = 0; headers && headers[i]; i++)
		h = curl_slist_append(h, headers[i]);
	/* no "Expect: 100-continue" round trip, no default Content-Type */
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (!r->body)
		r->body = calloc(1, 1);
	return rc == CURLE_OK ? 0 : -1;
}

static inline void http_reply_free(struct http_reply *r)
{
	free(r->body);
	r->body = NULL;
}

#endif
