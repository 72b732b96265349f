// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for what the metric families hold (user/trace/model/, seen
 * through the Prometheus rendering of user/trace/render/prom.c): every
 * family and sample of a known snapshot, their order, what absent data
 * leaves out, and what promtool and the OpenMetrics parser make of it.
 */
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom_fixture.h"

static void test_host_block_lines(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false);

	(void)state;
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"f1\"} 10000");
	assert_line(t, "torvyn_flow_errors_total{flow_id=\"f1\"} 12");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"MetadataMarshal\"} 1");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"PayloadRead\"} 2");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"PayloadWrite\"} 3");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"HostSerialize\"} 4");
	assert_line(t,
		    "torvyn_flow_copied_bytes_total{flow_id=\"f1\",reason=\"HostSerialize\"} 400");
	assert_line(t, "torvyn_flow_transfers_total{flow_id=\"f1\"} 19998");
	assert_line(t, "torvyn_flow_transferred_bytes_total{flow_id=\"f1\"} 1234567");
	assert_line(t, "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} 2.500000001");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"sampled\"} 100");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"error\"} 12");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"latency\"} 3");
	assert_line(t, "torvyn_flow_latency_seconds_sum{flow_id=\"f1\"} 123.456789012");

	assert_line(
	    t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20000");
	assert_line(
	    t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"sink\"} 10000");
	assert_line(t, "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"src\"} 0");
	assert_line(t, "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"sink\"} 12");
	/* fuel and held memory only where the host reports some */
	assert_line(t,
		    "torvyn_component_fuel_consumed_total{flow_id=\"f1\",component_id=\"sink\"} 7");
	assert_null(
	    strstr(t, "torvyn_component_fuel_consumed_total{flow_id=\"f1\",component_id=\"src\"}"));
	assert_line(
	    t, "torvyn_component_memory_current_bytes{flow_id=\"f1\",component_id=\"src\"} 4096");
	assert_null(strstr(
	    t, "torvyn_component_memory_current_bytes{flow_id=\"f1\",component_id=\"sink\"}"));
	assert_line(
	    t, "torvyn_component_input_bytes_total{flow_id=\"f1\",component_id=\"sink\"} 640000");
	assert_line(
	    t, "torvyn_component_output_bytes_total{flow_id=\"f1\",component_id=\"src\"} 640000");
	assert_line(t, "torvyn_component_wakeups_total{flow_id=\"f1\",component_id=\"sink\"} 5000");
	assert_line(t, "torvyn_component_idle_time_seconds_total{flow_id=\"f1\",component_id="
		       "\"src\"} 1.500000000");
	assert_line(
	    t, "torvyn_component_idle_time_seconds_total{flow_id=\"f1\",component_id=\"sink\"} "
	       "0.000000042");

	assert_line(t, "torvyn_stream_elements_transferred_total{flow_id=\"f1\",stream_id=\"src->"
		       "sink\"} 10000");
	assert_line(
	    t, "torvyn_stream_elements_dropped_total{flow_id=\"f1\",stream_id=\"src->sink\"} 5");
	assert_line(
	    t, "torvyn_stream_backpressure_events_total{flow_id=\"f1\",stream_id=\"src->sink\"} 6");
	assert_line(t, "torvyn_stream_backpressure_duration_seconds_total{flow_id=\"f1\",stream_id="
		       "\"src->sink\"} 0.000007000");
	assert_line(t,
		    "torvyn_stream_queue_current_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 3");
	assert_line(t, "torvyn_stream_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_stream_queue_capacity{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_stream_queue_wait_time_seconds_sum{flow_id=\"f1\",stream_id=\"src->"
		       "sink\"} 10.000000000");
	assert_line(t, "torvyn_stream_queue_wait_time_seconds_count{flow_id=\"f1\",stream_id=\"src-"
		       ">sink\"} 6");

	assert_line(t, "torvyn_pool_capacity{tier=\"Small\"} 4096");
	assert_line(t, "torvyn_pool_capacity{tier=\"Huge\"} 64");
	assert_line(t, "torvyn_pool_available{tier=\"Medium\"} 1023");
	assert_line(t, "torvyn_pool_allocated_total{tier=\"Large\"} 1002");
	assert_line(t, "torvyn_pool_returned_total{tier=\"Small\"} 999");
	assert_line(t, "torvyn_pool_fallbacks_total{tier=\"Huge\"} 3");
	assert_line(t, "torvyn_pool_exhaustions_total{tier=\"Large\"} 20");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Small\"} 256");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Medium\"} 4096");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Large\"} 65536");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Huge\"} 1048576");

	assert_line(t, "torvyn_host_flows_active 1");
	assert_line(t, "torvyn_host_components_active 2");
	assert_line(t, "torvyn_host_memory_mapped_bytes 6291456");
	assert_line(t, "torvyn_host_scheduler_wakeups_total 5077");
	assert_line(t, "torvyn_host_scheduler_idle_time_seconds_total 2.500000000");
	assert_line(t, "torvyn_host_spans_dropped_total 11");
	free(t);
	free_snapshot(s);
}

