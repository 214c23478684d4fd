/* SPDX-License-Identifier: Apache-2.0 */
#include "shipper.h"
#include "clock.h"

#include <json-c/json.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wipe.h"
#include "log.h"
#include "spool.h"

#ifndef TOKENTAP_VERSION
#define TOKENTAP_VERSION "0"
#endif

/*
 * A batch closes this long after its first event: short enough that a
 * request is queryable at the collector within a second (the main loop
 * ticks every 50 ms and delivery takes a few ms), long enough to batch.
 */
#define FLUSH_AFTER_NS 500000000LL
#define CONNECT_TIMEOUT_MS 2000L
#define REQUEST_TIMEOUT_MS 10000L
#define RETRY_AFTER_MAX_S 600
#define TOKEN_MAX 4096
#define SEQ_BLOCK 64         /* seqs reserved per write of the seq file */
#define REPLY_KEEP 4096      /* bytes of a reply kept: a rejection message, the revoke list */
#define REPLY_LOG 200        /* of which a log line shows */
#define PROBE_TIMEOUT_MS 5000L
/* Batches kept in memory while the spool cannot be written (a full disk). */
#define HOLD_MAX 64
#define HOLD_MAX_BYTES (16u << 20)
#define HOLD_RETRY_NS 1000000000LL

struct held_batch {
	uint64_t seq;
	uint8_t *buf;
	size_t len;
};

struct collector {
	char *endpoint;               /* <url>/v1/batches */
	char *health_url;             /* <url>/healthz */
	char *label;                  /* the URL without user info or query: for logs */
};

struct shipper {
	/* configuration, fixed after shipper_new */
	struct collector coll[SHIPPER_URLS_MAX];
	size_t n_coll;
	char *ca_file, *client_cert, *client_key, *state_dir;
	char sensor_id[37];
	char node[256];
	int verbose;
	unsigned backoff_min_ms, backoff_max_ms;
	struct curl_slist *headers;   /* holds the Authorization header: wiped on free */

	/* main thread only */
	struct batch batch;
	int64_t batch_opened_ns;
	uint64_t next_seq, seq_reserved;
	bool seq_warned, spool_warned;
	bool closed;
	struct held_batch hold[HOLD_MAX]; /* oldest first, waiting for the spool */
	size_t n_hold, hold_bytes;
	int64_t hold_retry_ns;        /* CLOCK_MONOTONIC of the next write attempt */

	/* shared with the sender, under mu */
	pthread_mutex_t mu;
	pthread_cond_t wake;          /* sender: a batch was spooled, or stop */
	pthread_cond_t progress;      /* close(): the sender finished an attempt */
	struct spool *spool;
	bool stop;
	int64_t retry_at_ns;          /* CLOCK_MONOTONIC; 0: now */
	int64_t drain_deadline_ns;    /* 0: not draining */
	unsigned attempt;             /* consecutive failures */
	struct shipper_stats st;
	atomic_int abort_transfer;    /* makes a transfer in flight give up */

	/* tokens the collector marked for sensor-side revocation, under mu */
	char revoke[SHIPPER_REVOKE_MAX][33];
	size_t n_revoke;

	/* sender thread only */
	pthread_t thread;
	bool thread_started;
	CURL *curl;
	size_t cur;                   /* the collector the next attempt goes to */
	size_t round_fails;           /* retried failures in a row, one per collector */
	long round_retry_after;       /* the largest Retry-After of this round */
	uint64_t rng;
	bool down_logged, auth_logged;
	char reply[REPLY_KEEP + 1];
	size_t reply_len;
	uint64_t cut_seq;             /* the batch whose uploads were cut off */
	unsigned cut_tries;           /* ... so many times in a row, collector up */
};

static struct timespec mono_ts(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };

	return ts;
}

/* ---- state files -------------------------------------------------------- */

/* Writes a small file durably: temporary name, fsync, rename, fsync of the directory. */
static int write_state_file(const char *dir, const char *name, const char *data)
{
	char path[4096], tmp[4096];
	size_t len = strlen(data);
	int fd, dfd, rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0) {
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* Reads a small state file, trailing whitespace removed; -1 when missing or unreadable. */
static int read_state_file(const char *dir, const char *name, char *out, size_t outlen)
{
	char path[4096];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return 0;
}

static bool valid_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int new_uuid(char out[37])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

static int write_seq_reserve(struct shipper *s, uint64_t reserved)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)reserved);
	if (write_state_file(s->state_dir, "seq", buf) != 0)
		return -1;
	s->seq_reserved = reserved;
	return 0;
}

