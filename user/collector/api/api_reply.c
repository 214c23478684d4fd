/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the collector answers: a JSON body with its status and headers, and
 * a refusal counted by reason and logged in one line (the client's address,
 * the method and a short printable path; never a body or a token). Shared
 * by the daemon (http_server.c) and the read API (api_read.c).
 */
#include "http_server_internal.h"
#include "log.h"
#include "security_headers.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t len;

	snprintf(out, cap, "?");
	if (!ci || !ci->client_addr)
		return;
	len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						     : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, cap, ci->client_addr->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			 host, serv);
}

enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t n = strlen(s);
	char *copy = malloc(n + 1);

	if (!copy) {
		json_object_put(obj);
		return MHD_NO;
	}
	memcpy(copy, s, n);
	copy[n++] = '\n';
	json_object_put(obj);
	resp = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	security_headers_add(resp);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void sanitize_url(const char *url, char *out, size_t cap)
{
	size_t i = 0;

	/* the path is attacker-chosen: short and printable in the log */
	for (; url && url[i] && i + 1 < cap && i < 80; i++)
		out[i] = (url[i] > 0x20 && url[i] < 0x7f) ? url[i] : '?';
	out[i] = '\0';
}

/* Counts and logs a refusal in one line. */
void note_reject(struct server *srv, struct MHD_Connection *conn, const char *method,
			const char *url, unsigned status, enum reject_reason reason,
			const char *msg)
{
	char addr[NI_MAXHOST + NI_MAXSERV + 4], path[96], m[16];

	metrics_reject(srv->cfg.metrics, reason);
	client_addr(conn, addr, sizeof(addr));
	sanitize_url(url, path, sizeof(path));
	sanitize_url(method, m, sizeof(m));
	/* routine (any client can provoke it): info, so the line reads the same at any level */
	log_info("rejected %s %s from %s: %u %s: %s", m, path, addr, status,
		 reject_reason_name(reason), msg);
}

enum MHD_Result reply_reject(struct server *srv, struct MHD_Connection *conn, const char *method,
			     const char *url, unsigned status, enum reject_reason reason,
			     const char *msg)
{
	struct json_object *o = json_object_new_object();

	note_reject(srv, conn, method, url, status, reason, msg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	return reply_json(conn, status, o);
}
