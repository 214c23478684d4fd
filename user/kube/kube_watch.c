/* SPDX-License-Identifier: Apache-2.0 */
#include "kube_watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "napper.h"
#include "wipe.h"

#define TOKEN_MAX 16384
#define TOKEN_REREAD_MS 60000
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* The API server ends a watch after timeoutSeconds; the client gives it a margin. */
#define WATCH_TIMEOUT_S 300
#define CONNECT_TIMEOUT_MS 5000
#define LIST_TIMEOUT_MS 60000
#define URL_MAX 1024
/* the fuzz build compiles every file without the version */
#ifndef TOKENTAP_VERSION
#define TOKENTAP_VERSION "0"
#endif

struct kube_watch {
	struct kube_config cfg;
	char node[254];
	struct kube_cache *cache;
	pthread_t thread;
	struct napper nap;
	atomic_bool stop;
	atomic_uint_fast64_t errors;
	atomic_int synced;

	char token[TOKEN_MAX];
	int64_t token_read_ms;
	char rv[KUBE_RV_MAX];

	/* the transfer under way */
	char *buf;
	size_t len, cap, limit;
	bool watching, overflow, relist, bad_line;
	long status;
	CURL *curl;
};

static void add_error(struct kube_watch *w)
{
	atomic_fetch_add(&w->errors, 1);
}

/* Reads the token file: printable, no spaces, trailing newline trimmed. */
static int read_token(struct kube_watch *w)
{
	char buf[TOKEN_MAX];
	ssize_t n;
	size_t i;
	int fd;

	w->token_read_ms = clock_mono_ms();
	if (!w->cfg.token_file[0]) {
		secure_wipe(w->token, sizeof(w->token));
		return 0;
	}
	fd = open(w->cfg.token_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_warn("kube: cannot open the token file %s: %s", w->cfg.token_file, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		log_warn("kube: cannot read the token file %s", w->cfg.token_file);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	for (i = 0; i < (size_t)n; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			break;
	if (n == 0 || i < (size_t)n || n == (ssize_t)sizeof(buf) - 1) {
		secure_wipe(buf, sizeof(buf));
		log_warn("kube: the token file %s does not hold a token", w->cfg.token_file);
		return -1;
	}
	secure_wipe(w->token, sizeof(w->token));
	memcpy(w->token, buf, (size_t)n);
	w->token[n] = '\0';
	secure_wipe(buf, sizeof(buf));
	return 0;
}

static void handle_event(struct kube_watch *w, const char *line, size_t len)
{
	struct kube_watch_event *ev = malloc(sizeof(*ev));

	if (!ev)
		return;
	if (kube_watch_line_parse(line, len, ev) != 0) {
		w->bad_line = true;
		free(ev);
		return;
	}
	switch (ev->type) {
	case KUBE_ADDED:
	case KUBE_MODIFIED:
		kube_cache_put(w->cache, &ev->pod);
		break;
	case KUBE_DELETED:
		kube_cache_delete(w->cache, ev->pod.uid, clock_mono_ms());
		break;
	case KUBE_BOOKMARK:
		break;
	case KUBE_ERROR:
		/* 410 Gone: the resourceVersion is too old; anything else: start over too */
		w->relist = true;
		if (ev->code != 410)
			w->bad_line = true;
		break;
	}
	if (ev->type != KUBE_ERROR && ev->resource_version[0])
		memcpy(w->rv, ev->resource_version, sizeof(w->rv));
	free(ev);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct kube_watch *w = ctx;
	size_t n = size * nmemb, i;

	if (!w->status)
		curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->status);
	/* an error answer's body is not read */
	if (w->status != 200)
		return n;
	for (i = 0; i < n; i++) {
		char ch = data[i];

		if (w->watching && ch == '\n') {
			if (w->len)
				handle_event(w, w->buf, w->len);
			w->len = 0;
			if (w->relist)
				return 0; /* ends the watch */
			continue;
		}
		if (w->len + 1 >= w->limit) {
			w->overflow = true;
			return 0;
		}
		if (w->len + 1 >= w->cap) {
			size_t nc = w->cap ? w->cap * 2 : 65536;
			char *nb;

			if (nc > w->limit)
				nc = w->limit;
			nb = realloc(w->buf, nc);
			if (!nb) {
				w->overflow = true;
				return 0;
			}
			w->buf = nb;
			w->cap = nc;
		}
		w->buf[w->len++] = ch;
	}
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct kube_watch *w = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&w->stop) ? 1 : 0;
}

/* One GET of path; the HTTP status, or -1 on a transport error. */
static long get(struct kube_watch *w, const char *query, bool watching)
{
	char url[URL_MAX], auth[TOKEN_MAX + 32];
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	CURL *c;

	if (snprintf(url, sizeof(url), "%s/api/v1/pods?fieldSelector=spec.nodeName%%3D%s%s", w->cfg.api,
		     w->node, query) >= (int)sizeof(url))
		return -1;
	c = curl_easy_init();
	if (!c)
		return -1;
	w->curl = c;
	w->len = 0;
	w->status = 0;
	w->overflow = w->relist = w->bad_line = false;
	w->watching = watching;
	w->limit = watching ? KUBE_LINE_MAX : KUBE_LIST_MAX;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (w->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w->token);
		hdrs = curl_slist_append(hdrs, auth);
		secure_wipe(auth, sizeof(auth));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tokentap/" TOKENTAP_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 watching ? (long)(WATCH_TIMEOUT_S + 30) * 1000 : (long)LIST_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	if (w->cfg.ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, w->cfg.ca_file);
	rc = curl_easy_perform(c);
	if (!w->status)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &w->status);
	/* the header list held the bearer token */
	for (struct curl_slist *h = hdrs; h; h = h->next)
		secure_wipe(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	w->curl = NULL;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && w->relist && !w->overflow)) {
		if (!atomic_load(&w->stop))
			log_warn("kube: GET %s: %s", watching ? "watch" : "list", curl_easy_strerror(rc));
		return w->status && w->status != 200 ? w->status : -1;
	}
	return w->status;
}

