/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe-point choice on x86-64 code: Debian OpenSSL 3.0's SSL_write and
 * SSL_write_ex as they are in libssl.so.3, and small hand-assembled
 * functions for each rule (emulated entry, argument writes, branches before
 * the call, indirect calls, sign extension in place, bounds), plus
 * truncated and random bytes; and the one-field getter decoder on
 * SSL_in_init and its near misses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probepoint.h"

#include "ssl_write_code.h"

/* objdump -d --start-address=0x35a50 --stop-address=0x35a6d libssl.so.3 */
static const uint8_t ssl_write_ex[29] = {
	0x48, 0x83, 0xec, 0x08,                         /* sub    $0x8,%rsp */
	0xe8, 0x87, 0xfb, 0xff, 0xff,                   /* +4: call 355e0 */
	0x31, 0xd2, 0x85, 0xc0, 0x0f, 0x48, 0xc2, 0x48, 0x83, 0xc4, 0x08, 0x31, 0xd2,
	0x31, 0xc9, 0x31, 0xf6, 0x31, 0xff, 0xc3,
};
#define SSL_WRITE_EX_VADDR 0x35a50

#define INTERNAL_WRITE 0x355e0

/* ---- a tiny assembler for hand-made functions at VADDR ---- */

#define VADDR 0x401000ULL
#define TARGET 0x402000ULL  /* the function the probed call reaches */
#define OTHER 0x403000ULL   /* some other function (an error reporter) */

struct code {
	uint8_t b[1024];
	size_t n;
};

/* Appends bytes written as hex pairs: "48 83 ec 08". */
static void emit(struct code *c, const char *hex)
{
	unsigned v;
	int used;

	while (sscanf(hex, " %2x%n", &v, &used) == 1) {
		assert_true(c->n < sizeof(c->b));
		c->b[c->n++] = (uint8_t)v;
		hex += used;
	}
}

static uint64_t here(const struct code *c)
{
	return VADDR + c->n;
}

/* call or jmp rel32 (opcode e8 / e9) to an address. */
static void emit_rel32(struct code *c, uint8_t op, uint64_t target)
{
	int32_t rel = (int32_t)(int64_t)(target - (here(c) + 5));

	c->b[c->n++] = op;
	memcpy(c->b + c->n, &rel, 4);
	c->n += 4;
}

/* A two-byte branch (jcc rel8, loop) to a label bound later; returns what patch() needs. */
static size_t emit_fwd8(struct code *c, uint8_t op)
{
	c->b[c->n++] = op;
	c->b[c->n++] = 0;
	return c->n;
}

/* Binds the branch whose end is at pos to the current position. */
static void patch(struct code *c, size_t pos)
{
	size_t d = c->n - pos;

	assert_true(d < 128);
	c->b[pos - 1] = (uint8_t)d;
}

/* A two-byte branch backwards to an address already emitted. */
static void emit_back8(struct code *c, uint8_t op, uint64_t target)
{
	int64_t d = (int64_t)target - (int64_t)(here(c) + 2);

	assert_true(d >= -128 && d < 0);
	c->b[c->n++] = op;
	c->b[c->n++] = (uint8_t)(int8_t)d;
}

static uint64_t choose(const struct code *c, int nargs, uint64_t *target, char *why)
{
	return probe_point_choose(c->b, c->n, VADDR, nargs, target, why, 96);
}

/* ---- the real functions ---- */

static void test_ssl_write(void **state)
{
	uint64_t target = 1;
	char why[96];

	(void)state;
	assert_int_equal(probe_point_choose(ssl_write, SSL_WRITE_SIZE, SSL_WRITE_VADDR, 3, &target, why,
					    sizeof(why)), 30);
	assert_int_equal(target, INTERNAL_WRITE);
	assert_non_null(strstr(why, "call site"));

	/* rcx is written before the call (mov %rsp,%rcx): with four arguments, the entry */
	assert_int_equal(probe_point_choose(ssl_write, SSL_WRITE_SIZE, SSL_WRITE_VADDR, 4, &target, why,
					    sizeof(why)), 0);
	assert_int_equal(target, 0);
	assert_non_null(strstr(why, "written"));
}

