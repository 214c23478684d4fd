/* SPDX-License-Identifier: Apache-2.0 */
#include "path_token.h"

#include <string.h>

/*
 * Lengths of the formats as their providers issue them, with some slack:
 * Telegram's secret is 35 bytes after "<bot id>:", Slack's 24, Discord's
 * 68. A segment of another shape is not a credential.
 */
#define TG_ID_MIN 5
#define TG_ID_MAX 16
#define TG_SECRET_MIN 30
#define TG_SECRET_MAX 64
#define SLACK_ID_MIN 6
#define SLACK_ID_MAX 16
#define SLACK_SECRET_MIN 20
#define SLACK_SECRET_MAX 40
#define DISCORD_ID_MIN 15
#define DISCORD_ID_MAX 22
#define DISCORD_SECRET_MIN 40
#define DISCORD_SECRET_MAX 100

struct seg {
	const char *p;
	size_t n;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_upper_alnum(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z');
}

static bool is_token64(char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static bool all(const char *p, size_t n, bool (*ok)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!ok(p[i]))
			return false;
	return true;
}

static bool seg_is(struct seg s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* "bot<digits>:<secret>": the credential is "<digits>:<secret>", the whole token. */
static bool telegram(struct seg s, size_t *off, size_t *n)
{
	const char *colon;
	size_t id, secret;

	if (s.n < 3 || memcmp(s.p, "bot", 3) != 0)
		return false;
	colon = memchr(s.p + 3, ':', s.n - 3);
	if (!colon)
		return false;
	id = (size_t)(colon - (s.p + 3));
	secret = s.n - 3 - id - 1;
	if (id < TG_ID_MIN || id > TG_ID_MAX || !all(s.p + 3, id, is_digit) ||
	    secret < TG_SECRET_MIN || secret > TG_SECRET_MAX || !all(colon + 1, secret, is_token64))
		return false;
	*off = 3;
	*n = s.n - 3;
	return true;
}

bool path_token_find(const char *target, size_t len, enum path_token_kind *kind, size_t *off,
		     size_t *n)
{
	struct seg seg[4] = { { 0 } }; /* the last four segments, newest last */
	size_t i = 0, o;

	if (!target)
		return false;
	while (i < len && target[i] != '?' && target[i] != '#') {
		size_t start;

		if (target[i] == '/') {
			i++;
			continue;
		}
		start = i;
		while (i < len && target[i] != '/' && target[i] != '?' && target[i] != '#')
			i++;
		memmove(seg, seg + 1, 3 * sizeof(seg[0]));
		seg[3] = (struct seg){ target + start, i - start };
		if (telegram(seg[3], &o, n)) {
			*kind = PATH_TOKEN_TELEGRAM_BOT;
			*off = start + o;
			return true;
		}
		/* /services/T<team>/B<hook>/<secret> */
		if (seg_is(seg[0], "services") && seg[1].n >= SLACK_ID_MIN &&
		    seg[1].n <= SLACK_ID_MAX && seg[1].p[0] == 'T' &&
		    all(seg[1].p, seg[1].n, is_upper_alnum) && seg[2].n >= SLACK_ID_MIN &&
		    seg[2].n <= SLACK_ID_MAX && seg[2].p[0] == 'B' &&
		    all(seg[2].p, seg[2].n, is_upper_alnum) && seg[3].n >= SLACK_SECRET_MIN &&
		    seg[3].n <= SLACK_SECRET_MAX && all(seg[3].p, seg[3].n, is_alnum)) {
			*kind = PATH_TOKEN_SLACK_WEBHOOK;
			*off = start;
			*n = seg[3].n;
			return true;
		}
		/* /api/webhooks/<id>/<secret> (also /api/v10/webhooks/...) */
		if (seg_is(seg[1], "webhooks") && seg[2].n >= DISCORD_ID_MIN &&
		    seg[2].n <= DISCORD_ID_MAX && all(seg[2].p, seg[2].n, is_digit) &&
		    seg[3].n >= DISCORD_SECRET_MIN && seg[3].n <= DISCORD_SECRET_MAX &&
		    all(seg[3].p, seg[3].n, is_token64)) {
			*kind = PATH_TOKEN_DISCORD_WEBHOOK;
			*off = start;
			*n = seg[3].n;
			return true;
		}
	}
	return false;
}

const char *path_token_name(enum path_token_kind k)
{
	switch (k) {
	case PATH_TOKEN_TELEGRAM_BOT:
		return "telegram-bot-path";
	case PATH_TOKEN_SLACK_WEBHOOK:
		return "slack-webhook-path";
	case PATH_TOKEN_DISCORD_WEBHOOK:
		return "discord-webhook-path";
	}
	return "path";
}