static void on_listed(void *ctx, const struct kube_pod *p)
{
	kube_cache_put(ctx, p);
}

static int list(struct kube_watch *w)
{
	size_t skipped = 0;
	char rv[KUBE_RV_MAX];
	long st = get(w, "", false);

	if (st != 200)
		return st == 401 ? 401 : -1;
	kube_cache_begin_relist(w->cache);
	if (kube_list_parse(w->buf, w->len, on_listed, w->cache, rv, &skipped) != 0) {
		log_warn("kube: the pod list is malformed");
		return -1;
	}
	kube_cache_end_relist(w->cache, clock_mono_ms());
	if (skipped)
		log_warn("kube: %zu pods of the list were malformed and skipped", skipped);
	memcpy(w->rv, rv, sizeof(w->rv));
	atomic_store(&w->synced, 1);
	log_info("kube: %zu pods on node %s (resourceVersion %s)", kube_cache_count(w->cache),
		 w->node, w->rv);
	return 0;
}

/* 0: the watch ended normally (resume), 410: relist, 401, or -1. */
static int watch(struct kube_watch *w)
{
	char q[160];
	long st;

	snprintf(q, sizeof(q), "&watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
		 WATCH_TIMEOUT_S, w->rv);
	st = get(w, q, true);
	if (st == 401)
		return 401;
	/* an old resourceVersion may also be refused upfront */
	if (st == 410 || w->relist)
		return w->bad_line ? -1 : 410;
	if (st != 200 || w->overflow || w->bad_line)
		return -1;
	return 0;
}

static void *run(void *arg)
{
	struct kube_watch *w = arg;
	long backoff = BACKOFF_MIN_MS;
	bool listed = false;

	read_token(w);
	while (!atomic_load(&w->stop)) {
		int64_t started = clock_mono_ms();
		int rc;

		kube_cache_expire(w->cache, started);
		if (started - w->token_read_ms >= TOKEN_REREAD_MS)
			read_token(w);
		rc = listed ? watch(w) : list(w);
		if (atomic_load(&w->stop))
			break;
		if (rc == 0) {
			/* a watch ended at once, again and again, must not spin on the API */
			if (listed && clock_mono_ms() - started < 1000 &&
			    !napper_nap(&w->nap, BACKOFF_MIN_MS))
				break;
			listed = true;
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		if (rc == 410) {
			log_info("kube: resourceVersion %s expired, listing again", w->rv);
			listed = false;
			if (!napper_nap(&w->nap, BACKOFF_MIN_MS))
				break;
			continue;
		}
		add_error(w);
		if (rc == 401) {
			/* the token rotated: read it again before the retry */
			log_warn("kube: the API server refused the token (401), reading it again");
			read_token(w);
		}
		/* after an error the watch may have missed events: relist */
		listed = false;
		if (!napper_nap(&w->nap, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

struct kube_watch *kube_watch_start(const struct kube_config *cfg, const char *node,
				    struct kube_cache *cache)
{
	struct kube_watch *w = calloc(1, sizeof(*w));
	size_t i;

	if (!w)
		return NULL;
	w->cfg = *cfg;
	/* the node name goes into a URL: a DNS subdomain only */
	for (i = 0; node[i]; i++)
		if (i >= sizeof(w->node) - 1 ||
		    !((node[i] >= 'a' && node[i] <= 'z') || (node[i] >= '0' && node[i] <= '9') ||
		      node[i] == '-' || node[i] == '.')) {
			log_error("kube: node name \"%s\" is not a Kubernetes node name", node);
			free(w);
			return NULL;
		}
	memcpy(w->node, node, i + 1);
	w->cache = cache;
	napper_init(&w->nap);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		napper_destroy(&w->nap);
		free(w);
		return NULL;
	}
	return w;
}

void kube_watch_stop(struct kube_watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	napper_stop(&w->nap);
	pthread_join(w->thread, NULL);
	napper_destroy(&w->nap);
	secure_wipe(w->token, sizeof(w->token));
	free(w->buf);
	free(w);
}

uint64_t kube_watch_errors(struct kube_watch *w)
{
	return w ? atomic_load(&w->errors) : 0;
}

int kube_watch_synced(struct kube_watch *w)
{
	return w ? atomic_load(&w->synced) : 0;
}
