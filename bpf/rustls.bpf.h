/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * rustls: the plaintext writer, <rustls::conn::Writer as std::io::Write>,
 * found by its symbol (user/elf/rustsym.c). Rust passes
 * write(&mut self, buf: &[u8]) as (self, ptr, len) and
 * write_vectored(&mut self, bufs: &[IoSlice]) as (self, ptr, count), an
 * IoSlice being a struct iovec on Linux.
 *
 * A Writer is a temporary made by conn.writer() for each call; its one
 * field, sink: &mut dyn PlaintextSink, is a (data, vtable) pair whose data
 * pointer is the connection itself. That pointer names the session. The
 * records rustls makes are written to the socket by the same thread right
 * after (Stream, StreamOwned, tokio-rustls), which binds the session as
 * for OpenSSL (tls_bind in tls.bpf.h).
 */
#ifndef TOKENTAP_RUSTLS_BPF_H
#define TOKENTAP_RUSTLS_BPF_H

static __always_inline void *rustls_session(void *writer)
{
	__u64 conn = 0;

	/* a user-space pointer: top bit clear (TT_CONN_PLAIN) */
	if (bpf_probe_read_user(&conn, sizeof(conn), writer) || !conn || (conn & TT_CONN_PLAIN))
		return NULL;
	return (void *)conn;
}

static __always_inline int rustls_write(void *ctx, void *writer, const void *buf, __u64 len)
{
	void *conn = rustls_session(writer);

	if (!conn)
		return 0;
	return on_tls_write(ctx, conn, buf, len > (1ULL << 62) ? 0 : (__s64)len, TT_LIB_RUSTLS, true);
}

/* hyper over tokio-rustls may hand the header block over in several slices */
static __always_inline int rustls_write_vectored(void *ctx, void *writer, const struct iovec *iov,
						 __u64 cnt)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32 };
	struct tt_data_event *e;
	struct iovec v0 = {};
	const void *last = NULL;
	__u64 last_len = 0;
	__u32 flags;

	key.conn = (__u64)rustls_session(writer);
	if (!key.conn || cnt == 0 || !tgid_wanted(key.tgid) ||
	    bpf_probe_read_user(&v0, sizeof(v0), &iov[0]) || v0.iov_len > (1ULL << 62))
		return 0;
	tls_probed(key.tgid);
	/* what the write is, by its first slice */
	flags = tls_write_kind(&key, v0.iov_base, (__s64)v0.iov_len, true);
	if (!flags)
		return 0;
	e = tls_event_begin(ctx, &key, flags, TT_LIB_RUSTLS, pid_tgid, true);
	if (!e || !gather_iov(e, iov, cnt, &last, &last_len) || !gathered_submit(e))
		return 0;
	if (flags & TT_F_START)
		cont_open_len(&key, e->h.orig_len, ends_header_block(last, last_len), false);
	return 0;
}

/*
 * Two ABIs: io::Result returned in registers, or through a hidden first
 * argument (rustc 1.63), which shifts the others by one register. The
 * loader tells them apart (probe_rust_self_arg) and attaches the matching
 * program.
 */
SEC("uprobe")
int BPF_KPROBE(probe_rustls_write, void *writer, const void *buf, __u64 len)
{
	return rustls_write(ctx, writer, buf, len);
}

SEC("uprobe")
int BPF_KPROBE(probe_rustls_write_sret, void *ret, void *writer, const void *buf, __u64 len)
{
	return rustls_write(ctx, writer, buf, len);
}

SEC("uprobe")
int BPF_KPROBE(probe_rustls_write_vectored, void *writer, const struct iovec *iov, __u64 cnt)
{
	return rustls_write_vectored(ctx, writer, iov, cnt);
}

SEC("uprobe")
int BPF_KPROBE(probe_rustls_write_vectored_sret, void *ret, void *writer, const struct iovec *iov,
	       __u64 cnt)
{
	return rustls_write_vectored(ctx, writer, iov, cnt);
}

#endif
