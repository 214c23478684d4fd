/* SPDX-License-Identifier: Apache-2.0 */
#include "risk_engine.h"
#include "clock.h"
#include "wipe.h"
#include "hookexec.h"
#include "log.h"
#include "napper.h"
#include "webhook.h"
#include "store.h"
#include "timefmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVAL_PERIOD_MS 1000
#define BACKLOG_PERIOD_MS 20
#define ACT_PERIOD_MS 500
#define ACT_BATCH 16
#define WEBHOOK_TIMEOUT_MS 10000
#define BEARER_MAX 4096

struct risk_engine {
	struct store *st;
	const struct risk_config *cfg;
	pthread_t eval, act;
	bool eval_started, act_started;
	struct napper nap;
	/* leadership as the evaluation thread last saw it; the action thread reads it */
	atomic_int leading;
	atomic_int *gauge;
};

void risk_engine_leader_gauge(struct risk_engine *d, atomic_int *gauge)
{
	d->gauge = gauge;
	if (gauge)
		atomic_store(gauge, atomic_load(&d->leading));
}

/*
 * Asks the store whether this process leads (only one replica on a
 * database runs passes and deliveries), and says so when it changes.
 */
static bool lead(struct risk_engine *d)
{
	int now = store_leader(d->st), was = atomic_exchange(&d->leading, now);

	if (now != was) {
		if (now)
			log_info("leading: this collector runs the risk engine and deliveries");
		else
			log_info("not leading: another collector runs the risk engine");
		if (d->gauge)
			atomic_store(d->gauge, now);
	}
	return now;
}

static void *eval_main(void *arg)
{
	struct risk_engine *d = arg;
	char err[512];

	long wait;

	do {
		struct risk_pass_stats s = { 0 };

		wait = EVAL_PERIOD_MS;
		if (!lead(d))
			continue; /* tried again at the next period */
		if (store_risk_pass(d->st, d->cfg, clock_real_ms(), &s, err, sizeof(err)) < 0)
			log_error("%s", err);
		/* a full pass means a backlog: go on soon, letting batches in between */
		wait = s.seen >= RISK_PASS_ROWS || s.held >= RISK_PASS_ROWS ? BACKLOG_PERIOD_MS
									   : EVAL_PERIOD_MS;
	} while (napper_nap(&d->nap, wait));
	return NULL;
}

static void *act_main(void *arg)
{
	struct risk_engine *d = arg;

	do {
		/* only the leader delivers; a full batch means more are due: go on at once */
		while (atomic_load(&d->leading) && risk_engine_act(d->st, d->cfg, clock_real_ms(), ACT_BATCH) == ACT_BATCH)
			;
	} while (napper_nap(&d->nap, ACT_PERIOD_MS));
	return NULL;
}

/* The webhook an outbox row names by its label (webhook_url_label). */
static const struct risk_webhook *find_webhook(const struct risk_config *c, const char *label)
{
	char l[600];

	for (size_t i = 0; i < c->n_webhooks; i++) {
		webhook_url_label(c->webhooks[i].url, l, sizeof(l));
		if (!strcmp(l, label))
			return &c->webhooks[i];
	}
	return NULL;
}

static const struct risk_revoke_hook *find_hook(const struct risk_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_hooks; i++)
		if (!strcmp(c->hooks[i].name, name))
			return &c->hooks[i];
	return NULL;
}

/* An HTTP attempt's outcome: retried with backoff until max attempts. */
static void http_outcome(const struct webhook_result *r, unsigned attempts, unsigned max,
			 int64_t now_ms, struct risk_outcome *o)
{
	o->http_status = r->http_status;
	o->detail = r->ok ? "" : r->error;
	if (r->ok) {
		o->outcome = "ok";
	} else if (r->retry && attempts + 1 < max) {
		o->outcome = "retry";
		o->next_at = now_ms + webhook_backoff_ms(attempts + 2, r->retry_after_ms);
	} else {
		o->outcome = "failed";
	}
}

static void post(const char *url, const char *token_file, const char *body, struct webhook_result *r)
{
	char bearer[BEARER_MAX], msg[256];

	memset(r, 0, sizeof(*r));
	if (!body) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return;
	}
	if (token_file && token_file[0] &&
	    webhook_read_token_file(token_file, bearer, sizeof(bearer), msg, sizeof(msg)) < 0) {
		snprintf(r->error, sizeof(r->error), "token file: %.200s", msg);
		return;
	}
	webhook_post(url, token_file && token_file[0] ? bearer : NULL, body, strlen(body),
		    WEBHOOK_TIMEOUT_MS, r);
	secure_wipe(bearer, sizeof(bearer));
}

static void deliver(const struct risk_config *c, const struct risk_action *a, int64_t now_ms,
		    struct risk_outcome *o, struct webhook_result *r)
{
	const struct risk_webhook *w = find_webhook(c, a->target);
	char *body;

	if (!w) {
		o->outcome = "failed";
		o->detail = "webhook no longer configured";
		return;
	}
	body = w->slack ? webhook_slack_body(a->alert) : webhook_json_body(a->alert, now_ms);
	post(w->url, w->token_file, body, r);
	free(body);
	http_outcome(r, a->attempts, w->max_attempts ? w->max_attempts : 5, now_ms, o);
}

static void put_from(struct json_object *dst, const char *key, struct json_object *src,
		     const char *src_key)
{
	struct json_object *v;

	if (src && json_object_object_get_ex(src, src_key, &v))
		json_object_object_add(dst, key, json_object_get(v));
}

/*
 * What a revocation hook receives on stdin: the alert and the token's
 * non-secret identifiers, processes, nodes and destinations.
 */
