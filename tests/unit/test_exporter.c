// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for the OTLP exporter (user/trace/export/): batching, the
 * drop-oldest queue, OTLP/HTTP (headers, gzip, retries, Retry-After, partial
 * success), JSON lines to stdout and a file, the exit deadline. The OTEL_*
 * variables have test_export_env.c, many resources test_exporter_many.c.
 * The collector is a tiny HTTP/1.1 receiver on a thread of this process
 * (otlp_rx.c) whose answers each test scripts. Bodies are
 * compared with what the encoders (otlp.h) make of the same spans. OTLP/gRPC needs an
 * HTTP/2 server: the integration tests cover it.
 */
#include <errno.h>
#include <fcntl.h>
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

#include <zlib.h>

#include "exporter.h"
#include "log.h"
#include "otlp.h"
#include "otlp_rx.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ captured log */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[16384];
static size_t log_len;

void __real_tvn_log__printf(enum tvn_log_level level, const char *fmt, ...);
void __wrap_tvn_log__printf(enum tvn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps warnings for the tests to read; TEST_VERBOSE=1 shows everything. */
void __wrap_tvn_log__printf(enum tvn_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "  [log %d] %s", level, line);
	if (level != LOG_WARN)
		return;
	pthread_mutex_lock(&log_mu);
	n = strlen(line);
	if (log_len + n < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n + 1);
		log_len += n;
	}
	pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
	pthread_mutex_lock(&log_mu);
	log_buf[0] = 0;
	log_len = 0;
	pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *s)
{
	bool found;

	pthread_mutex_lock(&log_mu);
	found = strstr(log_buf, s);
	pthread_mutex_unlock(&log_mu);
	return found;
}

/* ------------------------------------------------------------ the encoder */

/* When set, OTLP/JSON trace requests come wrapped in newlines, as a pretty printer's would. */
static bool json_pretty;

/* The exporter encodes through the _many encoder, the tests' expectations through the other. */
int __real_tvn_otlp__encode_traces_json(const struct tvn_otlp_resource *res,
					const struct tvn_otlp_span *spans, size_t n, char **buf,
					size_t *len);
int __wrap_tvn_otlp__encode_traces_json(const struct tvn_otlp_resource *res,
					const struct tvn_otlp_span *spans, size_t n, char **buf,
					size_t *len);
int __real_tvn_otlp__encode_traces_many_json(const struct tvn_otlp_traces *t, char **buf,
					     size_t *len);
int __wrap_tvn_otlp__encode_traces_many_json(const struct tvn_otlp_traces *t, char **buf,
					     size_t *len);

static int json_pad(int err, char **buf, size_t *len)
{
	char *b;

	if (err || !json_pretty)
		return err;
	b = malloc(*len + 3);
	assert_non_null(b);
	b[0] = '\n';
	memcpy(b + 1, *buf, *len);
	b[*len + 1] = '\n';
	b[*len + 2] = 0;
	free(*buf);
	*buf = b;
	*len += 2;
	return 0;
}

int __wrap_tvn_otlp__encode_traces_json(const struct tvn_otlp_resource *res,
					const struct tvn_otlp_span *spans, size_t n, char **buf,
					size_t *len)
{
	return json_pad(__real_tvn_otlp__encode_traces_json(res, spans, n, buf, len), buf, len);
}

int __wrap_tvn_otlp__encode_traces_many_json(const struct tvn_otlp_traces *t, char **buf,
					     size_t *len)
{
	return json_pad(__real_tvn_otlp__encode_traces_many_json(t, buf, len), buf, len);
}

/* ------------------------------------------------------------ helpers */

static const struct tvn_otlp_resource test_res = {
    .service_name = "torvyn-host",
    .service_instance_id = "i-1",
    .host_name = "testhost",
    .pid = 4242,
    .executable_name = "torvyn-host",
};

