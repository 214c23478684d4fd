/* SPDX-License-Identifier: Apache-2.0 */
#include "revoker.h"
#include "clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wipe.h"
#include "hookexec.h"
#include "pipeline.h"
#include "redact.h"

#define MARKED_MAX 64
#define HANDLED_MAX 1024
#define QUEUE_MAX 8
#define SECRET_MAX 8192
#define RESULTS_MAX 64

struct job {
	char fingerprint[33];
	char token_type[32];
	char *secret;        /* locked memory, SECRET_MAX bytes */
	size_t len;
};

struct revoker {
	char *argv[2];
	unsigned timeout_s;

	/* main thread only */
	char marked[MARKED_MAX][33];
	size_t n_marked;
	char handled[HANDLED_MAX][33];
	size_t n_handled;

	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct job queue[QUEUE_MAX];
	size_t n_queue;
	struct revoker_result results[RESULTS_MAX];
	size_t n_results;
	bool stop;
	pthread_t thread;
	bool started;
};

static void run_job(struct revoker *r, struct job *j, struct revoker_result *res)
{
	char fp_env[64], type_env[64];
	const char *env[] = { fp_env, type_env, NULL };
	struct hook_result *hr = calloc(1, sizeof(*hr));
	size_t n;

	memset(res, 0, sizeof(*res));
	memcpy(res->fingerprint, j->fingerprint, sizeof(res->fingerprint));
	memcpy(res->token_type, j->token_type, sizeof(res->token_type));
	res->exit_code = -1;
	if (!hr) {
		snprintf(res->outcome, sizeof(res->outcome), "error");
		snprintf(res->detail, sizeof(res->detail), "out of memory");
		return;
	}
	snprintf(fp_env, sizeof(fp_env), "TOKENTAP_FINGERPRINT=%s", j->fingerprint);
	snprintf(type_env, sizeof(type_env), "TOKENTAP_TOKEN_TYPE=%s", j->token_type);
	if (hook_run(r->argv, env, j->secret, j->len, (long)r->timeout_s * 1000, hr) < 0) {
		snprintf(res->outcome, sizeof(res->outcome), "error");
		snprintf(res->detail, sizeof(res->detail), "%s", hr->error);
	} else {
		snprintf(res->outcome, sizeof(res->outcome), "%s",
			 hr->timed_out ? "timeout" :
			 hr->exit_code == 0 && !hr->term_signal ? "ok" : "failed");
		res->exit_code = hr->exit_code;
		/* a command that echoes its input must not report the token */
		n = redact_secret(hr->output, hr->output_len, j->secret, j->len);
		snprintf(res->detail, sizeof(res->detail), "%.*s", (int)n, hr->output);
	}
	secure_wipe(hr, sizeof(*hr));
	free(hr);
	res->ts_ns = clock_real_ns();
}

static void release_secret(struct job *j)
{
	if (!j->secret)
		return;
	secure_wipe(j->secret, SECRET_MAX);
	munlock(j->secret, SECRET_MAX);
	free(j->secret);
	j->secret = NULL;
}

static void *worker(void *arg)
{
	struct revoker *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop || r->n_queue) {
		struct job j;
		struct revoker_result res;

		if (!r->n_queue) {
			pthread_cond_wait(&r->wake, &r->mu);
			continue;
		}
		j = r->queue[0];
		memmove(r->queue, r->queue + 1, (r->n_queue - 1) * sizeof(*r->queue));
		r->n_queue--;
		pthread_mutex_unlock(&r->mu);
		run_job(r, &j, &res);
		release_secret(&j);
		pthread_mutex_lock(&r->mu);
		if (r->n_results < RESULTS_MAX)
			r->results[r->n_results++] = res;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct revoker *revoker_new(const char *command, unsigned timeout_s)
{
	struct revoker *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->argv[0] = strdup(command);
	r->timeout_s = timeout_s ? timeout_s : 30;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->wake, NULL);
	if (!r->argv[0] || pthread_create(&r->thread, NULL, worker, r) != 0) {
		revoker_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

void revoker_stop(struct revoker *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->wake);
	pthread_mutex_unlock(&r->mu);
	if (r->started)
		pthread_join(r->thread, NULL);
	r->started = false;
}

void revoker_free(struct revoker *r)
{
	if (!r)
		return;
	revoker_stop(r);
	for (size_t i = 0; i < r->n_queue; i++)
		release_secret(&r->queue[i]);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->mu);
	free(r->argv[0]);
	free(r);
}

void revoker_set_marked(struct revoker *r, char (*fps)[33], size_t n)
{
	r->n_marked = n < MARKED_MAX ? n : MARKED_MAX;
	memcpy(r->marked, fps, r->n_marked * sizeof(*fps));
}

static bool handled(const struct revoker *r, const char *fp)
{
	for (size_t i = 0; i < r->n_handled; i++)
		if (!strcmp(r->handled[i], fp))
			return true;
	return false;
}

bool revoker_wants(struct revoker *r, const char *fp)
{
	for (size_t i = 0; i < r->n_marked; i++)
		if (!strcmp(r->marked[i], fp))
			return !handled(r, fp);
	return false;
}

void revoker_take(struct revoker *r, const char *fp, const char *token_type, const char *value,
		  size_t len)
{
	struct job j = { 0 };

	if (len == 0 || len > SECRET_MAX || r->n_handled == HANDLED_MAX)
		return;
	j.secret = calloc(1, SECRET_MAX);
	if (!j.secret)
		return;
	/* kept out of swap; the sensor is not dumpable either */
	mlock(j.secret, SECRET_MAX);
	memcpy(j.secret, value, len);
	j.len = len;
	snprintf(j.fingerprint, sizeof(j.fingerprint), "%s", fp);
	snprintf(j.token_type, sizeof(j.token_type), "%s", token_type);
	pthread_mutex_lock(&r->mu);
	if (r->n_queue == QUEUE_MAX) {
		/* busy: the next sighting of the token tries again */
		pthread_mutex_unlock(&r->mu);
		release_secret(&j);
		return;
	}
	r->queue[r->n_queue++] = j;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	memcpy(r->handled[r->n_handled++], j.fingerprint, 33);
}

void revoker_results(struct revoker *r, void (*cb)(void *ctx, const struct revoker_result *res),
		     void *ctx)
{
	struct revoker_result *copy;
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = r->n_results;
	copy = n ? malloc(n * sizeof(*copy)) : NULL;
	if (copy)
		memcpy(copy, r->results, n * sizeof(*copy));
	else
		n = 0;
	r->n_results = 0;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < n; i++)
		cb(ctx, &copy[i]);
	free(copy);
}
