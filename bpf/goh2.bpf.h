/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Go's HTTP/2 client, once per request. net/http.(*http2ClientConn).
 * encodeHeaders(req *Request, ...) (x/net's (*ClientConn).encodeHeaders
 * likewise) runs once per request, before any field reaches the HPACK
 * encoder: one trap, where hpack.(*Encoder).WriteField traps once per
 * field. The fields are what the request holds: Host, Method and the URL
 * give the pseudo-headers, req.Header the rest.
 *
 * req.Header is a map[string][]string. Before Go 1.24 a map is a
 * runtime.hmap (src/runtime/map.go): 2^B buckets of 8 cells, each
 * bucket's overflow chained, and while the map grows the cells not yet
 * moved are still in oldbuckets. A live cell has tophash >= 5 (smaller
 * values mark empty and evacuated cells), so reading both arrays and
 * taking the live cells sees every key exactly once. The sensor attaches
 * this probe only where the layout is known (gotls.h, attach_go.c).
 *
 * Everything read is the program's own memory, so every length is
 * bounded here and checked again by userspace (h2_fields.c).
 */
#ifndef TOKENTAP_GOH2_BPF_H
#define TOKENTAP_GOH2_BPF_H

/* runtime.hmap */
#define GO_HMAP_COUNT 0
#define GO_HMAP_FLAGS 8
#define GO_HMAP_B 9
#define GO_HMAP_BUCKETS 16
#define GO_HMAP_OLDBUCKETS 24
#define GO_HMAP_SAME_SIZE_GROW 8
/* the bucket of a map[string][]string: tophash[8], keys [8]string, elems [8][]string, overflow */
#define GO_BUCKET_SIZE 336
#define GO_BUCKET_KEYS 8
#define GO_BUCKET_ELEMS 136
#define GO_BUCKET_OVERFLOW 328
#define GO_MIN_TOPHASH 5

/*
 * Bounds: 4 buckets (26 headers before a map grows), 8 bucket reads with
 * overflow and old buckets, 2 values per name. A request past them is
 * flagged TT_F_TRUNC: userspace counts it as cut, never as complete.
 */
#define GO_MAP_B_MAX 2
#define GO_MAP_STEPS 10
#define GO_HB_VALUES 2
#define GO_HB_NAME_MAX 128
/* a record starts below this; with its largest name and value it ends below GO_HB_BUCKET_AT */
#define GO_HB_OFF_MAX 16383
/* where a bucket is copied, past any record */
#define GO_HB_BUCKET_AT (TT_DATA_MAX - GO_BUCKET_SIZE)

_Static_assert(GO_HB_OFF_MAX + sizeof(struct tt_hb_rec) + GO_HB_NAME_MAX + TT_HB_VALUE_MAX <
		       GO_HB_BUCKET_AT, "records overlap the bucket copy");

struct go_string {
	__u64 ptr;
	__u64 len;
};

/*
 * The record offset lives in the event (h.len), and is read back through
 * a volatile load: the verifier then knows only its mask, so the states
 * of every path through a record are alike and pruned, where an offset
 * tracked exactly makes each path new (too many for it to finish).
 */
static __always_inline __u32 hb_off(struct tt_data_event *e)
{
	return *(volatile __u32 *)&e->h.len;
}

/*
 * Appends one record. Returns 0, or -1 when no more records fit or memory
 * could not be read (the event is then flagged cut).
 */
static __always_inline int hb_put(struct tt_data_event *e, __u32 kind,
				  const struct go_string *name, const struct go_string *value)
{
	__u32 o = hb_off(e), cut = 0;
	__u64 nl = name ? name->len : 0, vn = value->len;

	if (o > GO_HB_OFF_MAX || o + sizeof(struct tt_hb_rec) + nl > max_capture) {
		e->h.flags |= TT_F_TRUNC;
		return -1;
	}
	if (nl > GO_HB_NAME_MAX || (nl && !name->ptr) || (vn && !value->ptr)) {
		/* the field is left out, and the request known to be incomplete */
		e->h.flags |= TT_F_TRUNC;
		return 0;
	}
	if (vn > TT_HB_VALUE_MAX) {
		vn = TT_HB_VALUE_MAX;
		cut = TT_HB_CUT;
	}
	o &= GO_HB_OFF_MAX;
	e->data[o] = (__u8)kind;
	e->data[o + 1] = (__u8)nl;
	e->data[o + 2] = (__u8)vn;
	e->data[o + 3] = (__u8)((vn | cut) >> 8);
	o += sizeof(struct tt_hb_rec);
	barrier_var(nl);
	nl &= 2 * GO_HB_NAME_MAX - 1;
	if (nl > GO_HB_NAME_MAX)
		return -1;
	if (nl && bpf_probe_read_user(e->data + o, nl, (void *)name->ptr))
		goto fail;
	o += nl;
	barrier_var(vn);
	vn &= 2 * TT_HB_VALUE_MAX - 1;
	if (vn > TT_HB_VALUE_MAX)
		return -1;
	if (vn && bpf_probe_read_user(e->data + o, vn, (void *)value->ptr))
		goto fail;
	*(volatile __u32 *)&e->h.len = o + vn;
	return 0;
fail:
	stat_inc(TT_STAT_READ_FAIL);
	e->h.flags |= TT_F_TRUNC;
	return -1;
}