/*
 * Identity and sequence. The collector applies each (sensor_id, seq) once,
 * so a seq must never be used twice under one id: the seq file holds a
 * bound every used seq is below. Without a trustworthy seq file the sensor
 * takes a new id rather than risk reusing numbers.
 */
static int load_identity(struct shipper *s, char *err, size_t errlen)
{
	char id[64], seq[64], *end;
	unsigned long long v = 0;
	bool have_id = read_state_file(s->state_dir, "sensor_id", id, sizeof(id)) == 0 &&
		       valid_uuid(id);
	bool have_seq = read_state_file(s->state_dir, "seq", seq, sizeof(seq)) == 0;

	if (have_seq) {
		errno = 0;
		v = strtoull(seq, &end, 10);
		have_seq = errno == 0 && end != seq && *end == '\0' && v > 0 && v < UINT64_MAX / 2;
	}
	if (!have_id || !have_seq) {
		if (have_id)
			log_warn("%s/seq is missing or unreadable: starting as a new sensor id",
				 s->state_dir);
		if (new_uuid(s->sensor_id) != 0) {
			snprintf(err, errlen, "cannot create a sensor id: %s", strerror(errno));
			return -1;
		}
		v = 1;
	} else {
		memcpy(s->sensor_id, id, 37);
	}
	/* batches spooled by the last run go first: new ones follow them */
	if (spool_max_seq(s->spool) >= v)
		v = spool_max_seq(s->spool) + 1;
	s->next_seq = v;
	if (write_seq_reserve(s, v + SEQ_BLOCK) != 0) {
		snprintf(err, errlen, "cannot write %s/seq: %s", s->state_dir, strerror(errno));
		return -1;
	}
	if ((!have_id || !have_seq) &&
	    write_state_file(s->state_dir, "sensor_id", s->sensor_id) != 0) {
		snprintf(err, errlen, "cannot write %s/sensor_id: %s", s->state_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The bearer header, built from the file read once; every copy is wiped. */
static int load_token(struct shipper *s, const char *file, char *err, size_t errlen)
{
	static const char prefix[] = "Authorization: Bearer ";
	char *buf = calloc(1, TOKEN_MAX + sizeof(prefix) + 1);
	size_t n = 0;
	ssize_t r;
	int fd, rc = -1;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(buf, prefix, sizeof(prefix) - 1);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read collector token file %s: %s", file, strerror(errno));
		goto out;
	}
	while (n < TOKEN_MAX + 1 &&
	       (r = read(fd, buf + sizeof(prefix) - 1 + n, TOKEN_MAX + 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	{
		char *t = buf + sizeof(prefix) - 1;

		while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' ||
				 t[n - 1] == '\t'))
			n--;
		t[n] = '\0';
		if (n == 0 || n > TOKEN_MAX) {
			snprintf(err, errlen, "collector token file %s: expected one token of 1..%d bytes",
				 file, TOKEN_MAX);
			goto out;
		}
		/* a header value: printable, no spaces, nothing that could end the line */
		for (size_t i = 0; i < n; i++) {
			if (t[i] <= 0x20 || t[i] >= 0x7f) {
				snprintf(err, errlen, "collector token file %s: the token must be printable "
					 "ASCII without spaces", file);
				goto out;
			}
		}
	}
	s->headers = curl_slist_append(s->headers, buf);
	if (!s->headers) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	secure_wipe(buf, TOKEN_MAX + sizeof(prefix) + 1);
	free(buf);
	return rc;
}

static char *dup_opt(const char *v)
{
	return v ? strdup(v) : NULL;
}

static void *sender_main(void *arg);

/* ---- collector URLs ------------------------------------------------------- */

static bool http_url(const char *p, size_t n)
{
	return (n >= 7 && strncmp(p, "http://", 7) == 0) ||
	       (n >= 8 && strncmp(p, "https://", 8) == 0);
}

int shipper_urls_add(struct shipper_urls *u, const char *arg, char *err, size_t errlen)
{
	struct shipper_urls add = { 0 };
	const char *p = arg;

	for (;;) {
		size_t n = strcspn(p, ",");

		if (!http_url(p, n)) {
			if (n == 0)
				snprintf(err, errlen, "--collector: empty URL in the list '%s'", arg);
			else
				snprintf(err, errlen, "--collector: expected http:// or https:// URLs, "
					 "got '%.*s'", (int)n, p);
			goto fail;
		}
		if (u->n + add.n >= SHIPPER_URLS_MAX) {
			snprintf(err, errlen, "--collector: at most %d collector URLs", SHIPPER_URLS_MAX);
			goto fail;
		}
		add.url[add.n] = strndup(p, n);
		if (!add.url[add.n++]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	memcpy(u->url + u->n, add.url, add.n * sizeof(*add.url));
	u->n += add.n;
	return 0;
fail:
	shipper_urls_free(&add);
	return -1;
}

void shipper_urls_free(struct shipper_urls *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->url[i]);
	u->n = 0;
}

/* scheme://host[:port][/path]: user info and query may hold secrets, logs get neither */
static char *url_label(const char *url)
{
	const char *auth = strstr(url, "://") + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', alen);
	const char *host = at ? at + 1 : auth;
	size_t slen = (size_t)(auth - url), hlen = strcspn(host, "?#");
	char *l;

	while (hlen > 0 && host[hlen - 1] == '/')
		hlen--;
	l = malloc(slen + hlen + 1);

	if (l) {
		memcpy(l, url, slen);
		memcpy(l + slen, host, hlen);
		l[slen + hlen] = '\0';
	}
	return l;
}

/* <url>/v1/batches, <url>/healthz and the label of one collector. */
static int collector_init(struct collector *c, const char *url)
{
	size_t ul = strlen(url);

	while (ul > 0 && url[ul - 1] == '/')
		ul--;
	c->endpoint = malloc(ul + sizeof("/v1/batches"));
	c->health_url = malloc(ul + sizeof("/healthz"));
	c->label = url_label(url);
	if (!c->endpoint || !c->health_url || !c->label)
		return -1;
	memcpy(c->endpoint, url, ul);
	memcpy(c->endpoint + ul, "/v1/batches", sizeof("/v1/batches"));
	memcpy(c->health_url, url, ul);
	memcpy(c->health_url + ul, "/healthz", sizeof("/healthz"));
	return 0;
}

/* ---- setup ---------------------------------------------------------------- */

struct shipper *shipper_new(const struct shipper_opts *o, char *err, size_t errlen)
{
	struct shipper *s = calloc(1, sizeof(*s));
	const struct shipper_urls *urls = o->urls;
	char spool_dir[4096];
	pthread_condattr_t ca;
	static const char *const fixed_headers[] = {
		"Content-Type: application/x-protobuf",
		"Content-Encoding: gzip",
		"Expect:",   /* no 100-continue round trip */
	};

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->progress, &ca);
	pthread_condattr_destroy(&ca);
	batch_init(&s->batch, o->batch_max_events, o->batch_max_bytes);
	s->closed = true;   /* until the thread runs, free() has nothing to stop */

	if (!urls || urls->n == 0) {
		snprintf(err, errlen, "--collector: expected an http:// or https:// URL");
		goto fail;
	}
	if (urls->n > SHIPPER_URLS_MAX) {
		snprintf(err, errlen, "--collector: at most %d collector URLs", SHIPPER_URLS_MAX);
		goto fail;
	}
	for (size_t i = 0; i < urls->n; i++) {
		if (!urls->url[i] || !http_url(urls->url[i], strlen(urls->url[i]))) {
			snprintf(err, errlen, "--collector: expected http:// or https:// URLs");
			goto fail;
		}
	}
	if (!o->state_dir) {
		snprintf(err, errlen, "no state directory");
		goto fail;
	}
	for (size_t i = 0; i < urls->n; i++) {
		if (collector_init(&s->coll[s->n_coll++], urls->url[i]) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	s->state_dir = strdup(o->state_dir);
	s->ca_file = dup_opt(o->ca_file);
	s->client_cert = dup_opt(o->client_cert);
	s->client_key = dup_opt(o->client_key);
	if (!s->state_dir || (o->ca_file && !s->ca_file) ||
	    (o->client_cert && !s->client_cert) || (o->client_key && !s->client_key)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (o->node && o->node[0])
		snprintf(s->node, sizeof(s->node), "%s", o->node);
	else if (gethostname(s->node, sizeof(s->node) - 1) != 0)
		snprintf(s->node, sizeof(s->node), "unknown");
	s->verbose = o->verbose;
	s->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : 200;
	s->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : 30000;
	if (s->backoff_max_ms < s->backoff_min_ms)
		s->backoff_max_ms = s->backoff_min_ms;

	if (snprintf(spool_dir, sizeof(spool_dir), "%s/spool", o->state_dir) >= (int)sizeof(spool_dir)) {
		snprintf(err, errlen, "state directory path too long");
		goto fail;
	}
	s->spool = spool_open(spool_dir, o->spool_max_bytes, err, errlen);
	if (!s->spool)
		goto fail;
	if (load_identity(s, err, errlen) != 0)
		goto fail;

	for (size_t i = 0; i < sizeof(fixed_headers) / sizeof(fixed_headers[0]); i++) {
		struct curl_slist *h = curl_slist_append(s->headers, fixed_headers[i]);

		if (!h) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		s->headers = h;
	}
	if (o->token_file && load_token(s, o->token_file, err, errlen) != 0)
		goto fail;

	if (getrandom(&s->rng, sizeof(s->rng), 0) != (ssize_t)sizeof(s->rng) || s->rng == 0)
		s->rng = (uint64_t)clock_mono_ns() | 1;
	/* libcurl's global state is set up once, before any thread uses it */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(s->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot initialise libcurl");
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
		snprintf(err, errlen, "cannot start the sender thread");
		goto fail;
	}
	s->thread_started = true;
	s->closed = false;
	for (size_t i = 0; i < s->n_coll; i++)
		log_verbose(s->verbose, "shipping to %s as sensor %s (node %s)%s", s->coll[i].label,
			    s->sensor_id, s->node, i ? ", on failover" : "");
	return s;
fail:
	shipper_free(s);
	return NULL;
}

const char *shipper_sensor_id(const struct shipper *s)
{
	return s->sensor_id;
}

/* ---- batching (main thread) ---------------------------------------------- */

/* Next seq, reserving a new block in the seq file (fsync'ed) before it is used. */
static int take_seq(struct shipper *s, uint64_t *seq)
{
	if (s->next_seq >= s->seq_reserved && write_seq_reserve(s, s->next_seq + SEQ_BLOCK) != 0)
		return -1;
	*seq = s->next_seq++;
	return 0;
}

static void lose_batch(struct shipper *s, bool *warned, const char *why)
{
	if (!*warned)
		log_warn("cannot keep a batch of %zu events: %s", s->batch.n, why);
	*warned = true;
	pthread_mutex_lock(&s->mu);
	s->st.batches_lost++;
	pthread_mutex_unlock(&s->mu);
	batch_reset(&s->batch);
}

/* Writes the held batches to the spool, oldest first; true when none is left. Under mu. */
static bool write_held_locked(struct shipper *s)
{
	size_t done = 0;

	while (done < s->n_hold &&
	       spool_append(s->spool, s->hold[done].seq, s->hold[done].buf, s->hold[done].len) == 0) {
		s->hold_bytes -= s->hold[done].len;
		free(s->hold[done].buf);
		done++;
	}
	if (done) {
		memmove(s->hold, s->hold + done, (s->n_hold - done) * sizeof(s->hold[0]));
		s->n_hold -= done;
		s->st.batches_held = s->n_hold;
		pthread_cond_signal(&s->wake);
	}
	return s->n_hold == 0;
}

/* After a write to the spool succeeded: says once that a failure episode is over. */
static void spool_recovered(struct shipper *s)
{
	if (s->spool_warned || s->seq_warned) {
		log_info("the spool in %s is writable again", s->state_dir);
		s->spool_warned = s->seq_warned = false;
	}
}

/*
 * On disk first: delivery always reads from the spool. A batch the spool
 * cannot take (a full disk) is held in memory, bounded, and written by a
 * later tick once there is room; nothing newer goes to the spool before
 * the held batches, so seqs stay in order. Takes buf.
 */
static void store_batch(struct shipper *s, uint64_t seq, uint8_t *buf, size_t len)
{
	bool stored = false, held = false;
	int err = 0;

	pthread_mutex_lock(&s->mu);
	if (write_held_locked(s)) {
		stored = spool_append(s->spool, seq, buf, len) == 0;
		err = errno;
	}
	if (stored) {
		pthread_cond_signal(&s->wake);
	} else {
		s->st.spool_write_failures++;
		if (s->n_hold < HOLD_MAX && s->hold_bytes + len <= HOLD_MAX_BYTES) {
			s->hold[s->n_hold++] = (struct held_batch){ seq, buf, len };
			s->hold_bytes += len;
			s->st.batches_held = s->n_hold;
			held = true;
		} else {
			s->st.batches_lost++;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (!held)
		free(buf);
	if (stored) {
		spool_recovered(s);
	} else if (!s->spool_warned) {
		log_warn("cannot write a batch to the spool in %s: %s; batches are held in memory "
			 "(at most %d) until it can", s->state_dir, err ? strerror(err) : "older batches wait",
			 HOLD_MAX);
		s->spool_warned = true;
	}
	if (!stored)
		s->hold_retry_ns = clock_mono_ns() + HOLD_RETRY_NS;
}

/* Retries the held batches once a second; at close, once more, then what is left is lost. */
static void retry_held(struct shipper *s, int64_t now, bool last)
{
	bool empty;

	if (s->n_hold == 0 || (!last && now < s->hold_retry_ns))
		return;
	pthread_mutex_lock(&s->mu);
	empty = write_held_locked(s);
	if (!empty && last) {
		s->st.batches_lost += s->n_hold;
		for (size_t i = 0; i < s->n_hold; i++)
			free(s->hold[i].buf);
		s->n_hold = s->hold_bytes = 0;
		s->st.batches_held = 0;
	}
	pthread_mutex_unlock(&s->mu);
	if (empty)
		spool_recovered(s);
	s->hold_retry_ns = now + HOLD_RETRY_NS;
}

static void close_batch(struct shipper *s)
{
	struct batch_meta meta = {
		.sensor_id = s->sensor_id,
		.node = s->node,
		.sent_at_ms = clock_real_ms(),
		.sensor_version = TOKENTAP_VERSION,
	};
	uint8_t *buf;
	size_t len;

	if (s->batch.n == 0)
		return;
	if (take_seq(s, &meta.seq) != 0) {
		lose_batch(s, &s->seq_warned, "the seq file cannot be written");
		return;
	}
	if (batch_serialize(&s->batch, &meta, &buf, &len) != 0) {
		lose_batch(s, &s->spool_warned, "out of memory");
		return;
	}
	batch_reset(&s->batch);
	store_batch(s, meta.seq, buf, len);
}

void shipper_add(struct shipper *s, batch_event *ev)
{
	if (!ev || s->closed) {
		pthread_mutex_lock(&s->mu);
		s->st.events_lost++;
		pthread_mutex_unlock(&s->mu);
		batch_event_free(ev);
		return;
	}
	if (s->batch.n > 0 && batch_full(&s->batch))
		close_batch(s);
	if (s->batch.n == 0)
		s->batch_opened_ns = clock_mono_ns();
	/* a full batch refuses the event: close it, and the empty one takes anything */
	if (s->batch.n > 0 && s->batch.bytes + tokentap__v1__event__get_packed_size(ev) + 11 >
			      s->batch.max_bytes) {
		close_batch(s);
		s->batch_opened_ns = clock_mono_ns();
	}
	if (batch_add(&s->batch, ev) != 0) {
		pthread_mutex_lock(&s->mu);
		s->st.events_lost++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (batch_full(&s->batch))
		close_batch(s);
}

void shipper_tick(struct shipper *s, int64_t now_mono_ns)
{
	retry_held(s, now_mono_ns, false);
	if (s->batch.n > 0 && now_mono_ns - s->batch_opened_ns >= FLUSH_AFTER_NS)
		close_batch(s);
}

/* ---- delivery (sender thread) ------------------------------------------- */

enum outcome {
	OUT_SENT,
	OUT_REJECTED,   /* malformed: drop, never retry */
	OUT_AUTH,       /* 401/403: keep, retry later */
	OUT_RETRY,      /* connection error, 429, 5xx, anything unexpected */
	OUT_CUT,        /* connected, then reset or closed without an answer */
	OUT_POISON,     /* cut off again and again while the collector is up: drop */
};

static size_t on_reply(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct shipper *s = ctx;
	size_t n = size * nmemb;

	/* keep the start of the collector's message for the log, drop the rest */
	for (size_t i = 0; i < n && s->reply_len < REPLY_KEEP; i++) {
		char c = data[i];

		s->reply[s->reply_len++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
	s->reply[s->reply_len] = '\0';
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct shipper *s = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&s->abort_transfer) ? 1 : 0;
}

/* Options every request of the sender shares: protocols, TLS, timeouts, abort. */
static void request_setup(struct shipper *s, const char *url, long timeout_ms)
{
	CURL *c = s->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tokentap/" TOKENTAP_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	if (s->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	if (s->client_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, s->client_cert);
	if (s->client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, s->client_key);
}

/* The connection was up and the request under way when it ended without an answer. */
static bool cut_off(CURL *c, CURLcode cerr)
{
	curl_off_t up = 0;
	long req = 0;

	if (cerr != CURLE_SEND_ERROR && cerr != CURLE_RECV_ERROR && cerr != CURLE_GOT_NOTHING)
		return false;
	curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &req);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	return req > 0 || up > 0;
}

static enum outcome post(struct shipper *s, const uint8_t *body, size_t len, long timeout_ms,
			 long *code, long *retry_after_s, CURLcode *cerr)
{
	CURL *c = s->curl;
	curl_off_t ra = -1;

	*code = 0;
	*retry_after_s = 0;
	s->reply_len = 0;
	s->reply[0] = '\0';
	request_setup(s, s->coll[s->cur].endpoint, timeout_ms);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);

	*cerr = curl_easy_perform(c);
	if (*cerr != CURLE_OK)
		return cut_off(c, *cerr) ? OUT_CUT : OUT_RETRY;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		*retry_after_s = ra > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)ra;
	if (*code >= 200 && *code < 300)
		return OUT_SENT;
	if (*code == 400 || *code == 413 || *code == 415)
		return OUT_REJECTED;
	if (*code == 401 || *code == 403)
		return OUT_AUTH;
	return OUT_RETRY;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *ctx)
{
	(void)data, (void)ctx;
	return size * nmemb;
}

/* GET <url>/healthz of the current collector answers 2xx: it is up and serving. */
static bool collector_up(struct shipper *s, long timeout_ms)
{
	long code = 0;

	request_setup(s, s->coll[s->cur].health_url, timeout_ms < PROBE_TIMEOUT_MS ? timeout_ms
								      : PROBE_TIMEOUT_MS);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(s->curl) != CURLE_OK)
		return false;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	return code >= 200 && code < 300;
}

/*
 * An upload cut off without an answer: a network fault, a collector going
 * down, or a batch it will never take (it closes the connection on a body
 * far over its limit, and so may a proxy; the 413, if any, is lost). Only
 * when the collector is up right after does the failure count against the
 * batch; enough of them in a row, and the batch is a poison one that
 * would block the spool for ever.
 */
static enum outcome judge_cut(struct shipper *s, uint64_t seq, long timeout_ms)
{
	if (!collector_up(s, timeout_ms))
		return OUT_RETRY;
	if (seq != s->cut_seq) {
		s->cut_seq = seq;
		s->cut_tries = 0;
	}
	/*
	 * Every batch gets its own tries, even one as large as a batch dropped
	 * before: a size is no proof, and a transient reset must not cost data.
	 */
	if (++s->cut_tries < SHIPPER_POISON_TRIES)
		return OUT_CUT;
	return OUT_POISON;
}

static uint64_t next_rand(struct shipper *s)
{
	/* xorshift64: jitter only, nothing secret */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* Exponential backoff with jitter in [d/2, d], at least Retry-After. Called under mu. */
static void schedule_retry(struct shipper *s, long retry_after_s)
{
	uint64_t d = s->backoff_min_ms;

	for (unsigned i = 0; i < s->attempt && d < s->backoff_max_ms; i++)
		d *= 2;
	if (d > s->backoff_max_ms)
		d = s->backoff_max_ms;
	d = d / 2 + next_rand(s) % (d / 2 + 1);
	if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000 > d)
		d = (uint64_t)retry_after_s * 1000;
	if (s->attempt < 32)
		s->attempt++;
	s->retry_at_ns = clock_mono_ns() + (int64_t)d * 1000000LL;
	s->st.retries++;
}

static void report(struct shipper *s, enum outcome r, uint64_t seq, size_t len, long code,
		   CURLcode cerr)
{
	switch (r) {
	case OUT_SENT:
		if ((s->down_logged || s->auth_logged) && s->n_coll > 1)
			log_info("collector %s accepts batches again", s->coll[s->cur].label);
		else if (s->down_logged || s->auth_logged)
			log_info("collector accepts batches again");
		s->down_logged = s->auth_logged = false;
		log_verbose(s->verbose > 1, "batch %llu delivered", (unsigned long long)seq);
		break;
	case OUT_REJECTED:
		log_warn("collector rejected batch %llu (HTTP %ld): %.*s", (unsigned long long)seq,
			 code, REPLY_LOG, s->reply[0] ? s->reply : "no reason given");
		break;
	case OUT_AUTH:
		if (!s->auth_logged)
			log_warn("collector refused the sensor token (HTTP %ld): batches stay spooled",
				 code);
		s->auth_logged = true;
		break;
	case OUT_POISON:
		if (s->cut_tries >= SHIPPER_POISON_TRIES)
			log_warn("collector cut off batch %llu (%zu bytes) %u times while up: dropped "
				 "as too large for it", (unsigned long long)seq, len, s->cut_tries);
		else
			log_warn("collector cut off batch %llu (%zu bytes) while up, as it did one about "
				 "this large before: dropped", (unsigned long long)seq, len);
		break;
	case OUT_CUT:
		log_verbose(s->verbose, "batch %llu cut off while the collector is up (%u of %d)",
			    (unsigned long long)seq, s->cut_tries, SHIPPER_POISON_TRIES);
		break;
	case OUT_RETRY:
		if (s->n_coll > 1)
			break;   /* fail_over() says it */
		if (!s->down_logged) {
			if (cerr != CURLE_OK)
				log_warn("collector unreachable (%s): spooling batches",
					 curl_easy_strerror(cerr));
			else
				log_warn("collector answered HTTP %ld: spooling batches", code);
		}
		s->down_logged = true;
		break;
	}
}

/*
 * A retried failure moves the next attempt to the next collector in the
 * list. It may go at once while a collector of this round is untried: a
 * replica that is down must not delay the batch when another is up. A
 * whole round of failures backs off as one collector's failure does, for
 * at least the largest Retry-After of the round. Returns true to retry at
 * once. One line per change of collector, until all of them failed in a
 * row: then one warning, and quiet until a batch is delivered again.
 */
static bool fail_over(struct shipper *s, long code, CURLcode cerr, long *retry_after_s)
{
	const char *from = s->coll[s->cur].label;
	char why[160];

	if (s->n_coll < 2)
		return false;
	if (cerr != CURLE_OK)
		snprintf(why, sizeof(why), "unreachable (%s)", curl_easy_strerror(cerr));
	else
		snprintf(why, sizeof(why), "answered HTTP %ld", code);
	if (*retry_after_s > s->round_retry_after)
		s->round_retry_after = *retry_after_s;
	s->cur = (s->cur + 1) % s->n_coll;
	if (++s->round_fails < s->n_coll) {
		if (!s->down_logged)
			log_info("collector %s %s: trying %s", from, why, s->coll[s->cur].label);
		return true;
	}
	if (!s->down_logged)
		log_warn("no collector takes batches, spooling them (last: %s %s); next try %s",
			 from, why, s->coll[s->cur].label);
	s->down_logged = true;
	*retry_after_s = s->round_retry_after;
	s->round_fails = 0;
	s->round_retry_after = 0;
	return false;
}

/*
 * A stored batch's reply may list fingerprints marked for revocation
 * ("revoke"); the latest reply replaces the list. Called under mu.
 */
static void take_revoke_list(struct shipper *s)
{
	struct json_object *o = json_tokener_parse(s->reply), *arr;

	s->n_revoke = 0;
	if (o && json_object_object_get_ex(o, "revoke", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(arr) && s->n_revoke < SHIPPER_REVOKE_MAX;
		     i++) {
			const char *fp = json_object_get_string(json_object_array_get_idx(arr, i));
			size_t n = fp ? strspn(fp, "0123456789abcdef") : 0;

			if (n == 32 && fp[32] == '\0')
				memcpy(s->revoke[s->n_revoke++], fp, 33);
		}
	}
	json_object_put(o);
}

size_t shipper_revoke_list(struct shipper *s, char (*out)[33], size_t cap)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->n_revoke < cap ? s->n_revoke : cap;
	memcpy(out, s->revoke, n * sizeof(*out));
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void *sender_main(void *arg)
{
	struct shipper *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		int64_t now = clock_mono_ns();
		long timeout = REQUEST_TIMEOUT_MS, code, retry_after;
		int64_t post_ns;
		uint64_t seq;
		uint8_t *buf;
		size_t len;
		enum outcome r;
		CURLcode cerr;
		bool at_once = false;

		if (s->retry_at_ns > now) {
			struct timespec ts = mono_ts(s->retry_at_ns);

			pthread_cond_timedwait(&s->wake, &s->mu, &ts);
			continue;
		}
		if (spool_oldest(s->spool, &seq, &buf, &len) != 1) {
			pthread_cond_broadcast(&s->progress);
			pthread_cond_wait(&s->wake, &s->mu);
			continue;
		}
		/* while shutting down, no request outlives the deadline */
		if (s->drain_deadline_ns) {
			int64_t left_ms = (s->drain_deadline_ns - now) / 1000000LL;

			timeout = left_ms < 1 ? 1 : left_ms < timeout ? (long)left_ms : timeout;
		}
		pthread_mutex_unlock(&s->mu);

		post_ns = clock_mono_ns();
		r = post(s, buf, len, timeout, &code, &retry_after, &cerr);
		post_ns = clock_mono_ns() - post_ns;
		free(buf);
		if (r == OUT_CUT)
			r = judge_cut(s, seq, timeout);
		else if (code)
			s->cut_tries = 0;   /* it was answered: the cut-offs were not the batch's doing */
		report(s, r, seq, len, code, cerr);
		if (r == OUT_RETRY) {
			at_once = fail_over(s, code, cerr, &retry_after);
		} else {
			/* an answer (or a cut-off with the collector up) ends the round */
			s->round_fails = 0;
			s->round_retry_after = 0;
		}

		pthread_mutex_lock(&s->mu);
		if (r == OUT_RETRY && s->n_coll > 1)
			s->st.failovers++;
		switch (r) {
		case OUT_SENT:
			spool_remove(s->spool, seq);
			take_revoke_list(s);
			s->st.batches_sent++;
			s->st.ship_ns_sum += (uint64_t)post_ns;
			s->attempt = 0;
			s->retry_at_ns = 0;
			break;
		case OUT_REJECTED:
			spool_remove(s->spool, seq);
			s->st.batches_rejected++;
			break;
		case OUT_POISON:
			spool_remove(s->spool, seq);
			s->st.batches_rejected++;
			/* the failures were this batch's: the next one goes at once */
			s->cut_tries = 0;
			s->attempt = 0;
			s->retry_at_ns = 0;
			break;
		case OUT_RETRY:
			if (at_once) {
				s->st.retries++;
				s->retry_at_ns = 0;
				break;
			}
			schedule_retry(s, retry_after);
			break;
		case OUT_AUTH:
		case OUT_CUT:
			schedule_retry(s, retry_after);
			break;
		}
		pthread_cond_broadcast(&s->progress);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- shutdown and stats ----------------------------------------------------- */

void shipper_close(struct shipper *s, int timeout_ms)
{
	int64_t deadline;
	struct spool_stats ss;

	if (!s || s->closed)
		return;
	close_batch(s);
	retry_held(s, clock_mono_ns(), true);
	deadline = clock_mono_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000LL;
	pthread_mutex_lock(&s->mu);
	s->drain_deadline_ns = deadline;
	s->retry_at_ns = 0;   /* one more attempt now, whatever the backoff said */
	pthread_cond_signal(&s->wake);
	for (;;) {
		struct timespec ts = mono_ts(deadline);

		spool_stats(s->spool, &ss);
		if (ss.files == 0 || clock_mono_ns() >= deadline)
			break;
		pthread_cond_timedwait(&s->progress, &s->mu, &ts);
	}
	s->stop = true;
	atomic_store(&s->abort_transfer, 1);
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->thread_started = false;
	s->closed = true;
	if (ss.files)
		log_info("%llu batches left in the spool for the next run",
			 (unsigned long long)ss.files);
}

void shipper_free(struct shipper *s)
{
	if (!s)
		return;
	if (!s->closed)
		shipper_close(s, 0);
	batch_free(&s->batch);
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		curl_global_cleanup();
	}
	for (struct curl_slist *h = s->headers; h; h = h->next)
		secure_wipe(h->data, strlen(h->data));
	curl_slist_free_all(s->headers);
	spool_close(s->spool);
	for (size_t i = 0; i < s->n_coll; i++) {
		free(s->coll[i].endpoint);
		free(s->coll[i].health_url);
		free(s->coll[i].label);
	}
	free(s->ca_file);
	free(s->client_cert);
	free(s->client_key);
	free(s->state_dir);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->progress);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void shipper_stats(struct shipper *s, struct shipper_stats *out)
{
	struct spool_stats ss;

	pthread_mutex_lock(&s->mu);
	*out = s->st;
	spool_stats(s->spool, &ss);
	pthread_mutex_unlock(&s->mu);
	out->spool_bytes = ss.bytes;
	out->spool_batches = ss.files;
	out->spool_dropped = ss.dropped_full + ss.dropped_corrupt;
}
