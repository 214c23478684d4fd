/* SPDX-License-Identifier: Apache-2.0 */
/* The console's requests: pages, assets, login and logout, and read access. */
#include "console.h"
#include "clock.h"
#include "console_assets.h"
#include "form.h"
#include "http_server_internal.h"
#include "security_headers.h"
#include "wipe.h"

#include <stdio.h>
#include <string.h>

#define BEARER "Bearer "

void console_init(struct console *c)
{
	session_table_init(&c->sessions);
	login_limit_init(&c->limit);
}

void console_free(struct console *c)
{
	session_table_free(&c->sessions);
	login_limit_free(&c->limit);
}

bool console_owns(const char *url)
{
	return !strcmp(url, "/") || !strcmp(url, "/login") || !strcmp(url, "/logout") ||
	       !strncmp(url, "/assets/", 8);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The collector serves TLS only when MHD was started with it. */
static bool is_tls(struct MHD_Connection *conn)
{
	return MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL) != NULL;
}

static bool from_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	/* the Host check keeps a rebinding DNS name from reaching a loopback-only console */
	return ci && peer_is_loopback(ci->client_addr) &&
	       host_is_loopback(header(conn, MHD_HTTP_HEADER_HOST));
}

enum read_access console_read_access(struct server *srv, struct MHD_Connection *conn)
{
	const char *authz, *cookie;

	if (!srv->cfg.read_auth)
		return from_loopback(conn) ? READ_OK : READ_NOT_LOOPBACK;
	authz = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz) {
		switch (auth_check(srv->cfg.read_auth, authz)) {
		case AUTH_OK:
			return READ_OK;
		case AUTH_MISSING:
			break;
		default:
			return READ_WRONG;
		}
	}
	cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, CONSOLE_COOKIE);
	if (!cookie)
		return READ_MISSING;
	return session_valid(&srv->console.sessions, cookie, clock_real_ms()) ? READ_OK : READ_WRONG;
}

enum MHD_Result console_refuse_read(struct server *srv, struct MHD_Connection *conn,
				    const char *method, const char *url, enum read_access a)
{
	switch (a) {
	case READ_MISSING:
		return reply_reject(srv, conn, method, url, MHD_HTTP_UNAUTHORIZED,
				    REJECT_UNAUTHORIZED, "missing Bearer read token or console session");
	case READ_NOT_LOOPBACK:
		return reply_reject(srv, conn, method, url, MHD_HTTP_FORBIDDEN, REJECT_FORBIDDEN,
				    "no read token configured: reads are served to loopback clients (Host localhost or a loopback address) only");
	default:
		return reply_reject(srv, conn, method, url, MHD_HTTP_FORBIDDEN, REJECT_FORBIDDEN,
				    "read token or console session not accepted");
	}
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
			    struct MHD_Response *resp)
{
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	security_headers_add(resp);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const struct console_asset *a)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, a->cache_control);
	return queue(conn, MHD_HTTP_OK, resp);
}

/* 303 to location, optionally setting (or, with value "", clearing) the session cookie. */
static enum MHD_Result redirect(struct MHD_Connection *conn, const char *location,
				const char *cookie_value)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char cookie[256];

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (cookie_value) {
		snprintf(cookie, sizeof(cookie),
			 "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", CONSOLE_COOKIE,
			 cookie_value, cookie_value[0] ? "; Max-Age=43200" : "; Max-Age=0",
			 is_tls(conn) ? "; Secure" : "");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
		secure_wipe(cookie, sizeof(cookie));
	}
	return queue(conn, MHD_HTTP_SEE_OTHER, resp);
}

/*
 * A state-changing POST must come from a page of this collector: its
 * Origin, or, where the browser withholds the Origin ("null" under
 * Referrer-Policy: no-referrer), its Sec-Fetch-Site, which no page can set.
 */
static bool same_origin(struct MHD_Connection *conn)
{
	const char *origin = header(conn, "Origin");
	const char *site = header(conn, "Sec-Fetch-Site");

	if (origin && strcmp(origin, "null"))
		return origin_matches(origin, header(conn, MHD_HTTP_HEADER_HOST), is_tls(conn));
	return site && !strcmp(site, "same-origin");
}

