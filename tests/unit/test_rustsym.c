/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Rust symbol demangler and the rustls writer matcher: names rustc
 * 1.63 emitted for rustls's Writer under both manglings (legacy and v0,
 * with a back reference), other functions of the same impl and of other
 * crates refused, every truncation and single-byte change survived, and
 * a path too long for the output refused rather than cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rustsym.h"

#define LEGACY_WRITE "_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$5write17h2ac005dfc240f4e6E"
#define LEGACY_VEC                                                                                 \
	("_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$14write_vectored17hc0245fff0458b88dE")
#define V0_WRITE "_RNvXNtCsjdIQyw4OPoj_6rustls4connNtB2_6WriterNtNtCsdyIG5SqMl5y_3std2io5Write5write"
#define V0_VEC                                                                                     \
	("_RNvXNtCsjdIQyw4OPoj_6rustls4connNtB2_6WriterNtNtCsdyIG5SqMl5y_3std2io5Write14write_vectored")

static void t_legacy(void **state)
{
	char out[256];

	(void)state;
	assert_true(rust_demangle(LEGACY_WRITE, out, sizeof(out)));
	assert_string_equal(out, "<rustls::conn::Writer as std::io::Write>::write");
	assert_true(rust_demangle("_ZN3std2io5stdio6_print17h0123456789abcdefE", out, sizeof(out)));
	assert_string_equal(out, "std::io::stdio::_print");
	/* a vendor suffix after the name is not part of it */
	assert_true(rust_demangle("_ZN4core3fmt5write17h0123456789abcdefE.llvm.123", out, sizeof(out)));
	assert_string_equal(out, "core::fmt::write");
	assert_int_equal(rustls_writer_fn(LEGACY_WRITE), RUSTLS_FN_WRITE);
	assert_int_equal(rustls_writer_fn(LEGACY_VEC), RUSTLS_FN_WRITE_VECTORED);
}

static void t_v0(void **state)
{
	char out[256];

	(void)state;
	assert_true(rust_demangle(V0_WRITE, out, sizeof(out)));
	assert_string_equal(out, "<rustls::conn::Writer as std::io::Write>::write");
	assert_int_equal(rustls_writer_fn(V0_WRITE), RUSTLS_FN_WRITE);
	assert_int_equal(rustls_writer_fn(V0_VEC), RUSTLS_FN_WRITE_VECTORED);
	/* from a real client (make rust-clients): an impl disambiguator, s5_ */
	assert_int_equal(rustls_writer_fn("_RNvXs5_NtCsT6B7AJlXmu_6rustls4connNtB5_6WriterNtNtCsdyIG5SqMl5y_3std2io5Write14write_vectored"),
			 RUSTLS_FN_WRITE_VECTORED);
	assert_true(rust_demangle("_RNvMs4_NtCsT6B7AJlXmu_6rustls4connNtB5_6Writer3new", out, sizeof(out)));
	assert_string_equal(out, "<rustls::conn::Writer>::new");
	/* rustls 0.22 and later: rustls::conn::connection::Writer */
	assert_int_equal(rustls_writer_fn("_RNvXNtNtCs1_6rustls4conn10connectionNtB2_6WriterNtNtCs2_3std2io5Write5write"),
			 RUSTLS_FN_WRITE);
	/* generic arguments, references, slices and tuples */
	assert_true(rust_demangle("_RINvCs1_3foo3barRShTmbEE", out, sizeof(out)));
	assert_string_equal(out, "foo::bar<&[u8], (u32, bool)>");
	/* a back reference to itself or forward is refused */
	assert_false(rust_demangle("_RNvB0_3foo", out, sizeof(out)));
	assert_false(rust_demangle("_RNvB9_3foo", out, sizeof(out)));
}

static void t_not_writer(void **state)
{
	(void)state;
	/* flush of the same impl, a Writer of another crate, another trait */
	assert_int_equal(rustls_writer_fn("_ZN55_$LT$rustls..conn..Writer$u20$as$u20$std..io..Write$GT$5flush17ha7ee2d5f9057b90fE"),
			 RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn("_ZN55_$LT$notrust..conn..Writer$u20$as$u20$std..io..Write$GT$5write17h2ac005dfc240f4e6E"),
			 RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn("_ZN54_$LT$rustls..conn..Writer$u20$as$u20$core..fmt..Write$GT$5write17h2ac005dfc240f4e6E"),
			 RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn("_RNvXNtCsjdIQyw4OPoj_6rustls4connNtB2_6WriterNtNtCsdyIG5SqMl5y_3std2io5Write5flush"),
			 RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn("SSL_write"), RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn(""), RUSTLS_FN_NONE);
	assert_int_equal(rustls_writer_fn(NULL), RUSTLS_FN_NONE);
}

static void t_bounds(void **state)
{
	char small[20], *big;
	size_t n = RUST_SYM_MAX + 16;

	(void)state;
	/* the output does not fit: refused, not cut */
	assert_false(rust_demangle(LEGACY_WRITE, small, sizeof(small)));
	assert_false(rust_demangle(V0_WRITE, small, sizeof(small)));
	assert_false(rust_demangle(LEGACY_WRITE, small, 0));
	/* a name longer than RUST_SYM_MAX is refused */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'N', n);
	memcpy(big, "_R", 2);
	big[n] = '\0';
	assert_false(rust_demangle(big, small, sizeof(small)));
	free(big);
	/* a lengthy component that claims more bytes than there are */
	assert_false(rust_demangle("_ZN99rustlsE", small, sizeof(small)));
	assert_false(rust_demangle("_RNvCs1_3foo999999bar", small, sizeof(small)));
}

/* Every prefix and every one-byte change parses without reading past the name. */
static void t_mutations(void **state)
{
	static const char *const syms[] = { LEGACY_WRITE, LEGACY_VEC, V0_WRITE, V0_VEC };
	static const char subst[] = "_$0129ABNRSXIBCEuhsLK.";
	char out[256];

	(void)state;
	for (size_t s = 0; s < sizeof(syms) / sizeof(syms[0]); s++) {
		size_t len = strlen(syms[s]);

		for (size_t cut = 0; cut < len; cut++) {
			char *p = malloc(cut + 1);

			assert_non_null(p);
			memcpy(p, syms[s], cut);
			p[cut] = '\0';
			(void)rust_demangle(p, out, sizeof(out));
			/* a cut name is never taken for the writer */
			if (cut < len - 1 && syms[s][0] == '_' && syms[s][1] == 'Z')
				assert_int_equal(rustls_writer_fn(p), RUSTLS_FN_NONE);
			free(p);
		}
		for (size_t i = 0; i < len; i++) {
			for (size_t k = 0; k < sizeof(subst) - 1; k++) {
				char *p = strdup(syms[s]);

				assert_non_null(p);
				p[i] = subst[k];
				(void)rust_demangle(p, out, sizeof(out));
				(void)rustls_writer_fn(p);
				free(p);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_legacy),
		cmocka_unit_test(t_v0),
		cmocka_unit_test(t_not_writer),
		cmocka_unit_test(t_bounds),
		cmocka_unit_test(t_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