static void test_ssl_write_ex(void **state)
{
	uint64_t target = 0;
	char why[96];

	(void)state;
	for (int nargs = 1; nargs <= 6; nargs++) {
		assert_int_equal(probe_point_choose(ssl_write_ex, sizeof(ssl_write_ex), SSL_WRITE_EX_VADDR,
						    nargs, &target, why, sizeof(why)), 4);
		assert_int_equal(target, INTERNAL_WRITE);
	}
}

/*
 * Shorter than the function: the error path leaves the bytes known, so the
 * call is not proven. The exceptions show why len must be the function's
 * size: a call ending exactly at the last byte is taken as noreturn (as
 * __stack_chk_fail is at the real end), and the error path's calls to
 * ERR_new, ERR_set_debug and ERR_set_error end at 76, 100 and 119.
 */
static void test_ssl_write_truncated(void **state)
{
	uint64_t target, off;
	char why[96];

	(void)state;
	for (size_t len = 0; len <= sizeof(ssl_write); len++) {
		/* an exact-size heap copy, so any read past len is caught */
		uint8_t *copy = malloc(len ? len : 1);
		bool ends_on_call = len == 76 || len == 100 || len == 119 || len == SSL_WRITE_SIZE;

		assert_non_null(copy);
		memcpy(copy, ssl_write, len);
		target = 1;
		off = probe_point_choose(copy, len, SSL_WRITE_VADDR, 3, &target, why, sizeof(why));
		free(copy);
		if (off != (ends_on_call ? 30 : 0))
			fail_msg("length %zu: +%llu (%s)", len, (unsigned long long)off, why);
		assert_int_equal(target, ends_on_call ? INTERNAL_WRITE : 0);
	}
	for (size_t len = 1; len < sizeof(ssl_write_ex); len++) {
		uint8_t *copy = malloc(len);
		uint64_t off;

		assert_non_null(copy);
		memcpy(copy, ssl_write_ex, len);
		off = probe_point_choose(copy, len, SSL_WRITE_EX_VADDR, 3, &target, why, sizeof(why));
		/* no branch before its call: any prefix holding the call will do */
		assert_int_equal(off, len >= 9 ? 4 : 0);
		free(copy);
	}
}

/* ---- hand-made functions ---- */

static void test_emulated_entry(void **state)
{
	static const char *const entries[] = {
		"55",                /* push %rbp */
		"41 54",             /* push %r12 */
		"e8 00 00 00 00",    /* call next */
		"e9 00 00 00 00",    /* jmp next */
		"eb 00",             /* jmp next (short) */
	};
	uint64_t target = 1;
	char why[96];

	(void)state;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		struct code c = { .n = 0 };

		emit(&c, entries[i]);
		emit(&c, "48 89 e5");            /* mov %rsp,%rbp */
		emit_rel32(&c, 0xe8, TARGET);    /* a call that would be fine otherwise */
		emit(&c, "5d c3");               /* pop %rbp; ret */
		assert_int_equal(choose(&c, 3, &target, why), 0);
		assert_int_equal(target, 0);
		assert_non_null(strstr(why, "emulated"));
	}
}

