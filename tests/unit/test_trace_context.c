// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for usdt/trace_context.c: traceparent parse/format and the ids. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "torvyn_rt.h"

/* The traceparent example of W3C Trace Context level 1. */
#define EXAMPLE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static const uint8_t example_trace_id[16] = {
	0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
	0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
};
#define EXAMPLE_PARENT_ID 0x00f067aa0ba902b7ull

/* A string literal with its exact length, embedded NULs included. */
#define TP(s) { s, sizeof(s) - 1 }

struct tp_case {
	const char *s;
	size_t len;
};

static void fill_sentinel(struct tvn_trace_ctx *ctx)
{
	memset(ctx, 0xa5, sizeof(*ctx));
}

static bool is_sentinel(const struct tvn_trace_ctx *ctx)
{
	struct tvn_trace_ctx s;

	fill_sentinel(&s);
	return memcmp(ctx, &s, sizeof(s)) == 0;
}

static void test_parse_spec_example(void **state)
{
	struct tvn_trace_ctx ctx;

	(void)state;
	fill_sentinel(&ctx);
	assert_int_equal(tvn_traceparent_parse(EXAMPLE, strlen(EXAMPLE), &ctx), 0);
	assert_memory_equal(ctx.trace_id, example_trace_id, 16);
	assert_true(ctx.parent_span_id == EXAMPLE_PARENT_ID);
	assert_true(ctx.span_id == 0);
	assert_int_equal(ctx.flags, TORVYN_TRACE_FLAG_SAMPLED);
}

static void test_parse_flags_any_value(void **state)
{
	static const struct {
		const char *s;
		uint8_t flags;
	} cases[] = {
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 0x00 },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", 0x03 },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0a", 0x0a },
		{ "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", 0xff },
	};
	struct tvn_trace_ctx ctx;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fill_sentinel(&ctx);
		assert_int_equal(tvn_traceparent_parse(cases[i].s, strlen(cases[i].s), &ctx), 0);
		assert_int_equal(ctx.flags, cases[i].flags);
		assert_memory_equal(ctx.trace_id, example_trace_id, 16);
		assert_true(ctx.parent_span_id == EXAMPLE_PARENT_ID);
	}
}

static void test_parse_future_versions(void **state)
{
	static const struct tp_case ok[] = {
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-suffix"),
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"),
		TP("0a-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future-will-be-like"),
		TP("fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"),
	};
	struct tvn_trace_ctx ctx;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fill_sentinel(&ctx);
		assert_int_equal(tvn_traceparent_parse(ok[i].s, ok[i].len, &ctx), 0);
		assert_memory_equal(ctx.trace_id, example_trace_id, 16);
		assert_true(ctx.parent_span_id == EXAMPLE_PARENT_ID);
		assert_true(ctx.span_id == 0);
		assert_int_equal(ctx.flags, 0x01);
	}
}

