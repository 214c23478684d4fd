/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sensor's command line: every option, its TOKENTAP_<OPTION> form,
 * its checks and its --help text, apart from what the options drive.
 */
#ifndef TOKENTAP_SENSOR_OPTIONS_H
#define TOKENTAP_SENSOR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "envflags.h"
#include "shipper.h"

#define EXTRA_NAMES 64  /* --header and --param names, each */

struct sensor_options {
	bool json;
	int interval_s;
	const char *key_file;
	const char *state_dir;
	unsigned max_header_bytes;
	uint32_t pid;
	int verbose;
	bool entry_probes;
	bool quiet;
	const char *collector;            /* the first of collectors, NULL: none */
	struct shipper_urls collectors;   /* every --collector, in order */
	const char *collector_token_file;
	const char *ca_file, *client_cert, *client_key;
	const char *node;
	const char *kube_api, *kube_token_file, *kube_ca_file; /* NULL: from the environment */
	uint64_t spool_max_bytes;
	uint32_t ringbuf_bytes;           /* 0: the BPF object's default */
	int release_interval_s;
	bool no_held;
	const char *revoke_command;
	unsigned revoke_timeout_s;
	const char *uprobe_attach;        /* auto, perf or multi */
	const char *metrics_listen;       /* ADDR:PORT of /metrics, /healthz, /readyz; NULL: none */
	bool gate_exec;             /* hold execs of undecided files until examined */
	unsigned gate_timeout_ms;
	bool hold_unknown_tls;      /* stop a process mapping an undecided TLS library */
	bool java;                  /* load the Java agent into JVMs */
	char *headers[EXTRA_NAMES];  /* lowercase copies, freed at exit */
	size_t n_headers;
	char *params[EXTRA_NAMES];
	size_t n_params;
	struct envflags env;  /* TOKENTAP_<FLAG> variables as arguments; freed at exit */
};

/* The defaults: what the sensor does with no option at all. */
void sensor_options_init(struct sensor_options *o);
/*
 * Reads the TOKENTAP_* environment, then argv. Prints --help or --version
 * and exits; logs the first bad option and returns -1.
 */
int sensor_options_parse(struct sensor_options *o, int argc, char **argv);
void sensor_options_free(struct sensor_options *o);

#endif
