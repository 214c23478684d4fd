/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Go function table reader on crafted tables of each layout (Go 1.2,
 * 1.16, 1.18, 1.20): names found at the right entry addresses, absent
 * names not found, every truncation and single-byte change survived,
 * inconsistent tables rejected. With TT_GO_BIN and TT_GO_BIN_STRIPPED set
 * (the e2e runner sets them to a Go program built normally and with
 * -ldflags="-s -w"), the table of the real binaries must give the symbol
 * table's address for crypto/tls.(*Conn).Write, stripped or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <elf.h>

#include "gopclntab.h"

#define TEXT 0x401000ULL

static const char *const fnames[] = { "runtime.main", "crypto/tls.(*Conn).Write",
				      "net.(*TCPConn).Close" };
#define NF 3

static void put(uint8_t *b, size_t off, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Entry address of function i in the crafted tables. */
static uint64_t entry_of(int i)
{
	return TEXT + 0x100 * (uint64_t)(i + 1);
}

/* Builds a table of the given layout into b (zeroed, 4096 bytes); returns its length. */
static size_t build(uint8_t *b, enum gopcln_version v)
{
	uint32_t magic = v == GOPCLN_12 ? 0xfffffffb : v == GOPCLN_116 ? 0xfffffffa :
			 v == GOPCLN_118 ? 0xfffffff0 : 0xfffffff1;
	unsigned field = (v == GOPCLN_118 || v == GOPCLN_120) ? 4 : 8;
	size_t names = 128, functab = 512, funcs = 1024, pos = names;
	size_t nameoff[NF], funcbase, namebase;

	memset(b, 0, 4096);
	put(b, 0, magic, 4);
	b[6] = 1;
	b[7] = 8;
	put(b, 8, NF, 8);
	for (int i = 0; i < NF; i++) {
		nameoff[i] = pos;
		memcpy(b + pos, fnames[i], strlen(fnames[i]) + 1);
		pos += strlen(fnames[i]) + 1;
	}
	switch (v) {
	case GOPCLN_12:
		functab = 16;
		funcbase = namebase = 0;
		break;
	case GOPCLN_116:
		put(b, 8 + 2 * 8, names, 8);
		put(b, 8 + 6 * 8, functab, 8);
		funcbase = functab;
		namebase = names;
		break;
	default:
		put(b, 8 + 2 * 8, TEXT, 8);
		put(b, 8 + 3 * 8, names, 8);
		put(b, 8 + 7 * 8, functab, 8);
		funcbase = functab;
		namebase = names;
		break;
	}
	for (int i = 0; i < NF; i++) {
		uint64_t e = field == 4 ? entry_of(i) - TEXT : entry_of(i);
		size_t f = funcs + 64 * (size_t)i;

		put(b, functab + (size_t)i * 2 * field, e, field);
		put(b, functab + (size_t)i * 2 * field + field, f - funcbase, field);
		put(b, f, e, field);
		put(b, f + field, nameoff[i] - namebase, 4);
	}
	return funcs + 64 * NF;
}

static void check_layout(enum gopcln_version v)
{
	uint8_t b[4096];
	size_t len = build(b, v);
	const char *const want[] = { "net.(*TCPConn).Close", "crypto/tls.(*Conn).Write", "main.absent",
				     "crypto/tls.(*Conn)" };
	uint64_t e[4] = { 0 };
	int found[4];

	assert_int_equal(gopclntab_version(b, len), v);
	assert_int_equal(gopclntab_find(b, len, want, 4, e, found), 2);
	assert_true(found[0] && found[1]);
	assert_false(found[2] || found[3]);
	assert_int_equal(e[0], entry_of(2));
	assert_int_equal(e[1], entry_of(1));
}

static void t_go12(void **s) { (void)s; check_layout(GOPCLN_12); }
static void t_go116(void **s) { (void)s; check_layout(GOPCLN_116); }
static void t_go118(void **s) { (void)s; check_layout(GOPCLN_118); }
static void t_go120(void **s) { (void)s; check_layout(GOPCLN_120); }

static void t_bad_headers(void **s)
{
	uint8_t b[4096];
	size_t len = build(b, GOPCLN_118);
	const char *const want[] = { "crypto/tls.(*Conn).Write" };
	uint64_t e;
	int found;

	(void)s;
	assert_int_equal(gopclntab_find(b, 7, want, 1, &e, &found), -1);
	b[0] = 0xfe; /* unknown magic */
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), -1);
	build(b, GOPCLN_118);
	b[7] = 4; /* 32-bit pointers: not handled */
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), -1);
	build(b, GOPCLN_118);
	b[6] = 3; /* no such instruction quantum */
	assert_int_equal(gopclntab_version(b, len), GOPCLN_BAD);
	build(b, GOPCLN_118);
	put(b, 8, 1ULL << 40, 8); /* more functions than bytes */
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), -1);
	build(b, GOPCLN_118);
	put(b, 8 + 7 * 8, 1ULL << 62, 8); /* function table outside */
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), -1);
	build(b, GOPCLN_118);
	put(b, 8 + 3 * 8, ~0ULL, 8); /* name table outside */
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), -1);
	assert_false(found);
}

