/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the sensor cannot see: processes that send TLS records although no
 * TLS probe runs in them (bpf/uncovered.bpf.h). The pure part: the record
 * test, the causes and their choice, and the once-per-interval rule. The
 * facts are gathered by user/sensor/coverage.c.
 */
#ifndef TOKENTAP_UNCOVERED_H
#define TOKENTAP_UNCOVERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Why a process is not covered, most specific first. The one list: names
 * (uncov_cause_name) are what events, the collector and the console show.
 */
#define UNCOV_CAUSES(X)								\
	X(UNCOV_JVM, "jvm_without_java")        /* a JVM, and no Java agent attached */ \
	X(UNCOV_ATTACH_FAILED, "attach_failed") /* a probed library is mapped, not attached */ \
	X(UNCOV_UNSUPPORTED_LIB, "unsupported_tls_library") /* a TLS library no probe knows */ \
	X(UNCOV_RUST_STRIPPED, "rust_stripped") /* a Rust program without symbols */ \
	X(UNCOV_STATIC_TLS, "static_unknown_tls") /* static, no known TLS symbols */ \
	X(UNCOV_UNKNOWN, "unknown")

#define UNCOV_ENUM_(id, name) id,
enum uncov_cause {
	UNCOV_CAUSES(UNCOV_ENUM_)
	UNCOV_CAUSE_COUNT
};
#undef UNCOV_ENUM_

/* What is known of the process, gathered from its executable and maps. */
struct uncov_facts {
	bool jvm;             /* exe basename "java", or libjvm.so mapped */
	bool java_agent;      /* the Java agent is known to cover this JVM (--java) */
	bool rust;            /* a .rustc section or Rust symbols (rust_panic, rust_begin_unwind) */
	bool has_symtab;      /* the executable keeps its .symtab */
	bool is_static;       /* the executable has no program interpreter */
	bool known_tls_syms;  /* the executable defines a function a probe knows (SSL_write...) */
	bool probed_lib_unattached; /* a library a probe knows is mapped but not attached */
	char unsupported_lib[64];   /* basename of a mapped TLS library no probe knows, or "" */
};

/* "jvm_without_java", ...; "unknown" for an out-of-range value. */
const char *uncov_cause_name(enum uncov_cause c);
/* The cause named name, or -1. */
int uncov_cause_find(const char *name);
enum uncov_cause uncov_cause_choose(const struct uncov_facts *f);

/*
 * True when b (n bytes, the start of a socket write) opens a TLS 1.2/1.3
 * application-data record long enough to carry a request: the test the
 * BPF side makes on its first 8 bytes (bpf/uncovered.bpf.h).
 */
bool tls_record_uncovered(const uint8_t *b, size_t n);

/* Basename of a mapped file if it is a TLS library no probe knows (libmbedtls, ...). */
bool uncov_is_unsupported_lib(const char *basename);
/* Basename of a mapped file if it is a TLS library the probes know (libssl, ...). */
bool uncov_is_probed_lib(const char *basename);

/* One blind spot: a process and a destination, with what is known of both. */
struct uncov_report {
	int64_t ts_ns;            /* wall clock */
	uint32_t pid, uid;
	char comm[17];
	char exe[512];            /* "" when unknown */
	char container_id[65];
	char pod_uid[37];
	uint64_t cgroup_id;
	char dst[64];             /* "ip:port", "" when unknown */
	enum uncov_cause cause;
	char detail[64];          /* e.g. the unsupported library; "" when none */
};

/*
 * Once per (executable, destination) per interval. A fixed table: when
 * it is full, further pairs of the interval are dropped and counted.
 */
struct uncov_dedupe;

struct uncov_dedupe *uncov_dedupe_new(size_t capacity, int64_t interval_ns);
void uncov_dedupe_free(struct uncov_dedupe *d);
/* True the first time (exe, dst) is offered in the interval now_ns falls in. */
bool uncov_dedupe_first(struct uncov_dedupe *d, const char *exe, const char *dst, int64_t now_ns);
/* Pairs dropped because the table was full. */
uint64_t uncov_dedupe_overflow(const struct uncov_dedupe *d);

#endif
