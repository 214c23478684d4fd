/* SPDX-License-Identifier: Apache-2.0 */
/* What the server's files share: the daemon state and reply helpers. */
#ifndef TOKENTAP_HTTP_SERVER_INTERNAL_H
#define TOKENTAP_HTTP_SERVER_INTERNAL_H

#include <json-c/json.h>
#include <microhttpd.h>
#include "console.h"
#include "http_server.h"

struct server {
	struct server_config cfg;
	struct MHD_Daemon *daemon;
	uint16_t port;
	struct console console;  /* sessions and the login guard */
};

/* Queues obj (consumed) as a JSON answer (api_reply.c). */
enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, struct json_object *obj);
/* Counts and logs a refusal in one line, without answering it (api_reply.c). */
void note_reject(struct server *srv, struct MHD_Connection *conn, const char *method,
		 const char *url, unsigned status, enum reject_reason reason, const char *msg);
/* Counts, logs and answers {"error": msg}. method/url name the request in the log. */
enum MHD_Result reply_reject(struct server *srv, struct MHD_Connection *conn, const char *method,
			     const char *url, unsigned status, enum reject_reason reason,
			     const char *msg);

/* GET /healthz, /metrics, /v1/... : answers every request it is given. */
enum MHD_Result api_read(struct server *srv, struct MHD_Connection *conn, const char *method,
			 const char *url);

#endif
