/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the risk configuration parser with arbitrary bytes (an exact-size
 * heap copy, not NUL-terminated, so any over-read is caught), then uses
 * what was accepted: copies it, scores and evaluates with it, frees it.
 * The same bytes, NUL-terminated, also feed the subject helpers and the
 * JWT claims reader as hosts, peers, cgroups and claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"

static void use_config(const struct risk_config *c, const char *text)
{
	struct risk_token t = {
		.type = "github_pat", .prefix = "ghp_", .scheme = "Bearer",
		.header = "authorization", .aws_key_kind = "", .basic_password_type = "",
		.jwt_json = text,
	};
	struct risk_use u = {
		.ts_ms = 1700000000000LL, .workload = text, .node = text, .exe = text, .comm = "x",
		.cmdline = text, .cgroup = text, .dst = text, .host = text, .dest = text,
		.method = "POST", .path = "/", .tls = false, .in_query = true,
	};
	struct risk_history h = {
		.first_used_ms = 1, .prev_last_used_ms = 1, .baseline_reads_only = true,
		.workloads = 100, .nodes = 100,
	};
	struct risk_held hd = {
		.source = "argv", .name = text, .exe = text, .node = text, .first_held_ms = 1,
	};
	enum risk_rule rules[RULE__COUNT];
	struct risk_finding f[RULE__COUNT];
	struct risk_score s;
	size_t n;

	n = risk_eval_use(c, &t, &u, &h, f, RULE__COUNT);
	n += risk_eval_held(c, &t, &hd, 1700000000000LL, f + (n < RULE__COUNT ? n : 0),
			    RULE__COUNT - (n < RULE__COUNT ? n : 0));
	for (size_t i = 0; i < n && i < RULE__COUNT; i++)
		rules[i] = f[i].rule;
	risk_score_token(c, &t, rules, n < RULE__COUNT ? n : RULE__COUNT, 0, &s);
	if (s.score < 0 || s.score > 100)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct risk_config c, copy;
	char err[256], *buf, *text;
	char out[RISK_SUBJECT_MAX];
	struct risk_jwt jwt;

	buf = malloc(size ? size : 1);
	text = malloc(size + 1);
	if (!buf || !text) {
		free(buf);
		free(text);
		return 0;
	}
	memcpy(buf, data, size);
	memcpy(text, data, size);
	text[size] = '\0';

	risk_config_default(&c);
	if (risk_config_parse(&c, buf, size, err, sizeof(err)) == 0) {
		if (risk_config_copy(&copy, &c) == 0) {
			use_config(&copy, text);
			risk_config_free(&copy);
		}
	} else if (strlen(err) == 0 || strchr(err, '\n')) {
		abort(); /* a rejection always says why, on one line */
	}
	use_config(&c, text);
	(void)risk_wrong_provider(&c, "github_pat", text);
	(void)risk_wrong_provider(&c, text, "github.com");
	risk_config_free(&c);

	(void)risk_loopback(text);
	(void)risk_interactive(text, text, text);
	(void)risk_daemon(text, text, text);
	risk_workload(&(struct risk_proc){ text, text, text, text, text, text }, out, sizeof(out));
	risk_destination(text, text, out, sizeof(out));
	(void)risk_jwt_read(text, &jwt);
	free(buf);
	free(text);
	return 0;
}
