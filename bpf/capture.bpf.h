/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Building data events and following header blocks split over writes. */
#ifndef TOKENTAP_CAPTURE_BPF_H
#define TOKENTAP_CAPTURE_BPF_H

#define FOURCC(a, b, c, d) ((__u32)(a) | ((__u32)(b) << 8) | ((__u32)(c) << 16) | ((__u32)(d) << 24))

/*
 * True when the first four bytes open an HTTP/1 request line. Userspace
 * validates the whole line; this only has to be cheap and not miss one.
 */
static __always_inline bool is_http_start(__u64 head)
{
	__u32 w = (__u32)head;

	return w == FOURCC('G', 'E', 'T', ' ') || w == FOURCC('P', 'O', 'S', 'T') ||
	       w == FOURCC('P', 'U', 'T', ' ') || w == FOURCC('H', 'E', 'A', 'D') ||
	       w == FOURCC('D', 'E', 'L', 'E') || w == FOURCC('P', 'A', 'T', 'C') ||
	       w == FOURCC('O', 'P', 'T', 'I') || w == FOURCC('C', 'O', 'N', 'N') ||
	       w == FOURCC('T', 'R', 'A', 'C');
}

/* "PRI * HT", the first 8 bytes of the HTTP/2 connection preface, little-endian. */
#define H2_PREFACE_HEAD 0x5448202a20495250ULL
#define H2_MAX_FRAME 16384

/*
 * A session opened before the sensor started has no preface: a write that
 * opens with a whole HEADERS frame (sane length, known flags, odd client
 * stream) marks it. Userspace decodes what it can without the table.
 */
static __always_inline bool is_h2_headers(const void *buf, __u64 len)
{
	__u8 f[9] = {};
	__u32 flen, sid;

	if (len < sizeof(f) || bpf_probe_read_user(f, sizeof(f), buf))
		return false;
	flen = (__u32)f[0] << 16 | (__u32)f[1] << 8 | f[2];
	sid = (__u32)f[5] << 24 | (__u32)f[6] << 16 | (__u32)f[7] << 8 | f[8];
	/* END_STREAM 0x1, END_HEADERS 0x4, PADDED 0x8, PRIORITY 0x20 */
	return f[3] == 0x1 && !(f[4] & ~0x2dU) && flen > 0 && flen <= H2_MAX_FRAME &&
	       flen + sizeof(f) <= len && (sid & 1) && !(sid & 0x80000000U);
}

/* h2_conns values: a client's session (its writes are captured), a server's (never). */
#define H2_CLIENT 1
#define H2_SERVER 2

/*
 * Does the HEADERS frame at buf (is_h2_headers said so) open with :status,
 * i.e. carry a response? Pseudo-header fields come first (RFC 9113 8.3)
 * and :status is the only one of a response, static table entries 8 to
 * 14: the first field is indexed 8-14 (0x88-0x8e) or a literal with name
 * index 8 (0x48, 0x08, 0x18), after an optional table size update. A
 * request opens with :method, :scheme, :path or :authority (1 to 7). A
 * first field from the dynamic table says nothing: false.
 */
static __always_inline bool h2_opens_response(const void *buf, __u64 len)
{
	__u8 f[32] = {};
	__u32 off = 9, flen;
	__u8 c;

	if (len > 24)
		len = 24;
	if (len < 10 || bpf_probe_read_user(f, len & 31, buf))
		return false;
	flen = (__u32)f[0] << 16 | (__u32)f[1] << 8 | f[2];
	if (f[4] & 0x8) /* PADDED: the pad length */
		off += 1;
	if (f[4] & 0x20) /* PRIORITY: dependency and weight */
		off += 5;
	/* a dynamic table size update (001xxxxx), one byte or a short varint */
	c = f[off & 15];
	if ((c & 0xe0) == 0x20) {
		off++;
		if (c == 0x3f) {
			if (f[off & 31] & 0x80)
				off++;
			off++;
		}
	}
	if (off >= len || off - 9 >= flen)
		return false;
	c = f[off & 31];
	if (c & 0x80)
		return (c & 0x7f) >= 8 && (c & 0x7f) <= 14;
	if ((c & 0xc0) == 0x40)
		return (c & 0x3f) == 8;
	if ((c & 0xe0) == 0)
		return (c & 0x0f) == 8;
	return false;
}

/* Does the write end with the blank line that closes a header block? */
static __always_inline bool ends_header_block(const void *buf, __u64 len)
{
	__u32 tail = 0;

	if (len < 4 || bpf_probe_read_user(&tail, sizeof(tail), buf + len - 4))
		return false;
	return tail == FOURCC('\r', '\n', '\r', '\n');
}

static __always_inline struct tt_data_event *event_begin(__u32 flags, int fd, __u64 conn)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct tt_data_event *e = bpf_map_lookup_elem(&scratch, &cpu);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!e)
		return NULL;
	e->h.kind = TT_EV_DATA;
	e->h.flags = flags;
	e->h.ts_ns = bpf_ktime_get_ns();
	e->h.pid = pid_tgid >> 32;
	e->h.tid = (__u32)pid_tgid;
	e->h.uid = (__u32)bpf_get_current_uid_gid();
	e->h.fd = fd;
	e->h.conn = conn;
	e->h.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->h.comm, sizeof(e->h.comm));
	__builtin_memset(&e->h.src, 0, sizeof(e->h.src));
	__builtin_memset(&e->h.dst, 0, sizeof(e->h.dst));
	e->h.len = 0;
	e->h.orig_len = 0;
	e->h.tls_lib = TT_LIB_NONE;
	e->h.aux = 0;
	return e;
}

