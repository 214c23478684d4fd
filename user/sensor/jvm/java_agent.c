/* SPDX-License-Identifier: Apache-2.0 */
#include "java_agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "hotspot_attach.h"
#include "jvm.h"
#include "log.h"

#define QUEUE_MAX 1024
#define PENDING_MAX 256
/* a process shows the launcher or libjvm this soon after exec, or is no JVM */
#define LOOK_NS (1500LL * 1000 * 1000)
/* a JVM starts its signal thread this soon, or is left alone */
#define READY_NS (30LL * 1000 * 1000 * 1000)
#define ROUND_MS 100
#define ATTACH_TIMEOUT_MS 15000
#define TARGET_NAME "tokentap-java"
#define TARGET_DIR "/tmp/" TARGET_NAME
#define JAR_NAME "tokentap-agent.jar"
#define LIB_NAME "libtokentap_java.so"
#define FILE_MAX (16 << 20)

struct pending {
	uint32_t pid;
	int64_t since_ns;
	int64_t next_ns;  /* next look */
	int64_t gap_ns;   /* doubles after each look at a process not seen as a JVM yet */
	bool jvm_seen;    /* launcher or libjvm seen: wait up to READY_NS */
	bool once;        /* found running at start: one look decides */
};

struct java_agent {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	volatile int stopping;
	struct {
		uint32_t pid;
		bool running; /* found at start, not at exec */
	} queue[QUEUE_MAX];
	size_t nqueue;
	struct pending pending[PENDING_MAX];
	size_t npending;
	char jar_path[4096], lib_path[4096];
	uint32_t self_pid;
	uint32_t only_pid; /* --pid: this process only */
	int verbose;
	struct java_agent_stats stats;
	/* host pids already attached, with their start times: never twice */
	struct {
		uint32_t pid;
		unsigned long long start;
	} done[PENDING_MAX];
	size_t ndone;
};

/* The process's start time (field 22 of stat): tells a reused pid apart. */
static unsigned long long start_time(uint32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* after the command name, which may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &t) != 1)
		return 0;
	return t;
}

static bool already_done(struct java_agent *j, uint32_t pid, unsigned long long st)
{
	for (size_t i = 0; i < j->ndone; i++)
		if (j->done[i].pid == pid && j->done[i].start == st)
			return true;
	return false;
}

static void mark_done(struct java_agent *j, uint32_t pid, unsigned long long st)
{
	size_t i = j->ndone < PENDING_MAX ? j->ndone++ : (size_t)(pid % PENDING_MAX);

	j->done[i].pid = pid;
	j->done[i].start = st;
}

/* The two descriptors hold the same bytes (both read from their start). */
static bool same_content(int a, int b)
{
	char x[8192], y[8192];
	size_t total = 0;

	for (;;) {
		ssize_t n = read(a, x, sizeof(x)), m;
		size_t got = 0;

		if (n < 0)
			return false;
		/* b may return fewer bytes per read: fill up to n */
		while (got < (size_t)n && (m = read(b, y + got, (size_t)n - got)) > 0)
			got += (size_t)m;
		if (got != (size_t)n || memcmp(x, y, got) != 0)
			return false;
		if (n == 0)
			return read(b, y, 1) == 0;
		total += (size_t)n;
		if (total > FILE_MAX)
			return false;
	}
}

/*
 * Copies src to name in dirfd through a temporary file and a rename. A
 * file already there with the same bytes is kept: a JVM hooked by an
 * earlier sensor maps it, and a replaced file would show as deleted in
 * its maps, where it would not be attached again.
 */
