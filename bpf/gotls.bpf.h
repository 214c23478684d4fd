/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Go crypto/tls: an entry uprobe on crypto/tls.(*Conn).Write(b []byte).
 * Never a uretprobe: Go moves goroutine stacks, which breaks the return
 * address rewrite uretprobes depend on. The session key is the *tls.Conn.
 *
 * The socket comes from the nested write(2) (tls_bind), as for OpenSSL,
 * and, for Go versions whose struct layouts are known, directly from the
 * *Conn: conn (a net.Conn holding a *net.TCPConn) -> netFD -> pfd.Sysfd.
 */
#ifndef TOKENTAP_GOTLS_BPF_H
#define TOKENTAP_GOTLS_BPF_H

#include "gotls.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TT_GO_BINS_MAX);
	__type(key, __u32);
	__type(value, struct tt_go_bin);
} go_bins SEC(".maps");

static __always_inline struct tt_go_bin *go_bin_of(void *ctx)
{
	__u64 cookie = 0;
	__u32 idx;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_attach_cookie))
		cookie = bpf_get_attach_cookie(ctx);
	if (!(cookie & TT_GO_COOKIE))
		return NULL;
	idx = (__u32)cookie;
	return bpf_map_lookup_elem(&go_bins, &idx);
}

/*
 * Binds the session to its socket from the Conn's own fields, when the
 * layout is known and the conn really is a *net.TCPConn. Anything that
 * does not check out leaves the session unbound (address unknown).
 */
static __always_inline void go_bind_from_conn(struct tt_go_bin *gb, __u64 conn)
{
	struct conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .conn = conn };
	struct ssl_sock ss = {};
	__u64 itab = 0, fun0 = 0, tcp = 0, netfd = 0;
	__s64 sysfd = -1;

	if (!gb->has_fd_offsets || !gb->tcpconn_close || bpf_map_lookup_elem(&ssl_socks, &key))
		return;
	if (bpf_probe_read_user(&itab, sizeof(itab), (void *)(conn + gb->conn_itab_off)) || !itab ||
	    bpf_probe_read_user(&fun0, sizeof(fun0), (void *)(itab + gb->itab_fun0_off)) ||
	    fun0 != gb->tcpconn_close)
		return;
	if (bpf_probe_read_user(&tcp, sizeof(tcp), (void *)(conn + gb->conn_data_off)) || !tcp ||
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(tcp + gb->tcpconn_fd_off)) || !netfd ||
	    bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + gb->netfd_sysfd_off)))
		return;
	if (sysfd < 0 || sysfd > 0x7fffffff)
		return;
	if (!ssl_sock_of((int)sysfd, &ss))
		return;
	bpf_map_update_elem(&ssl_socks, &key, &ss, BPF_ANY);
	stat_inc(TT_STAT_BIND);
	track_fd(key.tgid, ss.fd, conn);
}

