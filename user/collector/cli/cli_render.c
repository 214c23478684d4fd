/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_render.h"

#include <inttypes.h>
#include <string.h>

#define USAGE_ROWS 60   /* minutes shown in the single-token view */

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static struct json_object *arr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static size_t arr_len(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/*
 * Copies s into out (cap bytes) with control characters as '?', cut to
 * at most width bytes on a UTF-8 boundary ("~" marks a cut).
 */
static void clean(const char *s, size_t width, char *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (width + 1 > cap)
		width = cap - 1;
	if (n > width) {
		n = width ? width - 1 : 0;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		/* C1 controls (U+0080..U+009F) act as escapes on some terminals */
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			out[i] = '?';
			out[++i] = '?';
		}
	}
	if (strlen(s) > n && width)
		out[i++] = '~';
	out[i] = '\0';
}

static void cell(FILE *out, const char *s, int width)
{
	char buf[512];

	clean(s, (size_t)width, buf, sizeof(buf));
	fprintf(out, "%-*s ", width, buf);
}

/* "2026-01-02T03:04:05.678Z" -> "2026-01-02 03:04:05" */
static void when(const char *t, char *out, size_t cap)
{
	char head[20];

	snprintf(head, sizeof(head), "%.19s", t);
	clean(head, 19, out, cap);
	if (strlen(out) > 10 && out[10] == 'T')
		out[10] = ' ';
}

/* "curl[123]@node +2" for the busiest process of a token. */
static void summarize_processes(struct json_object *ps, char *out, size_t cap)
{
	struct json_object *p = arr_len(ps) ? json_object_array_get_idx(ps, 0) : NULL;
	const char *exe, *base;

	if (!p) {
		snprintf(out, cap, "-");
		return;
	}
	exe = str(p, "exe")[0] ? str(p, "exe") : str(p, "comm");
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	snprintf(out, cap, "%s[%" PRId64 "]@%s", base[0] ? base : "?", num(p, "pid"),
		 str(p, "node"));
	if (arr_len(ps) > 1)
		snprintf(out + strlen(out), cap - strlen(out), " +%zu", arr_len(ps) - 1);
}

static void summarize_destinations(struct json_object *ds, char *out, size_t cap)
{
	struct json_object *d = arr_len(ds) ? json_object_array_get_idx(ds, 0) : NULL;

	if (!d) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "%s", str(d, "host")[0] ? str(d, "host") : str(d, "dst"));
	if (!out[0])
		snprintf(out, cap, "?");
	if (arr_len(ds) > 1)
		snprintf(out + strlen(out), cap - strlen(out), " +%zu", arr_len(ds) - 1);
}

void render_json(FILE *out, struct json_object *o)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_SPACED |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* "73" or "-" when the token was not assessed yet. */
static void score_text(struct json_object *t, char *out, size_t cap)
{
	struct json_object *risk = json_object_object_get(t, "risk"), *sc;

	if (risk && json_object_object_get_ex(risk, "score", &sc) && sc)
		snprintf(out, cap, "%" PRId64, json_object_get_int64(sc));
	else
		snprintf(out, cap, "-");
}

void render_tokens(FILE *out, struct json_object *tokens, int fp_width)
{
	char procs[256], dsts[256], seen[32], req[32], score[16];

	fprintf(out, "%4s %-18s %-*s %9s %-30s %-30s %s\n", "RISK", "TYPE", fp_width, "FINGERPRINT",
		"REQUESTS", "PROCESSES", "DESTINATIONS", "LAST SEEN");
	for (size_t i = 0; i < arr_len(tokens); i++) {
		struct json_object *t = json_object_array_get_idx(tokens, i);

		score_text(t, score, sizeof(score));
		fprintf(out, "%4s ", score);

		summarize_processes(arr(t, "processes"), procs, sizeof(procs));
		summarize_destinations(arr(t, "destinations"), dsts, sizeof(dsts));
		when(str(t, "last_seen"), seen, sizeof(seen));
		snprintf(req, sizeof(req), "%" PRId64, num(t, "requests"));
		cell(out, str(t, "token_type"), 18);
		cell(out, str(t, "fingerprint"), fp_width);
		fprintf(out, "%9s ", req);
		cell(out, procs, 30);
		cell(out, dsts, 30);
		fprintf(out, "%s\n", seen);
	}
	if (arr_len(tokens) == 0)
		fprintf(out, "(no tokens seen yet)\n");
}