/* The simplest provable case, and each single instruction that forbids it. */
static void test_argument_writes(void **state)
{
	static const struct {
		const char *insn;
		int nargs;
		int ok;
	} cases[] = {
		{ "48 89 c6", 3, 0 },          /* mov %rax,%rsi */
		{ "48 89 c6", 1, 1 },          /* mov %rax,%rsi: rsi is no argument */
		{ "31 f6", 2, 0 },             /* xor %esi,%esi */
		{ "40 b6 01", 2, 0 },          /* mov $1,%sil */
		{ "b6 01", 3, 0 },             /* mov $1,%dh */
		{ "5f", 1, 0 },                /* pop %rdi */
		{ "48 8d 7f 08", 1, 0 },       /* lea 0x8(%rdi),%rdi */
		{ "48 87 f0", 2, 0 },          /* xchg %rsi,%rax */
		{ "48 99", 3, 0 },             /* cqto: writes rdx */
		{ "48 99", 2, 1 },
		{ "0f 31", 3, 0 },             /* rdtsc: writes rdx */
		{ "f3 48 ab", 1, 0 },          /* rep stos: writes rdi, rcx */
		{ "4d 31 c0", 5, 0 },          /* xor %r8,%r8 */
		{ "4d 31 c0", 4, 1 },
		{ "4d 89 c8", 6, 0 },          /* mov %r9,%r8 */
		{ "4c 89 c8", 6, 1 },          /* mov %r9,%rax: reading is fine */
		{ "48 89 37", 3, 1 },          /* mov %rsi,(%rdi): a store */
		{ "48 8b 07", 3, 1 },          /* mov (%rdi),%rax */
		{ "48 63 d2", 3, 1 },          /* movslq %edx,%rdx: the int as the callee sees it */
		{ "0f b6 d2", 3, 1 },          /* movzbl %dl,%edx */
		{ "48 63 d6", 3, 0 },          /* movslq %esi,%rdx: another argument's value */
		{ "48 63 12", 3, 0 },          /* movslq (%rdx),%rdx: a load through the argument */
		{ "48 0f be 3f", 1, 0 },       /* movsbq (%rdi),%rdi */
		{ "48 63 c2", 3, 1 },          /* movslq %edx,%rax */
		{ "0f 0b", 3, 0 },             /* ud2: the call is never reached */
		{ "0f 05", 1, 0 },             /* syscall */
		{ "c3", 3, 0 },                /* ret */
	};
	uint64_t target;
	char why[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct code c = { .n = 0 };
		uint64_t off;

		emit(&c, "48 83 ec 08");           /* sub $8,%rsp */
		emit(&c, cases[i].insn);
		off = here(&c) - VADDR;
		emit_rel32(&c, 0xe8, TARGET);
		emit(&c, "48 83 c4 08 c3");        /* add $8,%rsp; ret */
		target = 1;
		if (choose(&c, cases[i].nargs, &target, why) != (cases[i].ok ? off : 0))
			fail_msg("case %zu (%s, %d args): %s", i, cases[i].insn, cases[i].nargs, why);
		assert_int_equal(target, cases[i].ok ? TARGET : 0);
	}
}

/* sub; test; jcc error; call TARGET; add; ret; error: <body> */
static uint64_t with_branch(int nargs, void (*error_body)(struct code *), uint64_t *call_off)
{
	struct code c = { .n = 0 };
	uint64_t target;
	size_t fwd;
	char why[96];

	emit(&c, "48 83 ec 08 85 d2");     /* sub $8,%rsp; test %edx,%edx */
	fwd = emit_fwd8(&c, 0x78);         /* js error */
	*call_off = here(&c) - VADDR;
	emit_rel32(&c, 0xe8, TARGET);
	emit(&c, "48 83 c4 08 c3");
	patch(&c, fwd);
	error_body(&c);
	return choose(&c, nargs, &target, why);
}

static void err_calls_other(struct code *c)
{
	emit_rel32(c, 0xe8, OTHER);
	emit(c, "b8 ff ff ff ff 48 83 c4 08 c3"); /* mov $-1,%eax; add; ret */
}

static void err_calls_target(struct code *c)
{
	emit(c, "31 f6");                  /* xor %esi,%esi */
	emit_rel32(c, 0xe8, TARGET);
	emit(c, "48 83 c4 08 c3");
}

static void err_tail_calls_target(struct code *c)
{
	emit(c, "48 83 c4 08");
	emit_rel32(c, 0xe9, TARGET);       /* jmp TARGET: a tail call */
}

static void err_rejoins(struct code *c)
{
	emit(c, "31 d2");                  /* xor %edx,%edx */
	emit_back8(c, 0xeb, VADDR + 8);    /* jmp back to the probed call */
}

static void err_indirect(struct code *c)
{
	emit(c, "ff d0 48 83 c4 08 c3");   /* call *%rax; add; ret */
}

static void err_falls_off(struct code *c)
{
	emit(c, "31 c0");                  /* xor %eax,%eax, then the bytes end */
}

static void err_noreturn(struct code *c)
{
	emit(c, "31 c0");
	emit_rel32(c, 0xe8, OTHER);        /* the last instruction: a noreturn call */
}

static void err_loops(struct code *c)
{
	uint64_t top = here(c);

	emit_rel32(c, 0xe8, OTHER);
	emit(c, "85 c0");                  /* test %eax,%eax */
	emit_back8(c, 0x75, top);          /* jne top: a retry loop */
	emit(c, "48 83 c4 08 c3");
}

