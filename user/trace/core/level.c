// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "level.h"

static const char *const names[] = {"off", "production", "diagnostic"};
static const char *const digits[] = {"0", "1", "2"};

int tvn_level__parse(const char *s)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i]) || !strcmp(s, digits[i]))
			return i;
	}
	return -EINVAL;
}

const char *tvn_level__name(int level)
{
	return level >= 0 && level <= 2 ? names[level] : "?";
}
