/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A processor loaded through the component ABI: ASCII upper case, in place. */
#include <stddef.h>

#include "torvyn_component.h"

static int uppercase_init(void **state, const char *config)
{
	(void)config;
	*state = NULL;
	return 0;
}

static int uppercase_process(void *state, struct torvyn_element *elem)
{
	(void)state;
	for (uint32_t i = 0; i < elem->len; i++) {
		if (elem->data[i] >= 'a' && elem->data[i] <= 'z')
			elem->data[i] -= 'a' - 'A';
	}
	return TORVYN_COMPONENT_OK;
}

static void uppercase_fini(void *state)
{
	(void)state;
}

static const struct torvyn_component uppercase = {
	.abi_version = TORVYN_COMPONENT_ABI_VERSION,
	.name = "uppercase",
	.init = uppercase_init,
	.process = uppercase_process,
	.fini = uppercase_fini,
};

const struct torvyn_component *torvyn_component_entry(void)
{
	return &uppercase;
}