static void test_branches(void **state)
{
	uint64_t off;

	(void)state;
	/* an error path that reports through another function: the call is fine */
	assert_int_equal(with_branch(3, err_calls_other, &off), 8);
	assert_int_equal(off, 8);
	assert_int_equal(with_branch(3, err_noreturn, &off), 8);
	assert_int_equal(with_branch(3, err_loops, &off), 8);
	/* a path that may call the same function: the probe would miss it */
	assert_int_equal(with_branch(3, err_calls_target, &off), 0);
	assert_int_equal(with_branch(3, err_tail_calls_target, &off), 0);
	/* a path that changes an argument and reaches the call */
	assert_int_equal(with_branch(3, err_rejoins, &off), 0);
	/* unknown destinations */
	assert_int_equal(with_branch(3, err_indirect, &off), 0);
	assert_int_equal(with_branch(3, err_falls_off, &off), 0);
}

/* loop branches too (and writes rcx), though Capstone does not group it with jumps. */
static void test_loop_branch(void **state)
{
	struct code c = { .n = 0 };
	uint64_t target;
	size_t fwd;
	char why[96];

	(void)state;
	emit(&c, "48 83 ec 08");
	fwd = emit_fwd8(&c, 0xe2);         /* loop error */
	emit_rel32(&c, 0xe8, TARGET);
	emit(&c, "48 83 c4 08 c3");
	patch(&c, fwd);
	err_calls_target(&c);
	assert_int_equal(choose(&c, 3, &target, why), 0);
	assert_int_equal(choose(&c, 4, &target, why), 0);
	assert_non_null(strstr(why, "written"));

	c.n = 0;
	emit(&c, "48 83 ec 08");
	fwd = emit_fwd8(&c, 0xe2);
	emit_rel32(&c, 0xe8, TARGET);
	emit(&c, "48 83 c4 08 c3");
	patch(&c, fwd);
	err_calls_other(&c);
	assert_int_equal(choose(&c, 3, &target, why), 6);
}

static void test_indirect_and_jumps(void **state)
{
	static const char *const before[] = {
		"ff d0",                       /* call *%rax */
		"ff 15 00 00 00 00",           /* call *0(%rip) */
		"41 ff d3",                    /* call *%r11 */
	};
	static const char *const jumps[] = {
		"ff e0",                       /* jmp *%rax */
		"eb 00",                       /* jmp next: not the entry here */
	};
	uint64_t target;
	char why[96];

	(void)state;
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		struct code c = { .n = 0 };

		emit(&c, "48 83 ec 08");
		emit(&c, before[i]);
		emit_rel32(&c, 0xe8, TARGET);
		emit(&c, "48 83 c4 08 c3");
		target = 1;
		assert_int_equal(choose(&c, 3, &target, why), 0);
		assert_int_equal(target, 0);
		assert_non_null(strstr(why, "indirect"));
	}
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		struct code c = { .n = 0 };

		emit(&c, "48 83 ec 08");
		emit(&c, jumps[i]);
		emit_rel32(&c, 0xe8, TARGET);
		emit(&c, "48 83 c4 08 c3");
		assert_int_equal(choose(&c, 3, &target, why), 0);
	}
}

/* The search is bounded: 32 instructions on the straight path, 16 branches before the call. */
static void test_bounds(void **state)
{
	uint64_t target;
	char why[96];

	(void)state;
	for (int nops = 30; nops <= 33; nops++) {
		struct code c = { .n = 0 };

		for (int i = 0; i < nops; i++)
			emit(&c, "90");
		emit_rel32(&c, 0xe8, TARGET);
		emit(&c, "c3");
		assert_int_equal(choose(&c, 6, &target, why), nops < 32 ? (uint64_t)nops : 0);
	}
	for (int nbr = 15; nbr <= 17; nbr++) {
		struct code c = { .n = 0 };
		size_t fwd[17];
		uint64_t off;

		emit(&c, "48 83 ec 08");
		for (int i = 0; i < nbr; i++)
			fwd[i] = emit_fwd8(&c, 0x78);
		off = here(&c) - VADDR;
		emit_rel32(&c, 0xe8, TARGET);
		emit(&c, "48 83 c4 08 c3");
		for (int i = 0; i < nbr; i++)
			patch(&c, fwd[i]);
		err_calls_other(&c);
		assert_int_equal(choose(&c, 3, &target, why), nbr <= 16 ? off : 0);
	}
}

