// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for the OTLP encoders (user/trace/render/otlp_*.c): protobuf, JSON, responses. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "metric_model.h"
#include "otlp.h"
#include "otlp_fixture.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef Opentelemetry__Proto__Common__V1__KeyValue pb_keyvalue;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_req;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;

#define STR_CASE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define INT_CASE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define DBL_CASE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define BOOL_CASE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define SUM_CASE OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM
#define GAUGE_CASE OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE
#define HIST_CASE OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
#define AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE

static struct otlp_dirs dirs = {"build/tests", "."};

#define T0 1700000000000000000ULL	/* span times, Unix ns */
#define START_NS 1699999990000000000ULL /* metrics start */
#define NOW_NS 1700000015000000000ULL

/* ------------------------------------------------------------ fixtures */

static void fill_resource(struct tvn_otlp_resource *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->service_name, "svc-test");
	strcpy(r->service_instance_id, "inst-1");
	strcpy(r->host_name, "host-a");
	r->pid = 4242;
	strcpy(r->executable_name, "torvyn-host");
	strcpy(r->extra[0].key, "deployment.environment");
	r->extra[0].type = OTLP_STR;
	strcpy(r->extra[0].str, "test");
	/* a repeat of a key set above: must not appear twice */
	strcpy(r->extra[1].key, "service.name");
	r->extra[1].type = OTLP_STR;
	strcpy(r->extra[1].str, "ignored");
	r->n_extra = 2;
}

