/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials carried in a URL path rather than a header: a Telegram bot
 * token (/bot<id>:<secret>/method), a Slack incoming webhook
 * (/services/T…/B…/<secret>) and a Discord webhook
 * (/api/webhooks/<id>/<secret>). Pure logic: finds the secret's byte
 * range in a request target, so extraction and path redaction agree on it.
 */
#ifndef TOKENTAP_PATH_TOKEN_H
#define TOKENTAP_PATH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

enum path_token_kind {
	PATH_TOKEN_TELEGRAM_BOT,
	PATH_TOKEN_SLACK_WEBHOOK,
	PATH_TOKEN_DISCORD_WEBHOOK,
};

/*
 * The pseudo-header name a path credential is reported under
 * ("telegram-bot-path", ...): what the classifier's rules bind to.
 */
const char *path_token_name(enum path_token_kind k);

/*
 * Finds the first path credential in target[0..len) (the path only: the
 * query and fragment are not looked at). Sets *kind and the secret's
 * offset and length in target. Linear in len.
 */
bool path_token_find(const char *target, size_t len, enum path_token_kind *kind, size_t *off,
		     size_t *n);

#endif
