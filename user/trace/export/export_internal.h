/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of the OTLP exporter (exporter.h) share:
 *   exporter.c  the public calls: setup, adding spans and metrics, stats, exit
 *   resource.c  the resources (hosts) spans and snapshots belong to, by id
 *   queue.c     requests, their encodings, the queues and the current batch
 *   sender.c    the sender thread: each request to stdout, the file, the endpoint
 *   retry.c     the endpoint's retries and their backoff
 *   client.c    the curl client: request headers, one POST
 *   url.c       the endpoint's URLs
 *   reply.c     what an OTLP/HTTP reply means (status, Retry-After, partial_success)
 *   grpc.c      OTLP/gRPC: framing, grpc-* trailers, status codes
 *   gzip.c      request and response compression
 *   env.c       the OTEL_* variables
 */
#ifndef TORVYN_EXPORT_INTERNAL_H
#define TORVYN_EXPORT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "exporter.h"
#include "ratelimit.h"

#define NEVER UINT64_MAX
#define RESP_MAX (1 << 20) /* response bytes kept; the rest is read and ignored */
#define GRPC_FRAME_HDR 5
#define TRACES_PATH "/v1/traces"

/* ------------------------------------------------------------ requests (queue.c) */

/* One request: a batch of spans or metrics snapshots, as its destinations want it. */
struct tvn_otlp_req {
	struct tvn_otlp_req *next;
	uint64_t seq; /* the sender takes the oldest of both queues first */
	bool metrics;
	/* traces: the batch, until the sender encodes it */
	struct tvn_otlp_span *spans;
	uint32_t *res_of; /* per span: its resource in res */
	size_t n_spans;
	struct tvn_otlp_resource *res; /* copies: the resource may be dropped meanwhile */
	size_t n_res;
	uint8_t *pb;
	size_t pb_len;
	char *json;
	size_t json_len;
};

/* A bounded queue that drops its oldest request when full. */
struct tvn_otlp_queue {
	struct tvn_otlp_req *head, *tail;
	uint32_t len, max;
};

/* Frees r and every request after it. */
void tvn_otlp_req__free(struct tvn_otlp_req *r);

/* ------------------------------------------------------------ the endpoint's client (client.c) */

enum tvn_otlp_outcome { EXPORT_OK, EXPORT_RETRY, EXPORT_FAIL, EXPORT_ABORT };

/* What one destination made of one request. */
struct tvn_otlp_result {
	enum tvn_otlp_outcome outcome;
	long delay_ms;	  /* the server's wait (Retry-After, pushback); -1: none */
	int64_t rejected; /* partial_success */
	bool partial;
	char msg[256]; /* why it failed, or partial_success.error_message */
};

/* One HTTP response, as the curl callbacks collect it. */
struct tvn_otlp_resp {
	uint8_t *body;
	size_t len, cap;
	int grpc_status; /* -1: none seen */
	char grpc_message[200];
	bool has_pushback;
	long pushback_ms; /* negative: the server says do not retry */
	bool grpc_gzip;	  /* response messages are gzip-compressed */
};

/* One OTLP/HTTP or OTLP/gRPC endpoint and the curl handle that posts to it. */
struct tvn_otlp_client {
	/* set by tvn_otlp_client__init, read-only afterwards */
	enum tvn_exporter_protocol protocol;
	bool grpc, gzip;
	char *traces_url, *metrics_url;
	struct curl_slist *req_headers, *metrics_headers; /* they differ in grpc-timeout */
	char *traces_ca, *metrics_ca;			  /* NULL: the system's certificates */
	/* mutual TLS: each signal's client certificate and key; NULL: none */
	char *traces_cert, *traces_key, *metrics_cert, *metrics_key;
	long traces_ms, metrics_ms;			  /* each request's timeout */
	const uint64_t *stop_at_ms; /* the exporter's exit deadline (atomic) */

	/* the sender thread's own */
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	bool cert_hinted[2]; /* traces, metrics: "may require a client certificate" said */
	unsigned int fresh_closes; /* TLS connections closed unanswered, in a row (tls_refused) */
};

/*
 * Sets c up for o->endpoint (o->protocol, o->gzip, o->headers...); stop_at_ms
 * cuts a transfer short once the monotonic time passes it. 0, or -errno with
 * err set. tvn_otlp_client__fini frees it either way.
 */
int tvn_otlp_client__init(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o,
			  const uint64_t *stop_at_ms, char *err, size_t errlen);
void tvn_otlp_client__fini(struct tvn_otlp_client *c);

/* The request body for the endpoint: gzipped or not, gRPC-framed or not. */
int tvn_otlp_client__body(const struct tvn_otlp_client *c, const struct tvn_otlp_req *r,
			  uint8_t **body, size_t *len);

