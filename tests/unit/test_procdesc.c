/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process descriptions from a fake /proc tree: ids, start time, exe,
 * command-line masking (headers, flags, URL passwords, token prefixes),
 * cgroup path, container id of every runtime naming, Kubernetes pod UID,
 * and no crash on malformed files. Secrets in this file are fake and built
 * at run time; assertions never print them (checks use strstr/strcmp).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "procdesc.h"

static char root[256];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tt-proc-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void put(const char *rel, const void *data, size_t n)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void mkdir_rel(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

/* A fake credential: prefix + n alphanumerics, never a literal in the source. */
static const char *fake(const char *prefix, size_t n)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];
	size_t pl = strlen(prefix);

	memcpy(b, prefix, pl);
	for (size_t i = 0; i < n; i++)
		b[pl + i] = "Ab3dE5gH7jK9mN1pQ2"[i % 18];
	b[pl + n] = '\0';
	return b;
}

/* Masks args (a NULL-terminated list) and returns the joined result. */
static const char *mask(const char *const *args)
{
	static char out[PROCDESC_CMDLINE_MAX];
	char in[8192];
	size_t n = 0;

	for (size_t i = 0; args[i]; i++) {
		size_t l = strlen(args[i]) + 1;

		assert_true(n + l <= sizeof(in));
		memcpy(in + n, args[i], l);
		n += l;
	}
	procdesc_mask_cmdline(in, n, out, sizeof(out));
	return out;
}

#define MASKS_TO(expected, ...)                                              \
	do {                                                                 \
		const char *const a_[] = { __VA_ARGS__, NULL };              \
		assert_true(strcmp(mask(a_), expected) == 0);                \
	} while (0)

static void test_mask_headers(void **state)
{
	char h[512];

	(void)state;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", fake("ghp_", 36));
	MASKS_TO("curl -s -H Authorization: *** https://api.example.com/x",
		 "curl", "-s", "-H", h, "https://api.example.com/x");
	MASKS_TO("curl --header X-Api-Key: *** u", "curl", "--header", "X-Api-Key: opaque-value", "u");
	MASKS_TO("curl -H proxy-authorization: *** u", "curl", "-H", "proxy-authorization:Basic Zm9v", "u");
	MASKS_TO("curl --header=Private-Token: ***", "curl", "--header=Private-Token: abc");
	MASKS_TO("curl -HAuthorization: ***", "curl", "-HAuthorization: token abc");
	MASKS_TO("curl -H X-Custom-Api-Key: ***", "curl", "-H", "X-Custom-Api-Key: v");
	/* ordinary headers stay readable */
	MASKS_TO("curl -H Accept: application/json -H Content-Type: text/plain",
		 "curl", "-H", "Accept: application/json", "-H", "Content-Type: text/plain");
}

static void test_mask_flags(void **state)
{
	(void)state;
	MASKS_TO("app --token=***", "app", "--token=abc123");
	MASKS_TO("app --token *** --verbose", "app", "--token", "abc123", "--verbose");
	MASKS_TO("app --password *** --api-key=*** --client-secret ***", "app", "--password",
		 "hunter2", "--api-key=k", "--client-secret", "s");
	MASKS_TO("app --auth_token=***", "app", "--auth_token=x");
	MASKS_TO("app --DB-PASSWORD ***", "app", "--DB-PASSWORD", "x");
	/* flags that name a file or take no value */
	MASKS_TO("app --token-file /run/secrets/t --password-stdin", "app", "--token-file",
		 "/run/secrets/t", "--password-stdin");
	MASKS_TO("app --no-password --verbose", "app", "--no-password", "--verbose");
	/* variables handed to env(1) */
	MASKS_TO("env API_TOKEN=*** DB_PASSWORD=*** PATH=/usr/bin app", "env", "API_TOKEN=abc",
		 "DB_PASSWORD=x", "PATH=/usr/bin", "app");
	/* curl -u user:password keeps the user */
	MASKS_TO("curl -u alice:*** --user bob:*** -U ***", "curl", "-u", "alice:pw", "--user",
		 "bob:pw2", "-U", "nocolon");
	/* the last flag with nothing after it */
	MASKS_TO("app --token", "app", "--token");
	/* a credential inside a script or a body: the whole argument goes */
	MASKS_TO("python3 -c ***", "python3", "-c",
		 "h.request('GET','/b',headers={'Authorization':'Bearer opaque77'})");
	MASKS_TO("sh -c ***", "sh", "-c", "curl -H 'x-api-key: abc' http://h/");
	MASKS_TO("app ***", "app", "{\"user\": \"a\", \"password\": \"hunter2\"}");
}