static const uint8_t trace_id[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				     0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const uint8_t root_id[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
static const uint8_t child_id[8] = {0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18};
static const uint8_t bp_id[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

/* A root flow span, a failed invocation under it, a backpressure span. */
static void fill_spans(struct tvn_otlp_span sp[3])
{
	memset(sp, 0, 3 * sizeof(*sp));

	memcpy(sp[0].trace_id, trace_id, 16);
	memcpy(sp[0].span_id, root_id, 8);
	sp[0].flags = 1;
	strcpy(sp[0].name, "flow:f1");
	sp[0].kind = OTLP_SPAN_KIND_SERVER;
	sp[0].start_unix_ns = T0;
	sp[0].end_unix_ns = T0 + 2500000;
	tvn_otlp_span__attr_str(&sp[0], "torvyn.flow_id", "f1");
	tvn_otlp_span__attr_int(&sp[0], "torvyn.element.seq", 7);

	memcpy(sp[1].trace_id, trace_id, 16);
	memcpy(sp[1].span_id, child_id, 8);
	memcpy(sp[1].parent_span_id, root_id, 8);
	sp[1].flags = 1;
	strcpy(sp[1].name, "component:src:invoke:7");
	sp[1].kind = OTLP_SPAN_KIND_INTERNAL;
	sp[1].start_unix_ns = T0 + 100000;
	sp[1].end_unix_ns = T0 + 1100000;
	sp[1].status_code = OTLP_STATUS_ERROR;
	strcpy(sp[1].status_message, "invalid-input");
	tvn_otlp_span__attr_str(&sp[1], "torvyn.component_id", "src");
	tvn_otlp_span__attr_int(&sp[1], "torvyn.bytes", -512);
	sp[1].attrs[2] =
	    (struct tvn_otlp_kv){.key = "torvyn.ratio", .type = OTLP_DOUBLE, .d = 0.25};
	sp[1].attrs[3] = (struct tvn_otlp_kv){.key = "torvyn.retried", .type = OTLP_BOOL, .i = 1};
	sp[1].n_attrs = 4;

	memcpy(sp[2].trace_id, trace_id, 16);
	memcpy(sp[2].span_id, bp_id, 8);
	memcpy(sp[2].parent_span_id, root_id, 8);
	sp[2].flags = 3;
	strcpy(sp[2].name, "backpressure:src->sink");
	sp[2].kind = OTLP_SPAN_KIND_CONSUMER;
	sp[2].start_unix_ns = T0 + 1200000;
	sp[2].end_unix_ns = T0 + 2000000;
	sp[2].status_code = OTLP_STATUS_OK;
}

static void set_name(struct torvyn_block_hdr *h, const char *flow, const char *name)
{
	strncpy(h->flow_name, flow, sizeof(h->flow_name));
	strncpy(h->name, name, sizeof(h->name));
}

/*
 * Flow 0 "f1" (ended: active 2.5 s) with component 0 "src" and stream 0
 * "src->sink", flow 1 absent; pool, system, diagnostic aggregates and one
 * transfer, so that every family of docs/metrics.md has a point.
 */
static void fill_snapshot(struct tvn_snapshot *s)
{
	struct tvn_snap_flow *f;
	struct torvyn_hist_lat *h;

	memset(s, 0, sizeof(*s));
	s->level = TORVYN_LEVEL_DIAGNOSTIC;
	s->target_up = 1;
	s->target_pid = 4242;
	strcpy(s->target_exe, "/usr/bin/torvyn-host");
	s->probes_attached = 17;
	s->events_lost = 2;
	s->probe_hits[TVN_P_COMPONENT_INVOKE] = 99;
	s->blocks_received = 1000;
	s->scrapes = 4;
	s->start_time = 1699999990.5;

	s->n_flows = 2;
	s->flows = calloc(2, sizeof(*s->flows));
	assert_non_null(s->flows);
	f = &s->flows[0];
	f->present = true;
	set_name(&f->blk.hdr, "f1", "f1");
	f->blk.elements_total = 42;
	f->blk.elements_errors = 3;
	for (int r = 0; r < TORVYN_COPY_REASONS; r++)
		f->blk.copies_total[r] = (__u64)r + 1;
	f->blk.state = TORVYN_FLOW_COMPLETED;
	f->blk.start_ns = 1000000000;
	f->blk.end_ns = 3500000000;
	f->blk.promoted_total[TORVYN_PROMOTE_ERROR] = 3;
	h = &f->blk.latency; /* 100 ns, 800 ns, 900 ns, 9 s, 11 s */
	h->bucket[0] = 1;
	h->bucket[3] = 2;
	h->bucket[24] = 1;
	h->bucket[25] = 1;
	h->count = 5;
	h->sum_ns = 20000001800ULL;

	f->comps[0].present = true;
	set_name(&f->comps[0].blk.hdr, "f1", "src");
	f->comps[0].blk.invocations = 10;
	f->comps[0].blk.idle_ns = 1500000000;
	f->comps[0].blk.fuel_consumed = 3;
	f->comps[0].blk.memory_current = 4096;
	f->comps[0].blk.processing_time.bucket[5] = 10;
	f->comps[0].blk.processing_time.count = 10;
	f->comps[0].blk.processing_time.sum_ns = 40000;
	f->comps[0].has_diag = true;
	f->comps[0].diag.invocations = 9;
	f->comps[0].diag_copies[TORVYN_COPY_PAYLOAD_READ].count = 2;
	f->comps[0].diag_copies[TORVYN_COPY_PAYLOAD_READ].bytes = 128;

	f->streams[0].present = true;
	set_name(&f->streams[0].blk.hdr, "f1", "src->sink");
	f->streams[0].blk.capacity = 64;
	f->streams[0].blk.elements_transferred = 8;
	f->streams[0].blk.backpressure_duration_ns = 1500;
	/* read mid-update: count one behind its buckets */
	f->streams[0].blk.wait_time.bucket[1] = 3;
	f->streams[0].blk.wait_time.count = 2;
	f->streams[0].blk.wait_time.sum_ns = 600;
	f->streams[0].has_diag = true;
	f->streams[0].diag.enqueues = 8;

	s->have_pool = true;
	s->pool.tier[TORVYN_TIER_SMALL].capacity = 4096;
	s->pool.tier[TORVYN_TIER_SMALL].buffer_size = 256;
	s->have_sys = true;
	s->sys.flows_active = 1;
	s->sys.scheduler_idle_ns = 777;
	s->has_diag_pool = true;
	s->diag_pool[TORVYN_TIER_SMALL].allocs = 5;

	s->n_transfers = 1;
	s->transfers = calloc(1, sizeof(*s->transfers));
	assert_non_null(s->transfers);
	s->transfers[0] = (struct tvn_snap_transfer){0, 0, 1, {5, 100}};
}

static void free_snapshot(struct tvn_snapshot *s)
{
	free(s->flows);
	free(s->transfers);
}

/* ------------------------------------------------------------ protobuf helpers */

static const pb_keyvalue *find_kv(pb_keyvalue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i];
	return NULL;
}

static void assert_kv_str(pb_keyvalue **kv, size_t n, const char *key, const char *want)
{
	const pb_keyvalue *x = find_kv(kv, n, key);

	if (!x)
		fail_msg("no attribute %s", key);
	assert_int_equal(x->value->value_case, STR_CASE);
	assert_string_equal(x->value->string_value, want);
}

static const pb_metric *find_metric(const pb_metrics_req *req, const char *name)
{
	const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
	    req->resource_metrics[0]->scope_metrics[0];

	for (size_t i = 0; i < sm->n_metrics; i++)
		if (!strcmp(sm->metrics[i]->name, name))
			return sm->metrics[i];
	return NULL;
}

static const pb_metric *get_metric(const pb_metrics_req *req, const char *name)
{
	const pb_metric *m = find_metric(req, name);

	if (!m)
		fail_msg("no metric %s", name);
	return m;
}

static pb_metrics_req *encode_metrics(const struct tvn_snapshot *s)
{
	struct tvn_otlp_resource res;
	pb_metrics_req *req;
	uint8_t *buf;
	size_t len;

	fill_resource(&res);
	assert_int_equal(tvn_otlp__encode_metrics_pb(&res, s, START_NS, NOW_NS, &buf, &len), 0);
	req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
	    NULL, len, buf);
	free(buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_metrics, 1);
	assert_int_equal(req->resource_metrics[0]->n_scope_metrics, 1);
	return req;
}

static void free_metrics(pb_metrics_req *req)
{
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
	    req, NULL);
}

/* ------------------------------------------------------------ traces */

static void check_resource(const Opentelemetry__Proto__Resource__V1__Resource *r)
{
	static const char *const keys[] = {
	    "service.name",
	    "service.instance.id",
	    "host.name",
	    "process.pid",
	    "process.executable.name",
	    "telemetry.sdk.name",
	    "telemetry.sdk.language",
	    "telemetry.sdk.version",
	    "deployment.environment",
	};
	const pb_keyvalue *pid;

	assert_non_null(r);
	assert_int_equal(r->n_attributes, ARRAY_SIZE(keys));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		assert_string_equal(r->attributes[i]->key, keys[i]);
	assert_kv_str(r->attributes, r->n_attributes, "service.name", "svc-test");
	assert_kv_str(r->attributes, r->n_attributes, "service.instance.id", "inst-1");
	assert_kv_str(r->attributes, r->n_attributes, "host.name", "host-a");
	pid = find_kv(r->attributes, r->n_attributes, "process.pid");
	assert_int_equal(pid->value->value_case, INT_CASE);
	assert_int_equal(pid->value->int_value, 4242);
	assert_kv_str(r->attributes, r->n_attributes, "process.executable.name", "torvyn-host");
	assert_kv_str(r->attributes, r->n_attributes, "telemetry.sdk.name", OTLP_SDK_NAME);
	assert_kv_str(r->attributes, r->n_attributes, "telemetry.sdk.language", "c");
	assert_kv_str(r->attributes, r->n_attributes, "telemetry.sdk.version", OTLP_SDK_VERSION);
	assert_kv_str(r->attributes, r->n_attributes, "deployment.environment", "test");
}

