// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for the bench histograms (user/trace/bench/hist.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bench.h"

/* ------------------------------------------------------------ histogram */

static void check_bucket(uint64_t v)
{
	unsigned int b = tvn_bench_hist__bucket(v);

	if (!(tvn_bench_hist__lower(b) <= v && v < tvn_bench_hist__lower(b + 1)))
		fail_msg("v %llu in bucket %u [%llu, %llu)", (unsigned long long)v, b,
			 (unsigned long long)tvn_bench_hist__lower(b),
			 (unsigned long long)tvn_bench_hist__lower(b + 1));
}

static void test_hist_bucket_lower(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 100; v++)
		check_bucket(v);
	for (int k = 1; k < 43; k++) {
		check_bucket((1ULL << k) - 1);
		check_bucket(1ULL << k);
		check_bucket((1ULL << k) + 1);
	}
	check_bucket(1000);
	check_bucket(1000000);
	check_bucket(1000000000);
	check_bucket((1ULL << 43) - 1);
	for (uint64_t v = 1; v < (1ULL << 43); v = v * 3 + 1)
		check_bucket(v);

	/* every bucket: its lower bound falls in it, bounds grow, the width is 1/16 */
	for (unsigned int i = 0; i < TVN_BENCH_HIST_BUCKETS; i++) {
		uint64_t lo = tvn_bench_hist__lower(i), hi = tvn_bench_hist__lower(i + 1);

		assert_int_equal(tvn_bench_hist__bucket(lo), i);
		assert_int_equal(tvn_bench_hist__bucket(hi - 1), i);
		assert_true(hi > lo);
		if (i >= 2 * TVN_BENCH_HIST_SUB)
			assert_true((hi - lo) * 16 <= lo);
	}
	assert_int_equal(tvn_bench_hist__lower(16), 16);
	assert_int_equal(tvn_bench_hist__lower(32), 32);
	assert_int_equal(tvn_bench_hist__lower(33), 34);
	assert_int_equal(tvn_bench_hist__lower(TVN_BENCH_HIST_BUCKETS), 1ULL << 43);
	assert_int_equal(tvn_bench_hist__lower(TVN_BENCH_HIST_BUCKETS + 5), 1ULL << 43);
	/* beyond the range everything lands in the last bucket */
	assert_int_equal(tvn_bench_hist__bucket(1ULL << 43), TVN_BENCH_HIST_BUCKETS - 1);
	assert_int_equal(tvn_bench_hist__bucket(UINT64_MAX), TVN_BENCH_HIST_BUCKETS - 1);
}

static void test_hist_quantiles(void **state)
{
	uint64_t *counts = calloc(TVN_BENCH_HIST_BUCKETS, sizeof(*counts));
	unsigned int b = tvn_bench_hist__bucket(1000);
	double v;

	(void)state;
	assert_non_null(counts);
	assert_true(tvn_bench_hist__quantile(counts, 0.5) == 0);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 0);

	/* 1000 values of 1000 ns: bucket [992, 1024), p50 half way in */
	counts[b] = 1000;
	assert_int_equal(tvn_bench_hist__lower(b), 992);
	v = tvn_bench_hist__quantile(counts, 0.5);
	assert_true(v >= 992 && v < 1024);
	assert_true(v == 1008);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 1024);
	counts[b] = 0;

	/* 1..100 */
	for (uint64_t x = 1; x <= 100; x++)
		counts[tvn_bench_hist__bucket(x)]++;
	v = tvn_bench_hist__quantile(counts, 0.5);
	if (fabs(v - 50) > 50 * 0.0625)
		fail_msg("p50 %g", v);
	v = tvn_bench_hist__quantile(counts, 0.99);
	if (fabs(v - 99) > 99 * 0.0625)
		fail_msg("p99 %g", v);
	v = tvn_bench_hist__quantile(counts, 0.01);
	assert_true(v >= 1 && v <= 2);
	/* 100 is the only value of its bucket [100, 104): q = 1 is the bucket's top */
	assert_int_equal(tvn_bench_hist__lower(tvn_bench_hist__bucket(100)), 100);
	assert_true(tvn_bench_hist__quantile(counts, 1) == 104);
	assert_true(tvn_bench_hist__quantile(counts, 0) == tvn_bench_hist__quantile(counts, 0.01));
	free(counts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_bucket_lower),
	    cmocka_unit_test(test_hist_quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
