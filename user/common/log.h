/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics on stderr, one line each: "PROGRAM: message" (with
 * "warning: " or "error: " before the message at those levels), or with
 * --log-format json one JSON object per line: {"ts", "level", "program",
 * "msg"}. Never pass request data or secrets here: only paths, counts and
 * errors. Thread-safe: each line is written with one call.
 */
#ifndef TOKENTAP_LOG_H
#define TOKENTAP_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/*
 * Names the program in every line ("tokentap", "tokentap-collector"; the
 * string must outlive the process's logging) and chooses the format.
 * Before the first call the program is "tokentap" and the format text.
 */
void log_setup(const char *program, enum log_format format);
/* "text" or "json"; 0, or -1 for anything else. */
int log_format_parse(const char *s, enum log_format *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