static void test_traces_pb(void **state)
{
	struct tvn_otlp_resource res;
	struct tvn_otlp_span sp[3];
	pb_trace_req *req;
	Opentelemetry__Proto__Trace__V1__ScopeSpans *ss;
	pb_span *s;
	uint8_t *buf;
	size_t len;

	(void)state;
	fill_resource(&res);
	fill_spans(sp);
	assert_int_equal(tvn_otlp__encode_traces_pb(&res, sp, 3, &buf, &len), 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, buf);
	free(buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 1);
	check_resource(req->resource_spans[0]->resource);
	assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
	ss = req->resource_spans[0]->scope_spans[0];
	assert_string_equal(ss->scope->name, OTLP_SCOPE_NAME);
	assert_string_equal(ss->scope->version, OTLP_SDK_VERSION);
	assert_int_equal(ss->n_spans, 3);

	/* root */
	s = ss->spans[0];
	assert_int_equal(s->trace_id.len, 16);
	assert_memory_equal(s->trace_id.data, trace_id, 16);
	assert_int_equal(s->span_id.len, 8);
	assert_memory_equal(s->span_id.data, root_id, 8);
	assert_int_equal(s->parent_span_id.len, 0);
	assert_int_equal(s->flags, 1);
	assert_string_equal(s->name, "flow:f1");
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_true(s->start_time_unix_nano == T0);
	assert_true(s->end_time_unix_nano == T0 + 2500000);
	assert_null(s->status);
	assert_int_equal(s->n_attributes, 2);
	assert_string_equal(s->attributes[0]->key, "torvyn.flow_id");
	assert_string_equal(s->attributes[0]->value->string_value, "f1");
	assert_string_equal(s->attributes[1]->key, "torvyn.element.seq");
	assert_int_equal(s->attributes[1]->value->value_case, INT_CASE);
	assert_int_equal(s->attributes[1]->value->int_value, 7);

	/* the failed invocation */
	s = ss->spans[1];
	assert_memory_equal(s->trace_id.data, trace_id, 16);
	assert_memory_equal(s->span_id.data, child_id, 8);
	assert_int_equal(s->parent_span_id.len, 8);
	assert_memory_equal(s->parent_span_id.data, root_id, 8);
	assert_int_equal(s->flags, 1);
	assert_string_equal(s->name, "component:src:invoke:7");
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
	assert_true(s->start_time_unix_nano == T0 + 100000);
	assert_true(s->end_time_unix_nano == T0 + 1100000);
	assert_non_null(s->status);
	assert_int_equal(s->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_string_equal(s->status->message, "invalid-input");
	assert_int_equal(s->n_attributes, 4);
	assert_string_equal(s->attributes[0]->key, "torvyn.component_id");
	assert_int_equal(s->attributes[0]->value->value_case, STR_CASE);
	assert_string_equal(s->attributes[0]->value->string_value, "src");
	assert_int_equal(s->attributes[1]->value->value_case, INT_CASE);
	assert_int_equal(s->attributes[1]->value->int_value, -512);
	assert_string_equal(s->attributes[2]->key, "torvyn.ratio");
	assert_int_equal(s->attributes[2]->value->value_case, DBL_CASE);
	assert_true(s->attributes[2]->value->double_value == 0.25);
	assert_string_equal(s->attributes[3]->key, "torvyn.retried");
	assert_int_equal(s->attributes[3]->value->value_case, BOOL_CASE);
	assert_true(s->attributes[3]->value->bool_value);

	/* backpressure */
	s = ss->spans[2];
	assert_memory_equal(s->span_id.data, bp_id, 8);
	assert_memory_equal(s->parent_span_id.data, root_id, 8);
	assert_int_equal(s->flags, 3);
	assert_int_equal(s->kind,
			 OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CONSUMER);
	assert_non_null(s->status);
	assert_int_equal(s->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK);
	assert_string_equal(s->status->message, "");
	assert_int_equal(s->n_attributes, 0);

	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);
}

