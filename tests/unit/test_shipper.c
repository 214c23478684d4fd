/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery against a scripted local HTTP server: 200 delivers and empties
 * the spool; 503 (with Retry-After) then 200 retries; 400 drops and
 * counts, never retried; 401 keeps batches spooled across a restart; a
 * collector that is down leaves batches spooled, delivered in seq order
 * once it is up; close delivers the open batch; identity and seq persist;
 * a batch whose upload the collector keeps cutting off (while it answers
 * its health check) is dropped and counted, and the batches behind it are
 * delivered. With two collectors, batches fail over from one that is
 * down or answers 503 to the other and back, in order, none lost or
 * repeated, and the collector URL list parses the same repeated or
 * comma-separated. The sensor token here is a fake value built at run time,
 * never printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch.h"
#include "batch_decode.h"
#include "clock.h"
#include "shipper.h"

#define MAX_REQ 64
#define SEC 1000000000LL

struct request {
	uint64_t seq;
	size_t n_events;
	int auth_ok;      /* Authorization: Bearer <the test token> */
	int headers_ok;   /* content type and encoding */
	int decoded;
	int code;         /* the status answered */
	char sensor_id[40];
	int64_t at_ns;
};

struct server {
	int fd;
	int port;
	pthread_t thr;
	volatile int stop;
	pthread_mutex_t mu;
	int script[16];       /* status codes to answer in turn; then 200 */
	int retry_after[16];  /* Retry-After seconds with the scripted answer, 0: none */
	size_t n_script, next;
	struct request req[MAX_REQ];
	size_t n_req;
	size_t reset_over;    /* a body larger than this: connection reset, no answer; 0: never */
	int health_code;      /* GET /healthz answers this; 0: 200 */
	int fixed_code;       /* every POST answered with this; 0: the script */
	const char *ok_body;  /* the body of a 200; NULL: "done" */
	size_t n_reset, n_health;
};

