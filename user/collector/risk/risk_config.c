/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Risk configuration: the defaults, and a JSON document applied over them.
 * The document is untrusted input: every value is type- and range-checked,
 * and the first problem is reported as one line naming its key. A document
 * is applied to a copy, so a rejected one leaves the configuration as it
 * was.
 */
#include "risk.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "token_types.h"

#define JSON_DEPTH 16
#define KEY_SHOWN 64
/* Key paths in messages, by depth: sized so that a child always fits. */
#define PATH1 128
#define PATH2 256
#define PATH3 320
#define ARG_MAX_BYTES 4096
#define SHARED_MAX 1000000
#define TIMEOUT_MAX_S 3600
#define ATTEMPTS_MAX 20

static const struct {
	double weight;
	enum risk_severity severity;
} rule_defaults[RULE__COUNT] = {
	[RULE_NEW_WORKLOAD] = { 0.5, RISK_SEV_MEDIUM },
	[RULE_NEW_DESTINATION] = { 0.4, RISK_SEV_MEDIUM },
	[RULE_NEW_NODE] = { 0.35, RISK_SEV_MEDIUM },
	[RULE_PLAINTEXT] = { 0.6, RISK_SEV_HIGH },
	[RULE_EXPIRED_JWT] = { 0.5, RISK_SEV_MEDIUM },
	[RULE_WRONG_PROVIDER] = { 0.8, RISK_SEV_HIGH },
	[RULE_SHARED] = { 0.4, RISK_SEV_MEDIUM },
	[RULE_HUMAN_TOKEN_DAEMON] = { 0.45, RISK_SEV_MEDIUM },
	[RULE_SERVICE_TOKEN_INTERACTIVE] = { 0.5, RISK_SEV_HIGH },
	[RULE_DORMANT_ACTIVE] = { 0.5, RISK_SEV_MEDIUM },
	[RULE_NEW_WRITE_METHOD] = { 0.35, RISK_SEV_LOW },
	[RULE_QUERY_STRING] = { 0.3, RISK_SEV_LOW },
	[RULE_BASIC_PASSWORD] = { 0.3, RISK_SEV_LOW },
	[RULE_HELD_IN_ARGV] = { 0.4, RISK_SEV_MEDIUM },
	[RULE_HELD_NEVER_USED] = { 0.25, RISK_SEV_LOW },
};

/*
 * The provider hosts of the type table (token_types.c): one entry per type
 * and host, or per family and host as "<family>*" for the types of a
 * family (which then also covers its ids this table does not know).
 * Writes to out when not NULL; returns the number of entries.
 */
static size_t default_providers(struct provider_host *out)
{
	size_t n = 0;

	for (size_t t = 0; t < TYPE__COUNT; t++) {
		const struct token_type *e = &token_types[t];
		bool seen = false;

		/* a family's hosts are listed once, at its first type */
		for (size_t u = 0; e->family && u < t && !seen; u++) {
			const char *f = token_types[u].family;

			seen = f && strcmp(f, e->family) == 0;
		}
		for (size_t k = 0; !seen && e->hosts && e->hosts[k]; k++, n++) {
			if (!out)
				continue;
			if (e->family)
				snprintf(out[n].type, sizeof(out[n].type), "%s*", e->family);
			else
				snprintf(out[n].type, sizeof(out[n].type), "%s", e->id);
			snprintf(out[n].suffix, sizeof(out[n].suffix), "%s", e->hosts[k]);
		}
	}
	return n;
}

void risk_config_default(struct risk_config *c)
{
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	c->learning_window_ms = MS_PER_DAY;
	c->dormant_ms = 30 * MS_PER_DAY;
	c->held_unused_ms = 7 * MS_PER_DAY;
	c->shared_workloads = 3;
	c->shared_nodes = 5;
	c->shared_namespaces = 1;
	c->base_likelihood = 0.05;
	for (int r = 0; r < RULE__COUNT; r++) {
		c->enabled[r] = true;
		c->weight[r] = rule_defaults[r].weight;
		c->severity[r] = rule_defaults[r].severity;
	}
	c->providers = calloc(default_providers(NULL), sizeof(*c->providers));
	if (c->providers)
		c->n_providers = default_providers(c->providers);
}

