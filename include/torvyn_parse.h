/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line value parsing shared by torvyn-host and torvyn-trace. */
#ifndef TORVYN_PARSE_H
#define TORVYN_PARSE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* "10ms", "250us", "1.5s", "100ns", or a bare number of nanoseconds. 0 or -EINVAL. */
static inline int torvyn_parse_duration_ns(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end), mult;

	if (end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "ns"))
		mult = 1;
	else if (!strcmp(end, "us"))
		mult = 1e3;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "s"))
		mult = 1e9;
	else
		return -EINVAL;
	if (v * mult > 1.8e19)
		return -EINVAL;
	*out = (uint64_t)(v * mult);
	return 0;
}

/* A process id: a whole number in [1, INT_MAX]. 0 or -EINVAL. */
static inline int torvyn_parse_pid(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x7fffffff)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* Seconds in [min, max], fractions allowed. 0 or -EINVAL. */
static inline int torvyn_parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= min && v <= max))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A rate in [0, 1]. 0 or -EINVAL. */
static inline int torvyn_parse_rate(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 1))
		return -EINVAL;
	*out = v;
	return 0;
}

#endif /* TORVYN_PARSE_H */
