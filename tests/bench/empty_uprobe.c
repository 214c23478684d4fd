// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * empty_uprobe - attach a do-nothing uprobe at the entry of SSL_write and
 * SSL_write_ex in libssl for every process, then wait for SIGINT/SIGTERM.
 * It is the "naive floor" the TLS benchmark compares the sensor against.
 * --probe PATH:SYMBOL adds the entry of any function of any file (a Go
 * executable's crypto/tls.(*Conn).Write for the Go benchmark).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "empty_uprobe.skel.h"

#define DEFAULT_LIB "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static const char *const probed_funcs[] = { "SSL_write", "SSL_write_ex" };
#define N_FUNCS (sizeof(probed_funcs) / sizeof(probed_funcs[0]))
#define MAX_EXTRA 8
#define N_LINKS (N_FUNCS + MAX_EXTRA)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [--lib PATH] [--probe PATH:SYMBOL]...\n"
		"Attach an empty uprobe at the entry of SSL_write and SSL_write_ex\n"
		"(all processes) and wait for SIGINT or SIGTERM. Needs root.\n\n"
		"  -l, --lib PATH           libssl to probe (default %s)\n"
		"  -p, --probe PATH:SYMBOL  also the entry of SYMBOL in PATH (up to %d)\n"
		"  -h, --help               show this help\n\n"
		"Example:\n  %s --lib /usr/lib/x86_64-linux-gnu/libssl.so.3 \\\n"
		"      --probe './go_tls_client:crypto/tls.(*Conn).Write'\n",
		prog, DEFAULT_LIB, MAX_EXTRA, prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lib", required_argument, NULL, 'l' },
		{ "probe", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bpf_link *links[N_LINKS] = { NULL };
	const char *paths[N_LINKS], *syms[N_LINKS];
	size_t n = 0, n_extra = 0;
	char *extra[MAX_EXTRA];
	const char *lib = DEFAULT_LIB;
	struct empty_uprobe_bpf *skel;
	struct sigaction sa;
	int opt, ret = 1;
	size_t i;

	while ((opt = getopt_long(argc, argv, "l:p:h", opts, NULL)) != -1) {
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

	skel = empty_uprobe_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_uprobe: load failed: %s\n", strerror(errno));
		return 1;
	}

	for (i = 0; i < N_FUNCS; i++) {
		paths[n] = lib;
		syms[n++] = probed_funcs[i];
	}
	for (i = 0; i < n_extra; i++) {
		char *colon = strrchr(extra[i], ':');

		*colon = '\0';
		paths[n] = extra[i];
		syms[n++] = colon + 1;
	}
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uopts, .func_name = syms[i]);

		/* pid -1: one attachment covers every process mapping the file. */
		links[i] = bpf_program__attach_uprobe_opts(skel->progs.empty_uprobe,
							   -1, paths[i], 0, &uopts);
		if (!links[i]) {
			fprintf(stderr, "empty_uprobe: attach %s in %s failed: %s\n",
				syms[i], paths[i], strerror(errno));
			goto out;
		}
	}

	fprintf(stderr, "empty_uprobe: ready (%zu probes on %s and %zu other files)\n", n, lib,
		n_extra);
	while (!stop)
		pause();
	ret = 0;
out:
	for (i = 0; i < N_LINKS; i++)
		bpf_link__destroy(links[i]);
	empty_uprobe_bpf__destroy(skel);
	return ret;
}
