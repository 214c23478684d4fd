/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Held-token scanner: crafted environ and cmdline images (names, tokens
 * inside URLs and options, duplicates, cut and unterminated entries, no
 * false positives on random strings), fingerprints equal to the ones of
 * the same bytes on the wire, a fake /proc tree with an image longer than
 * the read bound, and a real child process holding a token in its
 * environment and in its arguments. Tokens are synthetic (random
 * characters with a valid checksum) and assertions compare fingerprints,
 * types and names only: a failure never prints a token.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "checksum.h"
#include "wipe.h"
#include "held_scan.h"
#include "token_samples.h"

#define IMG_MAX 8192
#define FOUND_MAX 16

static struct fp_key test_key = { .bytes = "heldscan-test-key", .len = 17 };

/* What the callback saw: copies of the non-secret fields. */
struct found {
	enum held_source source;
	char name[HELDSCAN_NAME_MAX];
	char fingerprint[FINGERPRINT_HEX_LEN + 1];
	char type[32];
	char key_id[32];
	bool has_checksum, checksum_valid;
	bool had_jwt;
};

struct found_list {
	struct found items[FOUND_MAX];
	size_t n;
};

static void on_held(void *ctx, const struct held_token *t)
{
	struct found_list *l = ctx;
	struct found *f;

	assert_true(l->n < FOUND_MAX);
	f = &l->items[l->n++];
	f->source = t->source;
	memcpy(f->name, t->name, sizeof(f->name));
	memcpy(f->fingerprint, t->fingerprint, sizeof(f->fingerprint));
	memcpy(f->type, t->info.type, sizeof(f->type));
	memcpy(f->key_id, t->info.key_id, sizeof(f->key_id));
	f->has_checksum = t->info.has_checksum;
	f->checksum_valid = t->info.checksum_valid;
	f->had_jwt = t->info.jwt != NULL;
	/* the name and the metadata never hold the token's secret part */
	assert_int_equal(strnlen(t->name, sizeof(t->name)) < sizeof(t->name), 1);
}

static void fp_of(const char *tok, char out[FINGERPRINT_HEX_LEN + 1])
{
	assert_int_equal(fingerprint_hex(&test_key, tok, strlen(tok), out), 0);
}

/* The report for (source, name), or fails. */
static const struct found *expect(const struct found_list *l, enum held_source src,
				   const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].source == src && strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	fail_msg("no report for %s", name);
	return NULL;
}

/* Appends "s\0" to an image. */
static void put(char *img, size_t *len, const char *s)
{
	size_t n = strlen(s) + 1;

	assert_true(*len + n <= IMG_MAX);
	memcpy(img + *len, s, n);
	*len += n;
}

static void putf(char *img, size_t *len, const char *fmt, const char *a, const char *b)
{
	char entry[1024];

	snprintf(entry, sizeof(entry), fmt, a, b ? b : "");
	put(img, len, entry);
}

static size_t scan(const char *img, size_t len, enum held_source src, struct found_list *l)
{
	memset(l, 0, sizeof(*l));
	return held_scan_buffer(img, len, src, &test_key, on_held, l);
}

static void test_environ_image(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX], pat2[TOK_MAX], bad[TOK_MAX], glpat[TOK_MAX];
	char fp[FINGERPRINT_HEX_LEN + 1];
	struct found_list l;
	const struct found *f;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	build_github(pat2, "ghs_", true);
	build_github(bad, "ghp_", false);
	build(glpat, "glpat-", B64URL, 20);
	put(img, &len, "PATH=/usr/local/bin:/usr/bin:/bin");
	put(img, &len, "HOME=/home/user");
	putf(img, &len, "GITHUB_TOKEN=%s", pat, NULL);
	put(img, &len, "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE");
	putf(img, &len, "GIT_REMOTE=https://x-access-token:%s@github.com/org/repo.git", pat2, NULL);
	putf(img, &len, "CI_AUTH=Bearer %s", glpat, NULL);
	putf(img, &len, "OLD_TOKEN=%s", bad, NULL);
	put(img, &len, "LANG=C.UTF-8");

	assert_int_equal(scan(img, len, HELD_ENVIRON, &l), 5);
	assert_int_equal(l.n, 5);

	f = expect(&l, HELD_ENVIRON, "GITHUB_TOKEN");
	fp_of(pat, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "github_pat");
	assert_true(f->has_checksum && f->checksum_valid);

	f = expect(&l, HELD_ENVIRON, "AWS_ACCESS_KEY_ID");
	fp_of("AKIAIOSFODNN7EXAMPLE", fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "aws_sigv4");
	assert_string_equal(f->key_id, "AKIAIOSFODNN7EXAMPLE");

	f = expect(&l, HELD_ENVIRON, "GIT_REMOTE");
	fp_of(pat2, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "github_app_install");

	f = expect(&l, HELD_ENVIRON, "CI_AUTH");
	fp_of(glpat, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "gitlab_pat");

	/* checksum-invalid: reported, typed, marked */
	f = expect(&l, HELD_ENVIRON, "OLD_TOKEN");
	fp_of(bad, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "github_pat");
	assert_true(f->has_checksum);
	assert_false(f->checksum_valid);
}