static __always_inline int go_tls_write(void *ctx, __u64 conn, __u64 buf, __s64 len)
{
	struct tt_go_bin *gb = go_bin_of(ctx);

	if (!conn || !tgid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (gb)
		go_bind_from_conn(gb, conn);
	return on_tls_write(ctx, (void *)conn, (const void *)buf, len, TT_LIB_GO,
			    !(gb && gb->hf_hooked));
}

/* Go >= 1.17: receiver in RAX, b's pointer in RBX, its length in RCX. */
SEC("uprobe")
int probe_go_tls_write_reg(struct pt_regs *ctx)
{
	return go_tls_write(ctx, ctx->ax, ctx->bx, (__s64)ctx->cx);
}

#define TT_EFLAGS_CF 0x01
#define TT_EFLAGS_ZF 0x40

/*
 * The same, probed on the jbe of the stack check (emulated, unlike the
 * entry's lea/cmp). Taken, it grows the stack and the function restarts at
 * its entry, reaching this probe again: only the fall-through counts.
 */
SEC("uprobe")
int probe_go_tls_write_reg_check(struct pt_regs *ctx)
{
	if (ctx->flags & (TT_EFLAGS_CF | TT_EFLAGS_ZF))
		return 0;
	return go_tls_write(ctx, ctx->ax, ctx->bx, (__s64)ctx->cx);
}

/* Go < 1.17: receiver, b.ptr, b.len at SP+8, SP+16, SP+24 (SP holds the return address). */
SEC("uprobe")
int probe_go_tls_write_stack(struct pt_regs *ctx)
{
	__u64 args[3] = {};

	if (bpf_probe_read_user(args, sizeof(args), (void *)(ctx->sp + 8)))
		return 0;
	return go_tls_write(ctx, args[0], args[1], (__s64)args[2]);
}

/*
 * Go's HPACK encoder, hpack.(*Encoder).WriteField(f HeaderField), with
 * HeaderField{Name, Value string; Sensitive bool}. Register ABI: the struct
 * is split into its fields, which take the next integer registers in order:
 * RAX the *Encoder, RBX/RCX Name's pointer and length, RDI/RSI Value's.
 * Each field becomes one event, name NUL value, keyed by the encoder (one
 * per HTTP/2 connection); a value longer than TT_HF_VALUE_MAX is cut and
 * flagged TT_F_TRUNC (userspace never reports a cut credential).
 */
#define TT_HF_NAME_MAX 256
#define TT_HF_VALUE_MAX 8192

static __always_inline int go_hfield(void *ctx, __u64 enc, __u64 np, __u64 nl, __u64 vp, __u64 vl)
{
	struct tt_go_bin *gb = go_bin_of(ctx);
	struct tt_data_event *e;
	__u64 vn = vl;

	/* without the cookie the TLS writes are decoded as HTTP/2 instead */
	if (!gb || !enc || !np || nl == 0 || nl > TT_HF_NAME_MAX ||
	    !tgid_wanted(bpf_get_current_pid_tgid() >> 32))
		return 0;
	e = event_begin(TT_F_TLS | TT_F_HFIELD, -1, enc);
	if (!e)
		return 0;
	e->h.tls_lib = TT_LIB_GO;
	if (vn > TT_HF_VALUE_MAX) {
		vn = TT_HF_VALUE_MAX;
		e->h.flags |= TT_F_TRUNC;
		stat_inc(TT_STAT_TRUNC);
	}
	barrier_var(nl);
	nl &= 2 * TT_HF_NAME_MAX - 1;
	if (nl > TT_HF_NAME_MAX)
		return 0;
	if (bpf_probe_read_user(e->data, nl, (void *)np))
		goto fail;
	e->data[nl] = 0;
	barrier_var(vn);
	vn &= 2 * TT_HF_VALUE_MAX - 1;
	if (vn > TT_HF_VALUE_MAX)
		return 0;
	if (vn && bpf_probe_read_user(e->data + nl + 1, vn, (void *)vp))
		goto fail;
	e->h.len = nl + 1 + vn;
	e->h.orig_len = vl > 0xffffff00ULL ? 0xffffffffU : (__u32)(nl + 1 + vl);
	{
		__u32 tid = e->h.tid;

		bpf_map_update_elem(&hf_pending, &tid, &enc, BPF_ANY);
	}
	if (rb_output(e, sizeof(e->h) + nl + 1 + vn, wake_flag(), true) == 0)
		stat_inc(TT_STAT_EVENTS);
	return 0;
fail:
	stat_inc(TT_STAT_READ_FAIL);
	return 0;
}

SEC("uprobe")
int probe_go_hfield_reg(struct pt_regs *ctx)
{
	return go_hfield(ctx, ctx->ax, ctx->bx, ctx->cx, ctx->di, ctx->si);
}

/* On the stack check's jbe, as probe_go_tls_write_reg_check. */
SEC("uprobe")
int probe_go_hfield_reg_check(struct pt_regs *ctx)
{
	if (ctx->flags & (TT_EFLAGS_CF | TT_EFLAGS_ZF))
		return 0;
	return go_hfield(ctx, ctx->ax, ctx->bx, ctx->cx, ctx->di, ctx->si);
}

#endif
