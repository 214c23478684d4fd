/* SPDX-License-Identifier: Apache-2.0 */
#include "rustsym.h"

#include <stdint.h>
#include <string.h>

/* Nesting of paths, types and back references; deeper is refused. */
#define DEPTH_MAX 48

struct out {
	char *p;        /* NULL: parse only, print nothing */
	size_t cap, len;
	bool ok;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->p)
		return;
	if (!o->ok || n >= o->cap - o->len) {
		o->ok = false;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* ---- legacy: _ZN <len><component>... E ---- */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The last component of a legacy name: h + 16 hex digits, the hash. */
static bool is_hash(const char *s, size_t n)
{
	if (n != 17 || s[0] != 'h')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static const struct {
	const char *esc;
	char c;
} legacy_esc[] = {
	{ "$LT$", '<' }, { "$GT$", '>' }, { "$RF$", '&' }, { "$BP$", '*' }, { "$LP$", '(' },
	{ "$RP$", ')' }, { "$C$", ',' },  { "$SP$", '@' },
};

/* One component, its $..$ escapes and ".." path separators decoded. */
static bool legacy_component(struct out *o, const char *s, size_t n)
{
	size_t i = 0;

	/* a component that would start with '$' is written "_$" */
	if (n >= 2 && s[0] == '_' && s[1] == '$')
		i = 1;
	while (i < n && o->ok) {
		if (s[i] == '.') {
			if (i + 1 < n && s[i + 1] == '.') {
				put(o, "::", 2);
				i += 2;
			} else {
				put(o, ".", 1);
				i++;
			}
			continue;
		}
		if (s[i] != '$') {
			put(o, s + i, 1);
			i++;
			continue;
		}
		bool done = false;

		for (size_t k = 0; k < sizeof(legacy_esc) / sizeof(legacy_esc[0]); k++) {
			size_t el = strlen(legacy_esc[k].esc);

			if (n - i >= el && memcmp(s + i, legacy_esc[k].esc, el) == 0) {
				put(o, &legacy_esc[k].c, 1);
				i += el;
				done = true;
				break;
			}
		}
		if (done)
			continue;
		/* $uXX$: one printable ASCII character by its hex code */
		if (n - i >= 5 && s[i + 1] == 'u' && is_hex(s[i + 2]) && is_hex(s[i + 3]) && s[i + 4] == '$') {
			unsigned v = 0;

			for (int k = 2; k <= 3; k++)
				v = v * 16 + (unsigned)(s[i + k] <= '9' ? s[i + k] - '0' : s[i + k] - 'a' + 10);
			if (v < 0x20 || v > 0x7e)
				return false;
			char c = (char)v;

			put(o, &c, 1);
			i += 5;
			continue;
		}
		return false;
	}
	return o->ok;
}

static bool demangle_legacy(const char *s, struct out *o)
{
	bool first = true;

	/* s is past "_ZN" */
	while (*s != 'E') {
		size_t n = 0;

		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (size_t)(*s - '0');
			if (n > RUST_SYM_MAX)
				return false;
			s++;
		}
		if (n == 0 || strnlen(s, n) < n)
			return false;
		/* the hash is the last component: drop it */
		if (s[n] == 'E' && is_hash(s, n) && !first)
			break;
		if (!first)
			put(o, "::", 2);
		if (!legacy_component(o, s, n))
			return false;
		first = false;
		s += n;
	}
	return !first && o->ok;
}

/* ---- v0: _R <path> [<instantiating crate>] ---- */

struct v0 {
	const char *sym; /* past "_R" */
	size_t len, pos;
	int depth;
};

static bool v0_path(struct v0 *p, struct out *o);
static bool v0_type(struct v0 *p, struct out *o);

static bool peek(const struct v0 *p, char c)
{
	return p->pos < p->len && p->sym[p->pos] == c;
}

static bool eat(struct v0 *p, char c)
{
	if (!peek(p, c))
		return false;
	p->pos++;
	return true;
}

/* <base-62-number>: "_" is 0, else digits 0-9a-zA-Z then "_" for value + 1 */
static bool base62(struct v0 *p, uint64_t *v)
{
	uint64_t x = 0;

	if (eat(p, '_')) {
		*v = 0;
		return true;
	}
	while (p->pos < p->len && p->sym[p->pos] != '_') {
		char c = p->sym[p->pos++];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'z')
			d = 10 + (unsigned)(c - 'a');
		else if (c >= 'A' && c <= 'Z')
			d = 36 + (unsigned)(c - 'A');
		else
			return false;
		if (x > (UINT64_MAX - d) / 62)
			return false;
		x = x * 62 + d;
	}
	if (!eat(p, '_') || x == UINT64_MAX)
		return false;
	*v = x + 1;
	return true;
}

/* [s <base-62-number>]: a disambiguator, not printed */
static bool opt_disambiguator(struct v0 *p)
{
	uint64_t v;

	return !eat(p, 's') || base62(p, &v);
}