static struct tvn_otlp_span *mk_spans(size_t n)
{
	struct tvn_otlp_span *s = calloc(n, sizeof(*s));

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[i].trace_id[0] = 1;
		s[i].trace_id[15] = (uint8_t)(i >> 8);
		s[i].span_id[0] = 2;
		s[i].span_id[6] = (uint8_t)(i >> 8);
		s[i].span_id[7] = (uint8_t)i;
		s[i].flags = 1;
		snprintf(s[i].name, sizeof(s[i].name), "span-%zu", i);
		s[i].kind = OTLP_SPAN_KIND_INTERNAL;
		s[i].start_unix_ns = 1700000000000000000ull + i * 1000;
		s[i].end_unix_ns = s[i].start_unix_ns + 500;
		tvn_otlp_span__attr_int(&s[i], "torvyn.element.seq", (int64_t)i);
	}
	return s;
}

static void add_spans(struct tvn_exporter *e, const struct tvn_otlp_span *s, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		tvn_exporter__add_span(e, &s[i]);
}

static struct tvn_exporter *new_exporter(const struct tvn_exporter_opts *o)
{
	char err[256] = "";
	struct tvn_exporter *e = tvn_exporter__new(o, &test_res, err, sizeof(err));

	if (!e)
		fail_msg("tvn_exporter__new: %s", err);
	return e;
}

/* Asserts that the body of req is what the encoders make of spans [from, to). */
static void assert_traces_body(const uint8_t *body, size_t len, const struct tvn_otlp_span *s,
			       size_t from, size_t to, bool json)
{
	uint8_t *want = NULL;
	size_t wlen = 0;

	if (json)
		assert_int_equal(tvn_otlp__encode_traces_json(&test_res, s + from, to - from,
							      (char **)&want, &wlen),
				 0);
	else
		assert_int_equal(
		    tvn_otlp__encode_traces_pb(&test_res, s + from, to - from, &want, &wlen), 0);
	for (size_t i = 0; json && i < wlen; i++)
		if (want[i] == '\n' || want[i] == '\r')
			want[i] = ' ';
	assert_int_equal(len, wlen);
	assert_memory_equal(body, want, wlen);
	free(want);
}

static void setup_log(void)
{
	log_reset();
	tvn_log_verbosity = LOG_DEBUG;
}

/* ------------------------------------------------------------ batching */

static void test_1000_spans_two_requests(void **state)
{
	struct tvn_otlp_span *s = mk_spans(1000);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64], v[128];

	(void)state;
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	add_spans(e, s, 0, 1000);
	/* the 512th span queued the first batch; 488 wait for the flush */
	assert_true(WAIT_FOR(rx_count(rx) == 1, 5000));
	usleep(50000);
	assert_int_equal(rx_count(rx), 1);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 1000, 5000));
	st = stats(e);
	assert_int_equal(rx_count(rx), 2);
	assert_int_equal(st.spans_queued, 1000);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(st.requests_retried, 0);
	assert_int_equal(st.requests_failed, 0);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(rx->reqs[i].method, "POST");
		assert_string_equal(rx->reqs[i].path, "/v1/traces");
		assert_non_null(rx_header(&rx->reqs[i], "content-type", v, sizeof(v)));
		assert_string_equal(v, "application/x-protobuf");
		assert_null(rx_header(&rx->reqs[i], "content-encoding", v, sizeof(v)));
	}
	assert_traces_body(rx->reqs[0].body, rx->reqs[0].len, s, 0, 512, false);
	assert_traces_body(rx->reqs[1].body, rx->reqs[1].len, s, 512, 1000, false);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static void test_batch_timeout(void **state)
{
	struct tvn_otlp_span *s = mk_spans(5);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	uint64_t t0;
	char url[64];

	(void)state;
	o = base_opts(rx, url, sizeof(url));
	o.batch_timeout_ms = 200;
	e = new_exporter(&o);
	t0 = now_ms();
	add_spans(e, s, 0, 5);
	assert_true(WAIT_FOR(rx_count(rx) == 1, 3000));
	assert_true(rx->reqs[0].t_ms - t0 >= 200);
	assert_true(WAIT_FOR(stats(e).spans_exported == 5, 3000));
	assert_traces_body(rx->reqs[0].body, rx->reqs[0].len, s, 0, 5, false);
	tvn_exporter__free(e, 1000);
	assert_int_equal(rx_count(rx), 1);
	rx_stop(rx);
	free(s);
}