/* Component order within a family: flow index, then component index. */
static void test_sample_order(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false);
	const char *src, *sink, *x1, *x7;

	(void)state;
	src = strstr(t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"}");
	sink =
	    strstr(t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"sink\"}");
	assert_non_null(src);
	assert_non_null(sink);
	assert_true(src < sink);
	/* transfers are sorted though given in hash order */
	x1 = strstr(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"sink\"}");
	x7 = strstr(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"7\"}");
	assert_non_null(x1);
	assert_non_null(x7);
	assert_true(x1 < x7);
	free(t);
	free_snapshot(s);
}

/* A running flow's duration is measured to now, on CLOCK_MONOTONIC as the host. */
static void test_active_duration_running(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	const char *key = "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} ";
	uint64_t before, after, secs, frac, got;
	char *t, *p, *end;

	(void)state;
	before = mono_ns();
	s->flows[0].blk.start_ns = before - 5000000000ULL;
	s->flows[0].blk.end_ns = 0;
	s->flows[0].blk.state = TORVYN_FLOW_RUNNING;
	t = render(s, false);
	after = mono_ns();
	p = strstr(t, key);
	assert_non_null(p);
	p += strlen(key);
	secs = strtoull(p, &end, 10);
	assert_int_equal(*end, '.');
	frac = strtoull(end + 1, &p, 10);
	assert_int_equal(p - end - 1, 9);
	got = secs * 1000000000ULL + frac;
	assert_true(got >= 5000000000ULL);
	assert_true(got <= after - s->flows[0].blk.start_ns);
	free(t);

	s->flows[0].blk.start_ns = 0; /* never ran */
	t = render(s, false);
	assert_line(t, "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} 0.000000000");
	free(t);
	free_snapshot(s);
}