void risk_config_free(struct risk_config *c)
{
	if (!c)
		return;
	free(c->providers);
	c->providers = NULL;
	c->n_providers = 0;
	for (size_t i = 0; i < c->n_hooks && i < RISK_MAX_HOOKS; i++)
		for (size_t j = 0; j < RISK_HOOK_ARGV_MAX && c->hooks[i].argv[j]; j++) {
			free(c->hooks[i].argv[j]);
			c->hooks[i].argv[j] = NULL;
		}
	memset(c->hooks, 0, sizeof(c->hooks));
	c->n_hooks = 0;
	memset(c->webhooks, 0, sizeof(c->webhooks));
	c->n_webhooks = 0;
}

int risk_config_copy(struct risk_config *dst, const struct risk_config *src)
{
	*dst = *src;
	dst->providers = NULL;
	dst->n_providers = 0;
	for (size_t i = 0; i < RISK_MAX_HOOKS; i++)
		memset(dst->hooks[i].argv, 0, sizeof(dst->hooks[i].argv));
	if (src->n_providers) {
		dst->providers = malloc(src->n_providers * sizeof(*src->providers));
		if (!dst->providers)
			goto fail;
		memcpy(dst->providers, src->providers, src->n_providers * sizeof(*src->providers));
		dst->n_providers = src->n_providers;
	}
	for (size_t i = 0; i < src->n_hooks && i < RISK_MAX_HOOKS; i++)
		for (size_t j = 0; j < RISK_HOOK_ARGV_MAX && src->hooks[i].argv[j]; j++) {
			dst->hooks[i].argv[j] = strdup(src->hooks[i].argv[j]);
			if (!dst->hooks[i].argv[j])
				goto fail;
		}
	return 0;
fail:
	risk_config_free(dst);
	return -1;
}

/* ---- parsing -------------------------------------------------------------- */

struct pctx {
	char *err;
	size_t errlen;
};

/* "key: message" into the error buffer; always -1. key is already printable. */
static int fail(struct pctx *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pctx *p, const char *key, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s%s%s", key, key[0] ? ": " : "", msg);
	return -1;
}

/* parent + "." + key (or parent + "[i]"), printable and bounded. */
static void key_path(char *out, size_t cap, const char *parent, const char *key)
{
	char shown[KEY_SHOWN];

	risk_text(shown, sizeof(shown), key);
	snprintf(out, cap, "%s%s%s", parent, parent[0] ? "." : "", shown);
}