static void test_parse_malformed(void **state)
{
	static const struct tp_case bad[] = {
		/* length for version 00: 54, 56, and a future-style suffix */
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-suffix"),
		/* uppercase hex in each field */
		TP("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("00-4Bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e473A-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902B7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-A1"),
		/* non-hex char in each field */
		TP("0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("g0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce9z9d0e0e4736-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b.-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736- 0f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7--1"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\0"),
		TP("00-4bf92f3577b34da6a3ce929d\0e0e4736-00f067aa0ba902b7-01"),
		/* version ff, also with a suffix */
		TP("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"),
		/* all-zero ids */
		TP("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
		TP("01-00000000000000000000000000000000-00f067aa0ba902b7-01-x"),
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01-x"),
		/* each separator */
		TP("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"),
		TP("00-4bf92f3577b34da6a3ce929d0e0e4736000f067aa0ba902b7-01"),
		/* fields shifted by one char, total length still 55 */
		TP("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"),
		TP("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
		/* empty */
		TP(""),
		/* future version: what follows the flags must start with '-' */
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"),
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010"),
		TP("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.future-will-not-be"),
		/* future version shorter than 55 */
		TP("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
	};
	struct tvn_trace_ctx ctx;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill_sentinel(&ctx);
		if (tvn_traceparent_parse(bad[i].s, bad[i].len, &ctx) != -EINVAL)
			fail_msg("accepted malformed case %zu: \"%.*s\"", i, (int)bad[i].len,
				 bad[i].s);
		/* A rejected header leaves the context alone. */
		assert_true(is_sentinel(&ctx));
	}
}

static void test_parse_null_args(void **state)
{
	struct tvn_trace_ctx ctx;

	(void)state;
	assert_int_equal(tvn_traceparent_parse(NULL, 55, &ctx), -EINVAL);
	assert_int_equal(tvn_traceparent_parse(EXAMPLE, strlen(EXAMPLE), NULL), -EINVAL);
}

/*
 * Places s[0..len) at the very end of a readable page followed by a
 * PROT_NONE page, so reading s[len] faults. Returns the copy's address.
 */
static char *guard_page_copy(void **map, size_t *map_len, const char *s, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p;

	*map_len = 2 * (size_t)pg;
	p = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + pg, pg, PROT_NONE), 0);
	*map = p;
	memcpy(p + pg - len, s, len);
	return p + pg - len;
}

static void test_parse_truncated(void **state)
{
	struct tvn_trace_ctx ctx;
	size_t map_len;
	void *map;
	char *s;

	(void)state;
	/* Every proper prefix of a valid header, with nothing readable after it. */
	for (size_t len = 0; len < TVN_TRACEPARENT_LEN; len++) {
		s = guard_page_copy(&map, &map_len, EXAMPLE, len);
		fill_sentinel(&ctx);
		assert_int_equal(tvn_traceparent_parse(s, len, &ctx), -EINVAL);
		assert_true(is_sentinel(&ctx));
		munmap(map, map_len);
	}

	/* len shorter than the NUL-terminated string: only len counts. */
	assert_int_equal(tvn_traceparent_parse(EXAMPLE, 54, &ctx), -EINVAL);
	assert_int_equal(tvn_traceparent_parse(EXAMPLE, 0, &ctx), -EINVAL);

	/* Exactly 55 bytes, v00 and a future version: s[55] is never read. */
	s = guard_page_copy(&map, &map_len, EXAMPLE, TVN_TRACEPARENT_LEN);
	assert_int_equal(tvn_traceparent_parse(s, TVN_TRACEPARENT_LEN, &ctx), 0);
	s[1] = '1';
	assert_int_equal(tvn_traceparent_parse(s, TVN_TRACEPARENT_LEN, &ctx), 0);
	munmap(map, map_len);
}

static void test_format_example(void **state)
{
	char buf[TVN_TRACEPARENT_LEN + 8];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(tvn_traceparent_format(example_trace_id, EXAMPLE_PARENT_ID, 0x01, buf),
			 TVN_TRACEPARENT_LEN);
	assert_string_equal(buf, EXAMPLE);
	/* Nothing written past the NUL. */
	assert_int_equal(buf[TVN_TRACEPARENT_LEN + 1], 'X');
}

static void test_format_lowercase_and_flags(void **state)
{
	static const uint8_t tid[16] = {
		0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	};
	char buf[TVN_TRACEPARENT_LEN + 1];

	(void)state;
	assert_int_equal(tvn_traceparent_format(tid, 0xfedcba9876543210ull, 0xaf, buf), 55);
	assert_string_equal(buf, "00-abcdef0123456789fedcba9876543210-fedcba9876543210-af");
	assert_int_equal(tvn_traceparent_format(tid, 1, 0x00, buf), 55);
	assert_string_equal(buf, "00-abcdef0123456789fedcba9876543210-0000000000000001-00");
}

static void test_format_parse_round_trip(void **state)
{
	char buf[TVN_TRACEPARENT_LEN + 1];
	struct tvn_trace_ctx ctx;
	struct tvn_rng rng;
	uint8_t tid[16];

	(void)state;
	/* The spec example goes back out unchanged. */
	assert_int_equal(tvn_traceparent_parse(EXAMPLE, strlen(EXAMPLE), &ctx), 0);
	tvn_traceparent_format(ctx.trace_id, ctx.parent_span_id, ctx.flags, buf);
	assert_string_equal(buf, EXAMPLE);

	tvn_rng_seed(&rng, 7);
	for (int i = 0; i < 1000; i++) {
		uint64_t sid = tvn_span_id_new(&rng);
		uint8_t flags = (uint8_t)tvn_rng_next(&rng);

		tvn_trace_id_new(&rng, tid);
		tvn_traceparent_format(tid, sid, flags, buf);
		assert_int_equal(strlen(buf), TVN_TRACEPARENT_LEN);
		assert_int_equal(tvn_traceparent_parse(buf, strlen(buf), &ctx), 0);
		assert_memory_equal(ctx.trace_id, tid, 16);
		assert_true(ctx.parent_span_id == sid);
		assert_int_equal(ctx.flags, flags);
	}
}

/* Reference values of splitmix64 (Vigna's splitmix64.c) from seed 0 and 1234567. */
static void test_rng_splitmix64(void **state)
{
	struct tvn_rng rng;

	(void)state;
	tvn_rng_seed(&rng, 0);
	assert_true(tvn_rng_next(&rng) == 0xe220a8397b1dcdafull);
	assert_true(tvn_rng_next(&rng) == 0x6e789e6aa1b965f4ull);
	assert_true(tvn_rng_next(&rng) == 0x06c45d188009454full);

	tvn_rng_seed(&rng, 1234567);
	assert_true(tvn_rng_next(&rng) == 6457827717110365317ull);
	assert_true(tvn_rng_next(&rng) == 3203168211198807973ull);
	assert_true(tvn_rng_next(&rng) == 9817491932198370423ull);
}

static void test_trace_id_new(void **state)
{
	static const uint8_t want[16] = {
		0xbd, 0xd7, 0x32, 0x26, 0x2f, 0xeb, 0x6e, 0x95,
		0x28, 0xef, 0xe3, 0x33, 0xb2, 0x66, 0xf1, 0x03,
	};
	struct tvn_rng rng;
	uint8_t tid[16];

	(void)state;
	/* Two outputs, big endian, in order. */
	tvn_rng_seed(&rng, 42);
	tvn_trace_id_new(&rng, tid);
	assert_memory_equal(tid, want, 16);
	assert_true(rng.state == 42 + 2 * 0x9e3779b97f4a7c15ull);
}

/* The seed that makes splitmix64's first output 0 (mix(0) == 0). */
#define ZERO_SEED (0ull - 0x9e3779b97f4a7c15ull)

static void test_span_id_never_zero(void **state)
{
	static const uint8_t zero[8];
	struct tvn_rng rng;
	uint8_t tid[16];

	(void)state;
	tvn_rng_seed(&rng, ZERO_SEED);
	assert_true(tvn_rng_next(&rng) == 0);

	tvn_rng_seed(&rng, ZERO_SEED);
	assert_true(tvn_span_id_new(&rng) == 0xe220a8397b1dcdafull);

	/* Half zero is still a valid trace id, and is kept as drawn. */
	tvn_rng_seed(&rng, ZERO_SEED);
	tvn_trace_id_new(&rng, tid);
	assert_memory_equal(tid, zero, 8);
	assert_true(tid[8] == 0xe2 && tid[15] == 0xaf);
}

/*
 * tvn_rng_at(seed, n) is the n-th draw without the ones before: the host
 * derives an element's ids from (flow key, seq) only when they are read.
 */
static void test_rng_at_matches_draws(void **state)
{
	static const uint64_t seeds[] = { 42, ZERO_SEED, UINT64_MAX, 0x0123456789abcdefull };
	static const uint8_t want[16] = {
		0xbd, 0xd7, 0x32, 0x26, 0x2f, 0xeb, 0x6e, 0x95,
		0x28, 0xef, 0xe3, 0x33, 0xb2, 0x66, 0xf1, 0x03,
	};
	struct tvn_rng rng;
	uint64_t hi, lo;

	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		tvn_rng_seed(&rng, seeds[i]);
		for (uint64_t n = 1; n <= 10000; n++)
			assert_true(tvn_rng_at(seeds[i], n) == tvn_rng_next(&rng));
	}
	/* draws 1 and 2, big endian: the trace id tvn_trace_id_new draws first */
	hi = __builtin_bswap64(tvn_rng_at(42, 1));
	lo = __builtin_bswap64(tvn_rng_at(42, 2));
	assert_memory_equal(&hi, want, 8);
	assert_memory_equal(&lo, want + 8, 8);
	assert_true(tvn_rng_at(ZERO_SEED, 1) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_parse_flags_any_value),
		cmocka_unit_test(test_parse_future_versions),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_null_args),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_format_example),
		cmocka_unit_test(test_format_lowercase_and_flags),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_rng_splitmix64),
		cmocka_unit_test(test_trace_id_new),
		cmocka_unit_test(test_span_id_never_zero),
		cmocka_unit_test(test_rng_at_matches_draws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
