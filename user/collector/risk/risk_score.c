/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a token is (human or machine, how privileged, how long-lived) and
 * its 0..100 score: the impact if it leaks times the likelihood that it is
 * misused, the latter from the rules its open findings name.
 */
#include "risk.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define JWT_JSON_MAX 65536
#define JWT_JSON_DEPTH 8
#define DAY_S 86400
#define HOUR_S 3600

static const char *str(const char *s)
{
	return s ? s : "";
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

#define IN(s, list) in_list((s), (list), sizeof(list) / sizeof((list)[0]))

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *risk_effective_type(const struct risk_token *t)
{
	const char *pw;

	if (!t)
		return "";
	pw = str(t->basic_password_type);
	if (strcmp(str(t->type), "basic") == 0 && pw[0] && strcmp(pw, "opaque") != 0)
		return pw;
	return str(t->type);
}

/* A claim that is present and not empty (a string, or an array with elements). */
static bool has_claim(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !v)
		return false;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string_len(v) > 0;
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v) > 0;
	return false;
}

static bool int_claim(struct json_object *o, const char *name, int64_t *out)
{
	struct json_object *v;
	double d;

	if (!json_object_object_get_ex(o, name, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	/* outside +-2^62 seconds no date matters; keeps the conversion defined */
	if (!isfinite(d) || d > 4.6e18 || d < -4.6e18)
		return false;
	*out = (int64_t)floor(d);
	return true;
}

bool risk_jwt_read(const char *jwt_json, struct risk_jwt *out)
{
	struct json_tokener *tok;
	struct json_object *o, *v;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!jwt_json || !jwt_json[0])
		return false;
	len = strnlen(jwt_json, JWT_JSON_MAX + 1);
	if (len > JWT_JSON_MAX)
		return false;
	tok = json_tokener_new_ex(JWT_JSON_DEPTH);
	if (!tok)
		return false;
	o = json_tokener_parse_ex(tok, jwt_json, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!o)
		return false;
	out->has_exp = int_claim(o, "exp", &out->exp);
	out->has_lifetime = int_claim(o, "lifetime", &out->lifetime);
	out->has_scp = has_claim(o, "scp");
	out->has_roles = has_claim(o, "roles");
	out->k8s_legacy = json_object_object_get_ex(o, "k8s_legacy", &v) &&
			  json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	json_object_put(o);
	return true;
}

static bool is_jwt_type(const char *type)
{
	return strcmp(type, "jwt") == 0 || strcmp(type, "azure_entra") == 0;
}

enum token_class risk_token_class(const struct risk_token *t)
{
	static const char *const human[] = {
		"github_pat", "github_fine_grained", "github_oauth", "github_user_app",
		"slack_user", "gitlab_pat", "atlassian",
	};
	static const char *const machine[] = {
		"github_app_install", "slack_bot", "slack_app", "k8s_serviceaccount",
		"azure_sas", "azure_sharedkey", "vault",
	};
	const char *type = risk_effective_type(t);
	struct risk_jwt jwt;

	if (!t)
		return TOKEN_CLASS_UNKNOWN;
	if (IN(type, human))
		return TOKEN_CLASS_HUMAN;
	if (IN(type, machine))
		return TOKEN_CLASS_MACHINE;
	if (strcmp(type, "aws_sigv4") == 0 && strcmp(str(t->aws_key_kind), "temporary") == 0)
		return TOKEN_CLASS_MACHINE;
	if (strcmp(type, "openai") == 0 && starts_with(str(t->prefix), "sk-svcacct-"))
		return TOKEN_CLASS_MACHINE;
	if (is_jwt_type(type) && risk_jwt_read(t->jwt_json, &jwt)) {
		/* delegated (a person signed in) vs application permissions */
		if (jwt.has_scp)
			return TOKEN_CLASS_HUMAN;
		if (jwt.has_roles)
			return TOKEN_CLASS_MACHINE;
	}
	return TOKEN_CLASS_UNKNOWN;
}

/* ---- impact ---------------------------------------------------------------- */

static double privilege(const struct risk_token *t, const char *type, const char **why)
{
	const char *prefix = str(t->prefix);

	if (starts_with(prefix, "sk-ant-admin01-") || starts_with(prefix, "sk-admin-") ||
	    (strcmp(type, "aws_sigv4") == 0 && strcmp(str(t->aws_key_kind), "long-term") == 0) ||
	    (strcmp(type, "cloudflare") == 0 && strcmp(str(t->header), "x-auth-key") == 0)) {
		*why = "admin";
		return 1.0;
	}
	if (strstr(prefix, "_test_")) {
		*why = "test mode";
		return 0.3;
	}
	if (starts_with(prefix, "rk_")) {
		*why = "restricted";
		return 0.6;
	}
	*why = "full access";
	return 0.8;
}

static double lifetime(const struct risk_token *t, const char *type, const char **why)
{
	/* static keys and passwords: valid until someone revokes them */
	static const char *const long_lived[] = {
		"github_pat", "github_fine_grained", "github_oauth", "npm", "pypi", "gitlab_pat",
		"stripe", "openai", "anthropic", "slack_bot", "slack_user", "slack_app",
		"sendgrid", "huggingface", "linear", "postman", "shopify", "datadog", "newrelic",
		"sentry", "twilio", "atlassian", "google_api_key", "okta", "azure_sharedkey",
		"azure_apim", "grafana", "databricks", "digitalocean", "docker", "terraform",
		"cloudflare", "basic",
	};
	static const char *const short_lived[] = { "github_app_install", "google_oauth" };
	const char *kind = str(t->aws_key_kind);
	struct risk_jwt jwt;

	if ((strcmp(type, "aws_sigv4") == 0 && strcmp(kind, "long-term") == 0) ||
	    IN(type, long_lived) ||
	    (strcmp(type, "aws_bedrock") == 0 && starts_with(str(t->prefix), "ABSK")))
		goto long_lived;
	if ((strcmp(type, "aws_sigv4") == 0 && strcmp(kind, "temporary") == 0) ||
	    IN(type, short_lived) ||
	    (strcmp(type, "aws_bedrock") == 0 && starts_with(str(t->prefix), "bedrock-api-key-")))
		goto short_lived;
	if (risk_jwt_read(t->jwt_json, &jwt)) {
		if (jwt.k8s_legacy || !jwt.has_exp || (jwt.has_lifetime && jwt.lifetime > DAY_S))
			goto long_lived;
		if (jwt.has_lifetime && jwt.lifetime <= HOUR_S)
			goto short_lived;
	}
	*why = "lifetime unknown";
	return 0.85;
long_lived:
	*why = "long-lived";
	return 1.0;
short_lived:
	*why = "short-lived";
	return 0.6;
}

static double clamp01(double v)
{
	return isfinite(v) ? (v < 0 ? 0 : v > 1 ? 1 : v) : 0;
}

void risk_score_token(const struct risk_config *c, const struct risk_token *t,
		      const enum risk_rule *rules, size_t n, int64_t now_ms, struct risk_score *out)
{
	bool seen[RULE__COUNT] = { false };
	const char *pwhy, *lwhy;
	const char *type;
	double keep, conf, s;

	(void)now_ms;
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!c || !t)
		return;
	type = risk_effective_type(t);
	for (size_t i = 0; rules && i < n; i++)
		if ((unsigned)rules[i] < RULE__COUNT)
			seen[rules[i]] = true;
	/* in rule order, so the floating-point result does not depend on the input order */
	keep = 1.0 - clamp01(c->base_likelihood);
	for (int r = 0; r < RULE__COUNT; r++)
		if (seen[r] && c->enabled[r])
			keep *= 1.0 - clamp01(c->weight[r]);
	out->likelihood = clamp01(1.0 - keep);

	conf = t->has_checksum && !t->checksum_valid ? 0.5 : 1.0;
	out->impact = privilege(t, type, &pwhy) * lifetime(t, type, &lwhy) * conf;
	snprintf(out->impact_why, sizeof(out->impact_why), "%s, %s%s", lwhy, pwhy,
		 conf < 1.0 ? ", checksum does not verify" : "");

	s = round(100.0 * out->impact * out->likelihood);
	out->score = s < 0 ? 0 : s > 100 ? 100 : (int)s;
}
