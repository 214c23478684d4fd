/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * TLS libraries' write calls, before encryption: OpenSSL/BoringSSL
 * SSL_write(ssl, buf, int num), SSL_write_ex(ssl, buf, size_t num,
 * size_t *written) and SSL_write_ex2; GnuTLS gnutls_record_send2; NSS
 * PR_Write and PR_Send. Go's crypto/tls is in gotls.bpf.h, rustls in
 * rustls.bpf.h. Entry probes only (or a
 * call inside the function where the arguments are still in their
 * registers; the loader proves that). The plaintext is complete at entry.
 */
#ifndef TOKENTAP_TLS_BPF_H
#define TOKENTAP_TLS_BPF_H

/*
 * The attach cookie is 1 + the offset of the handshake-in-progress flag in
 * this library's SSL struct (read from its SSL_in_init), or 0 when unknown.
 * A write while that flag is set may fail and be retried with the same
 * bytes (node does); userspace then counts the request once.
 */
static __always_inline bool ssl_in_init(void *ctx, void *ssl)
{
	__u64 cookie = 0;
	__u32 in_init = 0;

	/* attach cookies exist from Linux 5.15; older kernels skip the check */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
		cookie = bpf_get_attach_cookie(ctx);
	if (!cookie || cookie > 65536)
		return false;
	bpf_probe_read_user(&in_init, sizeof(in_init), ssl + cookie - 1);
	return in_init != 0;
}

/*
 * Fills h's fd and addresses from the socket the session is bound to.
 * False when it is not bound, or when its fd no longer holds the open file
 * it was bound to (closed without the close tracepoint seeing it, the
 * SSL* freed and reused for another socket): then the binding is
 * forgotten. The open file pins its socket, whose addresses a connected
 * socket keeps, so they are copied from the binding.
 */
static __always_inline bool session_addrs(struct conn_key *key, struct tt_event_hdr *h)
{
	struct ssl_sock *ss = bpf_map_lookup_elem(&ssl_socks, key);
	struct file *f;

	if (!ss)
		return false;
	f = fd_to_file(ss->fd);
	if (f && (__u64)f == ss->file) {
		h->fd = ss->fd;
		h->src = ss->src;
		h->dst = ss->dst;
		h->flags |= ss->addr_flags;
		return true;
	}
	bpf_map_delete_elem(&ssl_socks, key);
	return false;
}

/* The write this thread makes next, a TLS record, binds the session (tls_bind). */
static __always_inline void thread_bind_next(__u64 pid_tgid, __u64 ssl, __u64 ts_ns)
{
	struct tls_mark m = { .ssl = ssl, .ts_ns = ts_ns };
	__u32 tid = (__u32)pid_tgid;

	bpf_map_update_elem(&tls_marks, &tid, &m, BPF_ANY);
	if (slow_until_ns < m.ts_ns + TLS_BIND_WINDOW_NS)
		slow_until_ns = m.ts_ns + TLS_BIND_WINDOW_NS;
}

/* As thread_bind_next, for the session of the event h, which says so. */
static __always_inline void mark_for_bind(struct tt_event_hdr *h, __u64 pid_tgid, __u64 ssl)
{
	h->flags |= TT_F_NEED_BIND;
	thread_bind_next(pid_tgid, ssl, h->ts_ns);
}

/*
 * The thread encoded header fields (Go's HPACK encoder) and now writes to
 * a TLS session: the HEADERS frame. Tells userspace which session, so the
 * request gets that session's addresses.
 */
static __always_inline void hf_end(struct conn_key *key, __u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;
	__u64 *enc = bpf_map_lookup_elem(&hf_pending, &tid);
	struct tt_data_event *e;

	if (!enc)
		return;
	e = event_begin(TT_F_TLS, -1, key->conn);
	if (!e)
		return;
	e->h.kind = TT_EV_HFEND;
	e->h.tls_lib = TT_LIB_GO;
	__builtin_memcpy(e->data, enc, sizeof(*enc));
	bpf_map_delete_elem(&hf_pending, &tid);
	if (!session_addrs(key, &e->h))
		mark_for_bind(&e->h, pid_tgid, key->conn);
	e->h.len = sizeof(__u64);
	rb_output(e, sizeof(e->h) + sizeof(__u64), wake_flag(), false);
}

/*
 * What a TLS write of num bytes starting with buf is: its event flags, or
 * 0 when it is not captured. h2_ok false: HTTP/2 writes are left alone
 * (their header fields are captured before encoding, see gotls.bpf.h).
 */