static int copy_into(int dirfd, const char *src, const char *name)
{
	char tmp[64], buf[65536];
	int in, out, cur, rc = -1;
	size_t total = 0;
	ssize_t n;
	bool same;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	cur = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (cur >= 0) {
		struct stat st;

		same = fstat(cur, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
		       !(st.st_mode & 022) && same_content(in, cur);
		close(cur);
		if (same) {
			close(in);
			return 0;
		}
		if (lseek(in, 0, SEEK_SET) != 0) {
			close(in);
			return -1;
		}
	}
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	unlinkat(dirfd, tmp, 0);
	out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		if (total > FILE_MAX || write(out, buf, (size_t)n) != n)
			break;
	}
	/* readable by any user: the JVM may run as anyone */
	if (n == 0 && fchmod(out, 0644) == 0 && renameat(dirfd, tmp, dirfd, name) == 0)
		rc = 0;
	close(out);
	close(in);
	if (rc != 0)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

/*
 * The agent's directory in the target's mount namespace. Its /tmp is
 * writable by its users: the directory must be a real directory owned by
 * root and writable by root only, never a link someone prepared.
 */
static int target_dir(uint32_t pid, char *err, size_t errlen)
{
	struct stat st;
	int tmp, fd;

	tmp = hotspot_tmp_dir(pid);
	if (tmp < 0) {
		snprintf(err, errlen, "cannot open its /tmp: %s", strerror(errno));
		return -1;
	}
	if (mkdirat(tmp, TARGET_NAME, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", TARGET_DIR, strerror(errno));
		close(tmp);
		return -1;
	}
	fd = openat(tmp, TARGET_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(tmp);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen, "%s is not a directory owned and writable by root only", TARGET_DIR);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void attach_one(struct java_agent *j, uint32_t pid)
{
	unsigned long long st = start_time(pid);
	char path[64], status[4096], cmdline[8192], err[256];
	uint32_t nspid = 0;
	ssize_t n;
	int fd, dfd;

	if (already_done(j, pid, st))
		return;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, status, sizeof(status)) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0 || jvm_nspid_parse(status, (size_t)n, &nspid) != 0) {
		snprintf(err, sizeof(err), "no NSpid in %s", path);
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline)) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0 && jvm_cmdline_no_attach(cmdline, (size_t)n)) {
		snprintf(err, sizeof(err), "started with -XX:+DisableAttachMechanism");
		goto fail;
	}
	dfd = target_dir(pid, err, sizeof(err));
	if (dfd < 0)
		goto fail;
	if (copy_into(dfd, j->jar_path, JAR_NAME) != 0 || copy_into(dfd, j->lib_path, LIB_NAME) != 0) {
		snprintf(err, sizeof(err), "cannot copy the agent into its /tmp: %s", strerror(errno));
		close(dfd);
		goto fail;
	}
	close(dfd);
	if (hotspot_attach(pid, nspid, TARGET_DIR "/" JAR_NAME, TARGET_DIR, ATTACH_TIMEOUT_MS,
			   &j->stopping, err, sizeof(err)) != 0)
		goto fail;
	mark_done(j, pid, st);
	pthread_mutex_lock(&j->lock);
	j->stats.attached++;
	pthread_mutex_unlock(&j->lock);
	log_info("java: agent loaded into JVM pid %u", pid);
	return;
fail:
	/* tried once: a JVM that refuses is not signalled again and again */
	mark_done(j, pid, st);
	pthread_mutex_lock(&j->lock);
	j->stats.failed++;
	pthread_mutex_unlock(&j->lock);
	log_warn("java: cannot load the agent into pid %u: %s", pid, err);
}

/* One look at each pending process: attach the ready JVMs, drop what is no JVM. */
static void round_pending(struct java_agent *j)
{
	int64_t now = clock_mono_ns();
	size_t k = 0;

	for (size_t i = 0; i < j->npending && !j->stopping; i++) {
		struct pending p = j->pending[i];
		enum jvm_state s;

		if (now < p.next_ns) {
			j->pending[k++] = p;
			continue;
		}
		s = jvm_state_of("/proc", p.pid);
		if (s != JVM_NONE)
			p.jvm_seen = true;
		else if (p.once)
			continue;
		if (s == JVM_HOTSPOT && jvm_signal_ready("/proc", p.pid)) {
			attach_one(j, p.pid);
			continue;
		}
		if (kill((pid_t)p.pid, 0) != 0 && errno == ESRCH)
			continue;
		if (now - p.since_ns > (p.jvm_seen ? READY_NS : LOOK_NS))
			continue;
		/*
		 * A new program is looked at after 0, 50, 150, 350, 750 ms...: an
		 * exec storm of other programs costs a few reads of maps each.
		 */
		if (!p.jvm_seen && p.gap_ns < (int64_t)ROUND_MS * 8 * 1000000)
			p.gap_ns = p.gap_ns ? p.gap_ns * 2 : (int64_t)ROUND_MS / 2 * 1000000;
		p.next_ns = now + (p.jvm_seen ? (int64_t)ROUND_MS * 1000000 : p.gap_ns);
		j->pending[k++] = p;
	}
	j->npending = k;
}