/* The whole document, byte for byte. */
static const char want_traces_json[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-test\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"inst-1\"}},"
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"host-a\"}},"
    "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"4242\"}},"
    "{\"key\":\"process.executable.name\",\"value\":{\"stringValue\":\"torvyn-host\"}},"
    "{\"key\":\"telemetry.sdk.name\",\"value\":{\"stringValue\":\"torvyn-trace\"}},"
    "{\"key\":\"telemetry.sdk.language\",\"value\":{\"stringValue\":\"c\"}},"
    "{\"key\":\"telemetry.sdk.version\",\"value\":{\"stringValue\":\"0.1.0\"}},"
    "{\"key\":\"deployment.environment\",\"value\":{\"stringValue\":\"test\"}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"torvyn-trace\",\"version\":\"0.1.0\"},"
    "\"spans\":["
    "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"00f067aa0ba902b7\","
    "\"flags\":1,\"name\":\"flow:f1\",\"kind\":2,"
    "\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000002500000\","
    "\"attributes\":[{\"key\":\"torvyn.flow_id\",\"value\":{\"stringValue\":\"f1\"}},"
    "{\"key\":\"torvyn.element.seq\",\"value\":{\"intValue\":\"7\"}}]},"
    "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"a1b2c3d4e5f60718\","
    "\"parentSpanId\":\"00f067aa0ba902b7\",\"flags\":1,"
    "\"name\":\"component:src:invoke:7\",\"kind\":1,"
    "\"startTimeUnixNano\":\"1700000000000100000\","
    "\"endTimeUnixNano\":\"1700000000001100000\","
    "\"attributes\":[{\"key\":\"torvyn.component_id\",\"value\":{\"stringValue\":\"src\"}},"
    "{\"key\":\"torvyn.bytes\",\"value\":{\"intValue\":\"-512\"}},"
    "{\"key\":\"torvyn.ratio\",\"value\":{\"doubleValue\":0.25}},"
    "{\"key\":\"torvyn.retried\",\"value\":{\"boolValue\":true}}],"
    "\"status\":{\"message\":\"invalid-input\",\"code\":2}},"
    "{\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"spanId\":\"0102030405060708\","
    "\"parentSpanId\":\"00f067aa0ba902b7\",\"flags\":3,"
    "\"name\":\"backpressure:src->sink\",\"kind\":5,"
    "\"startTimeUnixNano\":\"1700000000001200000\","
    "\"endTimeUnixNano\":\"1700000000002000000\","
    "\"status\":{\"code\":1}}]}]}]}";

static void test_traces_json(void **state)
{
	struct tvn_otlp_resource res;
	struct tvn_otlp_span sp[3];
	char *buf;
	size_t len;

	(void)state;
	fill_resource(&res);
	fill_spans(sp);
	assert_int_equal(tvn_otlp__encode_traces_json(&res, sp, 3, &buf, &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, want_traces_json);
	free(buf);
}

static void test_traces_args(void **state)
{
	struct tvn_otlp_resource res;
	struct tvn_otlp_span sp[3];
	uint8_t *pb = (uint8_t *)"x";
	char *js = "x";
	size_t len = 7;

	(void)state;
	fill_resource(&res);
	fill_spans(sp);
	assert_int_equal(tvn_otlp__encode_traces_pb(NULL, sp, 3, &pb, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_traces_pb(&res, NULL, 3, &pb, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_traces_pb(&res, sp, 3, NULL, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_traces_json(&res, sp, 3, &js, NULL), -EINVAL);
	assert_int_equal(tvn_otlp__encode_metrics_pb(&res, NULL, 0, 0, &pb, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_metrics_json(NULL, NULL, 0, 0, &js, &len), -EINVAL);

	/* no spans: a valid, empty request */
	assert_int_equal(tvn_otlp__encode_traces_json(&res, NULL, 0, &js, &len), 0);
	assert_non_null(strstr(js, "\"spans\":[]"));
	free(js);
}

/* Many resources: res_of within n_res, a resource without spans, none at all. */
static void test_traces_many_args(void **state)
{
	struct tvn_otlp_resource res[2];
	const struct tvn_otlp_resource *rp[2] = {&res[0], NULL};
	struct tvn_otlp_span sp[3];
	const uint32_t bad[3] = {0, 2, 1}, none[3] = {0, 0, 0};
	struct tvn_otlp_traces t = {res, 2, sp, bad, 3};
	struct tvn_snapshot s = {0};
	const struct tvn_snapshot *snaps[2] = {&s, &s};
	uint8_t *pb;
	char *js;
	size_t len;

	(void)state;
	fill_resource(&res[0]);
	fill_resource(&res[1]);
	strcpy(res[1].service_name, "svc-empty");
	fill_spans(sp);
	assert_int_equal(tvn_otlp__encode_traces_many_pb(&t, &pb, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_traces_many_json(&t, &js, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_traces_many_json(NULL, &js, &len), -EINVAL);
	t.res_of = none;
	assert_int_equal(tvn_otlp__encode_traces_many_json(&t, &js, &len), 0);
	assert_non_null(strstr(js, "{\"key\":\"service.name\",\"value\":"
				   "{\"stringValue\":\"svc-empty\"}}"));
	assert_non_null(strstr(js, "\"spans\":[]}]}]}"));
	free(js);
	t = (struct tvn_otlp_traces){0};
	assert_int_equal(tvn_otlp__encode_traces_many_json(&t, &js, &len), 0);
	assert_string_equal(js, "{\"resourceSpans\":[]}");
	free(js);

	assert_int_equal(tvn_otlp__encode_metrics_many_pb(rp, snaps, 2, 0, 0, &pb, &len), -EINVAL);
	assert_int_equal(tvn_otlp__encode_metrics_many_json(rp, snaps, 0, 0, 0, &js, &len), 0);
	assert_string_equal(js, "{\"resourceMetrics\":[]}");
	free(js);
}

/* The 13th attribute is ignored; names that are not UTF-8 are repaired. */
static void test_span_attrs_and_utf8(void **state)
{
	struct tvn_otlp_resource res;
	struct tvn_otlp_span s;
	pb_trace_req *req;
	pb_span *p;
	uint8_t *buf;
	char *js;
	size_t len;

	(void)state;
	fill_resource(&res);
	memset(&s, 0, sizeof(s));
	s.trace_id[15] = 1;
	s.span_id[7] = 1;
	strcpy(s.name, "component:caf\xc3\xa9:\xff");
	for (int i = 0; i < OTLP_MAX_ATTRS + 3; i++)
		tvn_otlp_span__attr_int(&s, "k", i);
	assert_int_equal(s.n_attrs, OTLP_MAX_ATTRS);
	assert_int_equal(s.attrs[OTLP_MAX_ATTRS - 1].i, OTLP_MAX_ATTRS - 1);

	assert_int_equal(tvn_otlp__encode_traces_pb(&res, &s, 1, &buf, &len), 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
	    NULL, len, buf);
	free(buf);
	assert_non_null(req);
	p = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_string_equal(p->name, "component:caf\xc3\xa9:\xef\xbf\xbd");
	assert_int_equal(p->n_attributes, OTLP_MAX_ATTRS);
	assert_int_equal(p->kind, 0);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
	    req, NULL);

	assert_int_equal(tvn_otlp__encode_traces_json(&res, &s, 1, &js, &len), 0);
	assert_non_null(strstr(js, "\"name\":\"component:caf\xc3\xa9:\xef\xbf\xbd\""));
	assert_non_null(strstr(js, "\"traceId\":\"00000000000000000000000000000001\""));
	assert_null(strstr(js, "parentSpanId"));
	assert_null(strstr(js, "\"kind\""));
	assert_null(strstr(js, "\"status\""));
	free(js);
}

/* ------------------------------------------------------------ metrics */

static void test_metrics_counter(void **state)
{
	struct tvn_snapshot s;
	pb_metrics_req *req;
	const pb_metric *m;
	const pb_number_point *p;

	(void)state;
	fill_snapshot(&s);
	req = encode_metrics(&s);
	check_resource(req->resource_metrics[0]->resource);
	assert_string_equal(req->resource_metrics[0]->scope_metrics[0]->scope->name,
			    OTLP_SCOPE_NAME);

	m = get_metric(req, "torvyn.flow.elements");
	assert_string_equal(m->unit, "{element}");
	assert_int_equal(m->data_case, SUM_CASE);
	assert_true(m->sum->is_monotonic);
	assert_int_equal(m->sum->aggregation_temporality, 2);
	assert_int_equal(m->sum->n_data_points, 1);
	p = m->sum->data_points[0];
	assert_int_equal(p->value_case, AS_INT);
	assert_int_equal(p->as_int, 42);
	assert_true(p->start_time_unix_nano == START_NS);
	assert_true(p->time_unix_nano == NOW_NS);
	assert_int_equal(p->n_attributes, 1);
	assert_kv_str(p->attributes, p->n_attributes, "flow_id", "f1");

	/* one point per reason, all four always */
	m = get_metric(req, "torvyn.flow.copies");
	assert_int_equal(m->sum->n_data_points, TORVYN_COPY_REASONS);
	p = m->sum->data_points[TORVYN_COPY_HOST_SERIALIZE];
	assert_kv_str(p->attributes, p->n_attributes, "reason", "HostSerialize");
	assert_int_equal(p->as_int, 4);

	/* every duration is in seconds, a double, whatever upstream's name said */
	m = get_metric(req, "torvyn.stream.backpressure.duration");
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, SUM_CASE);
	p = m->sum->data_points[0];
	assert_int_equal(p->value_case, AS_DOUBLE);
	assert_true(p->as_double == 1500e-9);
	assert_kv_str(p->attributes, p->n_attributes, "stream_id", "src->sink");
	p = get_metric(req, "torvyn.host.scheduler.idle_time")->sum->data_points[0];
	assert_int_equal(p->value_case, AS_DOUBLE);
	assert_true(p->as_double == 777e-9);

	m = get_metric(req, "torvyn.component.idle_time");
	assert_string_equal(m->unit, "s");
	p = m->sum->data_points[0];
	assert_int_equal(p->value_case, AS_DOUBLE);
	assert_true(p->as_double == 1.5);
	assert_kv_str(p->attributes, p->n_attributes, "flow_id", "f1");
	assert_kv_str(p->attributes, p->n_attributes, "component_id", "src");

	/* diagnostic: the transfer's target has no block, so its index */
	m = get_metric(req, "torvyn.diagnostic.transferred");
	assert_string_equal(m->unit, "By");
	p = m->sum->data_points[0];
	assert_int_equal(p->as_int, 100);
	assert_kv_str(p->attributes, p->n_attributes, "from_component", "src");
	assert_kv_str(p->attributes, p->n_attributes, "to_component", "1");
	m = get_metric(req, "torvyn.diagnostic.invocations");
	assert_int_equal(m->sum->data_points[0]->as_int, 9);
	m = get_metric(req, "torvyn.diagnostic.copies");
	assert_int_equal(m->sum->n_data_points, 1); /* only reasons that happened */
	assert_kv_str(m->sum->data_points[0]->attributes, m->sum->data_points[0]->n_attributes,
		      "reason", "PayloadRead");

	m = get_metric(req, "torvyn.trace.probe.hits");
	assert_int_equal(m->sum->n_data_points, TVN_P_COUNT);
	p = m->sum->data_points[TVN_P_COMPONENT_INVOKE];
	assert_kv_str(p->attributes, p->n_attributes, "probe", "component__invoke");
	assert_int_equal(p->as_int, 99);

	free_metrics(req);
	free_snapshot(&s);
}

static void test_metrics_gauge(void **state)
{
	struct tvn_snapshot s;
	pb_metrics_req *req;
	const pb_metric *m;
	const pb_number_point *p;

	(void)state;
	fill_snapshot(&s);
	req = encode_metrics(&s);

	m = get_metric(req, "torvyn.host.flows.active");
	assert_int_equal(m->data_case, GAUGE_CASE);
	assert_int_equal(m->gauge->n_data_points, 1);
	p = m->gauge->data_points[0];
	assert_int_equal(p->value_case, AS_INT);
	assert_int_equal(p->as_int, 1);
	assert_true(p->start_time_unix_nano == 0);
	assert_true(p->time_unix_nano == NOW_NS);
	assert_int_equal(p->n_attributes, 0);

	m = get_metric(req, "torvyn.flow.active_duration");
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, GAUGE_CASE);
	p = m->gauge->data_points[0];
	assert_int_equal(p->value_case, AS_DOUBLE);
	assert_true(p->as_double == 2.5);

	/* one point per state, 1 for the current one */
	m = get_metric(req, "torvyn.flow.state");
	assert_int_equal(m->gauge->n_data_points, 8);
	for (size_t i = 0; i < 8; i++) {
		p = m->gauge->data_points[i];
		assert_int_equal(p->n_attributes, 2);
		assert_string_equal(p->attributes[1]->key, "torvyn_flow_state");
		assert_int_equal(p->as_int, i == TORVYN_FLOW_COMPLETED);
	}
	assert_string_equal(
	    m->gauge->data_points[TORVYN_FLOW_COMPLETED]->attributes[1]->value->string_value,
	    "Completed");

	m = get_metric(req, "torvyn.trace.level");
	assert_int_equal(m->data_case, GAUGE_CASE);
	assert_int_equal(m->gauge->data_points[0]->as_int, TORVYN_LEVEL_DIAGNOSTIC);
	m = get_metric(req, "torvyn.trace.start_time");
	assert_true(m->gauge->data_points[0]->as_double == 1699999990.5);
	m = get_metric(req, "torvyn.stream.queue.capacity");
	assert_int_equal(m->gauge->data_points[0]->as_int, 64);
	m = get_metric(req, "torvyn.trace.info");
	p = m->gauge->data_points[0];
	assert_int_equal(p->as_int, 1);
	assert_kv_str(p->attributes, p->n_attributes, "pid", "4242");
	assert_kv_str(p->attributes, p->n_attributes, "exe", "/usr/bin/torvyn-host");

	m = get_metric(req, "torvyn.pool.capacity");
	assert_int_equal(m->gauge->n_data_points, TORVYN_TIERS);
	p = m->gauge->data_points[TORVYN_TIER_SMALL];
	assert_kv_str(p->attributes, p->n_attributes, "tier", "Small");
	assert_int_equal(p->as_int, 4096);

	free_metrics(req);
	free_snapshot(&s);
}

static void test_metrics_histogram(void **state)
{
	static const uint64_t want_lat[TORVYN_LAT_BUCKETS] = {
	    [0] = 1,
	    [3] = 2,
	    [24] = 1,
	    [25] = 1,
	};
	struct tvn_snapshot s;
	pb_metrics_req *req;
	const pb_metric *m;
	const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p;

	(void)state;
	fill_snapshot(&s);
	req = encode_metrics(&s);

	m = get_metric(req, "torvyn.flow.latency");
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->data_case, HIST_CASE);
	assert_int_equal(m->histogram->aggregation_temporality, 2);
	assert_int_equal(m->histogram->n_data_points, 1);
	p = m->histogram->data_points[0];
	assert_true(p->start_time_unix_nano == START_NS);
	assert_true(p->time_unix_nano == NOW_NS);
	assert_kv_str(p->attributes, p->n_attributes, "flow_id", "f1");
	assert_int_equal(p->n_explicit_bounds, 25);
	assert_true(p->explicit_bounds[0] == 1e-07);
	assert_true(p->explicit_bounds[1] == 2.5e-07);
	assert_true(p->explicit_bounds[12] == 1e-03);
	assert_true(p->explicit_bounds[24] == 10);
	assert_int_equal(p->n_bucket_counts, 26);
	for (int i = 0; i < 26; i++) /* per bucket, not cumulative */
		assert_int_equal(p->bucket_counts[i], want_lat[i]);
	assert_int_equal(p->count, 5);
	assert_true(p->sum == 20.0000018);

	/* count behind the buckets: count and +Inf follow the buckets */
	m = get_metric(req, "torvyn.stream.queue.wait_time");
	p = m->histogram->data_points[0];
	assert_int_equal(p->bucket_counts[1], 3);
	assert_int_equal(p->bucket_counts[25], 0);
	assert_int_equal(p->count, 3);
	assert_true(p->sum == 6e-07);

	m = get_metric(req, "torvyn.component.processing_time");
	assert_int_equal(m->histogram->data_points[0]->count, 10);
	assert_int_equal(m->histogram->data_points[0]->bucket_counts[5], 10);
	assert_non_null(get_metric(req, "torvyn.diagnostic.processing_time"));

	free_metrics(req);
	free_snapshot(&s);
}

/* Families without points are left out, as in /metrics. */
static void test_metrics_absent(void **state)
{
	struct tvn_snapshot s = {0};
	pb_metrics_req *req;

	(void)state;
	s.n_flows = 3; /* and no array: treated as none */
	s.n_transfers = -1;
	req = encode_metrics(&s);
	assert_null(find_metric(req, "torvyn.flow.elements"));
	assert_null(find_metric(req, "torvyn.pool.capacity"));
	assert_null(find_metric(req, "torvyn.host.flows.active"));
	assert_null(find_metric(req, "torvyn.diagnostic.transfers"));
	/* the tracer's own always are */
	assert_non_null(find_metric(req, "torvyn.trace.level"));
	assert_non_null(find_metric(req, "torvyn.trace.scrapes"));
	free_metrics(req);
}

static json_t *json_metric(json_t *root, const char *name)
{
	json_t *ms = json_object_get(
	    json_array_get(
		json_object_get(json_array_get(json_object_get(root, "resourceMetrics"), 0),
				"scopeMetrics"),
		0),
	    "metrics");
	size_t i;
	json_t *m;

	json_array_foreach(
	    ms, i, m) if (!strcmp(json_string_value(json_object_get(m, "name")), name)) return m;
	fail_msg("no metric %s in the JSON", name);
	return NULL;
}

static void test_metrics_json(void **state)
{
	struct tvn_otlp_resource res;
	struct tvn_snapshot s;
	json_t *root, *m, *p, *bc, *eb;
	char *buf, *text;
	size_t len;

	(void)state;
	fill_resource(&res);
	fill_snapshot(&s);
	assert_int_equal(tvn_otlp__encode_metrics_json(&res, &s, START_NS, NOW_NS, &buf, &len), 0);
	assert_int_equal(len, strlen(buf));
	root = json_loads(buf, 0, NULL);
	assert_non_null(root);

	m = json_metric(root, "torvyn.flow.elements");
	text = json_dumps(m, JSON_COMPACT);
	assert_string_equal(
	    text, "{\"name\":\"torvyn.flow.elements\","
		  "\"description\":\"Elements that reached the end of the flow (sink, filter "
		  "drop or error).\",\"unit\":\"{element}\","
		  "\"sum\":{\"dataPoints\":[{\"attributes\":[{\"key\":\"flow_id\",\"value\":"
		  "{\"stringValue\":\"f1\"}}],\"startTimeUnixNano\":\"1699999990000000000\","
		  "\"timeUnixNano\":\"1700000015000000000\",\"asInt\":\"42\"}],"
		  "\"aggregationTemporality\":2,\"isMonotonic\":true}}");
	free(text);

	m = json_metric(root, "torvyn.host.flows.active");
	text = json_dumps(m, JSON_COMPACT);
	assert_string_equal(text, "{\"name\":\"torvyn.host.flows.active\","
				  "\"description\":\"Flows running now.\",\"unit\":\"{flow}\","
				  "\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":"
				  "\"1700000015000000000\",\"asInt\":\"1\"}]}}");
	free(text);

	m = json_metric(root, "torvyn.flow.latency");
	assert_string_equal(json_string_value(json_object_get(m, "unit")), "s");
	p = json_array_get(json_object_get(json_object_get(m, "histogram"), "dataPoints"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "histogram"),
							    "aggregationTemporality")),
			 2);
	assert_string_equal(json_string_value(json_object_get(p, "count")), "5");
	assert_true(json_real_value(json_object_get(p, "sum")) == 20.0000018);
	bc = json_object_get(p, "bucketCounts");
	eb = json_object_get(p, "explicitBounds");
	assert_int_equal(json_array_size(bc), 26);
	assert_int_equal(json_array_size(eb), 25);
	assert_string_equal(json_string_value(json_array_get(bc, 3)), "2");
	assert_string_equal(json_string_value(json_array_get(bc, 25)), "1");
	assert_true(json_real_value(json_array_get(eb, 0)) == 1e-07);
	assert_true(json_real_value(json_array_get(eb, 24)) == 10);
	/* and they print as written, not as 9.9999999999999995e-08 */
	assert_non_null(strstr(buf, "\"explicitBounds\":[1e-7,2.5e-7,5e-7,1e-6,"));

	m = json_metric(root, "torvyn.flow.active_duration");
	p = json_array_get(json_object_get(json_object_get(m, "gauge"), "dataPoints"), 0);
	assert_true(json_real_value(json_object_get(p, "asDouble")) == 2.5);
	assert_null(json_object_get(p, "startTimeUnixNano"));

	json_decref(root);
	free(buf);
	free_snapshot(&s);
}

/*
 * docs/metrics.md: every family there is exported under its OTLP name and
 * unit, and its Prometheus name is the translation of those.
 */
static void test_metrics_docs_names(void **state)
{
	char path[PATH_MAX + 32], line[1024];
	struct tvn_snapshot s;
	pb_metrics_req *req;
	int families = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/metrics.md", dirs.repo);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	fill_snapshot(&s);
	req = encode_metrics(&s);
	while (fgets(line, sizeof(line), f)) {
		char otlp[128], unit[64] = "", type[64], prom[128], want[160], *p = line, *cell[5];
		enum tvn_metric_name_kind kind = TVN_NAME_GAUGE;
		const pb_metric *m;
		int i;

		if (strncmp(line, "| `torvyn.", 10))
			continue;
		for (i = 0; i < 5 && (p = strchr(p, '|')); i++)
			cell[i] = ++p;
		assert_int_equal(i, 5);
		if (sscanf(cell[0], " `%127[^`]`", otlp) != 1 ||
		    sscanf(cell[2], " %63s", type) != 1 ||
		    sscanf(cell[3], " `%127[^`]`", prom) != 1)
			fail_msg("bad row: %s", line);
		sscanf(cell[1], " `%63[^`]`", unit);
		m = find_metric(req, otlp);
		if (!m)
			fail_msg("docs/metrics.md: no OTLP metric %s", otlp);
		if (strcmp(m->unit, unit))
			fail_msg("%s: unit \"%s\", docs/metrics.md says \"%s\"", otlp, m->unit,
				 unit);
		if (!strcmp(type, "counter"))
			kind = TVN_NAME_COUNTER;
		else if (!strcmp(type, "histogram"))
			kind = TVN_NAME_HISTOGRAM;
		assert_int_equal(tvn_metric_name__prom(otlp, unit, kind, want, sizeof(want)), 0);
		if (strcmp(want, prom))
			fail_msg("%s: Prometheus name %s, docs/metrics.md says %s", otlp, want,
				 prom);
		families++;
	}
	fclose(f);
	assert_true(families >= 70);
	free_metrics(req);
	free_snapshot(&s);
}

/* ------------------------------------------------------------ responses */

static void test_response_pb(void **state)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess tps =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse tr =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess mps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse mr =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	uint8_t buf[256];
	size_t len;
	int64_t rej = -1;
	char msg[64];

	(void)state;
	tps.rejected_spans = 3;
	tps.error_message = "3 spans had no trace id";
	tr.partial_success = &tps;
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&tr,
											      buf);
	assert_int_equal(tvn_otlp__parse_response(buf, len, false, true, &rej, msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 3);
	assert_string_equal(msg, "3 spans had no trace id");

	/* message truncated to msglen */
	assert_int_equal(tvn_otlp__parse_response(buf, len, false, true, &rej, msg, 6), 0);
	assert_string_equal(msg, "3 spa");

	mps.rejected_data_points = 12;
	mps.error_message = "bad unit";
	mr.partial_success = &mps;
	len = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
	    &mr, buf);
	assert_int_equal(tvn_otlp__parse_response(buf, len, false, false, &rej, msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 12);
	assert_string_equal(msg, "bad unit");

	/* a response without partial_success */
	tr.partial_success = NULL;
	len = opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&tr,
											      buf);
	assert_int_equal(len, 0);
	buf[0] = 0x0a; /* partial_success, length 0: present but empty */
	buf[1] = 0x00;
	assert_int_equal(tvn_otlp__parse_response(buf, 2, false, true, &rej, msg, sizeof(msg)), 0);
	assert_int_equal(rej, 0);
	assert_string_equal(msg, "");

	/* truncated: field 1, length 9, 2 bytes */
	buf[0] = 0x0a;
	buf[1] = 0x09;
	buf[2] = 0x08;
	buf[3] = 0x01;
	assert_int_equal(tvn_otlp__parse_response(buf, 4, false, true, &rej, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(rej, 0);
}

static void test_response_json(void **state)
{
	static const char t1[] =
	    "{\"partialSuccess\":{\"rejectedSpans\":\"5\",\"errorMessage\":\"quota\"}}";
	static const char t2[] = "{\"partialSuccess\":{\"rejectedDataPoints\":7}}";
	static const char t3[] = "{\"partial_success\":{\"rejected_spans\":\"2\"}}";
	static const char t4[] = "{}";
	static const char bad1[] = "{\"partialSuccess\":{\"rejectedSpans\":\"five\"}}";
	static const char bad2[] = "[1]";
	static const char bad3[] = "{\"partialSuccess\":";
	int64_t rej = -1;
	char msg[64] = "junk";

	(void)state;
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)t1, strlen(t1), true, true, &rej,
						  msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 5);
	assert_string_equal(msg, "quota");
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)t2, strlen(t2), true, false,
						  &rej, msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 7);
	assert_string_equal(msg, "");
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)t3, strlen(t3), true, true, &rej,
						  msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 2);
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)t4, strlen(t4), true, true, &rej,
						  msg, sizeof(msg)),
			 0);
	assert_int_equal(rej, 0);
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)bad1, strlen(bad1), true, true,
						  &rej, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)bad2, strlen(bad2), true, true,
						  &rej, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(tvn_otlp__parse_response((const uint8_t *)bad3, strlen(bad3), true, true,
						  &rej, msg, sizeof(msg)),
			 -EINVAL);
}

