/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a parsed request to sightings: its credentials are extracted,
 * fingerprinted and classified, and each becomes a sighting describing the
 * process, connection and request. The raw values are wiped before this
 * returns; only a revocation hook that asks for a fingerprint sees one.
 */
#include <stdlib.h>
#include <string.h>

#include "exe_cache.h"
#include "pipeline_internal.h"
#include "text.h"

static const char *tls_library_name(unsigned lib)
{
	static const char *const names[TT_LIB_MAX] = {
		[TT_LIB_OPENSSL] = "openssl", [TT_LIB_GNUTLS] = "gnutls",
		[TT_LIB_GO] = "go", [TT_LIB_NSS] = "nss", [TT_LIB_RUSTLS] = "rustls",
		[TT_LIB_JAVA] = "java",
	};

	return lib < TT_LIB_MAX && names[lib] ? names[lib] : "unknown";
}

/* What every credential of the request shares: who sent it, where, how. */
static void request_base(struct pipeline *p, const struct session *s, const struct tt_event_hdr *h,
			 const struct http1_request *req, struct sighting *base)
{
	const struct http1_header *host = http1_find_header(req, "host");
	struct exe_info pi;

	memset(base, 0, sizeof(*base));
	base->pid = h->pid;
	base->tid = h->tid;
	base->uid = h->uid;
	text_printable(base->comm, sizeof(base->comm), h->comm, strnlen(h->comm, TT_COMM_LEN));
	exe_cache_get(p->o.exes, h->pid, &pi);
	text_copy(base->exe, sizeof(base->exe), pi.exe);
	memcpy(base->container_id, pi.container_id, sizeof(base->container_id));
	memcpy(base->pod_uid, pi.pod_uid, sizeof(base->pod_uid));
	base->cgroup_id = h->cgroup_id;
	base->tls = s->tls;
	if (s->tls)
		text_copy(base->tls_library, sizeof(base->tls_library), tls_library_name(h->tls_lib));
	text_copy(base->src, sizeof(base->src), s->src);
	text_copy(base->dst, sizeof(base->dst), s->dst);
	if (host)
		text_printable(base->host, sizeof(base->host), host->value, host->value_len);
	text_printable(base->method, sizeof(base->method), req->method, req->method_len);
	cred_redact_target(req->target, req->target_len, base->path, sizeof(base->path));
	base->ts_unix_ns = (int64_t)h->ts_ns + p->mono_to_real;
}

void request_to_sightings(const struct http1_request *req, void *arg)
{
	struct feed_ctx *fc = arg;
	struct pipeline *p = fc->p;
	struct session *s = fc->s;
	const struct tt_event_hdr *h = fc->h;
	struct cred_list *creds = p->creds;
	struct sighting base;

	p->st.requests++;
	if (cred_extract(req, p->o.cred, creds) == 0) {
		cred_list_wipe(creds);
		return;
	}
	p->st.creds_dropped += creds->dropped;
	request_base(p, s, h, req, &base);

	for (size_t i = 0; i < creds->n; i++) {
		const struct credential *c = &creds->items[i];
		struct sighting sg = base;

		if (fingerprint_hex(p->o.key, c->secret, c->secret_len, sg.fingerprint) != 0)
			continue;
		p->st.credentials++;
		text_copy(sg.scheme, sizeof(sg.scheme), c->scheme);
		text_copy(sg.header, sizeof(sg.header), c->header);
		sg.in_query = c->source == CRED_SRC_QUERY;
		class_cache_classify(p->classes, p->o.key, sg.fingerprint, c, &sg.info);
		if (p->o.raw && p->o.raw->wants(p->o.raw->ctx, sg.fingerprint))
			p->o.raw->take(p->o.raw->ctx, sg.fingerprint, sg.info.type, c->secret,
				       c->secret_len);

		/* a handshake-time write may be retried: its sightings wait */
		if (fc->in_init && retry_hold(s, &sg))
			continue;
		park_deliver(p, s, &sg, (int64_t)h->ts_ns);
	}
	cred_list_wipe(creds);
}