/* ------------------------------------------------------------ HTTP details */

static void test_gzip_body(void **state)
{
	struct tvn_otlp_span *s = mk_spans(40);
	struct rx *rx = rx_start();
	uint8_t *plain = malloc(1 << 20);
	z_stream z = {0};
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	char url[64], v[64];

	(void)state;
	o = base_opts(rx, url, sizeof(url));
	o.gzip = true;
	e = new_exporter(&o);
	add_spans(e, s, 0, 40);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 40, 5000));
	assert_non_null(rx_header(&rx->reqs[0], "content-encoding", v, sizeof(v)));
	assert_string_equal(v, "gzip");
	assert_true(rx->reqs[0].len >= 2);
	assert_int_equal(rx->reqs[0].body[0], 0x1f); /* the gzip magic */
	assert_int_equal(rx->reqs[0].body[1], 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = rx->reqs[0].body;
	z.avail_in = rx->reqs[0].len;
	z.next_out = plain;
	z.avail_out = 1 << 20;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_traces_body(plain, z.total_out, s, 0, 40, false);
	inflateEnd(&z);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(plain);
	free(s);
}

static void test_headers_and_json(void **state)
{
	struct tvn_otlp_span *s = mk_spans(3);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	char url[64], v[128];

	(void)state;
	o = base_opts(rx, url, sizeof(url));
	o.protocol = EXPORTER_HTTP_JSON;
	o.headers[0] = "X-Api-Key: s3cret";
	o.headers[1] = "Authorization: Bearer abc def";
	o.n_headers = 2;
	e = new_exporter(&o);
	add_spans(e, s, 0, 3);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 3, 5000));
	assert_string_equal(rx->reqs[0].path, "/v1/traces");
	assert_non_null(rx_header(&rx->reqs[0], "x-api-key", v, sizeof(v)));
	assert_string_equal(v, "s3cret");
	assert_non_null(rx_header(&rx->reqs[0], "authorization", v, sizeof(v)));
	assert_string_equal(v, "Bearer abc def");
	assert_non_null(rx_header(&rx->reqs[0], "content-type", v, sizeof(v)));
	assert_string_equal(v, "application/json");
	assert_null(rx_header(&rx->reqs[0], "expect", v, sizeof(v)));
	assert_traces_body(rx->reqs[0].body, rx->reqs[0].len, s, 0, 3, true);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static struct tvn_snapshot *mk_snapshot(void)
{
	struct tvn_snapshot *snap = calloc(1, sizeof(*snap));

	assert_non_null(snap);
	snap->level = 1;
	snap->target_up = 1;
	snap->target_pid = 4242;
	return snap;
}

static void assert_metrics_body(const struct rx_req *req, const struct tvn_snapshot *snap,
				uint64_t t0, uint64_t t1)
{
	uint8_t *want = NULL;
	size_t wlen = 0;

	assert_int_equal(tvn_otlp__encode_metrics_pb(&test_res, snap, t0, t1, &want, &wlen), 0);
	assert_int_equal(req->len, wlen);
	assert_memory_equal(req->body, want, wlen);
	free(want);
}