static __always_inline __u32 tls_write_kind(struct conn_key *key, const void *buf, __s64 num,
					    bool h2_ok)
{
	__u64 head = 0;

	if (num >= 8)
		bpf_probe_read_user(&head, sizeof(head), buf);
	/*
	 * A marked session sending an HTTP/1 request line is a new connection
	 * on a reused SSL*: it is HTTP/1 again.
	 */
	if (is_http_start(head)) {
		if (h2_tls_n && !bpf_map_delete_elem(&h2_conns, key))
			__sync_fetch_and_sub(&h2_tls_n, 1);
		return TT_F_TLS | TT_F_START;
	}
	if (head == H2_PREFACE_HEAD) {
		__u8 client = H2_CLIENT;

		/* a server's SSL* reused for a client connection is a client's now */
		if (h2_tls_n && bpf_map_lookup_elem(&h2_conns, key))
			bpf_map_update_elem(&h2_conns, key, &client, BPF_EXIST);
		return h2_ok ? TT_F_TLS | TT_F_H2 : 0;
	}
	if (h2_tls_n) {
		__u8 *side = bpf_map_lookup_elem(&h2_conns, key);

		if (side)
			return h2_ok && *side != H2_SERVER ? TT_F_TLS | TT_F_H2 : 0;
	}
	if (cont_take(key, buf, num))
		return TT_F_TLS | TT_F_CONT;
	if (h2_ok && is_h2_headers(buf, num)) {
		__u8 server = H2_SERVER;

		/*
		 * A server's session (its first HEADERS a response): its writes
		 * are responses, never a request's credential, and a busy server
		 * would send every frame of them to userspace. Marked, then left;
		 * bound to its socket, so its close forgets the mark.
		 */
		if (!h2_opens_response(buf, num))
			return TT_F_TLS | TT_F_H2;
		if (!bpf_map_update_elem(&h2_conns, key, &server, BPF_NOEXIST))
			__sync_fetch_and_add(&h2_tls_n, 1);
		if (!bpf_map_lookup_elem(&ssl_socks, key))
			thread_bind_next(bpf_get_current_pid_tgid(), key->conn, bpf_ktime_get_ns());
	}
	return 0;
}

/*
 * Starts the event of a captured TLS write: its session's addresses, or
 * (thread_bind) a mark so that the write this thread makes next binds the
 * session.
 */
static __always_inline struct tt_data_event *tls_event_begin(void *ctx, struct conn_key *key,
							     __u32 flags, __u32 lib, __u64 pid_tgid,
							     bool thread_bind)
{
	struct tt_data_event *e = event_begin(flags, -1, key->conn);

	if (!e)
		return NULL;
	e->h.tls_lib = lib;
	if ((flags & TT_F_START) && ssl_in_init(ctx, (void *)key->conn))
		e->h.flags |= TT_F_IN_INIT;

	if (!session_addrs(key, &e->h)) {
		/*
		 * GnuTLS and NSS have no handshake flag to read: a write on a
		 * session not yet bound to its socket may be one made during the
		 * handshake, failed with EAGAIN and retried with the same bytes.
		 */
		if ((flags & TT_F_START) && (lib == TT_LIB_GNUTLS || lib == TT_LIB_NSS))
			e->h.flags |= TT_F_IN_INIT;
		if (thread_bind)
			mark_for_bind(&e->h, pid_tgid, key->conn);
	}
	if ((flags & TT_F_H2) && !bpf_map_lookup_elem(&h2_conns, key)) {
		__u8 one = H2_CLIENT;

		if (!bpf_map_update_elem(&h2_conns, key, &one, BPF_NOEXIST))
			__sync_fetch_and_add(&h2_tls_n, 1);
	}
	return e;
}

/*
 * A TLS library is about to encrypt num bytes of buf for session ssl (an
 * SSL*, a gnutls_session_t: any pointer that identifies the session).
 * h2_ok: as for tls_write_kind. thread_bind false: the records may be
 * written by another thread, so an unbound session is not bound by this
 * thread's next write (a Java SSLEngine whose socket is unknown).
 */
static __always_inline int on_tls_write_bind(void *ctx, void *ssl, const void *buf, __s64 num,
					     __u32 lib, bool h2_ok, bool thread_bind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct conn_key key = { .tgid = tgid, .conn = (__u64)ssl };
	struct tt_data_event *e;
	__u32 flags;

	if (num <= 0 || !tgid_wanted(tgid))
		return 0;
	tls_probed(tgid);
	/* a Go binary whose HPACK encoder is probed: its fields name this session */
	if (!h2_ok)
		hf_end(&key, pid_tgid);
	flags = tls_write_kind(&key, buf, num, h2_ok);
	if (!flags)
		return 0;
	e = tls_event_begin(ctx, &key, flags, lib, pid_tgid, thread_bind);
	if (!e)
		return 0;
	event_submit(e, buf, num);
	if (flags & TT_F_START)
		cont_open(&key, buf, num, false);
	return 0;
}

