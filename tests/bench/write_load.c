// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * write_load - time COUNT write() calls of SIZE non-HTTP bytes to /dev/null
 * and print the mean cost of one call. It measures what a write tracepoint
 * adds to the writes that are not HTTP, the overwhelming majority. With
 * --tls-record --udp each write opens with a TLS application-data record
 * header and goes to a loopback UDP socket: the blind-spot check's path
 * for a process no TLS probe covers (bpf/uncovered.bpf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 4096

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-n COUNT] [-s SIZE] [-w WARMUP] [--tls-record] [--udp]\n"
		"Time COUNT write() calls of SIZE bytes to /dev/null; print\n"
		"\"ns_per_op=<mean ns per write>\" on stdout.\n\n"
		"  -n, --count N    timed writes (default 1000000)\n"
		"  -s, --size N     bytes per write, 1..%d (default 64)\n"
		"  -w, --warmup N   untimed writes first (default 10000)\n"
		"  -t, --tls-record each write starts with a TLS application-data record\n"
		"                   header (SIZE at least 5)\n"
		"  -u, --udp        write to a loopback UDP socket (datagrams nobody reads\n"
		"                   are dropped) instead of /dev/null\n"
		"  -h, --help       show this help\n\n"
		"Example:\n  %s -n 1000000 -s 64 --tls-record --udp\n",
		prog, MAX_SIZE, prog);
}

static int parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_n(int fd, const char *buf, size_t size, long n)
{
	for (long i = 0; i < n; i++) {
		if (write(fd, buf, size) != (ssize_t)size) {
			perror("write_load: write");
			return -1;
		}
	}
	return 0;
}

/* A UDP socket connected to another bound on loopback: writes never block. */
static int udp_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), tx;

	if (rx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(rx, (struct sockaddr *)&a, &len) < 0)
		return -1;
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tx < 0 || connect(tx, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return tx;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "tls-record", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long count = 1000000, size = 64, warmup = 10000;
	char buf[MAX_SIZE];
	long long t0, t1;
	int opt, fd, tls = 0, udp = 0;

	while ((opt = getopt_long(argc, argv, "n:s:w:tuh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_count(optarg, 1, 1000000000L, &count))
				goto bad;
			break;
		case 's':
			if (parse_count(optarg, 1, MAX_SIZE, &size))
				goto bad;
			break;
		case 'w':
			if (parse_count(optarg, 0, 1000000000L, &warmup))
				goto bad;
			break;
		case 't':
			tls = 1;
			break;
		case 'u':
			udp = 1;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || (tls && size < 5))
		goto bad;

	/* Binary-looking bytes: no HTTP method, so a filter rejects them early. */
	for (long i = 0; i < size; i++)
		buf[i] = (char)(0x80 | (i & 0x3f));
	if (tls) {
		/* type 0x17, version 0x0303, a 200-byte record: what an unprobed TLS client sends */
		memcpy(buf, "\x17\x03\x03\x00\xc8", 5);
	}

	fd = udp ? udp_socket() : open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(udp ? "write_load: UDP socket" : "write_load: open /dev/null");
		return 1;
	}
	if (write_n(fd, buf, (size_t)size, warmup))
		return 1;
	t0 = now_ns();
	if (write_n(fd, buf, (size_t)size, count))
		return 1;
	t1 = now_ns();
	close(fd);

	printf("ns_per_op=%.2f count=%ld size=%ld\n",
	       (double)(t1 - t0) / (double)count, count, size);
	return 0;
bad:
	usage(stderr, argv[0]);
	return 2;
}
