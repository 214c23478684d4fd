/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An HTTPS client over mbedTLS, a TLS library the sensor has no probe for:
 * run_coverage.py expects it reported as tls_uncovered. Usage:
 * mbedtls_client PORT [REQUESTS]. Connects to 127.0.0.1 without checking
 * the certificate (a test server's, self-signed) and sends REQUESTS GET
 * requests on one connection, each with a header long enough that its
 * record is one a request would make.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_response(mbedtls_ssl_context *ssl)
{
	unsigned char buf[4096];
	size_t have = 0;
	int n;

	/* the test server answers with Content-Length: read the header and body */
	for (;;) {
		char *end, *cl;

		n = mbedtls_ssl_read(ssl, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr((char *)buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strstr((char *)buf, "Content-Length:");
		if (!cl || have >= (size_t)(end + 4 - (char *)buf) + strtoul(cl + 15, NULL, 10))
			return 0;
	}
}

int main(int argc, char **argv)
{
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	char req[512];
	int n, reqs = argc > 2 ? atoi(argv[2]) : 1, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: mbedtls_client PORT [REQUESTS]\n");
		return 2;
	}
	mbedtls_net_init(&net);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) ||
	    mbedtls_net_connect(&net, "127.0.0.1", argv[1], MBEDTLS_NET_PROTO_TCP) ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT)) {
		fprintf(stderr, "mbedtls_client: setup failed\n");
		goto out;
	}
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	if (mbedtls_ssl_setup(&ssl, &conf) || mbedtls_ssl_set_hostname(&ssl, "127.0.0.1")) {
		fprintf(stderr, "mbedtls_client: ssl setup failed\n");
		goto out;
	}
	mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
	while ((n = mbedtls_ssl_handshake(&ssl)) != 0) {
		if (n != MBEDTLS_ERR_SSL_WANT_READ && n != MBEDTLS_ERR_SSL_WANT_WRITE) {
			fprintf(stderr, "mbedtls_client: handshake failed: -0x%x\n", (unsigned)-n);
			goto out;
		}
	}
	for (int i = 0; i < reqs; i++) {
		n = snprintf(req, sizeof(req),
			     "GET /coverage/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mbedtls-client\r\n"
			     "Accept: application/json\r\nX-Padding: 0123456789abcdef0123456789abcdef\r\n\r\n",
			     i);
		if (mbedtls_ssl_write(&ssl, (const unsigned char *)req, (size_t)n) != n ||
		    read_response(&ssl) != 0) {
			fprintf(stderr, "mbedtls_client: request %d failed\n", i);
			goto out;
		}
	}
	mbedtls_ssl_close_notify(&ssl);
	rc = 0;
out:
	mbedtls_net_free(&net);
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return rc;
}
