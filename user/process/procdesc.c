/* SPDX-License-Identifier: Apache-2.0 */
#include "procdesc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cred.h"
#include "wipe.h"

#define CMDLINE_READ_MAX 65536
#define SMALL_READ_MAX 16384
#define ARG_MAX_WORK 8192
#define MASK "***"

/* Reads at most cap-1 bytes of a file into buf, NUL-terminated; -1 on error. */
static ssize_t read_bounded(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* ---- command line masking --------------------------------------------- */

/* Headers whose value is a credential besides the credential headers tokentap watches. */
static const char *const extra_secret_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
	"x-auth-token", "x-access-token", "private-token", "job-token", "x-vault-token",
	"x-amz-security-token", "x-goog-api-key", "ocp-apim-subscription-key",
};

static bool secret_header(const char *name, size_t len)
{
	const struct cred_config *cfg = cred_config_default();

	for (size_t i = 0; i < sizeof(extra_secret_headers) / sizeof(extra_secret_headers[0]); i++)
		if (strlen(extra_secret_headers[i]) == len &&
		    strncasecmp(extra_secret_headers[i], name, len) == 0)
			return true;
	for (size_t i = 0; i < cfg->n_headers; i++)
		if (strlen(cfg->headers[i]) == len && strncasecmp(cfg->headers[i], name, len) == 0)
			return true;
	/* anything named like a key or token: x-foo-api-key, x-service-token */
	for (size_t i = 0; i + 3 <= len; i++)
		if (strncasecmp(name + i, "key", 3) == 0 || (i + 5 <= len &&
		    (strncasecmp(name + i, "token", 5) == 0 || strncasecmp(name + i, "secret", 6) == 0)))
			return true;
	return false;
}

/* Words that make a flag or variable name a credential holder. */
static const char *const secret_words[] = {
	"token", "password", "passwd", "pwd", "secret", "apikey", "api-key", "api_key",
	"credential", "auth-key", "access-key", "private-key",
};

/* Flags (or NAME=value names) whose value is a credential: --token, --api-key, API_TOKEN. */
static bool secret_name(const char *name, size_t len)
{
	static const char *const not_values[] = { "file", "path", "dir", "env", "name", "id", "type",
						     "stdin" };
	char low[64];

	if (len == 0 || len >= sizeof(low))
		return false;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[len] = '\0';
	/* --token-file /path and TOKEN_ENV=NAME point at a credential, not hold one */
	for (size_t i = 0; i < sizeof(not_values) / sizeof(not_values[0]); i++) {
		size_t l = strlen(not_values[i]);

		if (len > l && strcmp(low + len - l, not_values[i]) == 0 &&
		    (low[len - l - 1] == '-' || low[len - l - 1] == '_'))
			return false;
	}
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
		if (strstr(low, secret_words[i]))
			return true;
	return false;
}

struct token_prefix {
	const char *p;
	size_t min_tail; /* token characters that must follow */
};

/* Prefixes of docs/token-formats.md; the tail length keeps ordinary words unmasked. */
static const struct token_prefix prefixes[] = {
	{ "ghp_", 20 }, { "gho_", 20 }, { "ghu_", 20 }, { "ghs_", 20 }, { "ghr_", 20 },
	{ "github_pat_", 20 }, { "glpat-", 16 }, { "glcbt-", 16 }, { "glrt-", 16 },
	{ "gldt-", 16 }, { "glptt-", 16 }, { "glft-", 16 }, { "glagent-", 16 },
	{ "gloas-", 16 }, { "glsa_", 16 }, { "glc_", 16 }, { "xoxb-", 8 }, { "xoxp-", 8 },
	{ "xoxa-", 8 }, { "xoxr-", 8 }, { "xoxs-", 8 }, { "xoxe", 8 }, { "xapp-", 8 },
	{ "sk_live_", 8 }, { "sk_test_", 8 }, { "rk_live_", 8 }, { "rk_test_", 8 },
	{ "sk-", 16 }, { "AKIA", 16 }, { "ASIA", 16 }, { "ABIA", 16 }, { "ACCA", 16 },
	{ "ABSK", 16 }, { "bedrock-api-key-", 8 }, { "ya29.", 16 }, { "AIza", 30 },
	{ "eyJ", 16 }, { "npm_", 20 }, { "pypi-", 16 }, { "SG.", 16 }, { "shpat_", 16 },
	{ "shpca_", 16 }, { "shppa_", 16 }, { "shpss_", 16 }, { "hvs.", 16 }, { "hvb.", 16 },
	{ "dckr_pat_", 8 }, { "dckr_oat_", 8 }, { "hf_", 16 }, { "api_org_", 16 },
	{ "dapi", 32 }, { "ATATT3", 16 }, { "NRAK-", 16 }, { "NRII-", 16 }, { "dop_v1_", 16 },
	{ "doo_v1_", 16 }, { "dor_v1_", 16 }, { "sntryu_", 16 }, { "sntrys_", 16 },
	{ "cfut_", 16 }, { "cfat_", 16 }, { "ops_eyJ", 16 }, { "lin_api_", 16 },
	{ "PMAK-", 16 }, { "tskey-", 16 }, { "xai-", 16 }, { "gsk_", 16 }, { "r8_", 16 },
	{ "lsv2_pt_", 16 }, { "lsv2_sk_", 16 }, { "pplx-", 16 },
};

