// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for one OTLP exporter serving many resources (traced hosts):
 * spans of several hosts in one batch come out as one ResourceSpans per host
 * in the order of their first span, metrics of several hosts as one request
 * with one ResourceMetrics each, dropped hosts and unknown ids, batch and
 * queue limits that count spans whatever their host. Requests go to the
 * receiver of otlp_rx.c as protobuf (decoded here with protobuf-c) and to a
 * file as OTLP/JSON; both go through the independent decoder too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "exporter.h"
#include "otlp.h"
#include "otlp_fixture.h"
#include "otlp_rx.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef Opentelemetry__Proto__Common__V1__KeyValue pb_keyvalue;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_req;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_req;

#define START_NS 1699999990000000000ULL
#define NOW_NS 1700000015000000000ULL

static struct otlp_dirs dirs = {"build/tests", "."};

/* ------------------------------------------------------------ hosts and their spans */

/* Resource 0 is given to tvn_exporter__new, the others are added in this order. */
#define N_HOSTS 3
static struct tvn_otlp_resource hosts[N_HOSTS];

static void mk_res(struct tvn_otlp_resource *r, const char *service, int64_t pid)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->service_name, sizeof(r->service_name), "%s", service);
	snprintf(r->service_instance_id, sizeof(r->service_instance_id), "inst-%s", service);
	snprintf(r->host_name, sizeof(r->host_name), "node-1");
	r->pid = pid;
	snprintf(r->executable_name, sizeof(r->executable_name), "torvyn-host");
}

static int setup_hosts(void **state)
{
	(void)state;
	mk_res(&hosts[0], "svc-a", 101);
	mk_res(&hosts[1], "svc-b", 202);
	mk_res(&hosts[2], "svc-c", 303);
	return 0;
}

/* The host of each span, interleaved: host 1 comes first, then 0, then 2. */
static const int span_host[] = {1, 0, 2, 1, 1, 0, 2, 2, 0, 1};
#define N_SPANS ARRAY_SIZE(span_host)

/* Span i, named after the service of res ("svc-b:span-3"), as the decoder expects. */
static void mk_span(struct tvn_otlp_span *s, size_t i, const struct tvn_otlp_resource *res)
{
	memset(s, 0, sizeof(*s));
	s->trace_id[0] = 1;
	s->trace_id[15] = (uint8_t)i;
	s->span_id[0] = 2;
	s->span_id[7] = (uint8_t)i;
	s->flags = 1;
	snprintf(s->name, sizeof(s->name), "%.16s:span-%zu", res->service_name, i);
	s->kind = OTLP_SPAN_KIND_INTERNAL;
	s->start_unix_ns = 1700000000000000000ull + i * 1000;
	s->end_unix_ns = s->start_unix_ns + 500;
}

/* The spans of span_host, each span's resource into res_of. */
static void mk_host_spans(struct tvn_otlp_span sp[N_SPANS],
			  const struct tvn_otlp_resource *res_of[N_SPANS])
{
	for (size_t i = 0; i < N_SPANS; i++) {
		res_of[i] = &hosts[span_host[i]];
		mk_span(&sp[i], i, res_of[i]);
	}
}

/* An exporter with the N_HOSTS hosts, host h with id h. */
static struct tvn_exporter *new_hosts(const struct tvn_exporter_opts *o)
{
	char err[256] = "";
	struct tvn_exporter *e = tvn_exporter__new(o, &hosts[0], err, sizeof(err));

	if (!e)
		fail_msg("tvn_exporter__new: %s", err);
	for (int h = 1; h < N_HOSTS; h++)
		assert_int_equal(tvn_exporter__add_resource(e, &hosts[h]), h);
	return e;
}

/*
 * Each test's receiver, the options that send to it, a file for OTLP/JSON
 * lines, and the spans of span_host.
 */
struct fx {
	struct rx *rx;
	char url[64];
	struct tvn_exporter_opts o;
	char path[32];
	struct tvn_otlp_span sp[N_SPANS];
	const struct tvn_otlp_resource *res_of[N_SPANS];
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	int fd;

	assert_non_null(fx);
	fx->rx = rx_start();
	fx->o = base_opts(fx->rx, fx->url, sizeof(fx->url));
	snprintf(fx->path, sizeof(fx->path), "/tmp/test_exporter_many_XXXXXX");
	fd = mkstemp(fx->path);
	assert_true(fd >= 0);
	close(fd);
	mk_host_spans(fx->sp, fx->res_of);
	*state = fx;
	return 0;
}

/* Spans [from, to) of span_host, each to its host. */
static void add_host_spans(struct tvn_exporter *e, const struct fx *fx, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		tvn_exporter__add_span_to(e, span_host[i], &fx->sp[i]);
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	rx_stop(fx->rx);
	unlink(fx->path);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------ decoding */

static const pb_keyvalue *find_kv(pb_keyvalue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i];
	fail_msg("no attribute %s", key);
	return NULL;
}