/* The fingerprint of a held token is the one of its use on the wire. */
static void test_fingerprint_matches_wire(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX], wire[FINGERPRINT_HEX_LEN + 1];
	struct found_list l;
	struct credential c;
	struct token_info t;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	putf(img, &len, "T=%s", pat, NULL);
	assert_int_equal(scan(img, len, HELD_ENVIRON, &l), 1);
	/* the extractor's credential for "Authorization: token <pat>" is the token's bytes */
	memset(&c, 0, sizeof(c));
	snprintf(c.header, sizeof(c.header), "authorization");
	snprintf(c.scheme, sizeof(c.scheme), "token");
	c.value = pat;
	c.value_len = strlen(pat);
	assert_int_equal(fingerprint_hex(&test_key, c.value, c.value_len, wire), 0);
	assert_string_equal(l.items[0].fingerprint, wire);
	classify_credential(&c, &test_key, &t);
	assert_string_equal(l.items[0].type, t.type);
	token_info_release(&t);
}

static void test_duplicates(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX];
	struct found_list l;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	/* twice in one value: once */
	putf(img, &len, "A=%s,%s", pat, pat);
	/* the same name again (a duplicated variable): still once */
	putf(img, &len, "A=%s", pat, NULL);
	/* another name: reported for that name too */
	putf(img, &len, "B=%s", pat, NULL);
	assert_int_equal(scan(img, len, HELD_ENVIRON, &l), 2);
	assert_string_equal(l.items[0].fingerprint, l.items[1].fingerprint);
	expect(&l, HELD_ENVIRON, "A");
	expect(&l, HELD_ENVIRON, "B");
}

/* Many distinct tokens in one value: every one reported (the seen set grows). */
static size_t counted;

static void count_cb(void *ctx, const struct held_token *t)
{
	(void)ctx;
	assert_string_equal(t->info.type, "github_user_app");
	counted++;
}

static void test_many_distinct(void **state)
{
	static char img[200 * 48];
	char tok[TOK_MAX];
	size_t len = 5;

	(void)state;
	memcpy(img, "MANY=", 5);
	for (int i = 0; i < 200; i++) {
		size_t n = build_github(tok, "ghu_", true);

		memcpy(img + len, tok, n);
		len += n;
		img[len++] = ' ';
	}
	counted = 0;
	assert_int_equal(held_scan_buffer(img, len, HELD_ENVIRON, &test_key, count_cb, NULL), 200);
	assert_int_equal(counted, 200);
}

static void test_cut_and_unterminated(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX], pat2[TOK_MAX];
	struct found_list l;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	build_github(pat2, "gho_", true);
	/* the last entry complete but without its NUL */
	putf(img, &len, "A=%s", pat, NULL);
	putf(img, &len, "B=%s", pat2, NULL);
	assert_int_equal(scan(img, len - 1, HELD_ENVIRON, &l), 2);
	expect(&l, HELD_ENVIRON, "B");
	/* the last entry cut inside its token: too short for any rule */
	assert_int_equal(scan(img, len - 10, HELD_ENVIRON, &l), 1);
	expect(&l, HELD_ENVIRON, "A");
	/* cut inside a name */
	assert_int_equal(scan(img, strlen(pat) + 4, HELD_ENVIRON, &l), 1);
	/* empty and one-byte images */
	assert_int_equal(scan(img, 0, HELD_ENVIRON, &l), 0);
	assert_int_equal(scan("\0", 1, HELD_ENVIRON, &l), 0);
	assert_int_equal(scan("=", 1, HELD_ENVIRON, &l), 0);
	/* NULL arguments */
	assert_int_equal(held_scan_buffer(NULL, 10, HELD_ENVIRON, &test_key, on_held, &l), 0);
	assert_int_equal(held_scan_buffer(img, len, HELD_ENVIRON, NULL, on_held, &l), 0);
	assert_int_equal(held_scan_buffer(img, len, HELD_ENVIRON, &test_key, NULL, &l), 0);
}