/* Whether token (the form's field) is one of the read tokens; wipes its copy. */
static bool token_accepted(struct server *srv, const char *token, size_t len)
{
	char authz[sizeof(BEARER) + AUTH_TOKEN_MAX];
	bool ok;

	if (len == 0 || len > AUTH_TOKEN_MAX)
		return false;
	memcpy(authz, BEARER, strlen(BEARER));
	memcpy(authz + strlen(BEARER), token, len + 1);
	ok = auth_check(srv->cfg.read_auth, authz) == AUTH_OK;
	secure_wipe(authz, sizeof(authz));
	return ok;
}

static enum MHD_Result login(struct server *srv, struct MHD_Connection *conn, const char *method,
			     const char *url, const char *body, size_t len)
{
	char token[AUTH_TOKEN_MAX + 1], session[SESSION_VALUE_LEN + 1];
	int64_t now = clock_real_ms();
	long n;
	bool ok;

	if (!srv->cfg.read_auth)
		return redirect(conn, "/", NULL);
	if (!same_origin(conn))
		return reply_reject(srv, conn, method, url, MHD_HTTP_FORBIDDEN, REJECT_FORBIDDEN,
				    "login must come from the console's own page (Origin)");
	if (!login_limit_allow(&srv->console.limit, now))
		return reply_reject(srv, conn, method, url, MHD_HTTP_TOO_MANY_REQUESTS,
				    REJECT_FORBIDDEN, "too many failed logins, try again in a minute");
	n = body ? form_field(body, len, "token", token, sizeof(token)) : -1;
	ok = n > 0 && token_accepted(srv, token, (size_t)n);
	secure_wipe(token, sizeof(token));
	if (!ok) {
		login_limit_fail(&srv->console.limit, now);
		note_reject(srv, conn, method, url, MHD_HTTP_SEE_OTHER, REJECT_FORBIDDEN,
			    "console login with a token not accepted");
		return redirect(conn, "/login?failed=1", NULL);
	}
	if (session_create(&srv->console.sessions, now, session) < 0)
		return reply_reject(srv, conn, method, url, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    REJECT_STORE_ERROR, "cannot create a session");
	return redirect(conn, "/", session);
}

static enum MHD_Result logout(struct server *srv, struct MHD_Connection *conn, const char *method,
			      const char *url)
{
	if (!same_origin(conn))
		return reply_reject(srv, conn, method, url, MHD_HTTP_FORBIDDEN, REJECT_FORBIDDEN,
				    "logout must come from the console's own page (Origin)");
	session_end(&srv->console.sessions,
		    MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, CONSOLE_COOKIE));
	return redirect(conn, srv->cfg.read_auth ? "/login" : "/", "");
}

static enum MHD_Result get(struct server *srv, struct MHD_Connection *conn, const char *method,
			   const char *url)
{
	const struct console_asset *a = console_asset_find(url);
	enum read_access acc = console_read_access(srv, conn);

	if (acc == READ_NOT_LOOPBACK)
		return console_refuse_read(srv, conn, method, url, acc);
	if (!a)
		return reply_reject(srv, conn, method, url, MHD_HTTP_NOT_FOUND, REJECT_NOT_FOUND,
				    "no such page");
	if (!strcmp(url, "/login") && (!srv->cfg.read_auth || acc == READ_OK))
		return redirect(conn, "/", NULL);
	/* the pages hold no data, but a visitor without a session is sent to log in */
	if (!strcmp(url, "/") && acc != READ_OK)
		return redirect(conn, "/login", NULL);
	return serve_asset(conn, a);
}

enum MHD_Result console_handle(struct server *srv, struct MHD_Connection *conn,
			       const char *method, const char *url, const char *body, size_t len)
{
	bool post = !strcmp(method, MHD_HTTP_METHOD_POST);

	if (post && !strcmp(url, "/login"))
		return login(srv, conn, method, url, body, len);
	if (post && !strcmp(url, "/logout"))
		return logout(srv, conn, method, url);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_reject(srv, conn, method, url, MHD_HTTP_METHOD_NOT_ALLOWED,
				    REJECT_METHOD_NOT_ALLOWED, "use GET (POST for /login, /logout)");
	return get(srv, conn, method, url);
}
