/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics on stderr, one line each: "PROGRAM: message" (with
 * "warning: " or "error: " before the message at those levels), or with
 * --log-format json one JSON object per line: {"ts", "level", "program",
 * "msg"}, with "command" on a subcommand's lines (log_cmd). Never pass request data or secrets here: only paths, counts and
 * errors. Thread-safe: each line is written with one call.
 */
#ifndef TOKENTAP_LOG_H
#define TOKENTAP_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/*
 * Names the program in every line ("tokentap", "tokentap-collector"; the
 * string must outlive the process's logging; NULL keeps the current one)
 * and chooses the format. Before the first call the program is "tokentap"
 * and the format text.
 */
void log_setup(const char *program, enum log_format format);
/* "text" or "json"; 0, or -1 for anything else. */
int log_format_parse(const char *s, enum log_format *out);
enum log_format log_format_current(void);

/*
 * Text lines without the level word, "PROGRAM: message" at every level: the
 * collector's lines have always read so. JSON lines keep their "level".
 */
void log_text_levels(bool on);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A line of one subcommand ("serve", "evaluate") on stream f (stderr, or
 * the error stream a command was handed): "PROGRAM COMMAND: message" in
 * text, a "command" member in JSON.
 */
void log_cmd(FILE *f, enum log_level level, const char *command, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
/* Debug lines are written only when v is true (the -v flags). */
#define log_verbose(v, ...)                              \
	do {                                             \
		if (v)                                   \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
