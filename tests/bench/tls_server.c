// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * tls_server - loopback TLS server for the benchmark. Serves one keep-alive
 * connection at a time and answers every request (a header block ending in
 * an empty line, no body) with a short fixed response. Runs until
 * SIGINT/SIGTERM. Prints "port=<n>" on stdout once it listens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_SIZE 16384

static const char response[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 2\r\n"
	"Connection: keep-alive\r\n"
	"\r\n"
	"ok";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s --cert PEM --key PEM [--port N]\n"
		"Loopback TLS server answering each HTTP/1.1 request with a short\n"
		"response. Prints \"port=<n>\" once listening on 127.0.0.1.\n\n"
		"  -c, --cert PEM   certificate file\n"
		"  -k, --key PEM    private key file\n"
		"  -p, --port N     TCP port (default 0: any free port)\n"
		"  -h, --help       show this help\n\n"
		"Example:\n  %s --cert cert.pem --key key.pem\n",
		prog, prog);
}

static int listen_loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -1;
	}
	printf("port=%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/* Answer every complete request in buf; keep a partial one for later. */
static int answer_requests(SSL *ssl, char *buf, size_t *used)
{
	char *end;

	while ((end = memmem(buf, *used, "\r\n\r\n", 4)) != NULL) {
		size_t consumed = (size_t)(end - buf) + 4;

		if (SSL_write(ssl, response, sizeof(response) - 1) <= 0)
			return -1;
		memmove(buf, buf + consumed, *used - consumed);
		*used -= consumed;
	}
	/* A header block larger than the buffer is not a request we serve. */
	return *used < BUF_SIZE ? 0 : -1;
}

static void serve(SSL_CTX *ctx, int cfd)
{
	char buf[BUF_SIZE];
	size_t used = 0;
	int one = 1, n;
	SSL *ssl;

	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	if (!ssl)
		return;
	SSL_set_fd(ssl, cfd);
	if (SSL_accept(ssl) != 1)
		goto out;
	while (!stop) {
		n = SSL_read(ssl, buf + used, (int)(sizeof(buf) - used));
		if (n <= 0)
			break;
		used += (size_t)n;
		if (answer_requests(ssl, buf, &used))
			break;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cert = NULL, *key = NULL;
	struct sigaction sa;
	int opt, port = 0, lfd, cfd;
	SSL_CTX *ctx;
	char *end;

	while ((opt = getopt_long(argc, argv, "c:k:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			port = (int)strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535)
				goto bad;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || !cert || !key)
		goto bad;

	/* No SA_RESTART: a signal must interrupt accept() and SSL_read(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	lfd = listen_loopback(port);
	if (lfd < 0) {
		perror("tls_server: listen");
		return 1;
	}
	while (!stop) {
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			perror("tls_server: accept");
			break;
		}
		serve(ctx, cfd);
		close(cfd);
	}
	close(lfd);
	SSL_CTX_free(ctx);
	return 0;
bad:
	usage(stderr, argv[0]);
	return 2;
}
