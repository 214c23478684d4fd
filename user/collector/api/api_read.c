/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of the HTTP API: inventory queries, health and metrics. */
#include "batch_check.h"
#include "http_server_internal.h"
#include "log.h"
#include "numarg.h"
#include "risk.h"
#include "store.h"
#include "token_page_args.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_PREFIX "/v1/tokens/"

static enum MHD_Result reply_text(struct MHD_Connection *conn, char *text, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result query_failed(struct server *srv, struct MHD_Connection *conn,
				    const char *method, const char *url, const char *err)
{
	log_error("%s", err);
	return reply_reject(srv, conn, method, url, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    REJECT_STORE_ERROR, "store query failed");
}

static const char *query_arg(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * GET /v1/tokens?sort=: the whole list (an array), as before; with limit,
 * cursor or a filter, one page: {"tokens": [...], "next_cursor": "..."}.
 */
static enum MHD_Result get_tokens(struct server *srv, struct MHD_Connection *conn,
				  const char *method, const char *url)
{
	struct token_page_query q;
	struct json_object *out;
	const char *why = "";
	char err[256];
	int paged = token_page_args(query_arg, conn, &q, &why);

	if (paged < 0)
		return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST,
				    REJECT_BAD_REQUEST, why);
	if (paged ? store_query_token_page(srv->cfg.store, &q, &out, err, sizeof(err)) < 0 :
		    store_query_tokens(srv->cfg.store, q.sort, &out, err, sizeof(err)) < 0)
		return query_failed(srv, conn, method, url, err);
	return reply_json(conn, MHD_HTTP_OK, out);
}

static enum MHD_Result get_token(struct server *srv, struct MHD_Connection *conn,
				 const char *method, const char *url, const char *fp)
{
	struct json_object *out = NULL;
	char err[256];
	int rc;

	if (!fingerprint_valid(fp))
		return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST,
				    REJECT_BAD_REQUEST,
				    "a fingerprint is 32 lowercase hexadecimal characters");
	rc = store_query_token(srv->cfg.store, fp, &out, err, sizeof(err));
	if (rc < 0)
		return query_failed(srv, conn, method, url, err);
	if (rc == 0)
		return reply_reject(srv, conn, method, url, MHD_HTTP_NOT_FOUND, REJECT_NOT_FOUND,
				    "unknown token");
	return reply_json(conn, MHD_HTTP_OK, out);
}

/* GET /v1/alerts?min_severity=&fingerprint=&since=<unix ms>&limit= */
static enum MHD_Result get_alerts(struct server *srv, struct MHD_Connection *conn,
				  const char *method, const char *url)
{
	const char *sev = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "min_severity");
	const char *fp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fingerprint");
	const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
	const char *limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
	struct alert_filter f = { 0 };
	enum risk_severity s = RISK_SEV_INFO;
	struct json_object *out;
	uint64_t v;
	char err[256];

	if (sev && risk_severity_parse(sev, &s) < 0)
		return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST, REJECT_BAD_REQUEST,
				    "min_severity must be info, low, medium, high or critical");
	if (fp && !fingerprint_valid(fp))
		return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST, REJECT_BAD_REQUEST,
				    "a fingerprint is 32 lowercase hexadecimal characters");
	if (since) {
		if (numarg_uint(since, 0, INT64_MAX, &v) < 0)
			return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST,
					    REJECT_BAD_REQUEST, "since must be Unix milliseconds");
		f.since_ms = (int64_t)v;
	}
	if (limit) {
		if (numarg_uint(limit, 1, 100000, &v) < 0)
			return reply_reject(srv, conn, method, url, MHD_HTTP_BAD_REQUEST,
					    REJECT_BAD_REQUEST, "limit must be 1..100000");
		f.limit = (unsigned)v;
	}
	f.min_severity = (int)s;
	f.fingerprint = fp;
	if (store_query_alerts(srv->cfg.store, &f, &out, err, sizeof(err)) < 0)
		return query_failed(srv, conn, method, url, err);
	return reply_json(conn, MHD_HTTP_OK, out);
}

static enum MHD_Result get_v1(struct server *srv, struct MHD_Connection *conn,
			      const char *method, const char *url)
{
	struct json_object *out;
	char err[256];
	/* a read token (Bearer or a console session), or loopback when none is configured */
	enum read_access acc = console_read_access(srv, conn);

	if (acc != READ_OK)
		return console_refuse_read(srv, conn, method, url, acc);
	if (!strcmp(url, "/v1/tokens"))
		return get_tokens(srv, conn, method, url);
	if (!strcmp(url, "/v1/alerts"))
		return get_alerts(srv, conn, method, url);
	if (!strncmp(url, TOKENS_PREFIX, strlen(TOKENS_PREFIX)))
		return get_token(srv, conn, method, url, url + strlen(TOKENS_PREFIX));
	if (!strcmp(url, "/v1/coverage")) {
		if (store_query_coverage(srv->cfg.store, &out, err, sizeof(err)) < 0)
			return query_failed(srv, conn, method, url, err);
		return reply_json(conn, MHD_HTTP_OK, out);
	}
	if (!strcmp(url, "/v1/sensors")) {
		if (store_query_sensors(srv->cfg.store, &out, err, sizeof(err)) < 0)
			return query_failed(srv, conn, method, url, err);
		return reply_json(conn, MHD_HTTP_OK, out);
	}
	return reply_reject(srv, conn, method, url, MHD_HTTP_NOT_FOUND, REJECT_NOT_FOUND,
			    "no such endpoint");
}

enum MHD_Result api_read(struct server *srv, struct MHD_Connection *conn, const char *method,
			 const char *url)
{
	bool known = !strcmp(url, "/healthz") || !strcmp(url, "/metrics") ||
		     !strncmp(url, "/v1/", 4);

	if (!known)
		return reply_reject(srv, conn, method, url, MHD_HTTP_NOT_FOUND, REJECT_NOT_FOUND,
				    "no such endpoint");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_reject(srv, conn, method, url, MHD_HTTP_METHOD_NOT_ALLOWED,
				    REJECT_METHOD_NOT_ALLOWED, "use GET");
	if (!strcmp(url, "/healthz")) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "status", json_object_new_string("ok"));
		return reply_json(conn, MHD_HTTP_OK, o);
	}
	if (!strcmp(url, "/metrics")) {
		size_t len = 0;
		char *text = metrics_render(srv->cfg.metrics, &len);

		return text ? reply_text(conn, text, len) : MHD_NO;
	}
	return get_v1(srv, conn, method, url);
}
