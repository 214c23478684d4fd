/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choosing where to put a uprobe inside a function (x86-64).
 *
 * A uprobe on an instruction the kernel emulates (push, call, jmp) costs a
 * fraction of one it must single-step. When the entry instruction is not
 * emulated, the first direct call on the straight path from the entry is
 * used instead, but only when it is proven that the argument registers are
 * unchanged up to it and that every branch taken before it ends without
 * calling the same function (an error path). Otherwise: the entry.
 */
#ifndef TOKENTAP_PROBEPOINT_H
#define TOKENTAP_PROBEPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * code: the function's bytes, starting at virtual address vaddr; len: the
 * function size (or the bytes available). nargs: integer arguments
 * (rdi, rsi, rdx, rcx, r8, r9) that must reach the probe intact (1..6).
 * Returns the probe's distance in bytes from the function start (0 = entry)
 * and writes a short reason to why. *call_target is the address the chosen
 * call reaches (0 for the entry).
 */
uint64_t probe_point_choose(const uint8_t *code, size_t len, uint64_t vaddr, int nargs,
			    uint64_t *call_target, char *why, size_t whylen);

/*
 * Recognises a one-field getter, `int f(const T *p) { return p->field; }`
 * (mov disp(%rdi),%eax ... ret, nothing else writing %eax), and returns the
 * field's offset in *off. Used to learn where a library keeps a field in
 * this very build (OpenSSL's SSL_in_init: the handshake-in-progress flag).
 * Returns 0, or -1 when the code is anything else.
 */
int probe_getter_offset(const uint8_t *code, size_t len, uint64_t vaddr, int32_t *off);

/* A branch or call out of a function: a direct target, or the pointer slot it reads. */
struct probe_branch {
	uint64_t target;  /* the destination, or with via_slot the address of the pointer read */
	bool via_slot;    /* call/jmp *disp(%rip): through the GOT (a PLT stub, -fno-plt) */
};

/*
 * The direct and rip-relative indirect calls and jumps of code (at vaddr),
 * in order, at most max. Tells whether a function wraps another, e.g.
 * OpenSSL 3.3's SSL_write_ex, which is SSL_write_ex2 with flags 0, called
 * directly or through the PLT.
 */
size_t probe_branches(const uint8_t *code, size_t len, uint64_t vaddr, struct probe_branch *out,
		      size_t max);

/*
 * Rust's <W as std::io::Write>::write(&mut self, ...) returns an
 * io::Result, in registers or (rustc 1.63) through a hidden first argument,
 * which moves self to %rsi and every argument after it by one register. A
 * thin wrapper reads its field through self first: returns 0 when that
 * first load (disp 0) is from %rdi, 1 when from %rsi, -1 when neither
 * comes before a branch.
 */
int probe_rust_self_arg(const uint8_t *code, size_t len, uint64_t vaddr);

/*
 * Go functions begin with a stack check: [lea -N(%rsp),%r12;]
 * cmp 0x10(%r14),%rsp|%r12; jbe morestack. The jbe is emulated and the
 * arguments are still in their registers there. When it is taken the
 * stack grows and the function restarts at its entry, so a probe on it
 * must ignore the taken case (CF or ZF set). Returns the jbe's distance
 * from the function start, or 0 when the prologue is anything else.
 */
uint64_t probe_go_stack_check(const uint8_t *code, size_t len, uint64_t vaddr);

#endif