static void test_bad_input(void **state)
{
	static const int bad_nargs[] = { 0, 7, -1, 100, -2147483647 - 1 };
	uint64_t target = 1;
	char why[96];
	char tiny[6];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_nargs) / sizeof(bad_nargs[0]); i++) {
		target = 1;
		assert_int_equal(probe_point_choose(ssl_write_ex, sizeof(ssl_write_ex), SSL_WRITE_EX_VADDR,
						    bad_nargs[i], &target, why, sizeof(why)), 0);
		assert_int_equal(target, 0);
		assert_string_equal(why, "entry: bad input");
	}
	assert_int_equal(probe_point_choose(ssl_write_ex, 0, SSL_WRITE_EX_VADDR, 3, &target, why,
					    sizeof(why)), 0);
	/* the reason is truncated to the buffer */
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(probe_point_choose(ssl_write_ex, sizeof(ssl_write_ex), SSL_WRITE_EX_VADDR, 3,
					    &target, tiny, sizeof(tiny)), 4);
	assert_string_equal(tiny, "call ");
	assert_int_equal(probe_point_choose(ssl_write_ex, sizeof(ssl_write_ex), SSL_WRITE_EX_VADDR, 3,
					    &target, NULL, 0), 4);
}

/* Garbage: undecodable bytes, and pseudo-random code; never a crash, never a bad answer. */
static void test_garbage(void **state)
{
	static const char *const junk[] = {
		"ff ff ff ff ff ff ff ff",
		"0f",                          /* an opcode cut short */
		"48",                          /* a lone prefix */
		"e8 00 00",                    /* a call cut short */
		"48 83 ec 08 e8 00",
		"06 07 27 37",                 /* invalid in 64-bit mode */
	};
	uint64_t state_rng = 0x9e3779b97f4a7c15ULL;
	uint64_t target;
	char why[96];

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct code c = { .n = 0 };

		emit(&c, junk[i]);
		target = 1;
		assert_int_equal(choose(&c, 3, &target, why), 0);
		assert_int_equal(target, 0);
	}
	for (int round = 0; round < 3000; round++) {
		size_t len = 1 + (size_t)(round % 200);
		uint8_t *buf = malloc(len);
		uint64_t off;

		assert_non_null(buf);
		for (size_t i = 0; i < len; i++) {
			/* xorshift64 */
			state_rng ^= state_rng << 13;
			state_rng ^= state_rng >> 7;
			state_rng ^= state_rng << 17;
			buf[i] = (uint8_t)state_rng;
		}
		/* half the rounds start like a real prologue */
		if (round % 2 && len > 4)
			memcpy(buf, "\x48\x83\xec\x08", 4);
		off = probe_point_choose(buf, len, VADDR, 1 + round % 6, &target, why, sizeof(why));
		if (off) {
			/* a chosen point is always a direct call (e8, maybe after prefixes) inside the bytes */
			assert_true(off + 5 <= len);
			assert_non_null(memchr(buf + off, 0xe8, len - off < 15 ? len - off : 15));
			assert_true(target != 0);
		} else {
			assert_int_equal(target, 0);
		}
		assert_true(why[0] != '\0');
		free(buf);
	}
}

/* ---- probe_getter_offset ---- */

static int getter(const char *hex, int32_t *off)
{
	struct code c = { .n = 0 };

	emit(&c, hex);
	return probe_getter_offset(c.b, c.n, VADDR, off);
}

