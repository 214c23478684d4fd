/* SPDX-License-Identifier: Apache-2.0 */
/* The sensor's options: defaults, parsing and checks, --help. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cred.h"
#include "exec_gate.h"
#include "kube_config.h"
#include "log.h"
#include "metrics_server.h"
#include "numarg.h"
#include "sensor_options.h"
#include "tokentap.h"

#ifndef TOKENTAP_VERSION
#define TOKENTAP_VERSION "0"
#endif

static const char usage[] =
"Usage: tokentap [OPTION]...\n"
"See every API credential (Authorization and API-key headers, credential query\n"
"parameters) that leaves the processes of this host in HTTP/1 or HTTP/2 over\n"
"TLS (OpenSSL/BoringSSL, GnuTLS, NSS, Go crypto/tls, rustls) or in plaintext\n"
"(HTTP/1, h2c), without changing any application. Credentials are fingerprinted\n"
"with a keyed hash and forgotten; only fingerprints and non-secret metadata are\n"
"output.\n"
"\n"
"Options:\n"
"  --json                  one JSON object per line on stdout (token_seen,\n"
"                          token_usage, token_held, tls_uncovered, sensor_status)\n"
"  --interval SECONDS      usage and status reporting interval (default 10);\n"
"                          tls_uncovered (a process sending TLS the sensor cannot\n"
"                          read) is reported once per program and destination\n"
"                          per interval\n"
"  --key-file FILE         fingerprint key: the file's raw bytes (share one key\n"
"                          across a fleet so fingerprints match)\n"
"  --state-dir DIR         state directory (default /var/lib/tokentap); holds\n"
"                          fingerprint.key (0600) when --key-file is not given\n"
"  --max-header-bytes N    bytes captured per write, 256..32768 (default 16384)\n"
"  --pid PID               only this process\n"
"  --header NAME           also treat header NAME as a credential (repeatable)\n"
"  --param NAME            also treat query parameter NAME as one (repeatable)\n"
"  --entry-probes          always probe function entries (see docs/capture.md, Probe points)\n"
"  --quiet                 no events on stdout (with --collector)\n"
"  --no-held-scan          do not inventory credentials held in processes'\n"
"                          environments and arguments (token_held events)\n"
"  --release-interval SECONDS   how often probes on files no process maps any\n"
"                          more are released (default 30; sooner after exits)\n"
"  --gate-exec             off by default: a program not examined yet starts\n"
"                          only once its probes are attached (fanotify exec\n"
"                          permission events on every filesystem, container roots\n"
"                          included as they are mounted), so its first request\n"
"                          is seen; never denies, allows at the deadline\n"
"                          whatever happens. While the sensor is stopped (SIGSTOP,\n"
"                          a debugger) such execs wait: see README, Coverage\n"
"                          from the first request\n"
"  --gate-timeout-ms MS    the gate's deadline, 1..5000 (default 200)\n"
"  --hold-unknown-tls      off by default: stop (SIGSTOP) a process that maps a\n"
"                          TLS library not examined yet until its probes are\n"
"                          attached, then continue it (SIGCONT); job-control\n"
"                          shells notice the stop (README, Coverage from the\n"
"                          first request)\n"
"  --java                  off by default: load tokentap's agent into HotSpot JVMs\n"
"                          (running ones and new ones) so that Java's own TLS\n"
"                          (JSSE: HttpsURLConnection, SSLSocket, HttpClient) is\n"
"                          captured. It changes those programs: see README,\n"
"                          Java. The agent files are taken from java/ next to\n"
"                          this binary, else from ../lib/tokentap/java\n"
"\n"
"Shipping to a collector (see tokentap-collector --help):\n"
"  --collector URL         POST event batches to URL/v1/batches, e.g.\n"
"                          http://127.0.0.1:7733; spooled in the state directory\n"
"                          while it is unreachable. Without it, only print.\n"
"                          Repeat it or give a comma-separated list (at most 8)\n"
"                          for several collectors: batches go to the current one\n"
"                          (the first at start); after a connection error,\n"
"                          timeout, 429 or 5xx the next try goes to the next in\n"
"                          the list, round robin, backing off once all failed in\n"
"                          a row. Order and seq numbers are kept; a batch the\n"
"                          current one refuses (400/413/415) is dropped.\n"
"  --collector-token-file FILE   sensor token sent as Authorization: Bearer\n"
"  --ca-file FILE          CA bundle for an https collector\n"
"  --client-cert FILE, --client-key FILE   client certificate (mutual TLS)\n"
"  --node NAME             node name reported, and whose pods are watched\n"
"                          (default: the host name)\n"
"\n"
"Kubernetes pod watcher (names the pod, namespace, container, image, service\n"
"account and owning workload of each process in a pod):\n"
"  --kube-api URL          API server to list and watch the pods of --node from,\n"
"                          e.g. https://10.0.0.1:6443. Inside a pod it defaults to\n"
"                          https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT\n"
"                          with the service account's token and CA; off when\n"
"                          neither is there. Needs get/list/watch on pods.\n"
"  --kube-token-file FILE  bearer token, read again every minute and after a 401\n"
"                          (default in a pod: " KUBE_SA_DIR "/token)\n"
"  --kube-ca-file FILE     CA bundle of the API server (default in a pod:\n"
"                          " KUBE_SA_DIR "/ca.crt; else the system's)\n"
"\n"
"  --revoke-command PATH   off by default: when a token the collector marked\n"
"                          for revocation is captured again, run PATH once with\n"
"                          the raw token on stdin (README: sensor-side revocation)\n"
"  --revoke-timeout SECONDS   kill the command after this long (default 30)\n"
"  --spool-max-bytes SIZE  spool bound (default 256M; k, M, G suffixes); oldest\n"
"                          batches are dropped first when it is full\n"
"  --ringbuf-size SIZE     the BPF ring buffer captured writes wait in for this\n"
"                          process (default 4M; a power of two, 64k..1G). Each\n"
"                          record lost to a full buffer is counted (sensor_status\n"
"                          ringbuf_drops); its pages count in the sensor's RSS\n"
"  --uprobe-attach auto|perf|multi   how uprobes are attached: perf events\n"
"                          (need CAP_SYS_ADMIN), uprobe_multi BPF links (Linux\n"
"                          >= 6.6, CAP_BPF and CAP_PERFMON suffice) or auto\n"
"                          (default: perf with CAP_SYS_ADMIN, else multi)\n"
"  --metrics-listen ADDR:PORT   serve GET /metrics (Prometheus text),\n"
"                          /healthz (200 while the main loop runs) and /readyz\n"
"                          (200 once attached and able to capture TLS, else 503\n"
"                          with the reason) on ADDR:PORT, e.g. 127.0.0.1:9464\n"
"  --log-format text|json  diagnostics on stderr as text lines (default) or as\n"
"                          one JSON object per line (ts, level, program, msg)\n"
"  -v, --verbose           say what is attached; -v -v adds libbpf debug output\n"
"  -h, --help              this help\n"
"  -V, --version           version\n"
"\n"
"Every option can also be set in the environment as TOKENTAP_<OPTION>, upper\n"
"case with '_' for '-' (TOKENTAP_METRICS_LISTEN=0.0.0.0:9464, TOKENTAP_QUIET=1);\n"
"an option given on the command line wins over its variable. Values are at\n"
"most 4096 bytes; options without a value take 1/true/yes or 0/false/no.\n"
"\n"
"Examples:\n"
"  tokentap                       readable lines for every new token sighting\n"
"  tokentap --json --interval 5   JSON lines, usage counts every 5 s\n"
"  tokentap --pid 1234 -v         one process, with attachment details\n"
"\n"
"Needs root, Linux >= 5.8 with BTF (/sys/kernel/btf/vmlinux), and either every\n"
"capability or at least CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH\n"
"(TLS capture then needs Linux >= 6.6); it logs each feature a missing\n"
"capability turns off (README: Least privilege).\n";

void sensor_options_init(struct sensor_options *o)
{
	*o = (struct sensor_options){
		.interval_s = 10,
		.state_dir = "/var/lib/tokentap",
		.max_header_bytes = 16384,
		.release_interval_s = 30,
		.gate_timeout_ms = EXEC_GATE_TIMEOUT_MS,
	};
}

/* Header and parameter names are matched lowercase. */
static char *lowercase_dup(const char *s)
{
	char *d = strdup(s);

	for (char *c = d; c && *c; c++)
		*c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
	return d;
}

