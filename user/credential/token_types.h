/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The token types, declared once: the type id the classifier reports and
 * what the risk model knows of a type (who holds such a token, how long it
 * lives, how much it may do, which hosts belong to its provider). The
 * classifier's rules name a type by its TYPE_ constant; the collector looks
 * the id it stored up here. Adding a type is one TYPE_ constant, one entry
 * in token_types.c and its rule(s) in classify.c. Pure data, no state.
 */
#ifndef TOKENTAP_TOKEN_TYPES_H
#define TOKENTAP_TOKEN_TYPES_H

#include <stdbool.h>
#include <stddef.h>

/* Type ids of docs/token-formats.md. Order is free: ids travel as strings. */
enum token_type_id {
	TYPE_OPAQUE = 0,        /* no rule matched: never a rule's type */
	TYPE_BASIC,
	TYPE_GITHUB_PAT,
	TYPE_GITHUB_OAUTH,
	TYPE_GITHUB_USER_APP,
	TYPE_GITHUB_APP_INSTALL,
	TYPE_GITHUB_REFRESH,
	TYPE_GITHUB_FINE_GRAINED,
	TYPE_GITLAB_PAT,
	TYPE_GITLAB_OTHER,
	TYPE_SLACK_USER,
	TYPE_SLACK_BOT,
	TYPE_SLACK_APP,
	TYPE_SLACK_REFRESH,
	TYPE_STRIPE,
	TYPE_OPENAI,
	TYPE_ANTHROPIC,
	TYPE_AWS_SIGV4,
	TYPE_AWS_BEDROCK,
	TYPE_GOOGLE_OAUTH,
	TYPE_GOOGLE_API_KEY,
	TYPE_AZURE_ENTRA,
	TYPE_AZURE_SAS,
	TYPE_AZURE_SHAREDKEY,
	TYPE_AZURE_APIM,
	TYPE_NPM,
	TYPE_PYPI,
	TYPE_TWILIO,
	TYPE_SENDGRID,
	TYPE_DATADOG,
	TYPE_SHOPIFY,
	TYPE_VAULT,
	TYPE_K8S_SERVICEACCOUNT,
	TYPE_DOCKER,
	TYPE_JWT,
	TYPE_HUGGINGFACE,
	TYPE_DATABRICKS,
	TYPE_GRAFANA,
	TYPE_ATLASSIAN,
	TYPE_OKTA,
	TYPE_NEWRELIC,
	TYPE_DIGITALOCEAN,
	TYPE_SENTRY,
	TYPE_CLOUDFLARE,
	TYPE_ONEPASSWORD,
	TYPE_TERRAFORM,
	TYPE_LINEAR,
	TYPE_POSTMAN,
	TYPE_TAILSCALE,
	TYPE_AI_MISC,
	TYPE_TELEGRAM_BOT,
	TYPE_SLACK_WEBHOOK,
	TYPE_DISCORD_WEBHOOK,
	TYPE__COUNT
};

/* Who such a token belongs to (the human and machine token rules). */
enum token_holder {
	TOKEN_HOLDER_NONE = 0,  /* neither rule fires; in a variant: the type's */
	TOKEN_HOLDER_HUMAN,     /* a person's token */
	TOKEN_HOLDER_MACHINE,   /* a workload's token */
	TOKEN_HOLDER_CLAIMS,    /* a JWT: "scp" names a person, "roles" alone a machine */
};

/* How long such a token stays valid (the score's lifetime factor). */
enum token_lifetime {
	TOKEN_LIFE_UNKNOWN = 0, /* the JWT claims decide, if any; in a variant: the type's */
	TOKEN_LIFE_LONG,        /* static: valid until revoked */
	TOKEN_LIFE_SHORT,       /* expires within about an hour */
};

/* What such a token may do (the score's privilege factor), weakest first. */
enum token_privilege {
	TOKEN_PRIV_DEFAULT = 0, /* full access; in a variant: the type's */
	TOKEN_PRIV_RESTRICTED,
	TOKEN_PRIV_TEST,
	TOKEN_PRIV_ADMIN,
};

/*
 * A kind of token within a type that the classes tell apart, keyed by
 * what the store keeps of it: the reported prefix, the AWS key kind or the
 * header it travelled in. Every key given must match; the first variant
 * that matches wins. A class left at 0 is the type's.
 */
struct token_variant {
	const char *prefix;     /* reported prefix starts with this, or NULL */
	const char *key_kind;   /* AWS key kind equals this ("long-term"), or NULL */
	const char *header;     /* header name equals this (lowercase), or NULL */
	enum token_holder holder;
	enum token_lifetime lifetime;
	enum token_privilege privilege;
};

struct token_type {
	const char *id;         /* "github_pat": [a-z0-9_]{1,31} */
	const char *name;       /* provider and kind, for people */
	enum token_holder holder;
	enum token_lifetime lifetime;
	enum token_privilege privilege;
	/*
	 * Host suffixes of the provider (NULL-terminated): sent anywhere else,
	 * the token goes to the wrong provider. NULL: no provider to judge by.
	 */
	const char *const *hosts;
	/*
	 * Id prefix of a provider whose types share these hosts ("github_"):
	 * they also cover an id of that prefix this table does not know yet
	 * (from a newer sensor). NULL: the hosts are for this id only.
	 */
	const char *family;
	const struct token_variant *variants; /* ended by an entry with no key, or NULL */
};

/*
 * A prefix that names a privilege whatever type reports it (a key sent as
 * a Basic password keeps its own prefix). starts: the reported prefix
 * starts with text; else it contains it.
 */
struct token_prefix_mark {
	const char *text;
	bool starts;
	enum token_privilege privilege;
};

extern const struct token_type token_types[TYPE__COUNT];
extern const struct token_prefix_mark token_prefix_marks[];
extern const size_t token_prefix_marks_count;

/* The type's id string ("opaque" for an out-of-range value). */
const char *token_type_id_str(enum token_type_id t);
/* The entry of a type id string; NULL when id is NULL or names no type. */
const struct token_type *token_type_find(const char *id);
/* id names type t. */
bool token_type_is(const char *id, enum token_type_id t);

/* The classes of one token, resolved from its type, variant and prefix. */
struct token_traits {
	enum token_holder holder;
	enum token_lifetime lifetime;
	enum token_privilege privilege;
};
/*
 * Classes of a token of type id (an unknown id has the type classes at
 * 0) that reported prefix, key_kind and header (NULL as ""): the first
 * matching variant's classes over the type's, and the strongest privilege
 * of those and of the prefix marks.
 */
void token_type_traits(const char *id, const char *prefix, const char *key_kind,
		       const char *header, struct token_traits *out);

#endif
