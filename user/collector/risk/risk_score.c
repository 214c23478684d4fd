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
#include "token_types.h"

#define JWT_JSON_MAX 65536
#define JWT_JSON_DEPTH 8
#define DAY_S 86400
#define HOUR_S 3600

static const char *str(const char *s)
{
	return s ? s : "";
}

const char *risk_effective_type(const struct risk_token *t)
{
	const char *pw;

	if (!t)
		return "";
	pw = str(t->basic_password_type);
	if (token_type_is(t->type, TYPE_BASIC) && pw[0] && !token_type_is(pw, TYPE_OPAQUE))
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

/* The type classes of t, from the shared type table. */
static void traits(const struct risk_token *t, const char *type, struct token_traits *out)
{
	token_type_traits(type, t->prefix, t->aws_key_kind, t->header, out);
}

enum token_class risk_token_class(const struct risk_token *t)
{
	const char *type = risk_effective_type(t);
	struct token_traits tr;
	struct risk_jwt jwt;

	if (!t)
		return TOKEN_CLASS_UNKNOWN;
	traits(t, type, &tr);
	switch (tr.holder) {
	case TOKEN_HOLDER_HUMAN:
		return TOKEN_CLASS_HUMAN;
	case TOKEN_HOLDER_MACHINE:
		return TOKEN_CLASS_MACHINE;
	case TOKEN_HOLDER_CLAIMS:
		if (!risk_jwt_read(t->jwt_json, &jwt))
			break;
		/* delegated (a person signed in) vs application permissions */
		if (jwt.has_scp)
			return TOKEN_CLASS_HUMAN;
		if (jwt.has_roles)
			return TOKEN_CLASS_MACHINE;
		break;
	case TOKEN_HOLDER_NONE:
		break;
	}
	return TOKEN_CLASS_UNKNOWN;
}

/* ---- impact ---------------------------------------------------------------- */

static double privilege(const struct token_traits *tr, const char **why)
{
	switch (tr->privilege) {
	case TOKEN_PRIV_ADMIN:
		*why = "admin";
		return 1.0;
	case TOKEN_PRIV_TEST:
		*why = "test mode";
		return 0.3;
	case TOKEN_PRIV_RESTRICTED:
		*why = "restricted";
		return 0.6;
	case TOKEN_PRIV_DEFAULT:
		break;
	}
	*why = "full access";
	return 0.8;
}

static double lifetime(const struct risk_token *t, const struct token_traits *tr,
		       const char **why)
{
	struct risk_jwt jwt;

	if (tr->lifetime == TOKEN_LIFE_LONG)
		goto long_lived;
	if (tr->lifetime == TOKEN_LIFE_SHORT)
		goto short_lived;
	/* a type that does not say: the claims of any JWT do */
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
	struct token_traits tr;
	double keep, conf, s;

	(void)now_ms;
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!c || !t)
		return;
	traits(t, risk_effective_type(t), &tr);
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
	out->impact = privilege(&tr, &pwhy) * lifetime(t, &tr, &lwhy) * conf;
	snprintf(out->impact_why, sizeof(out->impact_why), "%s, %s%s", lwhy, pwhy,
		 conf < 1.0 ? ", checksum does not verify" : "");

	s = round(100.0 * out->impact * out->likelihood);
	out->score = s < 0 ? 0 : s > 100 ? 100 : (int)s;
}
