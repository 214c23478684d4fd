/* SPDX-License-Identifier: Apache-2.0 */
#include "kube_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool url_ok(const char *u)
{
	size_t i;

	if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7))
		return false;
	/* no user:password@ either: the URL is logged, credentials go in the token file */
	for (i = 0; u[i]; i++)
		if (u[i] <= ' ' || u[i] > '~' || u[i] == '?' || u[i] == '#' || u[i] == '@')
			return false;
	return i < KUBE_URL_MAX;
}

/* A host (name, IPv4 or IPv6 without brackets) or a port: no URL syntax inside. */
static bool host_ok(const char *h, bool port)
{
	size_t i;

	if (!h || !h[0] || strlen(h) > 253)
		return false;
	for (i = 0; h[i]; i++) {
		char c = h[i];

		if (port ? !(c >= '0' && c <= '9') :
			   !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			     c == '.' || c == '-' || c == ':'))
			return false;
	}
	return !port || i <= 5;
}

int kube_config_resolve(const char *api, const char *token_file, const char *ca_file,
			const char *(*getenv_fn)(const char *name), struct kube_config *out,
			char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (api && api[0]) {
		if (!url_ok(api)) {
			snprintf(err, errlen, "--kube-api: expected an http(s) URL without query or user");
			return -1;
		}
		snprintf(out->api, sizeof(out->api), "%s", api);
	} else {
		const char *h = getenv_fn("KUBERNETES_SERVICE_HOST");
		const char *p = getenv_fn("KUBERNETES_SERVICE_PORT");

		if (!h || !h[0])
			return 0;
		if (!p || !p[0])
			p = "443";
		if (!host_ok(h, false) || !host_ok(p, true)) {
			snprintf(err, errlen, "KUBERNETES_SERVICE_HOST/PORT: not a host and port");
			return -1;
		}
		/* an IPv6 service address needs brackets in a URL */
		snprintf(out->api, sizeof(out->api), strchr(h, ':') ? "https://[%s]:%s" : "https://%s:%s",
			 h, p);
		if (!token_file)
			token_file = KUBE_SA_DIR "/token";
		if (!ca_file)
			ca_file = KUBE_SA_DIR "/ca.crt";
	}
	while (strlen(out->api) > 8 && out->api[strlen(out->api) - 1] == '/')
		out->api[strlen(out->api) - 1] = '\0';
	if ((token_file && strlen(token_file) >= sizeof(out->token_file)) ||
	    (ca_file && strlen(ca_file) >= sizeof(out->ca_file))) {
		snprintf(err, errlen, "--kube-token-file/--kube-ca-file: path too long");
		return -1;
	}
	snprintf(out->token_file, sizeof(out->token_file), "%s", token_file ? token_file : "");
	snprintf(out->ca_file, sizeof(out->ca_file), "%s", ca_file ? ca_file : "");
	return 1;
}
