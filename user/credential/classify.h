/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential classifier: a table of rules (type, header, scheme, prefix,
 * length, alphabet, checksum, metadata extractor). The type is declared in
 * token_types.h; adding one is its entry there and its rule(s) here. Pure
 * logic (OpenSSL/zlib/json-c only).
 *
 * Only non-secret metadata leaves the classifier (docs/token-formats.md).
 */
#ifndef TOKENTAP_CLASSIFY_H
#define TOKENTAP_CLASSIFY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include "cred.h"
#include "fingerprint.h"
#include "token_types.h"

struct token_info {
	char type[32];          /* type id of docs/token-formats.md, e.g. "github_pat"; "opaque" when unknown */
	char prefix[24];        /* non-secret prefix, e.g. "ghp_", "sk_live_", "" */
	size_t length;          /* credential length in bytes */
	bool has_checksum;      /* the format carries an offline checksum */
	bool checksum_valid;    /* meaningful when has_checksum */
	int confidence;         /* 0..100: 100 checksum-valid, lower when invalid or heuristic */
	/* AWS */
	char key_id[32];        /* AWS access key id (not secret) */
	char aws_key_kind[16];  /* "long-term" (AKIA), "temporary" (ASIA), ... */
	char aws_account[16];   /* 12-digit account id derived from the key id, or "" */
	char aws_region[32];
	char aws_service[32];
	/* Basic */
	char basic_user[128];   /* user name of Basic credentials */
	char basic_password_type[32]; /* type id of the password part ("opaque" when unknown) */
	/* Azure identifiable keys: the service signature inside the key ("APIM", "AzFu", ...) */
	char azure_signature[8];
	/* JWT: safe header fields and claims only, sub/oid/jti keyed-hashed; NULL when not a JWT */
	struct json_object *jwt;
};

/*
 * Classifies c. key is the fingerprint key, used to hash JWT identity
 * claims. Never fails: unknown credentials are "opaque". out must be
 * released with token_info_release().
 */
void classify_credential(const struct credential *c, const struct fp_key *key,
			 struct token_info *out);
void token_info_release(struct token_info *t);

/*
 * Finds the first credential in s[0..len) recognisable by a prefix rule
 * (rules with a prefix that are bound to no header and no scheme, plus the
 * AWS key id rule). A match must start at a boundary (start of s or a
 * byte that is not [A-Za-z0-9_-.]) and extend over the rule's alphabet up
 * to a boundary; it must then satisfy the rule fully (length, match()).
 * Checksum-invalid gh*_ and npm tokens still match (confidence is lowered by
 * classify_credential). Returns true and sets *off and *n, else false.
 * No guessing from length or entropy: a string no prefix rule names is
 * never found. Linear in len.
 */
bool classify_find_prefixed(const char *s, size_t len, size_t *off, size_t *n);

/*
 * The type of the i-th rule (from 0) and the prefix it reports ("" when
 * none); false past the last rule. With classify_can_report, lets the type
 * table be checked against the rules.
 */
bool classify_rule_at(size_t i, enum token_type_id *type, const char **prefix);
/* classify_credential may report type t: a rule's, an extractor's or "opaque". */
bool classify_can_report(enum token_type_id t);

#endif
