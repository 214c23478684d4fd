/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Plaintext HTTP/1 and h2c over write, writev, sendto and sendmsg. The
 * fast path is one 8-byte read and a few compares: almost every write is
 * not HTTP.
 */
#ifndef TOKENTAP_PLAINTEXT_BPF_H
#define TOKENTAP_PLAINTEXT_BPF_H

#define TT_IOV_MAX 4

enum plain_kind {
	PLAIN_NONE,
	PLAIN_H1,
	PLAIN_H2,
};

static __always_inline bool plain_capture(int fd, const void *buf, __u64 len, __u32 flags)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct tt_data_event *e;
	struct socket *sock;

	if (!tgid_wanted(tgid))
		return false;
	sock = fd_to_socket(fd);
	if (!sock)
		return false;
	e = event_begin(flags, fd, (__u64)fd | TT_CONN_PLAIN);
	if (!e)
		return false;
	fill_addrs(&e->h, socket_sk(sock));
	event_submit(e, buf, len);
	return true;
}

static __always_inline bool h2c_start(struct conn_key *key, int fd, const void *buf, __u64 len)
{
	__u8 one = 1;

	if (!plain_capture(fd, buf, len, TT_F_H2))
		return false;
	if (!bpf_map_update_elem(&h2_conns, key, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&h2c_n, 1);
	/* the close tracepoint forgets the mark */
	track_fd(key->tgid, fd, 0);
	return true;
}

/* What the write was captured as (part of): an HTTP/1 request, an h2c stream, or nothing. */
static __always_inline int on_plain_write(int fd, const void *buf, __u64 len)
{
	__u64 head = 0, pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .conn = (__u64)fd | TT_CONN_PLAIN };
	bool have_head = len >= 8 && !bpf_probe_read_user(&head, sizeof(head), buf);

	if (have_head && is_http_start(head)) {
		if (!plain_capture(fd, buf, len, TT_F_START))
			return PLAIN_NONE;
		cont_open(&key, buf, len, true);
		track_fd(key.tgid, fd, 0);
		return PLAIN_H1;
	}
	if (have_head && head == H2_PREFACE_HEAD)
		return h2c_start(&key, fd, buf, len) ? PLAIN_H2 : PLAIN_NONE;
	if (h2c_n && bpf_map_lookup_elem(&h2_conns, &key))
		return plain_capture(fd, buf, len, TT_F_H2) ? PLAIN_H2 : PLAIN_NONE;
	if (slow_until_ns == 0 || bpf_ktime_get_ns() > slow_until_ns)
		return PLAIN_NONE;

	tls_bind(NULL, pid_tgid, fd, buf);
	if (cont_take(&key, buf, len))
		return plain_capture(fd, buf, len, TT_F_CONT) ? PLAIN_H1 : PLAIN_NONE;
	return PLAIN_NONE;
}

/*
 * An h2c write by vector: gRPC's C core sends each header field as its own
 * iovec, so the iovecs are gathered into one event, as one write would
 * be, up to half the event buffer (the bound the verifier can check); the
 * length of the rest is counted as truncated, so the frame parser skips
 * it and keeps its place.
 */
#define TT_H2_IOV_MAX 32
#define TT_H2_IOV_REST_MAX 64
#define TT_GATHER_MAX (TT_DATA_MAX / 2)

static __always_inline void h2c_gather(struct conn_key *key, int fd, const struct iovec *iov,
				       __u64 cnt, bool preface)
{
	__u32 cap = max_capture < TT_GATHER_MAX ? max_capture : TT_GATHER_MAX;
	struct tt_data_event *e;
	struct socket *sock;
	struct iovec v = {};
	__u64 total = 0, off = 0, n;
	__u8 one = 1;

	sock = fd_to_socket(fd);
	if (!sock)
		return;
	e = event_begin(TT_F_H2, fd, key->conn);
	if (!e)
		return;
	fill_addrs(&e->h, socket_sk(sock));
	for (int i = 0; i < TT_H2_IOV_MAX + TT_H2_IOV_REST_MAX; i++) {
		if ((__u64)i >= cnt || bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		total += v.iov_len;
		if (i >= TT_H2_IOV_MAX || off >= cap)
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
			return;
		}
		off += n;
	}
	if (total > off) {
		e->h.flags |= TT_F_TRUNC;
		stat_inc(TT_STAT_TRUNC);
	}
	e->h.len = (__u32)off;
	e->h.orig_len = total > 0xffffffffULL ? 0xffffffffU : (__u32)total;
	if (off > TT_GATHER_MAX)
		return;
	if (rb_output(e, sizeof(e->h) + off, wake_flag(), true))
		return;
	stat_inc(TT_STAT_EVENTS);
	if (preface) {
		if (!bpf_map_update_elem(&h2_conns, key, &one, BPF_NOEXIST))
			__sync_fetch_and_add(&h2c_n, 1);
		track_fd(key->tgid, fd, 0);
	}
}

static __always_inline int on_plain_iov(int fd, const struct iovec *iov, __u64 cnt)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), head = 0;
	struct conn_key key = { .tgid = pid_tgid >> 32, .conn = (__u64)fd | TT_CONN_PLAIN };
	struct iovec v = {};
	bool more, preface;

	if (cnt == 0 || bpf_probe_read_user(&v, sizeof(v), &iov[0]))
		return 0;
	preface = v.iov_len >= 8 && !bpf_probe_read_user(&head, sizeof(head), v.iov_base) &&
		  head == H2_PREFACE_HEAD;
	if (preface || (h2c_n && bpf_map_lookup_elem(&h2_conns, &key))) {
		if (tgid_wanted(key.tgid))
			h2c_gather(&key, fd, iov, cnt, preface);
		return 0;
	}
	if (on_plain_write(fd, v.iov_base, v.iov_len) != PLAIN_H1)
		return 0;
	more = !ends_header_block(v.iov_base, v.iov_len);
	/* A header block spread over the vector: the rest follows as continuations. */
	for (int i = 1; i < TT_IOV_MAX; i++) {
		if (!more || (__u64)i >= cnt || bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		plain_capture(fd, v.iov_base, v.iov_len, TT_F_CONT);
		more = !ends_header_block(v.iov_base, v.iov_len);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int tp_write(struct trace_event_raw_sys_enter *ctx)
{
	on_plain_write((int)ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sendto(struct trace_event_raw_sys_enter *ctx)
{
	on_plain_write((int)ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int tp_writev(struct trace_event_raw_sys_enter *ctx)
{
	return on_plain_iov((int)ctx->args[0], (const struct iovec *)ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	struct user_msghdr mh = {};

	if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)ctx->args[1]))
		return 0;
	return on_plain_iov((int)ctx->args[0], mh.msg_iov, mh.msg_iovlen);
}

#endif
