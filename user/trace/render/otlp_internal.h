/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the OTLP encoders (otlp.h) share:
 *   otlp_common.c   the arena, UTF-8 clean strings, span and resource attributes,
 *                   the spans of a request and their resources
 *   otlp_collect.c  a snapshot as a neutral list of metrics and their points
 *   otlp_pb.c       the protobuf encoders (traces, metrics)
 *   otlp_json.c     the OTLP/JSON encoders (traces, metrics)
 *   otlp_response.c the Export*ServiceResponse partial_success
 */
#ifndef TORVYN_OTLP_INTERNAL_H
#define TORVYN_OTLP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "bounds.h"
#include "metric_model.h"
#include "otlp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The generated type names run past half a line; these short aliases exist
 * only to keep the encoders readable.
 */
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_anyvalue;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_keyvalue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_req;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_trace_resp;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum pb_sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge pb_gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram pb_histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hist_point;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse pb_metrics_resp;

#define AGG_CUMULATIVE                                                                             \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

/* ------------------------------------------------------------ arena (otlp_common.c) */

/* Every allocation of one encoding, freed together at its end. */
struct tvn_otlp_arena {
	void **blk;
	size_t n, cap;
	bool oom;
};

/* Zeroed memory that lives until tvn_otlp_arena__free; NULL (and oom set) on failure. */
void *tvn_otlp_arena__alloc(struct tvn_otlp_arena *a, size_t size);
void tvn_otlp_arena__free(struct tvn_otlp_arena *a);

/*
 * A copy of s (up to a NUL or max bytes) with every byte that is not UTF-8
 * replaced by U+FFFD: protobuf strings must be UTF-8 (collectors reject the
 * whole request otherwise) and jansson refuses anything else. Names come from
 * the traced process and need not even end in NUL.
 */
char *tvn_otlp_arena__str(struct tvn_otlp_arena *a, const char *s, size_t max);

/* ------------------------------------------------------------ attributes (otlp_common.c) */

/* The resource's attributes: the named fields, telemetry.sdk.*, then extra. */
#define RES_MAX_ATTRS (8 + ARRAY_SIZE(((struct tvn_otlp_resource *)0)->extra))

struct tvn_otlp_res_attrs {
	struct tvn_otlp_kv kv[RES_MAX_ATTRS];
	size_t n;
};

/*
 * Keys are unique within a resource: an extra attribute (from
 * OTEL_RESOURCE_ATTRIBUTES) that repeats a named field's loses.
 */
void tvn_otlp_res_attrs__fill(struct tvn_otlp_res_attrs *r, const struct tvn_otlp_resource *res);

/* The span's attributes that count: n_attrs within 0..OTLP_MAX_ATTRS. */
int tvn_otlp_span__n_attrs(const struct tvn_otlp_span *s);

/* False for a root span (parent_span_id all zero). */
bool tvn_otlp_span__has_parent(const struct tvn_otlp_span *s);

/* ------------------------------------------------------------ metrics (otlp_collect.c) */

enum tvn_otlp_metric_kind { OTLP_METRIC_SUM, OTLP_METRIC_GAUGE, OTLP_METRIC_HIST };
enum tvn_otlp_point_kind { OTLP_POINT_INT, OTLP_POINT_DBL, OTLP_POINT_HIST };

/* One data point of the neutral list; attribute strings live in the arena. */
struct tvn_otlp_point {
	const char *key[METRIC_MAX_LABELS];
	const char *val[METRIC_MAX_LABELS];
	int na;
	enum tvn_otlp_point_kind vt;
	int64_t i;
	double d;
	const struct tvn_metric_hist *h; /* a copy in the arena */
};

struct tvn_otlp_metric {
	const char *name, *desc, *unit;
	enum tvn_otlp_metric_kind kind;
	size_t first, n; /* its points in tvn_otlp_metrics.pts */
};

/* The metric model's walk turned into a list of metrics and their points. */
struct tvn_otlp_metrics {
	struct tvn_otlp_arena a;
	struct tvn_otlp_point *pts;
	size_t n_pts, cap_pts;
	struct tvn_otlp_metric *ms;
	size_t n_ms, cap_ms;
};

/* The neutral list of every family of s with points. c starts zeroed. 0 or -ENOMEM. */
int tvn_otlp_metrics__collect(struct tvn_otlp_metrics *c, const struct tvn_snapshot *s);

/*
 * The start both metric encoders share: checks the arguments (n hosts, each
 * with its resource and its snapshot) and clears the outputs (*out, a char **
 * or uint8_t **, and *len). 0 or -EINVAL.
 */
int tvn_otlp_metrics__start(const struct tvn_otlp_resource *const *res,
			    const struct tvn_snapshot *const *snaps, size_t n, void *out,
			    size_t *len);
void tvn_otlp_metrics__free(struct tvn_otlp_metrics *c);

/* ------------------------------------------------------------ traces (otlp_common.c) */

/*
 * The start both trace encoders share: checks t (every res_of within n_res)
 * and clears the outputs (*out, a char ** or uint8_t **, and *len).
 * 0 or -EINVAL.
 */
int tvn_otlp_traces__start(const struct tvn_otlp_traces *t, void *out, size_t *len);

/* The index in t->res of span i's resource. */
uint32_t tvn_otlp_traces__res_of(const struct tvn_otlp_traces *t, size_t i);

#endif /* TORVYN_OTLP_INTERNAL_H */