static char dir[256];
static char token[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	char p[512];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tt-ship-XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 40; i++)
		token[i] = "tT0kEn9xyZ"[(i * 3) % 10];
	token[40] = '\0';
	snprintf(p, sizeof(p), "%s/token", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", token);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- the scripted server ---------------------------------------------- */

/*
 * Reads one request. Returns 0 with the whole request in buf, 1 when only
 * the headers were read (a body the server will not take), -1 on error.
 */
static int read_request(struct server *sv, int c, char *buf, size_t cap, size_t *hlen,
			size_t *blen)
{
	size_t got = 0, need = 0;
	char *end = NULL;

	while (got < cap) {
		ssize_t r = recv(c, buf + got, cap - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (!end) {
			buf[got < cap ? got : cap - 1] = '\0';
			end = memmem(buf, got, "\r\n\r\n", 4);
			if (end) {
				char *cl = strcasestr(buf, "\r\nContent-Length:");

				*hlen = (size_t)(end + 4 - buf);
				*blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
				need = *hlen + *blen;
				if (sv->reset_over && *blen > sv->reset_over)
					return 1;
			}
		}
		if (end && got >= need)
			return 0;
	}
	return -1;
}

static void record(struct server *sv, const char *buf, size_t hlen, size_t blen)
{
	char want[128], hdrs[8192];
	struct request *rq;
	Tokentap__V1__Batch *b;

	if (sv->n_req == MAX_REQ)
		return;
	rq = &sv->req[sv->n_req++];
	memset(rq, 0, sizeof(*rq));
	rq->at_ns = clock_mono_ns();
	snprintf(hdrs, sizeof(hdrs), "%.*s", (int)hlen, buf);
	snprintf(want, sizeof(want), "\r\nAuthorization: Bearer %s\r\n", token);
	rq->auth_ok = strstr(hdrs, want) != NULL;
	rq->headers_ok = strcasestr(hdrs, "\r\nContent-Type: application/x-protobuf\r\n") &&
			 strcasestr(hdrs, "\r\nContent-Encoding: gzip\r\n") &&
			 strncmp(hdrs, "POST /v1/batches HTTP/1.1\r\n", 27) == 0;
	b = test_decode_batch((const uint8_t *)buf + hlen, blen);
	if (b) {
		rq->decoded = 1;
		rq->seq = b->seq;
		rq->n_events = b->n_events;
		snprintf(rq->sensor_id, sizeof(rq->sensor_id), "%s", b->sensor_id);
		tokentap__v1__batch__free_unpacked(b, NULL);
	}
}

/* Closes with a reset (RST), as a server does that stops reading a body. */
static void reset_close(int c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	size_t cap = 4 << 20;
	char *buf = malloc(cap);

	while (!sv->stop) {
		struct pollfd p = { .fd = sv->fd, .events = POLLIN };
		size_t hlen = 0, blen = 0;
		int c, code = 200, ra = 0, rc;
		char resp[256];

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(sv->fd, NULL, NULL);
		if (c < 0)
			continue;
		rc = read_request(sv, c, buf, cap, &hlen, &blen);
		if (rc == 1) {
			/* too large: cut off mid-upload, the answer never sent */
			pthread_mutex_lock(&sv->mu);
			sv->n_reset++;
			pthread_mutex_unlock(&sv->mu);
			reset_close(c);
			continue;
		}
		if (rc == 0 && strncmp(buf, "GET /healthz ", 13) == 0) {
			pthread_mutex_lock(&sv->mu);
			sv->n_health++;
			pthread_mutex_unlock(&sv->mu);
			snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n"
				 "Connection: close\r\n\r\nok", sv->health_code ? sv->health_code : 200);
			if (send(c, resp, strlen(resp), MSG_NOSIGNAL) < 0)
				fprintf(stderr, "test server: send failed\n");
		} else if (rc == 0) {
			size_t n_before;
			const char *ok = "done";

			pthread_mutex_lock(&sv->mu);
			n_before = sv->n_req;
			record(sv, buf, hlen, blen);
			if (sv->fixed_code) {
				code = sv->fixed_code;
			} else if (sv->next < sv->n_script) {
				code = sv->script[sv->next];
				ra = sv->retry_after[sv->next];
				sv->next++;
			}
			if (sv->n_req > n_before)
				sv->req[n_before].code = code;
			if (sv->ok_body)
				ok = sv->ok_body;
			pthread_mutex_unlock(&sv->mu);
			if (ra)
				snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nRetry-After: %d\r\n"
					 "Content-Length: 4\r\nConnection: close\r\n\r\nnope", code, ra);
			else
				snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
					 "Connection: close\r\n\r\n%s", code,
					 code == 200 ? strlen(ok) : 4, code == 200 ? ok : "nope");
			if (send(c, resp, strlen(resp), MSG_NOSIGNAL) < 0)
				fprintf(stderr, "test server: send failed\n");
		}
		close(c);
	}
	free(buf);
	return NULL;
}

/* Listens on 127.0.0.1:port (0: any free port). */
static void server_start(struct server *sv, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	socklen_t al = sizeof(a);
	int one = 1;

	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(sv->fd >= 0);
	setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(sv->fd, 16), 0);
	assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
	sv->port = ntohs(a.sin_port);
	sv->stop = 0;
	pthread_mutex_init(&sv->mu, NULL);
	assert_int_equal(pthread_create(&sv->thr, NULL, serve, sv), 0);
}

static void server_stop(struct server *sv)
{
	sv->stop = 1;
	pthread_join(sv->thr, NULL);
	close(sv->fd);
	pthread_mutex_destroy(&sv->mu);
}

static size_t server_requests(struct server *sv)
{
	size_t n;

	pthread_mutex_lock(&sv->mu);
	n = sv->n_req;
	pthread_mutex_unlock(&sv->mu);
	return n;
}

/* A port nothing listens on (a bound socket closed again). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- helpers -------------------------------------------------------------- */