static const char *kv_str(pb_keyvalue **kv, size_t n, const char *key)
{
	return find_kv(kv, n, key)->value->string_value;
}

/* The named attributes of r are those of want. */
static void assert_resource(const pb_resource *r, const struct tvn_otlp_resource *want)
{
	assert_non_null(r);
	assert_string_equal(kv_str(r->attributes, r->n_attributes, "service.name"),
			    want->service_name);
	assert_string_equal(kv_str(r->attributes, r->n_attributes, "service.instance.id"),
			    want->service_instance_id);
	assert_string_equal(kv_str(r->attributes, r->n_attributes, "host.name"), want->host_name);
	assert_string_equal(kv_str(r->attributes, r->n_attributes, "process.executable.name"),
			    want->executable_name);
	assert_int_equal(find_kv(r->attributes, r->n_attributes, "process.pid")->value->int_value,
			 want->pid);
}

/*
 * The trace request body holds spans sp[from, to): one ResourceSpans per
 * resource (res_of[i] is span i's), in the order of their first span, each
 * with exactly its spans in their order.
 */
static void assert_grouped(const uint8_t *body, size_t len, const struct tvn_otlp_span *sp,
			   const struct tvn_otlp_resource *const *res_of, size_t from, size_t to)
{
	const struct tvn_otlp_resource *order[N_SPANS + 2];
	size_t n_groups = 0, k;
	pb_trace_req *req;

	for (size_t i = from; i < to; i++) {
		for (k = 0; k < n_groups && order[k] != res_of[i]; k++)
			;
		if (k == n_groups)
			order[n_groups++] = res_of[i];
	}
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, body);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, n_groups);
	for (size_t g = 0; g < n_groups; g++) {
		pb_scope_spans *ss;
		size_t n = 0;

		assert_resource(req->resource_spans[g]->resource, order[g]);
		assert_int_equal(req->resource_spans[g]->n_scope_spans, 1);
		ss = req->resource_spans[g]->scope_spans[0];
		for (size_t i = from; i < to; i++) {
			if (res_of[i] != order[g])
				continue;
			assert_true(n < ss->n_spans);
			assert_string_equal(ss->spans[n]->name, sp[i].name);
			assert_memory_equal(ss->spans[n]->span_id.data, sp[i].span_id, 8);
			n++;
		}
		assert_int_equal(ss->n_spans, n);
	}
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

/*
 * Request 0 of the receiver and the one line of the exporter's JSON file as
 * the decoder's samples stem.pb and stem.json.
 */
static void save_samples(const struct fx *fx, const char *stem)
{
	char *buf = calloc(1, 1 << 20), name[64];
	FILE *f = fopen(fx->path, "r");
	size_t len;

	assert_non_null(buf);
	assert_non_null(f);
	len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 1);
	assert_int_equal(buf[len - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	snprintf(name, sizeof(name), "%s.json", stem);
	otlp_dirs__write(&dirs, name, buf, len - 1);
	snprintf(name, sizeof(name), "%s.pb", stem);
	otlp_dirs__write(&dirs, name, fx->rx->reqs[0].body, fx->rx->reqs[0].len);
	free(buf);
}

/* ------------------------------------------------------------ traces */

static void test_spans_of_three_hosts(void **state)
{
	struct fx *fx = *state;
	struct rx *rx = fx->rx;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;

	fx->o.file_path = fx->path; /* the same request as OTLP/JSON */
	e = new_hosts(&fx->o);
	add_host_spans(e, fx, 0, N_SPANS);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == N_SPANS, 5000));
	st = stats(e);
	assert_int_equal(st.spans_queued, N_SPANS);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(rx_count(rx), 1);
	assert_string_equal(rx->reqs[0].path, "/v1/traces");
	assert_grouped(rx->reqs[0].body, rx->reqs[0].len, fx->sp, fx->res_of, 0, N_SPANS);
	tvn_exporter__free(e, 1000);
	save_samples(fx, "otlp-many");
	otlp_dirs__decode(&dirs, "--traces otlp-many --spans 10 --resource-spans svc-b=4 "
				 "--resource-spans svc-a=3 --resource-spans svc-c=3");
}

/*
 * A dropped host's spans still go out under it; its id is given again only
 * once its batch has left; spans added to it after the drop are dropped.
 */
