/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/*
 * Records shared by the BPF programs and the sensor. Fixed-size types only:
 * this header is compiled both by clang -target bpf and by the host compiler.
 */
#ifndef TOKENTAP_SHARED_H
#define TOKENTAP_SHARED_H

/* Largest header block one event can carry; a power of two. */
#define TT_DATA_MAX 32768
#define TT_COMM_LEN 16
#define TT_FILENAME_MAX 256

/*
 * A plaintext connection's conn: its fd with this bit set. A TLS session's
 * conn is a user-space pointer, whose top bit is clear, so the two never
 * collide in a map or in the sensor's session table.
 */
#define TT_CONN_PLAIN (1ULL << 63)

enum tt_event_kind {
	TT_EV_DATA = 1,  /* bytes a process is sending (plaintext or pre-encryption) */
	TT_EV_BIND = 2,  /* a TLS session was bound to its socket */
	TT_EV_EXEC = 3,  /* a process called execve */
	TT_EV_MMAP = 4,  /* a process maps a file executable (dlopen) that is not decided yet:
			  * fd its descriptor, conn the inode number, aux the device (kernel
			  * encoding, major << 20 | minor), len the inode's generation */
	TT_EV_EXIT = 5,  /* a process exited */
	TT_EV_CLOSE = 6, /* a tracked connection's fd was closed; conn: its TLS session or 0 */
	TT_EV_HFEND = 7, /* the thread that encoded header fields now writes them: conn is the
			  * TLS session, data[0..8) the encoder; addresses as for TT_EV_BIND */
	TT_EV_UNCOVERED = 8, /* a process with no probed TLS call sent a TLS application-data
			      * record on socket fd (uncovered.bpf.h); addresses set, no data */
};

/*
 * A TLS application-data record counts as a blind spot from this length:
 * TLS 1.3's encrypted Finished (at most 69 bytes) and alerts (19) are sent
 * outside the library's write call even when it is probed.
 */
#define TT_TLS_REC_MIN 96
#define TT_TLS_REC_MAX (16384 + 256)

enum tt_event_flags {
	TT_F_TLS = 1 << 0,       /* captured before encryption by a TLS library */
	TT_F_START = 1 << 1,     /* data begins with an HTTP method */
	TT_F_CONT = 1 << 2,      /* continuation of the previous request's header block */
	TT_F_TRUNC = 1 << 3,     /* the write was longer than the capture cap */
	TT_F_NEED_BIND = 1 << 4, /* TLS session not yet bound: a TT_EV_BIND may follow */
	TT_F_ADDR = 1 << 5,      /* src/dst are set */
	TT_F_IN_INIT = 1 << 6,   /* TLS handshake still in progress: the call may fail and be retried */
	TT_F_H2 = 1 << 7,        /* an HTTP/2 frame stream (TLS session marked by its preface or a HEADERS frame) */
	TT_F_HFIELD = 1 << 8,    /* one HTTP/2 header field before HPACK encoding: name, NUL, value; conn: the encoder */
	TT_F_HELD = 1 << 9,      /* TT_EV_MMAP: the process was sent SIGSTOP until its TLS library is attached */
	TT_F_HBLOCK = 1 << 10,   /* a whole HTTP/2 request's header fields before HPACK encoding,
				  * as tt_hb_rec records; conn: the client connection (Go) */
};

/*
 * TT_F_HBLOCK data: records, each this 4-byte head, then name_len bytes of
 * name (TT_HB_HEADER only: the pseudo-fields are named by their kind),
 * then the value's bytes. A value longer than TT_HB_VALUE_MAX is cut there
 * and its head carries TT_HB_CUT; a cut value is never fingerprinted.
 */
enum tt_hb_kind {
	TT_HB_HEADER = 0,    /* a request header, name as the program set it */
	TT_HB_AUTHORITY = 1, /* :authority */
	TT_HB_METHOD = 2,    /* :method; empty means GET */
	TT_HB_SCHEME = 3,    /* :scheme */
	TT_HB_PATH = 4,      /* the URL's path, decoded */
	TT_HB_RAWPATH = 5,   /* the URL's path as escaped on the wire, when it differs */
	TT_HB_QUERY = 6,     /* the URL's raw query, without '?' */
	TT_HB_FIELD = 7,     /* a field as it goes on the wire, pseudo-headers too (gRPC-Go) */
	TT_HB_KIND_MAX,
};

#define TT_HB_VALUE_MAX 8192
#define TT_HB_CUT 0x8000

struct tt_hb_rec {
	unsigned char kind;       /* enum tt_hb_kind */
	unsigned char name_len;
	unsigned short value_len; /* bytes that follow the name; TT_HB_CUT: cut */
};

