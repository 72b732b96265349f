// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for the bench reports (user/trace/bench/): JSON, loading, the pretty, CSV and markdown
 * renderings. */
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

/* ------------------------------------------------------------ JSON round trip */

static void round_trip(const struct tvn_bench_report *r)
{
	struct tvn_bench_report back;
	char err[256] = "";
	char *json;

	json = render(r, TVN_BENCH_JSON);
	write_file("r.json", json);
	free(json);
	if (tvn_bench_report__load("r.json", &back, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_report_equal(r, &back);
	tvn_bench_report__free(&back);
}

static void test_json_round_trip(void **state)
{
	struct tvn_bench_report r;

	(void)state;
	fill_report(&r);
	snprintf(r.slowest, sizeof(r.slowest), "steady/transform");
	r.elements = (uint64_t)INT64_MAX; /* the largest counter JSON keeps */
	r.bytes_per_sec = 0.1;
	snprintf(r.comps[2].component, sizeof(r.comps[2].component), "sink-µ\"q\"");
	round_trip(&r);
	tvn_bench_report__free(&r);
}

/* No components, no streams, NaN (written as null): still read back as written. */
static void test_json_round_trip_empty_and_nan(void **state)
{
	struct tvn_bench_report r;

	(void)state;
	fill_report(&r);
	tvn_bench_report__free(&r);
	r.mean_us = NAN;
	r.pool_reuse_pct = NAN;
	round_trip(&r);
}

static void test_json_upstream_names(void **state)
{
	static const char *const paths[][2] = {
	    {"throughput", "elements_per_sec"},
	    {"throughput", "bytes_per_sec"},
	    {"latency", "p50_us"},
	    {"latency", "p90_us"},
	    {"latency", "p95_us"},
	    {"latency", "p99_us"},
	    {"latency", "p999_us"},
	    {"latency", "max_us"},
	    {"resources", "buffer_allocs"},
	    {"resources", "pool_reuse_pct"},
	    {"resources", "total_copies"},
	    {"resources", "peak_memory_bytes"},
	    {"scheduling", "total_wakeups"},
	    {"scheduling", "backpressure_events"},
	    {"scheduling", "queue_peak"},
	    {"scheduling", "queue_capacity"},
	};
	struct tvn_bench_report r;
	json_error_t jerr;
	json_t *root, *pc;
	char *json;

	(void)state;
	fill_report(&r);
	r.p999_us = 333.25;
	r.comps[2].cpu_s = 0.3; /* not 0.1 * 3 == 0.30000000000000004 */
	json = render(&r, TVN_BENCH_JSON);
	root = json_loads(json, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")),
			 TVN_BENCH_SCHEMA_VERSION);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!json_is_number(
			json_object_get(json_object_get(root, paths[i][0]), paths[i][1])))
			fail_msg("no number %s.%s", paths[i][0], paths[i][1]);
	assert_true(json_real_value(json_object_get(json_object_get(root, "latency"), "p99_us")) ==
		    150.0);
	pc = json_array_get(json_object_get(root, "per_component"), 1);
	assert_string_equal(json_string_value(json_object_get(pc, "component")), "transform");
	assert_true(json_real_value(json_object_get(pc, "p99_us")) == 27.25);
	assert_true(json_real_value(json_object_get(pc, "p50_us")) == 12.5);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_object_get(root, "resources"), "copies"),
				"PayloadRead"),
		"bytes")),
	    8193);
	/*
	 * Reals print with the fewest digits that read back exactly for all of
	 * them (the round trip tests the 17-digit case): 98765432.1, not
	 * 98765432.099999994; 150.0, not 1.5e2.
	 */
	assert_contains(json, "\"elements_per_sec\": 12345.6,");
	assert_contains(json, "\"bytes_per_sec\": 98765432.1\n");
	assert_contains(json, "\"p99_us\": 150.0,");
	assert_contains(json, "\"p999_us\": 333.25,");
	/* fixed key order: schema_version first */
	assert_prefix(json, "{\n  \"schema_version\": 1,\n  \"target\": \"./torvyn-host");
	json_decref(root);
	free(json);
	tvn_bench_report__free(&r);
}

/* ------------------------------------------------------------ load errors */

