/* SPDX-License-Identifier: Apache-2.0 */
/* The query commands: tokens, token FINGERPRINT, sensors, top. */
#ifndef TOKENTAP_CLI_H
#define TOKENTAP_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* argv[0] is the command name. Returns the process exit status. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);
/* Whether name is one of the query commands. */
bool cli_is_command(const char *name);
void cli_usage(const char *cmd, FILE *out);

/* The live view; interval in seconds; once: one frame, no screen control. */
struct cli_source;
int cli_top(struct cli_source *src, unsigned interval, bool once, FILE *out, FILE *err);

#endif
