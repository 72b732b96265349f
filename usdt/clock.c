// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The TSC clock of tvn_ticks() and tvn_now_ns(): calibration and steering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torvyn_rt.h"

/* until calibrated, and for good without a TSC clocksource: ticks are ns */
struct tvn_clock tvn_clock = {.mult = 1ull << 32};

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
	tvn_lat_ticks__fill(&tvn_lat_ticks, mult);
}

/*
 * A TSC reading and the CLOCK_MONOTONIC time it was taken at: the middle of
 * the tightest of a few clock_gettime pairs around an rdtsc, so that a rate
 * measured between two of them is off by a few ns, not a preemption.
 */
static void clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		uint64_t a = tvn_mono_ns(), t = __builtin_ia32_rdtsc(), b = tvn_mono_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}

void tvn_clock__init(void)
{
	uint64_t t0, n0, t1, n1;
	struct timespec d = { .tv_nsec = 10 * 1000000 };

	const char *env = getenv("TORVYN_CLOCK");

	/* TORVYN_CLOCK=clock_gettime keeps the kernel's clock on the hot path */
	if ((env && !strcmp(env, "clock_gettime")) || !tsc_is_clocksource())
		return;
	clock_pair(&t0, &n0);
	nanosleep(&d, NULL);
	clock_pair(&t1, &n1);
	if (t1 <= t0 || n1 <= n0)
		return;
	publish(t1, n1, (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)));
	tvn_clock.ref_tsc = t1;
	tvn_clock.ref_ns = n1;
	tvn_clock.tsc = 1;
}

/*
 * Continuity first: the new segment starts where the current one is now.
 * Its rate is the measured one (within 0.1 % of the current one), corrected
 * so that the offset to CLOCK_MONOTONIC closes over the next second (bounded
 * to 0.1 %), so the clock follows CLOCK_MONOTONIC without a step.
 */
void tvn_clock__tick(void)
{
	uint64_t tsc, now, mono, rate;
	int64_t err, adj;

	if (!tvn_clock.tsc)
		return;
	clock_pair(&tsc, &mono);
	now = tvn_clock__read(&tvn_clock, tsc);
	if (tsc > tvn_clock.ref_tsc && mono > tvn_clock.ref_ns)
		rate = (uint64_t)(((unsigned __int128)(mono - tvn_clock.ref_ns) << 32) /
				  (tsc - tvn_clock.ref_tsc));
	else
		rate = tvn_clock.mult;
	tvn_clock.ref_tsc = tsc;
	tvn_clock.ref_ns = mono;
	/* the TSC and CLOCK_MONOTONIC drift apart by ppm: a rate far off is a bad measurement */
	if (rate > tvn_clock.mult + tvn_clock.mult / 1000 ||
	    rate < tvn_clock.mult - tvn_clock.mult / 1000)
		rate = tvn_clock.mult;
	err = (int64_t)(mono - now); /* > 0: we are behind */
	adj = err > 1000000 ? 1000000 : err < -1000000 ? -1000000 : err; /* per second, 0.1 % */
	rate = (uint64_t)((int64_t)rate + (int64_t)(((__int128)rate * adj) / 1000000000));
	tsc = __builtin_ia32_rdtsc(); /* the new segment starts where the current one is now */
	publish(tsc, tvn_clock__read(&tvn_clock, tsc), rate);
}
