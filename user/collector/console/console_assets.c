/* SPDX-License-Identifier: Apache-2.0 */
#include "console_assets.h"

#include <string.h>

/* console_assets[]: generated into $(BUILD)/console by the Makefile */
#include "console_assets_gen.h"

const struct console_asset *console_asset_find(const char *path)
{
	for (size_t i = 0; i < sizeof(console_assets) / sizeof(console_assets[0]); i++)
		if (!strcmp(console_assets[i].path, path))
			return &console_assets[i];
	return NULL;
}
