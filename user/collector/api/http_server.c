/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon, request dispatch and POST /v1/batches. */
#include "http_server_internal.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "timefmt.h"
#include "wipe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define FIRST_BODY_CAP (64 * 1024)
#define MAX_FIRST_BODY_CAP (1024 * 1024)
/* Body bytes read (kept or discarded) per request, in multiples of max_body. */
#define DRAIN_FACTOR 4

/*
 * Early refusals and the race they used to lose. MHD 0.9 accepts a response
 * only before the body (from the first call) or after all of it; one queued
 * before a POST/PUT body makes MHD stop reading, answer with "Connection:
 * close" and close the socket. If the client is still sending, that close
 * with unread bytes is a reset, and the reset can destroy the answer before
 * the client reads it. So a refusal decided from the headers is kept here
 * and sent once the body has been read and discarded, up to DRAIN_FACTOR
 * times max_body: past that the connection is closed without an answer, so
 * nobody can make the server read forever. A client that declares more
 * than that is answered at once (best effort; an Expect: 100-continue
 * client has sent nothing yet and gets it cleanly). Expect alone does not
 * make us answer early: MHD sends the 100 itself when the first call
 * queues nothing, and a client whose wait for the 100 timed out is already
 * sending, so it would be exposed to the same reset.
 */
struct refusal {
	unsigned status;     /* 0: none */
	enum reject_reason reason;
	const char *msg;     /* a string literal */
};

/* Per-request state, from the headers to the completion callback. */
struct req {
	bool is_batch;
	bool is_form;        /* a console POST: its small body is kept */
	bool has_body;       /* Content-Length > 0 or chunked */
	bool read_later;     /* a read endpoint, answered once its body is drained */
	bool too_large;      /* body over the limit: read and dropped */
	struct refusal refusal;
	uint64_t declared;   /* Content-Length, 0 when absent */
	uint8_t *buf;
	size_t len, cap;
	uint64_t received;   /* body bytes read so far, kept or not */
};

static uint64_t drain_max(const struct server *srv)
{
	return (uint64_t)srv->cfg.limits.max_body * DRAIN_FACTOR;
}

/*
 * A refusal from the headers: answered now when there is no body to wait
 * for (or more than we would ever read), otherwise once the body is drained.
 */
