// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for top's Prometheus text parser (user/trace/top/promtext.c). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "promtext.h"

/* What the callback saw: each sample as "name{k=v,...} value" (%g), one a line. */
struct seen {
	char text[4096];
	size_t len;
	int n, stop_at, stop_rc;
};

static int collect(void *ctx, const struct tvn_promtext_sample *s)
{
	struct seen *w = ctx;

	w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len, "%s{", s->name);
	for (int i = 0; i < s->n_labels; i++)
		w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len, "%s%s=%s",
				   i ? "," : "", s->labels[i].name, s->labels[i].value);
	w->len += snprintf(w->text + w->len, sizeof(w->text) - w->len, "} %g\n", s->value);
	return ++w->n == w->stop_at ? w->stop_rc : 0;
}

static int parse(const char *text, struct seen *w, int *bad)
{
	memset(w, 0, sizeof(*w));
	*bad = 0;
	return tvn_promtext__parse(text, strlen(text), collect, w, bad);
}

static void expect(const char *text, const char *want)
{
	struct seen w;
	int bad;

	assert_int_equal(parse(text, &w, &bad), 0);
	assert_string_equal(w.text, want);
}

static void test_samples(void **state)
{
	(void)state;
	expect("a 1\n", "a{} 1\n");
	/* no final newline; tabs; a timestamp; an empty label set */
	expect("a_b:c\t2.5 1700000000000", "a_b:c{} 2.5\n");
	expect("x{} 3\n", "x{} 3\n");
	expect("x {a=\"1\"} 4\n", "x{a=1} 4\n");
	/* blanks inside the set, a trailing comma, CRLF */
	expect("x{ a = \"1\" , b=\"\", } -7e-3\r\n", "x{a=1,b=} -0.007\n");
	expect("torvyn_flow_elements_total{flow_id=\"three-stage\"} 5000\n"
	       "torvyn_trace_level 2\n",
	       "torvyn_flow_elements_total{flow_id=three-stage} 5000\n"
	       "torvyn_trace_level{} 2\n");
}

static void test_escapes(void **state)
{
	struct seen w;
	int bad;

	(void)state;
	assert_int_equal(
	    parse("m{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 1\n", &w, &bad), 0);
	assert_string_equal(w.text, "m{a=q\"uote,b=back\\slash,c=new\nline} 1\n");
	/* braces, commas and '=' inside a value are the value's */
	expect("m{a=\"}{,=\"} 1\n", "m{a=}{,=} 1\n");
	/* UTF-8 passes through */
	expect("m{a=\"\xc3\xa9t\xc3\xa9\"} 1\n", "m{a=\xc3\xa9t\xc3\xa9} 1\n");
}

static void test_special_values(void **state)
{
	struct seen w;
	int bad;

	(void)state;
	expect("a +Inf\nb -Inf\n", "a{} inf\nb{} -inf\n");
	assert_int_equal(parse("c NaN\n", &w, &bad), 0);
	assert_string_equal(w.text, "c{} nan\n");
}

static void test_histogram(void **state)
{
	(void)state;
	expect("# HELP h_seconds Time per call.\n"
	       "# TYPE h_seconds histogram\n"
	       "h_seconds_bucket{flow_id=\"f\",le=\"1e-07\"} 0\n"
	       "h_seconds_bucket{flow_id=\"f\",le=\"0.25\"} 3\n"
	       "h_seconds_bucket{flow_id=\"f\",le=\"+Inf\"} 4\n"
	       "h_seconds_sum{flow_id=\"f\"} 1.500000000\n"
	       "h_seconds_count{flow_id=\"f\"} 4\n",
	       "h_seconds_bucket{flow_id=f,le=1e-07} 0\n"
	       "h_seconds_bucket{flow_id=f,le=0.25} 3\n"
	       "h_seconds_bucket{flow_id=f,le=+Inf} 4\n"
	       "h_seconds_sum{flow_id=f} 1.5\n"
	       "h_seconds_count{flow_id=f} 4\n");
}

