/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <stdio.h>

#include "log.h"

enum log_level log_verbosity = LOG_INFO;

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_verbosity)
		return;
	va_start(ap, fmt);
	fputs("torvyn-trace: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