static void index_path(char *out, size_t cap, const char *parent, size_t i)
{
	snprintf(out, cap, "%s[%zu]", parent, i);
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static int get_number(struct pctx *p, const char *key, struct json_object *v, double min,
		      double max, double *out)
{
	double d;

	if (!is_number(v))
		return fail(p, key, "must be a number");
	d = json_object_get_double(v);
	if (!isfinite(d) || d < min || d > max)
		return fail(p, key, "must be a number in %g..%g", min, max);
	*out = d;
	return 0;
}

static int get_uint(struct pctx *p, const char *key, struct json_object *v, unsigned min,
		    unsigned max, unsigned *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return fail(p, key, "must be an integer");
	i = json_object_get_int64(v);
	if (i < (int64_t)min || i > (int64_t)max)
		return fail(p, key, "must be an integer in %u..%u", min, max);
	*out = (unsigned)i;
	return 0;
}

/* Seconds, integer or fractional, into milliseconds. */
static int get_seconds(struct pctx *p, const char *key, struct json_object *v, bool zero_ok,
		       int64_t *out_ms)
{
	double s;
	int64_t ms;

	if (get_number(p, key, v, 0, RISK_MAX_SECONDS, &s))
		return -1;
	ms = (int64_t)llround(s * 1000.0);
	if (ms == 0 && !zero_ok)
		return fail(p, key, "must be at least 0.001 seconds");
	*out_ms = ms;
	return 0;
}

static int get_bool(struct pctx *p, const char *key, struct json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return fail(p, key, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

/*
 * A string of 1..max-1 bytes without NUL or control characters (which a
 * JSON string may carry escaped).
 */
static int get_string(struct pctx *p, const char *key, struct json_object *v, size_t max,
		      const char **out)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return fail(p, key, "must be a string");
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n >= max)
		return fail(p, key, "must be 1..%zu bytes long", max - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(p, key, "must not contain control characters");
	*out = s;
	return 0;
}

static int get_severity(struct pctx *p, const char *key, struct json_object *v,
			enum risk_severity *out)
{
	if (!json_object_is_type(v, json_type_string) ||
	    risk_severity_parse(json_object_get_string(v), out))
		return fail(p, key,
			    "must be one of \"info\", \"low\", \"medium\", \"high\", \"critical\"");
	return 0;
}

static int get_object(struct pctx *p, const char *key, struct json_object *v)
{
	return json_object_is_type(v, json_type_object) ? 0 : fail(p, key, "must be an object");
}

static int get_url(struct pctx *p, const char *key, struct json_object *v, char *out, size_t cap)
{
	const char *s, *rest;

	if (get_string(p, key, v, cap, &s))
		return -1;
	if (strncasecmp(s, "https://", 8) == 0)
		rest = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		rest = s + 7;
	else
		return fail(p, key, "must be an http:// or https:// URL");
	if (!rest[0] || rest[0] == '/')
		return fail(p, key, "must name a host");
	for (const char *c = s; *c; c++)
		if (*c == ' ' || (unsigned char)*c >= 0x7f)
			return fail(p, key, "must not contain spaces or non-ASCII bytes");
	snprintf(out, cap, "%s", s);
	return 0;
}

static int apply_rule(struct risk_config *c, struct pctx *p, const char *parent, const char *name,
		      struct json_object *v)
{
	char path[PATH1], sub[PATH2];
	enum risk_rule r;

	key_path(path, sizeof(path), parent, name);
	if (risk_rule_parse(name, &r))
		return fail(p, path, "unknown rule");
	if (get_object(p, path, v))
		return -1;
	json_object_object_foreach(v, key, val) {
		key_path(sub, sizeof(sub), path, key);
		if (strcmp(key, "enabled") == 0) {
			if (get_bool(p, sub, val, &c->enabled[r]))
				return -1;
		} else if (strcmp(key, "weight") == 0) {
			if (get_number(p, sub, val, 0, 1, &c->weight[r]))
				return -1;
		} else if (strcmp(key, "severity") == 0) {
			if (get_severity(p, sub, val, &c->severity[r]))
				return -1;
		} else {
			return fail(p, sub, "unknown key");
		}
	}
	return 0;
}

static int apply_rules(struct risk_config *c, struct pctx *p, struct json_object *v)
{
	if (get_object(p, "rules", v))
		return -1;
	json_object_object_foreach(v, key, val)
		if (apply_rule(c, p, "rules", key, val))
			return -1;
	return 0;
}

/* A host suffix: labels of [a-z0-9-] separated by single dots, lowercased. */
static int get_suffix(struct pctx *p, const char *key, struct json_object *v, char *out, size_t cap)
{
	const char *s;
	size_t n;

	if (get_string(p, key, v, cap, &s))
		return -1;
	n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.'))
			return fail(p, key,
				    "must be a host name suffix (letters, digits, '-', '.')");
		out[i] = ch;
	}
	out[n] = '\0';
	if (out[0] == '.' || out[n - 1] == '.' || strstr(out, ".."))
		return fail(p, key, "must be a host name suffix without empty labels");
	return 0;
}

static int add_provider(struct risk_config *c, struct pctx *p, const char *key, const char *type,
			const char *suffix)
{
	struct provider_host *grown;

	for (size_t i = 0; i < c->n_providers; i++)
		if (strcmp(c->providers[i].type, type) == 0 &&
		    strcmp(c->providers[i].suffix, suffix) == 0)
			return 0;
	if (c->n_providers >= default_providers(NULL) + RISK_MAX_PROVIDER_ADDS)
		return fail(p, key, "too many provider hosts (at most %d)", RISK_MAX_PROVIDER_ADDS);
	grown = realloc(c->providers, (c->n_providers + 1) * sizeof(*grown));
	if (!grown)
		return fail(p, key, "out of memory");
	c->providers = grown;
	snprintf(grown[c->n_providers].type, sizeof(grown->type), "%s", type);
	snprintf(grown[c->n_providers].suffix, sizeof(grown->suffix), "%s", suffix);
	c->n_providers++;
	return 0;
}

static int apply_providers(struct risk_config *c, struct pctx *p, struct json_object *v)
{
	char path[PATH1], elem[PATH2], suffix[sizeof(((struct provider_host *)0)->suffix)];

	if (get_object(p, "provider_hosts", v))
		return -1;
	json_object_object_foreach(v, key, val) {
		size_t n;

		key_path(path, sizeof(path), "provider_hosts", key);
		if (!risk_type_id_valid(key))
			return fail(p, path,
				    "must be a token type id ([a-z0-9_], 1..31 characters)");
		if (!json_object_is_type(val, json_type_array))
			return fail(p, path, "must be an array of host suffixes");
		n = json_object_array_length(val);
		for (size_t i = 0; i < n; i++) {
			index_path(elem, sizeof(elem), path, i);
			if (get_suffix(p, elem, json_object_array_get_idx(val, i), suffix,
				       sizeof(suffix)) ||
			    add_provider(c, p, elem, key, suffix))
				return -1;
		}
	}
	return 0;
}

static int apply_webhook(struct risk_webhook *w, struct pctx *p, const char *path,
			 struct json_object *v)
{
	char sub[PATH2];
	bool has_url = false;

	if (get_object(p, path, v))
		return -1;
	json_object_object_foreach(v, key, val) {
		key_path(sub, sizeof(sub), path, key);
		if (strcmp(key, "url") == 0) {
			if (get_url(p, sub, val, w->url, sizeof(w->url)))
				return -1;
			has_url = true;
		} else if (strcmp(key, "min_severity") == 0) {
			if (get_severity(p, sub, val, &w->min_severity))
				return -1;
		} else if (strcmp(key, "format") == 0) {
			const char *f = json_object_is_type(val, json_type_string)
						? json_object_get_string(val)
						: "";

			if (strcmp(f, "json") != 0 && strcmp(f, "slack") != 0)
				return fail(p, sub, "must be \"json\" or \"slack\"");
			w->slack = strcmp(f, "slack") == 0;
		} else if (strcmp(key, "token_file") == 0) {
			const char *s;

			if (get_string(p, sub, val, sizeof(w->token_file), &s))
				return -1;
			snprintf(w->token_file, sizeof(w->token_file), "%s", s);
		} else if (strcmp(key, "max_attempts") == 0) {
			if (get_uint(p, sub, val, 1, ATTEMPTS_MAX, &w->max_attempts))
				return -1;
		} else {
			return fail(p, sub, "unknown key");
		}
	}
	if (!has_url)
		return fail(p, path, "needs a \"url\"");
	return 0;
}

static int apply_webhooks(struct risk_config *c, struct pctx *p, struct json_object *v)
{
	char path[PATH1];
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return fail(p, "webhooks", "must be an array");
	n = json_object_array_length(v);
	if (n > RISK_MAX_WEBHOOKS)
		return fail(p, "webhooks", "at most %d webhooks", RISK_MAX_WEBHOOKS);
	memset(c->webhooks, 0, sizeof(c->webhooks));
	c->n_webhooks = 0;
	for (size_t i = 0; i < n; i++) {
		struct risk_webhook *w = &c->webhooks[i];

		w->min_severity = RISK_SEV_MEDIUM;
		w->max_attempts = 5;
		index_path(path, sizeof(path), "webhooks", i);
		if (apply_webhook(w, p, path, json_object_array_get_idx(v, i)))
			return -1;
		c->n_webhooks = i + 1;
	}
	return 0;
}

/* The command array into h->argv (each element malloc'd, freed with the configuration). */
static int get_command(struct risk_revoke_hook *h, struct pctx *p, const char *path,
		       struct json_object *v)
{
	char elem[PATH3];
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return fail(p, path, "must be an array of strings");
	n = json_object_array_length(v);
	if (n == 0 || n > RISK_HOOK_ARGV_MAX)
		return fail(p, path, "must have 1..%d elements", RISK_HOOK_ARGV_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *s;

		index_path(elem, sizeof(elem), path, i);
		if (get_string(p, elem, json_object_array_get_idx(v, i), ARG_MAX_BYTES, &s))
			return -1;
		if (i == 0 && s[0] != '/')
			return fail(p, elem, "must be an absolute path");
		h->argv[i] = strdup(s);
		if (!h->argv[i])
			return fail(p, elem, "out of memory");
	}
	return 0;
}

static int apply_hook_key(struct risk_revoke_hook *h, struct pctx *p, const char *sub,
			  const char *key, struct json_object *val)
{
	const char *s;
	double secs;
	enum risk_rule r;

	if (strcmp(key, "name") == 0) {
		if (get_string(p, sub, val, sizeof(h->name), &s))
			return -1;
		snprintf(h->name, sizeof(h->name), "%s", s);
	} else if (strcmp(key, "token_type") == 0) {
		if (!json_object_is_type(val, json_type_string))
			return fail(p, sub, "must be a string");
		s = json_object_get_string(val);
		if (s[0] && !risk_type_id_valid(s))
			return fail(
				p, sub,
				"must be a token type id ([a-z0-9_], 1..31 characters) or \"\"");
		snprintf(h->token_type, sizeof(h->token_type), "%s", s);
	} else if (strcmp(key, "rule") == 0) {
		if (!json_object_is_type(val, json_type_string) ||
		    risk_rule_parse(json_object_get_string(val), &r))
			return fail(p, sub, "must be a rule name");
		h->rule = (int)r;
	} else if (strcmp(key, "min_severity") == 0) {
		return get_severity(p, sub, val, &h->min_severity);
	} else if (strcmp(key, "command") == 0) {
		return get_command(h, p, sub, val);
	} else if (strcmp(key, "url") == 0) {
		return get_url(p, sub, val, h->url, sizeof(h->url));
	} else if (strcmp(key, "timeout") == 0) {
		if (get_number(p, sub, val, 0, TIMEOUT_MAX_S, &secs))
			return -1;
		if (secs <= 0)
			return fail(p, sub, "must be more than 0 seconds");
		h->timeout_s = (unsigned)ceil(secs);
	} else if (strcmp(key, "mark_for_sensor") == 0) {
		return get_bool(p, sub, val, &h->mark_for_sensor);
	} else {
		return fail(p, sub, "unknown key");
	}
	return 0;
}

static int apply_hook(struct risk_config *c, struct risk_revoke_hook *h, struct pctx *p,
		      const char *path, struct json_object *v)
{
	char sub[PATH2];

	if (get_object(p, path, v))
		return -1;
	json_object_object_foreach(v, key, val) {
		key_path(sub, sizeof(sub), path, key);
		if (apply_hook_key(h, p, sub, key, val))
			return -1;
	}
	if (!h->name[0])
		return fail(p, path, "needs a \"name\"");
	if ((h->argv[0] != NULL) == (h->url[0] != '\0'))
		return fail(p, path, "needs exactly one of \"command\" and \"url\"");
	for (struct risk_revoke_hook *o = c->hooks; o < h; o++)
		if (strcmp(o->name, h->name) == 0)
			return fail(p, path, "duplicate hook name");
	return 0;
}

static int apply_hooks(struct risk_config *c, struct pctx *p, struct json_object *v)
{
	char path[PATH1];
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return fail(p, "revocation_hooks", "must be an array");
	n = json_object_array_length(v);
	if (n > RISK_MAX_HOOKS)
		return fail(p, "revocation_hooks", "at most %d hooks", RISK_MAX_HOOKS);
	/* the list replaces the previous one */
	for (size_t i = 0; i < c->n_hooks; i++)
		for (size_t j = 0; j < RISK_HOOK_ARGV_MAX && c->hooks[i].argv[j]; j++)
			free(c->hooks[i].argv[j]);
	memset(c->hooks, 0, sizeof(c->hooks));
	c->n_hooks = 0;
	for (size_t i = 0; i < n; i++) {
		struct risk_revoke_hook *h = &c->hooks[i];

		h->rule = -1;
		h->min_severity = RISK_SEV_HIGH;
		h->timeout_s = 30;
		/* counted first so that a half-parsed hook's strings are freed */
		c->n_hooks = i + 1;
		index_path(path, sizeof(path), "revocation_hooks", i);
		if (apply_hook(c, h, p, path, json_object_array_get_idx(v, i)))
			return -1;
	}
	return 0;
}

static int apply_root(struct risk_config *c, struct pctx *p, struct json_object *root)
{
	json_object_object_foreach(root, key, val) {
		char path[PATH1];
		int rc;

		key_path(path, sizeof(path), "", key);
		if (strcmp(key, "learning_window") == 0)
			rc = get_seconds(p, path, val, true, &c->learning_window_ms);
		else if (strcmp(key, "dormant_after") == 0)
			rc = get_seconds(p, path, val, false, &c->dormant_ms);
		else if (strcmp(key, "held_unused_after") == 0)
			rc = get_seconds(p, path, val, false, &c->held_unused_ms);
		else if (strcmp(key, "shared_workloads") == 0)
			rc = get_uint(p, path, val, 1, SHARED_MAX, &c->shared_workloads);
		else if (strcmp(key, "shared_nodes") == 0)
			rc = get_uint(p, path, val, 1, SHARED_MAX, &c->shared_nodes);
		else if (strcmp(key, "shared_namespaces") == 0)
			rc = get_uint(p, path, val, 1, SHARED_MAX, &c->shared_namespaces);
		else if (strcmp(key, "base_likelihood") == 0)
			rc = get_number(p, path, val, 0, 1, &c->base_likelihood);
		else if (strcmp(key, "rules") == 0)
			rc = apply_rules(c, p, val);
		else if (strcmp(key, "provider_hosts") == 0)
			rc = apply_providers(c, p, val);
		else if (strcmp(key, "webhooks") == 0)
			rc = apply_webhooks(c, p, val);
		else if (strcmp(key, "revocation_hooks") == 0)
			rc = apply_hooks(c, p, val);
		else
			rc = fail(p, path, "unknown key");
		if (rc)
			return -1;
	}
	return 0;
}

/* Strict, depth-bounded parse of the whole buffer into a JSON object. */
static struct json_object *parse_document(struct pctx *p, const char *json, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error e;
	size_t end;

	if (len > RISK_CONFIG_MAX_BYTES) {
		fail(p, "", "configuration larger than %u bytes", RISK_CONFIG_MAX_BYTES);
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		fail(p, "", "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || e != json_tokener_success) {
		json_object_put(obj);
		if (e == json_tokener_continue || e == json_tokener_success)
			fail(p, "", "invalid JSON: unexpected end of document");
		else
			fail(p, "", "invalid JSON at byte %zu: %s", end,
			     json_tokener_error_desc(e));
		return NULL;
	}
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", json[i]) || json[i] == '\0') {
			json_object_put(obj);
			fail(p, "", "invalid JSON at byte %zu: data after the document", i);
			return NULL;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		fail(p, "", "the configuration must be a JSON object");
		return NULL;
	}
	return obj;
}

int risk_config_parse(struct risk_config *c, const char *json, size_t len, char *err, size_t errlen)
{
	struct pctx p = { .err = err, .errlen = errlen };
	struct json_object *root;
	struct risk_config tmp;

	if (err && errlen)
		err[0] = '\0';
	if (!c || (!json && len))
		return fail(&p, "", "no configuration");
	root = parse_document(&p, json ? json : "", len);
	if (!root)
		return -1;
	if (risk_config_copy(&tmp, c)) {
		json_object_put(root);
		return fail(&p, "", "out of memory");
	}
	if (apply_root(&tmp, &p, root)) {
		json_object_put(root);
		risk_config_free(&tmp);
		return -1;
	}
	json_object_put(root);
	risk_config_free(c);
	*c = tmp;
	return 0;
}

int risk_config_load(struct risk_config *c, const char *path, char *err, size_t errlen)
{
	struct pctx p = { .err = err, .errlen = errlen };
	char shown[128], *buf;
	struct stat st;
	size_t got = 0;
	int fd, rc;

	risk_text(shown, sizeof(shown), path ? path : "");
	if (!path || !path[0])
		return fail(&p, "", "no configuration file");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(&p, shown, "%s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(&p, shown, "not a regular file");
	}
	if (st.st_size > (off_t)RISK_CONFIG_MAX_BYTES) {
		close(fd);
		return fail(&p, shown, "larger than %u bytes", RISK_CONFIG_MAX_BYTES);
	}
	/* one byte more than allowed, to notice a file that grew meanwhile */
	buf = malloc(RISK_CONFIG_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return fail(&p, shown, "out of memory");
	}
	while (got <= RISK_CONFIG_MAX_BYTES) {
		ssize_t n = read(fd, buf + got, RISK_CONFIG_MAX_BYTES + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(&p, shown, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > RISK_CONFIG_MAX_BYTES) {
		rc = fail(&p, shown, "larger than %u bytes", RISK_CONFIG_MAX_BYTES);
		goto out;
	}
	rc = risk_config_parse(c, buf, got, err, errlen);
	if (rc && err && errlen) {
		char reason[256];

		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errlen, "%s: %s", shown, reason);
	}
out:
	free(buf);
	close(fd);
	return rc;
}