static void test_response_empty(void **state)
{
	int64_t rej = -1;
	char msg[16] = "junk";

	(void)state;
	assert_int_equal(tvn_otlp__parse_response(NULL, 0, false, true, &rej, msg, sizeof(msg)), 0);
	assert_int_equal(rej, 0);
	assert_string_equal(msg, "");
	rej = -1;
	assert_int_equal(
	    tvn_otlp__parse_response((const uint8_t *)"", 0, true, false, &rej, msg, sizeof(msg)),
	    0);
	assert_int_equal(rej, 0);
	/* the outputs are optional */
	assert_int_equal(
	    tvn_otlp__parse_response((const uint8_t *)"{}", 2, true, true, NULL, NULL, 0), 0);
}

/* ------------------------------------------------------------ independent decoder */

static void write_samples(void)
{
	struct tvn_otlp_resource res;
	struct tvn_otlp_span sp[3];
	struct tvn_snapshot s;
	uint8_t *pb;
	char *js;
	size_t len;

	fill_resource(&res);
	fill_spans(sp);
	assert_int_equal(tvn_otlp__encode_traces_pb(&res, sp, 3, &pb, &len), 0);
	otlp_dirs__write(&dirs, "otlp-sample.pb", pb, len);
	free(pb);
	assert_int_equal(tvn_otlp__encode_traces_json(&res, sp, 3, &js, &len), 0);
	otlp_dirs__write(&dirs, "otlp-sample.json", js, len);
	free(js);

	fill_snapshot(&s);
	assert_int_equal(tvn_otlp__encode_metrics_pb(&res, &s, START_NS, NOW_NS, &pb, &len), 0);
	otlp_dirs__write(&dirs, "otlp-metrics-sample.pb", pb, len);
	free(pb);
	assert_int_equal(tvn_otlp__encode_metrics_json(&res, &s, START_NS, NOW_NS, &js, &len), 0);
	otlp_dirs__write(&dirs, "otlp-metrics-sample.json", js, len);
	free(js);
	free_snapshot(&s);
}

/* Google's protobuf runtime reads what we wrote (otlp_fixture.h). */
static void test_python_decoder(void **state)
{
	(void)state;
	write_samples();
	otlp_dirs__decode(&dirs,
			  "--spans 3 "
			  "--metric torvyn.flow.elements=42 --metric torvyn.host.flows.active=1 "
			  "--metric torvyn.stream.queue.capacity=64 "
			  "--metric torvyn.diagnostic.invocations=9");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traces_pb),		cmocka_unit_test(test_traces_json),
	    cmocka_unit_test(test_traces_args),		cmocka_unit_test(test_traces_many_args),
	    cmocka_unit_test(test_span_attrs_and_utf8), cmocka_unit_test(test_metrics_counter),
	    cmocka_unit_test(test_metrics_gauge),	cmocka_unit_test(test_metrics_histogram),
	    cmocka_unit_test(test_metrics_absent),	cmocka_unit_test(test_metrics_json),
	    cmocka_unit_test(test_metrics_docs_names),	cmocka_unit_test(test_response_pb),
	    cmocka_unit_test(test_response_json),	cmocka_unit_test(test_response_empty),
	    cmocka_unit_test(test_python_decoder),
	};

	(void)argc;
	otlp_dirs__find(&dirs, argv[0]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