static enum MHD_Result refuse(struct server *srv, struct MHD_Connection *conn, struct req *r,
			      const char *method, const char *url, unsigned status,
			      enum reject_reason reason, const char *msg)
{
	if (!r->has_body || r->declared > drain_max(srv))
		return reply_reject(srv, conn, method, url, status, reason, msg);
	r->refusal = (struct refusal){ .status = status, .reason = reason, .msg = msg };
	return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Media type without parameters, case-insensitive. */
static bool is_protobuf(const char *ct)
{
	static const char want[] = "application/x-protobuf";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Header checks before any body byte is read. */
static enum MHD_Result batch_begin(struct server *srv, struct MHD_Connection *conn, struct req *r,
				   const char *method, const char *url)
{
	const char *ce = header(conn, MHD_HTTP_HEADER_CONTENT_ENCODING);

	if (srv->cfg.sensor_auth) {
		switch (auth_check(srv->cfg.sensor_auth, header(conn, MHD_HTTP_HEADER_AUTHORIZATION))) {
		case AUTH_OK:
			break;
		case AUTH_MISSING:
			return refuse(srv, conn, r, method, url, MHD_HTTP_UNAUTHORIZED,
				      REJECT_UNAUTHORIZED, "missing Bearer sensor token");
		default:
			return refuse(srv, conn, r, method, url, MHD_HTTP_FORBIDDEN,
				      REJECT_FORBIDDEN, "sensor token not accepted");
		}
	}
	if (!is_protobuf(header(conn, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return refuse(srv, conn, r, method, url, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			      REJECT_UNSUPPORTED_MEDIA_TYPE,
			      "Content-Type must be application/x-protobuf");
	if (ce && strcasecmp(ce, "gzip") && strcasecmp(ce, "identity") && strcasecmp(ce, "x-gzip"))
		return refuse(srv, conn, r, method, url, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			      REJECT_UNSUPPORTED_MEDIA_TYPE,
			      "Content-Encoding must be gzip or identity");
	if (r->declared > srv->cfg.limits.max_body)
		return refuse(srv, conn, r, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
			      REJECT_BODY_TOO_LARGE, "request body exceeds the size limit");
	r->cap = (size_t)r->declared;
	/* a claimed length is believed only up to a point before bytes arrive */
	if (r->cap == 0)
		r->cap = FIRST_BODY_CAP;
	else if (r->cap > MAX_FIRST_BODY_CAP)
		r->cap = MAX_FIRST_BODY_CAP;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return MHD_NO;
	return MHD_YES;
}

/* Keeps body bytes up to the limit; beyond it, drops them until the end. */
static enum MHD_Result batch_data(struct server *srv, struct req *r, const char *data, size_t n)
{
	size_t max = srv->cfg.limits.max_body;

	if (r->too_large || n > max - r->len) {
		r->too_large = true;
		free(r->buf);
		r->buf = NULL;
		r->len = r->cap = 0;
		return MHD_YES;
	}
	if (r->len + n > r->cap) {
		size_t ncap = r->cap * 2 > r->len + n ? r->cap * 2 : r->len + n;
		uint8_t *nb;

		if (ncap > max)
			ncap = max;
		nb = realloc(r->buf, ncap);
		if (!nb)
			return MHD_NO;
		r->buf = nb;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return MHD_YES;
}

/* Keeps a console form body up to CONSOLE_FORM_MAX; beyond it, drops it. */
static void form_data(struct req *r, const char *data, size_t n)
{
	if (r->too_large || n > CONSOLE_FORM_MAX - r->len) {
		r->too_large = true;
		return;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
}

static enum MHD_Result batch_finish(struct server *srv, struct MHD_Connection *conn, struct req *r,
				    const char *method, const char *url)
{
	struct ingest_result res;
	struct json_object *o;

	if (r->too_large)
		return reply_reject(srv, conn, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				    REJECT_BODY_TOO_LARGE, "request body exceeds the size limit");
	ingest_body(srv->cfg.store, &srv->cfg.limits, header(conn, MHD_HTTP_HEADER_CONTENT_ENCODING),
		    r->buf, r->len, clock_real_ms(), &res);
	if (res.status == INGEST_REJECTED || res.status == INGEST_FAILED)
		return reply_reject(srv, conn, method, url, (unsigned)res.http_status, res.reason,
				    res.msg);
	if (res.store_ns)
		metrics_store_latency(srv->cfg.metrics, res.store_ns);
	if (res.status == INGEST_DUPLICATE) {
		atomic_fetch_add(&srv->cfg.metrics->duplicates, 1);
	} else {
		atomic_fetch_add(&srv->cfg.metrics->batches, 1);
		for (int i = 0; i < METRICS_EVENT_KINDS; i++)
			atomic_fetch_add(&srv->cfg.metrics->events[i], res.kinds[i]);
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(
				       res.status == INGEST_DUPLICATE ? "duplicate" : "stored"));
	json_object_object_add(o, "events", json_object_new_uint64(res.events));
	{
		/* tokens marked for sensor-side revocation: sensors learn them here */
		struct json_object *revoke = json_object_new_array();

		if (store_pending_revocations(srv->cfg.store, revoke, STORE_REVOKE_REPLY_MAX) > 0)
			json_object_object_add(o, "revoke", revoke);
		else
			json_object_put(revoke);
	}
	return reply_json(conn, MHD_HTTP_OK, o);
}

static bool has_body(struct MHD_Connection *conn, struct req *r)
{
	const char *len_s = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);

	/* MHD has already refused a malformed Content-Length */
	if (len_s)
		r->declared = strtoull(len_s, NULL, 10);
	return r->declared > 0 || header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* The first call, headers only: answer, refuse, or get ready for the body. */
static enum MHD_Result request_begin(struct server *srv, struct MHD_Connection *conn,
				     struct req *r, const char *method, const char *url)
{
	r->has_body = has_body(conn, r);
	if (console_owns(url)) {
		if (!r->has_body)
			return console_handle(srv, conn, method, url, NULL, 0);
		if (r->declared > CONSOLE_FORM_MAX)
			return refuse(srv, conn, r, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				      REJECT_BODY_TOO_LARGE, "form body exceeds the size limit");
		r->buf = malloc(CONSOLE_FORM_MAX);
		if (!r->buf)
			return MHD_NO;
		r->is_form = true;
		return MHD_YES;
	}
	if (strcmp(url, "/v1/batches") != 0) {
		/* a body nobody reads still has to be drained before the answer */
		if (!r->has_body || r->declared > drain_max(srv))
			return api_read(srv, conn, method, url);
		r->read_later = true;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return refuse(srv, conn, r, method, url, MHD_HTTP_METHOD_NOT_ALLOWED,
			      REJECT_METHOD_NOT_ALLOWED, "use POST");
	r->is_batch = true;
	return batch_begin(srv, conn, r, method, url);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *r = *con_cls;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return request_begin(srv, conn, r, method, url);
	}
	if (*upload_data_size) {
		enum MHD_Result rc = MHD_YES;
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		r->received += n;
		if (r->received > drain_max(srv)) {
			/* a client streaming without end gets its connection closed */
			note_reject(srv, conn, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				    REJECT_BODY_TOO_LARGE, "request body exceeds the size limit");
			return MHD_NO;
		}
		if (r->is_batch && !r->refusal.status)
			rc = batch_data(srv, r, upload_data, n);
		else if (r->is_form && !r->refusal.status)
			form_data(r, upload_data, n);
		return rc;
	}
	/* the body, if any, is complete: now an answer cannot be lost to a reset */
	if (r->read_later) {
		r->read_later = false;
		return api_read(srv, conn, method, url);
	}
	if (r->refusal.status) {
		struct refusal f = r->refusal;

		r->refusal.status = 0;
		return reply_reject(srv, conn, method, url, f.status, f.reason, f.msg);
	}
	if (r->is_form) {
		enum MHD_Result rc;

		r->is_form = false;
		if (r->too_large)
			return reply_reject(srv, conn, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
					    REJECT_BODY_TOO_LARGE, "form body exceeds the size limit");
		rc = console_handle(srv, conn, method, url, (const char *)r->buf, r->len);
		/* the form carried a read token */
		secure_wipe(r->buf, r->len);
		return rc;
	}
	if (!r->is_batch)
		return MHD_NO; /* answered at the first call */
	return batch_finish(srv, conn, r, method, url);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->is_form)
		secure_wipe(r->buf, r->len);
	free(r->buf);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* MHD ends its messages with a newline; the log helper adds its own */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

int server_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256];
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	const char *port;
	size_t hl;
	int rc;

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) > 65535) {
		snprintf(err, errlen, "listen address must be ADDR:PORT, got \"%s\"",
			 listen ? listen : "");
		return -1;
	}
	port = colon + 1;
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "listen address too long");
		return -1;
	}
	memcpy(host, listen, hl);
	host[hl] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(hl ? host : NULL, port, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "listen address %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

struct server *server_start(const struct server_config *cfg, char *err, size_t errlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;

	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	console_init(&srv->console);
	if (!srv->cfg.threads)
		srv->cfg.threads = 4;
	if (!srv->cfg.max_connections)
		srv->cfg.max_connections = 256;
	if (!srv->cfg.timeout_s)
		srv->cfg.timeout_s = 30;
	if (server_parse_listen(cfg->listen, &ss, &sslen, err, errlen) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, srv,
		/* first, so that MHD's own startup messages use it too */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)srv->cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)srv->cfg.timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
		MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot listen on %s (address in use or not local?)",
			 cfg->listen);
		goto fail;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	return srv;
fail:
	console_free(&srv->console);
	free(srv);
	return NULL;
}

uint16_t server_port(const struct server *srv)
{
	return srv->port;
}

void server_stop(struct server *srv, unsigned grace_ms)
{
	MHD_socket ls;

	if (!srv)
		return;
	/* stop accepting, then give requests in flight time to complete */
	ls = MHD_quiesce_daemon(srv->daemon);
	for (unsigned waited = 0; waited < grace_ms; waited += 10) {
		const union MHD_DaemonInfo *i =
			MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!i || i->num_connections == 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	MHD_stop_daemon(srv->daemon);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	console_free(&srv->console);
	free(srv);
}