/* A string field at base + off of the program's memory; empty when unreadable. */
static __always_inline void go_str_at(struct go_string *s, __u64 base, __u32 off)
{
	if (!base || bpf_probe_read_user(s, sizeof(*s), (void *)(base + off)))
		s->ptr = s->len = 0;
}

/*
 * Sends the block keyed by conn; the thread's next TLS write carries its
 * fields and gives the session (hf_end).
 */
static __always_inline void hb_submit(struct tt_data_event *e, __u64 conn)
{
	__u32 off, tid;

	if (e->h.flags & TT_F_TRUNC)
		stat_inc(TT_STAT_TRUNC);
	off = hb_off(e);
	if (off > TT_DATA_MAX - GO_BUCKET_SIZE)
		return;
	e->h.aux = 0;
	e->h.orig_len = off;
	tid = e->h.tid;
	bpf_map_update_elem(&hf_pending, &tid, &conn, BPF_ANY);
	if (rb_output(e, sizeof(e->h) + off, wake_flag(), true) == 0)
		stat_inc(TT_STAT_EVENTS);
}

/* The live cells of one bucket (copied to GO_HB_BUCKET_AT) become records. */
static __always_inline int hb_bucket(struct tt_data_event *e)
{
	const __u8 *b = e->data + GO_HB_BUCKET_AT;

	for (int c = 0; c < 8; c++) {
		const struct go_string *key;
		const __u64 *vv;
		struct go_string v[GO_HB_VALUES] = {};
		__u64 n;

		if (b[c] < GO_MIN_TOPHASH)
			continue;
		/* found so far, kept in the event for the same reason as the offset */
		(*(volatile __u32 *)&e->h.aux)++;
		key = (const struct go_string *)(b + GO_BUCKET_KEYS + 16 * c);
		vv = (const __u64 *)(b + GO_BUCKET_ELEMS + 24 * c); /* ptr, len, cap */
		n = vv[1];
		if (n > GO_HB_VALUES) {
			n = GO_HB_VALUES;
			e->h.flags |= TT_F_TRUNC;
		}
		if (n && bpf_probe_read_user(v, n * sizeof(v[0]), (void *)vv[0])) {
			stat_inc(TT_STAT_READ_FAIL);
			e->h.flags |= TT_F_TRUNC;
			return -1;
		}
		for (int j = 0; j < GO_HB_VALUES; j++) {
			if ((__u64)j >= n)
				break;
			if (hb_put(e, TT_HB_HEADER, key, &v[j]))
				return -1;
		}
	}
	return 0;
}

/* Every live cell of the hmap at hm. */
static __always_inline void hb_map(struct tt_data_event *e, __u64 hm)
{
	struct {
		__u64 count;
		__u8 flags, b;
		__u16 noverflow;
		__u32 hash0;
		__u64 buckets, oldbuckets;
	} h;
	__u64 arr[2], n[2], cur = 0, idx = 0;
	__u32 a = 0;

	if (!hm || bpf_probe_read_user(&h, sizeof(h), (void *)hm))
		return;
	if (h.b > GO_MAP_B_MAX) {
		e->h.flags |= TT_F_TRUNC;
		return;
	}
	arr[0] = h.buckets;
	n[0] = h.buckets ? 1ULL << h.b : 0;
	arr[1] = h.oldbuckets;
	n[1] = !h.oldbuckets ? 0 : (h.flags & GO_HMAP_SAME_SIZE_GROW) ? 1ULL << h.b : (1ULL << h.b) >> 1;
	for (int step = 0; step < GO_MAP_STEPS && *(volatile __u32 *)&e->h.aux < h.count; step++) {
		if (!cur) {
			if (a > 1)
				break;
			if (idx >= n[a & 1]) {
				a++;
				idx = 0;
				continue;
			}
			cur = arr[a & 1] + idx++ * GO_BUCKET_SIZE;
		}
		if (bpf_probe_read_user(e->data + GO_HB_BUCKET_AT, GO_BUCKET_SIZE, (void *)cur)) {
			stat_inc(TT_STAT_READ_FAIL);
			break;
		}
		if (hb_bucket(e))
			return;
		cur = *(const __u64 *)(e->data + GO_HB_BUCKET_AT + GO_BUCKET_OVERFLOW);
	}
	if (*(volatile __u32 *)&e->h.aux < h.count)
		e->h.flags |= TT_F_TRUNC;
}

