/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Connection close: the per-connection state (here and in userspace) of a
 * socket the sensor follows is freed when its fd is closed. close(2) is
 * among the most frequent syscalls, so the tracepoint returns after one
 * global load unless some fd is tracked at all.
 */
#ifndef TOKENTAP_CLOSE_BPF_H
#define TOKENTAP_CLOSE_BPF_H

struct fd_key {
	__u32 tgid;
	__s32 fd;
};

struct fd_state {
	__u64 ssl; /* the TLS session bound to the fd (SSL*, *tls.Conn), 0 for plaintext */
};

/*
 * Entries in tracked_fds, the close tracepoint's gate. Raised on insert,
 * lowered on delete; LRU evictions and processes exiting with open fds
 * leave it high, which only costs a lookup per close, never a missed one.
 */
__u64 tracked_n = 0;

/* (tgid, fd) of a plaintext HTTP/1 connection or a bound TLS session. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fd_key);
	__type(value, struct fd_state);
} tracked_fds SEC(".maps");

static __always_inline void track_fd(__u32 tgid, int fd, __u64 ssl)
{
	struct fd_key key = { .tgid = tgid, .fd = fd };
	struct fd_state st = { .ssl = ssl };
	struct fd_state *cur;

	if (fd < 0)
		return;
	cur = bpf_map_lookup_elem(&tracked_fds, &key);
	if (cur) {
		/* a plaintext write never unbinds a TLS session on the same fd */
		if (ssl)
			cur->ssl = ssl;
		return;
	}
	if (!bpf_map_update_elem(&tracked_fds, &key, &st, BPF_NOEXIST))
		__sync_fetch_and_add(&tracked_n, 1);
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp_close(struct trace_event_raw_sys_enter *ctx)
{
	struct fd_key key;
	struct conn_key ck = {};
	struct fd_state *st;
	struct tt_event_hdr *h;
	__u64 ssl;

	if (!tracked_n)
		return 0;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.fd = (__s32)ctx->args[0];
	st = bpf_map_lookup_elem(&tracked_fds, &key);
	if (!st)
		return 0;
	ssl = st->ssl;
	if (!bpf_map_delete_elem(&tracked_fds, &key))
		__sync_fetch_and_sub(&tracked_n, 1);
	ck.tgid = key.tgid;
	ck.conn = (__u64)(__u32)key.fd | TT_CONN_PLAIN;
	bpf_map_delete_elem(&conts, &ck);
	bpf_map_delete_elem(&uncov_socks, &ck);
	if (h2c_n && !bpf_map_delete_elem(&h2_conns, &ck))
		__sync_fetch_and_sub(&h2c_n, 1);
	if (ssl) {
		ck.conn = ssl;
		bpf_map_delete_elem(&ssl_socks, &ck);
		if (h2_tls_n && !bpf_map_delete_elem(&h2_conns, &ck))
			__sync_fetch_and_sub(&h2_tls_n, 1);
		bpf_map_delete_elem(&conts, &ck);
	}

	h = rb_reserve(sizeof(*h));
	if (!h)
		return 0;
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = TT_EV_CLOSE;
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = key.tgid;
	h->tid = (__u32)bpf_get_current_pid_tgid();
	h->fd = key.fd;
	h->conn = ssl;
	rb_submit(h, wake_flag());
	return 0;
}

#endif
