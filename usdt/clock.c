// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The TSC clock of tvn_now_ns(): calibration and steering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torvyn_rt.h"

struct tvn_clock tvn_clock;

static int tsc_is_clocksource(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strncmp(buf, "tsc", 3) && (buf[3] == '\n' || buf[3] == '\0');
}

static void publish(uint64_t base_tsc, uint64_t base_ns, uint64_t mult)
{
	__atomic_store_n(&tvn_clock.seq, tvn_clock.seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	tvn_clock.base_tsc = base_tsc;
	tvn_clock.base_ns = base_ns;
	tvn_clock.mult = mult;
	__atomic_store_n(&tvn_clock.seq, tvn_clock.seq + 1, __ATOMIC_RELEASE);
}

void tvn_clock__init(void)
{
	uint64_t t0, n0, t1, n1;
	struct timespec d = { .tv_nsec = 10 * 1000000 };

	const char *env = getenv("TORVYN_CLOCK");

	/* TORVYN_CLOCK=clock_gettime keeps the kernel's clock on the hot path */
	if ((env && !strcmp(env, "clock_gettime")) || !tsc_is_clocksource())
		return;
	n0 = tvn_mono_ns();
	t0 = __builtin_ia32_rdtsc();
	nanosleep(&d, NULL);
	n1 = tvn_mono_ns();
	t1 = __builtin_ia32_rdtsc();
	if (t1 <= t0 || n1 <= n0)
		return;
	publish(t1, n1, (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)));
}

/*
 * Continuity first: the new segment starts where the current one is now.
 * Its rate is the measured one, corrected so that the offset to
 * CLOCK_MONOTONIC closes over the next second (bounded to 0.1 %), so the
 * clock follows CLOCK_MONOTONIC without a step.
 */
void tvn_clock__tick(void)
{
	static uint64_t last_tsc, last_mono;
	uint64_t tsc, now, mono, rate;
	int64_t err, adj;

	if (!tvn_clock.mult)
		return;
	mono = tvn_mono_ns();
	tsc = __builtin_ia32_rdtsc();
	now = tvn_clock__read(&tvn_clock, tsc);
	if (last_tsc && tsc > last_tsc && mono > last_mono)
		rate = (uint64_t)(((unsigned __int128)(mono - last_mono) << 32) / (tsc - last_tsc));
	else
		rate = tvn_clock.mult;
	last_tsc = tsc;
	last_mono = mono;
	err = (int64_t)(mono - now); /* > 0: we are behind */
	adj = err > 1000000 ? 1000000 : err < -1000000 ? -1000000 : err; /* per second, 0.1 % */
	rate = (uint64_t)((int64_t)rate + (int64_t)(((__int128)rate * adj) / 1000000000));
	publish(tsc, now, rate);
}