static void test_getter_offset(void **state)
{
	/* objdump -d --start-address=0x65dd0 --stop-address=0x65dd6 libssl.so.3: SSL_in_init */
	static const uint8_t ssl_in_init[6] = {
		0x8b, 0x47, 0x64,                       /* mov    0x64(%rdi),%eax */
		0x31, 0xff,                             /* xor    %edi,%edi */
		0xc3,                                   /* ret */
	};
	static const char *const not_getters[] = {
		"8b 47 64 31 c0 c3",                    /* mov 0x64(%rdi),%eax; xor %eax,%eax; ret */
		"8b 47 64 b4 01 c3",                    /* ...; mov $1,%ah; ret */
		"8b 47 64 0f a2 c3",                    /* ...; cpuid; ret */
		"8b 47 64 0f 05 c3",                    /* ...; syscall; ret */
		"8b 47 64 e8 00 00 00 00 c3",           /* ...; call; ret */
		"8b 47 64 75 00 c3",                    /* ...; jne; ret */
		"8b 47 64 e2 00 c3",                    /* ...; loop; ret */
		"8b 06 c3",                             /* mov (%rsi),%eax: not the first argument */
		"8b 44 0f 64 c3",                       /* mov 0x64(%rdi,%rcx),%eax: indexed */
		"48 8b 47 64 c3",                       /* mov 0x64(%rdi),%rax: 64-bit */
		"0f b6 47 64 c3",                       /* movzbl 0x64(%rdi),%eax: a byte */
		"8b 47 f0 c3",                          /* mov -0x10(%rdi),%eax: negative */
		"8b 87 00 00 00 10 c3",                 /* mov 0x10000000(%rdi),%eax: implausible */
		"64 8b 47 64 c3",                       /* mov %fs:0x64(%rdi),%eax */
		"8b 4f 64 c3",                          /* mov 0x64(%rdi),%ecx */
		"8b 47 64 90 90 90 c3",                 /* no ret within four instructions */
		"c3",                                   /* no load */
		"8b 47 64",                             /* cut short: no ret */
		"8b 47",                                /* cut inside the load */
		"ff ff ff ff",
	};
	int32_t off = -1;

	(void)state;
	assert_int_equal(probe_getter_offset(ssl_in_init, sizeof(ssl_in_init), 0x65dd0, &off), 0);
	assert_int_equal(off, 0x64);
	off = -1;
	assert_int_equal(getter("f3 0f 1e fa 8b 87 10 01 00 00 c3", &off), 0); /* endbr64; 32-bit disp */
	assert_int_equal(off, 0x110);
	off = -1;
	assert_int_equal(getter("8b 07 c3", &off), 0);                          /* offset 0 */
	assert_int_equal(off, 0);
	for (size_t i = 0; i < sizeof(not_getters) / sizeof(not_getters[0]); i++)
		if (getter(not_getters[i], &off) != -1)
			fail_msg("taken for a getter: %s", not_getters[i]);
	for (size_t len = 0; len < sizeof(ssl_in_init); len++) {
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, ssl_in_init, len);
		assert_int_equal(probe_getter_offset(copy, len, 0x65dd0, &off), -1);
		free(copy);
	}
}

/* Go's stack-check prologue: the jbe is the probe point, anything else is not. */
static void test_go_stack_check(void **state)
{
	/* go1.19 crypto/tls.(*Conn).Write: lea -0x68(%rsp),%r12; cmp 0x10(%r14),%r12; jbe */
	static const uint8_t big[] = { 0x4c, 0x8d, 0x64, 0x24, 0x98, 0x4d, 0x3b, 0x66, 0x10,
				       0x0f, 0x86, 0x64, 0x07, 0x00, 0x00, 0x48, 0x81, 0xec };
	/* small frame: cmp 0x10(%r14),%rsp; jbe rel8 */
	static const uint8_t small[] = { 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20, 0x55 };
	/* the guard read from another register than %r14 is not Go's */
	static const uint8_t other[] = { 0x49, 0x3b, 0x67, 0x10, 0x76, 0x20, 0x55 };
	/* jae instead of jbe */
	static const uint8_t jae[] = { 0x49, 0x3b, 0x66, 0x10, 0x73, 0x20, 0x55 };
	/* an argument written before the check */
	static const uint8_t clobber[] = { 0x48, 0x31, 0xc0, 0x49, 0x3b, 0x66, 0x10, 0x76, 0x20 };

	(void)state;
	assert_int_equal(probe_go_stack_check(big, sizeof(big), 0x590920), 9);
	assert_int_equal(probe_go_stack_check(small, sizeof(small), 0x1000), 4);
	assert_int_equal(probe_go_stack_check(other, sizeof(other), 0x1000), 0);
	assert_int_equal(probe_go_stack_check(jae, sizeof(jae), 0x1000), 0);
	assert_int_equal(probe_go_stack_check(clobber, sizeof(clobber), 0x1000), 0);
	assert_int_equal(probe_go_stack_check(big, 7, 0x590920), 0);
	assert_int_equal(probe_go_stack_check(big, 0, 0x590920), 0);
}

