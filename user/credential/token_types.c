/* SPDX-License-Identifier: Apache-2.0 */
#include "token_types.h"

#include <string.h>

/* Hosts shared by several types of one provider. */
static const char *const github_hosts[] = { "github.com", "githubusercontent.com", "ghcr.io",
					    NULL };
static const char *const gitlab_hosts[] = { "gitlab.com", NULL };
static const char *const slack_hosts[] = { "slack.com", NULL };
static const char *const google_hosts[] = { "googleapis.com", "google.com", NULL };
static const char *const aws_hosts[] = { "amazonaws.com", "amazonaws.com.cn", "aws.amazon.com",
					 "api.aws", NULL };

/* The hosts of providers with several types, which cover their future types too. */
#define GITHUB_HOSTS .hosts = github_hosts, .family = "github_"
#define SLACK_HOSTS .hosts = slack_hosts, .family = "slack_"
/* NULL-terminated host list / variant list of one entry. */
#define HOSTS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define VARIANTS(...) ((const struct token_variant[]){ __VA_ARGS__, { 0 } })

/*
 * Registries and content hosts where clients legitimately present a token
 * (ghcr.io, the yarn mirror of npm) are provider hosts, so everyday
 * tooling is not flagged.
 */
const struct token_type token_types[TYPE__COUNT] = {
	[TYPE_OPAQUE] = {
		.id = "opaque", .name = "unrecognised credential",
	},
	/* a plain password: valid until changed */
	[TYPE_BASIC] = {
		.id = "basic", .name = "HTTP Basic password",
		.lifetime = TOKEN_LIFE_LONG,
	},
	[TYPE_GITHUB_PAT] = {
		.id = "github_pat", .name = "GitHub classic personal access token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG, GITHUB_HOSTS,
	},
	[TYPE_GITHUB_OAUTH] = {
		.id = "github_oauth", .name = "GitHub OAuth token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG, GITHUB_HOSTS,
	},
	[TYPE_GITHUB_USER_APP] = {
		.id = "github_user_app", .name = "GitHub App user-to-server token",
		.holder = TOKEN_HOLDER_HUMAN, GITHUB_HOSTS,
	},
	[TYPE_GITHUB_APP_INSTALL] = {
		.id = "github_app_install", .name = "GitHub App installation token",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_SHORT, GITHUB_HOSTS,
	},
	[TYPE_GITHUB_REFRESH] = {
		.id = "github_refresh", .name = "GitHub refresh token",
		GITHUB_HOSTS,
	},
	[TYPE_GITHUB_FINE_GRAINED] = {
		.id = "github_fine_grained",
		.name = "GitHub fine-grained personal access token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG, GITHUB_HOSTS,
	},
	[TYPE_GITLAB_PAT] = {
		.id = "gitlab_pat", .name = "GitLab personal access token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG,
		.hosts = gitlab_hosts,
	},
	[TYPE_GITLAB_OTHER] = {
		.id = "gitlab_other", .name = "GitLab CI job, runner, deploy or other token",
		.hosts = gitlab_hosts,
	},
	[TYPE_SLACK_USER] = {
		.id = "slack_user", .name = "Slack user token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG, SLACK_HOSTS,
	},
	[TYPE_SLACK_BOT] = {
		.id = "slack_bot", .name = "Slack bot token",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG, SLACK_HOSTS,
	},
	[TYPE_SLACK_APP] = {
		.id = "slack_app", .name = "Slack app-level token",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG, SLACK_HOSTS,
	},
	[TYPE_SLACK_REFRESH] = {
		.id = "slack_refresh", .name = "Slack refresh token",
		SLACK_HOSTS,
	},
	[TYPE_STRIPE] = {
		.id = "stripe", .name = "Stripe secret or restricted key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("stripe.com"),
	},
	[TYPE_OPENAI] = {
		.id = "openai", .name = "OpenAI API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("openai.com"),
		.variants = VARIANTS({ .prefix = "sk-svcacct-", .holder = TOKEN_HOLDER_MACHINE }),
	},
	[TYPE_ANTHROPIC] = {
		.id = "anthropic", .name = "Anthropic API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("anthropic.com"),
	},
	[TYPE_AWS_SIGV4] = {
		.id = "aws_sigv4", .name = "AWS access key (SigV4)",
		.hosts = aws_hosts,
		.variants = VARIANTS({ .key_kind = "long-term", .lifetime = TOKEN_LIFE_LONG,
					.privilege = TOKEN_PRIV_ADMIN },
				      { .key_kind = "temporary", .holder = TOKEN_HOLDER_MACHINE,
					.lifetime = TOKEN_LIFE_SHORT }),
	},
	[TYPE_AWS_BEDROCK] = {
		.id = "aws_bedrock", .name = "AWS Bedrock API key",
		.hosts = aws_hosts,
		.variants = VARIANTS({ .prefix = "ABSK", .lifetime = TOKEN_LIFE_LONG },
				      { .prefix = "bedrock-api-key-",
					.lifetime = TOKEN_LIFE_SHORT }),
	},
	[TYPE_GOOGLE_OAUTH] = {
		.id = "google_oauth", .name = "Google OAuth access token",
		.lifetime = TOKEN_LIFE_SHORT, .hosts = google_hosts,
	},
	[TYPE_GOOGLE_API_KEY] = {
		.id = "google_api_key", .name = "Google API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = google_hosts,
	},
	[TYPE_AZURE_ENTRA] = {
		.id = "azure_entra", .name = "Microsoft Entra ID access token",
		.holder = TOKEN_HOLDER_CLAIMS,
	},
	[TYPE_AZURE_SAS] = {
		.id = "azure_sas", .name = "Azure shared access signature",
		.holder = TOKEN_HOLDER_MACHINE,
	},
	[TYPE_AZURE_SHAREDKEY] = {
		.id = "azure_sharedkey", .name = "Azure Storage shared key",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG,
	},
	[TYPE_AZURE_APIM] = {
		.id = "azure_apim", .name = "Azure identifiable key",
		.lifetime = TOKEN_LIFE_LONG,
	},
	[TYPE_NPM] = {
		.id = "npm", .name = "npm access token",
		.lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("npmjs.org", "npmjs.com", "yarnpkg.com"),
	},
	[TYPE_PYPI] = {
		.id = "pypi", .name = "PyPI upload token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("pypi.org"),
	},
	[TYPE_TWILIO] = {
		.id = "twilio", .name = "Twilio API key or auth token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("twilio.com"),
	},
	[TYPE_SENDGRID] = {
		.id = "sendgrid", .name = "SendGrid API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("sendgrid.com"),
	},
	[TYPE_DATADOG] = {
		.id = "datadog", .name = "Datadog API or application key",
		.lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("datadoghq.com", "datadoghq.eu", "ddog-gov.com"),
	},
	[TYPE_SHOPIFY] = {
		.id = "shopify", .name = "Shopify access token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("myshopify.com", "shopify.com"),
	},
	/* Vault servers are the users' own: no provider host to judge by */
	[TYPE_VAULT] = {
		.id = "vault", .name = "HashiCorp Vault token",
		.holder = TOKEN_HOLDER_MACHINE,
	},
	[TYPE_K8S_SERVICEACCOUNT] = {
		.id = "k8s_serviceaccount", .name = "Kubernetes service account token",
		.holder = TOKEN_HOLDER_MACHINE,
	},
	[TYPE_DOCKER] = {
		.id = "docker", .name = "Docker Hub access token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("docker.io", "docker.com"),
	},
	[TYPE_JWT] = {
		.id = "jwt", .name = "JSON Web Token",
		.holder = TOKEN_HOLDER_CLAIMS,
	},
	[TYPE_HUGGINGFACE] = {
		.id = "huggingface", .name = "Hugging Face token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("huggingface.co", "hf.co"),
	},
	[TYPE_DATABRICKS] = {
		.id = "databricks", .name = "Databricks personal access token",
		.lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("cloud.databricks.com", "azuredatabricks.net", "gcp.databricks.com"),
	},
	[TYPE_GRAFANA] = {
		.id = "grafana", .name = "Grafana service account or Cloud token",
		.lifetime = TOKEN_LIFE_LONG,
	},
	[TYPE_ATLASSIAN] = {
		.id = "atlassian", .name = "Atlassian API token",
		.holder = TOKEN_HOLDER_HUMAN, .lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("atlassian.net", "atlassian.com"),
	},
	[TYPE_OKTA] = {
		.id = "okta", .name = "Okta API token",
		.lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("okta.com", "oktapreview.com", "okta-emea.com"),
	},
	[TYPE_NEWRELIC] = {
		.id = "newrelic", .name = "New Relic key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("newrelic.com", "nr-data.net"),
	},
	[TYPE_DIGITALOCEAN] = {
		.id = "digitalocean", .name = "DigitalOcean token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("digitalocean.com"),
	},
	[TYPE_SENTRY] = {
		.id = "sentry", .name = "Sentry token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("sentry.io"),
	},
	/* the legacy global key (X-Auth-Key) reaches the whole account */
	[TYPE_CLOUDFLARE] = {
		.id = "cloudflare", .name = "Cloudflare API token or global key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("cloudflare.com"),
		.variants = VARIANTS({ .header = "x-auth-key", .privilege = TOKEN_PRIV_ADMIN }),
	},
	[TYPE_ONEPASSWORD] = {
		.id = "onepassword", .name = "1Password service account token",
		.hosts = HOSTS("1password.com"),
	},
	[TYPE_TERRAFORM] = {
		.id = "terraform", .name = "Terraform Cloud token",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("terraform.io"),
	},
	[TYPE_LINEAR] = {
		.id = "linear", .name = "Linear API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("linear.app"),
	},
	[TYPE_POSTMAN] = {
		.id = "postman", .name = "Postman API key",
		.lifetime = TOKEN_LIFE_LONG, .hosts = HOSTS("getpostman.com", "postman.com"),
	},
	[TYPE_TAILSCALE] = {
		.id = "tailscale", .name = "Tailscale key",
		.hosts = HOSTS("tailscale.com"),
	},
	/* several providers under one id: no single provider host */
	[TYPE_AI_MISC] = {
		.id = "ai_misc",
		.name = "xAI, Groq, Replicate, LangSmith, Perplexity or ElevenLabs key",
	},
	/* credentials in URL paths (path_token.c): a bot's or a webhook's whole power */
	[TYPE_TELEGRAM_BOT] = {
		.id = "telegram_bot", .name = "Telegram bot token",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("api.telegram.org"),
	},
	[TYPE_SLACK_WEBHOOK] = {
		.id = "slack_webhook", .name = "Slack incoming webhook",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG, SLACK_HOSTS,
	},
	[TYPE_DISCORD_WEBHOOK] = {
		.id = "discord_webhook", .name = "Discord webhook",
		.holder = TOKEN_HOLDER_MACHINE, .lifetime = TOKEN_LIFE_LONG,
		.hosts = HOSTS("discord.com", "discordapp.com"),
	},
};

