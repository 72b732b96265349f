/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <stdio.h>

#include "log.h"

enum tvn_log_level tvn_log_verbosity = LOG_INFO;

void tvn_log__printf(enum tvn_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > tvn_log_verbosity)
		return;
	va_start(ap, fmt);
	fputs("torvyn-trace: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
