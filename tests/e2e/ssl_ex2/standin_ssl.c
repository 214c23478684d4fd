/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for OpenSSL 3.3's libssl.so.3 (Debian 12 ships 3.0, without
 * SSL_write_ex2), built by tests/e2e/run_rust.py into a temporary
 * directory under that name. It exports what the sensor looks for, shaped
 * as in OpenSSL 3.3: SSL_write_ex2 does the work, SSL_write_ex and
 * SSL_write call it (through the PLT, as OpenSSL's own build does), and
 * SSL_in_init is a one-field getter. The "encryption" is a XOR: the test
 * is about where the plaintext is taken and how the session is bound, by
 * the record written to the socket on the same thread inside the call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ssl_st {
	int fd;
	int in_init;
} SSL;

SSL *tt_standin_new(int fd);
int SSL_in_init(const SSL *s);
int SSL_write_ex2(SSL *s, const void *buf, size_t num, uint64_t flags, size_t *written);
int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written);
int SSL_write(SSL *s, const void *buf, int num);

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One record: content type, version 3.3, length, payload. */
static int send_record(SSL *s, uint8_t type, const uint8_t *payload, size_t n)
{
	uint8_t rec[5 + 16384];

	if (n > 16384)
		return -1;
	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(n >> 8);
	rec[4] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		rec[5 + i] = payload[i] ^ 0x5a;
	return write_all(s->fd, rec, 5 + n);
}

SSL *tt_standin_new(int fd)
{
	static const uint8_t hello[] = "client hello";
	SSL *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = fd;
	/* a handshake record, so the socket looks like TLS from its first byte */
	if (send_record(s, 22, hello, sizeof(hello) - 1) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int SSL_in_init(const SSL *s)
{
	return s->in_init;
}

int SSL_write_ex2(SSL *s, const void *buf, size_t num, uint64_t flags, size_t *written)
{
	size_t done = 0;

	(void)flags;
	while (done < num) {
		size_t n = num - done > 16384 ? 16384 : num - done;

		if (send_record(s, 23, (const uint8_t *)buf + done, n) != 0)
			return 0;
		done += n;
	}
	*written = done;
	return 1;
}

int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written)
{
	return SSL_write_ex2(s, buf, num, 0, written);
}

int SSL_write(SSL *s, const void *buf, int num)
{
	size_t w = 0;

	if (num <= 0)
		return num;
	return SSL_write_ex2(s, buf, (size_t)num, 0, &w) ? (int)w : -1;
}