int sensor_options_parse(struct sensor_options *o, int argc, char **argv)
{
	enum { O_JSON = 256, O_INTERVAL, O_KEY, O_STATE, O_MAXHDR, O_PID, O_HEADER, O_PARAM, O_ENTRY,
	       O_QUIET, O_COLLECTOR, O_CTOKEN, O_CA, O_CCERT, O_CKEY, O_NODE, O_SPOOLMAX,
	       O_RELEASE, O_NOHELD, O_REVOKE, O_REVOKE_TIMEOUT, O_LOGFMT, O_UPROBE, O_METRICS,
	       O_GATE, O_GATE_TIMEOUT, O_HOLD, O_JAVA, O_KUBE_API, O_KUBE_TOKEN, O_KUBE_CA,
	       O_RINGBUF };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "key-file", required_argument, NULL, O_KEY },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "max-header-bytes", required_argument, NULL, O_MAXHDR },
		{ "pid", required_argument, NULL, O_PID },
		{ "header", required_argument, NULL, O_HEADER },
		{ "param", required_argument, NULL, O_PARAM },
		{ "entry-probes", no_argument, NULL, O_ENTRY },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "no-held-scan", no_argument, NULL, O_NOHELD },
		{ "revoke-command", required_argument, NULL, O_REVOKE },
		{ "revoke-timeout", required_argument, NULL, O_REVOKE_TIMEOUT },
		{ "collector", required_argument, NULL, O_COLLECTOR },
		{ "collector-token-file", required_argument, NULL, O_CTOKEN },
		{ "ca-file", required_argument, NULL, O_CA },
		{ "client-cert", required_argument, NULL, O_CCERT },
		{ "client-key", required_argument, NULL, O_CKEY },
		{ "node", required_argument, NULL, O_NODE },
		{ "kube-api", required_argument, NULL, O_KUBE_API },
		{ "kube-token-file", required_argument, NULL, O_KUBE_TOKEN },
		{ "kube-ca-file", required_argument, NULL, O_KUBE_CA },
		{ "spool-max-bytes", required_argument, NULL, O_SPOOLMAX },
		{ "ringbuf-size", required_argument, NULL, O_RINGBUF },
		{ "release-interval", required_argument, NULL, O_RELEASE },
		{ "log-format", required_argument, NULL, O_LOGFMT },
		{ "uprobe-attach", required_argument, NULL, O_UPROBE },
		{ "metrics-listen", required_argument, NULL, O_METRICS },
		{ "gate-exec", no_argument, NULL, O_GATE },
		{ "gate-timeout-ms", required_argument, NULL, O_GATE_TIMEOUT },
		{ "hold-unknown-tls", no_argument, NULL, O_HOLD },
		{ "java", no_argument, NULL, O_JAVA },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_format fmt;
	char err[256];
	uint64_t v;
	int c;

	if (envflags_apply(longopts, &argc, &argv, &o->env, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	while ((c = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			o->json = true;
			break;
		case O_INTERVAL:
			if (numarg_uint(optarg, 1, 86400, &v)) {
				log_error("--interval: expected seconds between 1 and 86400, got '%s'", optarg);
				return -1;
			}
			o->interval_s = (int)v;
			break;
		case O_KEY:
			o->key_file = optarg;
			break;
		case O_STATE:
			o->state_dir = optarg;
			break;
		case O_MAXHDR:
			if (numarg_uint(optarg, 256, TT_DATA_MAX, &v)) {
				log_error("--max-header-bytes: expected 256..%d, got '%s'", TT_DATA_MAX, optarg);
				return -1;
			}
			o->max_header_bytes = (unsigned)v;
			break;
		case O_PID:
			if (numarg_uint(optarg, 1, INT_MAX, &v)) {
				log_error("--pid: expected a process id, got '%s'", optarg);
				return -1;
			}
			o->pid = (uint32_t)v;
			break;
		case O_HEADER:
		case O_PARAM:
			if (strlen(optarg) == 0 || strlen(optarg) >= CRED_NAME_MAX ||
			    (c == O_HEADER ? o->n_headers : o->n_params) >= EXTRA_NAMES) {
				log_error("--%s: bad or too many names", c == O_HEADER ? "header" : "param");
				return -1;
			}
			if (c == O_HEADER)
				o->headers[o->n_headers++] = lowercase_dup(optarg);
			else
				o->params[o->n_params++] = lowercase_dup(optarg);
			break;
		case O_ENTRY:
			o->entry_probes = true;
			break;
		case O_NOHELD:
			o->no_held = true;
			break;
		case O_REVOKE:
			if (optarg[0] != '/' || access(optarg, X_OK) != 0) {
				log_error("--revoke-command needs the absolute path of an executable");
				return -1;
			}
			o->revoke_command = optarg;
			break;
		case O_REVOKE_TIMEOUT: {
			uint64_t v;

			if (numarg_uint(optarg, 1, 3600, &v) < 0) {
				log_error("--revoke-timeout takes 1..3600 seconds");
				return -1;
			}
			o->revoke_timeout_s = (unsigned)v;
			break;
		}
		case O_QUIET:
			o->quiet = true;
			break;
		case O_COLLECTOR: {
			char err[256];

			/* repeated or comma-separated: one list, in the order given */
			if (shipper_urls_add(&o->collectors, optarg, err, sizeof(err)) != 0) {
				log_error("%s", err);
				return -1;
			}
			o->collector = o->collectors.url[0];
			break;
		}
		case O_CTOKEN:
			o->collector_token_file = optarg;
			break;
		case O_CA:
			o->ca_file = optarg;
			break;
		case O_CCERT:
			o->client_cert = optarg;
			break;
		case O_CKEY:
			o->client_key = optarg;
			break;
		case O_NODE:
			if (!optarg[0] || strlen(optarg) > 253) {
				log_error("--node: expected a name of 1..253 characters");
				return -1;
			}
			o->node = optarg;
			break;
		case O_KUBE_API:
			o->kube_api = optarg;
			break;
		case O_KUBE_TOKEN:
			o->kube_token_file = optarg;
			break;
		case O_KUBE_CA:
			o->kube_ca_file = optarg;
			break;
		case O_SPOOLMAX:
			if (numarg_size(optarg, 1ULL << 40, &v) || v < (1 << 20)) {
				log_error("--spool-max-bytes: expected 1M..1T (e.g. 256M), got '%s'", optarg);
				return -1;
			}
			o->spool_max_bytes = v;
			break;
		case O_RINGBUF:
			/* the kernel wants a power-of-two number of pages */
			if (numarg_size(optarg, 1ULL << 30, &v) || v < 65536 || (v & (v - 1))) {
				log_error("--ringbuf-size: expected a power of two from 64k to 1G "
					  "(e.g. 4M), got '%s'", optarg);
				return -1;
			}
			o->ringbuf_bytes = (uint32_t)v;
			break;
		case O_RELEASE:
			if (numarg_uint(optarg, 1, 86400, &v)) {
				log_error("--release-interval: expected seconds between 1 and 86400, got '%s'", optarg);
				return -1;
			}
			o->release_interval_s = (int)v;
			break;
		case O_GATE:
			o->gate_exec = true;
			break;
		case O_JAVA:
			o->java = true;
			break;
		case O_GATE_TIMEOUT:
			if (numarg_uint(optarg, EXEC_GATE_TIMEOUT_MIN_MS, EXEC_GATE_TIMEOUT_MAX_MS, &v)) {
				log_error("--gate-timeout-ms: expected %d..%d milliseconds, got '%s'",
					  EXEC_GATE_TIMEOUT_MIN_MS, EXEC_GATE_TIMEOUT_MAX_MS, optarg);
				return -1;
			}
			o->gate_timeout_ms = (unsigned)v;
			break;
		case O_HOLD:
			o->hold_unknown_tls = true;
			break;
		case O_LOGFMT:
			if (log_format_parse(optarg, &fmt) != 0) {
				log_error("--log-format: expected text or json, got '%s'", optarg);
				return -1;
			}
			/* at once: the errors of later options are in this format too */
			log_setup("tokentap", fmt);
			break;
		case O_UPROBE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "perf") && strcmp(optarg, "multi")) {
				log_error("--uprobe-attach: expected auto, perf or multi, got '%s'", optarg);
				return -1;
			}
			o->uprobe_attach = optarg;
			break;
		case O_METRICS: {
			char host[64];
			unsigned port;

			if (metrics_listen_parse(optarg, host, sizeof(host), &port) != 0) {
				log_error("--metrics-listen: expected ADDR:PORT with a numeric address (e.g. 0.0.0.0:9464), got '%s'",
					  optarg);
				return -1;
			}
			o->metrics_listen = optarg;
			break;
		}
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("tokentap %s\n", TOKENTAP_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'tokentap --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (try --help)", argv[optind]);
		return -1;
	}
	if (!o->collector && (o->collector_token_file || o->ca_file || o->client_cert || o->client_key)) {
		log_error("--collector-token-file, --ca-file, --client-cert and --client-key need --collector");
		return -1;
	}
	if (o->revoke_command && !o->collector) {
		log_error("--revoke-command needs --collector (the collector marks what to revoke)");
		return -1;
	}
	if (!!o->client_cert != !!o->client_key) {
		log_error("--client-cert and --client-key go together");
		return -1;
	}
	return 0;
}

void sensor_options_free(struct sensor_options *o)
{
	for (size_t i = 0; i < o->n_headers; i++)
		free(o->headers[i]);
	for (size_t i = 0; i < o->n_params; i++)
		free(o->params[i]);
	shipper_urls_free(&o->collectors);
	envflags_free(&o->env);
}
