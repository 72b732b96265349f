// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the statistics of --compare (user/trace/bench/stats.c) and
 * the comparison through windows (compare.c, json.c): fixed inputs, exact
 * figures.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "bench_fixture.h"

#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		if (!(fabs((a) - (b)) <= (eps)))                                                   \
			fail_msg("%s = %.6f, want %.6f", #a, (double)(a), (double)(b));            \
	} while (0)

static void test_mean_se(void **state)
{
	const double x[] = {1, 2, NAN, 3, 4, 5};
	double mean, se;
	int n;

	(void)state;
	assert_int_equal(tvn_bench_stats__mean_se(x, 6, &mean, &se, &n), 0);
	assert_int_equal(n, 5); /* the NaN is left out */
	assert_near(mean, 3, 1e-12);
	assert_near(se, sqrt(2.5 / 5), 1e-12);
	assert_int_equal(tvn_bench_stats__mean_se(x, 1, &mean, &se, &n), -EINVAL);
	assert_int_equal(n, 1);
}

static void test_t975(void **state)
{
	(void)state;
	assert_near(tvn_bench_stats__t975(1), 12.706, 1e-9);
	assert_near(tvn_bench_stats__t975(8), 2.306, 1e-9);
	assert_near(tvn_bench_stats__t975(10.7), 2.228, 1e-9); /* rounded down: wider */
	assert_near(tvn_bench_stats__t975(30), 2.042, 1e-9);
	/* beyond the table: within 0.001 of the true quantiles */
	assert_near(tvn_bench_stats__t975(40), 2.021, 0.001);
	assert_near(tvn_bench_stats__t975(60), 2.000, 0.001);
	assert_near(tvn_bench_stats__t975(120), 1.980, 0.001);
	assert_near(tvn_bench_stats__t975(1e9), 1.960, 0.001);
	assert_true(isinf(tvn_bench_stats__t975(0.5)));
}

static void test_diff_ci(void **state)
{
	const double base[] = {100, 102, 98, 100, 100}, cur[] = {80, 82, 78, 80, 80};
	const double flat[] = {5, 5, 5}, zero[] = {0, 0, 0};
	struct tvn_bench_ci ci;

	(void)state;
	/* se^2 0.4 each, Welch df (0.8^2) / (0.16/4 + 0.16/4) = 8, t 2.306 */
	assert_int_equal(tvn_bench_stats__diff_ci(base, 5, cur, 5, &ci), 0);
	assert_near(ci.change_pct, -20, 1e-9);
	assert_near(ci.base_mean, 100, 1e-9);
	assert_near(ci.cur_mean, 80, 1e-9);
	assert_near(ci.lo_pct, -20 - 2.306 * sqrt(0.8), 1e-9);
	assert_near(ci.hi_pct, -20 + 2.306 * sqrt(0.8), 1e-9);
	/* no spread at all: the interval is the point */
	assert_int_equal(tvn_bench_stats__diff_ci(flat, 3, flat, 3, &ci), 0);
	assert_near(ci.lo_pct, 0, 1e-12);
	assert_near(ci.hi_pct, 0, 1e-12);
	assert_int_equal(tvn_bench_stats__diff_ci(zero, 3, flat, 3, &ci), -EINVAL);
	assert_int_equal(tvn_bench_stats__diff_ci(flat, 1, flat, 3, &ci), -EINVAL);
}

/* n windows around eps and p99, spread by +-amp % in a repeating pattern. */
static void set_windows(struct tvn_bench_report *r, int n, double eps, double p99, double amp)
{
	free(r->windows);
	r->windows = calloc((size_t)n, sizeof(*r->windows));
	assert_non_null(r->windows);
	r->n_windows = n;
	r->window_s = 0.1;
	for (int i = 0; i < n; i++) {
		double k = ((i % 5) - 2) / 2.0 * amp / 100; /* -amp .. +amp */

		r->windows[i].elements_per_sec = eps * (1 + k);
		r->windows[i].p99_us = p99 * (1 - k);
	}
	r->elements_per_sec = eps;
	r->p99_us = p99;
}