/* A path given with the endpoint is the traces URL; metrics swap the last part. */
static void test_urls_and_metrics(void **state)
{
	struct tvn_snapshot *snap = mk_snapshot();
	struct tvn_otlp_span *s = mk_spans(2);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	char url[128];

	(void)state;
	o = base_opts(rx, url, sizeof(url));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/custom/v1/traces", rx->port);
	e = new_exporter(&o);
	add_spans(e, s, 0, 2);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 2, 5000));
	tvn_exporter__push_metrics(e, snap, 1000, 2000);
	assert_true(WAIT_FOR(stats(e).metric_requests_sent == 1, 5000));
	assert_string_equal(rx->reqs[0].path, "/custom/v1/traces");
	assert_string_equal(rx->reqs[1].path, "/custom/v1/metrics");
	assert_metrics_body(&rx->reqs[1], snap, 1000, 2000);
	tvn_exporter__free(e, 1000);

	/* a bare endpoint (trailing slash or not) gets /v1/traces and /v1/metrics */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", rx->port);
	e = new_exporter(&o);
	add_spans(e, s, 0, 2);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 2, 5000));
	tvn_exporter__push_metrics(e, snap, 1000, 3000);
	assert_true(WAIT_FOR(stats(e).metric_requests_sent == 1, 5000));
	assert_string_equal(rx->reqs[2].path, "/v1/traces");
	assert_string_equal(rx->reqs[3].path, "/v1/metrics");
	assert_metrics_body(&rx->reqs[3], snap, 1000, 3000);
	assert_int_equal(stats(e).metric_requests_failed, 0);
	tvn_exporter__free(e, 1000);
	assert_int_equal(rx_count(rx), 4);
	rx_stop(rx);
	free(s);
	free(snap);
}

/* ------------------------------------------------------------ retries */

static void test_503_twice_then_200(void **state)
{
	struct tvn_otlp_span *s = mk_spans(5);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64];

	(void)state;
	rx->script[0].status = 503;
	rx->script[1].status = 503;
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	add_spans(e, s, 0, 5);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 5, 8000));
	st = stats(e);
	assert_int_equal(rx_count(rx), 3);
	assert_int_equal(st.requests_retried, 2);
	assert_int_equal(st.requests_failed, 0);
	assert_int_equal(st.spans_dropped, 0);
	/* backoff 1 s then 2 s, each within +-20 % */
	assert_in_range(rx->reqs[1].t_ms - rx->reqs[0].t_ms, 800, 1500);
	assert_in_range(rx->reqs[2].t_ms - rx->reqs[1].t_ms, 1600, 2900);
	for (int i = 0; i < 3; i++)
		assert_traces_body(rx->reqs[i].body, rx->reqs[i].len, s, 0, 5, false);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static void test_retry_after(void **state)
{
	struct tvn_otlp_span *s = mk_spans(4);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	char url[64];

	(void)state;
	/* 2 s: more than any first backoff (at most 1.2 s) */
	rx->script[0] = (struct rx_reply){.status = 429, .headers = "Retry-After: 2\r\n"};
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	add_spans(e, s, 0, 4);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 4, 6000));
	assert_int_equal(rx_count(rx), 2);
	assert_int_equal(stats(e).requests_retried, 1);
	assert_in_range(rx->reqs[1].t_ms - rx->reqs[0].t_ms, 2000, 2900);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static void test_400_no_retry(void **state)
{
	static const char text[] = "bad span";
	/* google.rpc.Status{code: 3, message: "bad trace id"} */
	static const uint8_t status[] = {0x08, 0x03, 0x12, 0x0c, 'b', 'a', 'd', ' ',
					 't',  'r',  'a',  'c',	 'e', ' ', 'i', 'd'};
	struct tvn_otlp_span *s = mk_spans(12);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64];

	(void)state;
	setup_log();
	rx->script[0] = (struct rx_reply){.status = 400, .body = text, .len = sizeof(text) - 1};
	rx->script[1] = (struct rx_reply){.status = 400, .body = status, .len = sizeof(status)};
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	add_spans(e, s, 0, 7);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).requests_failed == 1, 5000));
	/* the sender goes in order: a retry would come before the next batch */
	add_spans(e, s, 7, 9);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).requests_failed == 2, 5000));
	add_spans(e, s, 9, 12);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).spans_exported == 3, 5000));
	st = stats(e);
	assert_int_equal(rx_count(rx), 3);
	assert_int_equal(st.requests_retried, 0);
	assert_int_equal(st.requests_failed, 2);
	assert_int_equal(st.spans_dropped, 9);
	assert_int_equal(st.spans_queued, 12);
	assert_traces_body(rx->reqs[1].body, rx->reqs[1].len, s, 7, 9, false);
	assert_traces_body(rx->reqs[2].body, rx->reqs[2].len, s, 9, 12, false);
	assert_true(log_has("spans were not exported: HTTP 400: bad span\n"));
	assert_true(log_has("spans were not exported: HTTP 400: bad trace id\n"));
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static void test_connection_refused_gives_up(void **state)
{
	struct tvn_otlp_span *s = mk_spans(6);
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64];
	int port, fd;

	(void)state;
	fd = listen_any(&port); /* bound, never listening: connections are refused */
	o = base_opts(NULL, NULL, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o.endpoint = url;
	/* one retry after 0.8-1.2 s fits; the next (1.6-2.4 s more) does not */
	o.max_retry_ms = 2000;
	e = new_exporter(&o);
	add_spans(e, s, 0, 6);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).requests_failed == 1, 5000));
	st = stats(e);
	assert_int_equal(st.requests_retried, 1);
	assert_int_equal(st.spans_dropped, 6);
	assert_int_equal(st.spans_exported, 0);
	tvn_exporter__free(e, 1000);
	close(fd);
	free(s);
}

