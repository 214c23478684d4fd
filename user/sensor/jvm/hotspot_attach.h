/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TOKENTAP_HOTSPOT_ATTACH_H
#define TOKENTAP_HOTSPOT_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The request of HotSpot's attach protocol (version 1) that loads a Java
 * agent: "1\0load\0instrument\0false\0JAR=ARG\0". Returns its length, or
 * 0 when it does not fit in cap or a field holds a NUL-free but unusable
 * value (empty jar, '=' in the jar path).
 */
size_t hotspot_load_request(char *buf, size_t cap, const char *jar, const char *arg);

/*
 * The JVM's answer to the load request says the agent loaded: "0\n" (the
 * command ran) then the agent's status 0, as "return code: 0" (JDK 9+)
 * or "0" (JDK 8).
 */
bool hotspot_load_answer_ok(const char *ans);

/*
 * The /tmp of process pid's mount namespace, opened with every path
 * component resolved inside its root (openat2 RESOLVE_IN_ROOT); -1 with
 * errno when it cannot be.
 */
int hotspot_tmp_dir(uint32_t pid);

/*
 * Loads the agent jar (a path inside the target's mount namespace) into
 * the JVM pid (host pid; nspid its pid in its own namespace) by HotSpot's
 * dynamic attach: trigger file .attach_pidNSPID in its /tmp, SIGQUIT, its
 * socket /tmp/.java_pidNSPID, the load request, the answer. Every wait is
 * bounded by timeout_ms in all. 0 when the agent loaded; else -1 with err.
 */
int hotspot_attach(uint32_t pid, uint32_t nspid, const char *jar, const char *arg, int timeout_ms,
		   volatile int *stop, char *err, size_t errlen);

#endif