/* A _func whose entry disagrees with the table's is not believed. */
static void t_entry_mismatch(void **s)
{
	uint8_t b[4096];
	size_t len = build(b, GOPCLN_118);
	const char *const want[] = { "crypto/tls.(*Conn).Write" };
	uint64_t e = 0;
	int found = 1;

	(void)s;
	put(b, 1024 + 64, 0x1234, 4);
	assert_int_equal(gopclntab_find(b, len, want, 1, &e, &found), 0);
	assert_false(found);
}

/* Every prefix and every single-byte change: no crash, only sane answers (ASan checks reads). */
static void t_truncated_and_mutated(void **s)
{
	static const enum gopcln_version vs[] = { GOPCLN_12, GOPCLN_116, GOPCLN_118, GOPCLN_120 };
	const char *const want[] = { "crypto/tls.(*Conn).Write", "runtime.main" };

	(void)s;
	for (size_t k = 0; k < sizeof(vs) / sizeof(vs[0]); k++) {
		uint8_t b[4096];
		size_t len = build(b, vs[k]);

		for (size_t n = 0; n <= len; n++) {
			uint8_t *copy = malloc(n ? n : 1);
			uint64_t e[2];
			int found[2];

			memcpy(copy, b, n);
			assert_true(gopclntab_find(copy, n, want, 2, e, found) <= 2);
			free(copy);
		}
		for (size_t i = 0; i < len; i += 3) {
			uint64_t e[2];
			int found[2];
			uint8_t save = b[i];

			b[i] ^= (uint8_t)(0x5a + i);
			assert_true(gopclntab_find(b, len, want, 2, e, found) <= 2);
			b[i] = save;
		}
	}
}

/* ---- the real Go test binaries --------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const Elf64_Shdr *shdr_named(const uint8_t *img, size_t len, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh, *strs;

	assert_true(len > sizeof(*eh) && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
	assert_true(eh->e_shoff < len && eh->e_shnum * sizeof(*sh) <= len - eh->e_shoff);
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (strcmp((const char *)img + strs->sh_offset + sh[i].sh_name, name) == 0)
			return &sh[i];
	return NULL;
}

static uint64_t pcln_lookup(const uint8_t *img, size_t len, const char *name)
{
	const Elf64_Shdr *sh = shdr_named(img, len, ".gopclntab");
	const char *const want[] = { name };
	uint64_t e = 0;
	int found = 0;

	assert_non_null(sh);
	assert_true(sh->sh_offset < len && sh->sh_size <= len - sh->sh_offset);
	assert_int_equal(gopclntab_find(img + sh->sh_offset, sh->sh_size, want, 1, &e, &found), 1);
	return e;
}

static uint64_t symtab_lookup(const uint8_t *img, size_t len, const char *name)
{
	const Elf64_Shdr *sym = shdr_named(img, len, ".symtab");
	const Elf64_Shdr *str = shdr_named(img, len, ".strtab");
	const Elf64_Sym *s;

	assert_non_null(sym);
	assert_non_null(str);
	s = (const Elf64_Sym *)(img + sym->sh_offset);
	for (size_t i = 0; i < sym->sh_size / sizeof(*s); i++)
		if (strcmp((const char *)img + str->sh_offset + s[i].st_name, name) == 0)
			return s[i].st_value;
	return 0;
}

static void t_real_binaries(void **s)
{
	const char *plain = getenv("TT_GO_BIN"), *stripped = getenv("TT_GO_BIN_STRIPPED");
	static const char *const names[] = { "crypto/tls.(*Conn).Write", "net.(*TCPConn).Close" };
	uint8_t *a, *b;
	size_t alen = 0, blen = 0;

	(void)s;
	if (!plain || !stripped)
		skip();
	a = slurp(plain, &alen);
	b = slurp(stripped, &blen);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(shdr_named(b, blen, ".symtab"));
	for (int i = 0; i < 2; i++) {
		uint64_t sym = symtab_lookup(a, alen, names[i]);

		assert_true(sym != 0);
		assert_int_equal(pcln_lookup(a, alen, names[i]), sym);
		/* same source, same toolchain, same flags but -s -w: same layout */
		assert_int_equal(pcln_lookup(b, blen, names[i]), sym);
	}
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_go12),
		cmocka_unit_test(t_go116),
		cmocka_unit_test(t_go118),
		cmocka_unit_test(t_go120),
		cmocka_unit_test(t_bad_headers),
		cmocka_unit_test(t_entry_mismatch),
		cmocka_unit_test(t_truncated_and_mutated),
		cmocka_unit_test(t_real_binaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
