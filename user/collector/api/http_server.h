/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's HTTP server (libmicrohttpd, epoll thread pool):
 * POST /v1/batches, GET /v1/tokens[/FP], GET /v1/sensors, /healthz,
 * /metrics. Every refusal is a JSON {"error": ...} with its status,
 * counted by reason and logged in one line (never a body or a token).
 * A request with a body is answered once the body has been read (kept or
 * discarded), so a refusal is never lost to a reset; a body over 4 times
 * limits.max_body gets its connection closed instead.
 */
#ifndef TOKENTAP_HTTP_SERVER_H
#define TOKENTAP_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "auth.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"

struct server_config {
	const char *listen;             /* "ADDR:PORT", "[v6]:PORT"; port 0 picks one */
	struct store *store;
	const struct auth *sensor_auth; /* NULL: batches need no token (--insecure-no-auth) */
	const struct auth *read_auth;   /* NULL: GET /v1/ needs no token */
	struct ingest_limits limits;
	struct metrics *metrics;
	unsigned threads;               /* 0: 4 */
	unsigned max_connections;       /* 0: 256 */
	unsigned timeout_s;             /* idle connection timeout; 0: 30 */
};

struct server;

/* Starts listening. NULL with a one-line reason in err. */
struct server *server_start(const struct server_config *cfg, char *err, size_t errlen);
/* The bound port (useful with port 0). */
uint16_t server_port(const struct server *srv);
/*
 * Stops accepting, lets requests in flight finish (at most grace_ms),
 * then stops. The store is left open for the caller to close.
 */
void server_stop(struct server *srv, unsigned grace_ms);

/* "ADDR:PORT" -> socket address. 0 or -1 with err. */
int server_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen);

#endif
