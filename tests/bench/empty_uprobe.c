// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * empty_uprobe - attach a do-nothing uprobe at the entry of SSL_write and
 * SSL_write_ex in libssl for every process, then wait for SIGINT/SIGTERM.
 * It is the "naive floor" the TLS benchmark compares the sensor against.
 * --probe PATH:SYMBOL adds the entry of any function of any file (a Go
 * executable's crypto/tls.(*Conn).Write for the Go benchmark).
 * --call-site places the libssl probes where tokentap places its own: the
 * same choice (user/elf/probe_site.c), a call inside the function the
 * kernel emulates instead of the entry it single-steps. That is the floor
 * tokentap's TLS probes are compared against. With --call-site, a --probe
 * of a Go function goes where tokentap puts its Go probes too: the jbe of
 * the function's stack check (probe_go_stack_check), emulated, not the
 * entry.
 * --syscalls adds an empty program on each syscall tracepoint the sensor
 * attaches (sys_enter of write, sendto, writev, sendmsg, close, mmap): the
 * floor with the syscall tracepoints' dispatch in it, which the sensor
 * needs for plaintext capture and to bind TLS sessions to sockets.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "empty_uprobe.skel.h"
#include "tracefs.h"
#include "elfsym.h"
#include "probe_site.h"
#include "probepoint.h"

#define DEFAULT_LIB "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static const char *const probed_funcs[] = { "SSL_write", "SSL_write_ex" };
#define N_FUNCS (sizeof(probed_funcs) / sizeof(probed_funcs[0]))
#define MAX_EXTRA 8
/* as bpf/plaintext.bpf.h, bpf/close.bpf.h and bpf/proc.bpf.h attach them */
static const char *const sensor_syscalls[] = {
	"sys_enter_write", "sys_enter_sendto", "sys_enter_writev",
	"sys_enter_sendmsg", "sys_enter_close", "sys_enter_mmap",
};
#define N_SYSCALLS (sizeof(sensor_syscalls) / sizeof(sensor_syscalls[0]))
#define N_LINKS (N_FUNCS + MAX_EXTRA + N_SYSCALLS)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [--lib PATH] [--call-site] [--syscalls] [--probe PATH:SYMBOL]...\n"
		"Attach an empty uprobe at the entry of SSL_write and SSL_write_ex\n"
		"(all processes) and wait for SIGINT or SIGTERM. Needs root.\n\n"
		"  -l, --lib PATH           libssl to probe (default %s)\n"
		"  -c, --call-site          probe SSL_write and SSL_write_ex where tokentap\n"
		"                           does (a call inside them when provably equivalent),\n"
		"                           and each --probe of a Go function at the jbe of its\n"
		"                           stack check, as tokentap's Go probes\n"
		"  -s, --syscalls           also an empty program on each syscall tracepoint\n"
		"                           tokentap attaches (sys_enter of write, sendto,\n"
		"                           writev, sendmsg, close, mmap); mounts tracefs at\n"
		"                           " TRACEFS " when missing\n"
		"  -p, --probe PATH:SYMBOL  also the entry of SYMBOL in PATH (up to %d)\n"
		"  -h, --help               show this help\n\n"
		"Example:\n  %s --lib /usr/lib/x86_64-linux-gnu/libssl.so.3 \\\n"
		"      --probe './go_tls_client:crypto/tls.(*Conn).Write'\n",
		prog, DEFAULT_LIB, MAX_EXTRA, prog);
}

/*
 * File offsets of probed_funcs in lib at tokentap's probe sites (three
 * arguments in their registers, as its SSL_write programs read them).
 */
static int call_site_offsets(const char *lib, uint64_t *offs)
{
	struct elf_func fn[N_FUNCS];
	int found[N_FUNCS] = { 0 };
	uint64_t target;
	char why[96];
	size_t i;

	if (elf_find_funcs(lib, probed_funcs, N_FUNCS, fn, found) < 0) {
		fprintf(stderr, "empty_uprobe: %s is not a readable ELF file\n", lib);
		return -1;
	}
	for (i = 0; i < N_FUNCS; i++) {
		if (!found[i]) {
			fprintf(stderr, "empty_uprobe: no %s in %s\n", probed_funcs[i], lib);
			return -1;
		}
		offs[i] = probe_site_offset(lib, &fn[i], 3, &target, why, sizeof(why));
		fprintf(stderr, "empty_uprobe: %s at +%llu (%s)\n", probed_funcs[i],
			(unsigned long long)(offs[i] - fn[i].offset), why);
	}
	return 0;
}

