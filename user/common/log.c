/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"
#include "text.h"
#include "clock.h"
#include "timefmt.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Set once at startup, before any thread starts; read-only afterwards. */
static const char *log_program = "tokentap";
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static bool log_levels = true;

void log_setup(const char *program, enum log_format format)
{
	if (program && program[0])
		log_program = program;
	log_fmt = format;
}

void log_text_levels(bool on)
{
	log_levels = on;
}

enum log_format log_format_current(void)
{
	return log_fmt;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (!s || !out)
		return -1;
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

static const char *level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error";
	case LOG_LEVEL_WARN:
		return "warning";
	case LOG_LEVEL_DEBUG:
		return "debug";
	case LOG_LEVEL_INFO:
	default:
		return "info";
	}
}

/*
 * Messages carry paths and names taken from the host (an executable's
 * path, a file name): a newline in one must not forge a second log line,
 * and invalid UTF-8 must not make a JSON line unparseable. Control bytes
 * and bytes that are not UTF-8 become '?', in place.
 */
static void clean(char *msg)
{
	size_t n = strlen(msg);

	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)msg[i];
		size_t len;

		if (ch < 0x20 || ch == 0x7f) {
			msg[i++] = '?';
			continue;
		}
		len = ch < 0x80 ? 1 : utf8_seq((const unsigned char *)msg + i, n - i);
		if (len == 0) {
			msg[i++] = '?';
			continue;
		}
		i += len;
	}
}

static void log_write(FILE *f, enum log_level level, const char *command, const char *fmt,
		      va_list ap)
{
	char msg[2048], ts[40];
	const char *sep = command ? " " : "";

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clean(msg);
	if (!command)
		command = "";

	if (log_fmt == LOG_FORMAT_JSON) {
		struct json_object *o = json_object_new_object();

		time_rfc3339_ns(clock_real_ns(), ts, sizeof(ts));
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(level_name(level)));
		json_object_object_add(o, "program", json_object_new_string(log_program));
		if (command[0])
			json_object_object_add(o, "command", json_object_new_string(command));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	/* one fprintf per line, so lines of concurrent threads never interleave */
	if (log_levels && (level == LOG_LEVEL_ERROR || level == LOG_LEVEL_WARN))
		fprintf(f, "%s%s%s: %s: %s\n", log_program, sep, command, level_name(level), msg);
	else
		fprintf(f, "%s%s%s: %s\n", log_program, sep, command, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(stderr, level, NULL, fmt, ap);
	va_end(ap);
}

void log_cmd(FILE *f, enum log_level level, const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(f ? f : stderr, level, command, fmt, ap);
	va_end(ap);
}