static void test_diagnostic_lines(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false);

	(void)state;
	assert_line(
	    t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20001");
	assert_line(
	    t, "torvyn_diagnostic_invocation_errors_total{flow_id=\"f1\",component_id=\"src\"} 1");
	assert_line(t, "torvyn_diagnostic_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"1e-06\"} 20001");
	assert_line(t, "torvyn_diagnostic_processing_time_seconds_sum{flow_id=\"f1\","
		       "component_id=\"src\"} 0.002000050");
	/* sink has no diagnostic entry */
	assert_null(
	    strstr(t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"sink\"}"));
	/* only the reasons that happened */
	assert_line(t, "torvyn_diagnostic_copies_total{flow_id=\"f1\",component_id=\"src\","
		       "reason=\"PayloadRead\"} 5");
	assert_line(t, "torvyn_diagnostic_copied_bytes_total{flow_id=\"f1\",component_id=\"src\","
		       "reason=\"PayloadRead\"} 5120");
	assert_int_equal(count_substr(t, "torvyn_diagnostic_copies_total{"), 1);
	assert_int_equal(count_substr(t, "torvyn_diagnostic_copied_bytes_total{"), 1);
	/* transfers: names from the component blocks, index when absent */
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"sink\"} 19998");
	assert_line(t, "torvyn_diagnostic_transferred_bytes_total{flow_id=\"f1\","
		       "from_component=\"src\",to_component=\"sink\"} 1234567");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"7\"} 1");
	assert_line(
	    t,
	    "torvyn_diagnostic_queue_enqueues_total{flow_id=\"f1\",stream_id=\"src->sink\"} 10005");
	assert_line(
	    t,
	    "torvyn_diagnostic_queue_dequeues_total{flow_id=\"f1\",stream_id=\"src->sink\"} 10002");
	assert_line(t, "torvyn_diagnostic_queue_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 3");
	assert_line(
	    t, "torvyn_diagnostic_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_diagnostic_queue_wait_time_seconds_count{flow_id=\"f1\",stream_id="
		       "\"src->sink\"} 4");
	assert_line(t, "torvyn_diagnostic_backpressure_events_total{flow_id=\"f1\",stream_id=\"src-"
		       ">sink\"} 6");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_bucket{flow_id=\"f1\","
		       "stream_id=\"src->sink\",le=\"5e-07\"} 0");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_bucket{flow_id=\"f1\","
		       "stream_id=\"src->sink\",le=\"1e-06\"} 6");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_sum{flow_id=\"f1\","
		       "stream_id=\"src->sink\"} 0.000006000");
	assert_line(t, "torvyn_diagnostic_pool_allocations_total{tier=\"Small\"} 500");
	assert_line(t, "torvyn_diagnostic_pool_returns_total{tier=\"Medium\"} 401");
	assert_line(t, "torvyn_diagnostic_pool_fallbacks_total{tier=\"Large\"} 2");
	assert_line(t, "torvyn_diagnostic_pool_exhaustions_total{tier=\"Huge\"} 6");
	free(t);
	free_snapshot(s);
}

/* Diagnostic entries whose blocks were never received: names fall back. */
static void test_diagnostic_without_blocks(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	struct tvn_snap_flow *f = &s->flows[0];
	char *t;

	(void)state;
	f->present = false;
	f->comps[1].present = false;
	t = render(s, false);
	/* the flow's name comes from its component block */
	assert_line(
	    t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20001");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"1\"} 19998");
	assert_null(strstr(t, "torvyn_flow_"));
	free(t);

	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++)
		f->comps[i].present = false;
	f->streams[0].present = false;
	s->transfers[0].flow_idx = 9; /* beyond n_flows */
	t = render(s, false);
	assert_line(t,
		    "torvyn_diagnostic_invocations_total{flow_id=\"0\",component_id=\"0\"} 20001");
	assert_line(t, "torvyn_diagnostic_queue_depth{flow_id=\"0\",stream_id=\"0\"} 3");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"9\",from_component=\"0\","
		       "to_component=\"7\"} 1");
	assert_null(strstr(t, "torvyn_component_"));
	assert_null(strstr(t, "torvyn_stream_"));
	assert_valid(t, false);
	free(t);
	free_snapshot(s);
}

