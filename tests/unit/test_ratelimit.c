// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One line per cause per interval, with the count of those held back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "ratelimit.h"

#define S 1000000000ull

static void test_one_line_per_cause_per_interval(void **state)
{
	struct tvn_ratelimit r = {.interval_ns = 60 * S};
	uint64_t held = 99;
	int allowed = 0;

	(void)state;
	/* a collector refusing every request for a minute: one line */
	for (int i = 0; i < 600; i++)
		allowed += tvn_ratelimit__allow(&r, "spans connection refused", 1 + i * (S / 10), &held);
	assert_int_equal(allowed, 1);
	assert_int_equal(held, 0);
	/* the next minute's line says how many were held back */
	assert_true(tvn_ratelimit__allow(&r, "spans connection refused", 61 * S, &held));
	assert_int_equal(held, 599);
	/* another cause is its own */
	assert_true(tvn_ratelimit__allow(&r, "spans HTTP 400", 61 * S + 1, &held));
	assert_int_equal(held, 0);
	assert_false(tvn_ratelimit__allow(&r, "spans HTTP 400", 62 * S, &held));
}

static void test_more_causes_than_slots(void **state)
{
	struct tvn_ratelimit r = {.interval_ns = 60 * S};
	char key[32];

	(void)state;
	/* 20 distinct causes: each logs its first time, none is lost for good */
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "cause %d", i);
		assert_true(tvn_ratelimit__allow(&r, key, S + i, NULL));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_cause_per_interval),
		cmocka_unit_test(test_more_causes_than_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
