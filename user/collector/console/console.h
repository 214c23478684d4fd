/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The web console at / and who may read: pages and assets, the login form
 * that sets a session cookie, logout, and the read-access decision shared
 * with the JSON reads under /v1/ (a read token as Bearer header or a console session;
 * with no read token configured, loopback clients only).
 */
#ifndef TOKENTAP_CONSOLE_H
#define TOKENTAP_CONSOLE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include "login_limit.h"
#include "session.h"

#define CONSOLE_FORM_MAX 8192   /* largest POST /login body */
#define CONSOLE_COOKIE "tokentap_session"

struct server;

struct console {
	struct session_table sessions;
	struct login_limit limit;
};

void console_init(struct console *c);
void console_free(struct console *c);

/* Whether url belongs to the console: /, /login, /logout, /assets/... */
bool console_owns(const char *url);

/* Answers a console request; body is the POST form (NULL, 0 when none). */
enum MHD_Result console_handle(struct server *srv, struct MHD_Connection *conn,
			       const char *method, const char *url, const char *body, size_t len);

enum read_access {
	READ_OK,
	READ_MISSING,       /* no credential: 401 */
	READ_WRONG,         /* a token or session that is not accepted: 403 */
	READ_NOT_LOOPBACK,  /* no read token configured and a remote client: 403 */
};

/* Whether this request may read the inventory. */
enum read_access console_read_access(struct server *srv, struct MHD_Connection *conn);
/* The refusal to send for a READ_* other than READ_OK. */
enum MHD_Result console_refuse_read(struct server *srv, struct MHD_Connection *conn,
				    const char *method, const char *url, enum read_access a);

#endif