static void test_drop_host(void **state)
{
	struct tvn_otlp_resource d, f;
	const struct tvn_otlp_resource *res_of[4] = {&hosts[2], &d, &f, NULL};
	struct tvn_otlp_span sp[4];
	struct fx *fx = *state;
	struct rx *rx = fx->rx;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;

	mk_res(&d, "svc-d", 404);
	mk_res(&f, "svc-f", 606);
	for (size_t i = 0; i < 3; i++)
		mk_span(&sp[i], i, res_of[i]);
	mk_span(&sp[3], 3, &hosts[2]);
	e = new_hosts(&fx->o);
	tvn_exporter__add_span_to(e, 2, &sp[0]);
	tvn_exporter__drop_resource(e, 2);
	tvn_exporter__add_span_to(e, 2, &sp[3]); /* too late: dropped */
	/* slot 2 still names the batch's span: D gets 3 */
	assert_int_equal(tvn_exporter__add_resource(e, &d), 3);
	tvn_exporter__add_span_to(e, 3, &sp[1]);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 2, 5000));
	assert_grouped(rx->reqs[0].body, rx->reqs[0].len, sp, res_of, 0, 2);

	/* the batch left: slot 2 is free */
	assert_int_equal(tvn_exporter__add_resource(e, &f), 2);
	tvn_exporter__add_span_to(e, 2, &sp[2]);
	tvn_exporter__drop_resource(e, 2);
	tvn_exporter__drop_resource(e, 2);
	tvn_exporter__drop_resource(e, -1);
	tvn_exporter__drop_resource(e, 99);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 3, 5000));
	assert_int_equal(rx_count(rx), 2);
	assert_grouped(rx->reqs[1].body, rx->reqs[1].len, sp, res_of, 2, 3);
	st = stats(e);
	assert_int_equal(st.spans_queued, 4);
	assert_int_equal(st.spans_dropped, 1);
	assert_int_equal(st.requests_failed, 0);
	tvn_exporter__free(e, 1000);
}

/* Batches of 4 spans whatever their host; a full queue drops its oldest batch. */
static void test_limits_count_spans(void **state)
{
	struct fx *fx = *state;
	struct rx *rx = fx->rx;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;

	rx->stall = 0;
	fx->o.batch_max_spans = 4;
	fx->o.queue_max_batches = 1;
	e = new_hosts(&fx->o);
	add_host_spans(e, fx, 0, 4); /* batch 1: the sender takes it, the receiver stalls */
	assert_true(WAIT_FOR(rx_count(rx) == 1, 5000));
	add_host_spans(e, fx, 4, N_SPANS); /* batch 2 waits; 8 and 9 in the current one */
	tvn_exporter__flush(e);		   /* batch 3 pushes batch 2 out */
	st = stats(e);
	assert_int_equal(st.spans_queued, N_SPANS);
	assert_int_equal(st.spans_dropped, 4);
	rx_release(rx);
	assert_true(WAIT_FOR(stats(e).spans_exported == 6, 5000));
	assert_int_equal(rx_count(rx), 2);
	assert_grouped(rx->reqs[0].body, rx->reqs[0].len, fx->sp, fx->res_of, 0, 4);
	assert_grouped(rx->reqs[1].body, rx->reqs[1].len, fx->sp, fx->res_of, 8, 10);
	assert_int_equal(stats(e).spans_dropped, 4);
	tvn_exporter__free(e, 1000);
}

/* ------------------------------------------------------------ metrics */

/* Host h's snapshot: one flow "f-<h>" with elements elements, probes attached. */
static void mk_snap(struct tvn_snapshot *s, struct tvn_snap_flow *flow, int h, uint64_t elements,
		    int probes)
{
	memset(s, 0, sizeof(*s));
	memset(flow, 0, sizeof(*flow));
	s->level = 1;
	s->target_up = 1;
	s->target_pid = (int)hosts[h].pid;
	s->probes_attached = probes;
	s->n_flows = 1;
	s->flows = flow;
	flow->present = true;
	snprintf(flow->blk.hdr.flow_name, sizeof(flow->blk.hdr.flow_name), "f-%d", h);
	snprintf(flow->blk.hdr.name, sizeof(flow->blk.hdr.name), "f-%d", h);
	flow->blk.elements_total = elements;
}

/* The first point of the Sum or Gauge name of sm. */
static const pb_number_point *point(const pb_scope_metrics *sm, const char *name)
{
	for (size_t i = 0; i < sm->n_metrics; i++) {
		if (strcmp(sm->metrics[i]->name, name))
			continue;
		if (sm->metrics[i]->sum)
			return sm->metrics[i]->sum->data_points[0];
		return sm->metrics[i]->gauge->data_points[0];
	}
	fail_msg("no metric %s", name);
	return NULL;
}