/* A shipper on the collectors of n --collector arguments, in that order. */
static struct shipper *start_shipper_on(const char *const *args, size_t n)
{
	char tf[512], err[256] = "";
	struct shipper_opts o = { 0 };
	struct shipper_urls u = { 0 };
	struct shipper *s;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(shipper_urls_add(&u, args[i], err, sizeof(err)), 0);
	snprintf(tf, sizeof(tf), "%s/token", dir);
	o.urls = &u;
	o.token_file = tf;
	o.state_dir = dir;
	o.node = "test-node";
	o.backoff_min_ms = 20;
	o.backoff_max_ms = 100;
	s = shipper_new(&o, err, sizeof(err));
	if (!s)
		fprintf(stderr, "shipper_new: %s\n", err);
	assert_non_null(s);
	shipper_urls_free(&u);   /* the shipper keeps copies */
	return s;
}

static struct shipper *start_shipper(int port)
{
	char url[64];
	const char *args[] = { url };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	return start_shipper_on(args, 1);
}

static void add_events(struct shipper *s, int n)
{
	for (int i = 0; i < n; i++) {
		const struct status_field f[] = { { "events", (uint64_t)i } };

		shipper_add(s, batch_event_status(i, f, 1));
	}
}

/* Closes the open batch as the 1 s timer would. */
static void flush(struct shipper *s)
{
	shipper_tick(s, clock_mono_ns() + 2 * SEC);
}

/* Waits up to 10 s for *field of the stats to reach want. */
static void wait_stat(struct shipper *s, size_t off, uint64_t want)
{
	struct shipper_stats st;

	for (int i = 0; i < 1000; i++) {
		shipper_stats(s, &st);
		if (*(uint64_t *)((char *)&st + off) >= want)
			return;
		usleep(10000);
	}
	fail_msg("stat at offset %zu never reached %llu", off, (unsigned long long)want);
}

#define WAIT(s, field, want) wait_stat(s, offsetof(struct shipper_stats, field), want)

/* ---- tests ------------------------------------------------------------------ */

static void test_delivered(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	char p[512], id[64];
	FILE *f;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	add_events(s, 5);
	shipper_tick(s, clock_mono_ns());   /* not 1 s old yet: stays open */
	usleep(100000);
	assert_int_equal(server_requests(&sv), 0);
	flush(s);
	WAIT(s, batches_sent, 1);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.spool_bytes, 0);
	assert_int_equal(st.batches_rejected, 0);
	assert_int_equal(sv.n_req, 1);
	assert_true(sv.req[0].auth_ok);
	assert_true(sv.req[0].headers_ok);
	assert_true(sv.req[0].decoded);
	assert_int_equal(sv.req[0].n_events, 5);
	assert_int_equal(sv.req[0].seq, 1);
	assert_string_equal(sv.req[0].sensor_id, shipper_sensor_id(s));
	/* the identity on disk */
	snprintf(p, sizeof(p), "%s/sensor_id", dir);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(id, sizeof(id), f));
	fclose(f);
	assert_string_equal(id, shipper_sensor_id(s));
	assert_int_equal(id[14], '4');   /* UUID version 4 */
	shipper_free(s);
	server_stop(&sv);
}

static void test_full_batch_closes(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	/* 1000 events close a batch without waiting for the timer */
	add_events(s, BATCH_DEFAULT_MAX_EVENTS + 10);
	WAIT(s, batches_sent, 1);
	assert_int_equal(sv.req[0].n_events, BATCH_DEFAULT_MAX_EVENTS);
	flush(s);
	WAIT(s, batches_sent, 2);
	assert_int_equal(sv.req[1].n_events, 10);
	assert_int_equal(sv.req[1].seq, sv.req[0].seq + 1);
	shipper_free(s);
	server_stop(&sv);
}

