/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token type table against its two readers: every type the classifier
 * can report has one entry with a unique, valid id; every entry is
 * reported by some rule or extractor; variants, prefix marks and families
 * name prefixes and kinds the classifier really reports; and the risk
 * engine's lookups (token class, lifetime, privilege, provider hosts) find
 * each entry's data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "risk.h"
#include "token_samples.h"
#include "token_types.h"

static struct fp_key test_key = { .bytes = "token-types-test-key", .len = 20 };

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t n_rules(void)
{
	size_t n = 0;

	while (classify_rule_at(n, NULL, NULL))
		n++;
	return n;
}

/* Some rule of type t reports a prefix that starts with p. */
static bool rule_reports(enum token_type_id t, const char *p)
{
	enum token_type_id rt;
	const char *rp;

	for (size_t i = 0; classify_rule_at(i, &rt, &rp); i++)
		if (rt == t && starts_with(rp, p))
			return true;
	return false;
}

static size_t n_variants(const struct token_type *e)
{
	size_t n = 0;

	for (const struct token_variant *v = e->variants; v; v++, n++)
		if (!v->prefix && !v->key_kind && !v->header)
			break;
	return n;
}

static void test_ids(void **state)
{
	struct token_info info;

	(void)state;
	for (size_t i = 0; i < TYPE__COUNT; i++) {
		const struct token_type *e = &token_types[i];

		if (!e->id || !e->name || !e->name[0])
			fail_msg("type %zu has no entry", i);
		if (!risk_type_id_valid(e->id) || strlen(e->id) >= sizeof(info.type))
			fail_msg("type id %s is not [a-z0-9_]{1,31}", e->id);
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->id, token_types[j].id) == 0)
				fail_msg("type id %s twice", e->id);
		assert_ptr_equal(token_type_find(e->id), e);
		assert_string_equal(token_type_id_str((enum token_type_id)i), e->id);
		assert_true(token_type_is(e->id, (enum token_type_id)i));
	}
	assert_null(token_type_find("nope"));
	assert_null(token_type_find(""));
	assert_null(token_type_find(NULL));
	assert_false(token_type_is(NULL, TYPE_OPAQUE));
	assert_string_equal(token_type_id_str(TYPE__COUNT), "opaque");
}

static void test_rules_and_entries(void **state)
{
	enum token_type_id t;
	const char *p;

	(void)state;
	assert_true(n_rules() > 0);
	for (size_t i = 0; classify_rule_at(i, &t, &p); i++) {
		assert_true((unsigned)t < TYPE__COUNT);
		if (t == TYPE_OPAQUE)
			fail_msg("rule %zu reports opaque", i);
		assert_non_null(p);
	}
	assert_false(classify_rule_at(n_rules(), &t, &p));
	for (size_t i = 0; i < TYPE__COUNT; i++)
		if (!classify_can_report((enum token_type_id)i))
			fail_msg("no rule or extractor reports %s", token_types[i].id);
	assert_false(classify_can_report(TYPE__COUNT));
}

/* The AWS key kinds the variants name are the classifier's. */
static void test_variants(void **state)
{
	static const char *const kinds[] = { "AKIA", "ASIA", "ABIA", "ACCA" };
	char seen_kinds[4][16] = { { 0 } };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		char v[TOK_MAX];
		struct credential c = { .header = "x-api-key" };
		struct token_info info;

		c.value = v;
		c.value_len = build(v, kinds[k], B32, 16);
		classify_credential(&c, &test_key, &info);
		assert_string_equal(info.type, "aws_sigv4");
		snprintf(seen_kinds[k], sizeof(seen_kinds[k]), "%s", info.aws_key_kind);
		token_info_release(&info);
	}
	for (size_t i = 0; i < TYPE__COUNT; i++) {
		const struct token_type *e = &token_types[i];
		size_t n = n_variants(e);

		if (e->variants && n == 0)
			fail_msg("%s: an empty variant list", e->id);
		for (size_t j = 0; j < n; j++) {
			const struct token_variant *v = &e->variants[j];
			bool kind_known = !v->key_kind;

			if (v->prefix && !rule_reports((enum token_type_id)i, v->prefix))
				fail_msg("%s: no rule reports prefix %s", e->id, v->prefix);
			for (size_t k = 0; k < 4 && !kind_known; k++)
				kind_known = strcmp(seen_kinds[k], v->key_kind) == 0;
			if (!kind_known)
				fail_msg("%s: the classifier reports no key kind %s", e->id,
					 v->key_kind);
			if (!v->holder && !v->lifetime && !v->privilege)
				fail_msg("%s: variant %zu changes nothing", e->id, j);
		}
	}
}

static void test_prefix_marks_and_families(void **state)
{
	(void)state;
	assert_true(token_prefix_marks_count > 0);
	for (size_t i = 0; i < token_prefix_marks_count; i++) {
		const struct token_prefix_mark *m = &token_prefix_marks[i];
		bool found = false;
		enum token_type_id t;
		const char *p;

		for (size_t r = 0; classify_rule_at(r, &t, &p) && !found; r++)
			found = m->starts ? starts_with(p, m->text) : strstr(p, m->text) != NULL;
		if (!found)
			fail_msg("prefix mark %s names no rule's prefix", m->text);
	}
	for (size_t i = 0; i < TYPE__COUNT; i++) {
		const struct token_type *e = &token_types[i];

		if (!e->family)
			continue;
		assert_non_null(e->hosts);
		assert_true(starts_with(e->id, e->family));
		for (size_t j = 0; j < TYPE__COUNT; j++) {
			const struct token_type *o = &token_types[j];

			/* one family, one host list; no stranger under its prefix */
			if (o->family && strcmp(o->family, e->family) == 0)
				assert_ptr_equal(o->hosts, e->hosts);
			else if (starts_with(o->id, e->family))
				fail_msg("%s is under family %s without being in it", o->id,
					 e->family);
		}
	}
}