/* ResourceMetrics i of req is host h's, with its snapshot's values. */
static void assert_host_metrics(const pb_metrics_req *req, size_t i, int h, int64_t elements,
				int64_t probes)
{
	const pb_scope_metrics *sm;
	const pb_number_point *p;
	char flow[16], pid[16];

	assert_resource(req->resource_metrics[i]->resource, &hosts[h]);
	assert_int_equal(req->resource_metrics[i]->n_scope_metrics, 1);
	sm = req->resource_metrics[i]->scope_metrics[0];
	snprintf(flow, sizeof(flow), "f-%d", h);
	snprintf(pid, sizeof(pid), "%d", (int)hosts[h].pid);
	p = point(sm, "torvyn.flow.elements");
	assert_int_equal(p->as_int, elements);
	assert_true(p->start_time_unix_nano == START_NS);
	assert_true(p->time_unix_nano == NOW_NS);
	assert_string_equal(kv_str(p->attributes, p->n_attributes, "flow_id"), flow);
	assert_int_equal(point(sm, "torvyn.trace.probes.attached")->as_int, probes);
	p = point(sm, "torvyn.trace.info");
	assert_string_equal(kv_str(p->attributes, p->n_attributes, "pid"), pid);
}

static void test_metrics_of_two_hosts(void **state)
{
	struct tvn_snapshot sa, sc;
	struct tvn_snap_flow fa, fc;
	const struct tvn_snapshot *snaps[] = {&sc, &sa};
	const int ids[] = {2, 0};
	struct fx *fx = *state;
	struct rx *rx = fx->rx;
	struct tvn_exporter *e;
	pb_metrics_req *req;

	mk_snap(&sa, &fa, 0, 42, 11);
	mk_snap(&sc, &fc, 2, 7, 33);
	fx->o.file_path = fx->path;
	e = new_hosts(&fx->o);
	tvn_exporter__push_metrics_many(e, ids, snaps, 2, START_NS, NOW_NS);
	assert_true(WAIT_FOR(stats(e).metric_requests_sent == 1, 5000));
	assert_int_equal(rx_count(rx), 1);
	assert_string_equal(rx->reqs[0].path, "/v1/metrics");
	req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
	    NULL, rx->reqs[0].len, rx->reqs[0].body);
	assert_non_null(req);
	assert_int_equal(req->n_resource_metrics, 2);
	assert_host_metrics(req, 0, 2, 7, 33);
	assert_host_metrics(req, 1, 0, 42, 11);
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
	    req, NULL);
	assert_int_equal(stats(e).metric_requests_failed, 0);
	tvn_exporter__free(e, 1000);
	save_samples(fx, "otlp-many-metrics");
	otlp_dirs__decode(&dirs, "--metrics otlp-many-metrics "
				 "--resource-metric svc-c:torvyn.flow.elements=7 "
				 "--resource-metric svc-c:torvyn.trace.probes.attached=33 "
				 "--resource-metric svc-a:torvyn.flow.elements=42 "
				 "--resource-metric svc-a:torvyn.trace.probes.attached=11");
}

/* ------------------------------------------------------------ unknown ids */

static void test_unknown_ids(void **state)
{
	struct tvn_snapshot s;
	struct tvn_snap_flow fl;
	const struct tvn_snapshot *snaps[] = {&s, &s};
	const int ids[] = {0, 7};
	struct tvn_otlp_span sp;
	struct fx *fx = *state;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;

	mk_snap(&s, &fl, 0, 1, 1);
	mk_span(&sp, 0, &hosts[0]);
	e = new_hosts(&fx->o);
	assert_int_equal(tvn_exporter__add_resource(NULL, &hosts[0]), -EINVAL);
	assert_int_equal(tvn_exporter__add_resource(e, NULL), -EINVAL);
	tvn_exporter__add_span_to(e, N_HOSTS, &sp);
	tvn_exporter__add_span_to(e, -1, &sp);
	tvn_exporter__push_metrics_many(e, ids, snaps, 2, START_NS, NOW_NS);
	tvn_exporter__push_metrics_many(e, ids, snaps, 0, START_NS, NOW_NS); /* nothing */
	tvn_exporter__flush(e);
	st = stats(e);
	assert_int_equal(st.spans_queued, 2);
	assert_int_equal(st.spans_dropped, 2);
	assert_int_equal(st.metric_requests_failed, 1);
	assert_int_equal(st.requests_failed, 1);
	tvn_exporter__free(e, 1000);
	assert_int_equal(rx_count(fx->rx), 0);
	tvn_exporter__drop_resource(NULL, 0);
	tvn_exporter__add_span_to(NULL, 0, &sp);
	tvn_exporter__push_metrics_many(NULL, ids, snaps, 1, 0, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_spans_of_three_hosts, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_drop_host, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_limits_count_spans, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_of_two_hosts, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_ids, fx_setup, fx_teardown),
	};

	(void)argc;
	otlp_dirs__find(&dirs, argv[0]);
	return cmocka_run_group_tests(tests, setup_hosts, NULL);
}