static void test_mask_urls(void **state)
{
	(void)state;
	MASKS_TO("git clone https://alice:***@git.example.com/r.git", "git", "clone",
		 "https://alice:s3cret@git.example.com/r.git");
	MASKS_TO("psql postgres://u:***@db:5432/x?sslmode=require", "psql",
		 "postgres://u:pw@db:5432/x?sslmode=require");
	MASKS_TO("x --url=http://a:***@h/ http://b:***@k", "x", "--url=http://a:p@h/",
		 "http://b:q@k");
	/* no password, or an @ only in the path: unchanged */
	MASKS_TO("curl https://user@h/p https://h/a@b", "curl", "https://user@h/p", "https://h/a@b");
}

static void test_mask_prefixes(void **state)
{
	static const char *const prefixes[] = {
		"ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk_live_",
		"sk-proj-", "sk-ant-api03-", "AKIA", "ASIA", "npm_", "hf_", "eyJ", "ya29.",
		"AIza", "dop_v1_", "hvs.", "SG.", "dckr_pat_", "glsa_", "lin_api_",
	};
	char arg[512];
	const char *a[3] = { "tool", arg, NULL };

	(void)state;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		const char *tok = fake(prefixes[i], 40);

		/* the whole argument goes, whatever wraps the token */
		snprintf(arg, sizeof(arg), "%s", tok);
		assert_true(strcmp(mask(a), "tool ***") == 0);
		snprintf(arg, sizeof(arg), "--config=key:%s,x", tok);
		assert_true(strcmp(mask(a), "tool ***") == 0);
		snprintf(arg, sizeof(arg), "{\"k\":\"%s\"}", tok);
		assert_true(strcmp(mask(a), "tool ***") == 0);
	}
	/* prefixes inside words, or too short to be tokens, are not tokens */
	MASKS_TO("app --disk-size=10 --task-abcdefghijklmnopqrstuvwxyz sk-1 eyJ AKIA",
		 "app", "--disk-size=10", "--task-abcdefghijklmnopqrstuvwxyz", "sk-1", "eyJ", "AKIA");
}

