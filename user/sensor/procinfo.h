/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pid -> executable path. Short-lived clients (curl) may be gone before
 * their events are read, so the path is taken at exec time and cached.
 */
#ifndef TOKENTAP_PROCINFO_H
#define TOKENTAP_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

int procinfo_init(void);
void procinfo_free(void);
/* Copies the executable path of pid into out ("" when unknown). */
void procinfo_exe(uint32_t pid, char *out, size_t outlen);
/*
 * A process called execve(filename), or was found running: remember its
 * program now.
 */
void procinfo_exec(uint32_t pid, const char *filename);

#endif