static void test_comments(void **state)
{
	(void)state;
	/* comments may hold anything, even what looks like a sample; blank lines pass */
	expect("# HELP a Has {braces} and \"quotes\" and \\ escapes.\n"
	       "# TYPE a counter\n"
	       "#a 99\n"
	       "   \n"
	       "\n"
	       "  # indented comment\n"
	       "a 1\n"
	       "# EOF\n",
	       "a{} 1\n");
	expect("", "");
	expect("# only comments\n", "");
}

static void bad_line(const char *text, int rc, int line)
{
	struct seen w;
	int bad;

	assert_int_equal(parse(text, &w, &bad), rc);
	assert_int_equal(bad, line);
}

static void test_malformed(void **state)
{
	(void)state;
	bad_line("a\n", -EINVAL, 1);			/* no value */
	bad_line("a 1\nb{c=\"1\"}\n", -EINVAL, 2);	/* no value after labels */
	bad_line("a 1\n\nb{c=\"1} 2\n", -EINVAL, 3);	/* unterminated value */
	bad_line("b{c=\"\\x\"} 2\n", -EINVAL, 1);	/* unknown escape */
	bad_line("b{c=1} 2\n", -EINVAL, 1);		/* unquoted value */
	bad_line("b{c=\"1\" d=\"2\"} 2\n", -EINVAL, 1); /* no comma */
	bad_line("b{1c=\"1\"} 2\n", -EINVAL, 1);	/* label name starts with a digit */
	bad_line("b{c:d=\"1\"} 2\n", -EINVAL, 1);	/* colon in a label name */
	bad_line("9b 2\n", -EINVAL, 1);			/* metric name starts with a digit */
	bad_line("b 2x\n", -EINVAL, 1);			/* garbage in the value */
	bad_line("b 2 3 4\n", -EINVAL, 1);		/* more than a timestamp */
	bad_line("b 2 12z\n", -EINVAL, 1);		/* bad timestamp */
	bad_line("b-c 2\n", -EINVAL, 1);		/* '-' in a name */
	bad_line("b{c=\"1\"", -EINVAL, 1);		/* cut short */
	bad_line("a{l0=\"\",l1=\"\",l2=\"\",l3=\"\",l4=\"\",l5=\"\",l6=\"\",l7=\"\",l8=\"\","
		 "l9=\"\",l10=\"\",l11=\"\",l12=\"\",l13=\"\",l14=\"\",l15=\"\",l16=\"\"} 1\n",
		 -E2BIG, 1);
}

static void test_stop_and_label(void **state)
{
	const struct tvn_promtext_label l[] = {{"flow_id", "f"}, {"le", "+Inf"}};
	const struct tvn_promtext_sample s = {.name = "x", .labels = l, .n_labels = 2};
	struct seen w = {.stop_at = 2, .stop_rc = 42};
	const char *text = "a 1\nb 2\nc 3\n";

	(void)state;
	/* the callback's non-zero return stops the parse and is returned */
	assert_int_equal(tvn_promtext__parse(text, strlen(text), collect, &w, NULL), 42);
	assert_int_equal(w.n, 2);
	/* the length is honoured: no NUL needed, nothing read past it */
	memset(&w, 0, sizeof(w));
	assert_int_equal(tvn_promtext__parse(text, 4, collect, &w, NULL), 0);
	assert_string_equal(w.text, "a{} 1\n");

	assert_string_equal(tvn_promtext__label(&s, "le"), "+Inf");
	assert_string_equal(tvn_promtext__label(&s, "flow_id"), "f");
	assert_null(tvn_promtext__label(&s, "pid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_samples),	   cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_special_values), cmocka_unit_test(test_histogram),
	    cmocka_unit_test(test_comments),	   cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_stop_and_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