static void test_retry(void **state)
{
	struct server sv = { .script = { 503, 500, 429 }, .retry_after = { 1, 0, 0 }, .n_script = 3 };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	add_events(s, 2);
	flush(s);
	WAIT(s, batches_sent, 1);
	shipper_stats(s, &st);
	assert_int_equal(st.retries, 3);
	assert_int_equal(st.batches_rejected, 0);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(sv.n_req, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sv.req[i].seq, 1);
	/* Retry-After: 1 outweighs a 20 ms backoff */
	assert_true(sv.req[1].at_ns - sv.req[0].at_ns >= 900000000LL);
	shipper_free(s);
	server_stop(&sv);
}

static void test_rejected(void **state)
{
	struct server sv = { .script = { 400, 413, 415 }, .n_script = 3 };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	for (int i = 0; i < 4; i++) {
		add_events(s, 1);
		flush(s);
	}
	WAIT(s, batches_rejected, 3);
	WAIT(s, batches_sent, 1);
	usleep(200000);
	shipper_stats(s, &st);
	/* each rejected batch was tried once, then the fourth delivered */
	assert_int_equal(sv.n_req, 4);
	assert_int_equal(st.batches_rejected, 3);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.spool_batches, 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sv.req[i].seq, i + 1);
	shipper_free(s);
	server_stop(&sv);
}

static void test_down_then_up(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	int port = free_port();

	(void)state;
	s = start_shipper(port);
	for (int i = 0; i < 5; i++) {
		add_events(s, i + 1);
		flush(s);
	}
	WAIT(s, retries, 2);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_sent, 0);
	assert_int_equal(st.spool_batches, 5);
	assert_true(st.spool_bytes > 0);

	server_start(&sv, port);
	WAIT(s, batches_sent, 5);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(sv.n_req, 5);
	/* replayed in order, each once */
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(sv.req[i].seq, i + 1);
		assert_int_equal(sv.req[i].n_events, i + 1);
	}
	shipper_free(s);
	server_stop(&sv);
}

/* 401 keeps the batch; a restarted sensor (same state dir) delivers it, same identity. */
static void test_auth_restart(void **state)
{
	struct server sv = { .script = { 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401,
					 401, 401, 401, 401, 401 }, .n_script = 16 };
	struct server sv2 = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	char id[40];

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	snprintf(id, sizeof(id), "%s", shipper_sensor_id(s));
	add_events(s, 3);
	flush(s);
	WAIT(s, retries, 2);
	shipper_close(s, 100);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_sent, 0);
	assert_int_equal(st.batches_rejected, 0);
	assert_int_equal(st.spool_batches, 1);
	shipper_free(s);
	server_stop(&sv);

	server_start(&sv2, 0);
	s = start_shipper(sv2.port);
	assert_string_equal(shipper_sensor_id(s), id);
	add_events(s, 1);
	flush(s);
	WAIT(s, batches_sent, 2);
	assert_int_equal(sv2.n_req, 2);
	/* the old batch first; the new one numbered after it */
	assert_int_equal(sv2.req[0].seq, 1);
	assert_int_equal(sv2.req[0].n_events, 3);
	assert_true(sv2.req[1].seq > 1);
	assert_string_equal(sv2.req[1].sensor_id, id);
	shipper_free(s);
	server_stop(&sv2);
}

/* Shutdown delivers the batch still open. */
static void test_close_delivers(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	add_events(s, 7);
	shipper_close(s, 3000);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_sent, 1);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(sv.req[0].n_events, 7);
	/* closed: further events are counted as lost, not crashed on */
	add_events(s, 1);
	shipper_stats(s, &st);
	assert_int_equal(st.events_lost, 1);
	shipper_free(s);
	server_stop(&sv);
}

/* Shutdown with the collector down: bounded wait, batch left in the spool. */
static void test_close_down(void **state)
{
	struct shipper *s;
	struct shipper_stats st;
	int64_t t0;

	(void)state;
	s = start_shipper(free_port());
	add_events(s, 2);
	t0 = clock_mono_ns();
	shipper_close(s, 300);
	assert_true(clock_mono_ns() - t0 < 3 * SEC);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 1);
	shipper_free(s);
}