static void test_load_bad_schema_version(void **state)
{
	struct tvn_bench_report r;
	char err[256];

	(void)state;
	write_file("old.json", "{\"schema_version\": 7, \"target\": \"x\"}");
	assert_int_equal(tvn_bench_report__load("old.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(
	    err, "old.json: schema_version 7, this torvyn-trace reads 1: re-record the baseline");
	assert_null(r.comps);
}

static void test_load_errors(void **state)
{
	struct tvn_bench_report r, good;
	char err[256], *json, *p;

	(void)state;
	assert_int_equal(tvn_bench_report__load("nope.json", &r, err, sizeof(err)), -ENOENT);
	assert_contains(err, "nope.json");

	write_file("garbage.json", "{\"schema_version\": 1,");
	assert_int_equal(tvn_bench_report__load("garbage.json", &r, err, sizeof(err)), -EINVAL);
	assert_prefix(err, "garbage.json: line 1 column");

	write_file("other.json", "{\"hello\": 1}");
	assert_int_equal(tvn_bench_report__load("other.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "other.json: no schema_version: not a torvyn-trace bench report");

	/* a report without latency.p99_us: the message names the field */
	fill_report(&good);
	json = render(&good, TVN_BENCH_JSON);
	p = strstr(json, "\"p99_us\"");
	assert_non_null(p);
	memcpy(p, "\"p98_us\"", 8);
	write_file("nop99.json", json);
	assert_int_equal(tvn_bench_report__load("nop99.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "nop99.json: latency.p99_us: missing");
	assert_null(r.comps);
	assert_int_equal(r.n_comps, 0);

	/* a negative counter in the second component */
	free(json);
	json = render(&good, TVN_BENCH_JSON);
	p = strstr(json, "\"invocations\": 123457");
	assert_non_null(p);
	memcpy(p, "\"invocations\": -23457", 21);
	write_file("neg.json", json);
	assert_int_equal(tvn_bench_report__load("neg.json", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "neg.json: per_component[1].invocations: not an integer >= 0");
	free(json);
	tvn_bench_report__free(&good);
}

/* ------------------------------------------------------------ pretty, csv, markdown */

static void test_pretty_sections_and_slowest(void **state)
{
	static const char *const sections[] = {
	    "\nThroughput\n", "\nLatency (end to end, ", "\nPer component\n", "\nQueues\n",
	    "\nBuffers\n",    "\nScheduling\n",		 "\nMemory\n"};
	struct tvn_bench_report r;
	char *text, *line;

	(void)state;
	fill_report(&r);
	text = render(&r, TVN_BENCH_PRETTY);
	assert_prefix(text, "torvyn-trace bench: ./torvyn-host --pipeline \"steady, 1\".json  pid");
	assert_contains(text,
			"pid 4242  window 10.00 s  warmup 2.00 s  started 2025-06-01T12:00:00Z\n");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		assert_contains(text, sections[i]);
	assert_contains(text, "  slowest: steady/transform (share 60.0%)\n");
	/* the star is on the transform row and only there */
	line = strstr(text, "\n  * ");
	assert_non_null(line);
	assert_prefix(line, "\n  * steady/transform ");
	assert_null(strstr(line + 1, "\n  * "));
	assert_contains(text, "    steady/sink ");
	/* units that fit */
	assert_contains(text, "12.35 k/s (123456 elements)");
	assert_contains(text, "94.2 MiB/s (941.9 MiB)");
	assert_contains(text, "  p99    150.0 µs\n");
	assert_contains(text, "  p99.9  333.3 µs\n");
	assert_contains(text, "  max     2.50 ms\n");
	assert_contains(text, "61/64");
	assert_contains(text, "    PayloadRead         200   8.0 KiB\n");
	assert_contains(text, "  pool reuse   95.0%\n");
	assert_contains(text, "  peak RSS  48.0 MiB\n");
	free(text);

	/* the slowest the report names wins over the highest mean */
	snprintf(r.slowest, sizeof(r.slowest), "steady/sink");
	text = render(&r, TVN_BENCH_PRETTY);
	assert_contains(text, "  slowest: steady/sink (share 25.0%)\n");
	assert_contains(text, "\n  * steady/sink ");
	free(text);
	tvn_bench_report__free(&r);
}

static void test_csv_exact(void **state)
{
	static const char want[] =
	    "target,duration_s,elements,elements_per_sec,bytes_per_sec,p50_us,p90_us,"
	    "p95_us,p99_us,p999_us,max_us,buffer_allocs,pool_reuse_pct,total_copies,"
	    "total_wakeups,backpressure_events,queue_peak,queue_capacity,peak_rss_bytes\n"
	    "\"./torvyn-host --pipeline \"\"steady, 1\"\".json\",10,123456,12345.6,"
	    "98765432.1,41.25,77.5,90.125,150,333.3333333333333,2500.75,1000,95,1000,"
	    "3003,15,61,64,50331648\n"
	    "\n"
	    "flow,component,invocations,errors,p50_us,p99_us,mean_us,max_us,share_pct,"
	    "wakeups,idle_s,cpu_s\n"
	    "steady,source,123456,0,2.5,7.25,3,40,6,1000,0.5,0.1\n"
	    "steady,transform,123457,1,12.5,27.25,30,400,60,1001,1.5,0.2\n"
	    "steady,sink,123458,2,22.5,47.25,12.5,90,25,1002,2.5,0.30000000000000004\n";
	struct tvn_bench_report r;
	char *text;

	(void)state;
	fill_report(&r);
	text = render(&r, TVN_BENCH_CSV);
	assert_string_equal(text, want);
	free(text);
	tvn_bench_report__free(&r);
}

static void test_markdown_tables(void **state)
{
	struct tvn_bench_report r;
	char *text;

	(void)state;
	fill_report(&r);
	snprintf(r.comps[0].component, sizeof(r.comps[0].component), "a|b");
	text = render(&r, TVN_BENCH_MARKDOWN);
	assert_prefix(
	    text, "## torvyn-trace bench: `./torvyn-host --pipeline \"steady, 1\".json`\n\n"
		  "pid 4242 · window 10.00 s · warmup 2.00 s · started 2025-06-01T12:00:00Z\n\n");
	assert_contains(text, "### Throughput\n\n| metric | value |\n|---|---|\n| elements/s |");
	assert_contains(text, "### Latency (end to end, 123450 samples)\n\n"
			      "| samples | p50 | p90 | p95 | p99 | p99.9 | max | mean |\n"
			      "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
			      "| 123450 | 41.2 µs | 77.5 µs | 90.1 µs | 150.0 µs | 333.3 µs | "
			      "2.50 ms | 50.1 µs |\n");
	assert_contains(text, "### Per component\n\n| flow/component | invocations | errors | p50 "
			      "| p99 | mean | share | wakeups | idle |\n"
			      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	assert_contains(text, "| steady/a\\|b | 123456 | 0 |");
	assert_contains(text, "| **steady/transform** | 123457 | 1 | 12.5 µs | 27.2 µs | 30.0 µs "
			      "| 60.0% | 1001 | 1.50 s |\n");
	assert_contains(text, "slowest: **steady/transform** (share 60.0%)\n");
	assert_contains(text, "### Queues\n\n| flow/stream | mean depth | peak/capacity |");
	assert_contains(text, "| steady/s2 | 4.5 | 61/64 | 8 | 25.0 ms | 123455 |\n");
	assert_contains(text, "### Buffers\n\n| metric | value |\n");
	assert_contains(text, "| copy reason | copies | bytes |\n|---|---:|---:|\n"
			      "| MetadataMarshal | 100 | 4.0 KiB |\n");
	assert_contains(text,
			"### Scheduling\n\n| metric | value |\n|---|---|\n| wakeups | 3003 |\n");
	assert_contains(text,
			"### Memory\n\n| metric | value |\n|---|---|\n| peak RSS | 48.0 MiB |\n");
	free(text);
	tvn_bench_report__free(&r);
}

static void test_empty_report_renders(void **state)
{
	struct tvn_bench_report r = {.schema_version = TVN_BENCH_SCHEMA_VERSION};
	char *text;

	(void)state;
	assert_int_equal(tvn_bench_report__slowest(&r), -1);
	text = render(&r, TVN_BENCH_PRETTY);
	assert_contains(text, "  no elements completed in the window\n");
	assert_contains(text, "  no components\n");
	assert_contains(text, "  no streams\n");
	assert_lacks(text, "slowest");
	free(text);
	text = render(&r, TVN_BENCH_MARKDOWN);
	assert_contains(text, "no components\n");
	free(text);
	r.n_comps = 2; /* but no array */
	assert_int_equal(tvn_bench_report__write(&r, TVN_BENCH_JSON, stdout), -EINVAL);
}

static void test_format_parse(void **state)
{
	enum tvn_bench_format f = TVN_BENCH_PRETTY;

	(void)state;
	assert_int_equal(tvn_bench_format__parse("markdown", &f), 0);
	assert_int_equal(f, TVN_BENCH_MARKDOWN);
	assert_int_equal(tvn_bench_format__parse("csv", &f), 0);
	assert_int_equal(f, TVN_BENCH_CSV);
	assert_int_equal(tvn_bench_format__parse("JSON", &f), -EINVAL);
	assert_int_equal(tvn_bench_format__parse("", &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_json_round_trip, setup_tmp_dir, teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_json_round_trip_empty_and_nan, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test(test_json_upstream_names),
	    cmocka_unit_test_setup_teardown(test_load_bad_schema_version, setup_tmp_dir,
					    teardown_tmp_dir),
	    cmocka_unit_test_setup_teardown(test_load_errors, setup_tmp_dir, teardown_tmp_dir),
	    cmocka_unit_test(test_pretty_sections_and_slowest),
	    cmocka_unit_test(test_csv_exact),
	    cmocka_unit_test(test_markdown_tables),
	    cmocka_unit_test(test_empty_report_renders),
	    cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
