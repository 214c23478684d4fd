/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics on stderr, one line each, prefixed "tokentap: ". Never pass
 * request data here: only paths, counts and errors.
 */
#ifndef TOKENTAP_LOG_H
#define TOKENTAP_LOG_H

#include <stdio.h>

#define log_info(fmt, ...) fprintf(stderr, "tokentap: " fmt "\n", ##__VA_ARGS__)
#define log_warn(fmt, ...) fprintf(stderr, "tokentap: warning: " fmt "\n", ##__VA_ARGS__)
#define log_error(fmt, ...) fprintf(stderr, "tokentap: error: " fmt "\n", ##__VA_ARGS__)
#define log_verbose(v, fmt, ...)                                   \
	do {                                                       \
		if (v)                                             \
			fprintf(stderr, "tokentap: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif
