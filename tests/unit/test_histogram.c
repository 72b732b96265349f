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

/* ns per tick in 32.32 fixed point, for a TSC of hz ticks a second */
static uint64_t mult_of(double hz)
{
	return (uint64_t)(4294967296.0 * 1e9 / hz);
}

static uint64_t dur_at(uint64_t ticks, uint64_t mult)
{
	return (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
}

/* The tick bucket of t equals the ns bucket of t's duration, checked at t and around it. */
static void check_ticks_near(const struct tvn_lat_ticks *tt, uint64_t mult, uint64_t t)
{
	for (int d = -3; d <= 3; d++) {
		uint64_t v = t + (uint64_t)(int64_t)d;
		unsigned int got, want;

		if ((d < 0 && v > t) || (d > 0 && v < t))
			continue; /* wrapped around */
		got = tvn_lat_bucket_in(tt->bound, tt->first, v);
		want = lat_bucket_linear(dur_at(v, mult));
		if (got != want)
			fail_msg("mult %llu: %llu ticks (%llu ns) in bucket %u, want %u",
				 (unsigned long long)mult, (unsigned long long)v,
				 (unsigned long long)dur_at(v, mult), got, want);
	}
}

/*
 * Bucketing in ticks gives the bucket the duration in ns would: at every
 * bound's edge (in ticks and in ns), at every power of two, and at random
 * values, for TSCs from 1 to 5 GHz, an odd rate and ticks that are ns.
 */
static void test_lat_ticks_same_buckets(void **state)
{
	const uint64_t mults[] = {mult_of(1e9),	     mult_of(2.1e9),	mult_of(2.4e9),
				  mult_of(2999.999e6), mult_of(3.3e9),	mult_of(4.7e9),
				  mult_of(5e9),	     mult_of(1.234567e9), 1ull << 32};
	struct tvn_lat_ticks tt;
	uint64_t z = 0;

	(void)state;
	for (size_t m = 0; m < sizeof(mults) / sizeof(mults[0]); m++) {
		uint64_t mult = mults[m];

		memset(&tt, 0, sizeof(tt));
		tvn_lat_ticks__fill(&tt, mult);
		assert_int_equal(tt.bound[TORVYN_LAT_BOUNDS], UINT64_MAX);
		assert_int_equal(tt.bound[TORVYN_LAT_BOUNDS + 1], UINT64_MAX);
		for (unsigned int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
			/* the bound is the last tick count inside the bucket */
			assert_true(dur_at(tt.bound[i], mult) <= want_lat[i]);
			assert_true(dur_at(tt.bound[i] + 1, mult) > want_lat[i]);
			check_ticks_near(&tt, mult, tt.bound[i]);
			/* and the ticks around the ns bound itself, read at this rate */
			check_ticks_near(&tt, mult, (uint64_t)((((unsigned __int128)want_lat[i]) << 32) / mult));
		}
		for (unsigned int k = 0; k < 64; k++)
			check_ticks_near(&tt, mult, 1ull << k);
		for (int i = 0; i < 200000; i++) {
			uint64_t v;

			z += 0x9e3779b97f4a7c15ull;
			v = z ^ (z >> 29);
			v >>= (v & 63);
			check_ticks_near(&tt, mult, v);
		}
	}
}

/* Ticks are ns until the clock is calibrated: the tick table is the ns table. */
static void test_lat_ticks_default(void **state)
{
	(void)state;
	if (tvn_clock.tsc)
		skip();
	for (unsigned int i = 0; i < TORVYN_LAT_BOUNDS; i++)
		assert_int_equal(tvn_lat_ticks.bound[i], want_lat[i]);
	assert_memory_equal(tvn_lat_ticks.first, tvn_lat_first_bound_tbl, 64);
}

/*
 * A histogram timed in ticks: the block gets ns sums and counts when
 * settled, never a sum that goes back when the rate changes, and no ns lost
 * to rounding across settles.
 */
static void test_hist_ticks_settle(void **state)
{
	struct torvyn_hist_lat h;
	struct tvn_hist_ticks t = {0};
	uint64_t saved = tvn_clock.mult, before;

	(void)state;
	memset(&h, 0, sizeof(h));
	tvn_clock.mult = 1ull << 31; /* 0.5 ns a tick */
	tvn_lat_ticks__fill(&tvn_lat_ticks, tvn_clock.mult);
	tvn_hist_lat_add_ticks(&h, &t, 200);  /* 100 ns: bucket 0 */
	tvn_hist_lat_add_ticks(&h, &t, 201);  /* 100.5 ns: still 100 in whole ns */
	tvn_hist_lat_add_ticks(&h, &t, 203);  /* 101.5 ns: bucket 1 */
	tvn_hist_lat_add_ticks(&h, &t, 5000001); /* 2.5 ms: bucket 13 */
	assert_int_equal(h.bucket[0], 2);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[13], 1);
	assert_int_equal(h.count, 0); /* settled later, off the hot path */
	tvn_hist_lat__settle(&h, &t);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.sum_ns, (200 + 201 + 203 + 5000001) / 2);
	/* the half ns left over is carried to the next settle */
	tvn_hist_lat_add_ticks(&h, &t, 1);
	tvn_hist_lat__settle(&h, &t);
	assert_int_equal(h.sum_ns, (200 + 201 + 203 + 5000001 + 1) / 2);
	assert_int_equal(h.count, 5);
	/* a slower rate applies to what was summed since: the sum never goes back */
	before = h.sum_ns;
	tvn_clock.mult = 1ull << 30;
	tvn_hist_lat__settle(&h, &t);
	assert_int_equal(h.sum_ns, before);
	tvn_hist_lat_add_ticks(&h, &t, 400);
	tvn_hist_lat__settle(&h, &t);
	assert_int_equal(h.sum_ns, before + 100);
	tvn_clock.mult = saved;
	tvn_lat_ticks__fill(&tvn_lat_ticks, saved);
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
		cmocka_unit_test(test_lat_ticks_same_buckets),
		cmocka_unit_test(test_lat_ticks_default),
		cmocka_unit_test(test_hist_ticks_settle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
