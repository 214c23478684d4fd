/* SPDX-License-Identifier: Apache-2.0 */
#include "serve_cmd.h"
#include "pg_conninfo.h"
#include "auth.h"
#include "envflags.h"
#include "numarg.h"
#include "risk_engine.h"
#include "http_server.h"
#include "log.h"
#include "retention_opts.h"
#include "retention_task.h"
#include "store.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:7733"

/* "tokentap-collector serve: ..." */
#define serve_error(...) log_cmd(stderr, LOG_LEVEL_ERROR, "serve", __VA_ARGS__)

void serve_usage(FILE *out)
{
	fprintf(out,
		"Usage: tokentap-collector serve --db PATH (--auth-file FILE | --insecure-no-auth)\n"
		"                                [--listen ADDR:PORT] [options]\n"
		"\n"
		"Receives sensor batches (POST /v1/batches) into a SQLite or PostgreSQL store and\n"
		"answers inventory queries (GET /v1/tokens, /v1/tokens/FINGERPRINT, /v1/alerts,\n"
		"/v1/sensors), /healthz and Prometheus /metrics, and serves the web console\n"
		"at / (same read access as GET /v1/*).\n"
		"\n"
		"  --listen ADDR:PORT      address to listen on (default " DEFAULT_LISTEN ";\n"
		"                          [::1]:7733 for IPv6, port 0 picks a free port)\n"
		"  --db PATH|URL           SQLite database file, created when missing; or a\n"
		"                          postgres://USER:PASSWORD@HOST/DB URL (or libpq\n"
		"                          key=value conninfo): PostgreSQL, shared by several\n"
		"                          replicas, one of which runs the risk engine\n"
		"  --auth-file FILE        sensor tokens, one per line ('#' comments)\n"
		"  --insecure-no-auth      accept batches without a token (an empty\n"
		"                          --auth-file is only accepted with this flag)\n"
		"  --read-token-file FILE  require one of these tokens for GET /v1/* (Bearer) and\n"
		"                          the console (its login form sets a session cookie);\n"
		"                          without it both answer loopback clients only\n"
		"  --max-body SIZE         largest request body (default 4M)\n"
		"  --max-decompressed SIZE largest batch after gunzip (default 32M)\n"
		"  --threads N             worker threads (default 4)\n"
		"  --db-writers N          PostgreSQL: batches applied at once by this replica,\n"
		"                          1 to 5 (default 2); more threads wait their turn.\n"
		"                          About the database server's spare cores, divided\n"
		"                          among the replicas (SQLite has one writer)\n"
		"  --max-connections N     concurrent connections (default 256)\n"
		"  --timeout SECONDS       idle connection timeout (default 30)\n"
		"  --risk-config FILE      risk engine settings (JSON; README \"Risk assessment\"):\n"
		"                          learning window, rule weights and severities,\n"
		"                          provider hosts, alert webhooks, revocation hooks\n"
		"  --no-risk               store only: no risk evaluation, alerts or hooks\n"
		RETENTION_HELP
		"  --log-format text|json  diagnostics on stderr as text lines (default) or as\n"
		"                          one JSON object per line (ts, level, program, msg)\n"
		"  -h, --help              this help\n"
		"\n"
		"Every option can also be set in the environment as TOKENTAP_<OPTION>, upper\n"
		"case with '_' for '-' (TOKENTAP_DB=/data/collector.db, TOKENTAP_NO_RISK=1);\n"
		"an option given on the command line wins over its variable. Values are at\n"
		"most 4096 bytes; options without a value take 1/true/yes or 0/false/no.\n"
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
	struct retention_policy retention;
	int64_t retention_every_ms;
	unsigned threads, max_connections, timeout_s, db_writers;
	struct envflags env;  /* TOKENTAP_<FLAG> variables as arguments; freed at exit */
};

static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	enum { O_LISTEN = 256, O_DB, O_AUTH, O_INSECURE, O_READ, O_BODY, O_DECOMP, O_THREADS,
	       O_CONNS, O_TIMEOUT, O_RISK, O_NORISK, O_LOGFMT, O_RETENTION, O_WRITERS };
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "db", required_argument, NULL, O_DB },
		{ "auth-file", required_argument, NULL, O_AUTH },
		{ "insecure-no-auth", no_argument, NULL, O_INSECURE },
		{ "read-token-file", required_argument, NULL, O_READ },
		{ "max-body", required_argument, NULL, O_BODY },
		{ "max-decompressed", required_argument, NULL, O_DECOMP },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "db-writers", required_argument, NULL, O_WRITERS },
		{ "max-connections", required_argument, NULL, O_CONNS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "risk-config", required_argument, NULL, O_RISK },
		{ "no-risk", no_argument, NULL, O_NORISK },
		{ "retention", required_argument, NULL, O_RETENTION },
		{ "log-format", required_argument, NULL, O_LOGFMT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum log_format fmt;
	char err[256];
	uint64_t v;
	int c;

	if (envflags_apply(lo, &argc, &argv, &o->env, err, sizeof(err)) != 0) {
		serve_error("%s", err);
		return 2;
	}
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
		case O_RETENTION: {
			char err[256];

			if (retention_spec_parse(optarg, &o->retention, &o->retention_every_ms, err,
						 sizeof(err)) < 0) {
				serve_error("%s", err);
				return 2;
			}
			break;
		}
		case O_LOGFMT:
			if (log_format_parse(optarg, &fmt) < 0) {
				serve_error("--log-format takes text or json, not \"%s\"", optarg);
				return 2;
			}
			/* at once: the errors of later options are in this format too */
			log_setup(NULL, fmt);
			break;
		case O_BODY:
		case O_DECOMP:
			if (numarg_size(optarg, (uint64_t)1 << 32, &v) < 0) {
				log_error("%s: a size like 4M (at most 4G)",
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
				log_error("bad number \"%s\"", optarg);
				return 2;
			}
			if (c == O_THREADS)
				o->threads = (unsigned)v;
			else if (c == O_CONNS)
				o->max_connections = (unsigned)v;
			else
				o->timeout_s = (unsigned)v;
			break;
		case O_WRITERS:
			if (numarg_uint(optarg, 1, 5, &v) < 0) {
				log_error("--db-writers takes a number from 1 to 5, not \"%s\"", optarg);
				return 2;
			}
			o->db_writers = (unsigned)v;
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
		serve_error("unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if (!o->db) {
		serve_error("--db PATH is required");
		return 2;
	}
	{
		/* checked now so that a typo creates no database file */
		struct sockaddr_storage ss;
		socklen_t len;
		char err[256];

		if (server_parse_listen(o->listen, &ss, &len, err, sizeof(err)) < 0) {
			serve_error("%s", err);
			return 2;
		}
	}
	if (!o->auth_file && !o->insecure) {
		serve_error("give --auth-file FILE, or --insecure-no-auth to accept unauthenticated"
			    " batches");
		return 2;
	}
	return -1;
}

/* Everything serve_main() sets up; serve_free() releases what was, at any step. */
struct serve {
	struct serve_opts o;
	struct risk_config risk;
	struct auth sensor_auth, read_auth;
	struct store *st;
	struct metrics metrics;
	struct server_config cfg;
	struct server *srv;
	struct risk_engine *engine;
	struct retention_task *retention;
	sigset_t sigs;
	unsigned grace_ms;  /* what server_stop gives requests under way */
};

/* The risk configuration and the token files. Returns an exit status. */
static int load_settings(struct serve *s)
{
	const struct serve_opts *o = &s->o;
	char err[512];

	if (o->risk_config && risk_config_load(&s->risk, o->risk_config, err, sizeof(err)) < 0) {
		log_error("--risk-config %s", err);
		return 2;
	}
	if (o->auth_file) {
		if (auth_load(&s->sensor_auth, o->auth_file, err, sizeof(err)) < 0) {
			log_error("--auth-file %s", err);
			return 1;
		}
		if (s->sensor_auth.n == 0 && !o->insecure) {
			log_error("--auth-file %s holds no token (add --insecure-no-auth to run without)",
				  o->auth_file);
			return 1;
		}
	}
	if (o->read_token_file) {
		if (auth_load(&s->read_auth, o->read_token_file, err, sizeof(err)) < 0) {
			log_error("--read-token-file %s", err);
			return 1;
		}
		if (s->read_auth.n == 0) {
			log_error("--read-token-file %s holds no token", o->read_token_file);
			return 1;
		}
	}
	return 0;
}

/* The store, the HTTP server and the risk engine. Returns an exit status. */
static int start(struct serve *s)
{
	const struct serve_opts *o = &s->o;
	char err[512], shown[512];

	s->st = store_open(o->db, 0, err, sizeof(err));
	if (!s->st) {
		log_error("%s", err);
		return 1;
	}
	if (o->db_writers && store_set_writers(s->st, o->db_writers) < 0) {
		log_error("--db-writers %u: out of range", o->db_writers);
		return 1;
	}

	/* the server's threads inherit this mask: signals reach sigwait only */
	sigemptyset(&s->sigs);
	sigaddset(&s->sigs, SIGINT);
	sigaddset(&s->sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s->sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	metrics_init(&s->metrics);
	s->cfg = (struct server_config){
		.listen = o->listen,
		.store = s->st,
		.sensor_auth = s->sensor_auth.n ? &s->sensor_auth : NULL,
		.read_auth = o->read_token_file ? &s->read_auth : NULL,
		.limits = o->limits,
		.metrics = &s->metrics,
		.threads = o->threads,
		.max_connections = o->max_connections,
		.timeout_s = o->timeout_s,
	};
	s->srv = server_start(&s->cfg, err, sizeof(err));
	if (!s->srv) {
		log_error("%s", err);
		return 1;
	}
	if (!o->no_risk) {
		s->engine = risk_engine_start(s->st, &s->risk, err, sizeof(err));
		if (!s->engine) {
			log_error("%s", err);
			return 1;
		}
		risk_engine_leader_gauge(s->engine, &s->metrics.leader);
	}
	if (o->retention_every_ms) {
		struct retention_policy p = o->retention;

		/* with the engine off nobody will read the sightings: they age out like the rest */
		p.keep_unread = !s->engine;
		s->retention = retention_task_start(s->st, &p, o->retention_every_ms, err,
						    sizeof(err));
		if (!s->retention) {
			log_error("%s", err);
			return 1;
		}
	}
	/* a PostgreSQL URL may carry a password: never printed */
	pg_conninfo_redact(o->db, shown, sizeof(shown));
	log_info("listening on %s (port %u), database %s, %s, %s", o->listen, server_port(s->srv),
		 shown, s->cfg.sensor_auth ? "sensor tokens required" : "NO sensor authentication",
		 s->engine ? "risk engine on" : "risk engine off");
	if (!s->cfg.read_auth)
		log_info("no --read-token-file: the console and GET /v1/* answer loopback clients only");
	{
		/* the bound port: --listen may have asked for port 0 */
		int hl = (int)(strrchr(o->listen, ':') - o->listen);

		log_info("console at http://%.*s:%u/", hl, o->listen, server_port(s->srv));
	}
	fflush(stderr);
	return 0;
}

/* Blocks until SIGINT or SIGTERM; returns which. */
static int wait_for_signal(struct serve *s)
{
	int sig = 0;

	while (sigwait(&s->sigs, &sig) != 0)
		;
	return sig;
}

/* The server first: no request may reach the engine or the store after them. */
static void serve_free(struct serve *s)
{
	if (s->srv)
		server_stop(s->srv, s->grace_ms);
	risk_engine_stop(s->engine);
	retention_task_stop(s->retention);
	store_close(s->st);
	risk_config_free(&s->risk);
	auth_free(&s->sensor_auth);
	auth_free(&s->read_auth);
}

int serve_main(int argc, char **argv)
{
	struct serve s = { .o = { .listen = DEFAULT_LISTEN } };
	int status, sig;

	ingest_limits_default(&s.o.limits);
	retention_policy_default(&s.o.retention);
	s.o.retention_every_ms = RETENTION_EVERY_DEFAULT_MS;
	risk_config_default(&s.risk);
	status = parse_opts(argc, argv, &s.o);
	if (status >= 0)
		goto out;
	status = load_settings(&s);
	if (status)
		goto out;
	status = start(&s);
	if (status)
		goto out;
	sig = wait_for_signal(&s);
	log_info("%s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	/* requests under way may finish; a failed start stops at once */
	s.grace_ms = 5000;
out:
	serve_free(&s);
	envflags_free(&s.o.env);
	return status;
}