static void test_self_metrics(void **state)
{
	static const char *const probes[TVN_P_COUNT] = {
	    "abi__version",
	    "gate__production",
	    "gate__diagnostic",
	    "gate__drain",
	    "batch__drained",
	    "flow__start",
	    "flow__end",
	    "component__invoke",
	    "component__batch",
	    "buffer__copy",
	    "buffer__transfer",
	    "backpressure__activate",
	    "backpressure__deactivate",
	    "queue__enqueue",
	    "queue__dequeue",
	    "pool__alloc",
	    "pool__return",
	    "pool__fallback",
	    "pool__exhausted",
	    "metrics__flush",
	    "trace__promote",
	    "element__done",
	};
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);
	const char *prev = t;

	(void)state;
	assert_line(t, "torvyn_trace_level 2");
	assert_line(t, "torvyn_trace_target_up 1");
	assert_line(t, "torvyn_trace_probes_attached 17");
	assert_line(t, "torvyn_trace_events_lost_total 3");
	for (int i = 0; i < TVN_P_COUNT; i++) {
		char line[128];
		const char *at;

		snprintf(line, sizeof(line), "torvyn_trace_probe_hits_total{probe=\"%s\"} %d",
			 probes[i], 100 + i);
		assert_line(t, line);
		at = strstr(t, line);
		assert_true(at > prev); /* enum order */
		prev = at;
	}
	assert_int_equal(count_substr(t, "torvyn_trace_probe_hits_total{"), TVN_P_COUNT);
	assert_line(t, "torvyn_trace_map_update_failures_total 4");
	assert_line(t, "torvyn_trace_user_read_failures_total 5");
	assert_line(t, "torvyn_trace_blocks_received_total 600");
	assert_line(t, "torvyn_trace_traces_received_total 7");
	assert_line(t, "torvyn_trace_spans_dropped_total 8");
	assert_line(t, "torvyn_trace_level_switches_total 2");
	assert_line(t, "torvyn_trace_scrapes_total 9");
	assert_line(t, "torvyn_trace_start_time_seconds 1700000000.25");
	assert_line(t, "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1");
	assert_line(t, "# TYPE torvyn_trace_info gauge");
	assert_line(om, "# TYPE torvyn_trace info");
	assert_line(om, "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1");
	free(t);
	free(om);
	free_snapshot(s);
}

static void test_absent_families(void **state)
{
	struct tvn_snapshot s = {0};
	struct parsed *p = malloc(sizeof(*p));
	char *t;

	(void)state;
	assert_non_null(p);
	t = render(&s, false);
	assert_null(strstr(t, "torvyn_flow_"));
	assert_null(strstr(t, "torvyn_component_"));
	assert_null(strstr(t, "torvyn_stream_"));
	assert_null(strstr(t, "torvyn_pool_"));
	assert_null(strstr(t, "torvyn_host_"));
	assert_null(strstr(t, "torvyn_diagnostic_"));
	assert_int_equal(check_exposition(t, false, p), 0);
	assert_int_equal(p->n, N_SELF_FAMS); /* self-metrics always */
	assert_line(t, "torvyn_trace_level 0");
	free(t);

	/* blocks but no diagnostic data, no pool, no system */
	{
		struct tvn_snapshot *full = sample_snapshot();

		full->have_pool = full->have_sys = full->has_diag_pool = false;
		full->flows[0].comps[0].has_diag = false;
		full->flows[0].comps[0].diag_copies[TORVYN_COPY_PAYLOAD_READ].count = 0;
		full->flows[0].streams[0].has_diag = false;
		full->n_transfers = 0;
		t = render(full, false);
		assert_null(strstr(t, "torvyn_pool_"));
		assert_null(strstr(t, "torvyn_host_"));
		assert_null(strstr(t, "torvyn_diagnostic_"));
		assert_non_null(strstr(t, "# HELP torvyn_component_invocations_total "));
		free(t);
		/* a flow without component or stream blocks */
		memset(full->flows[0].comps, 0, sizeof(full->flows[0].comps));
		memset(full->flows[0].streams, 0, sizeof(full->flows[0].streams));
		t = render(full, true);
		assert_null(strstr(t, "torvyn_component_"));
		assert_null(strstr(t, "torvyn_stream_"));
		assert_non_null(strstr(t, "# TYPE torvyn_flow_elements counter\n"));
		free(t);
		free_snapshot(full);
	}
	free(p);
}