static __always_inline int on_tls_write(void *ctx, void *ssl, const void *buf, __s64 num,
					__u32 lib, bool h2_ok)
{
	return on_tls_write_bind(ctx, ssl, buf, num, lib, h2_ok, true);
}

SEC("uprobe")
int BPF_KPROBE(probe_ssl_write, void *ssl, const void *buf, int num)
{
	return on_tls_write(ctx, ssl, buf, num, TT_LIB_OPENSSL, true);
}

/* Also SSL_write_ex2(ssl, buf, size_t num, uint64_t flags, size_t *written), OpenSSL 3.3+. */
SEC("uprobe")
int BPF_KPROBE(probe_ssl_write_ex, void *ssl, const void *buf, __u64 num)
{
	/* size_t: anything past 2^62 is nonsense, not a write */
	return on_tls_write(ctx, ssl, buf, num > (1ULL << 62) ? 0 : (__s64)num, TT_LIB_OPENSSL, true);
}

/*
 * GnuTLS: gnutls_record_send(session, data, size) is a tail call of
 * gnutls_record_send2(session, data, size, pad, flags), so the latter
 * covers both. The attach cookie is 0: no handshake flag is read.
 */
SEC("uprobe")
int BPF_KPROBE(probe_gnutls_send, void *session, const void *data, __u64 size)
{
	return on_tls_write(ctx, session, data, size > (1ULL << 62) ? 0 : (__s64)size, TT_LIB_GNUTLS, true);
}

/*
 * NSS: PR_Write(fd, buf, PRInt32 amount) and PR_Send(fd, buf, amount,
 * flags, timeout) on the top PRFileDesc, whose identity (a public NSPR
 * struct: methods, secret, lower, higher, dtor, identity) tells the layer.
 * A bare NSPR socket (PR_NSPR_IO_LAYER, 0) or a file is not TLS: the
 * syscall tracepoints see its plaintext, so it is left to them.
 */
#define TT_PRFD_IDENTITY_OFF 40

SEC("uprobe")
int BPF_KPROBE(probe_nss_write, void *fd, const void *buf, int amount)
{
	int identity = 0;

	if (amount <= 0 || bpf_probe_read_user(&identity, sizeof(identity), fd + TT_PRFD_IDENTITY_OFF) ||
	    identity == 0)
		return 0;
	return on_tls_write(ctx, fd, buf, amount, TT_LIB_NSS, true);
}

/*
 * Called from the syscall tracepoints' slow path: the thread is inside a
 * TLS library's write of an unbound session and now writes a TLS record
 * to fd.
 */
static __always_inline void tls_bind(void *ctx, __u64 pid_tgid, int fd, const void *buf)
{
	__u32 tid = (__u32)pid_tgid;
	struct tls_mark *m = bpf_map_lookup_elem(&tls_marks, &tid);
	struct conn_key key = { .tgid = pid_tgid >> 32 };
	struct ssl_sock ss = {};
	struct tt_event_hdr *h;
	__u8 rec[3] = {};

	if (!m)
		return;
	key.conn = m->ssl;
	if (bpf_ktime_get_ns() - m->ts_ns > TLS_BIND_WINDOW_NS) {
		bpf_map_delete_elem(&tls_marks, &tid);
		return;
	}
	/* A TLS record: content type 20..23, version 3.x. Anything else is not ours. */
	if (bpf_probe_read_user(rec, sizeof(rec), buf) || rec[0] < 20 || rec[0] > 23 || rec[1] != 3)
		return;
	bpf_map_delete_elem(&tls_marks, &tid);
	if (!ssl_sock_of(fd, &ss))
		return;
	bpf_map_update_elem(&ssl_socks, &key, &ss, BPF_ANY);
	stat_inc(TT_STAT_BIND);
	track_fd(key.tgid, fd, key.conn);

	h = rb_reserve(sizeof(*h));
	if (!h)
		return;
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = TT_EV_BIND;
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = key.tgid;
	h->tid = tid;
	h->fd = fd;
	h->conn = key.conn;
	h->src = ss.src;
	h->dst = ss.dst;
	h->flags |= ss.addr_flags;
	rb_submit(h, wake_flag());
}

#endif
