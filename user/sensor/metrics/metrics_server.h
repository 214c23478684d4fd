/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's /metrics, /healthz and /readyz (--metrics-listen): one thread
 * answering one connection at a time, each bounded in size (HTTP_REQ_MAX)
 * and time, GET only, Connection: close. It serves what the main loop last
 * published and reads nothing of the sensor itself; the sensor links no HTTP
 * server library.
 */
#ifndef TOKENTAP_METRICS_SERVER_H
#define TOKENTAP_METRICS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct metrics_server;

/* "ADDR:PORT" (IPv4, or [IPv6]:PORT): numeric host and port 1..65535. */
int metrics_listen_parse(const char *s, char *host, size_t hostlen, unsigned *port);

/* Listens on addr ("ADDR:PORT") and starts the thread; NULL with err set. */
struct metrics_server *metrics_server_start(const char *addr, char *err, size_t errlen);

/*
 * The main loop's latest state: the metrics text, whether the sensor is
 * ready (reason: why not, shown by /readyz). /healthz fails when no state
 * was published for a while: the main loop is stuck.
 */
void metrics_server_publish(struct metrics_server *s, const char *text, size_t len, bool ready,
			    const char *reason);

void metrics_server_stop(struct metrics_server *s);

#endif
