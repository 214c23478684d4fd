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
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;
	unsigned int max_fds;

	if (fd < 0)
		return NULL;
	/*
	 * Every captured TLS write checks its session's fd (tls.bpf.h): with
	 * the task as a BTF pointer (Linux 5.11+) the walk down to the fd
	 * array is plain loads, one helper call instead of five.
	 */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		struct task_struct *task = bpf_get_current_task_btf();

		fdt = task->files->fdt;
		if (!fdt || (unsigned int)fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		fdt = BPF_CORE_READ(task, files, fdt);
		if (!fdt)
			return NULL;
		max_fds = BPF_CORE_READ(fdt, max_fds);
		if ((unsigned int)fd >= max_fds)
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
	}
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* Returns the struct socket behind an open file, or NULL when it is not a socket. */
static __always_inline struct socket *file_socket(struct file *f)
{
	umode_t mode;

	if (!f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & TT_S_IFMT) != TT_S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(f, private_data);
}

/* Returns the struct socket behind fd, or NULL when fd is not a socket. */
static __always_inline struct socket *fd_to_socket(int fd)
{
	return file_socket(fd_to_file(fd));
}

static __always_inline struct sock *socket_sk(struct socket *sock)
{
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* Fills src/dst from the socket; true when they are known (TT_F_ADDR). */
static __always_inline bool sock_addrs(struct sock *sk, struct tt_addr *src, struct tt_addr *dst)
{
	__u16 family;

	if (!sk)
		return false;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	src->family = family;
	dst->family = family;
	if (family == TT_AF_INET) {
		bpf_core_read(src->addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(dst->addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == TT_AF_INET6) {
		bpf_core_read(src->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(dst->addr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return family == TT_AF_UNIX;
	}
	src->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	dst->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return true;
}

/* Fills src/dst from the socket; sets TT_F_ADDR on success. */
static __always_inline void fill_addrs(struct tt_event_hdr *h, struct sock *sk)
{
	if (sock_addrs(sk, &h->src, &h->dst))
		h->flags |= TT_F_ADDR;
}

/*
 * The binding of a session to the socket behind fd (ss zeroed by the
 * caller): false when fd is not a socket.
 */
static __always_inline bool ssl_sock_of(int fd, struct ssl_sock *ss)
{
	struct file *f = fd_to_file(fd);
	struct sock *sk = socket_sk(file_socket(f));

	if (!sk)
		return false;
	ss->fd = fd;
	ss->file = (__u64)f;
	ss->sk = (__u64)sk;
	if (sock_addrs(sk, &ss->src, &ss->dst))
		ss->addr_flags = TT_F_ADDR;
	return true;
}

#endif