/* <identifier> = [<disambiguator>] [u] <decimal> [_] <bytes> */
static bool v0_ident(struct v0 *p, const char **s, size_t *n)
{
	size_t len = 0;

	if (!opt_disambiguator(p) || peek(p, 'u'))
		return false; /* punycode: not a path we look for */
	if (p->pos >= p->len || p->sym[p->pos] < '0' || p->sym[p->pos] > '9')
		return false;
	if (p->sym[p->pos] == '0') {
		p->pos++;
	} else {
		while (p->pos < p->len && p->sym[p->pos] >= '0' && p->sym[p->pos] <= '9') {
			len = len * 10 + (size_t)(p->sym[p->pos++] - '0');
			if (len > RUST_SYM_MAX)
				return false;
		}
	}
	eat(p, '_');
	if (len > p->len - p->pos)
		return false;
	*s = p->sym + p->pos;
	*n = len;
	p->pos += len;
	return true;
}

/* B <base-62-number>: parse again at an earlier position, then come back */
static bool v0_backref(struct v0 *p, struct out *o, bool (*fn)(struct v0 *, struct out *))
{
	size_t start = p->pos - 1;
	uint64_t at;
	bool ok;

	if (!base62(p, &at) || at >= start)
		return false;
	struct v0 q = { .sym = p->sym, .len = p->len, .pos = (size_t)at, .depth = p->depth };

	ok = fn(&q, o);
	return ok;
}

static bool v0_lifetime(struct v0 *p, struct out *o)
{
	uint64_t v;

	if (!base62(p, &v))
		return false;
	puts_(o, "'_");
	return true;
}

/* <const>: an integer, bool or char constant (array lengths), "p", or a back reference */
static bool v0_const(struct v0 *p, struct out *o)
{
	if (eat(p, 'p')) {
		puts_(o, "_");
		return true;
	}
	if (eat(p, 'B'))
		return v0_backref(p, o, v0_const);
	if (p->pos >= p->len || !strchr("hijmnostxyabcl", p->sym[p->pos]))
		return false;
	p->pos++;
	eat(p, 'n');
	size_t start = p->pos;

	while (p->pos < p->len && is_hex(p->sym[p->pos]))
		p->pos++;
	put(o, "0x", 2);
	put(o, p->sym + start, p->pos - start);
	return eat(p, '_');
}

static const char *basic_type(char c)
{
	switch (c) {
	case 'a': return "i8";
	case 'b': return "bool";
	case 'c': return "char";
	case 'd': return "f64";
	case 'e': return "str";
	case 'f': return "f32";
	case 'h': return "u8";
	case 'i': return "isize";
	case 'j': return "usize";
	case 'l': return "i32";
	case 'm': return "u32";
	case 'n': return "i128";
	case 'o': return "u128";
	case 's': return "i16";
	case 't': return "u16";
	case 'u': return "()";
	case 'v': return "...";
	case 'x': return "i64";
	case 'y': return "u64";
	case 'z': return "!";
	case 'p': return "_";
	default: return NULL;
	}
}

static bool v0_type(struct v0 *p, struct out *o)
{
	const char *basic;
	bool ok = false;
	char c;

	if (p->pos >= p->len || ++p->depth > DEPTH_MAX)
		return false;
	c = p->sym[p->pos];
	basic = basic_type(c);
	if (basic) {
		p->pos++;
		puts_(o, basic);
		p->depth--;
		return true;
	}
	switch (c) {
	case 'R':
	case 'Q':
		p->pos++;
		puts_(o, c == 'R' ? "&" : "&mut ");
		if (eat(p, 'L')) {
			if (!v0_lifetime(p, o))
				break;
			puts_(o, " ");
		}
		ok = v0_type(p, o);
		break;
	case 'P':
	case 'O':
		p->pos++;
		puts_(o, c == 'P' ? "*const " : "*mut ");
		ok = v0_type(p, o);
		break;
	case 'S':
		p->pos++;
		puts_(o, "[");
		ok = v0_type(p, o);
		puts_(o, "]");
		break;
	case 'A':
		p->pos++;
		puts_(o, "[");
		ok = v0_type(p, o);
		puts_(o, "; ");
		ok = ok && v0_const(p, o);
		puts_(o, "]");
		break;
	case 'T':
		p->pos++;
		puts_(o, "(");
		ok = true;
		for (int i = 0; ok && !eat(p, 'E'); i++) {
			if (i)
				puts_(o, ", ");
			ok = v0_type(p, o);
		}
		puts_(o, ")");
		break;
	case 'B':
		p->pos++;
		ok = v0_backref(p, o, v0_type);
		break;
	case 'C':
	case 'N':
	case 'M':
	case 'X':
	case 'Y':
	case 'I':
		ok = v0_path(p, o);
		break;
	default:
		/* F (fn pointers), D (dyn): not in the paths we look for */
		break;
	}
	p->depth--;
	return ok && o->ok;
}