/* Seq numbers survive restarts and never repeat. */
static void test_seq_persists(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;
	uint64_t last = 0;

	(void)state;
	server_start(&sv, 0);
	for (int run = 0; run < 3; run++) {
		s = start_shipper(sv.port);
		add_events(s, 1);
		flush(s);
		WAIT(s, batches_sent, 1);
		shipper_free(s);
		assert_true(sv.req[run].seq > last);
		last = sv.req[run].seq;
	}
	server_stop(&sv);
}

/* A lost seq file means a new identity, never reused numbers. */
static void test_lost_seq_new_id(void **state)
{
	struct shipper *s;
	char id[40], p[512];

	(void)state;
	s = start_shipper(free_port());
	snprintf(id, sizeof(id), "%s", shipper_sensor_id(s));
	shipper_free(s);
	snprintf(p, sizeof(p), "%s/seq", dir);
	assert_int_equal(unlink(p), 0);
	s = start_shipper(free_port());
	assert_string_not_equal(shipper_sensor_id(s), id);
	shipper_free(s);
}

/* A full batch, its upload large enough for the server to cut it off. */
#define BIG_EVENTS BATCH_DEFAULT_MAX_EVENTS
#define CUT_OVER 1024   /* a full batch here is over 1.5 KiB, a small one about 100 bytes */

static size_t server_resets(struct server *sv)
{
	size_t n;

	pthread_mutex_lock(&sv->mu);
	n = sv->n_reset;
	pthread_mutex_unlock(&sv->mu);
	return n;
}

/*
 * The collector (up, answering its health check) resets the connection
 * whenever the big batch uploads: after SHIPPER_POISON_TRIES such attempts
 * it is dropped and counted, the batches behind it are delivered in order;
 * a later batch about as large gets as many tries of its own.
 */
static void test_poison_batch_dropped(void **state)
{
	struct server sv = { .reset_over = CUT_OVER };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	add_events(s, 1);
	flush(s);
	add_events(s, BIG_EVENTS);   /* closes itself when full */
	add_events(s, 2);
	flush(s);
	add_events(s, 3);
	flush(s);
	WAIT(s, batches_sent, 3);
	WAIT(s, batches_rejected, 1);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_rejected, 1);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.retries, SHIPPER_POISON_TRIES - 1);
	assert_int_equal(server_resets(&sv), SHIPPER_POISON_TRIES);
	assert_int_equal(sv.n_health, SHIPPER_POISON_TRIES);
	/* the poison batch (seq 2) never got through; the others did, in order */
	assert_int_equal(sv.n_req, 3);
	assert_int_equal(sv.req[0].seq, 1);
	assert_int_equal(sv.req[1].seq, 3);
	assert_int_equal(sv.req[1].n_events, 2);
	assert_int_equal(sv.req[2].seq, 4);
	assert_int_equal(sv.req[2].n_events, 3);

	/* about as large again: its own tries, then dropped too */
	add_events(s, BIG_EVENTS);
	add_events(s, 4);
	flush(s);
	WAIT(s, batches_sent, 4);
	WAIT(s, batches_rejected, 2);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.retries, 2 * (SHIPPER_POISON_TRIES - 1));
	assert_int_equal(server_resets(&sv), 2 * SHIPPER_POISON_TRIES);
	assert_int_equal(sv.n_health, 2 * SHIPPER_POISON_TRIES);
	assert_int_equal(sv.n_req, 4);
	assert_int_equal(sv.req[3].seq, 6);
	assert_int_equal(sv.req[3].n_events, 4);
	shipper_free(s);
	server_stop(&sv);
}

/* Cut off while the health check fails too: the collector is down, nothing is dropped. */
static void test_cut_while_down_kept(void **state)
{
	struct server sv = { .reset_over = CUT_OVER, .health_code = 503 };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	add_events(s, BIG_EVENTS);
	WAIT(s, retries, 2 * SHIPPER_POISON_TRIES);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_rejected, 0);
	assert_int_equal(st.batches_sent, 0);
	assert_int_equal(st.spool_batches, 1);
	assert_true(server_resets(&sv) >= 2 * SHIPPER_POISON_TRIES);
	shipper_close(s, 100);
	shipper_free(s);
	server_stop(&sv);
}