/*
 * The file offset tokentap's Go probes would use for sym in path: the
 * stack check's jbe when the prologue has one, else 0 (the entry, by name).
 */
static uint64_t go_site_offset(const char *path, const char *sym)
{
	const char *names[1] = { sym };
	struct elf_func fn;
	int found = 0;
	uint8_t code[32];
	uint64_t delta;

	if (elf_find_funcs(path, names, 1, &fn, &found) < 0 || !found ||
	    elf_read_bytes(path, fn.offset, code, sizeof(code)) != (ssize_t)sizeof(code))
		return 0;
	delta = probe_go_stack_check(code, sizeof(code), fn.vaddr);
	fprintf(stderr, "empty_uprobe: %s at +%llu (%s)\n", sym, (unsigned long long)delta,
		delta ? "stack-check jbe" : "entry");
	return delta ? fn.offset + delta : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lib", required_argument, NULL, 'l' },
		{ "probe", required_argument, NULL, 'p' },
		{ "call-site", no_argument, NULL, 'c' },
		{ "syscalls", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bpf_link *links[N_LINKS] = { NULL };
	const char *paths[N_LINKS], *syms[N_LINKS];
	uint64_t offs[N_LINKS] = { 0 };
	bool call_site = false, syscalls = false;
	size_t n = 0, n_extra = 0;
	char *extra[MAX_EXTRA];
	const char *lib = DEFAULT_LIB;
	struct empty_uprobe_bpf *skel;
	struct sigaction sa;
	int opt, ret = 1;
	size_t i;

	while ((opt = getopt_long(argc, argv, "l:p:csh", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			lib = optarg;
			break;
		case 'p':
			/* symbols (Go's included) hold no ':', paths may */
			if (n_extra == MAX_EXTRA || !strrchr(optarg, ':') || strrchr(optarg, ':') == optarg ||
			    !strrchr(optarg, ':')[1]) {
				usage(stderr, argv[0]);
				return 2;
			}
			extra[n_extra++] = optarg;
			break;
		case 'c':
			call_site = true;
			break;
		case 's':
			syscalls = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (syscalls && ensure_tracefs("empty_uprobe") != 0)
		return 1;
	skel = empty_uprobe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_uprobe: load failed: %s\n", strerror(errno));
		return 1;
	}

	for (i = 0; i < N_FUNCS; i++) {
		paths[n] = lib;
		syms[n++] = probed_funcs[i];
	}
	if (call_site && call_site_offsets(lib, offs) != 0)
		goto out;
	for (i = 0; i < n_extra; i++) {
		char *colon = strrchr(extra[i], ':');

		*colon = '\0';
		paths[n] = extra[i];
		syms[n] = colon + 1;
		if (call_site)
			offs[n] = go_site_offset(paths[n], syms[n]);
		n++;
	}
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uopts, .func_name = offs[i] ? NULL : syms[i]);

		/* pid -1: one attachment covers every process mapping the file. */
		links[i] = bpf_program__attach_uprobe_opts(skel->progs.empty_uprobe,
							   -1, paths[i], offs[i], &uopts);
		if (!links[i]) {
			fprintf(stderr, "empty_uprobe: attach %s in %s failed: %s\n",
				syms[i], paths[i], strerror(errno));
			goto out;
		}
	}

	for (i = 0; syscalls && i < N_SYSCALLS; i++) {
		links[n] = bpf_program__attach_tracepoint(skel->progs.empty_tp, "syscalls",
							  sensor_syscalls[i]);
		if (!links[n]) {
			fprintf(stderr, "empty_uprobe: attach syscalls/%s failed: %s\n",
				sensor_syscalls[i], strerror(errno));
			goto out;
		}
		n++;
	}

	fprintf(stderr, "empty_uprobe: ready (%zu probes on %s%s and %zu other files%s)\n",
		n_extra + N_FUNCS, lib, call_site ? " at tokentap's sites" : "", n_extra,
		syscalls ? ", the sensor's syscall tracepoints" : "");
	while (!stop)
		pause();
	ret = 0;
out:
	for (i = 0; i < N_LINKS; i++)
		bpf_link__destroy(links[i]);
	empty_uprobe_bpf__destroy(skel);
	return ret;
}