static struct risk_token token(const char *type)
{
	return (struct risk_token){
		.type = type, .prefix = "", .scheme = "Bearer", .header = "authorization",
		.aws_key_kind = "", .basic_password_type = "", .jwt_json = "",
	};
}

static enum token_class class_of(enum token_holder h)
{
	return h == TOKEN_HOLDER_HUMAN ? TOKEN_CLASS_HUMAN :
	       h == TOKEN_HOLDER_MACHINE ? TOKEN_CLASS_MACHINE : TOKEN_CLASS_UNKNOWN;
}

static const char *life_why(enum token_lifetime l)
{
	return l == TOKEN_LIFE_LONG ? "long-lived" :
	       l == TOKEN_LIFE_SHORT ? "short-lived" : "lifetime unknown";
}

/* The score's words for a token: "<lifetime>, <privilege>". */
static void impact_why(const struct risk_config *c, const struct risk_token *t, char *out,
		       size_t cap)
{
	struct risk_score s;

	risk_score_token(c, t, NULL, 0, 0, &s);
	snprintf(out, cap, "%s", s.impact_why);
}

static void test_risk_lookups(void **state)
{
	struct risk_config cfg;
	char why[160], want[160];

	(void)state;
	risk_config_default(&cfg);
	for (size_t i = 0; i < TYPE__COUNT; i++) {
		const struct token_type *e = &token_types[i];
		struct risk_token t = token(e->id), basic = token("basic");

		/* class and lifetime: the type's own, and through a Basic password */
		basic.basic_password_type = e->id;
		assert_int_equal(risk_token_class(&t), class_of(e->holder));
		if (i != TYPE_OPAQUE)
			assert_int_equal(risk_token_class(&basic), class_of(e->holder));
		if (e->holder == TOKEN_HOLDER_CLAIMS) {
			t.jwt_json = "{\"scp\":\"User.Read\"}";
			assert_int_equal(risk_token_class(&t), TOKEN_CLASS_HUMAN);
			t.jwt_json = "{\"roles\":[\"Reader\"]}";
			assert_int_equal(risk_token_class(&t), TOKEN_CLASS_MACHINE);
			t.jwt_json = "";
		}
		impact_why(&cfg, &t, why, sizeof(why));
		snprintf(want, sizeof(want), "%s, full access", life_why(e->lifetime));
		assert_string_equal(why, want);

		/* provider hosts: each of them and its subdomains, nothing else */
		if (!e->hosts) {
			assert_int_equal(risk_wrong_provider(&cfg, e->id, "evil.example"), -1);
			continue;
		}
		assert_int_equal(risk_wrong_provider(&cfg, e->id, "evil.example"), 1);
		for (size_t k = 0; e->hosts[k]; k++) {
			char sub[160];

			snprintf(sub, sizeof(sub), "api.%s", e->hosts[k]);
			assert_int_equal(risk_wrong_provider(&cfg, e->id, e->hosts[k]), 0);
			assert_int_equal(risk_wrong_provider(&cfg, e->id, sub), 0);
		}
	}
	/* each variant changes what it says for a token that shows its key */
	for (size_t i = 0; i < TYPE__COUNT; i++) {
		const struct token_type *e = &token_types[i];

		for (size_t j = 0; j < n_variants(e); j++) {
			const struct token_variant *v = &e->variants[j];
			struct risk_token t = token(e->id);
			enum token_holder h = v->holder ? v->holder : e->holder;
			enum token_lifetime l = v->lifetime ? v->lifetime : e->lifetime;

			t.prefix = v->prefix ? v->prefix : "";
			t.aws_key_kind = v->key_kind ? v->key_kind : "";
			t.header = v->header ? v->header : "authorization";
			assert_int_equal(risk_token_class(&t), class_of(h));
			impact_why(&cfg, &t, why, sizeof(why));
			assert_true(starts_with(why, life_why(l)));
			if (v->privilege == TOKEN_PRIV_ADMIN)
				assert_non_null(strstr(why, ", admin"));
		}
	}
	/* prefix marks hold whatever type carries the prefix */
	{
		struct risk_token t = token("twilio");

		t.prefix = "sk-ant-admin01-";
		impact_why(&cfg, &t, why, sizeof(why));
		assert_string_equal(why, "long-lived, admin");
		t.prefix = "rk_test_";
		impact_why(&cfg, &t, why, sizeof(why));
		assert_string_equal(why, "long-lived, test mode");
		t.prefix = "rk_live_";
		impact_why(&cfg, &t, why, sizeof(why));
		assert_string_equal(why, "long-lived, restricted");
	}
	/* a family covers an id of its prefix this table does not know yet */
	assert_int_equal(risk_wrong_provider(&cfg, "github_new_kind", "github.com"), 0);
	assert_int_equal(risk_wrong_provider(&cfg, "github_new_kind", "evil.example"), 1);
	assert_int_equal(risk_wrong_provider(&cfg, "unknown_kind", "evil.example"), -1);
	risk_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_rules_and_entries),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_prefix_marks_and_families),
		cmocka_unit_test(test_risk_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
