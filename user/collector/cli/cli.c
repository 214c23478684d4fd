/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "clock.h"
#include "batch_check.h"
#include "cli_fetch.h"
#include "cli_render.h"
#include "log.h"
#include "numarg.h"
#include "store.h"
#include "risk_engine.h"
#include "timefmt.h"
#include "token_page_args.h"

#include <getopt.h>
#include <string.h>

/* "tokentap-collector COMMAND: ..." on the command's error stream */
#define cli_error(err, cmd, ...) log_cmd(err, LOG_LEVEL_ERROR, cmd, __VA_ARGS__)

static const char *const commands[] = { "tokens", "token", "sensors", "coverage", "top", "alerts",
					"evaluate" };

bool cli_is_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i]))
			return true;
	return false;
}

void cli_usage(const char *cmd, FILE *out)
{
	const char *src = "(--db PATH | --url URL [--token-file FILE])";

	if (!strcmp(cmd, "evaluate")) {
		fprintf(out,
			"Usage: tokentap-collector evaluate --db PATH [--risk-config FILE]\n"
			"                                   [--log-format text|json]\n\n"
			"Runs the risk engine once over the database (what `serve` does every\n"
			"second) and carries out the alert deliveries and revocation hooks that are\n"
			"due. For a store written while the engine was off (serve --no-risk).\n"
			"\nExample:\n  tokentap-collector evaluate --db ./state/collector.db"
			" --risk-config risk.json\n");
		return;
	}
	if (!strcmp(cmd, "tokens"))
		fprintf(out,
			"Usage: tokentap-collector tokens [--json]\n"
			"         [--sort last_seen|requests|risk|first_seen] [--limit N] [--cursor C]\n"
			"         [--type T] [--namespace NS] [--workload W] [--node NODE]\n"
			"         [--held held_and_used|held_never_used|used_not_held]\n"
			"         [--min-risk 0..100] [--prefix HEX] %s\n\n"
			"Lists the tokens known: risk score, type, fingerprint, requests, the busiest\n"
			"process and destination, last use. Tokens only held (never used) have 0\n"
			"requests. --json prints the API's array of token objects.\n"
			"\nWith --limit, --cursor or a filter it prints one page (at most 500 tokens,\n"
			"100 unless --limit says) in the sort's order, highest first, and the\n"
			"--cursor of the next page on its last line; --json prints the API's page\n"
			"{\"tokens\": [...], \"next_cursor\": ...}. Filters: --type a token type,\n"
			"--namespace a Kubernetes namespace and --workload \"NAMESPACE/EXE\" (or EXE)\n"
			"of a process that used it, --node a node it was used on, --held whether it\n"
			"was found in a process and used, --min-risk a lowest score (tokens not\n"
			"assessed yet left out), --prefix the start of its fingerprint.\n",
			src);
	else if (!strcmp(cmd, "alerts"))
		fprintf(out,
			"Usage: tokentap-collector alerts [--json] [--min-severity info|low|medium|high|critical]\n"
			"                                 [--fingerprint FP] [--limit N] %s\n\n"
			"Lists the risk engine's findings, newest first: severity, rule, token and\n"
			"the reason with its evidence. --json adds the evidence and each alert's\n"
			"webhook delivery log.\n",
			src);
	else if (!strcmp(cmd, "token"))
		fprintf(out,
			"Usage: tokentap-collector token FINGERPRINT [--json] %s\n\n"
			"The forensics view of one token: every process, node and destination\n"
			"that used it, since when, how often, and its requests per minute.\n",
			src);
	else if (!strcmp(cmd, "sensors"))
		fprintf(out,
			"Usage: tokentap-collector sensors [--json] %s\n\n"
			"Lists the sensors that reported, with their last sequence number and status.\n",
			src);
	else if (!strcmp(cmd, "coverage"))
		fprintf(out,
			"Usage: tokentap-collector coverage [--json] %s\n\n"
			"What the sensors can and cannot see: per node and executable that sent\n"
			"TLS, whether its requests are read (covered: the TLS library seen into) or\n"
			"not, and why (jvm_without_java, attach_failed, unsupported_tls_library,\n"
			"rust_stripped, static_unknown_tls, unknown), with its destinations and when\n"
			"it was last seen. Uncovered executables come first. --json prints the API's\n"
			"array (GET /v1/coverage).\n",
			src);
	else if (!strcmp(cmd, "top"))
		fprintf(out,
			"Usage: tokentap-collector top [--interval SECONDS] [--once] %s\n\n"
			"Live view of the inventory, refreshed every interval (default 1 s) until\n"
			"Ctrl-C. --once prints one frame and exits.\n",
			src);
	fprintf(out,
		"\n  --db PATH|URL      read a collector database directly: a SQLite file or a\n"
		"                     postgres:// URL\n"
		"  --url URL          ask a running collector, e.g. http://127.0.0.1:7733\n"
		"  --token-file FILE  Bearer token for --url (serve --read-token-file)\n"
		"  --log-format FMT   diagnostics on stderr: text (default), or json for one\n"
		"                     JSON object per line\n"
		"\nExamples:\n"
		"  tokentap-collector tokens --db ./state/collector.db\n"
		"  tokentap-collector token 0123456789abcdef0123456789abcdef --url http://127.0.0.1:7733 --json\n"
		"  tokentap-collector tokens --db ./state/collector.db --sort risk\n"
		"  tokentap-collector tokens --url http://127.0.0.1:7733 --sort risk --limit 50 --min-risk 50\n"
		"  tokentap-collector alerts --url http://127.0.0.1:7733 --min-severity high\n"
		"  tokentap-collector coverage --db ./state/collector.db\n");
}