/* One POST of body to url and what came of it. */
void tvn_otlp_client__post(struct tvn_otlp_client *c, const char *url, const uint8_t *body,
			   size_t len, bool traces, struct tvn_otlp_result *res);

/* ------------------------------------------------------------ URLs (url.c) */

/* Parses an endpoint; NULL unless it is an http:// or https:// URL with a host. */
CURLU *tvn_otlp_url__parse(const char *endpoint);

/*
 * The traces and metrics URLs (malloc'd) of endpoint, parsed as u: the gRPC
 * service paths, /v1/traces and /v1/metrics for a bare HTTP endpoint, and for
 * one with a path that path and its /v1/metrics sibling. 0 or -ENOMEM.
 */
int tvn_otlp_url__signals(CURLU *u, const char *endpoint, bool grpc, char **traces, char **metrics);

/*
 * The traces URL of a base endpoint u (OTEL_EXPORTER_OTLP_ENDPOINT): its path
 * + /v1/traces, into *url (curl_free it); NULL for an endpoint without a path.
 * 0 or -ENOMEM.
 */
int tvn_otlp_url__base_traces(CURLU *u, char **url);

/* The same for metrics, path + /v1/metrics, a bare endpoint included. */
int tvn_otlp_url__base_metrics(CURLU *u, char **url);

/*
 * The metrics URL (malloc'd) of a signal-specific metrics endpoint: as is
 * over HTTP, the service path on its host and port over gRPC. NULL on failure.
 */
char *tvn_otlp_url__metrics(const char *metrics_endpoint, bool grpc);

/* ------------------------------------------------------------ replies (reply.c, grpc.c) */

/* A 2xx OTLP/HTTP reply, a non-2xx one (Retry-After...) or a connection-level failure. */
void tvn_otlp_client__http_result(struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				  long code, bool traces, struct tvn_otlp_result *res);

/* Why a non-2xx HTTP response failed: its status and the server's reason, into res->msg. */
void tvn_otlp_client__http_failure(const struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				   long code, struct tvn_otlp_result *res);

/* 429, 502, 503, 504: worth a retry. */
bool tvn_otlp_client__http_retryable(long code);

/* The partial_success of a response message body, into res. */
void tvn_otlp_client__partial_success(const struct tvn_otlp_client *c, const uint8_t *body,
				      size_t len, bool traces, struct tvn_otlp_result *res);

/* What a gRPC call came to: the HTTP status, grpc-status, the response message. */
void tvn_otlp_client__grpc_result(const struct tvn_otlp_client *c, const struct tvn_otlp_resp *rsp,
				  long code, bool traces, struct tvn_otlp_result *res);

/* A response header or trailer line: the grpc-* ones go into rsp. */
void tvn_otlp_resp__header(struct tvn_otlp_resp *rsp, const char *line, size_t len);

/* The 5-byte gRPC message prefix of a message of n bytes. */
void tvn_grpc__frame(uint8_t *hdr, bool compressed, uint32_t n);

/* ------------------------------------------------------------ gzip (gzip.c) */

/*
 * gzip (zlib's deflate with a gzip wrapper) of in into a new buffer that
 * starts with pre bytes left for the caller. 0 or -ENOMEM / -EIO.
 */
int tvn_gzip__deflate(const void *in, size_t len, size_t pre, uint8_t **out, size_t *outlen);

/*
 * Inflates a gzip buffer into a new one, giving up (-ENOMEM) rather than grow
 * that past max bytes. 0, -ENOMEM or -EINVAL.
 */
int tvn_gzip__inflate(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen);

/* ------------------------------------------------------------ percent-encoding (env.c) */

/*
 * Percent-decodes s[0..len) into dst (dstlen bytes, always NUL-terminated,
 * the output cut to fit). A malformed escape: -1 if strict, else copied as it
 * is. Returns the decoded length.
 */
long tvn_percent__decode(char *dst, size_t dstlen, const char *s, size_t len, bool strict);

/* ------------------------------------------------------------ backoff (retry.c) */

/* Exponential backoff with jitter, a generator of its own per exporter. */
struct tvn_backoff {
	uint64_t rng;
};

void tvn_backoff__init(struct tvn_backoff *b, uint64_t seed);

/* 1 s, 2 s, 4 s ... capped, each +-20 % so that exporters do not retry in step. */
long tvn_backoff__delay_ms(struct tvn_backoff *b, unsigned int attempt);

/* ------------------------------------------------------------ the exporter */

/* One resource of the exporter; its id is its index in the table. */
struct tvn_exporter_res {
	struct tvn_otlp_resource res;
	bool live;    /* from tvn_exporter__add_resource to tvn_exporter__drop_resource */
	int in_batch; /* its index among the current batch's resources; -1: none */
};