static void test_compare_windows(void **state)
{
	struct tvn_bench_report base, cur;
	json_error_t jerr;
	json_t *root, *ci;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	set_windows(&base, 20, 10000, 100, 2);
	/* the same run again: no regression, and the interval is shown */
	set_windows(&cur, 20, 10000, 100, 2);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text, "+0.0% [-");
	assert_contains(text, "mean over 20 windows of 0.1 s (baseline) and 20 of 0.1 s");
	assert_contains(text, "no regression (threshold 10%)\n");
	free(text);

	/* 20 % slower, steady: the whole interval is below -10 % */
	set_windows(&cur, 20, 8000, 100, 2);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(text, "REGRESSION: throughput (elements/s) -20.0%, 95% interval [-");
	free(text);

	/* 12 % slower on average, but the windows spread by +-30 %: not told apart */
	set_windows(&cur, 20, 8800, 100, 30);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text, "-12.0% [-");
	free(text);

	/* 12 % slower and steady: the interval [-12.x, -11.x] clears -10 % */
	set_windows(&cur, 20, 8800, 100, 1);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 1);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "method")), "windows");
	ci = json_object_get(json_object_get(root, "ci95_pct"), "elements_per_sec");
	assert_true(json_number_value(json_array_get(ci, 0)) < -12);
	assert_true(json_number_value(json_array_get(ci, 1)) < -10);
	assert_true(json_number_value(json_array_get(ci, 1)) > -12);
	json_decref(root);
	free(text);

	/* p99 up 20 %, steady: a regression; CSV carries the interval */
	set_windows(&cur, 20, 10000, 120, 2);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_CSV, &text), 1);
	assert_contains(text, "\np99_us,100,120.00000000000003,20.00000000000003,true,18.97");
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* A baseline of an older torvyn-trace has no windows: point to point, with a note. */
static void test_compare_old_baseline(void **state)
{
	struct tvn_bench_report base, cur;
	json_error_t jerr;
	json_t *root;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	base.elements_per_sec = 10000;
	set_windows(&cur, 20, 8000, base.p99_us, 2);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(text, "note: the baseline has no per-window figures");
	assert_contains(text, "REGRESSION: throughput (elements/s) -20.0% (threshold 10%)\n");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 1);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "method")), "point");
	assert_non_null(strstr(json_string_value(json_object_get(root, "note")), "older"));
	json_decref(root);
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* r as a JSON document, and a document written as a file. */
static json_t *report_doc(const struct tvn_bench_report *r)
{
	char *json = render(r, TVN_BENCH_JSON);
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr);

	free(json);
	assert_non_null(root);
	return root;
}

static void write_doc(const char *path, json_t *root)
{
	char *json = json_dumps(root, 0);

	write_file(path, json);
	free(json);
}

/* Windows are written and read back; a file without them (older) loads with none. */
static void test_windows_json(void **state)
{
	struct tvn_bench_report r, back;
	char err[256] = "", *text;
	json_t *root;

	(void)state;
	fill_report(&r);
	set_windows(&r, 7, 12345.5, 150.25, 3);
	r.windows[3].p99_us = NAN; /* a window in which nothing completed */
	root = report_doc(&r);
	write_doc("w.json", root);
	if (tvn_bench_report__load("w.json", &back, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_report_equal(&r, &back);
	tvn_bench_report__free(&back);
	text = render(&r, TVN_BENCH_PRETTY);
	assert_contains(text, "\n  windows     7 of 0.1 s: 11.98 k/s to 12.72 k/s\n");
	free(text);

	json_object_del(root, "windows");
	write_doc("old.json", root);
	if (tvn_bench_report__load("old.json", &back, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_int_equal(back.n_windows, 0);
	assert_null(back.windows);
	tvn_bench_report__free(&back);
	tvn_bench_report__free(&r);
	json_decref(root);
}

/* Lists of different lengths are an error that names the list. */
static void test_windows_json_mismatch(void **state)
{
	struct tvn_bench_report r, back;
	char err[256] = "";
	json_t *root;

	(void)state;
	fill_report(&r);
	set_windows(&r, 4, 1000, 10, 1);
	root = report_doc(&r);
	json_array_remove(json_object_get(json_object_get(root, "windows"), "p99_us"), 0);
	write_doc("short.json", root);
	json_decref(root);
	assert_int_equal(tvn_bench_report__load("short.json", &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "windows.p99_us: not a list of 4 numbers"));
	tvn_bench_report__free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mean_se),
	    cmocka_unit_test(test_t975),
	    cmocka_unit_test(test_diff_ci),
	    cmocka_unit_test(test_compare_windows),
	    cmocka_unit_test(test_compare_old_baseline),
	    cmocka_unit_test_setup_teardown(test_windows_json, setup_tmp_dir, teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_windows_json_mismatch, setup_tmp_dir,
					    teardown_tmp_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
