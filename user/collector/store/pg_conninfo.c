/* SPDX-License-Identifier: Apache-2.0 */
#include "pg_conninfo.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_url(const char *s)
{
	return !strncmp(s, "postgres://", 11) || !strncmp(s, "postgresql://", 13);
}

/* key=value conninfo: starts with a known keyword and '=' (a file path never does). */
static int is_keywords(const char *s)
{
	static const char *const keys[] = { "host=", "hostaddr=", "dbname=", "user=", "port=",
					     "service=" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(s, keys[i], strlen(keys[i])))
			return 1;
	return 0;
}

int pg_conninfo_is_pg(const char *s)
{
	return s && (is_url(s) || is_keywords(s));
}

/* Appends n bytes of s to out at *o (bounded). */
static void put(char *out, size_t len, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *o + 1 < len; i++)
		out[(*o)++] = s[i];
	out[*o] = '\0';
}

static void redact_url(const char *s, char *out, size_t len)
{
	const char *auth = strstr(s, "://") + 3;
	size_t end = strcspn(auth, "/?#"), o = 0, n0;
	const char *at = NULL, *q;

	/* the last '@' of the authority ends the userinfo */
	for (size_t i = 0; i < end; i++)
		if (auth[i] == '@')
			at = auth + i;
	put(out, len, &o, s, (size_t)(auth - s));
	if (at) {
		size_t user = strcspn(auth, ":@");

		put(out, len, &o, auth, user);
		if (auth + user < at)
			put(out, len, &o, ":***", 4);
		put(out, len, &o, at, (size_t)(auth + end - at));
	} else {
		put(out, len, &o, auth, end);
	}
	/* the path, then each query parameter, password= replaced */
	q = auth + end;
	n0 = strcspn(q, "?");
	put(out, len, &o, q, n0);
	q += n0;
	while (*q) {
		size_t n = strcspn(q + 1, "&") + 1;

		if ((q[0] == '?' || q[0] == '&') && !strncasecmp(q + 1, "password=", 9)) {
			put(out, len, &o, q, 10);
			put(out, len, &o, "***", 3);
		} else {
			put(out, len, &o, q, n);
		}
		q += n;
	}
}

static void redact_keywords(const char *s, char *out, size_t len)
{
	size_t o = 0;

	while (*s) {
		size_t sp = strspn(s, " \t\n"), n;

		put(out, len, &o, s, sp);
		s += sp;
		if (!*s)
			break;
		if (!strncmp(s, "password", 8) && s[8 + strspn(s + 8, " ")] == '=') {
			const char *v = s + 8 + strspn(s + 8, " ") + 1;

			v += strspn(v, " ");
			put(out, len, &o, "password=***", 12);
			if (*v == '\'') {
				/* quoted: up to the closing quote, \' and \\ escaped */
				for (v++; *v && *v != '\''; v++)
					if (*v == '\\' && v[1])
						v++;
				if (*v)
					v++;
			} else {
				v += strcspn(v, " \t\n");
			}
			s = v;
			continue;
		}
		/* any other keyword=value, quoted values kept whole */
		n = strcspn(s, "= \t\n");
		put(out, len, &o, s, n);
		s += n;
		if (*s == '=') {
			const char *v = s + 1;

			if (*v == '\'') {
				for (v++; *v && *v != '\''; v++)
					if (*v == '\\' && v[1])
						v++;
				if (*v)
					v++;
			} else {
				v += strcspn(v, " \t\n");
			}
			put(out, len, &o, s, (size_t)(v - s));
			s = v;
		}
	}
}

void pg_conninfo_redact(const char *s, char *out, size_t len)
{
	if (!len)
		return;
	out[0] = '\0';
	if (!s)
		return;
	if (is_url(s))
		redact_url(s, out, len);
	else if (strstr(s, "password"))
		redact_keywords(s, out, len);
	else
		snprintf(out, len, "%s", s);
}
