/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The tracer's clocks, in ns: CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for Unix time. */
#ifndef TORVYN_TRACE_CLOCK_H
#define TORVYN_TRACE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tvn_time__ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t tvn_time__mono_ns(void)
{
	return tvn_time__ns(CLOCK_MONOTONIC);
}

static inline uint64_t tvn_time__unix_ns(void)
{
	return tvn_time__ns(CLOCK_REALTIME);
}

#endif /* TORVYN_TRACE_CLOCK_H */
