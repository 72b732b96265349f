// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The TSC clock: never goes backwards, stays with CLOCK_MONOTONIC. */
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

static void test_monotonic_and_close(void **state)
{
	uint64_t prev = 0;

	(void)state;
	tvn_clock__init();
	if (!tvn_clock.mult)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic_and_close),
		cmocka_unit_test(test_measures_a_sleep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