/* ------------------------------------------------------------ the queue */

static void test_queue_drops_oldest(void **state)
{
	struct tvn_otlp_span *s = mk_spans(50);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	uint64_t t0;
	char url[64];

	(void)state;
	setup_log();
	rx->stall = 0;
	o = base_opts(rx, url, sizeof(url));
	o.batch_max_spans = 10;
	o.queue_max_batches = 2;
	e = new_exporter(&o);
	add_spans(e, s, 0, 10); /* batch A: the sender takes it, the receiver stalls */
	assert_true(WAIT_FOR(rx_count(rx) == 1, 5000));
	t0 = now_ms();
	add_spans(e, s, 10, 50);	  /* B, C queue; D and E push B and C out */
	assert_true(now_ms() - t0 < 200); /* never waits for the sender */
	st = stats(e);
	assert_int_equal(st.spans_queued, 50);
	assert_int_equal(st.spans_dropped, 20);
	assert_int_equal(st.spans_exported, 0);
	rx_release(rx);
	assert_true(WAIT_FOR(stats(e).spans_exported == 30, 5000));
	st = stats(e);
	assert_int_equal(st.spans_dropped, 20);
	assert_int_equal(rx_count(rx), 3);
	assert_traces_body(rx->reqs[0].body, rx->reqs[0].len, s, 0, 10, false);
	assert_traces_body(rx->reqs[1].body, rx->reqs[1].len, s, 30, 40, false);
	assert_traces_body(rx->reqs[2].body, rx->reqs[2].len, s, 40, 50, false);
	assert_true(log_has("20 spans dropped"));
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

static void test_metrics_queue_drops_oldest(void **state)
{
	struct tvn_snapshot *snap = mk_snapshot();
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64];

	(void)state;
	rx->stall = 0;
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	tvn_exporter__push_metrics(e, snap, 0, 1);
	assert_true(WAIT_FOR(rx_count(rx) == 1, 5000));
	for (uint64_t t = 2; t <= 7; t++) /* 6 more: the queue keeps the last 4 */
		tvn_exporter__push_metrics(e, snap, 0, t);
	assert_int_equal(stats(e).metric_requests_dropped, 2);
	rx_release(rx);
	assert_true(WAIT_FOR(stats(e).metric_requests_sent == 5, 5000));
	st = stats(e);
	assert_int_equal(st.metric_requests_dropped, 2);
	assert_int_equal(st.metric_requests_failed, 0);
	assert_int_equal(rx_count(rx), 5);
	assert_metrics_body(&rx->reqs[0], snap, 0, 1);
	for (int i = 1; i < 5; i++)
		assert_metrics_body(&rx->reqs[i], snap, 0, 3 + i);
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(snap);
}

