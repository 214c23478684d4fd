/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sends requests with a Bearer token (TT_TOKEN) through the stand-in
 * libssl.so.3 (standin_ssl.c) on one connection: N with SSL_write_ex2, N
 * with SSL_write_ex, N with SSL_write, each header block in one call.
 * usage: ex2_client PORT N   (TT_DELAY_MS: wait first, so the sensor can
 * attach to the new program and library)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct ssl_st SSL;
SSL *tt_standin_new(int fd);
int SSL_write_ex2(SSL *s, const void *buf, size_t num, uint64_t flags, size_t *written);
int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written);
int SSL_write(SSL *s, const void *buf, int num);

int main(int argc, char **argv)
{
	const char *tok = getenv("TT_TOKEN"), *delay = getenv("TT_DELAY_MS");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[512];
	int fd, n, len, sent = 0;
	SSL *s;

	if (argc != 3 || !tok || strlen(tok) > 200)
		return 2;
	n = atoi(argv[2]);
	if (delay)
		usleep((useconds_t)atoi(delay) * 1000);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 1;
	s = tt_standin_new(fd);
	if (!s)
		return 1;
	len = snprintf(req, sizeof(req), "GET /ex2 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: Bearer %s\r\n\r\n",
		       argv[1], tok);
	for (int i = 0; i < n; i++) {
		size_t w = 0;

		sent += SSL_write_ex2(s, req, (size_t)len, 0, &w) == 1;
		sent += SSL_write_ex(s, req, (size_t)len, &w) == 1;
		sent += SSL_write(s, req, len) == len;
	}
	printf("sent %d\n", sent);
	close(fd);
	return sent == 3 * n ? 0 : 1;
}
