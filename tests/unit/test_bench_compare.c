// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for bench comparisons and baselines (user/trace/bench/compare.c, baseline.c). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "bench_fixture.h"

/* ------------------------------------------------------------ compare */

static void test_compare_same(void **state)
{
	static const enum tvn_bench_format fmts[] = {TVN_BENCH_PRETTY, TVN_BENCH_MARKDOWN,
						     TVN_BENCH_CSV};
	struct tvn_bench_report r;
	json_error_t jerr;
	json_t *root;
	char *text;

	(void)state;
	fill_report(&r);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		assert_int_equal(compare(&r, &r, 10, fmts[i], &text), 0);
		assert_lacks(text, "REGRESSION");
		assert_lacks(text, "slower");
		assert_lacks(text, "true");
		free(text);
	}
	assert_int_equal(compare(&r, &r, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text, "\nthroughput (elements/s)   12.35 k/s   12.35 k/s   +0.0%\n");
	assert_contains(text, "p99 steady/transform");
	assert_contains(text, "no regression (threshold 10%)\n");
	free(text);
	assert_int_equal(compare(&r, &r, 10, TVN_BENCH_JSON, &text), 0);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_false(json_object_get(root, "regression")));
	free(text);
	json_decref(root);
	tvn_bench_report__free(&r);
}

static void test_compare_throughput_drop(void **state)
{
	struct tvn_bench_report base, cur;
	json_error_t jerr;
	json_t *root;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	base.elements_per_sec = 10000;
	cur.elements_per_sec = 8000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(
	    text, "\nthroughput (elements/s)   10.00 k/s    8.00 k/s  -20.0%  << REGRESSION\n");
	assert_contains(text, "REGRESSION: throughput (elements/s) -20.0% (threshold 10%)\n");
	assert_lacks(text, "no regression");
	free(text);

	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 1);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "regression")));
	assert_true(json_number_value(json_object_get(root, "threshold_pct")) == 10);
	assert_true(json_number_value(json_object_get(json_object_get(root, "change_pct"),
						      "elements_per_sec")) == -20);
	assert_true(json_number_value(json_object_get(json_object_get(root, "baseline"),
						      "elements_per_sec")) == 10000);
	assert_true(json_number_value(json_object_get(json_object_get(root, "current"),
						      "elements_per_sec")) == 8000);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(root, "regressions"), 0)),
	    "elements_per_sec");
	json_decref(root);
	free(text);

	/* a 20 % drop passes a 25 % threshold; exactly 10 % is not "more than" 10 % */
	assert_int_equal(compare(&cur, &base, 25, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	cur.elements_per_sec = 9000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	/* faster is never a regression */
	cur.elements_per_sec = 20000;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

static void test_compare_p99(void **state)
{
	struct tvn_bench_report base, cur;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	base.p99_us = 100;
	cur.p99_us = 105;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_lacks(text, "REGRESSION");
	assert_contains(text, "+5.0%");
	free(text);

	cur.p99_us = 115;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 1);
	assert_contains(text, "  +15.0%  << REGRESSION\n");
	assert_contains(text, "REGRESSION: p99 +15.0% (threshold 10%)\n");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_MARKDOWN, &text), 1);
	assert_contains(text, "| p99 | 100.0 µs | 115.0 µs | +15.0% | **REGRESSION** |\n");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_CSV, &text), 1);
	assert_contains(text,
			"metric,baseline,current,change_pct,regression,ci95_lo_pct,ci95_hi_pct\n");
	assert_contains(text, "\np99_us,100,115,15,true,,\n");
	free(text);

	/* a lower p99 is no regression, nor is a slower component's p99 alone */
	cur.p99_us = 50;
	cur.comps[1].p99_us = base.comps[1].p99_us * 2;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_contains(text,
			"\np99 steady/transform        27.2 µs     54.5 µs  +100.0%  slower\n");
	free(text);

	assert_int_equal(tvn_bench_report__compare(&cur, &base, -1, TVN_BENCH_PRETTY, stdout),
			 -EINVAL);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* Components only in one report get no row; a zero baseline gives n/a. */