/* One risk engine round on a database: the evaluate command. */
static int cli_evaluate(struct cli_source *src, const char *config, FILE *out, FILE *err)
{
	struct risk_config cfg;
	struct risk_pass_stats stats;
	struct store *st;
	char msg[512];
	int acted = 0, n, rc = 1;

	if (!src->db || src->url) {
		cli_error(err, "evaluate", "give --db PATH (a writable database)");
		return 2;
	}
	risk_config_default(&cfg);
	if (config && risk_config_load(&cfg, config, msg, sizeof(msg)) < 0) {
		cli_error(err, "evaluate", "--risk-config %s", msg);
		risk_config_free(&cfg);
		return 2;
	}
	st = store_open(src->db, 0, msg, sizeof(msg));
	if (!st) {
		cli_error(err, "evaluate", "%s", msg);
		risk_config_free(&cfg);
		return 1;
	}
	if (store_risk_pass(st, &cfg, clock_real_ms(), &stats, msg, sizeof(msg)) < 0) {
		cli_error(err, "evaluate", "%s", msg);
		goto out;
	}
	/* bounded: an action whose outcome cannot be stored stays due */
	for (int round = 0; round < 100 && (n = risk_engine_act(st, &cfg, clock_real_ms(), 64)) > 0; round++)
		acted += n;
	fprintf(out, "evaluated %u sightings and %u held tokens; %u new findings; %u tokens scored;"
		     " %d actions attempted\n", stats.seen, stats.held, stats.findings, stats.scored,
		acted);
	rc = 0;
out:
	store_close(st);
	risk_config_free(&cfg);
	return rc;
}

struct cli_opts {
	bool json, once;
	const char *sort;
	unsigned interval;
	const char *arg;      /* the fingerprint of `token` */
	const char *min_severity, *fingerprint, *risk_config;
	const char *limit;
	/* the token page's parameters by token_page_arg_names */
	const char *page[TOKEN_PAGE_ARG_COUNT];
};

/* The token page's parameters of the command line, for token_page_args. */
static const char *page_arg(void *ctx, const char *name)
{
	const struct cli_opts *o = ctx;

	for (size_t i = 0; i < TOKEN_PAGE_ARG_COUNT; i++)
		if (!strcmp(token_page_arg_names[i], name))
			return o->page[i];
	return NULL;
}

/* Options that only carry a token page parameter: the option's value by name. */
enum page_opt { O_CURSOR = 512, O_TYPE, O_NAMESPACE, O_WORKLOAD, O_NODE, O_HELD, O_MIN_RISK,
		O_PREFIX };