static bool token_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '+' || c == '/' || c == '=';
}

/* A known token prefix at a word start, followed by enough token characters. */
static bool contains_token(const char *a, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && isalnum((unsigned char)a[i - 1]))
			continue;
		for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
			size_t pl = strlen(prefixes[k].p), tail = 0;

			if (pl > len - i || memcmp(a + i, prefixes[k].p, pl) != 0)
				continue;
			while (i + pl + tail < len && token_char((unsigned char)a[i + pl + tail]))
				tail++;
			if (tail >= prefixes[k].min_tail)
				return true;
		}
	}
	return false;
}

/*
 * An argument that carries a credential inside a larger text (a script
 * given to python -c or sh -c, a JSON body): an auth scheme followed by a
 * value, or a credential header followed by ':'. The whole argument goes.
 */
static bool mentions_credential(const char *a)
{
	static const char *const marks[] = {
		"bearer ", "basic ", "token ", "ssws ", "authorization:", "authorization\":",
		"authorization':", "x-api-key", "api-key:", "private-token", "x-vault-token",
		"password=", "passwd=", "secret=", "token=", "\"password\"", "\"token\"",
		"\"secret\"", "\"api_key\"", "\"apikey\"",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(a, marks[i]))
			return true;
	return false;
}

/* Masks the password of user:pass@ in URLs: scheme://user:***@host/. */
static void mask_url_userinfo(char *a)
{
	char *p = a;

	while ((p = strstr(p, "://")) != NULL) {
		char *auth = p + 3, *end = auth, *at = NULL, *colon;

		while (*end && *end != '/' && *end != '?' && *end != '#' && !isspace((unsigned char)*end))
			end++;
		for (char *c = auth; c < end; c++)
			if (*c == '@')
				at = c;
		if (at) {
			colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon && at > colon + 1) {
				memmove(colon + 1 + strlen(MASK), at, strlen(at) + 1);
				memcpy(colon + 1, MASK, strlen(MASK));
				end = colon + 1 + strlen(MASK);
			}
		}
		p = end;
	}
}

/* "Name: value" of a -H argument: mask value when Name holds a credential. */
static void mask_header_arg(char *a, size_t cap)
{
	char *colon = strchr(a, ':');
	size_t nl;

	if (!colon)
		return;
	nl = (size_t)(colon - a);
	while (nl > 0 && isspace((unsigned char)a[nl - 1]))
		nl--;
	if (secret_header(a, nl))
		snprintf(colon + 1, cap - (size_t)(colon + 1 - a), " " MASK);
}

/* user:password of curl -u: keep the user name. */
static void mask_userpass_arg(char *a, size_t cap)
{
	char *colon = strchr(a, ':');

	if (colon)
		snprintf(colon + 1, cap - (size_t)(colon + 1 - a), MASK);
	else
		snprintf(a, cap, MASK);
}

enum next_arg {
	NEXT_PLAIN = 0,
	NEXT_HEADER,   /* after -H / --header */
	NEXT_SECRET,   /* after --token and the like */
	NEXT_USERPASS, /* after -u / --user / --proxy-user */
};

/*
 * One argument, masked in place (a has cap bytes, cap > strlen(MASK) + 2).
 * Returns what the following argument is.
 */
static enum next_arg mask_arg(char *a, size_t cap, enum next_arg kind)
{
	enum next_arg next = NEXT_PLAIN;
	size_t len = strlen(a);