static bool v0_generic_arg(struct v0 *p, struct out *o)
{
	if (eat(p, 'L'))
		return v0_lifetime(p, o);
	if (eat(p, 'K'))
		return v0_const(p, o);
	return v0_type(p, o);
}

static bool v0_path(struct v0 *p, struct out *o)
{
	const char *id = NULL;
	size_t n = 0;
	bool ok = false;
	char c;

	if (p->pos >= p->len || ++p->depth > DEPTH_MAX)
		return false;
	c = p->sym[p->pos++];
	switch (c) {
	case 'C': /* crate root */
		ok = v0_ident(p, &id, &n);
		if (ok)
			put(o, id, n);
		break;
	case 'N': { /* namespace: lowercase ones are unnamed (closures, shims) */
		char ns;

		if (p->pos >= p->len)
			break;
		ns = p->sym[p->pos++];
		if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z')) || !v0_path(p, o) ||
		    !v0_ident(p, &id, &n))
			break;
		puts_(o, "::");
		/* lowercase: internal namespaces, named by the identifier; uppercase: special */
		if (ns >= 'a' && ns <= 'z') {
			put(o, id, n);
		} else {
			puts_(o, ns == 'C' ? "{closure" : ns == 'S' ? "{shim" : "{");
			if (n) {
				puts_(o, ":");
				put(o, id, n);
			}
			puts_(o, "}");
		}
		ok = true;
		break;
	}
	case 'M': /* <T> */
	case 'X': /* <T as Trait> */
	case 'Y': { /* <T as Trait> of the trait's definition */
		/* the impl's own path (where it is written) is not printed */
		if (c != 'Y') {
			struct out so = { .p = NULL, .ok = true };

			if (!opt_disambiguator(p) || !v0_path(p, &so))
				break;
		}
		puts_(o, "<");
		if (!v0_type(p, o))
			break;
		if (c != 'M') {
			puts_(o, " as ");
			if (!v0_path(p, o))
				break;
		}
		puts_(o, ">");
		ok = true;
		break;
	}
	case 'I': /* generic arguments */
		if (!v0_path(p, o))
			break;
		puts_(o, "<");
		ok = true;
		for (int i = 0; ok && !eat(p, 'E'); i++) {
			if (i)
				puts_(o, ", ");
			ok = v0_generic_arg(p, o);
		}
		puts_(o, ">");
		break;
	case 'B':
		ok = v0_backref(p, o, v0_path);
		break;
	default:
		break;
	}
	p->depth--;
	return ok && o->ok;
}

static bool demangle_v0(const char *s, struct out *o)
{
	struct v0 p = { .sym = s, .len = strlen(s) };

	/* an optional encoding version: only 0 (absent) exists */
	if (p.len && s[0] >= '0' && s[0] <= '9')
		return false;
	/* the instantiating crate and a vendor suffix may follow: not printed */
	return v0_path(&p, o);
}

bool rust_demangle(const char *sym, char *out, size_t cap)
{
	struct out o = { .p = out, .cap = cap, .ok = cap > 0 };

	if (!sym || !out || cap == 0 || strnlen(sym, RUST_SYM_MAX + 1) > RUST_SYM_MAX)
		return false;
	out[0] = '\0';
	if (strncmp(sym, "_ZN", 3) == 0)
		return demangle_legacy(sym + 3, &o);
	if (strncmp(sym, "_R", 2) == 0)
		return demangle_v0(sym + 2, &o);
	return false;
}

/* Identifier characters and "::" only: one plain path. */
static bool plain_path(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ':' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		return false;
	}
	return true;
}

enum rustls_writer_fn rustls_writer_fn(const char *sym)
{
	static const char head[] = "<rustls::";
	static const char tail[] = "::Writer as std::io::Write>::";
	char path[512];
	const char *t, *fn;

	/* cheap filter: both manglings spell the crate and the type literally */
	if (!sym || !strstr(sym, "rustls") || !strstr(sym, "Writer"))
		return RUSTLS_FN_NONE;
	if (!rust_demangle(sym, path, sizeof(path)) || strncmp(path, head, sizeof(head) - 1) != 0)
		return RUSTLS_FN_NONE;
	t = strstr(path, tail);
	/* rustls::Writer (no module) is possible too: the tail then starts right after "<rustls" */
	if (!t && strncmp(path + sizeof(head) - 3, tail, sizeof(tail) - 1) == 0)
		t = path + sizeof(head) - 3;
	if (!t || (t >= path + sizeof(head) - 1 &&
		   !plain_path(path + sizeof(head) - 1, (size_t)(t - path) - (sizeof(head) - 1))))
		return RUSTLS_FN_NONE;
	fn = t + sizeof(tail) - 1;
	if (strcmp(fn, "write") == 0)
		return RUSTLS_FN_WRITE;
	if (strcmp(fn, "write_vectored") == 0)
		return RUSTLS_FN_WRITE_VECTORED;
	return RUSTLS_FN_NONE;
}
