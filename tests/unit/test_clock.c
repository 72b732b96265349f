// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The TSC clock: never goes backwards, stays with CLOCK_MONOTONIC, and its
 * ticks convert to CLOCK_MONOTONIC ns within a microsecond.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>

#include "torvyn_rt.h"

static int64_t diff_to_mono(void)
{
	uint64_t a = tvn_mono_ns(), t = tvn_now_ns(), b = tvn_mono_ns();

	return (int64_t)t - (int64_t)(a / 2 + b / 2);
}

/* Ticks converted against clock_gettime around them: the tightest of a few tries. */
static int64_t ticks_off_mono(void)
{
	uint64_t best = UINT64_MAX;
	int64_t off = 0;

	for (int i = 0; i < 16; i++) {
		uint64_t a = tvn_mono_ns(), t = tvn_ticks(), b = tvn_mono_ns();

		if (b - a < best) {
			best = b - a;
			off = (int64_t)tvn_ticks__to_ns(t) - (int64_t)(a + (b - a) / 2);
		}
	}
	return off;
}

static void test_monotonic_and_close(void **state)
{
	uint64_t prev = 0;

	(void)state;
	tvn_clock__init();
	if (!tvn_clock.tsc)
		skip(); /* the TSC is not this machine's clocksource: clock_gettime is used */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 100000; i++) {
			uint64_t now = tvn_now_ns();

			assert_true(now >= prev);
			prev = now;
		}
		tvn_clock__tick(); /* re-steering never steps the clock back */
		assert_true(tvn_now_ns() >= prev);
		/* within 200 us of CLOCK_MONOTONIC */
		assert_true(diff_to_mono() < 200000 && diff_to_mono() > -200000);
	}
}

static void test_measures_a_sleep(void **state)
{
	struct timespec d = { .tv_nsec = 20 * 1000000 };
	uint64_t t0, t1;

	(void)state;
	tvn_clock__init();
	t0 = tvn_now_ns();
	nanosleep(&d, NULL);
	t1 = tvn_now_ns();
	assert_true(t1 - t0 >= 20000000ull);
	assert_true(t1 - t0 < 60000000ull);
}

/*
 * Over a second, as the host keeps it (re-steered once, at the end), ticks
 * read now and converted to ns stay within 1 us of CLOCK_MONOTONIC.
 */
static void test_ticks_to_ns_within_a_microsecond(void **state)
{
	struct timespec d = {.tv_nsec = 10 * 1000000};
	int64_t worst = 0;

	(void)state;
	tvn_clock__init();
	if (!tvn_clock.tsc)
		skip();
	for (int i = 0; i <= 100; i++) {
		int64_t off = ticks_off_mono();

		if (off < 0)
			off = -off;
		if (off > worst)
			worst = off;
		if (i == 50)
			tvn_clock__tick();
		nanosleep(&d, NULL);
	}
	if (worst > 1000)
		fail_msg("ticks off CLOCK_MONOTONIC by %lld ns over a second", (long long)worst);
}

/*
 * Converting never runs time backwards: ticks read in order, each converted
 * when read, give ns in order, whatever re-steering happens in between; and
 * instants converted together (a trace) keep the order of their ticks.
 */
static void test_ticks_to_ns_monotonic_across_steering(void **state)
{
	uint64_t prev = 0, t_prev = 0;

	(void)state;
	tvn_clock__init();
	if (!tvn_clock.tsc)
		skip();
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 2000; i++) {
			uint64_t t = tvn_ticks(), ns = tvn_ticks__to_ns(t);

			assert_true(t >= t_prev);
			assert_true(ns >= prev);
			prev = ns;
			t_prev = t;
		}
		/* steer hard both ways: the 0.1 % bound, not the measured drift */
		tvn_clock.ref_ns += round % 2 ? 3000000 : -3000000;
		tvn_clock__tick();
		assert_true(tvn_ticks__to_ns(tvn_ticks()) >= prev);
		assert_true(tvn_now_ns() >= prev);
	}
}

/* A duration in ticks converts at the current rate; without a TSC ticks are ns. */
static void test_dur_ns(void **state)
{
	struct timespec d = {.tv_nsec = 20 * 1000000};
	uint64_t t0, t1, n0, n1;

	(void)state;
	tvn_clock__init();
	n0 = tvn_mono_ns();
	t0 = tvn_ticks();
	nanosleep(&d, NULL);
	t1 = tvn_ticks();
	n1 = tvn_mono_ns();
	assert_true(tvn_ticks__dur_ns(t1 - t0) <= n1 - n0 + 1000);
	assert_true(tvn_ticks__dur_ns(t1 - t0) + 1000 >= 20000000ull);
	if (!tvn_clock.tsc)
		assert_int_equal(tvn_ticks__dur_ns(12345), 12345);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic_and_close),
		cmocka_unit_test(test_measures_a_sleep),
		cmocka_unit_test(test_ticks_to_ns_within_a_microsecond),
		cmocka_unit_test(test_ticks_to_ns_monotonic_across_steering),
		cmocka_unit_test(test_dur_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
