/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Maps and load-time settings shared by every capture program. */
#ifndef TOKENTAP_MAPS_BPF_H
#define TOKENTAP_MAPS_BPF_H

/* Set by the loader before load. */
const volatile __u32 targ_tgid = 0;        /* capture only this process when non-zero */
const volatile __u32 self_tgid = 0;        /* never capture the sensor itself */
const volatile __u32 max_capture = 16384;  /* bytes per write, <= TT_DATA_MAX */
const volatile __u64 wake_bytes = 256 * 1024; /* wake the consumer past this fill level */
const volatile bool hold_unknown_tls = false; /* SIGSTOP a process mapping an undecided TLS library */

/*
 * Slow-path gate for the syscall tracepoints. Most writes are not HTTP and
 * there is no pending TLS bind or split header: then the tracepoint must not
 * touch a hash map. Writers set it to "now + window"; readers only compare.
 */
__u64 slow_until_ns = 0;

#define TLS_BIND_WINDOW_NS (10ULL * 1000 * 1000)   /* nested syscall follows SSL_write within */
#define CONT_WINDOW_NS (1000ULL * 1000 * 1000)     /* rest of a split header block within */
#define CONT_MAX_WRITES 16

struct conn_key {
	__u32 tgid;
	__u32 pad;
	__u64 conn; /* SSL* for TLS, fd | TT_CONN_PLAIN for plaintext */
};

/*
 * A session's socket, read once when it is bound: every captured write
 * then checks only that fd still holds the same open file, and takes the
 * addresses from here instead of walking the socket again.
 */
struct ssl_sock {
	__s32 fd;
	__u32 addr_flags; /* TT_F_ADDR when src/dst are known */
	__u64 sk;         /* struct sock * */
	__u64 file;       /* struct file * behind fd, to notice fd reuse */
	struct tt_addr src;
	struct tt_addr dst;
};

struct tls_mark {
	__u64 ssl;
	__u64 ts_ns;
};

struct cont_state {
	__u64 deadline_ns;
	__u32 bytes_left;
	__u32 writes_left;
};

/* TLS session (SSL*, gnutls_session_t, PRFileDesc*, *tls.Conn) -> the socket it writes to. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct conn_key);
	__type(value, struct ssl_sock);
} ssl_socks SEC(".maps");

/* thread inside a TLS library's write of an unbound session -> that session */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tls_mark);
} tls_marks SEC(".maps");

/* connection whose header block continues in the next write(s) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, struct cont_state);
} conts SEC(".maps");

/*
 * TLS sessions and plaintext connections (h2c) carrying HTTP/2: every
 * write is a frame stream and is captured, so userspace keeps its HPACK
 * state in step. Value H2_CLIENT; H2_SERVER for a TLS session whose first
 * HEADERS frame seen was a response, none of whose writes is captured.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, __u8);
} h2_conns SEC(".maps");

/*
 * h2c: plaintext HTTP/2 connections in h2_conns, marked by the client's
 * connection preface (prior knowledge, or after an "Upgrade: h2c" request
 * answered 101). Every write of a marked connection is captured, as a
 * marked TLS session's is. Counted, so other writes look the map up only
 * while some h2c connection exists; the close tracepoint lowers it (an LRU
 * eviction leaves it high, which only costs a lookup).
 */
__u64 h2c_n = 0;

/*
 * TLS sessions in h2_conns, counted the same way (the close tracepoint and
 * an HTTP/1 request on the session lower it): while it is 0, a TLS write
 * that is neither a preface nor a request line looks up no map for it.
 */
__u64 h2_tls_n = 0;

/*
 * The latest deadline of any split header block (conts): past it every
 * entry is expired, so TLS writes neither look conts up nor delete from it.
 */
__u64 cont_until_ns = 0;

/*
 * thread -> the Go HPACK encoder it last wrote a field with, until that
 * thread's next TLS write (the HEADERS frame), which names the session
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} hf_pending SEC(".maps");

/*
 * One event under construction per CPU: too large for the BPF stack, and
 * over the 32 KiB per-CPU value limit, so an array indexed by CPU whose
 * size the loader sets to the number of possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tt_data_event);
} scratch SEC(".maps");

/*
 * Files the sensor has examined (attached or found nothing to probe): their
 * executable mappings need no event. Filled and cleared by userspace; an
 * entry evicted only costs one more event. Value unused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tt_file_key);
	__type(value, __u8);
} decided SEC(".maps");

/*
 * --hold-unknown-tls: processes stopped until their library is attached ->
 * when (bpf_ktime_get_ns). The sensor's watchdog continues any left past
 * its deadline, whatever its main loop is doing.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} held SEC(".maps");

/*
 * 4 MiB: the reader maps the data pages twice (records that wrap), and
 * both mappings count in the sensor's RSS; 4 MiB holds ~12,000 requests,
 * over 100 ms of the highest rate measured with no drop (tests/bench
 * drop_rate.py). --ringbuf-size changes it at load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

/*
 * Mappings of undecided files (tp_mmap) only: read by the sensor's attach
 * thread, which nothing else it does delays.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} lib_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * Processes in which a probed TLS write ran: their records are seen. The
 * sensor removes a process's entry when it has read its exit
 * (user/sensor/coverage.c), after deciding its pending reports.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} tls_tgids SEC(".maps");

/*
 * A direct-mapped cache of tls_tgids in front of it (slot tgid mod
 * TT_TLS_SLOTS): a process's TLS writes and record writes after its first
 * find it with one load instead of a hash lookup. A slot only names a
 * process put in tls_tgids; tp_exit clears the exiting process's slot, so
 * a reused pid is never taken for a covered one. Two processes sharing a
 * slot only cost lookups. Written only when it changes, so in the steady
 * state CPUs share it without bouncing its cache lines.
 */
#define TT_TLS_SLOTS 1024
__u32 tls_tgid_slot[TT_TLS_SLOTS] = {};

/* Sockets already reported as uncovered (tgid, fd | TT_CONN_PLAIN). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, __u8);
} uncov_socks SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	/*
	 * Atomic although per CPU: a program preempted on its CPU by another
	 * (a tracepoint inside a uprobe's helper call) must not lose a count;
	 * the drop accounting promises exact figures.
	 */
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline bool tgid_wanted(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	return targ_tgid == 0 || tgid == targ_tgid;
}

/* A wake-up per event costs more than the program: wake by fill level. */
static __always_inline __u64 wake_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes ?
		BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/*
 * Every record goes into the ring buffer through these three, so each one
 * sent is counted once: TT_STAT_RECORDS when it went in, TT_STAT_RB_DROP
 * when the buffer was full. The sensor counts what it reads: records read
 * = TT_STAT_RECORDS once drained, and records sent = that + the drops.
 */
static __always_inline int rb_output(void *data, __u64 size, __u64 flags, bool is_data)
{
	if (bpf_ringbuf_output(&events, data, size, flags)) {
		stat_inc(TT_STAT_RB_DROP);
		if (is_data)
			stat_inc(TT_STAT_DATA_DROP);
		return -1;
	}
	stat_inc(TT_STAT_RECORDS);
	return 0;
}

static __always_inline void *rb_reserve(__u64 size)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		stat_inc(TT_STAT_RB_DROP);
	return r;
}

static __always_inline void rb_submit(void *r, __u64 flags)
{
	bpf_ringbuf_submit(r, flags);
	stat_inc(TT_STAT_RECORDS);
}

#endif