/* The processes running at start: one look at each, JVMs still starting are followed. */
static void scan_running(struct java_agent *j)
{
	struct dirent *de;
	DIR *d;

	if (j->only_pid) {
		java_agent_queue(j, j->only_pid, true);
		return;
	}
	d = opendir("/proc");
	if (!d)
		return;
	while (!j->stopping && (de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		enum jvm_state s;

		if (*end != '\0' || pid == 0 || pid >= UINT32_MAX || pid == j->self_pid)
			continue;
		s = jvm_state_of("/proc", (uint32_t)pid);
		if (s == JVM_HOTSPOT && jvm_signal_ready("/proc", (uint32_t)pid))
			attach_one(j, (uint32_t)pid);
		else if (s != JVM_NONE)
			java_agent_queue(j, (uint32_t)pid, false);
	}
	closedir(d);
}

static void *run(void *arg)
{
	struct java_agent *j = arg;

	scan_running(j);
	pthread_mutex_lock(&j->lock);
	while (!j->stopping) {
		__typeof__(j->queue[0]) batch[QUEUE_MAX];
		size_t nb = j->nqueue, lost = 0;

		memcpy(batch, j->queue, nb * sizeof(batch[0]));
		j->nqueue = 0;
		pthread_mutex_unlock(&j->lock);
		for (size_t i = 0; i < nb; i++) {
			bool dup = false;

			for (size_t k = 0; k < j->npending; k++)
				dup |= j->pending[k].pid == batch[i].pid;
			if (!dup && j->npending < PENDING_MAX)
				j->pending[j->npending++] = (struct pending){
					.pid = batch[i].pid, .since_ns = clock_mono_ns(),
					.next_ns = clock_mono_ns(), .once = batch[i].running };
			else if (!dup)
				lost++;
		}
		round_pending(j);
		pthread_mutex_lock(&j->lock);
		j->stats.overflow += lost;
		if (j->stopping || j->nqueue)
			continue;
		if (j->npending) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += ROUND_MS / 2 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&j->wake, &j->lock, &ts);
		} else {
			pthread_cond_wait(&j->wake, &j->lock);
		}
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

struct java_agent *java_agent_start(const char *src_dir, uint32_t self_pid, uint32_t only_pid,
				    int verbose)
{
	struct java_agent *j = calloc(1, sizeof(*j));

	if (!j) {
		log_error("out of memory");
		return NULL;
	}
	snprintf(j->jar_path, sizeof(j->jar_path), "%s/" JAR_NAME, src_dir);
	snprintf(j->lib_path, sizeof(j->lib_path), "%s/" LIB_NAME, src_dir);
	if (access(j->jar_path, R_OK) != 0 || access(j->lib_path, R_OK) != 0) {
		log_error("--java: %s and %s are needed (make builds them)", j->jar_path, j->lib_path);
		free(j);
		return NULL;
	}
	j->self_pid = self_pid;
	j->only_pid = only_pid;
	j->verbose = verbose;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->wake, NULL);
	if (pthread_create(&j->thread, NULL, run, j) != 0) {
		log_error("--java: cannot start its thread");
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->wake);
		free(j);
		return NULL;
	}
	return j;
}

void java_agent_queue(struct java_agent *j, uint32_t pid, bool running)
{
	if (!j || pid == j->self_pid || (j->only_pid && pid != j->only_pid))
		return;
	pthread_mutex_lock(&j->lock);
	if (j->nqueue < QUEUE_MAX) {
		j->queue[j->nqueue].pid = pid;
		j->queue[j->nqueue++].running = running;
	} else {
		j->stats.overflow++;
	}
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
}

void java_agent_get_stats(struct java_agent *j, struct java_agent_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	*st = j->stats;
	pthread_mutex_unlock(&j->lock);
}

void java_agent_stop(struct java_agent *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = 1;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->wake);
	free(j);
}
