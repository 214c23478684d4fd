/* SPDX-License-Identifier: Apache-2.0 */
#include "serve_cmd.h"
#include "auth.h"
#include "numarg.h"
#include "risk_engine.h"
#include "http_server.h"
#include "store.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:7733"

void serve_usage(FILE *out)
{
	fprintf(out,
		"Usage: tokentap-collector serve --db PATH (--auth-file FILE | --insecure-no-auth)\n"
		"                                [--listen ADDR:PORT] [options]\n"
		"\n"
		"Receives sensor batches (POST /v1/batches) into a SQLite store and answers\n"
		"inventory queries (GET /v1/tokens, /v1/tokens/FINGERPRINT, /v1/sensors),\n"
		"/healthz and Prometheus /metrics.\n"
		"\n"
		"  --listen ADDR:PORT      address to listen on (default " DEFAULT_LISTEN ";\n"
		"                          [::1]:7733 for IPv6, port 0 picks a free port)\n"
		"  --db PATH               SQLite database, created when missing\n"
		"  --auth-file FILE        sensor tokens, one per line ('#' comments)\n"
		"  --insecure-no-auth      accept batches without a token (an empty\n"
		"                          --auth-file is only accepted with this flag)\n"
		"  --read-token-file FILE  require one of these Bearer tokens for GET /v1/*\n"
		"  --max-body SIZE         largest request body (default 4M)\n"
		"  --max-decompressed SIZE largest batch after gunzip (default 32M)\n"
		"  --threads N             worker threads (default 4)\n"
		"  --max-connections N     concurrent connections (default 256)\n"
		"  --timeout SECONDS       idle connection timeout (default 30)\n"
		"  --risk-config FILE      risk engine settings (JSON; README \"Risk model\"):\n"
		"                          learning window, rule weights and severities,\n"
		"                          provider hosts, alert webhooks, revocation hooks\n"
		"  --no-risk               store only: no risk evaluation, alerts or hooks\n"
		"  -h, --help              this help\n"
		"\n"
		"Examples:\n"
		"  tokentap-collector serve --db /var/lib/tokentap/collector.db \\\n"
		"      --auth-file /etc/tokentap/sensor-tokens\n"
		"  tokentap-collector serve --listen 127.0.0.1:7733 --db ./state/collector.db \\\n"
		"      --insecure-no-auth\n");
}

struct serve_opts {
	const char *listen, *db, *auth_file, *read_token_file, *risk_config;
	bool insecure, no_risk;
	struct ingest_limits limits;
	unsigned threads, max_connections, timeout_s;
};

static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	enum { O_LISTEN = 256, O_DB, O_AUTH, O_INSECURE, O_READ, O_BODY, O_DECOMP, O_THREADS,
	       O_CONNS, O_TIMEOUT, O_RISK, O_NORISK };
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "db", required_argument, NULL, O_DB },
		{ "auth-file", required_argument, NULL, O_AUTH },
		{ "insecure-no-auth", no_argument, NULL, O_INSECURE },
		{ "read-token-file", required_argument, NULL, O_READ },
		{ "max-body", required_argument, NULL, O_BODY },
		{ "max-decompressed", required_argument, NULL, O_DECOMP },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-connections", required_argument, NULL, O_CONNS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "risk-config", required_argument, NULL, O_RISK },
		{ "no-risk", no_argument, NULL, O_NORISK },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: o->listen = optarg; break;
		case O_DB: o->db = optarg; break;
		case O_AUTH: o->auth_file = optarg; break;
		case O_INSECURE: o->insecure = true; break;
		case O_READ: o->read_token_file = optarg; break;
		case O_RISK: o->risk_config = optarg; break;
		case O_NORISK: o->no_risk = true; break;
		case O_BODY:
		case O_DECOMP:
			if (numarg_size(optarg, (uint64_t)1 << 32, &v) < 0) {
				fprintf(stderr, "tokentap-collector: %s: a size like 4M (at most 4G)\n",
					c == O_BODY ? "--max-body" : "--max-decompressed");
				return 2;
			}
			if (c == O_BODY)
				o->limits.max_body = (size_t)v;
			else
				o->limits.max_decompressed = (size_t)v;
			break;
		case O_THREADS:
		case O_CONNS:
		case O_TIMEOUT:
			if (numarg_uint(optarg, 1, c == O_THREADS ? 256 : 65536, &v) < 0) {
				fprintf(stderr, "tokentap-collector: bad number \"%s\"\n", optarg);
				return 2;
			}
			if (c == O_THREADS)
				o->threads = (unsigned)v;
			else if (c == O_CONNS)
				o->max_connections = (unsigned)v;
			else
				o->timeout_s = (unsigned)v;
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			serve_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tokentap-collector serve: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!o->db) {
		fprintf(stderr, "tokentap-collector serve: --db PATH is required\n");
		return 2;
	}
	{
		/* checked now so that a typo creates no database file */
		struct sockaddr_storage ss;
		socklen_t len;
		char err[256];

		if (server_parse_listen(o->listen, &ss, &len, err, sizeof(err)) < 0) {
			fprintf(stderr, "tokentap-collector serve: %s\n", err);
			return 2;
		}
	}
	if (!o->auth_file && !o->insecure) {
		fprintf(stderr, "tokentap-collector serve: give --auth-file FILE, or"
				" --insecure-no-auth to accept unauthenticated batches\n");
		return 2;
	}
	return -1;
}