static void test_compare_components_in_both(void **state)
{
	struct tvn_bench_report base, cur;
	char *text;

	(void)state;
	fill_report(&base);
	fill_report(&cur);
	snprintf(cur.comps[0].component, sizeof(cur.comps[0].component), "new-source");
	base.max_us = 0;
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_PRETTY, &text), 0);
	assert_lacks(text, "source");
	assert_contains(text, "p99 steady/sink");
	assert_contains(text, "  n/a");
	free(text);
	assert_int_equal(compare(&cur, &base, 10, TVN_BENCH_JSON, &text), 0);
	assert_contains(text, "\"max_us\": null");
	free(text);
	tvn_bench_report__free(&base);
	tvn_bench_report__free(&cur);
}

/* ------------------------------------------------------------ baselines */

static void test_baseline_save_resolve(void **state)
{
	struct tvn_bench_report r, back;
	char path[128], err[256];
	struct stat st;
	struct dirent *d;
	DIR *dir;
	int n = 0;

	(void)state;
	fill_report(&r);
	assert_int_equal(tvn_bench_report__save_baseline(&r, "ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	assert_int_equal(stat(".torvyn/bench/ci-main_1.0.json", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* saving again replaces it and leaves no temp files */
	r.p99_us = 999;
	assert_int_equal(tvn_bench_report__save_baseline(&r, "ci-main_1.0", path, sizeof(path)), 0);
	dir = opendir(".torvyn/bench");
	assert_non_null(dir);
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dir);
	assert_int_equal(n, 1);

	assert_int_equal(tvn_bench_report__resolve("ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	if (tvn_bench_report__load(path, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_report_equal(&r, &back);
	tvn_bench_report__free(&back);

	/* an existing file wins, even when it could be a name */
	write_file("ci-main_1.0", "{}");
	assert_int_equal(tvn_bench_report__resolve("ci-main_1.0", path, sizeof(path)), 0);
	assert_string_equal(path, "ci-main_1.0");
	assert_int_equal(
	    tvn_bench_report__resolve(".torvyn/bench/ci-main_1.0.json", path, sizeof(path)), 0);
	assert_string_equal(path, ".torvyn/bench/ci-main_1.0.json");
	assert_int_equal(tvn_bench_report__resolve("nope", path, sizeof(path)), -ENOENT);
	assert_string_equal(path, ".torvyn/bench/nope.json");
	assert_int_equal(tvn_bench_report__resolve("no/such.json", path, sizeof(path)), -ENOENT);
	assert_int_equal(tvn_bench_report__resolve("", path, sizeof(path)), -EINVAL);
	/* too small a buffer */
	assert_int_equal(tvn_bench_report__save_baseline(&r, "x", path, 10), -ENAMETOOLONG);
	tvn_bench_report__free(&r);
}

static void test_baseline_bad_names(void **state)
{
	static const char *const bad[] = {
	    "",	     "a/b",
	    "../x",  "a b",
	    "ü",     "x\n",
	    "name*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	struct tvn_bench_report r;
	char path[128];
	struct stat st;

	(void)state;
	fill_report(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tvn_bench_report__save_baseline(&r, bad[i], path, sizeof(path)) != -EINVAL)
			fail_msg("name \"%s\" accepted", bad[i]);
	assert_int_equal(stat(".torvyn", &st), -1); /* nothing was created */
	assert_int_equal(tvn_bench_report__save_baseline(
			     &r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			     path, sizeof(path)),
			 0); /* 64 */
	/* .torvyn a file: the error comes through */
	assert_int_equal(system("rm -rf .torvyn && touch .torvyn"), 0);
	assert_int_equal(tvn_bench_report__save_baseline(&r, "x", path, sizeof(path)), -ENOTDIR);
	tvn_bench_report__free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compare_same),
	    cmocka_unit_test(test_compare_throughput_drop),
	    cmocka_unit_test(test_compare_p99),
	    cmocka_unit_test(test_compare_components_in_both),
	    cmocka_unit_test_setup_teardown(test_baseline_save_resolve, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_baseline_bad_names, setup_tmp_dir,
					    teardown_tmp_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
