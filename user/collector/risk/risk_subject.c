/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the risk rules talk about: workloads, destinations, loopback peers,
 * interactive tools and daemons, and which hosts belong to a token type's
 * provider.
 */
#include "risk.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 256

void risk_text(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	if (!dst || cap == 0)
		return;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[i] = '\0';
}

/* risk_text, lowercase. */
static void text_lower(char *dst, size_t cap, const char *src)
{
	risk_text(dst, cap, src);
	for (char *p = dst; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

void risk_workload(const struct risk_proc *p, char *out, size_t cap)
{
	char path[RISK_SUBJECT_MAX];
	char ns[64], kind[32], name[254], ctr[64];

	if (!out || cap == 0)
		return;
	out[0] = '\0';
	if (!p)
		return;
	risk_text(ns, sizeof(ns), p->k8s_namespace);
	risk_text(kind, sizeof(kind), p->workload_kind);
	risk_text(name, sizeof(name), p->workload_name);
	risk_text(ctr, sizeof(ctr), p->container);
	if (ns[0] && kind[0] && name[0]) {
		snprintf(out, cap, ctr[0] ? "k8s:%s/%s/%s:%s" : "k8s:%s/%s/%s", ns, kind, name, ctr);
		return;
	}
	if (!p->exe || !p->exe[0])
		return;
	risk_text(path, sizeof(path), p->exe);
	if (ns[0])
		snprintf(out, cap, "k8s:%s:%s", ns, path);
	else if (p->container_id && p->container_id[0])
		snprintf(out, cap, "container:%s", path);
	else
		snprintf(out, cap, "%s", path);
}

void risk_destination(const char *host, const char *dst, char *out, size_t cap)
{
	if (!out || cap == 0)
		return;
	if (host && host[0])
		text_lower(out, cap, host);
	else
		risk_text(out, cap, dst ? dst : "");
}

/*
 * The address part of "ip", "ip:port", "[v6]", "[v6]:port" or a bare v6
 * address, into buf. false when the shape is wrong or too long.
 */
static bool address_part(const char *s, char *buf, size_t cap)
{
	const char *end, *colon = strchr(s, ':');
	size_t n;

	if (s[0] == '[') {
		s++;
		end = strchr(s, ']');
		if (!end)
			return false;
	} else if (colon && !strchr(colon + 1, ':')) {
		end = colon; /* one colon: ipv4 or name with a port */
	} else {
		end = s + strlen(s);
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= cap)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

bool risk_loopback(const char *dst)
{
	char addr[INET6_ADDRSTRLEN + 8];
	struct in_addr a4;
	struct in6_addr a6;

	if (!dst || !address_part(dst, addr, sizeof(addr)))
		return false;
	if (strcasecmp(addr, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* ---- interactive tools and daemons -------------------------------------- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The program's base name: from exe, else from the command line's first word. */
static void program_name(const char *exe, const char *cmdline, char *out, size_t cap)
{
	char first[RISK_SUBJECT_MAX];
	const char *src = exe && exe[0] ? exe : "";
	size_t n;

	if (!src[0] && cmdline) {
		n = strcspn(cmdline, " ");
		if (n >= sizeof(first))
			n = sizeof(first) - 1;
		memcpy(first, cmdline, n);
		first[n] = '\0';
		src = first;
	}
	risk_text(out, cap, base_name(src));
	/* a deleted executable reads as "/usr/bin/x (deleted)" */
	out[strcspn(out, " ")] = '\0';
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* "python3.11" is "python" followed by a version. */
static bool is_interpreter(const char *name)
{
	static const char *const stems[] = { "python", "node", "nodejs", "ruby", "perl", "php" };

	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		size_t n = strlen(stems[i]);

		if (strncmp(name, stems[i], n) == 0 &&
		    strspn(name + n, "0123456789.") == strlen(name + n))
			return true;
	}
	return false;
}

/*
 * An interpreter reading from a person: no script, module or inline code
 * among its arguments, or an explicit -i. Arguments are space-joined, so a
 * quoted argument with spaces splits into words; only the first word
 * decides, which is enough for the options that matter here.
 */
static bool interpreter_repl(const char *cmdline)
{
	static const char *const code_opts[] = {
		"-c", "-m", "-e", "-p", "-r", "--eval", "--print", "--check", "-",
	};
	const char *p;
	bool script = false;

	if (!cmdline || !cmdline[0])
		return false;
	p = cmdline + strcspn(cmdline, " ");
	while (*p) {
		char word[32];
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
		} else {
			snprintf(word, sizeof(word), "x"); /* long: some script or option value */
		}
		p += n;
		if (strcmp(word, "-i") == 0 || strcmp(word, "--interactive") == 0)
			return true;
		if (in_list(word, code_opts, sizeof(code_opts) / sizeof(code_opts[0])) ||
		    word[0] != '-')
			script = true;
	}
	return !script;
}

/* A path component after marker ends with suffix ("/session-3.scope"). */
static bool component_after(const char *cgroup, const char *marker, const char *suffix)
{
	const char *p = cgroup;
	size_t sl = strlen(suffix);

	while ((p = strstr(p, marker)) != NULL) {
		size_t n;

		p += strlen(marker);
		n = strcspn(p, "/");
		if (n >= sl && memcmp(p + n - sl, suffix, sl) == 0)
			return true;
	}
	return false;
}

bool risk_interactive(const char *exe, const char *cmdline, const char *cgroup)
{
	static const char *const tools[] = {
		"bash", "sh", "dash", "zsh", "fish", "ksh", "tcsh", "csh",
		"curl", "wget", "http", "https", "xh", "httpie",
		"nc", "ncat", "socat", "openssl", "gnutls-cli", "telnet",
		"psql", "mysql", "redis-cli", "irb", "ipython", "ipython3", "jshell",
	};
	char name[128];

	program_name(exe, cmdline, name, sizeof(name));
	if (name[0] && in_list(name, tools, sizeof(tools) / sizeof(tools[0])))
		return true;
	if (name[0] && is_interpreter(name) && interpreter_repl(cmdline))
		return true;
	/* Whatever runs in a login session was started by a person. */
	return cgroup && component_after(cgroup, "/session-", ".scope");
}

bool risk_daemon(const char *exe, const char *cmdline, const char *cgroup)
{
	static const char *const containers[] = {
		"kubepods", "docker-", "/docker/", "containerd", "libpod-", "crio-",
	};

	if (!cgroup || !cgroup[0] || risk_interactive(exe, cmdline, cgroup))
		return false;
	if (component_after(cgroup, "/system.slice/", ".service"))
		return true;
	for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
		if (strstr(cgroup, containers[i]))
			return true;
	return false;
}

/* ---- providers ------------------------------------------------------------ */

bool risk_type_id_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	return n >= 1 && n <= 31 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* An entry's type matches: exact, or "prefix*". */
static bool type_matches(const char *pattern, const char *type)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '*')
		return strncmp(pattern, type, n - 1) == 0;
	return strcmp(pattern, type) == 0;
}

/* host == suffix, or host ends with "." + suffix. */
static bool suffix_matches(const char *host, const char *suffix)
{
	size_t hl = strlen(host), sl = strlen(suffix);

	if (sl == 0 || hl < sl || strcmp(host + hl - sl, suffix) != 0)
		return false;
	return hl == sl || host[hl - sl - 1] == '.';
}

/*
 * host lowercase, without :port and a trailing dot. 0 ok, 1 an IP literal
 * or a name too long to be one, -1 empty.
 */
static int normalize_host(const char *host, char *out, size_t cap)
{
	const char *colon;
	size_t n;
	struct in_addr a4;

	if (!host || !host[0])
		return -1;
	if (host[0] == '[')
		return 1;
	colon = strchr(host, ':');
	if (colon && strchr(colon + 1, ':'))
		return 1; /* a bare IPv6 address */
	n = colon ? (size_t)(colon - host) : strlen(host);
	if (n >= cap)
		return 1;
	for (size_t i = 0; i < n; i++) {
		char ch = host[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	if (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
	if (n == 0)
		return -1;
	if (inet_pton(AF_INET, out, &a4) == 1)
		return 1;
	return 0;
}

int risk_wrong_provider(const struct risk_config *c, const char *type, const char *host)
{
	char h[HOST_MAX];
	bool has_table = false;
	int shape;

	if (!c || !type || !type[0])
		return -1;
	for (size_t i = 0; i < c->n_providers && !has_table; i++)
		has_table = type_matches(c->providers[i].type, type);
	if (!has_table)
		return -1;
	shape = normalize_host(host, h, sizeof(h));
	if (shape != 0)
		return shape;
	for (size_t i = 0; i < c->n_providers; i++)
		if (type_matches(c->providers[i].type, type) &&
		    suffix_matches(h, c->providers[i].suffix))
			return 0;
	return 1;
}
