/* SPDX-License-Identifier: Apache-2.0 */
/* tokentap-collector: receives sensor batches and answers inventory queries. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "serve_cmd.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tokentap-collector COMMAND [options]\n"
		"\n"
		"Commands:\n"
		"  serve     receive sensor batches and serve the JSON API\n"
		"  tokens    list the token inventory\n"
		"  token     the forensics view of one token (FINGERPRINT)\n"
		"  sensors   list the sensors that reported\n"
		"  coverage  what the sensors cannot see: TLS senders not covered, and why\n"
		"  top       live view of the inventory\n"
		"  alerts    the risk engine's findings, newest first\n"
		"  evaluate  run the risk engine once over a database\n"
		"\n"
		"tokentap-collector COMMAND --help describes a command. Every command takes\n"
		"--log-format text|json: diagnostics on stderr as text lines (default) or as\n"
		"one JSON object per line.\n"
		"\n"
		"Examples:\n"
		"  tokentap-collector serve --listen 127.0.0.1:7733 --db ./state/collector.db \\\n"
		"      --auth-file ./state/sensor-tokens\n"
		"  tokentap-collector tokens --url http://127.0.0.1:7733 --sort risk\n"
		"  tokentap-collector alerts --db ./state/collector.db --min-severity high\n"
		"  tokentap-collector top --db ./state/collector.db\n");
}

int main(int argc, char **argv)
{
	/* the commands set the format from --log-format */
	log_setup("tokentap-collector", LOG_FORMAT_TEXT);
	/* the collector's text lines have never named their level */
	log_text_levels(false);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("tokentap-collector %s\n", TOKENTAP_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	if (cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1, stdout, stderr);
	log_error("unknown command \"%s\"", argv[1]);
	usage(stderr);
	return 2;
}