static void test_mask_edges(void **state)
{
	char out[64], big[9000];
	const char in[] = "a\0\0b\0";
	const char ctl[] = "x\ty\n\0";
	size_t n;

	(void)state;
	/* empty arguments and the trailing NUL */
	n = procdesc_mask_cmdline(in, sizeof(in) - 1, out, sizeof(out));
	assert_string_equal(out, "a  b");
	assert_int_equal(n, 4);
	n = procdesc_mask_cmdline("", 0, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
	/* no terminating NUL at all */
	procdesc_mask_cmdline("abc", 3, out, sizeof(out));
	assert_string_equal(out, "abc");
	/* control bytes do not break the line */
	procdesc_mask_cmdline(ctl, sizeof(ctl) - 1, out, sizeof(out));
	assert_string_equal(out, "x?y?");
	/* truncated to the output, always terminated */
	memset(big, 'a', sizeof(big));
	big[100] = '\0';
	n = procdesc_mask_cmdline(big, 200, out, sizeof(out));
	assert_int_equal(n, sizeof(out) - 1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	/* an argument too long to inspect is masked whole */
	{
		char o2[PROCDESC_CMDLINE_MAX];

		procdesc_mask_cmdline(big, sizeof(big), o2, sizeof(o2));
		assert_string_equal(o2 + 101, "***");
	}
}

static void test_container_id(void **state)
{
	char id[65], hex[65], p[512];
	static const char *const fmts[] = {
		"/system.slice/docker-%s.scope",
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b3c4d_0000_1111_2222_333344445555.slice/cri-containerd-%s.scope",
		"/kubepods.slice/kubepods-burstable.slice/x/crio-%s.scope",
		"/machine.slice/libpod-%s.scope/container",
		"/libpod_parent/libpod-%s",  /* podman --cgroup-manager=cgroupfs */
		"/docker/%s",
		"/kubepods/besteffort/pod1a2b3c4d-0000-1111-2222-333344445555/%s",
	};

	(void)state;
	for (int i = 0; i < 64; i++)
		hex[i] = "0123456789abcdef"[(i * 7) % 16];
	hex[64] = '\0';
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		snprintf(p, sizeof(p), fmts[i], hex);
		procdesc_container_id(p, id);
		assert_string_equal(id, hex);
	}
	/* not containers: conmon scopes, short or uppercase ids, plain services */
	snprintf(p, sizeof(p), "/machine.slice/libpod-conmon-%s.scope", hex);
	procdesc_container_id(p, id);
	assert_string_equal(id, "");
	procdesc_container_id("/system.slice/docker-abc.scope", id);
	assert_string_equal(id, "");
	snprintf(p, sizeof(p), "/libpod_parent/libpod-%s0", hex);
	procdesc_container_id(p, id);
	assert_string_equal(id, "");
	procdesc_container_id("/system.slice/ssh.service", id);
	assert_string_equal(id, "");
	procdesc_container_id("", id);
	assert_string_equal(id, "");
	snprintf(p, sizeof(p), "/docker/%s", hex);
	p[10] = 'A';
	procdesc_container_id(p, id);
	assert_string_equal(id, "");
}

static void test_pod_uid(void **state)
{
	char uid[37];

	(void)state;
	procdesc_pod_uid("/kubepods.slice/kubepods-burstable.slice/"
			 "kubepods-burstable-pod1a2b3c4d_0000_1111_2222_333344445555.slice/"
			 "cri-containerd-abc.scope", uid);
	assert_string_equal(uid, "1a2b3c4d-0000-1111-2222-333344445555");
	procdesc_pod_uid("/kubepods/besteffort/podAABBCCDD-0000-1111-2222-333344445555/x", uid);
	assert_string_equal(uid, "aabbccdd-0000-1111-2222-333344445555");
	procdesc_pod_uid("/kubepods/pod1a2b3c4d-0000-1111-2222-333344445555", uid);
	assert_string_equal(uid, "1a2b3c4d-0000-1111-2222-333344445555");
	/* outside kubepods, or not a UUID */
	procdesc_pod_uid("/system.slice/pod1a2b3c4d-0000-1111-2222-333344445555", uid);
	assert_string_equal(uid, "");
	procdesc_pod_uid("/kubepods/podman/pod1234", uid);
	assert_string_equal(uid, "");
	procdesc_pod_uid("/kubepods/pod1a2b3c4d-0000-1111-2222-333344445555xyz", uid);
	assert_string_equal(uid, "");
}

static void fake_process(void)
{
	static const char stat[] =
		"4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
		"12345 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
	static const char pstat[] =
		"cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 1 2 3\nctxt 99\nbtime 1700000000\nprocesses 5\n";
	static const char status[] = "Name:\tprog\nUmask:\t0022\nState:\tS\nUid:\t1001\t0\t0\t0\nGid:\t5\n";
	static const char cgroup[] =
		"12:pids:/ignored\n0::/system.slice/docker-"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n";
	char cmd[512], p[512];
	size_t n = 0;
	const char *args[] = { "curl", "-H", NULL, "https://a:pw@h/" };
	char hdr[200];

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", fake("ghp_", 36));
	args[2] = hdr;
	for (size_t i = 0; i < 4; i++) {
		memcpy(cmd + n, args[i], strlen(args[i]) + 1);
		n += strlen(args[i]) + 1;
	}
	mkdir_rel("4242");
	put("stat", pstat, sizeof(pstat) - 1);
	put("4242/stat", stat, sizeof(stat) - 1);
	put("4242/status", status, sizeof(status) - 1);
	put("4242/cgroup", cgroup, sizeof(cgroup) - 1);
	put("4242/cmdline", cmd, n);
	snprintf(p, sizeof(p), "%s/4242/exe", root);
	assert_int_equal(symlink("/usr/bin/curl", p), 0);
	mkdir_rel("cg");
	mkdir_rel("cg/system.slice");
	mkdir_rel("cg/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
}

static void test_read(void **state)
{
	struct procdesc d;
	char cgroot[512], p[1100];
	struct stat st;
	long tck = sysconf(_SC_CLK_TCK);

	(void)state;
	fake_process();
	snprintf(cgroot, sizeof(cgroot), "%s/cg", root);
	assert_int_equal(procdesc_read(root, cgroot, 4242, &d), 0);
	assert_int_equal(d.pid, 4242);
	assert_int_equal(d.ppid, 17);
	assert_int_equal(d.uid, 1001);
	assert_int_equal(d.start_time_ms, 1700000000000LL + 12345LL * 1000 / tck);
	assert_string_equal(d.exe, "/usr/bin/curl");
	assert_true(strcmp(d.cmdline, "curl -H Authorization: *** https://a:***@h/") == 0);
	assert_string_equal(d.cgroup, "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	assert_string_equal(d.container_id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_string_equal(d.pod_uid, "");
	snprintf(p, sizeof(p), "%s%s", cgroot, d.cgroup);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(d.cgroup_id, st.st_ino);

	/* without a cgroup root the id is unknown */
	assert_int_equal(procdesc_read(root, NULL, 4242, &d), 0);
	assert_int_equal(d.cgroup_id, 0);
	/* a process that is gone */
	assert_int_equal(procdesc_read(root, NULL, 999, &d), -1);
}

/*
 * A pod's namespace comes from its service-account volume, resolved
 * inside the process's root: the image's absolute /var/run -> /run link
 * must not escape to the host, the file is a link into ..data.
 */
static void test_pod_namespace(void **state)
{
	static const char cgroup[] =
		"0::/kubepods/besteffort/pod1a2b3c4d-0000-1111-2222-333344445555/"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
	static const char *const dirs[] = {
		"5150", "5150/root", "5150/root/var", "5150/root/run", "5150/root/run/secrets",
		"5150/root/run/secrets/kubernetes.io",
		"5150/root/run/secrets/kubernetes.io/serviceaccount",
		"5150/root/run/secrets/kubernetes.io/serviceaccount/..data",
	};
	struct procdesc d;
	char p[512];

	(void)state;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir_rel(dirs[i]);
	put("5150/cgroup", cgroup, sizeof(cgroup) - 1);
	snprintf(p, sizeof(p), "%s/5150/root/var/run", root);
	assert_int_equal(symlink("/run", p), 0);
	put("5150/root/run/secrets/kubernetes.io/serviceaccount/..data/namespace", "payments", 8);
	snprintf(p, sizeof(p), "%s/5150/root/run/secrets/kubernetes.io/serviceaccount/namespace",
		 root);
	assert_int_equal(symlink("..data/namespace", p), 0);
	assert_int_equal(procdesc_read(root, NULL, 5150, &d), 0);
	assert_string_equal(d.pod_uid, "1a2b3c4d-0000-1111-2222-333344445555");
	assert_string_equal(d.k8s_namespace, "payments");

	/* not a DNS label: not a namespace */
	put("5150/root/run/secrets/kubernetes.io/serviceaccount/..data/namespace", "Bad NS\n", 7);
	assert_int_equal(procdesc_read(root, NULL, 5150, &d), 0);
	assert_string_equal(d.k8s_namespace, "");

	/* outside a pod the file is not even looked for */
	put("5150/root/run/secrets/kubernetes.io/serviceaccount/..data/namespace", "payments", 8);
	put("5150/cgroup", "0::/system.slice/x.service\n", 27);
	assert_int_equal(procdesc_read(root, NULL, 5150, &d), 0);
	assert_string_equal(d.k8s_namespace, "");
}

/* Missing and malformed files give empty fields, never a crash. */
static void test_malformed(void **state)
{
	struct procdesc d;
	char junk[3000];

	(void)state;
	mkdir_rel("7");
	assert_int_equal(procdesc_read(root, NULL, 7, &d), 0);
	assert_int_equal(d.pid, 7);
	assert_int_equal(d.start_time_ms, 0);
	assert_string_equal(d.exe, "");
	assert_string_equal(d.cmdline, "");
	assert_string_equal(d.cgroup, "");

	put("7/stat", "7 (no closing paren S 1 2 3", 27);
	put("7/status", "Uid:", 4);
	put("7/cgroup", "0::", 3);
	put("stat", "btime x\n", 8);
	assert_int_equal(procdesc_read(root, NULL, 7, &d), 0);
	assert_int_equal(d.start_time_ms, 0);
	put("7/stat", "7 (p) S 1 2", 11);  /* too few fields */
	assert_int_equal(procdesc_read(root, NULL, 7, &d), 0);
	assert_int_equal(d.start_time_ms, 0);
	assert_int_equal(d.ppid, 1);
	/* a cgroup path longer than kept: dropped, not cut */
	memset(junk, 'a', sizeof(junk));
	memcpy(junk, "0::/", 4);
	put("7/cgroup", junk, sizeof(junk));
	assert_int_equal(procdesc_read(root, NULL, 7, &d), 0);
	assert_string_equal(d.cgroup, "");
	/* binary garbage everywhere */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	put("7/stat", junk, sizeof(junk));
	put("7/status", junk, sizeof(junk));
	put("7/cmdline", junk, sizeof(junk));
	put("7/cgroup", junk, sizeof(junk));
	put("stat", junk, sizeof(junk));
	assert_int_equal(procdesc_read(root, NULL, 7, &d), 0);
	assert_true(strlen(d.cmdline) < sizeof(d.cmdline));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_headers),
		cmocka_unit_test(test_mask_flags),
		cmocka_unit_test(test_mask_urls),
		cmocka_unit_test(test_mask_prefixes),
		cmocka_unit_test(test_mask_edges),
		cmocka_unit_test(test_container_id),
		cmocka_unit_test(test_pod_uid),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pod_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
