// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for usdt/sampling.c and tvn_sample_decide(). */
#include <math.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torvyn_rt.h"

#define SEED 0x746f7276796eull /* "torvyn" */
#define N_IDS 100000

static void test_threshold_edges(void **state)
{
	(void)state;
	assert_true(tvn_sample_threshold(0.0) == 0);
	assert_true(tvn_sample_threshold(-0.0) == 0);
	assert_true(tvn_sample_threshold(-1.0) == 0);
	assert_true(tvn_sample_threshold(-INFINITY) == 0);
	assert_true(tvn_sample_threshold(NAN) == 0);
	assert_true(tvn_sample_threshold(1.0) == UINT64_MAX);
	assert_true(tvn_sample_threshold(2.0) == UINT64_MAX);
	assert_true(tvn_sample_threshold(INFINITY) == UINT64_MAX);
}

static void test_threshold_exact(void **state)
{
	(void)state;
	assert_true(tvn_sample_threshold(0.5) == 1ull << 63);
	assert_true(tvn_sample_threshold(0.25) == 1ull << 62);
	assert_true(tvn_sample_threshold(0.75) == 3ull << 62);
	/* The doubles nearest 0.1 and 0.01, times 2^64, truncated. */
	assert_true(tvn_sample_threshold(0.1) == 0x1999999999999a00ull);
	assert_true(tvn_sample_threshold(0.01) == 0x028f5c28f5c28f60ull);
	/* The largest double below 1 stays below UINT64_MAX, without overflow. */
	assert_true(tvn_sample_threshold(nextafter(1.0, 0.0)) == 0xfffffffffffff800ull);
	/* The smallest rates: 2^-64 is one id in 2^64, anything below is none. */
	assert_true(tvn_sample_threshold(0x1p-64) == 1);
	assert_true(tvn_sample_threshold(0x1p-63) == 2);
	assert_true(tvn_sample_threshold(0x1p-65) == 0);
	assert_true(tvn_sample_threshold(1e-300) == 0);
}

static void set_low64(uint8_t tid[16], uint64_t v)
{
	for (int i = 15; i >= 8; i--, v >>= 8)
		tid[i] = (uint8_t)v;
}

static void test_decide_uses_last_8_bytes_big_endian(void **state)
{
	uint64_t half = tvn_sample_threshold(0.5);
	uint8_t tid[16];

	(void)state;
	/* Just below and at the threshold. */
	memset(tid, 0, sizeof(tid));
	set_low64(tid, (1ull << 63) - 1);
	assert_true(tvn_sample_decide(tid, half));
	set_low64(tid, 1ull << 63);
	assert_false(tvn_sample_decide(tid, half));

	/* Big endian: byte 8 is the most significant, byte 15 the least. */
	memset(tid, 0, sizeof(tid));
	tid[8] = 0x80;
	assert_false(tvn_sample_decide(tid, half));
	memset(tid, 0, sizeof(tid));
	tid[15] = 0x80;
	assert_true(tvn_sample_decide(tid, half));

	/* The first 8 bytes do not matter. */
	memset(tid, 0xff, 8);
	assert_true(tvn_sample_decide(tid, half));
	memset(tid, 0, sizeof(tid));
	tid[0] = 0x01;
	tid[8] = 0x80;
	assert_false(tvn_sample_decide(tid, half));
}

static void test_decide_deterministic(void **state)
{
	uint64_t thr = tvn_sample_threshold(0.3);
	struct tvn_rng rng;
	uint8_t tid[16], copy[16];

	(void)state;
	tvn_rng_seed(&rng, SEED);
	for (int i = 0; i < 1000; i++) {
		bool first;

		tvn_trace_id_new(&rng, tid);
		first = tvn_sample_decide(tid, thr);
		assert_int_equal(tvn_sample_decide(tid, thr), first);
		/* Another id with the same last 8 bytes: the same answer. */
		memcpy(copy, tid, sizeof(copy));
		for (int j = 0; j < 8; j++)
			copy[j] = (uint8_t)~copy[j];
		assert_int_equal(tvn_sample_decide(copy, thr), first);
	}
}

/* The host decides on the low word before it writes the id: the same answer. */
static void test_decide_lo_matches_bytes(void **state)
{
	static const double rates[] = { 0.0, 0.01, 0.3, 0.5, 0.999, 1.0 };
	struct tvn_rng rng;
	uint8_t tid[16];

	(void)state;
	tvn_rng_seed(&rng, SEED);
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		uint64_t thr = tvn_sample_threshold(rates[r]);

		for (int i = 0; i < 10000; i++) {
			uint64_t lo;

			tvn_trace_id_new(&rng, tid);
			lo = ((uint64_t)tid[8] << 56) | ((uint64_t)tid[9] << 48) |
			     ((uint64_t)tid[10] << 40) | ((uint64_t)tid[11] << 32) |
			     ((uint64_t)tid[12] << 24) | ((uint64_t)tid[13] << 16) |
			     ((uint64_t)tid[14] << 8) | tid[15];
			assert_int_equal(tvn_sample_decide_lo(lo, thr), tvn_sample_decide(tid, thr));
		}
	}
}

static unsigned int count_sampled(double rate)
{
	uint64_t thr = tvn_sample_threshold(rate);
	unsigned int n = 0;
	struct tvn_rng rng;
	uint8_t tid[16];

	tvn_rng_seed(&rng, SEED);
	for (int i = 0; i < N_IDS; i++) {
		tvn_trace_id_new(&rng, tid);
		n += tvn_sample_decide(tid, thr);
	}
	return n;
}

static void test_decide_rate(void **state)
{
	unsigned int n = count_sampled(0.01);

	(void)state;
	assert_in_range(n, 1000 - 150, 1000 + 150);
	/* Fixed seed: the exact count is reproducible. */
	assert_int_equal(n, 1001);

	assert_int_equal(count_sampled(0.0), 0);
	assert_int_equal(count_sampled(1.0), N_IDS);
	assert_int_equal(count_sampled(NAN), 0);
}

/* Rate 1 samples even the id whose last 8 bytes are all ones. */
static void test_decide_all_ones(void **state)
{
	uint8_t tid[16];

	(void)state;
	memset(tid, 0xff, sizeof(tid));
	assert_true(tvn_sample_decide(tid, tvn_sample_threshold(1.0)));
	assert_false(tvn_sample_decide(tid, tvn_sample_threshold(nextafter(1.0, 0.0))));
	memset(tid, 0, sizeof(tid));
	tid[0] = 1;
	assert_false(tvn_sample_decide(tid, tvn_sample_threshold(0.0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_edges),
		cmocka_unit_test(test_threshold_exact),
		cmocka_unit_test(test_decide_uses_last_8_bytes_big_endian),
		cmocka_unit_test(test_decide_deterministic),
		cmocka_unit_test(test_decide_lo_matches_bytes),
		cmocka_unit_test(test_decide_rate),
		cmocka_unit_test(test_decide_all_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
