/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzzes the credential classifier: byte 0 picks the auth scheme, byte 1
 * the header, the rest is the credential value (an exact-size heap copy,
 * not NUL-terminated, so any over-read is caught).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

static const char *const schemes[] = {
	"", "Bearer", "Basic", "basic", "token", "AWS4-HMAC-SHA256", "SSWS",
	"SharedAccessSignature", "SharedKey", "Negotiate",
};

static const char *const headers[] = {
	"authorization", "proxy-authorization", "x-api-key", "dd-api-key", "dd-application-key",
	"x-vault-token", "x-amz-credential", "ocp-apim-subscription-key", "private-token",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_key key = { .bytes = "fuzz-key", .len = 8 };
	struct credential c;
	struct token_info t;
	char *value;

	if (size < 2)
		return 0;
	memset(&c, 0, sizeof(c));
	strcpy(c.scheme, schemes[data[0] % (sizeof(schemes) / sizeof(schemes[0]))]);
	strcpy(c.header, headers[data[1] % (sizeof(headers) / sizeof(headers[0]))]);
	/* region and service as the extractor might leave them: arbitrary bytes, NUL-terminated */
	memcpy(c.aws_region, data, size < sizeof(c.aws_region) - 1 ? size : sizeof(c.aws_region) - 1);
	size -= 2;
	value = malloc(size ? size : 1);
	if (!value)
		return 0;
	memcpy(value, data + 2, size);
	c.value = value;
	c.value_len = size;
	classify_credential(&c, &key, &t);
	if (t.jwt)
		(void)json_object_to_json_string(t.jwt);
	token_info_release(&t);
	free(value);
	return 0;
}