static void render_metadata(FILE *out, struct json_object *md)
{
	char buf[512];

	if (!md || !json_object_is_type(md, json_type_object))
		return;
	json_object_object_foreach(md, key, val) {
		const char *v = json_object_is_type(val, json_type_string)
					? json_object_get_string(val)
					: json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
										       JSON_C_TO_STRING_NOSLASHESCAPE);

		clean(key, 20, buf, sizeof(buf));
		fprintf(out, "  %-20s ", buf);
		clean(v, 400, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
}

/* Score, reasons, held inventory and revocations of the single-token view. */
static void render_risk(FILE *out, struct json_object *t)
{
	struct json_object *risk = json_object_object_get(t, "risk"), *a;
	char buf[512], score[16], b1[32];

	score_text(t, score, sizeof(score));
	fprintf(out, "\nRISK %s/100", score);
	clean(str(risk, "impact_why"), 200, buf, sizeof(buf));
	if (buf[0])
		fprintf(out, " (impact: %s)", buf);
	clean(str(t, "held_state"), 40, buf, sizeof(buf));
	fprintf(out, "  held: %s\n", buf[0] ? buf : "-");
	a = arr(risk, "reasons");
	for (size_t i = 0; i < arr_len(a); i++) {
		struct json_object *r = json_object_array_get_idx(a, i);

		fprintf(out, "  %-8s ", str(r, "severity"));
		cell(out, str(r, "rule"), 26);
		clean(str(r, "reason"), 300, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	a = arr(t, "held");
	if (arr_len(a)) {
		fprintf(out, "\nHELD BY (%zu)\n  %-16s %8s %-40s %-8s %s\n", arr_len(a), "NODE", "PID",
			"EXE", "SOURCE", "NAME");
		for (size_t i = 0; i < arr_len(a); i++) {
			struct json_object *h = json_object_array_get_idx(a, i);

			fprintf(out, "  ");
			cell(out, str(h, "node"), 16);
			fprintf(out, "%8" PRId64 " ", num(h, "pid"));
			cell(out, str(h, "exe"), 40);
			cell(out, str(h, "source"), 8);
			clean(str(h, "name"), 64, buf, sizeof(buf));
			fprintf(out, "%s\n", buf);
		}
	}
	a = arr(t, "revocations");
	for (size_t i = 0; i < arr_len(a); i++) {
		struct json_object *r = json_object_array_get_idx(a, i);

		if (i == 0)
			fprintf(out, "\nREVOCATIONS\n");
		when(str(r, "ts"), b1, sizeof(b1));
		fprintf(out, "  %s ", b1);
		cell(out, str(r, "hook"), 24);
		cell(out, str(r, "outcome"), 8);
		clean(str(r, "detail"), 200, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
}

void render_alerts(FILE *out, struct json_object *alerts)
{
	char b1[32], buf[512];

	fprintf(out, "%-19s %-8s %-26s %-18s %-12s %s\n", "FIRST SEEN", "SEVERITY", "RULE", "TYPE",
		"TOKEN", "REASON");
	for (size_t i = 0; i < arr_len(alerts); i++) {
		struct json_object *a = json_object_array_get_idx(alerts, i);

		when(str(a, "first_seen"), b1, sizeof(b1));
		fprintf(out, "%-19s ", b1);
		cell(out, str(a, "severity"), 8);
		cell(out, str(a, "rule"), 26);
		cell(out, str(a, "token_type"), 18);
		cell(out, str(a, "fingerprint"), 12);
		clean(str(a, "reason"), 300, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	if (arr_len(alerts) == 0)
		fprintf(out, "(no alerts)\n");
}

/* A process in a pod: its Kubernetes names under its row, when the pod watcher gave them. */
static void render_pod(FILE *out, struct json_object *p)
{
	char ns[64], kind[32], name[254], pod[254], ctr[64], img[256];

	if (!str(p, "pod")[0] && !str(p, "workload_name")[0])
		return;
	clean(str(p, "k8s_namespace"), 63, ns, sizeof(ns));
	clean(str(p, "workload_kind"), 31, kind, sizeof(kind));
	clean(str(p, "workload_name"), 253, name, sizeof(name));
	clean(str(p, "pod"), 253, pod, sizeof(pod));
	clean(str(p, "container"), 63, ctr, sizeof(ctr));
	clean(str(p, "image"), 255, img, sizeof(img));
	fprintf(out, "    workload %s/%s/%s  pod %s  container %s  image %s\n", ns[0] ? ns : "-",
		kind[0] ? kind : "-", name[0] ? name : "-", pod[0] ? pod : "-", ctr[0] ? ctr : "-",
		img[0] ? img : "-");
}

void render_token(FILE *out, struct json_object *t)
{
	struct json_object *a;
	char b1[32], b2[32], buf[512];
	size_t n, start;

	clean(str(t, "fingerprint"), 32, buf, sizeof(buf));
	fprintf(out, "token        %s\n", buf);
	clean(str(t, "token_type"), 32, buf, sizeof(buf));
	fprintf(out, "type         %s\n", buf);
	when(str(t, "first_seen"), b1, sizeof(b1));
	when(str(t, "last_seen"), b2, sizeof(b2));
	fprintf(out, "first seen   %s UTC\nlast seen    %s UTC\n", b1, b2);
	fprintf(out, "requests     %" PRId64 "\n", num(t, "requests"));
	fprintf(out, "nodes       ");
	a = arr(t, "nodes");
	for (size_t i = 0; i < arr_len(a); i++) {
		clean(json_object_get_string(json_object_array_get_idx(a, i)), 64, buf, sizeof(buf));
		fprintf(out, " %s", buf);
	}
	fprintf(out, "\nmetadata\n");
	render_metadata(out, json_object_object_get(t, "metadata"));
	render_risk(out, t);

	a = arr(t, "processes");
	fprintf(out, "\nPROCESSES (%zu)\n  %-16s %8s %-40s %9s %-19s %-19s %s\n", arr_len(a), "NODE",
		"PID", "EXE", "REQUESTS", "FIRST SEEN", "LAST SEEN", "CONTAINER");
	for (size_t i = 0; i < arr_len(a); i++) {
		struct json_object *p = json_object_array_get_idx(a, i);

		fprintf(out, "  ");
		cell(out, str(p, "node"), 16);
		fprintf(out, "%8" PRId64 " ", num(p, "pid"));
		cell(out, str(p, "exe")[0] ? str(p, "exe") : str(p, "comm"), 40);
		fprintf(out, "%9" PRId64 " ", num(p, "requests"));
		when(str(p, "first_seen"), b1, sizeof(b1));
		when(str(p, "last_seen"), b2, sizeof(b2));
		fprintf(out, "%-19s %-19s ", b1, b2);
		clean(str(p, "container_id"), 12, buf, sizeof(buf));
		fprintf(out, "%s\n", buf[0] ? buf : "-");
		render_pod(out, p);
	}

	a = arr(t, "destinations");
	fprintf(out, "\nDESTINATIONS (%zu)\n  %-24s %-32s %-4s %9s %-19s %s\n", arr_len(a), "DST",
		"HOST", "TLS", "REQUESTS", "FIRST SEEN", "LAST SEEN");
	for (size_t i = 0; i < arr_len(a); i++) {
		struct json_object *d = json_object_array_get_idx(a, i);

		fprintf(out, "  ");
		cell(out, str(d, "dst")[0] ? str(d, "dst") : "-", 24);
		cell(out, str(d, "host")[0] ? str(d, "host") : "-", 32);
		cell(out, json_object_get_boolean(json_object_object_get(d, "tls")) ? "yes" : "no", 4);
		fprintf(out, "%9" PRId64 " ", num(d, "requests"));
		when(str(d, "first_seen"), b1, sizeof(b1));
		when(str(d, "last_seen"), b2, sizeof(b2));
		fprintf(out, "%-19s %s\n", b1, b2);
	}

	a = arr(t, "usage");
	if (a) {
		n = arr_len(a);
		start = n > USAGE_ROWS ? n - USAGE_ROWS : 0;
		fprintf(out, "\nUSAGE PER MINUTE (last %zu of %zu minutes with requests)\n", n - start, n);
		for (size_t i = start; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(a, i);

			when(str(u, "minute"), b1, sizeof(b1));
			fprintf(out, "  %.16s  %" PRId64 "\n", b1, num(u, "count"));
		}
	}
}

void render_sensors(FILE *out, struct json_object *sensors)
{
	char seen[32];

	fprintf(out, "%-36s %-20s %-8s %-19s %8s %8s %10s %8s\n", "SENSOR ID", "NODE", "VERSION",
		"LAST SEEN", "LAST SEQ", "BATCHES", "EVENTS", "DROPS");
	for (size_t i = 0; i < arr_len(sensors); i++) {
		struct json_object *s = json_object_array_get_idx(sensors, i);
		struct json_object *st = json_object_object_get(s, "status");

		cell(out, str(s, "sensor_id"), 36);
		cell(out, str(s, "node"), 20);
		cell(out, str(s, "version"), 8);
		when(str(s, "last_seen"), seen, sizeof(seen));
		fprintf(out, "%-19s %8" PRId64 " %8" PRId64 " %10" PRId64 " ", seen,
			num(s, "last_seq"), num(s, "batches"), num(s, "events"));
		if (st)
			fprintf(out, "%8" PRId64 "\n", num(st, "ringbuf_drops"));
		else
			fprintf(out, "%8s\n", "-");
	}
	if (arr_len(sensors) == 0)
		fprintf(out, "(no sensor has reported yet)\n");
}

/* As cell, but a long value keeps its end ("~" marks the cut): a program's name is at the end. */
static void cell_tail(FILE *out, const char *s, int width)
{
	size_t n = strlen(s), skip;

	if (n <= (size_t)width) {
		cell(out, s, width);
		return;
	}
	skip = n - (size_t)width + 1;
	while (skip < n && ((unsigned char)s[skip] & 0xc0) == 0x80)
		skip++;
	fputc('~', out);
	cell(out, s + skip, width - 1);
}

void render_coverage(FILE *out, struct json_object *cov, bool only_uncovered)
{
	size_t shown = 0;
	char seen[32];

	fprintf(out, "%-16s %-44s %-7s %-48s %-19s %s\n", "NODE", "EXECUTABLE", "COVERED", "WHY",
		"LAST SEEN", "DESTINATIONS");
	for (size_t i = 0; i < arr_len(cov); i++) {
		struct json_object *c = json_object_array_get_idx(cov, i);
		struct json_object *dests = arr(c, "destinations");
		bool covered = json_object_get_boolean(json_object_object_get(c, "covered"));
		char why[160], buf[80];
		size_t nd = arr_len(dests);

		if (covered && only_uncovered)
			continue;
		shown++;
		/* covered: the library seen into; not: the cause and what it names */
		if (covered)
			snprintf(why, sizeof(why), "%s", str(c, "tls_library"));
		else if (str(c, "detail")[0])
			snprintf(why, sizeof(why), "%s (%s)", str(c, "cause"), str(c, "detail"));
		else
			snprintf(why, sizeof(why), "%s", str(c, "cause"));
		cell(out, str(c, "node"), 16);
		cell_tail(out, str(c, "exe"), 44);
		cell(out, covered ? "yes" : "no", 7);
		cell(out, why, 48);
		when(str(c, "last_seen"), seen, sizeof(seen));
		fprintf(out, "%-19s ", seen);
		for (size_t d = 0; d < nd && d < 3; d++) {
			clean(json_object_get_string(json_object_array_get_idx(dests, d)), 64, buf,
			      sizeof(buf));
			fprintf(out, "%s%s", d ? "," : "", buf);
		}
		if (nd > 3)
			fprintf(out, " +%zu", nd - 3);
		fputc('\n', out);
	}
	if (shown == 0)
		fprintf(out, only_uncovered ? "(every TLS sender seen is covered)\n"
					    : "(no TLS sender reported yet)\n");
}