/* ---- several collectors ------------------------------------------------- */

static void server_set_code(struct server *sv, int code)
{
	pthread_mutex_lock(&sv->mu);
	sv->fixed_code = code;
	pthread_mutex_unlock(&sv->mu);
}

/* The seqs a server took (2xx), in arrival order; returns their number. */
static size_t server_accepted(struct server *sv, uint64_t *seq, size_t *n_events, size_t cap)
{
	size_t n = 0;

	pthread_mutex_lock(&sv->mu);
	for (size_t i = 0; i < sv->n_req && n < cap; i++) {
		if (sv->req[i].code >= 200 && sv->req[i].code < 300) {
			assert_true(sv->req[i].decoded);
			seq[n] = sv->req[i].seq;
			n_events[n++] = sv->req[i].n_events;
		}
	}
	pthread_mutex_unlock(&sv->mu);
	return n;
}

/* The server took exactly the batches first..first+n-1 (n_events = seq), in order. */
static void assert_took(struct server *sv, uint64_t first, size_t n)
{
	uint64_t seq[MAX_REQ];
	size_t ev[MAX_REQ];

	assert_int_equal(server_accepted(sv, seq, ev, MAX_REQ), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(seq[i], first + i);
		assert_int_equal(ev[i], first + i);
	}
}

/*
 * The spool cannot be written (RLIMIT_FSIZE stands in for a full disk):
 * the batches are counted and held in memory, then spooled and delivered
 * in order once it can, none lost.
 */
static void test_spool_unwritable_held(void **state)
{
	struct server sv = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	struct rlimit old, tiny;

	(void)state;
	server_start(&sv, 0);
	s = start_shipper(sv.port);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	tiny = old;
	tiny.rlim_cur = 8;   /* below any spool file, above nothing else written */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
	for (int i = 0; i < 3; i++) {
		add_events(s, i + 1);
		flush(s);
	}
	shipper_stats(s, &st);
	assert_int_equal(st.spool_write_failures, 3);
	assert_int_equal(st.batches_held, 3);
	assert_int_equal(st.batches_lost, 0);
	assert_int_equal(st.spool_batches, 0);
	usleep(100000);
	assert_int_equal(server_requests(&sv), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* the next tick writes them, oldest first */
	flush(s);
	WAIT(s, batches_sent, 3);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_held, 0);
	assert_int_equal(st.batches_lost, 0);
	assert_took(&sv, 1, 3);
	shipper_free(s);
	server_stop(&sv);
	signal(SIGXFSZ, SIG_DFL);
}

/* urls: each of list given as its own --collector (repeated), else one comma list. */
static struct shipper *start_multi(int port_a, int port_b, int repeated)
{
	char list[128], one[2][64];
	const char *args[] = { one[0], one[1] }, *arg_list[] = { list };

	snprintf(one[0], sizeof(one[0]), "http://127.0.0.1:%d/", port_a);
	snprintf(one[1], sizeof(one[1]), "http://127.0.0.1:%d", port_b);
	snprintf(list, sizeof(list), "%s,%s", one[0], one[1]);
	return repeated ? start_shipper_on(args, 2) : start_shipper_on(arg_list, 1);
}

/* Batch seq k (k = first..first+n-1) carries k events, one flush each. */
static void add_batches(struct shipper *s, int first, int n)
{
	for (int k = first; k < first + n; k++) {
		add_events(s, k);
		flush(s);
	}
}

/*
 * The first collector is down (nothing listens): every batch reaches the
 * second, in order. Then the first comes up and the second goes down:
 * delivery moves back. Each batch is taken exactly once.
 */
