/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the bench unit tests share: a report with a value in every field, renderings, a scratch
 * directory. */
#ifndef TORVYN_TEST_BENCH_FIXTURE_H
#define TORVYN_TEST_BENCH_FIXTURE_H

#include <string.h>

#include "bench.h"

/* A report in which every field has its own value, so a swap or a loss shows. */
void fill_report(struct tvn_bench_report *r);

/* The report as text in format f. Caller frees. */
char *render(const struct tvn_bench_report *r, enum tvn_bench_format f);

/* compare()'s result and text (caller frees). */
int compare(const struct tvn_bench_report *cur, const struct tvn_bench_report *base, double thr,
	    enum tvn_bench_format f, char **text);

void write_file(const char *path, const char *text);

/* Every field of a and b equal (NaN equal to NaN). */
void assert_report_equal(const struct tvn_bench_report *a, const struct tvn_bench_report *b);

/*
 * A fresh directory that the test works in, the old cwd restored after it;
 * cmocka runs teardowns after a failed test too: no test is left in
 * another's directory.
 */
int setup_tmp_dir(void **state);
int teardown_tmp_dir(void **state);

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("missing \"%s\" in:\n%s", (needle), (hay));                       \
	} while (0)

#define assert_lacks(hay, needle)                                                                  \
	do {                                                                                       \
		if (strstr((hay), (needle)))                                                       \
			fail_msg("unexpected \"%s\" in:\n%s", (needle), (hay));                    \
	} while (0)

#define assert_prefix(text, prefix)                                                                \
	do {                                                                                       \
		if (strncmp((text), (prefix), strlen(prefix)))                                     \
			fail_msg("want prefix \"%s\" in:\n%s", (prefix), (text));                  \
	} while (0)

#endif /* TORVYN_TEST_BENCH_FIXTURE_H */