/* rustc 1.63's <rustls::conn::Writer as Write>::write: io::Result through a hidden pointer in %rdi */
static const uint8_t rust_write_sret[] = {
	0x53, 0x48, 0x89, 0xfb, 0x48, 0x8b, 0x06, 0x4c, 0x8b, 0x46, 0x08, 0x48,
	0x89, 0xc6, 0x41, 0xff, 0x50, 0x18, 0x48, 0x89, 0xd8, 0x5b, 0xc3,
};

static void test_rust_self_arg(void **state)
{
	/* result in registers: mov (%rdi),%rax; mov 0x8(%rdi),%rcx; jmp *0x18(%rcx) */
	static const uint8_t regs[] = { 0x48, 0x8b, 0x07, 0x48, 0x8b, 0x4f, 0x08, 0xff, 0x61, 0x18 };
	/* a call before any load through self: not the shape read */
	static const uint8_t call_first[] = { 0xe8, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x07, 0xc3 };
	/* loads at a displacement only: not self's first field */
	static const uint8_t disp_only[] = { 0x48, 0x8b, 0x47, 0x08, 0xc3 };

	(void)state;
	assert_int_equal(probe_rust_self_arg(rust_write_sret, sizeof(rust_write_sret), 0x7fc90), 1);
	assert_int_equal(probe_rust_self_arg(regs, sizeof(regs), 0x1000), 0);
	assert_int_equal(probe_rust_self_arg(call_first, sizeof(call_first), 0x1000), -1);
	assert_int_equal(probe_rust_self_arg(disp_only, sizeof(disp_only), 0x1000), -1);
	assert_int_equal(probe_rust_self_arg(rust_write_sret, 4, 0x7fc90), -1); /* cut before the load */
	assert_int_equal(probe_rust_self_arg(rust_write_sret, 0, 0x7fc90), -1);
}

/*
 * The stand-in libssl's SSL_write_ex (tests/e2e/ssl_ex2, gcc -O2 -fPIC):
 * mov %rcx,%r8; xor %ecx,%ecx; jmp SSL_write_ex2@plt, and that PLT stub:
 * jmp *0x2fba(%rip) (the GOT slot at 0x4010).
 */
static void test_branches_wrapper(void **state)
{
	static const uint8_t ex[] = { 0x49, 0x89, 0xc8, 0x31, 0xc9, 0xe9, 0x66, 0xfd, 0xff, 0xff };
	static const uint8_t plt[] = { 0xff, 0x25, 0xba, 0x2f, 0x00, 0x00, 0x68, 0x02, 0x00, 0x00, 0x00 };
	/* endbr64; bnd jmp *0x2fba(%rip): the .plt.sec form with IBT */
	static const uint8_t plt_sec[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xba, 0x2f, 0x00, 0x00 };
	struct probe_branch br[4];

	(void)state;
	assert_int_equal(probe_branches(ex, sizeof(ex), 0x12e0, br, 4), 1);
	assert_false(br[0].via_slot);
	assert_int_equal(br[0].target, 0x1050);
	assert_int_equal(probe_branches(plt, sizeof(plt), 0x1050, br, 4), 1);
	assert_true(br[0].via_slot);
	assert_int_equal(br[0].target, 0x4010);
	assert_int_equal(probe_branches(plt_sec, sizeof(plt_sec), 0x1050, br, 4), 1);
	assert_true(br[0].via_slot);
	assert_int_equal(br[0].target, 0x1050 + sizeof(plt_sec) + 0x2fba);
	/* the wrapper's one branch is the rust sret code's indirect call through a register: none */
	assert_int_equal(probe_branches(rust_write_sret, sizeof(rust_write_sret), 0x7fc90, br, 4), 0);
	/* bounded by max, and by the bytes */
	assert_int_equal(probe_branches(ex, sizeof(ex), 0x12e0, br, 0), 0);
	assert_int_equal(probe_branches(ex, 6, 0x12e0, br, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssl_write),
		cmocka_unit_test(test_ssl_write_ex),
		cmocka_unit_test(test_ssl_write_truncated),
		cmocka_unit_test(test_emulated_entry),
		cmocka_unit_test(test_argument_writes),
		cmocka_unit_test(test_branches),
		cmocka_unit_test(test_loop_branch),
		cmocka_unit_test(test_indirect_and_jumps),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_getter_offset),
		cmocka_unit_test(test_go_stack_check),
		cmocka_unit_test(test_rust_self_arg),
		cmocka_unit_test(test_branches_wrapper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
