/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Java's TLS (JSSE) encrypts in Java code. With --java the sensor loads an
 * agent into the JVM that calls tokentap_java_tls_write(buf, len, conn, fd)
 * of libtokentap_java.so with each plaintext about to be encrypted
 * (java/native/tokentap_java.c); this probe is on its entry.
 * conn: the session (SSLSocket or SSLEngine), an id with bit 62 set.
 * fd >= 0: its socket, found by the agent; -1: the socket this thread
 * writes next (SSLSocket writes its records on the calling thread);
 * -2: unknown (an SSLEngine's records may be written by another thread).
 */
#ifndef TOKENTAP_JAVATLS_BPF_H
#define TOKENTAP_JAVATLS_BPF_H

#define TT_JAVA_FD_BY_THREAD (-1)

/* Binds the session to the socket the agent named, unless already bound to it. */
static __always_inline void java_bind(__u64 conn, int fd)
{
	struct conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .conn = conn };
	struct ssl_sock *cur = bpf_map_lookup_elem(&ssl_socks, &key);
	struct ssl_sock ss = {};

	if (!ssl_sock_of(fd, &ss) || (cur && cur->fd == fd && cur->file == ss.file))
		return;
	bpf_map_update_elem(&ssl_socks, &key, &ss, BPF_ANY);
	stat_inc(TT_STAT_BIND);
	track_fd(key.tgid, fd, conn);
}

SEC("uprobe")
int BPF_KPROBE(probe_java_write, const void *buf, __u64 len, __u64 conn, int fd)
{
	/* the agent's ids have bit 62 set and bit 63 clear (not a plaintext fd's conn) */
	if (!(conn & (1ULL << 62)) || (conn & TT_CONN_PLAIN) || len > (1ULL << 31))
		return 0;
	if (fd >= 0)
		java_bind(conn, fd);
	return on_tls_write_bind(ctx, (void *)conn, buf, (__s64)len, TT_LIB_JAVA, true,
				 fd == TT_JAVA_FD_BY_THREAD);
}

#endif