static void test_names(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX], name[200];
	struct found_list l;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	/* an unprintable byte and a name longer than the field */
	putf(img, &len, "T\x01K=%s", pat, NULL);
	memset(name, 'N', 150);
	name[150] = '\0';
	putf(img, &len, "%s=%s", name, pat);
	/* no '=': scanned whole, no name */
	putf(img, &len, "%s", pat, NULL);
	/* the value may hold '=' itself */
	putf(img, &len, "OPTS=--token=%s", pat, NULL);
	assert_int_equal(scan(img, len, HELD_ENVIRON, &l), 4);
	expect(&l, HELD_ENVIRON, "T?K");
	name[HELDSCAN_NAME_MAX - 1] = '\0';
	expect(&l, HELD_ENVIRON, name);
	expect(&l, HELD_ENVIRON, "");
	expect(&l, HELD_ENVIRON, "OPTS");
}

static void test_argv_image(void **state)
{
	char img[IMG_MAX], pat[TOK_MAX], xoxb[TOK_MAX], fp[FINGERPRINT_HEX_LEN + 1];
	struct found_list l;
	const struct found *f;
	size_t len = 0;

	(void)state;
	build_github(pat, "ghp_", true);
	build(xoxb, "xoxb-", B64URL, 50);
	put(img, &len, "curl");
	put(img, &len, "");
	putf(img, &len, "-HAuthorization: Bearer %s", xoxb, NULL);
	put(img, &len, "https://api.example.com/");
	putf(img, &len, "--token=%s", pat, NULL);
	/* a NAME=VALUE-looking argument is still one argument */
	putf(img, &len, "GH=%s", pat, NULL);
	assert_int_equal(scan(img, len, HELD_ARGV, &l), 3);
	f = expect(&l, HELD_ARGV, "argv[2]");
	fp_of(xoxb, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "slack_bot");
	f = expect(&l, HELD_ARGV, "argv[4]");
	fp_of(pat, fp);
	assert_string_equal(f->fingerprint, fp);
	f = expect(&l, HELD_ARGV, "argv[5]");
	assert_string_equal(f->fingerprint, fp);
}

static void test_no_false_positives(void **state)
{
	static const char *const words[] = {
		"sk-", "sk-abc", "ghp_", "ghp_short", "AKIA", "AKIA1234", "eyJ",
		"eyJhbGciOiJIUzI1NiJ9", "xoxb-", "hf_", "glpat-", "Bearer", "token=abc", "dapi",
		"npm_", "550e8400-e29b-41d4-a716-446655440000", "LS_COLORS=rs=0:di=01;34:ln=01;36",
		"https://example.com/path?query=1", "/usr/lib/x86_64-linux-gnu",
	};
	char img[IMG_MAX * 4], name[32];
	struct found_list l;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(name, sizeof(name), "W%zu", i);
		putf(img, &len, "%s=%s", name, words[i]);
	}
	/* long random hex and base64: secrets perhaps, but no prefix names them */
	for (int k = 0; k < 12; k++) {
		char v[TOK_MAX];

		build(v, "", k % 3 == 0 ? HEX : k % 3 == 1 ? B64 : B64URL, 40 + 30 * (size_t)k);
		snprintf(name, sizeof(name), "R%d", k);
		putf(img, &len, "%s=%s", name, v);
	}
	assert_int_equal(scan(img, len, HELD_ENVIRON, &l), 0);
	assert_int_equal(scan(img, len, HELD_ARGV, &l), 0);
}

/* ---- /proc ------------------------------------------------------------------ */

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* An environ image longer than the read bound: the entry across the bound is left out. */
static void test_fake_proc_bound(void **state)
{
	char root[] = "/tmp/tokentap-heldscan-XXXXXX", dir[128], path[192];
	char pat[TOK_MAX], pat2[TOK_MAX], fp[FINGERPRINT_HEX_LEN + 1];
	const size_t size = HELDSCAN_MAX_BYTES + 4096;
	char *img = malloc(size);
	struct found_list l;
	size_t len = 0, cut_at;
	int n;

	(void)state;
	assert_non_null(img);
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/77", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	build_github(pat, "ghp_", true);
	build_github(pat2, "ghr_", true);

	len = (size_t)snprintf(img, size, "FIRST=%s", pat) + 1;
	/* padding entries up to 10 bytes before the bound */
	while (len + 64 < HELDSCAN_MAX_BYTES - 10) {
		memcpy(img + len, "PAD=", 4);
		memset(img + len + 4, 'p', 59);
		img[len + 63] = '\0';
		len += 64;
	}
	memset(img + len, 'q', HELDSCAN_MAX_BYTES - 10 - len);
	len = HELDSCAN_MAX_BYTES - 10;
	img[len - 1] = '\0';
	/* this entry crosses the bound: its token would be cut */
	cut_at = len;
	len += (size_t)snprintf(img + len, size - len, "CUT=%s", pat2) + 1;
	assert_true(cut_at < HELDSCAN_MAX_BYTES && len > HELDSCAN_MAX_BYTES);
	snprintf(path, sizeof(path), "%s/environ", dir);
	write_file(path, img, len);
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	write_file(path, "prog\0", 5);

	memset(&l, 0, sizeof(l));
	n = held_scan_pid(root, 77, &test_key, on_held, &l);
	assert_int_equal(n, 1);
	fp_of(pat, fp);
	assert_string_equal(expect(&l, HELD_ENVIRON, "FIRST")->fingerprint, fp);

	/* exactly at the bound, NUL-terminated: nothing is dropped */
	snprintf(path, sizeof(path), "%s/environ", dir);
	write_file(path, img, cut_at);
	memset(&l, 0, sizeof(l));
	assert_int_equal(held_scan_pid(root, 77, &test_key, on_held, &l), 1);

	/* no cmdline: unreadable process */
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	assert_int_equal(unlink(path), 0);
	errno = 0;
	assert_int_equal(held_scan_pid(root, 77, &test_key, on_held, &l), -1);
	assert_int_equal(errno, ENOENT);

	snprintf(path, sizeof(path), "%s/environ", dir);
	unlink(path);
	rmdir(dir);
	rmdir(root);
	secure_wipe(img, size);
	free(img);
}

