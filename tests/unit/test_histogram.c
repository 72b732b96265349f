// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for usdt/histogram.c and the bucket helpers of torvyn_rt.h. */
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torvyn_rt.h"

static const uint64_t want_lat[TORVYN_LAT_BOUNDS] = {
	100, 250, 500,
	1000, 2500, 5000,
	10000, 25000, 50000,
	100000, 250000, 500000,
	1000000, 2500000, 5000000,
	10000000, 25000000, 50000000,
	100000000, 250000000, 500000000,
	1000000000, 2500000000, 5000000000,
	10000000000,
};

static const uint64_t want_size[TORVYN_SIZE_BOUNDS] = {
	64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
};

static void test_lat_bounds_table(void **state)
{
	(void)state;
	assert_int_equal(TORVYN_LAT_BOUNDS, 25);
	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++)
		if (tvn_lat_bounds_ns[i] != want_lat[i])
			fail_msg("lat bound %d: %llu, want %llu", i,
				 (unsigned long long)tvn_lat_bounds_ns[i],
				 (unsigned long long)want_lat[i]);
}

static void test_size_bounds_table(void **state)
{
	(void)state;
	assert_int_equal(TORVYN_SIZE_BOUNDS, 10);
	for (int i = 0; i < TORVYN_SIZE_BOUNDS; i++)
		if (tvn_size_bounds[i] != want_size[i])
			fail_msg("size bound %d: %llu, want %llu", i,
				 (unsigned long long)tvn_size_bounds[i],
				 (unsigned long long)want_size[i]);
}

/* A value equal to a bound falls in that bound's bucket; one more, the next. */
static void test_lat_bucket_at_bounds(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		uint64_t b = want_lat[i];

		assert_int_equal(tvn_lat_bucket(b), i);
		assert_int_equal(tvn_lat_bucket(b + 1), i + 1);
		/* No two bounds are adjacent integers, so b - 1 stays in bucket i. */
		assert_int_equal(tvn_lat_bucket(b - 1), i);
	}
	assert_int_equal(tvn_lat_bucket(0), 0);
	assert_int_equal(tvn_lat_bucket(1), 0);
	assert_int_equal(tvn_lat_bucket(UINT64_MAX), TORVYN_LAT_BOUNDS);
	assert_int_equal(tvn_lat_bucket(UINT64_MAX), 25);
}

static unsigned int lat_bucket_linear(uint64_t v)
{
	unsigned int i = 0;

	while (i < TORVYN_LAT_BOUNDS && v > want_lat[i])
		i++;
	return i;
}

/*
 * The branchless lookup (a table by power of two, then fixed steps stopped by
 * sentinels) agrees with a linear scan everywhere: at every power of two and
 * its neighbours, and at a million values spread over every magnitude.
 */
static void test_lat_bucket_matches_scan(void **state)
{
	uint64_t z = 0;

	(void)state;
	for (unsigned int k = 0; k < 64; k++) {
		uint64_t p = 1ull << k;

		assert_int_equal(tvn_lat_bucket(p), lat_bucket_linear(p));
		assert_int_equal(tvn_lat_bucket(p - 1), lat_bucket_linear(p - 1));
		assert_int_equal(tvn_lat_bucket(p + 1), lat_bucket_linear(p + 1));
	}
	for (int i = 0; i < 1000000; i++) {
		uint64_t v;

		z += 0x9e3779b97f4a7c15ull;
		v = z ^ (z >> 29);
		v >>= (v & 63); /* every magnitude, not only the top ones */
		if (tvn_lat_bucket(v) != lat_bucket_linear(v))
			fail_msg("bucket of %llu: %u, want %u", (unsigned long long)v,
				 tvn_lat_bucket(v), lat_bucket_linear(v));
	}
}

static void test_size_bucket_at_bounds(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < TORVYN_SIZE_BOUNDS; i++) {
		uint64_t b = want_size[i];

		assert_int_equal(tvn_size_bucket(b), i);
		assert_int_equal(tvn_size_bucket(b + 1), i + 1);
		assert_int_equal(tvn_size_bucket(b - 1), i);
	}
	assert_int_equal(tvn_size_bucket(0), 0);
	assert_int_equal(tvn_size_bucket(UINT64_MAX), TORVYN_SIZE_BOUNDS);
	assert_int_equal(tvn_size_bucket(UINT64_MAX), 10);
}

static void test_hist_lat_add(void **state)
{
	struct torvyn_hist_lat h;

	(void)state;
	memset(&h, 0, sizeof(h));
	tvn_hist_lat_add(&h, 0);		/* bucket 0 */
	tvn_hist_lat_add(&h, 100);		/* bucket 0: equal to the bound */
	tvn_hist_lat_add(&h, 101);		/* bucket 1 */
	tvn_hist_lat_add(&h, 2500000);		/* bucket 13 (2.5 ms) */
	tvn_hist_lat_add(&h, 10000000001ull);	/* +Inf */

	for (int i = 0; i < TORVYN_LAT_BUCKETS; i++) {
		uint64_t want = i == 0 ? 2 : (i == 1 || i == 13 || i == 25) ? 1 : 0;

		if (h.bucket[i] != want)
			fail_msg("bucket %d: %llu, want %llu", i,
				 (unsigned long long)h.bucket[i], (unsigned long long)want);
	}
	assert_true(h.sum_ns == 0 + 100 + 101 + 2500000 + 10000000001ull);
	assert_true(h.count == 5);
}

static void test_hist_size_add(void **state)
{
	struct torvyn_hist_size h;

	(void)state;
	memset(&h, 0, sizeof(h));
	tvn_hist_size_add(&h, 64);		/* bucket 0 */
	tvn_hist_size_add(&h, 65);		/* bucket 1 */
	tvn_hist_size_add(&h, 16ull << 20);	/* bucket 9 */
	tvn_hist_size_add(&h, (16ull << 20) + 1);	/* +Inf */

	for (int i = 0; i < TORVYN_SIZE_BUCKETS; i++) {
		uint64_t want = (i == 0 || i == 1 || i == 9 || i == 10) ? 1 : 0;

		if (h.bucket[i] != want)
			fail_msg("bucket %d: %llu, want %llu", i,
				 (unsigned long long)h.bucket[i], (unsigned long long)want);
	}
	assert_true(h.sum_bytes == 64 + 65 + (16ull << 20) + (16ull << 20) + 1);
	assert_true(h.count == 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lat_bounds_table),
		cmocka_unit_test(test_size_bounds_table),
		cmocka_unit_test(test_lat_bucket_at_bounds),
		cmocka_unit_test(test_lat_bucket_matches_scan),
		cmocka_unit_test(test_size_bucket_at_bounds),
		cmocka_unit_test(test_hist_lat_add),
		cmocka_unit_test(test_hist_size_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
