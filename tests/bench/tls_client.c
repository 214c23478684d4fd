// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * tls_client - time N HTTP/1.1 requests over one keep-alive TLS connection.
 * Each request (~300 bytes, with an Authorization: Bearer token made up at
 * start) goes out in one SSL_write, and the short response is read before the
 * next one. Prints "ns_per_op=<mean ns per request>". The token is never
 * printed and is wiped before exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define REQ_SIZE 512
#define RESP_SIZE 4096
#define TOKEN_RANDOM_LEN 36
#define REQ_ID_DIGITS 8

static const char base62[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct request {
	char buf[REQ_SIZE];
	size_t len;
	size_t id_off;		/* where the per-request id digits start */
};

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s --port N [-n REQUESTS] [-w WARMUP]\n"
		"Send REQUESTS keep-alive HTTP/1.1 requests over one TLS connection\n"
		"to 127.0.0.1:N, one SSL_write each; print \"ns_per_op=<mean ns>\".\n\n"
		"  -p, --port N        server port\n"
		"  -n, --requests N    timed requests (default 20000)\n"
		"  -w, --warmup N      untimed requests first (default 1000)\n"
		"  -h, --help          show this help\n\n"
		"Example:\n  %s --port 4433 -n 20000\n",
		prog, prog);
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A GitHub-PAT-shaped token, so the sensor classifies it like a real one. */
static int make_token(char *tok, size_t size)
{
	unsigned char rnd[TOKEN_RANDOM_LEN];

	if (size < 4 + TOKEN_RANDOM_LEN + 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	memcpy(tok, "ghp_", 4);
	for (size_t i = 0; i < sizeof(rnd); i++)
		tok[4 + i] = base62[rnd[i] % 62];
	tok[4 + TOKEN_RANDOM_LEN] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

static int build_request(struct request *req, const char *token)
{
	static const char id_marker[] = "X-Request-Id: ";
	char *id;
	int n;

	n = snprintf(req->buf, sizeof(req->buf),
		     "GET /v1/repos/bench/items?page=1 HTTP/1.1\r\n"
		     "Host: api.bench.example\r\n"
		     "User-Agent: tokentap-bench/1.0 (loopback)\r\n"
		     "Accept: application/json\r\n"
		     "Accept-Encoding: identity\r\n"
		     "Accept-Language: en-US\r\n"
		     "Authorization: Bearer %s\r\n"
		     "%s%0*d\r\n"
		     "Connection: keep-alive\r\n"
		     "\r\n",
		     token, id_marker, REQ_ID_DIGITS, 0);
	if (n < 0 || (size_t)n >= sizeof(req->buf))
		return -1;
	req->len = (size_t)n;
	id = strstr(req->buf, id_marker);
	req->id_off = (size_t)(id - req->buf) + sizeof(id_marker) - 1;
	return 0;
}

/* Rewrite the id digits in place: requests differ without re-formatting. */
static void set_request_id(struct request *req, unsigned long id)
{
	char *p = req->buf + req->id_off + REQ_ID_DIGITS;

	for (int i = 0; i < REQ_ID_DIGITS; i++) {
		*--p = (char)('0' + id % 10);
		id /= 10;
	}
}

/* Content-Length of a response header block, -1 when absent or bad. */
static long content_length(const char *hdr, size_t len)
{
	static const char name[] = "\r\nContent-Length:";
	const size_t nlen = sizeof(name) - 1;

	for (size_t i = 0; i + nlen < len; i++) {
		if (strncasecmp(hdr + i, name, nlen) == 0) {
			long v = 0;
			size_t j = i + nlen;

			while (j < len && hdr[j] == ' ')
				j++;
			if (j >= len || hdr[j] < '0' || hdr[j] > '9')
				return -1;
			while (j < len && hdr[j] >= '0' && hdr[j] <= '9' && v < RESP_SIZE)
				v = v * 10 + (hdr[j++] - '0');
			return v < RESP_SIZE ? v : -1;
		}
	}
	return -1;
}

/* Read one whole response: header block plus Content-Length body bytes. */
static int read_response(SSL *ssl, char *buf, size_t *used)
{
	size_t need = 0;
	char *end;
	int n;

	for (;;) {
		if (!need && (end = memmem(buf, *used, "\r\n\r\n", 4)) != NULL) {
			size_t hlen = (size_t)(end - buf) + 4;
			long body = content_length(buf, hlen);

			if (body < 0)
				return -1;
			need = hlen + (size_t)body;
		}
		if (need && *used >= need) {
			memmove(buf, buf + need, *used - need);
			*used -= need;
			return 0;
		}
		if (*used >= RESP_SIZE)
			return -1;
		n = SSL_read(ssl, buf + *used, (int)(RESP_SIZE - *used));
		if (n <= 0)
			return -1;
		*used += (size_t)n;
	}
}

static int run_requests(SSL *ssl, struct request *req, long n, unsigned long *id)
{
	char resp[RESP_SIZE];
	size_t used = 0;

	for (long i = 0; i < n; i++) {
		set_request_id(req, (*id)++);
		if (SSL_write(ssl, req->buf, (int)req->len) != (int)req->len ||
		    read_response(ssl, resp, &used)) {
			fprintf(stderr, "tls_client: request %ld failed\n", i);
			ERR_print_errors_fp(stderr);
			return -1;
		}
	}
	return 0;
}

static int connect_loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1;

	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "requests", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long port = -1, requests = 20000, warmup = 1000;
	char token[4 + TOKEN_RANDOM_LEN + 1];
	struct request req;
	unsigned long id = 0;
	long long t0, t1;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int opt, fd = -1, ret = 1;

	while ((opt = getopt_long(argc, argv, "p:n:w:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_long(optarg, 1, 65535, &port))
				goto bad;
			break;
		case 'n':
			if (parse_long(optarg, 1, 100000000L, &requests))
				goto bad;
			break;
		case 'w':
			if (parse_long(optarg, 0, 100000000L, &warmup))
				goto bad;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || port < 0)
		goto bad;

	if (make_token(token, sizeof(token)) || build_request(&req, token)) {
		fprintf(stderr, "tls_client: cannot build the request\n");
		goto out;
	}
	OPENSSL_cleanse(token, sizeof(token));

	/* Loopback benchmark against our own throwaway certificate: no verify. */
	ctx = SSL_CTX_new(TLS_client_method());
	fd = connect_loopback((int)port);
	if (!ctx || fd < 0) {
		perror("tls_client: connect");
		goto out;
	}
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		goto out;
	}
	if (run_requests(ssl, &req, warmup, &id))
		goto out;
	t0 = now_ns();
	if (run_requests(ssl, &req, requests, &id))
		goto out;
	t1 = now_ns();

	printf("ns_per_op=%.1f requests=%ld request_bytes=%zu\n",
	       (double)(t1 - t0) / (double)requests, requests, req.len);
	SSL_shutdown(ssl);
	ret = 0;
out:
	OPENSSL_cleanse(&req, sizeof(req));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return ret;
bad:
	usage(stderr, argv[0]);
	return 2;
}
