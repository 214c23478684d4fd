/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "http_req.h"
#include "log.h"
#include "numarg.h"

/* A connection gets this long to send its request and take the answer. */
#define CONN_TIMEOUT_MS 2000
/* No publication for this long: the main loop is stuck, /healthz fails. */
#define STALE_NS (60LL * 1000000000LL)
#define REASON_MAX 256

struct metrics_server {
	int lfd, stopfd;
	pthread_t thread;
	pthread_mutex_t mu;
	char *text;           /* the last metrics text published */
	size_t len;
	bool ready;
	char reason[REASON_MAX];
	int64_t published_ns; /* 0: nothing yet */
};

int metrics_listen_parse(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon, *h = s;
	size_t hl;
	uint64_t p;

	if (!s || strlen(s) > 64)
		return -1;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || numarg_uint(colon + 1, 1, 65535, &p) != 0)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return 0;
}

static int open_listener(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[64], port_s[8];
	unsigned port;
	int fd, one = 1;

	if (metrics_listen_parse(addr, host, sizeof(host), &port) != 0 ||
	    (snprintf(port_s, sizeof(port_s), "%u", port), getaddrinfo(host, port_s, &hints, &ai) != 0)) {
		snprintf(err, errlen, "--metrics-listen: expected ADDR:PORT with a numeric address (e.g. 0.0.0.0:9464 or [::1]:9464), got '%s'",
			 addr);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "--metrics-listen %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Writes all of buf before the deadline; gives up on a slow or gone peer. */
static void send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int64_t left = (deadline - clock_mono_ns()) / 1000000LL;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
}

static void respond(int fd, int code, const char *ctype, const char *body, size_t blen,
		    int64_t deadline)
{
	const char *text = code == 200 ? "OK" : code == 400 ? "Bad Request" : code == 404 ? "Not Found" :
			   code == 405 ? "Method Not Allowed" : "Service Unavailable";
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			 "Connection: close\r\n\r\n",
			 code, text, ctype, blen, code == 405 ? "Allow: GET\r\n" : "");

	send_all(fd, head, (size_t)n, deadline);
	send_all(fd, body, blen, deadline);
}

static void answer(struct metrics_server *s, int fd, enum http_req_result r, enum http_route route,
		   int64_t deadline)
{
	static const char plain[] = "text/plain; charset=utf-8";
	char msg[REASON_MAX + 32];
	char *copy = NULL;
	size_t len = 0;
	int code = 200;
	int64_t now = clock_mono_ns();

	if (r == HTTP_REQ_BAD || r == HTTP_REQ_INCOMPLETE) {
		respond(fd, 400, plain, "bad request\n", 12, deadline);
		return;
	}
	if (r == HTTP_REQ_NOT_FOUND || r == HTTP_REQ_BAD_METHOD) {
		code = r == HTTP_REQ_NOT_FOUND ? 404 : 405;
		snprintf(msg, sizeof(msg), "%s\n", code == 404 ? "not found: /metrics, /healthz, /readyz" :
			 "only GET");
		respond(fd, code, plain, msg, strlen(msg), deadline);
		return;
	}
	/* copied under the lock, sent without it: a slow client never blocks the publisher */
	pthread_mutex_lock(&s->mu);
	switch (route) {
	case HTTP_ROUTE_METRICS:
		copy = s->text ? malloc(s->len) : NULL;
		if (copy) {
			memcpy(copy, s->text, s->len);
			len = s->len;
		}
		break;
	case HTTP_ROUTE_HEALTHZ:
		if (s->published_ns && now - s->published_ns > STALE_NS) {
			code = 503;
			snprintf(msg, sizeof(msg), "stalled: no progress for %llds\n",
				 (long long)((now - s->published_ns) / 1000000000LL));
		} else {
			snprintf(msg, sizeof(msg), "ok\n");
		}
		break;
	case HTTP_ROUTE_READYZ:
		code = s->ready ? 200 : 503;
		snprintf(msg, sizeof(msg), "%s%s\n", s->ready ? "ready" : "not ready: ",
			 s->ready ? "" : s->reason);
		break;
	}
	pthread_mutex_unlock(&s->mu);
	if (route == HTTP_ROUTE_METRICS) {
		if (copy)
			respond(fd, 200, "text/plain; version=0.0.4; charset=utf-8", copy, len, deadline);
		else
			respond(fd, 503, plain, "starting\n", 9, deadline);
		free(copy);
	} else {
		respond(fd, code, plain, msg, strlen(msg), deadline);
	}
}

/* One connection: read until the header block ends, the bound, or the deadline. */
static void serve_conn(struct metrics_server *s, int fd)
{
	char buf[HTTP_REQ_MAX];
	size_t len = 0;
	int64_t deadline = clock_mono_ns() + (int64_t)CONN_TIMEOUT_MS * 1000000LL;
	enum http_req_result r = HTTP_REQ_INCOMPLETE;
	enum http_route route = HTTP_ROUTE_METRICS;

	while (r == HTTP_REQ_INCOMPLETE && len < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (deadline - clock_mono_ns()) / 1000000LL;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return; /* too slow: closed without an answer */
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n == 0)
			return;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return;
		}
		len += (size_t)n;
		r = http_req_parse(buf, len, &route);
	}
	answer(s, fd, r, route, deadline);
}

static void *serve(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = s->stopfd, .events = POLLIN } };

	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		serve_conn(s, fd);
		close(fd);
	}
	return NULL;
}

struct metrics_server *metrics_server_start(const char *addr, char *err, size_t errlen)
{
	struct metrics_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->stopfd = -1;
	s->lfd = open_listener(addr, err, errlen);
	if (s->lfd < 0) {
		free(s);
		return NULL;
	}
	snprintf(s->reason, sizeof(s->reason), "starting");
	pthread_mutex_init(&s->mu, NULL);
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	if (s->stopfd < 0 || pthread_create(&s->thread, NULL, serve, s) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(errno));
		if (s->stopfd >= 0)
			close(s->stopfd);
		close(s->lfd);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	return s;
}

void metrics_server_publish(struct metrics_server *s, const char *text, size_t len, bool ready,
			    const char *reason)
{
	char *copy;

	if (!s)
		return;
	copy = malloc(len ? len : 1);
	if (copy)
		memcpy(copy, text, len);
	pthread_mutex_lock(&s->mu);
	if (copy) {
		free(s->text);
		s->text = copy;
		s->len = len;
	}
	s->ready = ready;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	s->published_ns = clock_mono_ns();
	pthread_mutex_unlock(&s->mu);
}

void metrics_server_stop(struct metrics_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	close(s->stopfd);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s->text);
	free(s);
}
