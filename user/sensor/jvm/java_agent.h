/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TOKENTAP_JAVA_AGENT_H
#define TOKENTAP_JAVA_AGENT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * --java: loads the Java agent (java/) into HotSpot JVMs, found running at
 * start and at each exec, in a thread of its own so that the main loop
 * never waits for a JVM. The agent's jar and JNI library are copied from
 * src_dir into the target's mount namespace (/tmp/tokentap-java/); the
 * library is then attached like any TLS library, when the JVM maps it.
 */
struct java_agent;

struct java_agent_stats {
	uint64_t attached; /* JVMs the agent was loaded into */
	uint64_t failed;   /* JVMs where copying or attaching failed */
	uint64_t overflow; /* processes not looked at: the queue was full */
};

/*
 * Starts the thread, which first looks at every process running (only_pid:
 * that one only, 0: all). NULL when the files are missing from src_dir or
 * the thread cannot start (logged).
 */
struct java_agent *java_agent_start(const char *src_dir, uint32_t self_pid, uint32_t only_pid,
				    int verbose);
/*
 * A process to look at; never blocks. NULL j: nothing. running: one look
 * decides; else just exec'd (looked at for a while: the launcher maps
 * libjvm.so only after it starts).
 */
void java_agent_queue(struct java_agent *j, uint32_t pid, bool running);
void java_agent_get_stats(struct java_agent *j, struct java_agent_stats *st);
/* Stops the thread (an attach under way is abandoned at its next step) and frees j. */
void java_agent_stop(struct java_agent *j);

#endif
