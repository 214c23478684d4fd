/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rust symbol names: a bounded demangler for the function paths the sensor
 * probes, under both manglings rustc emits (legacy `_ZN...17h<hash>E` and
 * v0 `_R...`). Only paths are printed, never generic arguments' values or
 * hashes; anything it does not understand (punycode identifiers, function
 * pointer and dyn types, constants other than integers) is refused.
 */
#ifndef TOKENTAP_RUSTSYM_H
#define TOKENTAP_RUSTSYM_H

#include <stdbool.h>
#include <stddef.h>

/* Longest symbol name looked at; longer ones are refused. */
#define RUST_SYM_MAX 4096

/*
 * Writes the demangled path of sym ("<rustls::conn::Writer as
 * std::io::Write>::write") to out, NUL-terminated. False when sym is not
 * a Rust symbol this demangler reads, or the path does not fit in cap.
 */
bool rust_demangle(const char *sym, char *out, size_t cap);

enum rustls_writer_fn {
	RUSTLS_FN_NONE = 0,
	RUSTLS_FN_WRITE,          /* <rustls::...::Writer as std::io::Write>::write */
	RUSTLS_FN_WRITE_VECTORED, /* <rustls::...::Writer as std::io::Write>::write_vectored */
};

/* Which of rustls's plaintext writer functions sym names, if any. */
enum rustls_writer_fn rustls_writer_fn(const char *sym);

#endif
