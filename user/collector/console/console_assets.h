/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's pages, script and style, built from web/ at make time and
 * compiled into the collector (web/embed_assets.py), so it stays one file
 * and never fetches anything at run time.
 */
#ifndef TOKENTAP_CONSOLE_ASSETS_H
#define TOKENTAP_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *path;           /* "/", "/login", "/assets/console.<hash>.js", ... */
	const char *content_type;
	const char *cache_control;  /* pages: no-store; hashed bundles: immutable */
	const unsigned char *data;
	size_t len;
};

/* The asset served at path, or NULL. */
const struct console_asset *console_asset_find(const char *path);

#endif
