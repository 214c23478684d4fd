/* SPDX-License-Identifier: Apache-2.0 */
/* tokentap-collector: placeholder until the collector lands. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "tokentap-collector: not built yet\n");
	return 1;
}
