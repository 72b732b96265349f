// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One metric vocabulary: the OpenTelemetry-to-Prometheus name translation
 * against cases the translator's own tests use, and every family of the
 * catalogue against OpenTelemetry's naming rules and that translation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metric_model.h"
#include "metric_model_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct name_case {
	const char *otlp, *unit;
	enum tvn_metric_name_kind kind;
	const char *prom, *unit_words;
};

/* What the Collector's exporter (add_metric_suffixes on) gives for these. */
static const struct name_case cases[] = {
    {"requests", "", TVN_NAME_COUNTER, "requests_total", ""},
    {"cpu_usage", "1", TVN_NAME_GAUGE, "cpu_usage_ratio", ""},
    {"items", "1", TVN_NAME_COUNTER, "items_total", ""},
    {"response_time", "ms", TVN_NAME_GAUGE, "response_time_milliseconds", "milliseconds"},
    {"memory_usage", "By", TVN_NAME_GAUGE, "memory_usage_bytes", "bytes"},
    {"requests", "1/s", TVN_NAME_GAUGE, "requests_per_second", "per_second"},
    {"throughput", "By/s", TVN_NAME_GAUGE, "throughput_bytes_per_second", "bytes_per_second"},
    {"custom_metric", "custom_unit", TVN_NAME_GAUGE, "custom_metric_custom_unit", "custom_unit"},
    {"custom_metric", "{custom}", TVN_NAME_GAUGE, "custom_metric", ""},
    {"custom_metric", "By/{custom}", TVN_NAME_GAUGE, "custom_metric_bytes", "bytes"},
    {"requests_total", "", TVN_NAME_COUNTER, "requests_total", ""},
    {"cpu_usage_ratio", "1", TVN_NAME_GAUGE, "cpu_usage_ratio", ""},
    {"response_time_seconds", "s", TVN_NAME_GAUGE, "response_time_seconds", "seconds"},
    {"123_requests", "", TVN_NAME_COUNTER, "_123_requests_total", ""},
    {"metric__with__multiple__underscores", "unit__multiple__underscores", TVN_NAME_GAUGE,
     "metric_with_multiple_underscores_unit_multiple_underscores", "unit_multiple_underscores"},
    {"custom_metric", "unit@with#special/chars", TVN_NAME_GAUGE,
     "custom_metric_unit_with_special_per_chars", "unit_with_special_per_chars"},
    {"request_duration", "s", TVN_NAME_HISTOGRAM, "request_duration_seconds", "seconds"},
    {"active_connections", "", TVN_NAME_UPDOWN, "active_connections", ""},
    {"uptime", "d", TVN_NAME_GAUGE, "uptime_days", "days"},
    /* dotted OTLP names, as receivers send them */
    {"system.filesystem.usage", "By", TVN_NAME_GAUGE, "system_filesystem_usage_bytes", "bytes"},
    {"system.network.dropped", "{packets}", TVN_NAME_COUNTER, "system_network_dropped_total", ""},
    {"http.server.request.duration", "s", TVN_NAME_HISTOGRAM,
     "http_server_request_duration_seconds", "seconds"},
    {"system.cpu.utilization", "1", TVN_NAME_GAUGE, "system_cpu_utilization_ratio", ""},
    {"active_directory.ds.replication.network.io", "By", TVN_NAME_COUNTER,
     "active_directory_ds_replication_network_io_bytes_total", "bytes"},
    /* the unit's word is not repeated; "total" moves to the end */
    {"process.cpu.time.seconds", "s", TVN_NAME_COUNTER, "process_cpu_time_seconds_total",
     "seconds"},
    {"foo.total.bar", "", TVN_NAME_COUNTER, "foo_bar_total", ""},
    {"torvyn.pool.fallbacks", "{buffer}", TVN_NAME_COUNTER, "torvyn_pool_fallbacks_total", ""},
    {"torvyn.stream.backpressure.duration", "s", TVN_NAME_COUNTER,
     "torvyn_stream_backpressure_duration_seconds_total", "seconds"},
};

static void test_translation_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct name_case *c = &cases[i];
		char got[160], unit[64];

		assert_int_equal(tvn_metric_name__prom(c->otlp, c->unit, c->kind, got, sizeof(got)),
				 0);
		if (strcmp(got, c->prom))
			fail_msg("%s in \"%s\": %s, want %s", c->otlp, c->unit, got, c->prom);
		assert_int_equal(tvn_metric_name__unit(c->unit, unit, sizeof(unit)), 0);
		if (strcmp(unit, c->unit_words))
			fail_msg("unit \"%s\": \"%s\", want \"%s\"", c->unit, unit, c->unit_words);
	}
}