/* Every family of the catalogue, in order, typed as specified, in both formats. */
static void test_family_catalogue(void **state)
{
	struct tvn_snapshot *s = sample_snapshot();
	struct parsed *p = malloc(sizeof(*p));
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	assert_non_null(p);
	assert_int_equal(check_exposition(om, true, p), 0);
	assert_int_equal(p->n, n_want_fams);
	for (size_t i = 0; i < n_want_fams; i++) {
		const struct want_fam *w = &want_fams[i];

		assert_string_equal(p->f[i].name, w->name);
		assert_string_equal(p->f[i].type, w->type);
		assert_int_equal(p->f[i].unit, w->unit != NULL);
		if (w->unit)
			assert_linef(om, "# UNIT %s %s", w->name, w->unit);
	}
	assert_int_equal(check_exposition(t, false, p), 0);
	assert_int_equal(p->n, n_want_fams);
	for (size_t i = 0; i < n_want_fams; i++) {
		const struct want_fam *w = &want_fams[i];
		const char *type =
		    !strcmp(w->type, "stateset") || !strcmp(w->type, "info") ? "gauge" : w->type;
		char name[128];

		snprintf(name, sizeof(name), "%s%s", w->name,
			 !strcmp(w->type, "counter") ? "_total"
			 : !strcmp(w->type, "info")  ? "_info"
						     : "");
		assert_string_equal(p->f[i].name, name);
		assert_string_equal(p->f[i].type, type);
	}
	free(p);
	free(t);
	free(om);
	free_snapshot(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Writes the sample in both formats beside the test binary; returns the path. */
static void write_sample(const struct dirs *d, bool om, char *path, size_t n)
{
	struct tvn_snapshot *s = sample_snapshot();
	char *t = render(s, om);

	snprintf(path, n, "%s/prom-sample%s.txt", d->out, om ? ".om" : "");
	write_file(path, t);
	free(t);
	free_snapshot(s);
}

/* Runs cmd, returns its exit status and what it printed (caller frees). */
static int run_capture(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int st;

	assert_non_null(p);
	assert_non_null(buf);
	for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_promtool(void **state)
{
	char path[PATH_MAX + 32], cmd[2 * PATH_MAX], *out;
	int rc;

	write_sample(*state, true, path, sizeof(path));
	write_sample(*state, false, path, sizeof(path));
	if (access("/usr/bin/promtool", X_OK) != 0)
		skip();
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s' 2>&1", path);
	rc = run_capture(cmd, &out);
	if (rc != 0 || out[0])
		fail_msg("promtool check metrics %s: exit %d:\n%s", path, rc, out);
	free(out);
}

/* OpenMetrics has no promtool check; the reference Python parser is strict. */
static void test_openmetrics_parser(void **state)
{
	static const char script[] =
	    "import sys\n"
	    "from prometheus_client.openmetrics.parser import text_string_to_metric_families\n"
	    "fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))\n"
	    "if len(fams) != int(sys.argv[2]): sys.exit('%d families' % len(fams))\n";
	char path[PATH_MAX + 32], spath[PATH_MAX + 32], cmd[3 * PATH_MAX], *out;
	int rc;

	write_sample(*state, true, path, sizeof(path));
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' "
		   ">/dev/null 2>&1") != 0)
		skip(); /* Debian package python3-prometheus-client */
	snprintf(spath, sizeof(spath), "%s/prom-om-check.py", ((const struct dirs *)*state)->out);
	write_file(spath, script);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s' %zu 2>&1", spath, path, n_want_fams);
	rc = run_capture(cmd, &out);
	if (rc != 0 || out[0])
		fail_msg("OpenMetrics parser on %s: exit %d:\n%s", path, rc, out);
	free(out);
}

int main(int argc, char **argv)
{
	struct dirs dirs = {"build/tests", "."};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_block_lines),
	    cmocka_unit_test(test_sample_order),
	    cmocka_unit_test(test_active_duration_running),
	    cmocka_unit_test(test_diagnostic_lines),
	    cmocka_unit_test(test_diagnostic_without_blocks),
	    cmocka_unit_test(test_self_metrics),
	    cmocka_unit_test(test_absent_families),
	    cmocka_unit_test(test_family_catalogue),
	    cmocka_unit_test_prestate(test_promtool, &dirs),
	    cmocka_unit_test_prestate(test_openmetrics_parser, &dirs),
	};

	(void)argc;
	find_dirs(argv[0], &dirs);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