static void test_free_deadline(void **state)
{
	struct tvn_otlp_span *s = mk_spans(35);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	uint64_t t0, took;
	char url[64];

	(void)state;
	setup_log();
	rx->stall = 0;
	o = base_opts(rx, url, sizeof(url));
	o.batch_max_spans = 10;
	e = new_exporter(&o);
	add_spans(e, s, 0, 10);
	assert_true(WAIT_FOR(rx_count(rx) == 1, 5000));
	add_spans(e, s, 10, 35); /* two full batches and 5 spans */
	t0 = now_ms();
	tvn_exporter__free(e, 300);
	took = now_ms() - t0;
	/* libcurl checks the progress callback at least once a second */
	assert_in_range(took, 300, 1500);
	assert_true(log_has("dropped 25 queued spans and 0 metric requests"));
	assert_true(log_has("cut short by the exit deadline"));
	rx_release(rx);
	assert_int_equal(rx_count(rx), 1);
	rx_stop(rx);
	free(s);
}

/* ------------------------------------------------------------ partial success */

static void test_partial_success(void **state)
{
	/* ExportTraceServiceResponse.partial_success: rejected_spans 3, "too old" */
	static const uint8_t resp[] = {0x0a, 0x0b, 0x08, 0x03, 0x12, 0x07, 't',
				       'o',  'o',  ' ',	 'o',  'l',  'd'};
	struct tvn_otlp_span *s = mk_spans(10);
	struct rx *rx = rx_start();
	struct tvn_exporter_opts o;
	struct tvn_exporter_stats st;
	struct tvn_exporter *e;
	char url[64];

	(void)state;
	setup_log();
	rx->script[0] = (struct rx_reply){.headers = "Content-Type: application/x-protobuf\r\n",
					  .body = resp,
					  .len = sizeof(resp)};
	o = base_opts(rx, url, sizeof(url));
	e = new_exporter(&o);
	add_spans(e, s, 0, 10);
	tvn_exporter__flush(e);
	assert_true(WAIT_FOR(stats(e).partial_successes == 1, 5000));
	st = stats(e);
	assert_int_equal(st.spans_rejected, 3);
	assert_int_equal(st.spans_exported, 7);
	assert_int_equal(st.spans_dropped, 0);
	assert_int_equal(st.requests_failed, 0);
	assert_true(log_has("rejected 3 of 10 spans: too old"));
	tvn_exporter__free(e, 1000);
	rx_stop(rx);
	free(s);
}

/* ------------------------------------------------------------ JSON lines */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 22);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 22) - 1, f);
	fclose(f);
	return buf;
}

/* Checks that text holds, line by line: first (if not NULL), then the 3 requests. */
static void assert_json_lines(const char *text, const char *first, const struct tvn_otlp_span *s,
			      const struct tvn_snapshot *snap)
{
	const char *p = text, *nl;
	char *want;
	size_t wlen;

	if (first) {
		assert_memory_equal(p, first, strlen(first));
		p += strlen(first);
	}
	for (int i = 0; i < 3; i++) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (i < 2)
			assert_traces_body((const uint8_t *)p, nl - p, s, i * 4, i * 4 + 4, true);
		if (i == 2) {
			assert_int_equal(
			    tvn_otlp__encode_metrics_json(&test_res, snap, 10, 20, &want, &wlen),
			    0);
			for (size_t j = 0; j < wlen; j++)
				if (want[j] == '\n' || want[j] == '\r')
					want[j] = ' ';
			assert_int_equal((size_t)(nl - p), wlen);
			assert_memory_equal(p, want, wlen);
			free(want);
		}
		p = nl + 1;
	}
	assert_int_equal(*p, 0);
}