static void test_failover_down(void **state)
{
	struct server a = { 0 }, b = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	int port_a = free_port();

	(void)state;
	server_start(&b, 0);
	s = start_multi(port_a, b.port, 1);
	add_batches(s, 1, 5);
	WAIT(s, batches_sent, 5);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.batches_rejected, 0);
	assert_true(st.failovers >= 1);
	assert_took(&b, 1, 5);
	assert_int_equal(server_requests(&b), 5);

	server_start(&a, port_a);
	server_stop(&b);
	add_batches(s, 6, 5);
	WAIT(s, batches_sent, 10);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.batches_rejected, 0);
	assert_true(st.failovers >= 2);
	assert_took(&a, 6, 5);
	assert_int_equal(server_requests(&a), 5);
	assert_took(&b, 1, 5);
	shipper_free(s);
	server_stop(&a);
}

#define FP_B "0123456789abcdef0123456789abcdef"
#define FP_A "fedcba9876543210fedcba9876543210"

/*
 * The first collector answers 503: batches go to the second, in order,
 * and its revocation list is taken. Then the first answers again and the
 * second 503: delivery moves back, and the first's list replaces it.
 */
static void test_failover_503(void **state)
{
	struct server a = { .fixed_code = 503, .ok_body = "{\"revoke\":[\"" FP_A "\"]}" };
	struct server b = { .ok_body = "{\"revoke\":[\"" FP_B "\"]}" };
	struct shipper *s;
	struct shipper_stats st;
	char rv[SHIPPER_REVOKE_MAX][33];

	(void)state;
	server_start(&a, 0);
	server_start(&b, 0);
	s = start_multi(a.port, b.port, 0);
	add_batches(s, 1, 5);
	WAIT(s, batches_sent, 5);
	assert_took(&b, 1, 5);
	assert_took(&a, 1, 0);
	assert_true(server_requests(&a) >= 1);
	assert_int_equal(shipper_revoke_list(s, rv, SHIPPER_REVOKE_MAX), 1);
	assert_string_equal(rv[0], FP_B);

	server_set_code(&b, 503);
	server_set_code(&a, 0);
	add_batches(s, 6, 5);
	WAIT(s, batches_sent, 10);
	shipper_stats(s, &st);
	assert_int_equal(st.spool_batches, 0);
	assert_int_equal(st.batches_rejected, 0);
	assert_true(st.failovers >= 2);
	assert_took(&a, 6, 5);
	assert_took(&b, 1, 5);
	assert_int_equal(shipper_revoke_list(s, rv, SHIPPER_REVOKE_MAX), 1);
	assert_string_equal(rv[0], FP_A);
	shipper_free(s);
	server_stop(&a);
	server_stop(&b);
}

/* Both down: rounds of failures, the batches stay; one comes up: delivered in order. */
static void test_failover_all_down(void **state)
{
	struct server b = { 0 };
	struct shipper *s;
	struct shipper_stats st;
	int port_a = free_port(), port_b = free_port();

	(void)state;
	s = start_multi(port_a, port_b, 1);
	add_batches(s, 1, 3);
	WAIT(s, retries, 6);
	shipper_stats(s, &st);
	assert_int_equal(st.batches_sent, 0);
	assert_int_equal(st.spool_batches, 3);
	assert_true(st.failovers >= 6);

	server_start(&b, port_b);
	WAIT(s, batches_sent, 3);
	assert_took(&b, 1, 3);
	assert_int_equal(server_requests(&b), 3);
	shipper_free(s);
	server_stop(&b);
}

/* A 400 from the current collector drops the batch as with one: no failover. */
static void test_failover_rejected_dropped(void **state)
{
	struct server a = { .script = { 400 }, .n_script = 1 }, b = { 0 };
	struct shipper *s;
	struct shipper_stats st;

	(void)state;
	server_start(&a, 0);
	server_start(&b, 0);
	s = start_multi(a.port, b.port, 0);
	add_batches(s, 1, 2);
	WAIT(s, batches_sent, 1);
	WAIT(s, batches_rejected, 1);
	shipper_stats(s, &st);
	assert_int_equal(st.failovers, 0);
	assert_int_equal(st.spool_batches, 0);
	assert_took(&a, 2, 1);
	assert_int_equal(server_requests(&b), 0);
	shipper_free(s);
	server_stop(&a);
	server_stop(&b);
}