enum tt_tls_lib {
	TT_LIB_NONE = 0,
	TT_LIB_OPENSSL = 1,
	TT_LIB_GNUTLS = 2,
	TT_LIB_GO = 3,
	TT_LIB_NSS = 4,      /* NSS: PR_Write, PR_Send */
	TT_LIB_RUSTLS = 5,   /* rustls: <Writer as std::io::Write>::write, write_vectored */
	TT_LIB_JAVA = 6,     /* JSSE, through the agent's tokentap_java_tls_write (--java) */
	TT_LIB_MAX,
};

enum tt_stat {
	TT_STAT_EVENTS = 0,     /* data events emitted */
	TT_STAT_RB_DROP,        /* ring buffer full: event lost */
	TT_STAT_TRUNC,          /* writes longer than the capture cap */
	TT_STAT_BIND,           /* TLS sessions bound to sockets */
	TT_STAT_READ_FAIL,      /* user memory could not be read */
	TT_STAT_RECORDS,        /* records of every kind put in the ring buffer */
	TT_STAT_DATA_DROP,      /* the TT_EV_DATA records among TT_STAT_RB_DROP */
	TT_STAT_MAX,
};

/* A file as the kernel names it: its superblock's device and its inode number. */
struct tt_file_key {
	unsigned long long dev; /* kernel encoding: major << 20 | minor */
	unsigned long long ino;
	unsigned int gen;       /* i_generation: an inode number reused for a new file differs */
	unsigned int pad;
};

struct tt_addr {
	unsigned short family; /* AF_INET, AF_INET6, AF_UNIX, or 0 */
	unsigned short port;   /* host byte order */
	unsigned char addr[16];
};

struct tt_event_hdr {
	unsigned int kind;
	unsigned int flags;
	unsigned long long ts_ns;     /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	unsigned int pid;             /* tgid */
	unsigned int tid;
	unsigned int uid;
	int fd;                       /* -1 when unknown */
	unsigned long long conn;      /* SSL* for TLS, else the fd */
	unsigned long long cgroup_id;
	char comm[TT_COMM_LEN];
	struct tt_addr src;
	struct tt_addr dst;
	unsigned int len;             /* bytes in data[] */
	unsigned int orig_len;        /* bytes the process wrote in this call (clamped to 2^32-1) */
	unsigned int tls_lib;
	unsigned int aux;             /* TT_EV_EXEC: ppid */
};

struct tt_data_event {
	struct tt_event_hdr h;
	unsigned char data[TT_DATA_MAX];
};

struct tt_exec_event {
	struct tt_event_hdr h;
	char filename[TT_FILENAME_MAX];
};

/*
 * These structs cross between the BPF object and the sensor as bytes (ring
 * buffer records, map values): both sides must agree on their layout, so a
 * change to it fails both builds here rather than misreading events at run
 * time. Update the numbers only together with both sides.
 */
#define TT_LAYOUT(type, member, off) \
	_Static_assert(__builtin_offsetof(type, member) == (off), #type "." #member " moved")

_Static_assert(sizeof(struct tt_file_key) == 24, "struct tt_file_key size");
_Static_assert(sizeof(struct tt_addr) == 20, "struct tt_addr size");
TT_LAYOUT(struct tt_addr, family, 0);
TT_LAYOUT(struct tt_addr, port, 2);
TT_LAYOUT(struct tt_addr, addr, 4);

_Static_assert(sizeof(struct tt_event_hdr) == 120, "struct tt_event_hdr size");
_Static_assert(sizeof(struct tt_hb_rec) == 4, "struct tt_hb_rec size");
TT_LAYOUT(struct tt_event_hdr, kind, 0);
TT_LAYOUT(struct tt_event_hdr, flags, 4);
TT_LAYOUT(struct tt_event_hdr, ts_ns, 8);
TT_LAYOUT(struct tt_event_hdr, pid, 16);
TT_LAYOUT(struct tt_event_hdr, tid, 20);
TT_LAYOUT(struct tt_event_hdr, uid, 24);
TT_LAYOUT(struct tt_event_hdr, fd, 28);
TT_LAYOUT(struct tt_event_hdr, conn, 32);
TT_LAYOUT(struct tt_event_hdr, cgroup_id, 40);
TT_LAYOUT(struct tt_event_hdr, comm, 48);
TT_LAYOUT(struct tt_event_hdr, src, 64);
TT_LAYOUT(struct tt_event_hdr, dst, 84);
TT_LAYOUT(struct tt_event_hdr, len, 104);
TT_LAYOUT(struct tt_event_hdr, orig_len, 108);
TT_LAYOUT(struct tt_event_hdr, tls_lib, 112);
TT_LAYOUT(struct tt_event_hdr, aux, 116);

/* data[] follows the header at once: a record is sizeof(h) + len bytes */
_Static_assert(sizeof(struct tt_data_event) == 120 + TT_DATA_MAX, "struct tt_data_event size");
TT_LAYOUT(struct tt_data_event, data, 120);
_Static_assert(sizeof(struct tt_exec_event) == 120 + TT_FILENAME_MAX, "struct tt_exec_event size");
TT_LAYOUT(struct tt_exec_event, filename, 120);

#endif