	switch (kind) {
	case NEXT_HEADER:
		mask_header_arg(a, cap);
		break;
	case NEXT_SECRET:
		/* "--no-password --verbose": the flag took no value */
		if (strncmp(a, "--", 2) != 0) {
			snprintf(a, cap, MASK);
			return NEXT_PLAIN;
		}
		return mask_arg(a, cap, NEXT_PLAIN);
	case NEXT_USERPASS:
		mask_userpass_arg(a, cap);
		break;
	case NEXT_PLAIN:
		if (strcmp(a, "-H") == 0 || strcmp(a, "--header") == 0 ||
		    strcmp(a, "--proxy-header") == 0)
			return NEXT_HEADER;
		if (strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0 || strcmp(a, "-U") == 0 ||
		    strcmp(a, "--proxy-user") == 0)
			return NEXT_USERPASS;
		if (strncmp(a, "-H", 2) == 0 && len > 2) {
			mask_header_arg(a + 2, cap - 2);
		} else if (strncmp(a, "--header=", 9) == 0) {
			mask_header_arg(a + 9, cap - 9);
		} else if (a[0] == '-' && a[1] == '-') {
			char *eq = strchr(a, '=');
			size_t nl = eq ? (size_t)(eq - a - 2) : len - 2;

			if (secret_name(a + 2, nl)) {
				if (!eq)
					return NEXT_SECRET;
				snprintf(eq + 1, cap - (size_t)(eq + 1 - a), MASK);
			}
		} else if (a[0] != '-') {
			/* API_TOKEN=value as given to env(1) or a shell */
			char *eq = strchr(a, '=');

			if (eq && eq > a && !strstr(a, "://") && secret_name(a, (size_t)(eq - a)))
				snprintf(eq + 1, cap - (size_t)(eq + 1 - a), MASK);
		}
		break;
	}
	mask_url_userinfo(a);
	/* already masked where the value was recognised: keep the readable rest */
	if (contains_token(a, strlen(a)) || (!strstr(a, MASK) && mentions_credential(a)))
		snprintf(a, cap, MASK);
	return next;
}

size_t procdesc_mask_cmdline(const char *args, size_t len, char *out, size_t outcap)
{
	char *work;
	size_t used = 0, pos = 0;
	enum next_arg kind = NEXT_PLAIN;

	if (outcap == 0)
		return 0;
	out[0] = '\0';
	work = malloc(ARG_MAX_WORK);
	if (!work)
		return 0;
	while (pos < len) {
		const char *a = args + pos;
		const char *nul = memchr(a, '\0', len - pos);
		size_t al = nul ? (size_t)(nul - a) : len - pos;
		size_t wl;

		pos += al + 1;
		/* An argument too long to inspect is masked: it could hide anything. */
		if (al + strlen(MASK) + 8 >= ARG_MAX_WORK) {
			snprintf(work, ARG_MAX_WORK, MASK);
			kind = NEXT_PLAIN;
		} else {
			memcpy(work, a, al);
			work[al] = '\0';
			kind = mask_arg(work, ARG_MAX_WORK, kind);
		}
		/* control bytes would garble one-line output */
		for (char *c = work; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		wl = strlen(work);
		if (used > 0 && used + 1 < outcap)
			out[used++] = ' ';
		if (used + wl >= outcap)
			wl = outcap - 1 - used;
		memcpy(out + used, work, wl);
		used += wl;
		out[used] = '\0';
		if (used + 1 >= outcap)
			break;
	}
	/* work held unmasked arguments */
	secure_wipe(work, ARG_MAX_WORK);
	free(work);
	return used;
}

/* ---- cgroup ------------------------------------------------------------- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

void procdesc_container_id(const char *path, char out[65])
{
	static const char *const runtimes[] = { "docker-", "cri-containerd-", "crio-", "libpod-" };
	const char *c = path;

	out[0] = '\0';
	while (c && *c) {
		const char *end;
		size_t n;

		while (*c == '/')
			c++;
		end = strchr(c, '/');
		n = end ? (size_t)(end - c) : strlen(c);
		/* a bare 64-hex component: cgroupfs drivers (/docker/<id>, /kubepods/.../<id>) */
		if (n == 64 && is_hex(c, 64)) {
			memcpy(out, c, 64);
			out[64] = '\0';
		}
		/* systemd drivers: <runtime>-<id>.scope; podman's cgroupfs driver: libpod-<id> */
		for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
			size_t rl = strlen(runtimes[i]);

			if ((n == rl + 64 + 6 || n == rl + 64) && strncmp(c, runtimes[i], rl) == 0 &&
			    is_hex(c + rl, 64) && (n == rl + 64 || strncmp(c + rl + 64, ".scope", 6) == 0)) {
				memcpy(out, c + rl, 64);
				out[64] = '\0';
			}
		}
		c = end;
	}
}

