/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TOKENTAP_JVM_H
#define TOKENTAP_JVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Is this process a HotSpot JVM? Cheap: one pass over /proc/PID/maps
 * looking for libjvm.so mapped executable. proc: "/proc" (or a copy in
 * tests). False when unreadable.
 */
bool jvm_is_hotspot(const char *proc, uint32_t pid);
/* One /proc/PID/maps line: an executable mapping of a file named lib (e.g. "libjvm.so"). */
bool jvm_maps_line_maps(const char *line, const char *lib);
/*
 * What the process's maps show: JVM_HOTSPOT (libjvm.so), JVM_LAUNCHER
 * (only the launcher's libjli.so: a JVM still loading), or JVM_NONE.
 */
enum jvm_state { JVM_NONE, JVM_LAUNCHER, JVM_HOTSPOT };
enum jvm_state jvm_state_of(const char *proc, uint32_t pid);
/*
 * The pid in the process's own (innermost) pid namespace: the last field
 * of the NSpid line of /proc/PID/status, given as text of n bytes.
 * 0 on success, -1 when absent or malformed.
 */
int jvm_nspid_parse(const char *status, size_t n, uint32_t *nspid);
/*
 * The JVM is far enough in its start to answer an attach: it catches
 * SIGQUIT (SigCgt of its status) and its "Signal Dispatcher" thread, which
 * handles it, exists. Before that, or with -Xrs, SIGQUIT would end the
 * process.
 */
bool jvm_signal_ready(const char *proc, uint32_t pid);
/* The SigCgt mask of /proc/PID/status text (n bytes) has signal sig (1..64). */
bool jvm_status_catches(const char *status, size_t n, int sig);
/*
 * The command line (NUL-separated, n bytes) turns the attach mechanism
 * off (-XX:+DisableAttachMechanism): a SIGQUIT would only print a thread
 * dump on the program's output.
 */
bool jvm_cmdline_no_attach(const char *cmdline, size_t n);

#endif
