/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP encoding: spans and metric snapshots into ExportTraceServiceRequest and
 * ExportMetricsServiceRequest, as protobuf (protobuf-c, generated from
 * user/trace/proto/) or as OTLP/JSON; and the decoding of the responses'
 * partial_success. Pure functions: no I/O, no globals.
 */
#ifndef TORVYN_OTLP_H
#define TORVYN_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define OTLP_MAX_ATTRS 12

enum otlp_value_type { OTLP_STR, OTLP_INT, OTLP_DOUBLE, OTLP_BOOL };

struct tvn_otlp_kv {
	char key[48];
	enum otlp_value_type type;
	char str[128]; /* OTLP_STR */
	int64_t i;     /* OTLP_INT, OTLP_BOOL (0/1) */
	double d;      /* OTLP_DOUBLE */
};

/* OTLP span kinds and status codes (opentelemetry.proto.trace.v1). */
#define OTLP_SPAN_KIND_INTERNAL 1
#define OTLP_SPAN_KIND_SERVER 2
#define OTLP_SPAN_KIND_CONSUMER 5
#define OTLP_STATUS_UNSET 0
#define OTLP_STATUS_OK 1
#define OTLP_STATUS_ERROR 2

struct tvn_otlp_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero: a root span */
	uint32_t flags;		   /* W3C trace flags (bit 0 sampled) */
	char name[128];
	int kind; /* OTLP_SPAN_KIND_* */
	uint64_t start_unix_ns, end_unix_ns;
	int status_code; /* OTLP_STATUS_* */
	char status_message[64];
	struct tvn_otlp_kv attrs[OTLP_MAX_ATTRS];
	int n_attrs;
};

/* The resource (one traced host) a span or a snapshot belongs to. */
struct tvn_otlp_resource {
	char service_name[128];	      /* service.name, default "torvyn-host" */
	char service_instance_id[64]; /* service.instance.id */
	char host_name[128];	      /* host.name */
	int64_t pid;		      /* process.pid: the traced host's */
	char executable_name[128];    /* process.executable.name */
	/* more resource attributes (OTEL_RESOURCE_ATTRIBUTES), appended */
	struct tvn_otlp_kv extra[8];
	int n_extra;
};

/* The instrumentation scope and telemetry.sdk.* name this exporter. */
#define OTLP_SDK_NAME "torvyn-trace"
#define OTLP_SDK_LANGUAGE "c"
#define OTLP_SDK_VERSION "0.1.0"
#define OTLP_SCOPE_NAME "torvyn-trace"

/* Appends an attribute; silently ignores the 13th and later. */
void tvn_otlp_span__attr_str(struct tvn_otlp_span *s, const char *key, const char *val);
void tvn_otlp_span__attr_int(struct tvn_otlp_span *s, const char *key, int64_t val);

/*
 * ExportTraceServiceRequest with one ResourceSpans / one ScopeSpans holding
 * the n spans. *buf is malloc'd (caller frees with free()). 0 or -ENOMEM /
 * -EINVAL.
 */
int tvn_otlp__encode_traces_pb(const struct tvn_otlp_resource *res,
			       const struct tvn_otlp_span *spans, size_t n, uint8_t **buf,
			       size_t *len);
int tvn_otlp__encode_traces_json(const struct tvn_otlp_resource *res,
				 const struct tvn_otlp_span *spans, size_t n, char **buf,
				 size_t *len);

/*
 * The spans of one trace request and the resources (hosts) they belong to:
 * span i is under res[res_of[i]]; res_of NULL puts every span under res[0].
 * All borrowed.
 */
struct tvn_otlp_traces {
	const struct tvn_otlp_resource *res;
	size_t n_res;
	const struct tvn_otlp_span *spans;
	const uint32_t *res_of;
	size_t n;
};

/*
 * ExportTraceServiceRequest with one ResourceSpans per resource, in the order
 * of t->res (a resource without spans gets an empty one), each holding its
 * spans in their order. As tvn_otlp__encode_traces_pb otherwise; -EINVAL
 * for a res_of beyond n_res.
 */
int tvn_otlp__encode_traces_many_pb(const struct tvn_otlp_traces *t, uint8_t **buf, size_t *len);
int tvn_otlp__encode_traces_many_json(const struct tvn_otlp_traces *t, char **buf, size_t *len);

/*
 * ExportMetricsServiceRequest carrying the same numbers as /metrics: every
 * host and diagnostic family of docs/metrics.md, under the catalogue's OTLP
 * name and UCUM unit ("torvyn.flow.elements" in "{element}",
 * "torvyn.component.processing_time" in "s"), with the Prometheus labels as
 * attributes. Counters are
 * monotonic cumulative Sums starting at start_unix_ns; gauges are Gauges;
 * histograms are cumulative with the Torvyn latency boundaries in seconds
 * (unit "s"). now_unix_ns stamps every point.
 */
int tvn_otlp__encode_metrics_pb(const struct tvn_otlp_resource *res,
				const struct tvn_snapshot *snap, uint64_t start_unix_ns,
				uint64_t now_unix_ns, uint8_t **buf, size_t *len);
int tvn_otlp__encode_metrics_json(const struct tvn_otlp_resource *res,
				  const struct tvn_snapshot *snap, uint64_t start_unix_ns,
				  uint64_t now_unix_ns, char **buf, size_t *len);

/*
 * One ExportMetricsServiceRequest for n hosts: one ResourceMetrics per host,
 * snaps[i] under res[i], in that order. As tvn_otlp__encode_metrics_pb
 * otherwise.
 */
int tvn_otlp__encode_metrics_many_pb(const struct tvn_otlp_resource *const *res,
				     const struct tvn_snapshot *const *snaps, size_t n,
				     uint64_t start_unix_ns, uint64_t now_unix_ns, uint8_t **buf,
				     size_t *len);
int tvn_otlp__encode_metrics_many_json(const struct tvn_otlp_resource *const *res,
				       const struct tvn_snapshot *const *snaps, size_t n,
				       uint64_t start_unix_ns, uint64_t now_unix_ns, char **buf,
				       size_t *len);

/*
 * Reads partial_success from an Export*ServiceResponse body (protobuf when
 * json is false). *rejected gets rejected_spans (traces) or
 * rejected_data_points (metrics), msg its error_message. An empty body is a
 * full success (0). Returns 0 or -EINVAL for a body that does not decode.
 */
int tvn_otlp__parse_response(const uint8_t *body, size_t len, bool json, bool traces,
			     int64_t *rejected, char *msg, size_t msglen);

#endif /* TORVYN_OTLP_H */
