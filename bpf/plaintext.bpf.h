/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Plaintext HTTP/1 over write, writev, sendto and sendmsg. The fast path is
 * one 8-byte read and a few compares: almost every write is not HTTP.
 */
#ifndef TOKENTAP_PLAINTEXT_BPF_H
#define TOKENTAP_PLAINTEXT_BPF_H

#define TT_IOV_MAX 4

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

/* Returns true when the write was captured as (part of) a request. */
static __always_inline bool on_plain_write(int fd, const void *buf, __u64 len)
{
	__u64 head = 0, pid_tgid;
	struct conn_key key = {};

	if (len >= 8 && !bpf_probe_read_user(&head, sizeof(head), buf) && is_http_start(head)) {
		if (!plain_capture(fd, buf, len, TT_F_START))
			return false;
		key.tgid = bpf_get_current_pid_tgid() >> 32;
		key.conn = (__u64)fd | TT_CONN_PLAIN;
		cont_open(&key, buf, len, true);
		track_fd(key.tgid, fd, 0);
		return true;
	}
	if (slow_until_ns == 0 || bpf_ktime_get_ns() > slow_until_ns)
		return false;

	pid_tgid = bpf_get_current_pid_tgid();
	tls_bind(NULL, pid_tgid, fd, buf);
	key.tgid = pid_tgid >> 32;
	key.conn = (__u64)fd | TT_CONN_PLAIN;
	if (cont_take(&key, buf, len))
		return plain_capture(fd, buf, len, TT_F_CONT);
	return false;
}

static __always_inline int on_plain_iov(int fd, const struct iovec *iov, __u64 cnt)
{
	struct iovec v = {};
	bool more;

	if (cnt == 0 || bpf_probe_read_user(&v, sizeof(v), &iov[0]))
		return 0;
	if (!on_plain_write(fd, v.iov_base, v.iov_len))
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