static void test_json_lines_file_and_stdout(void **state)
{
	static const char first[] = "{\"already\":\"here\"}\n";
	char path[] = "/tmp/test_exporter_XXXXXX", out[] = "/tmp/test_exporter_out_XXXXXX";
	struct tvn_snapshot *snap = mk_snapshot();
	struct tvn_otlp_span *s = mk_spans(8);
	struct tvn_exporter_opts o;
	struct tvn_exporter *e;
	int fd, ofd, saved;
	char *text;
	size_t len;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, first, sizeof(first) - 1), (ssize_t)sizeof(first) - 1);
	close(fd);
	ofd = mkstemp(out);
	assert_true(ofd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(ofd, STDOUT_FILENO);

	json_pretty = true; /* the exporter must still write one request a line */
	o = base_opts(NULL, NULL, 0);
	o.file_path = path;
	o.to_stdout = true;
	e = new_exporter(&o);
	add_spans(e, s, 0, 4);
	tvn_exporter__flush(e);
	add_spans(e, s, 4, 8);
	tvn_exporter__flush(e);
	tvn_exporter__push_metrics(e, snap, 10, 20);
	assert_true(
	    WAIT_FOR(stats(e).spans_exported == 8 && stats(e).metric_requests_sent == 1, 5000));
	/* read while the exporter lives: each request is flushed as it goes */
	text = slurp(path, &len);
	assert_json_lines(text, first, s, snap);
	free(text);
	text = slurp(out, &len);
	assert_json_lines(text, NULL, s, snap);
	free(text);
	tvn_exporter__free(e, 1000);
	json_pretty = false;

	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(ofd);
	unlink(path);
	unlink(out);
	free(s);
	free(snap);
}

/* ------------------------------------------------------------ tvn_exporter__new */

static void test_new_errors(void **state)
{
	struct tvn_exporter_opts o = base_opts(NULL, NULL, 0);
	char err[256];

	(void)state;
	o.endpoint = "localhost:4318";
	assert_null(tvn_exporter__new(&o, &test_res, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "\"localhost:4318\": expected an http:// or https:// URL"));

	o.endpoint = "ftp://127.0.0.1/";
	assert_null(tvn_exporter__new(&o, &test_res, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);

	o.endpoint = NULL;
	assert_null(tvn_exporter__new(&o, &test_res, err, sizeof(err)));
	assert_non_null(strstr(err, "no OTLP destination"));

	o.file_path = "/nonexistent-dir/otlp.jsonl";
	assert_null(tvn_exporter__new(&o, &test_res, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/otlp.jsonl"));

	o.file_path = NULL;
	o.to_stdout = true;
	o.headers[0] = "no colon";
	o.n_headers = 1;
	assert_null(tvn_exporter__new(&o, &test_res, err, sizeof(err)));
	assert_non_null(strstr(err, "\"no colon\": expected \"Name: value\""));

	tvn_exporter__free(NULL, 0);
	tvn_exporter__add_span(NULL, NULL);
	tvn_exporter__flush(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_1000_spans_two_requests),
	    cmocka_unit_test(test_batch_timeout),
	    cmocka_unit_test(test_gzip_body),
	    cmocka_unit_test(test_headers_and_json),
	    cmocka_unit_test(test_urls_and_metrics),
	    cmocka_unit_test(test_503_twice_then_200),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_400_no_retry),
	    cmocka_unit_test(test_connection_refused_gives_up),
	    cmocka_unit_test(test_queue_drops_oldest),
	    cmocka_unit_test(test_metrics_queue_drops_oldest),
	    cmocka_unit_test(test_free_deadline),
	    cmocka_unit_test(test_partial_success),
	    cmocka_unit_test(test_json_lines_file_and_stdout),
	    cmocka_unit_test(test_new_errors),
	};

	tvn_log_verbosity = LOG_DEBUG;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