/* 8-4-4-4-12 hex with '-' or '_' separators. */
static bool uuid_at(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-' && s[i] != '_')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

void procdesc_pod_uid(const char *path, char out[37])
{
	const char *p;

	out[0] = '\0';
	if (!strstr(path, "kubepods"))
		return;
	/* kubepods-burstable-pod<uid_with_underscores>.slice or /pod<uid>/ */
	for (p = strstr(path, "pod"); p; p = strstr(p + 1, "pod")) {
		if (strnlen(p + 3, 36) < 36 || !uuid_at(p + 3))
			continue;
		if (p[39] != '\0' && p[39] != '/' && p[39] != '.')
			continue;
		for (int i = 0; i < 36; i++)
			out[i] = p[3 + i] == '_' ? '-' : (char)tolower((unsigned char)p[3 + i]);
		out[36] = '\0';
		return;
	}
}

/* The cgroup v2 line "0::/path" of /proc/PID/cgroup. */
/* The cgroup v2 path from <base>/cgroup ("0::/path"); "" when absent. */
static void read_cgroup_path(const char *base, char *out, size_t outlen)
{
	char path[512], *buf = malloc(SMALL_READ_MAX), *line, *save = NULL;

	out[0] = '\0';
	if (!buf)
		return;
	if (snprintf(path, sizeof(path), "%s/cgroup", base) < (int)sizeof(path) &&
	    read_bounded(path, buf, SMALL_READ_MAX) > 0) {
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, "0::", 3) != 0)
				continue;
			if (strlen(line + 3) < outlen)
				snprintf(out, outlen, "%s", line + 3);
			break;
		}
	}
	free(buf);
}

static void read_cgroup(const char *base, struct procdesc *d)
{
	read_cgroup_path(base, d->cgroup, sizeof(d->cgroup));
}

void procdesc_container(const char *proc_root, uint32_t pid, char container_id[65], char pod_uid[37])
{
	char base[256], cg[PROCDESC_CGROUP_MAX];

	container_id[0] = pod_uid[0] = '\0';
	if (snprintf(base, sizeof(base), "%s/%u", proc_root, pid) >= (int)sizeof(base))
		return;
	read_cgroup_path(base, cg, sizeof(cg));
	procdesc_container_id(cg, container_id);
	procdesc_pod_uid(cg, pod_uid);
}

/*
 * Boot time from the "btime" line of /proc/stat. The "intr" line before it
 * can be very long on big machines: read line by line, bounded in total.
 */
static unsigned long long read_btime(const char *proc_root)
{
	char path[512], chunk[256];
	unsigned long long btime = 0;
	size_t total = 0;
	bool at_start = true;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/stat", proc_root) >= (int)sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (total < 8u << 20 && fgets(chunk, sizeof(chunk), f)) {
		size_t l = strlen(chunk);

		if (at_start && strncmp(chunk, "btime ", 6) == 0) {
			btime = strtoull(chunk + 6, NULL, 10);
			break;
		}
		at_start = l > 0 && chunk[l - 1] == '\n';
		total += l;
	}
	fclose(f);
	return btime;
}