static __always_inline int go_h2_req(void *ctx, __u64 cc, __u64 req)
{
	struct tt_go_bin *gb = go_bin_of(ctx);
	struct go_string host, s;
	struct tt_data_event *e;
	__u64 url = 0, hm = 0;

	if (!gb || !gb->h2req_hooked || !cc || !req ||
	    !tgid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = event_begin(TT_F_TLS | TT_F_HBLOCK, -1, cc);
	if (!e)
		return 0;
	e->h.tls_lib = TT_LIB_GO;
	bpf_probe_read_user(&url, sizeof(url), (void *)(req + gb->req_url_off));
	/* as encodeHeaders: Host, else the URL's */
	go_str_at(&host, req, gb->req_host_off);
	if (!host.len)
		go_str_at(&host, url, gb->url_host_off);
	if (hb_put(e, TT_HB_AUTHORITY, NULL, &host))
		goto out;
	go_str_at(&s, req, gb->req_method_off);
	if (hb_put(e, TT_HB_METHOD, NULL, &s))
		goto out;
	go_str_at(&s, url, gb->url_scheme_off);
	if (hb_put(e, TT_HB_SCHEME, NULL, &s))
		goto out;
	go_str_at(&s, url, gb->url_path_off);
	if (hb_put(e, TT_HB_PATH, NULL, &s))
		goto out;
	go_str_at(&s, url, gb->url_rawpath_off);
	if (s.len && hb_put(e, TT_HB_RAWPATH, NULL, &s))
		goto out;
	go_str_at(&s, url, gb->url_query_off);
	if (s.len && hb_put(e, TT_HB_QUERY, NULL, &s))
		goto out;
	if (!bpf_probe_read_user(&hm, sizeof(hm), (void *)(req + gb->req_header_off)))
		hb_map(e, hm);
out:
	hb_submit(e, cc);
	return 0;
}

/* Register ABI: RAX the *ClientConn, RBX the *Request. */
SEC("uprobe")
int probe_go_h2_req_reg(struct pt_regs *ctx)
{
	return go_h2_req(ctx, ctx->ax, ctx->bx);
}

/* On the stack check's jbe, as probe_go_tls_write_reg_check. */
SEC("uprobe")
int probe_go_h2_req_reg_check(struct pt_regs *ctx)
{
	if (ctx->flags & (TT_EFLAGS_CF | TT_EFLAGS_ZF))
		return 0;
	return go_h2_req(ctx, ctx->ax, ctx->bx);
}

/*
 * gRPC-Go's transport encodes its requests itself, once per header block:
 * (*loopyWriter).writeHeader(streamID uint32, endStream bool,
 * hf []hpack.HeaderField, onWrite func()). hf is the block's fields in
 * wire order, pseudo-headers first; a HeaderField is {Name, Value string;
 * Sensitive bool}. The server's responses pass there too: a block opening
 * with :status, or with a regular field (trailers), is left alone. The
 * fields are copied as they are (TT_HB_FIELD); past GO_GRPC_FIELDS the
 * block is flagged cut.
 */
#define GO_GRPC_FIELDS 16
#define GO_HFIELD_SIZE 40

static __always_inline int go_grpc_hdr(void *ctx, __u64 lw, __u64 hf, __u64 n)
{
	struct {
		struct go_string name, value;
		__u64 sensitive;
	} f;
	struct tt_data_event *e;
	__u64 head = 0, nl;

	if (!lw || !hf || !n || !tgid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	/*
	 * A request opens with its pseudo-headers: a block opening with a
	 * regular field (a server's trailers) or with :status (its response
	 * headers) is none.
	 */
	if (bpf_probe_read_user(&f, sizeof(f), (void *)hf) || !f.name.ptr || f.name.len < 2)
		return 0;
	nl = f.name.len < sizeof(head) ? f.name.len : sizeof(head);
	if (bpf_probe_read_user(&head, nl & 15, (void *)f.name.ptr))
		return 0;
	if ((__u8)head != ':' || (f.name.len == 7 && head == 0x7375746174733aULL))
		return 0;
	e = event_begin(TT_F_TLS | TT_F_HBLOCK, -1, lw);
	if (!e)
		return 0;
	e->h.tls_lib = TT_LIB_GO;
	if (n > GO_GRPC_FIELDS) {
		n = GO_GRPC_FIELDS;
		e->h.flags |= TT_F_TRUNC;
	}
	for (int i = 0; i < GO_GRPC_FIELDS; i++) {
		if ((__u64)i >= n)
			break;
		if (i && bpf_probe_read_user(&f, sizeof(f), (void *)(hf + i * GO_HFIELD_SIZE))) {
			stat_inc(TT_STAT_READ_FAIL);
			e->h.flags |= TT_F_TRUNC;
			break;
		}
		if (hb_put(e, TT_HB_FIELD, &f.name, &f.value))
			break;
	}
	hb_submit(e, lw);
	return 0;
}

/* Register ABI: RAX the *loopyWriter, RBX streamID, RCX endStream, RDI/RSI hf's pointer and length. */
SEC("uprobe")
int probe_go_grpc_hdr_reg(struct pt_regs *ctx)
{
	return go_grpc_hdr(ctx, ctx->ax, ctx->di, ctx->si);
}

/* On the stack check's jbe, as probe_go_tls_write_reg_check. */
SEC("uprobe")
int probe_go_grpc_hdr_reg_check(struct pt_regs *ctx)
{
	if (ctx->flags & (TT_EFLAGS_CF | TT_EFLAGS_ZF))
		return 0;
	return go_grpc_hdr(ctx, ctx->ax, ctx->di, ctx->si);
}

#endif