/* Copies up to max_capture bytes of buf and submits the event. */
static __always_inline void event_submit(struct tt_data_event *e, const void *buf, __u64 len)
{
	__u64 n = len;

	if (len > max_capture) {
		n = max_capture;
		e->h.flags |= TT_F_TRUNC;
		stat_inc(TT_STAT_TRUNC);
	}
	/* keep clang from checking a copy while passing the original */
	barrier_var(n);
	if (n > TT_DATA_MAX)
		n = TT_DATA_MAX;
	e->h.orig_len = len > 0xffffffffULL ? 0xffffffffU : (__u32)len;
	if (bpf_probe_read_user(e->data, n, buf)) {
		stat_inc(TT_STAT_READ_FAIL);
		return;
	}
	e->h.len = n;
	if (rb_output(e, sizeof(e->h) + n, wake_flag(), true) == 0)
		stat_inc(TT_STAT_EVENTS);
}

/*
 * After a request start that did not end its header block, the next writes
 * on the connection are captured too, within a byte, write and time budget.
 * Returns true when this write is such a continuation.
 */
static __always_inline bool cont_take(struct conn_key *key, const void *buf, __u64 len)
{
	struct cont_state *st;
	__u64 now = bpf_ktime_get_ns();

	/* past it every entry is expired; a stale one is dropped when next looked up */
	if (now > cont_until_ns)
		return false;
	st = bpf_map_lookup_elem(&conts, key);
	if (!st)
		return false;
	if (now > st->deadline_ns || st->writes_left == 0 || st->bytes_left == 0) {
		bpf_map_delete_elem(&conts, key);
		return false;
	}
	st->writes_left--;
	st->bytes_left = len >= st->bytes_left ? 0 : st->bytes_left - (__u32)len;
	if (st->bytes_left == 0 || ends_header_block(buf, len))
		bpf_map_delete_elem(&conts, key);
	return true;
}

/*
 * A request start of len bytes was captured; ended: its header block ended
 * in it. Unless it did, the next writes on the connection are continuations.
 */
static __always_inline void cont_open_len(struct conn_key *key, __u64 len, bool ended, bool gate)
{
	struct cont_state st = {};
	__u64 now = bpf_ktime_get_ns();

	if (len >= max_capture || ended) {
		/* past cont_until_ns an entry left for key is expired and never taken */
		if (now <= cont_until_ns)
			bpf_map_delete_elem(&conts, key);
		return;
	}
	st.deadline_ns = now + CONT_WINDOW_NS;
	st.bytes_left = max_capture - (__u32)len;
	st.writes_left = CONT_MAX_WRITES;
	bpf_map_update_elem(&conts, key, &st, BPF_ANY);
	if (cont_until_ns < st.deadline_ns)
		cont_until_ns = st.deadline_ns;
	if (gate && slow_until_ns < st.deadline_ns)
		slow_until_ns = st.deadline_ns;
}

static __always_inline void cont_open(struct conn_key *key, const void *buf, __u64 len, bool gate)
{
	cont_open_len(key, len, ends_header_block(buf, len), gate);
}

/*
 * Gathers the buffers of a vectored write (struct iovec, or Rust's
 * IoSlice: the same {base, len} pair) into e->data, as one write would
 * be: the first TT_IOV_GATHER_MAX vectors, up to half the event buffer
 * (the bound the verifier can check). The length of the rest is reported
 * as truncated, so a frame parser skips it and keeps its place. *last and
 * *last_len: the last non-empty vector read, where a header block ends.
 * False when user memory could not be read.
 */
#define TT_IOV_GATHER_MAX 32
#define TT_IOV_REST_MAX 64
#define TT_GATHER_MAX (TT_DATA_MAX / 2)

static __always_inline bool gather_iov(struct tt_data_event *e, const struct iovec *iov, __u64 cnt,
				       const void **last, __u64 *last_len)
{
	__u32 cap = max_capture < TT_GATHER_MAX ? max_capture : TT_GATHER_MAX;
	struct iovec v = {};
	__u64 total = 0, off = 0, n;

	for (int i = 0; i < TT_IOV_GATHER_MAX + TT_IOV_REST_MAX; i++) {
		if ((__u64)i >= cnt || bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		total += v.iov_len;
		if (v.iov_len) {
			*last = v.iov_base;
			*last_len = v.iov_len;
		}
		if (i >= TT_IOV_GATHER_MAX || off >= cap)
			continue;
		n = v.iov_len;
		if (n > cap - off)
			n = cap - off;
		/* off < TT_GATHER_MAX and n <= TT_GATHER_MAX: inside data[] */
		barrier_var(off);
		if (off >= TT_GATHER_MAX || n > TT_GATHER_MAX)
			break;
		if (bpf_probe_read_user(e->data + off, n, v.iov_base)) {
			stat_inc(TT_STAT_READ_FAIL);
			return false;
		}
		off += n;
	}
	if (total > off) {
		e->h.flags |= TT_F_TRUNC;
		stat_inc(TT_STAT_TRUNC);
	}
	e->h.len = (__u32)off;
	e->h.orig_len = total > 0xffffffffULL ? 0xffffffffU : (__u32)total;
	return off <= TT_GATHER_MAX;
}

/* Submits an event whose data gather_iov filled. */
static __always_inline bool gathered_submit(struct tt_data_event *e)
{
	__u32 len = e->h.len;

	if (len > TT_GATHER_MAX)
		return false;
	if (rb_output(e, sizeof(e->h) + len, wake_flag(), true))
		return false;
	stat_inc(TT_STAT_EVENTS);
	return true;
}

#endif