/* Field 22 (starttime, clock ticks after boot) and field 4 (ppid) of /proc/PID/stat. */
static void read_stat(const char *proc_root, const char *base, struct procdesc *d)
{
	char path[512], buf[2048], *p, *save = NULL, *tok;
	unsigned long long start_ticks = 0, btime;
	long tck = sysconf(_SC_CLK_TCK);
	bool found = false;
	int field = 3;

	if (snprintf(path, sizeof(path), "%s/stat", base) >= (int)sizeof(path) ||
	    read_bounded(path, buf, sizeof(buf)) <= 0)
		return;
	/* comm (field 2) may hold spaces and parentheses: fields resume after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 4)
			d->ppid = (uint32_t)strtoul(tok, NULL, 10);
		if (field == 22) {
			start_ticks = strtoull(tok, NULL, 10);
			found = true;
			break;
		}
	}
	btime = read_btime(proc_root);
	if (!found || btime == 0 || tck <= 0 || btime > (unsigned long long)INT64_MAX / 2000 ||
	    start_ticks > (1ULL << 48))
		return;
	d->start_time_ms = (int64_t)(btime * 1000ULL) +
			   (int64_t)(start_ticks / (unsigned long long)tck * 1000ULL +
				     start_ticks % (unsigned long long)tck * 1000ULL / (unsigned long long)tck);
}

/* Real uid: first number of the "Uid:" line of /proc/PID/status. */
static void read_uid(const char *base, struct procdesc *d)
{
	char path[512], buf[4096], *u;

	if (snprintf(path, sizeof(path), "%s/status", base) >= (int)sizeof(path) ||
	    read_bounded(path, buf, sizeof(buf)) <= 0)
		return;
	u = strstr(buf, "\nUid:");
	if (u)
		d->uid = (uint32_t)strtoul(u + 5, NULL, 10);
}

static void read_cmdline(const char *base, struct procdesc *d)
{
	char path[512], *buf = malloc(CMDLINE_READ_MAX);
	ssize_t n;

	if (!buf)
		return;
	if (snprintf(path, sizeof(path), "%s/cmdline", base) < (int)sizeof(path)) {
		n = read_bounded(path, buf, CMDLINE_READ_MAX);
		if (n > 0) {
			/* a command line cut by the read bound loses its (unread) tail only */
			procdesc_mask_cmdline(buf, (size_t)n, d->cmdline, sizeof(d->cmdline));
		}
		if (n > 0)
			secure_wipe(buf, (size_t)n);
	}
	free(buf);
}

/*
 * The Kubernetes namespace of a pod's container: the service-account
 * volume holds it as a file. The path is resolved inside the process's
 * root (RESOLVE_IN_ROOT): images link /var/run to an absolute "/run",
 * which must not lead to the host's /run, and the file itself is a
 * relative symlink into the volume's ..data directory.
 */
static void read_namespace(const char *base, char out[PROCDESC_NAMESPACE_MAX])
{
	static const char *const paths[] = {
		"var/run/secrets/kubernetes.io/serviceaccount/namespace",
		"run/secrets/kubernetes.io/serviceaccount/namespace",
	};
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char root[600], buf[PROCDESC_NAMESPACE_MAX + 1];
	int dir, fd = -1;
	ssize_t n = 0;

	out[0] = '\0';
	if (snprintf(root, sizeof(root), "%s/root", base) >= (int)sizeof(root))
		return;
	dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return;
	for (size_t i = 0; fd < 0 && i < sizeof(paths) / sizeof(paths[0]); i++)
		fd = (int)syscall(SYS_openat2, dir, paths[i], &how, sizeof(how));
	close(dir);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	/* a DNS label: 1..63 of [a-z0-9-]; anything else is not a namespace */
	if (n <= 0 || n > PROCDESC_NAMESPACE_MAX - 1)
		return;
	for (ssize_t i = 0; i < n; i++)
		if (!((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= '0' && buf[i] <= '9') ||
		      buf[i] == '-'))
			return;
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
}

int procdesc_read(const char *proc_root, const char *cgroup_root, uint32_t pid,
		  struct procdesc *out)
{
	char base[512], path[600];
	struct stat st;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (snprintf(base, sizeof(base), "%s/%u", proc_root, pid) >= (int)sizeof(base))
		return -1;
	if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	read_stat(proc_root, base, out);
	read_uid(base, out);
	snprintf(path, sizeof(path), "%s/exe", base);
	n = readlink(path, out->exe, sizeof(out->exe) - 1);
	out->exe[n > 0 ? n : 0] = '\0';
	read_cmdline(base, out);
	read_cgroup(base, out);
	procdesc_container_id(out->cgroup, out->container_id);
	procdesc_pod_uid(out->cgroup, out->pod_uid);
	/* only a pod has one: no extra reads for other processes */
	if (out->pod_uid[0])
		read_namespace(base, out->k8s_namespace);
	if (cgroup_root && out->cgroup[0] == '/' &&
	    snprintf(path, sizeof(path), "%s%s", cgroup_root, out->cgroup) < (int)sizeof(path) &&
	    stat(path, &st) == 0)
		out->cgroup_id = st.st_ino;
	return 0;
}
