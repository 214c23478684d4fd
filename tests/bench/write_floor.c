// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * write_floor - attach a bare sys_enter_write tracepoint program that reads
 * 16 bytes of each written buffer, then wait for SIGINT/SIGTERM. It is the
 * floor the non-HTTP write benchmark compares the sensor against.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "tracefs.h"
#include "write_floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s\n"
		"Attach a tracepoint program on syscalls/sys_enter_write that reads\n"
		"16 bytes of the buffer (all processes) and wait for SIGINT or\n"
		"SIGTERM. Mounts tracefs at " TRACEFS " when missing. Needs root.\n\n"
		"  -h, --help   show this help\n\n"
		"Example:\n  %s & ...; kill -INT $!\n",
		prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct write_floor_bpf *skel;
	struct sigaction sa;
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
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

	if (ensure_tracefs("write_floor") != 0)
		return 1;

	skel = write_floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "write_floor: load failed: %s\n", strerror(errno));
		return 1;
	}
	if (write_floor_bpf__attach(skel) != 0) {
		fprintf(stderr, "write_floor: attach failed: %s\n", strerror(errno));
		goto out;
	}

	fprintf(stderr, "write_floor: ready\n");
	while (!stop)
		pause();
	ret = 0;
out:
	write_floor_bpf__destroy(skel);
	return ret;
}