/*
 * Admin keys, Stripe's test mode ("sk_test_", "rk_test_") and restricted
 * keys ("rk_") say so in their prefix.
 */
const struct token_prefix_mark token_prefix_marks[] = {
	{ "sk-ant-admin01-", true, TOKEN_PRIV_ADMIN },
	{ "sk-admin-", true, TOKEN_PRIV_ADMIN },
	{ "_test_", false, TOKEN_PRIV_TEST },
	{ "rk_", true, TOKEN_PRIV_RESTRICTED },
};
const size_t token_prefix_marks_count = sizeof(token_prefix_marks) / sizeof(token_prefix_marks[0]);

const char *token_type_id_str(enum token_type_id t)
{
	return (unsigned)t < TYPE__COUNT ? token_types[t].id : token_types[TYPE_OPAQUE].id;
}

const struct token_type *token_type_find(const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < TYPE__COUNT; i++)
		if (strcmp(id, token_types[i].id) == 0)
			return &token_types[i];
	return NULL;
}

bool token_type_is(const char *id, enum token_type_id t)
{
	return id && (unsigned)t < TYPE__COUNT && strcmp(id, token_types[t].id) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool variant_matches(const struct token_variant *v, const char *prefix,
			    const char *key_kind, const char *header)
{
	return (!v->prefix || starts_with(prefix, v->prefix)) &&
	       (!v->key_kind || strcmp(key_kind, v->key_kind) == 0) &&
	       (!v->header || strcmp(header, v->header) == 0);
}

static bool variant_end(const struct token_variant *v)
{
	return !v->prefix && !v->key_kind && !v->header;
}

void token_type_traits(const char *id, const char *prefix, const char *key_kind,
		       const char *header, struct token_traits *out)
{
	const struct token_type *t = token_type_find(id);

	prefix = prefix ? prefix : "";
	key_kind = key_kind ? key_kind : "";
	header = header ? header : "";
	memset(out, 0, sizeof(*out));
	if (t) {
		out->holder = t->holder;
		out->lifetime = t->lifetime;
		out->privilege = t->privilege;
		for (const struct token_variant *v = t->variants; v && !variant_end(v); v++) {
			if (!variant_matches(v, prefix, key_kind, header))
				continue;
			if (v->holder)
				out->holder = v->holder;
			if (v->lifetime)
				out->lifetime = v->lifetime;
			if (v->privilege)
				out->privilege = v->privilege;
			break;
		}
	}
	for (size_t i = 0; i < token_prefix_marks_count; i++) {
		const struct token_prefix_mark *m = &token_prefix_marks[i];
		bool hit = m->starts ? starts_with(prefix, m->text)
				     : strstr(prefix, m->text) != NULL;

		if (hit && m->privilege > out->privilege)
			out->privilege = m->privilege;
	}
}