static struct json_object *hook_input(struct store *st, const struct risk_action *a)
{
	struct json_object *in = json_object_new_object(), *tok = NULL, *fpo, *meta = NULL;
	struct json_object *id = json_object_new_object();
	char err[256];

	json_object_object_add(in, "action", json_object_new_string("revoke"));
	json_object_object_add(in, "alert", json_object_get(a->alert));
	if (json_object_object_get_ex(a->alert, "fingerprint", &fpo) &&
	    store_query_token(st, json_object_get_string(fpo), &tok, err, sizeof(err)) == 1) {
		json_object_object_get_ex(tok, "metadata", &meta);
		put_from(id, "fingerprint", tok, "fingerprint");
		put_from(id, "token_type", tok, "token_type");
		put_from(id, "token_prefix", meta, "token_prefix");
		put_from(id, "key_id", meta, "key_id");
		put_from(id, "aws_key_kind", meta, "aws_key_kind");
		put_from(id, "aws_account", meta, "aws_account");
		put_from(id, "basic_user", meta, "basic_user");
		put_from(id, "jwt", meta, "jwt");
		put_from(in, "processes", tok, "processes");
		put_from(in, "nodes", tok, "nodes");
		put_from(in, "destinations", tok, "destinations");
		put_from(in, "held", tok, "held");
		json_object_put(tok);
	}
	json_object_object_add(in, "token", id);
	return in;
}

/* A string field of the alert, "" when absent or not a string. */
static const char *alert_str(struct json_object *alert, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(alert, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static void run_hook(struct store *st, const struct risk_config *c, const struct risk_action *a,
		     int64_t now_ms, struct risk_outcome *o, struct webhook_result *r,
		     struct hook_result *hr)
{
	const struct risk_revoke_hook *h = find_hook(c, a->target);
	struct json_object *in;
	const char *body;

	if (!h) {
		o->outcome = "failed";
		o->detail = "hook no longer configured";
		return;
	}
	in = hook_input(st, a);
	body = json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE);
	o->mark = h->mark_for_sensor;
	if (h->url[0]) {
		post(h->url, NULL, body, r);
		http_outcome(r, a->attempts, 5, now_ms, o);
	} else {
		char fp_env[64], type_env[64], rule_env[64];
		const char *env[4];

		snprintf(fp_env, sizeof(fp_env), "TOKENTAP_FINGERPRINT=%s",
			 alert_str(a->alert, "fingerprint"));
		snprintf(type_env, sizeof(type_env), "TOKENTAP_TOKEN_TYPE=%s",
			 alert_str(a->alert, "token_type"));
		snprintf(rule_env, sizeof(rule_env), "TOKENTAP_RULE=%s", alert_str(a->alert, "rule"));
		env[0] = fp_env;
		env[1] = type_env;
		env[2] = rule_env;
		env[3] = NULL;
		/* a command is run once: revocation is not something to repeat blindly */
		if (hook_run(h->argv, env, body, strlen(body),
			     (long)(h->timeout_s ? h->timeout_s : 30) * 1000, hr) < 0) {
			o->outcome = "failed";
			o->exit_code = -1;
			o->detail = hr->error;
		} else {
			bool ok = !hr->timed_out && hr->term_signal == 0 && hr->exit_code == 0;

			o->outcome = ok ? "ok" : "failed";
			o->exit_code = hr->exit_code;
			o->detail = hr->timed_out ? "timed out" : hr->output;
		}
	}
	json_object_put(in);
}

int risk_engine_act(struct store *st, const struct risk_config *cfg, int64_t now_ms, unsigned max)
{
	struct risk_action *due = calloc(max ? max : 1, sizeof(*due));
	char err[512];
	int n;

	if (!due)
		return 0;
	n = store_risk_due(st, now_ms, due, max, err, sizeof(err));
	if (n < 0)
		log_error("%s", err);
	for (int i = 0; i < n; i++) {
		struct risk_outcome o = { .outcome = "failed", .detail = "" };
		struct webhook_result r = { 0 };
		struct hook_result *hr = calloc(1, sizeof(*hr));

		if (!due[i].alert || !hr) {
			o.detail = due[i].alert ? "out of memory" : "finding no longer exists";
		} else if (!strcmp(due[i].kind, "webhook")) {
			deliver(cfg, &due[i], now_ms, &o, &r);
		} else {
			run_hook(st, cfg, &due[i], now_ms, &o, &r, hr);
		}
		if (store_risk_record(st, &due[i], clock_real_ms(), &o, err, sizeof(err)) < 0)
			log_error("%s", err);
		free(hr);
		risk_action_release(&due[i]);
	}
	free(due);
	return n < 0 ? 0 : n;
}

struct risk_engine *risk_engine_start(struct store *st, const struct risk_config *cfg, char *err,
			  size_t errlen)
{
	struct risk_engine *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->st = st;
	d->cfg = cfg;
	napper_init(&d->nap);
	if (pthread_create(&d->eval, NULL, eval_main, d) != 0) {
		snprintf(err, errlen, "cannot start the risk engine thread");
		risk_engine_stop(d);
		return NULL;
	}
	d->eval_started = true;
	if (pthread_create(&d->act, NULL, act_main, d) != 0) {
		snprintf(err, errlen, "cannot start the alert delivery thread");
		risk_engine_stop(d);
		return NULL;
	}
	d->act_started = true;
	return d;
}

void risk_engine_stop(struct risk_engine *d)
{
	if (!d)
		return;
	napper_stop(&d->nap);
	if (d->eval_started)
		pthread_join(d->eval, NULL);
	if (d->act_started)
		pthread_join(d->act, NULL);
	napper_destroy(&d->nap);
	free(d);
}