int serve_main(int argc, char **argv)
{
	struct serve_opts o = { .listen = DEFAULT_LISTEN };
	struct auth sensor_auth = { 0 }, read_auth = { 0 };
	struct metrics metrics;
	struct server_config cfg;
	struct server *srv = NULL;
	struct store *st = NULL;
	struct risk_config risk;
	struct risk_engine *engine = NULL;
	sigset_t sigs;
	char err[512];
	int rc, sig = 0, status = 1;

	ingest_limits_default(&o.limits);
	risk_config_default(&risk);
	rc = parse_opts(argc, argv, &o);
	if (rc >= 0) {
		risk_config_free(&risk);
		return rc;
	}
	if (o.risk_config && risk_config_load(&risk, o.risk_config, err, sizeof(err)) < 0) {
		fprintf(stderr, "tokentap-collector: --risk-config %s\n", err);
		risk_config_free(&risk);
		return 2;
	}
	if (o.auth_file) {
		if (auth_load(&sensor_auth, o.auth_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "tokentap-collector: --auth-file %s\n", err);
			goto out;
		}
		if (sensor_auth.n == 0 && !o.insecure) {
			fprintf(stderr, "tokentap-collector: --auth-file %s holds no token (add"
					" --insecure-no-auth to run without)\n", o.auth_file);
			goto out;
		}
	}
	if (o.read_token_file) {
		if (auth_load(&read_auth, o.read_token_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "tokentap-collector: --read-token-file %s\n", err);
			goto out;
		}
		if (read_auth.n == 0) {
			fprintf(stderr, "tokentap-collector: --read-token-file %s holds no token\n",
				o.read_token_file);
			goto out;
		}
	}
	st = store_open(o.db, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "tokentap-collector: %s\n", err);
		goto out;
	}

	/* the server's threads inherit this mask: signals reach sigwait only */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	metrics_init(&metrics);
	cfg = (struct server_config){
		.listen = o.listen,
		.store = st,
		.sensor_auth = sensor_auth.n ? &sensor_auth : NULL,
		.read_auth = o.read_token_file ? &read_auth : NULL,
		.limits = o.limits,
		.metrics = &metrics,
		.threads = o.threads,
		.max_connections = o.max_connections,
		.timeout_s = o.timeout_s,
	};
	srv = server_start(&cfg, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "tokentap-collector: %s\n", err);
		goto out;
	}
	if (!o.no_risk) {
		engine = risk_engine_start(st, &risk, err, sizeof(err));
		if (!engine) {
			fprintf(stderr, "tokentap-collector: %s\n", err);
			server_stop(srv, 0);
			goto out;
		}
	}
	fprintf(stderr, "tokentap-collector: listening on %s (port %u), database %s, %s, %s\n",
		o.listen, server_port(srv), o.db,
		cfg.sensor_auth ? "sensor tokens required" : "NO sensor authentication",
		engine ? "risk engine on" : "risk engine off");
	fflush(stderr);
	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "tokentap-collector: %s, shutting down\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop(srv, 5000);
	risk_engine_stop(engine);
	engine = NULL;
	status = 0;
out:
	risk_engine_stop(engine);
	store_close(st);
	risk_config_free(&risk);
	auth_free(&sensor_auth);
	auth_free(&read_auth);
	return status;
}
