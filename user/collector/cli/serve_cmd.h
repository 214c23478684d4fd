/* SPDX-License-Identifier: Apache-2.0 */
/* `tokentap-collector serve`: options, startup, signal-driven shutdown. */
#ifndef TOKENTAP_SERVE_CMD_H
#define TOKENTAP_SERVE_CMD_H

#include <stdio.h>

/* argv[0] is "serve". Returns the process exit status. */
int serve_main(int argc, char **argv);
void serve_usage(FILE *out);

#endif