static void test_urls_parse(void **state)
{
	struct shipper_urls list = { 0 }, rep = { 0 };
	struct shipper_urls bad = { .url = { "http://127.0.0.1:1", "ftp://x" }, .n = 2 };
	struct shipper_opts o = { .state_dir = dir };
	char err[256] = "", nine[512] = "";

	(void)state;
	assert_int_equal(shipper_urls_add(&list, "http://h1:1/,https://h2/x", err, sizeof(err)), 0);
	assert_int_equal(shipper_urls_add(&rep, "http://h1:1/", err, sizeof(err)), 0);
	assert_int_equal(shipper_urls_add(&rep, "https://h2/x", err, sizeof(err)), 0);
	assert_int_equal(list.n, 2);
	assert_int_equal(rep.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(list.url[i], rep.url[i]);
	assert_string_equal(list.url[0], "http://h1:1/");
	assert_string_equal(list.url[1], "https://h2/x");

	/* a bad URL in a list: refused, named, nothing of the list added */
	assert_int_equal(shipper_urls_add(&list, "http://h3,ftp://h4", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'ftp://h4'"));
	assert_non_null(strstr(err, "http:// or https://"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(list.n, 2);
	assert_int_equal(shipper_urls_add(&list, "http://h3,,http://h4", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(shipper_urls_add(&list, "http://h3,", err, sizeof(err)), -1);
	assert_int_equal(list.n, 2);

	/* at most 8 in all, however given */
	assert_int_equal(shipper_urls_add(&list, "http://a,http://b,http://c", err, sizeof(err)), 0);
	assert_int_equal(shipper_urls_add(&list, "http://d,http://e,http://f", err, sizeof(err)), 0);
	assert_int_equal(list.n, 8);
	assert_int_equal(shipper_urls_add(&list, "http://i", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 8"));
	assert_int_equal(list.n, 8);
	shipper_urls_free(&list);
	shipper_urls_free(&rep);
	for (int i = 0; i < 9; i++)
		snprintf(nine + strlen(nine), sizeof(nine) - strlen(nine), "%shttp://h%d", i ? "," : "", i);
	assert_int_equal(shipper_urls_add(&list, nine, err, sizeof(err)), -1);
	assert_int_equal(list.n, 0);

	/* shipper_new checks a list made by hand the same way, and wants one URL */
	o.urls = &bad;
	assert_null(shipper_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "http:// or https://"));
	bad.n = 0;
	assert_null(shipper_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "http:// or https://"));
	o.urls = NULL;
	assert_null(shipper_new(&o, err, sizeof(err)));
}

static void test_bad_options(void **state)
{
	struct shipper_urls bad = { .url = { "ftp://x" }, .n = 1 };
	struct shipper_urls good = { .url = { "http://127.0.0.1:1" }, .n = 1 };
	struct shipper_opts o = { .urls = &bad, .state_dir = dir };
	char err[256], p[512];
	FILE *f;

	(void)state;
	assert_null(shipper_new(&o, err, sizeof(err)));
	o.urls = &good;
	o.token_file = "/nonexistent/token";
	assert_null(shipper_new(&o, err, sizeof(err)));
	/* a token with a line break inside could inject headers: refused, not echoed */
	snprintf(p, sizeof(p), "%s/badtoken", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s\r\nX-Evil: 1\n", token);
	fclose(f);
	o.token_file = p;
	assert_null(shipper_new(&o, err, sizeof(err)));
	assert_null(strstr(err, token));
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(shipper_new(&o, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_batch_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_batch_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_while_down_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_unwritable_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_delivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_seq_new_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_all_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_rejected_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urls_parse, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