static void test_pid_gone(void **state)
{
	struct found_list l;

	(void)state;
	memset(&l, 0, sizeof(l));
	errno = 0;
	/* above any pid_max */
	assert_int_equal(held_scan_pid("/proc", UINT32_MAX, &test_key, on_held, &l), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(held_scan_pid("/nonexistent-proc", 1, &test_key, on_held, &l), -1);
	errno = 0;
	assert_int_equal(held_scan_pid(NULL, 1, &test_key, on_held, &l), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(l.n, 0);
}

/* True once pid runs the new program (its cmdline starts with want). */
static bool wait_exec(pid_t pid, const char *want, size_t want_len)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	for (int i = 0; i < 500; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (fd >= 0)
			close(fd);
		if (n >= (ssize_t)want_len && memcmp(buf, want, want_len) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* A real process: a token in its environment and in its arguments. */
static void test_real_process(void **state)
{
	char pat[TOK_MAX], argpat[TOK_MAX], env_tok[TOK_MAX + 16], env_aws[64], arg[TOK_MAX + 16];
	char fp[FINGERPRINT_HEX_LEN + 1];
	struct found_list l;
	const struct found *f;
	pid_t pid;
	int n, status;

	(void)state;
	if (access("/bin/sh", X_OK) != 0 || access("/proc/self/environ", R_OK) != 0)
		skip();
	build_github(pat, "ghp_", true);
	build_github(argpat, "ghs_", true);
	snprintf(env_tok, sizeof(env_tok), "GH_TOKEN=%s", pat);
	snprintf(env_aws, sizeof(env_aws), "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE");
	snprintf(arg, sizeof(arg), "--token=%s", argpat);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* "; exit" keeps the shell (and its arguments) alive rather than exec'ing sleep */
		char *argv[] = { "sh", "-c", "sleep 30; exit 0", "sh", arg, NULL };
		char *envp[] = { "PATH=/usr/bin:/bin", env_tok, env_aws, "LANG=C", NULL };

		setpgid(0, 0);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	if (!wait_exec(pid, "sh\0-c\0sleep 30", 14)) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("child did not start");
	}
	memset(&l, 0, sizeof(l));
	n = held_scan_pid("/proc", (uint32_t)pid, &test_key, on_held, &l);
	kill(-pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	assert_int_equal(n, 3);
	assert_int_equal(l.n, 3);
	f = expect(&l, HELD_ENVIRON, "GH_TOKEN");
	fp_of(pat, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "github_pat");
	assert_true(f->checksum_valid);
	f = expect(&l, HELD_ENVIRON, "AWS_ACCESS_KEY_ID");
	fp_of("AKIAIOSFODNN7EXAMPLE", fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "aws_sigv4");
	assert_string_equal(f->key_id, "AKIAIOSFODNN7EXAMPLE");
	f = expect(&l, HELD_ARGV, "argv[4]");
	fp_of(argpat, fp);
	assert_string_equal(f->fingerprint, fp);
	assert_string_equal(f->type, "github_app_install");

	/* gone once reaped */
	errno = 0;
	assert_int_equal(held_scan_pid("/proc", (uint32_t)pid, &test_key, on_held, &l), -1);
	assert_int_equal(errno, ENOENT);
	secure_wipe(pat, sizeof(pat));
	secure_wipe(argpat, sizeof(argpat));
	secure_wipe(env_tok, sizeof(env_tok));
	secure_wipe(arg, sizeof(arg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environ_image),
		cmocka_unit_test(test_fingerprint_matches_wire),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_many_distinct),
		cmocka_unit_test(test_cut_and_unterminated),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_argv_image),
		cmocka_unit_test(test_no_false_positives),
		cmocka_unit_test(test_fake_proc_bound),
		cmocka_unit_test(test_pid_gone),
		cmocka_unit_test(test_real_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
