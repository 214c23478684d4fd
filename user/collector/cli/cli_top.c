/* SPDX-License-Identifier: Apache-2.0 */
/* `top`: the inventory redrawn every interval until Ctrl-C. */
#include "cli.h"
#include "clock.h"
#include "cli_fetch.h"
#include "cli_render.h"
#include "timefmt.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#define TOP_ALERTS 8

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void frame(struct cli_source *src, FILE *out, bool clear)
{
	struct json_object *tokens = NULL;
	char err[512], now[40];
	int64_t total = 0;
	size_t n;

	time_rfc3339_ms(clock_real_ms(), now, sizeof(now));
	if (clear)
		fputs("\033[H\033[2J", out); /* cursor home, clear screen */
	if (cli_fetch_tokens(src, TOKEN_SORT_LAST_SEEN, &tokens, err, sizeof(err)) < 0) {
		fprintf(out, "tokentap top  %s  (Ctrl-C quits)\n\nerror: %s\n", now, err);
		fflush(out);
		return;
	}
	n = json_object_array_length(tokens);
	for (size_t i = 0; i < n; i++)
		total += json_object_get_int64(
			json_object_object_get(json_object_array_get_idx(tokens, i), "requests"));
	fprintf(out, "tokentap top  %s  %zu tokens, %lld requests  (Ctrl-C quits)\n\n", now, n,
		(long long)total);
	render_tokens(out, tokens, 12);
	json_object_put(tokens);
	{
		/* the newest alerts under the inventory */
		struct alert_filter f = { .min_severity = 0, .limit = TOP_ALERTS };
		struct json_object *alerts = NULL;

		if (cli_fetch_alerts(src, &f, &alerts, err, sizeof(err)) == 0) {
			fprintf(out, "\nLATEST ALERTS\n");
			render_alerts(out, alerts);
		}
		json_object_put(alerts);
	}
	{
		/* what the sensors cannot see: executables whose TLS is not read */
		struct json_object *cov = NULL;

		if (cli_fetch_coverage(src, &cov, err, sizeof(err)) == 0) {
			fprintf(out, "\nNOT COVERED\n");
			render_coverage(out, cov, true);
		}
		json_object_put(cov);
	}
	fflush(out);
}

int cli_top(struct cli_source *src, unsigned interval, bool once, FILE *out, FILE *err)
{
	struct sigaction sa;

	(void)err;
	if (once) {
		frame(src, out, false);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	stop = 0;
	while (!stop) {
		struct timespec ts = { .tv_sec = interval };

		frame(src, out, true);
		/* a signal interrupts the sleep: Ctrl-C quits at once */
		while (!stop && nanosleep(&ts, &ts) != 0)
			;
	}
	fputs("\n", out);
	return 0;
}
