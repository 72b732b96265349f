/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP exporter: batches spans, encodes them (otlp.h) and sends them from
 * its own thread over OTLP/HTTP (protobuf or JSON), OTLP/gRPC, to stdout or
 * to a file. Adding a span never blocks: batches wait in a bounded queue that
 * drops its oldest batch when full, and counts what it dropped. One exporter
 * serves any number of resources (traced hosts): each span and each snapshot
 * belongs to one, named by the id tvn_exporter__add_resource gave it.
 */
#ifndef TORVYN_EXPORTER_H
#define TORVYN_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp.h"

enum tvn_exporter_protocol { EXPORTER_HTTP_PROTOBUF, EXPORTER_HTTP_JSON, EXPORTER_GRPC };

#define EXPORTER_MAX_HEADERS 16

struct tvn_exporter_opts {
	/*
	 * Base endpoint, e.g. "http://127.0.0.1:4318" (HTTP: /v1/traces and
	 * /v1/metrics are appended unless the URL already has a path) or
	 * "http://127.0.0.1:4317" (gRPC, cleartext HTTP/2). NULL: no network,
	 * or, with metrics_endpoint, metrics only (spans are not exported).
	 */
	const char *endpoint;
	/*
	 * The metrics URL as is (HTTP; gRPC: its scheme, host and port), as
	 * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT gives it. NULL: from endpoint.
	 */
	const char *metrics_endpoint;
	/* PEM certificates that verify https endpoints; NULL: the system's */
	const char *ca_file, *metrics_ca_file;
	/*
	 * Mutual TLS: the PEM client certificate and its key, both or neither,
	 * for traces and for metrics, each signal its own (the variables give
	 * both). NULL: no client certificate.
	 */
	const char *client_cert, *client_key;
	const char *metrics_client_cert, *metrics_client_key;
	enum tvn_exporter_protocol protocol;
	bool gzip;
	const char *headers[EXPORTER_MAX_HEADERS]; /* "Key: Value" */
	int n_headers;
	bool to_stdout;		     /* OTLP/JSON, one request a line */
	const char *file_path;	     /* OTLP/JSON lines, appended */
	uint32_t batch_max_spans;    /* 512 */
	uint32_t batch_timeout_ms;   /* 5000: a partial batch goes after this */
	uint32_t queue_max_batches;  /* 64 */
	uint32_t request_timeout_ms; /* 10000 */
	uint32_t metrics_timeout_ms; /* a metrics request's; 0: request_timeout_ms */
	uint32_t max_retry_ms;	     /* give a request up after retrying this long (30000) */
};

struct tvn_exporter_stats {
	uint64_t spans_queued;	 /* handed to tvn_exporter__add_span(_to) */
	uint64_t spans_exported; /* acknowledged by every destination */
	uint64_t spans_dropped;	 /* queue full (oldest dropped), given up, unknown resource */
	uint64_t spans_rejected; /* partial_success rejected_spans, summed */
	uint64_t metric_requests_sent;
	uint64_t metric_requests_failed;
	uint64_t requests_retried;
	uint64_t requests_failed; /* non-retryable errors or retries exhausted */
	uint64_t partial_successes;
	uint64_t metric_requests_dropped; /* metrics queue full (oldest dropped), unsent at exit */
};

struct tvn_exporter;

/*
 * Starts the sender thread. Returns NULL with err set (bad endpoint URL,
 * unwritable file...). res is copied: it is resource 0.
 */
struct tvn_exporter *tvn_exporter__new(const struct tvn_exporter_opts *opts,
				       const struct tvn_otlp_resource *res, char *err,
				       size_t errlen);

/*
 * Another resource (a traced host) that spans and snapshots can belong to;
 * res is copied. Returns its id (>= 0; the resource given to
 * tvn_exporter__new is id 0) or -errno. Ids of dropped resources are given
 * again.
 */
int tvn_exporter__add_resource(struct tvn_exporter *e, const struct tvn_otlp_resource *res);

/*
 * The host of resource id is gone: its spans already added still go out under
 * it, spans added to it from now on are dropped (and counted), and the id may
 * be given to the next resource added. An unknown id does nothing.
 */
void tvn_exporter__drop_resource(struct tvn_exporter *e, int id);

/*
 * Never blocks. The span is copied. A batch holds spans of any resources and
 * goes as one request with one ResourceSpans per resource, in the order of
 * their first span; its limits count spans, whatever their resource. A span
 * of an unknown resource id is dropped.
 */
void tvn_exporter__add_span_to(struct tvn_exporter *e, int res_id,
			       const struct tvn_otlp_span *span);

/* tvn_exporter__add_span_to resource 0. */
void tvn_exporter__add_span(struct tvn_exporter *e, const struct tvn_otlp_span *span);

/* Hands the partial batch to the sender now. */
void tvn_exporter__flush(struct tvn_exporter *e);

/* Encodes the snapshot (OTLP metrics) and queues it; never blocks. */
void tvn_exporter__push_metrics(struct tvn_exporter *e, const struct tvn_snapshot *snap,
				uint64_t start_unix_ns, uint64_t now_unix_ns);

/*
 * Encodes n snapshots as one OTLP metrics request, snaps[i] under resource
 * res_ids[i] (one ResourceMetrics each, in that order), and queues it; never
 * blocks. An unknown id fails the whole push (counted in
 * metric_requests_failed).
 */
void tvn_exporter__push_metrics_many(struct tvn_exporter *e, const int *res_ids,
				     const struct tvn_snapshot *const *snaps, int n,
				     uint64_t start_unix_ns, uint64_t now_unix_ns);

void tvn_exporter__stats(struct tvn_exporter *e, struct tvn_exporter_stats *st);

/*
 * Flushes, waits up to deadline_ms for the queue to drain, stops the thread,
 * frees. NULL does nothing.
 */
void tvn_exporter__free(struct tvn_exporter *e, uint32_t deadline_ms);

/*
 * Fills opts from the standard variables OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL
 * (grpc, http/protobuf, http/json), OTEL_EXPORTER_OTLP_HEADERS
 * (k=v,k2=v2, percent-decoded), OTEL_EXPORTER_OTLP_COMPRESSION (gzip, none),
 * the per-signal ones (_METRICS_ENDPOINT, [_signal]_TIMEOUT, _CERTIFICATE,
 * _CLIENT_CERTIFICATE and _CLIENT_KEY: PEM files that must be readable, the
 * client pair set together) and res->service_name from OTEL_SERVICE_NAME
 * (and OTEL_RESOURCE_ATTRIBUTES' service.name). Call it before applying
 * flags: flags win. Strings returned in opts point into storage owned by the
 * returned block (free with free()). Returns NULL and sets err on a
 * malformed value.
 */
void *tvn_exporter__opts_from_env(struct tvn_exporter_opts *opts, struct tvn_otlp_resource *res,
				  char *err, size_t errlen);

#endif /* TORVYN_EXPORTER_H */