struct tvn_exporter {
	/* set by tvn_exporter__new, read-only afterwards */
	struct tvn_exporter_opts opts; /* its strings point at the copies below */
	char *endpoint, *file_path, *headers[EXPORTER_MAX_HEADERS];
	bool want_pb, want_json;
	bool no_traces; /* metrics only (a metrics endpoint alone): spans go nowhere */

	/* the sender thread's own */
	struct tvn_otlp_client client; /* client.curl is set when there is an endpoint */
	FILE *file;
	struct tvn_backoff backoff;
	uint64_t dropped_reported;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* wakes the sender */
	uint64_t stop_at_ms; /* atomic: NEVER until tvn_exporter__free */

	/* under mu */
	struct tvn_exporter_res *res; /* by id; a slot neither live nor in the batch is free */
	int n_res, cap_res;
	struct tvn_otlp_span *batch;
	uint32_t *batch_of; /* per span: its resource's index in batch_res */
	size_t batch_n, batch_cap;
	int *batch_res; /* ids of the batch's resources, in the order of their first span */
	uint32_t batch_n_res, batch_res_cap;
	uint64_t batch_t0_ms;
	struct tvn_otlp_queue traces, metrics;
	uint64_t seq;
	struct tvn_exporter_stats st;
	struct tvn_ratelimit failures_log; /* the sender thread's failure lines */
};

/* The monotonic clock in milliseconds: batch ages, deadlines, backoff. */
uint64_t tvn_export__now_ms(void);

/* tvn_exporter__free's deadline on the monotonic clock; NEVER before. */
uint64_t tvn_exporter__stop_at(const struct tvn_exporter *e);

/*
 * Encodes r for the destinations (protobuf, JSON or both): a trace request
 * from its spans and resources (freed then), a metrics one from n snapshots
 * and their resources. 0 or -errno.
 */
int tvn_exporter__encode_traces(const struct tvn_exporter *e, struct tvn_otlp_req *r);
int tvn_exporter__encode_metrics(const struct tvn_exporter *e, struct tvn_otlp_req *r,
				 const struct tvn_otlp_resource *const *res,
				 const struct tvn_snapshot *const *snaps, size_t n,
				 uint64_t start_unix_ns, uint64_t now_unix_ns);

/*
 * The resource table (resource.c), under e->mu. The first resource of a new
 * exporter: 0 or -ENOMEM.
 */
int tvn_exporter__res_init_locked(struct tvn_exporter *e, const struct tvn_otlp_resource *res);

/*
 * The index among the current batch's resources of resource id, which joins
 * them with its first span. -ENOENT for an id that is not live, -ENOMEM.
 */
int tvn_exporter__batch_res_locked(struct tvn_exporter *e, int id);

/*
 * Moves copies of the current batch's resources into r (r->res, r->n_res)
 * and empties the batch's list of them, so that a dropped one's slot is free.
 * 0, or -ENOMEM (r NULL or no memory) with the list emptied all the same.
 */
int tvn_exporter__batch_res_take_locked(struct tvn_exporter *e, struct tvn_otlp_req *r);

/* Copies of resources ids[0..n) into out; the index of an unknown id, or -1. */
int tvn_exporter__res_copy_locked(const struct tvn_exporter *e, const int *ids, int n,
				  struct tvn_otlp_resource *out);

/*
 * The queues (queue.c), under e->mu. Functions that take a request out of a
 * queue to make room return it: the caller frees it after unlocking, and it is
 * counted as dropped already.
 */
struct tvn_otlp_req *tvn_exporter__enqueue_locked(struct tvn_exporter *e, struct tvn_otlp_queue *q,
						  struct tvn_otlp_req *r);
struct tvn_otlp_req *tvn_exporter__dequeue_oldest_locked(struct tvn_exporter *e);
void tvn_exporter__count_dropped_locked(struct tvn_exporter *e, const struct tvn_otlp_req *r);

/* Moves the current batch into the queue. */
struct tvn_otlp_req *tvn_exporter__batch_queue_locked(struct tvn_exporter *e);

/* Queues the current batch if it waited batch_timeout_ms since its first span. */
struct tvn_otlp_req *tvn_exporter__batch_expire_locked(struct tvn_exporter *e, uint64_t now);

/* Room for more spans in the current batch, up to batch_max_spans. 0 or -ENOMEM. */
int tvn_exporter__batch_grow_locked(struct tvn_exporter *e);

/* The sender thread (sender.c). */
void *tvn_exporter__sender_main(void *arg);

/*
 * Sleeps until until_ms, queueing the partial batch when its time comes.
 * False if tvn_exporter__free's deadline came first.
 */
bool tvn_exporter__sleep_until(struct tvn_exporter *e, uint64_t until_ms);

/* Delivers r to the endpoint, retrying with backoff (retry.c). */
void tvn_exporter__send(struct tvn_exporter *e, const struct tvn_otlp_req *r,
			struct tvn_otlp_result *res);

#endif /* TORVYN_EXPORT_INTERNAL_H */