static const struct {
	int opt;
	const char *arg;
} page_opts[] = {
	{ O_CURSOR, "cursor" }, { O_TYPE, "type" }, { O_NAMESPACE, "namespace" },
	{ O_WORKLOAD, "workload" }, { O_NODE, "node" }, { O_HELD, "held" },
	{ O_MIN_RISK, "min_risk" }, { O_PREFIX, "fingerprint" },
};

static void set_page_arg(struct cli_opts *o, const char *name, const char *v)
{
	for (size_t i = 0; i < TOKEN_PAGE_ARG_COUNT; i++)
		if (!strcmp(token_page_arg_names[i], name))
			o->page[i] = v;
}

static int parse(int argc, char **argv, struct cli_source *src, struct cli_opts *o, FILE *out,
		 FILE *err)
{
	enum { O_JSON = 256, O_SORT, O_DB, O_URL, O_TOKEN_FILE, O_INTERVAL, O_ONCE, O_MINSEV, O_FP,
	       O_LIMIT, O_RISK, O_LOGFMT };
	static const struct option lo[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "sort", required_argument, NULL, O_SORT },
		{ "db", required_argument, NULL, O_DB },
		{ "url", required_argument, NULL, O_URL },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "once", no_argument, NULL, O_ONCE },
		{ "min-severity", required_argument, NULL, O_MINSEV },
		{ "fingerprint", required_argument, NULL, O_FP },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "risk-config", required_argument, NULL, O_RISK },
		{ "log-format", required_argument, NULL, O_LOGFMT },
		{ "cursor", required_argument, NULL, O_CURSOR },
		{ "type", required_argument, NULL, O_TYPE },
		{ "namespace", required_argument, NULL, O_NAMESPACE },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "node", required_argument, NULL, O_NODE },
		{ "held", required_argument, NULL, O_HELD },
		{ "min-risk", required_argument, NULL, O_MIN_RISK },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = argv[0];
	enum log_format fmt;
	uint64_t v;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		for (size_t i = 0; i < sizeof(page_opts) / sizeof(page_opts[0]); i++)
			if (c == page_opts[i].opt) {
				if (strcmp(cmd, "tokens")) {
					cli_error(err, cmd, "\"%s\" is an option of tokens",
						  argv[optind - 1]);
					return 2;
				}
				set_page_arg(o, page_opts[i].arg, optarg);
				c = 0;
			}
		switch (c) {
		case 0: break;
		case O_JSON: o->json = true; break;
		case O_SORT:
			o->sort = optarg;
			set_page_arg(o, "sort", optarg);
			break;
		case O_DB: src->db = optarg; break;
		case O_URL: src->url = optarg; break;
		case O_TOKEN_FILE: src->token_file = optarg; break;
		case O_ONCE: o->once = true; break;
		case O_MINSEV: o->min_severity = optarg; break;
		case O_FP: o->fingerprint = optarg; break;
		case O_RISK: o->risk_config = optarg; break;
		case O_LOGFMT:
			if (log_format_parse(optarg, &fmt) < 0) {
				cli_error(err, cmd, "--log-format takes text or json, not \"%s\"", optarg);
				return 2;
			}
			/* at once: the errors of later options are in this format too */
			log_setup(NULL, fmt);
			break;
		case O_LIMIT:
			/* checked by the command: alerts and tokens take different ranges */
			o->limit = optarg;
			set_page_arg(o, "limit", optarg);
			break;
		case O_INTERVAL:
			if (numarg_uint(optarg, 1, 3600, &v) < 0) {
				cli_error(err, cmd, "--interval takes 1..3600 seconds");
				return 2;
			}
			o->interval = (unsigned)v;
			break;
		case 'h':
			cli_usage(cmd, out);
			return 0;
		default:
			cli_error(err, cmd, "unknown or incomplete option \"%s\"", argv[optind - 1]);
			cli_usage(cmd, err);
			return 2;
		}
	}
	if (!strcmp(cmd, "token")) {
		if (optind + 1 != argc) {
			cli_error(err, "token", "give one FINGERPRINT");
			return 2;
		}
		o->arg = argv[optind];
	} else if (optind < argc) {
		cli_error(err, cmd, "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	return -1;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli_source src = { 0 };
	struct cli_opts o = { .interval = 1 };
	struct json_object *res = NULL;
	enum risk_severity sev = RISK_SEV_INFO;
	enum token_sort sort;
	struct token_page_query page;
	int paged = 0;
	unsigned limit = 0;
	uint64_t v;
	const char *cmd = argv[0];
	char msg[512];
	int rc = parse(argc, argv, &src, &o, out, err);

	if (rc >= 0)
		return rc;
	if (token_sort_parse(o.sort, &sort) < 0) {
		cli_error(err, cmd, "--sort takes last_seen, requests, risk or first_seen");
		return 2;
	}
	if (!strcmp(cmd, "tokens")) {
		const char *why = "";

		paged = token_page_args(page_arg, &o, &page, &why);
		if (paged < 0) {
			/* the API's words for its parameters, as the options are named */
			cli_error(err, cmd, "%s", why);
			return 2;
		}
	} else if (o.limit) {
		if (numarg_uint(o.limit, 1, 100000, &v) < 0) {
			cli_error(err, cmd, "--limit takes 1..100000");
			return 2;
		}
		limit = (unsigned)v;
	}
	if (o.min_severity && risk_severity_parse(o.min_severity, &sev) < 0) {
		cli_error(err, cmd, "--min-severity takes info, low, medium, high or critical");
		return 2;
	}
	if (o.fingerprint && !fingerprint_valid(o.fingerprint)) {
		cli_error(err, cmd, "a fingerprint is 32 lowercase hexadecimal characters");
		return 2;
	}
	if (!strcmp(cmd, "evaluate"))
		return cli_evaluate(&src, o.risk_config, out, err);
	if (o.arg && !fingerprint_valid(o.arg)) {
		cli_error(err, "token", "a fingerprint is 32 lowercase hexadecimal characters");
		return 2;
	}
	if (cli_source_open(&src, msg, sizeof(msg)) < 0) {
		cli_error(err, cmd, "%s", msg);
		cli_source_close(&src);
		return strstr(msg, "exactly one") ? 2 : 1;
	}
	rc = 1;
	if (!strcmp(cmd, "top")) {
		rc = cli_top(&src, o.interval, o.once, out, err);
	} else if (!strcmp(cmd, "tokens")) {
		if (paged) {
			if (cli_fetch_token_page(&src, &page, o.page, &res, msg, sizeof(msg)) == 0) {
				struct json_object *next;

				if (o.json) {
					render_json(out, res);
				} else {
					render_tokens(out, json_object_object_get(res, "tokens"), 32);
					if (json_object_object_get_ex(res, "next_cursor", &next))
						fprintf(out, "more: --cursor %s\n",
							json_object_get_string(next));
				}
				rc = 0;
			}
		} else if (cli_fetch_tokens(&src, sort, &res, msg, sizeof(msg)) == 0) {
			if (o.json)
				render_json(out, res);
			else
				render_tokens(out, res, 32);
			rc = 0;
		}
	} else if (!strcmp(cmd, "token")) {
		int found = cli_fetch_token(&src, o.arg, &res, msg, sizeof(msg));

		if (found == 0)
			snprintf(msg, sizeof(msg), "unknown token %s", o.arg);
		if (found == 1) {
			if (o.json)
				render_json(out, res);
			else
				render_token(out, res);
			rc = 0;
		}
	} else if (!strcmp(cmd, "alerts")) {
		struct alert_filter f = { .min_severity = (int)sev, .fingerprint = o.fingerprint,
					  .limit = limit ? limit : 1000 };

		if (cli_fetch_alerts(&src, &f, &res, msg, sizeof(msg)) == 0) {
			if (o.json)
				render_json(out, res);
			else
				render_alerts(out, res);
			rc = 0;
		}
	} else if (!strcmp(cmd, "coverage")) {
		if (cli_fetch_coverage(&src, &res, msg, sizeof(msg)) == 0) {
			if (o.json)
				render_json(out, res);
			else
				render_coverage(out, res, false);
			rc = 0;
		}
	} else if (cli_fetch_sensors(&src, &res, msg, sizeof(msg)) == 0) {
		if (o.json)
			render_json(out, res);
		else
			render_sensors(out, res);
		rc = 0;
	}
	if (rc == 1 && strcmp(cmd, "top"))
		cli_error(err, cmd, "%s", msg);
	json_object_put(res);
	cli_source_close(&src);
	return rc;
}
