/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* fd -> socket -> addresses, by a CO-RE walk of the current task's fd table. */
#ifndef TOKENTAP_SOCK_BPF_H
#define TOKENTAP_SOCK_BPF_H

#define TT_S_IFMT 00170000
#define TT_S_IFSOCK 0140000
#define TT_AF_UNIX 1
#define TT_AF_INET 2
#define TT_AF_INET6 10

/* The open file behind the current task's fd, or NULL. */
static __always_inline struct file *fd_to_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;
	unsigned int max_fds;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt)
		return NULL;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max_fds)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* Returns the struct socket behind fd, or NULL when fd is not a socket. */
static __always_inline struct socket *fd_to_socket(int fd)
{
	struct file *f = fd_to_file(fd);
	umode_t mode;

	if (!f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & TT_S_IFMT) != TT_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

static __always_inline struct sock *socket_sk(struct socket *sock)
{
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* Fills src/dst from the socket; sets TT_F_ADDR on success. */
static __always_inline void fill_addrs(struct tt_event_hdr *h, struct sock *sk)
{
	__u16 family;

	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	h->src.family = family;
	h->dst.family = family;
	if (family == TT_AF_INET) {
		bpf_core_read(h->src.addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(h->dst.addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == TT_AF_INET6) {
		bpf_core_read(h->src.addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(h->dst.addr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		if (family == TT_AF_UNIX)
			h->flags |= TT_F_ADDR;
		return;
	}
	h->src.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	h->dst.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	h->flags |= TT_F_ADDR;
}

#endif
