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

/*
 * What the aggregation key takes from the request, once per request: the
 * program, the Host and the method, as the sighting would hold them.
 */
struct request_view {
	const struct exe_info *pi;      /* the cache's, or own */
	struct exe_info own;
	char host[SIGHT_HOST_MAX];
	char method[16];
};

static void request_view(struct pipeline *p, const struct tt_event_hdr *h,
			 const struct http1_request *req, struct request_view *v)
{
	const struct http1_header *host = http1_find_header(req, "host");

	/* the cache's own record: a copy of its 600 bytes per request cost more than the lookup */
	v->pi = exe_cache_peek(p->o.exes, h->pid);
	if (!v->pi) {
		exe_cache_get(p->o.exes, h->pid, &v->own);
		v->pi = &v->own;
	}
	v->host[0] = '\0';
	if (host)
		text_printable(v->host, sizeof(v->host), host->value, host->value_len);
	text_printable(v->method, sizeof(v->method), req->method, req->method_len);
}

/* What every credential of the request shares: who sent it, where, how. */
static void request_base(struct pipeline *p, const struct session *s, const struct tt_event_hdr *h,
			 const struct http1_request *req, const struct request_view *v,
			 struct sighting *base)
{
	memset(base, 0, sizeof(*base));
	base->pid = h->pid;
	base->tid = h->tid;
	base->uid = h->uid;
	text_printable(base->comm, sizeof(base->comm), h->comm, strnlen(h->comm, TT_COMM_LEN));
	text_copy(base->exe, sizeof(base->exe), v->pi->exe);
	memcpy(base->container_id, v->pi->container_id, sizeof(base->container_id));
	memcpy(base->pod_uid, v->pi->pod_uid, sizeof(base->pod_uid));
	base->cgroup_id = h->cgroup_id;
	base->tls = s->tls;
	if (s->tls)
		text_copy(base->tls_library, sizeof(base->tls_library), tls_library_name(h->tls_lib));
	text_copy(base->src, sizeof(base->src), s->src);
	text_copy(base->dst, sizeof(base->dst), s->dst);
	text_copy(base->host, sizeof(base->host), v->host);
	text_copy(base->method, sizeof(base->method), v->method);
	cred_redact_target(req->target, req->target_len, base->path, sizeof(base->path));
	base->ts_unix_ns = (int64_t)h->ts_ns + p->mono_to_real;
}

/*
 * Most requests repeat a triple already counted: count them at once, as
 * output_sighting() would, without building the sighting (its copies, the
 * redacted path, the classification). Only when the sighting would go
 * straight to output_sighting() with these fields: not held for a retry,
 * not parked for its bind, not missing its TLS address (counted apart).
 */
static bool counted_at_once(struct pipeline *p, const struct feed_ctx *fc,
			    const struct request_view *v, const char *fp)
{
	const struct session *s = fc->s;
	struct agg_key k = { .pid = fc->h->pid, .fingerprint = fp, .dst = s->dst,
			     .host = v->host, .method = v->method, .exe = v->pi->exe };

	if (fc->in_init || (s->tls && (!s->bound || !s->dst[0])))
		return false;
	return agg_count(&p->agg, &k, (int64_t)fc->h->ts_ns + p->mono_to_real);
}

void request_to_sightings(const struct http1_request *req, void *arg)
{
	struct feed_ctx *fc = arg;
	struct pipeline *p = fc->p;
	struct session *s = fc->s;
	const struct tt_event_hdr *h = fc->h;
	struct cred_list *creds = p->creds;
	struct request_view v;
	struct sighting base;
	bool have_base = false;

	p->st.requests++;
	if (cred_extract(req, p->o.cred, creds) == 0) {
		cred_list_wipe(creds);
		return;
	}
	p->st.creds_dropped += creds->dropped;
	request_view(p, h, req, &v);

	for (size_t i = 0; i < creds->n; i++) {
		const struct credential *c = &creds->items[i];
		char fp[FINGERPRINT_HEX_LEN + 1];
		bool raw;
		struct sighting sg;

		if (fp_cache_hex(p->fps, p->o.key, c->secret, c->secret_len, fp) != 0)
			continue;
		p->st.credentials++;
		raw = p->o.raw && p->o.raw->wants(p->o.raw->ctx, fp);
		if (!raw && counted_at_once(p, fc, &v, fp))
			continue;
		if (!have_base) {
			request_base(p, s, h, req, &v, &base);
			have_base = true;
		}
		sg = base;
		memcpy(sg.fingerprint, fp, sizeof(sg.fingerprint));
		text_copy(sg.scheme, sizeof(sg.scheme), c->scheme);
		text_copy(sg.header, sizeof(sg.header), c->header);
		sg.in_query = c->source == CRED_SRC_QUERY;
		class_cache_classify(p->classes, p->o.key, sg.fingerprint, c, &sg.info);
		if (raw)
			p->o.raw->take(p->o.raw->ctx, sg.fingerprint, sg.info.type, c->secret,
				       c->secret_len);

		/* a handshake-time write may be retried: its sightings wait */
		if (fc->in_init && retry_hold(s, &sg))
			continue;
		park_deliver(p, s, &sg, (int64_t)h->ts_ns);
	}
	cred_list_wipe(creds);
}