static void test_translation_errors(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(tvn_metric_name__prom("@#$%", "", TVN_NAME_GAUGE, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(tvn_metric_name__prom("a.very.long.metric.name", "", TVN_NAME_COUNTER, out,
					       sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(tvn_metric_name__prom(NULL, "", TVN_NAME_GAUGE, out, sizeof(out)),
			 -EINVAL);
}

/* Words a name must not carry: units and type suffixes belong elsewhere. */
static const char *const banned_words[] = {"total", "seconds", "bytes", "ns",	      "ms",
					   "us",    "count",   "ratio", "nanoseconds"};

static void check_otlp_name(const char *n)
{
	const char *p = n;

	if (strncmp(n, "torvyn.", 7))
		fail_msg("%s: not under torvyn.", n);
	for (const char *c = n; *c; c++)
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '.' &&
		    *c != '_')
			fail_msg("%s: '%c' is not lowercase, a digit, '.' or '_'", n, *c);
	while (*p) {
		size_t len = strcspn(p, "."), w;

		if (!len || p[0] == '_' || p[len - 1] == '_')
			fail_msg("%s: an empty component or one that starts or ends with '_'", n);
		for (const char *q = p; q < p + len; q += w + (q[w] == '_')) {
			w = strcspn(q, "._");
			if (!w)
				fail_msg("%s: \"__\"", n);
			for (size_t b = 0; b < ARRAY_SIZE(banned_words); b++)
				if (w == strlen(banned_words[b]) && !strncmp(q, banned_words[b], w))
					fail_msg("%s: the word \"%s\" belongs in unit or type", n,
						 banned_words[b]);
		}
		p += len + (p[len] == '.');
	}
}

static void check_unit(const struct tvn_metric_family *f)
{
	const char *u = f->unit;
	size_t n;

	assert_non_null(u);
	n = strlen(u);
	if (strcmp(u, "") && strcmp(u, "s") && strcmp(u, "By") && strcmp(u, "1") &&
	    !(n > 2 && u[0] == '{' && u[n - 1] == '}'))
		fail_msg("%s: unit \"%s\" is not s, By, 1 or {annotation}", f->otlp, u);
	if (f->type == METRIC_HISTOGRAM && strcmp(u, "s"))
		fail_msg("%s: latency histograms are in s", f->otlp);
}

/* Every family: OpenTelemetry's rules, and its Prometheus name the translation of its OTLP one. */
static void test_catalogue(void **state)
{
	(void)state;
	assert_true(tvn_metric_n_fams >= 70);
	for (size_t i = 0; i < tvn_metric_n_fams; i++) {
		const struct tvn_metric_fam *f = &tvn_metric_fams[i];
		struct tvn_metric_family pub;
		char prom[128], unit[32], want[160], fam[160];

		check_otlp_name(f->pub.otlp);
		check_unit(&f->pub);
		for (size_t k = 0; k < tvn_metric_n_fams; k++) {
			const char *o = tvn_metric_fams[k].pub.otlp;
			size_t n = strlen(f->pub.otlp);

			if (k != i && !strcmp(o, f->pub.otlp))
				fail_msg("%s: twice", o);
			if (!strncmp(o, f->pub.otlp, n) && o[n] == '.')
				fail_msg("%s is a metric and the namespace of %s", f->pub.otlp, o);
		}
		assert_int_equal(
		    tvn_metric_fam__derive(f, &pub, prom, sizeof(prom), unit, sizeof(unit)), 0);
		assert_int_equal(tvn_metric_name__prom(f->pub.otlp, f->pub.unit,
						       tvn_metric_name__kind(f->pub.type), want,
						       sizeof(want)),
				 0);
		snprintf(fam, sizeof(fam), "%s%s", pub.prom,
			 f->pub.type == METRIC_COUNTER ? "_total"
			 : f->pub.type == METRIC_INFO  ? "_info"
						       : "");
		if (strcmp(fam, want))
			fail_msg("%s: renders %s, the translation gives %s", f->pub.otlp, fam,
				 want);
		if (pub.prom_unit) {
			size_t pl = strlen(pub.prom), ul = strlen(pub.prom_unit);

			if (pl <= ul || strcmp(pub.prom + pl - ul, pub.prom_unit))
				fail_msg("%s: OpenMetrics family %s does not end in its unit %s",
					 f->pub.otlp, pub.prom, pub.prom_unit);
		}
	}
}

/* The families this runtime cannot fill: absent unless the host reports them. */
static void test_reported_only(void **state)
{
	int n = 0;

	(void)state;
	for (size_t i = 0; i < tvn_metric_n_fams; i++) {
		const struct tvn_metric_fam *f = &tvn_metric_fams[i];

		if (!strcmp(f->pub.otlp, "torvyn.component.fuel_consumed") ||
		    !strcmp(f->pub.otlp, "torvyn.component.memory_current")) {
			assert_true(f->if_set);
			n++;
		}
	}
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_translation_cases),
	    cmocka_unit_test(test_translation_errors),
	    cmocka_unit_test(test_catalogue),
	    cmocka_unit_test(test_reported_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
