/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Blind spots: a process that sends TLS application-data records on a
 * socket although no TLS probe ever fired in it encrypts with something
 * the sensor does not see into. The write tracepoints already read the
 * first 8 bytes of every socket write (plaintext.bpf.h); a TLS record
 * header is checked on those same bytes, so a write that is not TLS costs
 * three compares more. Only an application-data record costs map work: a
 * lookup in tls_tgids (a covered process stops there) and one in
 * uncov_socks (a socket already reported stops there); the first record
 * of an uncovered socket walks the fd table and inserts into uncov_socks.
 * The maps are in maps.bpf.h.
 */
#ifndef TOKENTAP_UNCOVERED_BPF_H
#define TOKENTAP_UNCOVERED_BPF_H

static __always_inline __u32 *tls_slot(__u32 tgid)
{
	return &tls_tgid_slot[tgid & (TT_TLS_SLOTS - 1)];
}

/* A probed TLS write runs in this process (called by on_tls_write). */
static __always_inline void tls_probed(__u32 tgid)
{
	__u32 *slot = tls_slot(tgid);
	__u8 one = 1;

	if (*slot == tgid)
		return;
	if (!bpf_map_lookup_elem(&tls_tgids, &tgid) &&
	    bpf_map_update_elem(&tls_tgids, &tgid, &one, BPF_ANY))
		return;
	*slot = tgid;
}

/* The process exits: its slot must not name it once its pid can be reused. */
static __always_inline void tls_slot_forget(__u32 tgid)
{
	__u32 *slot = tls_slot(tgid);

	if (*slot == tgid)
		*slot = 0;
}

/*
 * The 8 bytes open a TLS 1.2/1.3 application-data record (type 0x17,
 * version 0x0303) whose length is at least TT_TLS_REC_MIN and at most a
 * record's maximum. The lower bound leaves out TLS 1.3's encrypted
 * Finished and alerts, which a library sends outside its write call.
 * Kept in step with tls_record_uncovered() in user/pipeline/uncovered.c.
 */
static __always_inline bool is_tls_appdata(__u64 head)
{
	__u32 rlen = ((__u32)(head >> 24) & 0xff) << 8 | ((__u32)(head >> 32) & 0xff);

	return (head & 0xffffff) == 0x030317 && rlen >= TT_TLS_REC_MIN && rlen <= TT_TLS_REC_MAX;
}

static __always_inline void uncovered_check(int fd, __u64 head)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct conn_key key = { .tgid = pid_tgid >> 32, .conn = (__u64)fd | TT_CONN_PLAIN };
	struct tt_event_hdr *h;
	struct socket *sock;
	__u8 one = 1;

	if (!is_tls_appdata(head) || !tgid_wanted(key.tgid))
		return;
	/* a process the slot names is covered: no lookup */
	if (*tls_slot(key.tgid) == key.tgid || bpf_map_lookup_elem(&tls_tgids, &key.tgid))
		return;
	/* reported already: a plain lookup, before the fd table walk and the LRU insert */
	if (bpf_map_lookup_elem(&uncov_socks, &key))
		return;
	sock = fd_to_socket(fd);
	if (!sock || bpf_map_update_elem(&uncov_socks, &key, &one, BPF_NOEXIST))
		return;
	/* the close tracepoint forgets the socket, so a reused fd is reported again */
	track_fd(key.tgid, fd, 0);
	h = rb_reserve(sizeof(*h));
	if (!h)
		return;
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = TT_EV_UNCOVERED;
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = key.tgid;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)bpf_get_current_uid_gid();
	h->fd = fd;
	h->conn = key.conn;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	fill_addrs(h, socket_sk(sock));
	rb_submit(h, wake_flag());
}

#endif
