// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP exporter (exporter.h). Callers append spans to the current batch
 * under a mutex; full, timed-out or flushed batches go into a bounded queue
 * that drops its oldest batch when full. Metric requests are encoded by the
 * caller and wait in a small queue of their own. One sender thread takes the
 * oldest request of either queue, encodes it (traces) and delivers it to
 * every destination, retrying the network one with exponential backoff.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "exporter.h"
#include "log.h"

#define DEF_BATCH_MAX_SPANS 512
#define DEF_BATCH_TIMEOUT_MS 5000
#define DEF_QUEUE_MAX_BATCHES 64
#define DEF_REQUEST_TIMEOUT_MS 10000
#define DEF_MAX_RETRY_MS 30000
#define METRICS_QUEUE_MAX 4 /* a minute of 15 s pushes */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 16000
#define RESP_MAX (1 << 20) /* response bytes kept; the rest is read and ignored */
#define GRPC_FRAME_HDR 5

#define GRPC_RESOURCE_EXHAUSTED 8
#define GRPC_UNAVAILABLE 14

#define TRACES_PATH "/v1/traces"
#define METRICS_PATH "/v1/metrics"
#define GRPC_TRACES_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define GRPC_METRICS_PATH "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

#define NEVER UINT64_MAX

struct exp_req {
	struct exp_req *next;
	uint64_t seq; /* the sender takes the oldest of both queues first */
	bool metrics;
	struct otlp_span *spans; /* traces: the batch, until the sender encodes it */
	size_t n_spans;
	uint8_t *pb;
	size_t pb_len;
	char *json;
	size_t json_len;
};

struct exp_queue {
	struct exp_req *head, *tail;
	uint32_t len, max;
};

enum exp_outcome { EXP_OK, EXP_RETRY, EXP_FAIL, EXP_ABORT };

/* What one destination made of one request. */
struct exp_result {
	enum exp_outcome outcome;
	long delay_ms;	  /* the server's wait (Retry-After, pushback); -1: none */
	int64_t rejected; /* partial_success */
	bool partial;
	char msg[256]; /* why it failed, or partial_success.error_message */
};

/* One HTTP response, as the curl callbacks collect it. */
struct exp_resp {
	uint8_t *body;
	size_t len, cap;
	int grpc_status; /* -1: none seen */
	char grpc_message[200];
	bool has_pushback;
	long pushback_ms; /* negative: the server says do not retry */
	bool grpc_gzip;	  /* response messages are gzip-compressed */
};

struct exporter {
	/* set by exporter__new, read-only afterwards */
	struct exporter_opts opts; /* its strings point at the copies below */
	struct otlp_resource res;
	char *endpoint, *file_path, *headers[EXPORTER_MAX_HEADERS];
	char *traces_url, *metrics_url;
	bool grpc, want_pb, want_json;

	/* the sender thread's own */
	FILE *file;
	CURL *curl;
	struct curl_slist *req_headers;
	char curl_err[CURL_ERROR_SIZE];
	uint64_t rng;
	uint64_t dropped_reported;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* wakes the sender */
	uint64_t stop_at_ms; /* atomic: NEVER until exporter__free */

	/* under mu */
	struct otlp_span *batch;
	size_t batch_n, batch_cap;
	uint64_t batch_t0_ms;
	struct exp_queue traces, metrics;
	uint64_t seq;
	struct exporter_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t stop_at(const struct exporter *e)
{
	return __atomic_load_n(&e->stop_at_ms, __ATOMIC_ACQUIRE);
}

/* Waits on e->cond until the monotonic time until_ms (NEVER: no timeout). */
static void cond_wait_until(struct exporter *e, uint64_t until_ms)
{
	struct timespec ts;

	if (until_ms == NEVER) {
		pthread_cond_wait(&e->cond, &e->mu);
		return;
	}
	ts.tv_sec = until_ms / 1000;
	ts.tv_nsec = (until_ms % 1000) * 1000000;
	pthread_cond_timedwait(&e->cond, &e->mu, &ts);
}

static void req_free(struct exp_req *r)
{
	struct exp_req *next;

	for (; r; r = next) {
		next = r->next;
		free(r->spans);
		free(r->pb);
		free(r->json);
		free(r);
	}
}

static void req_count_dropped(struct exporter *e, const struct exp_req *r)
{
	if (r->metrics)
		e->st.metric_requests_dropped++;
	else
		e->st.spans_dropped += r->n_spans;
}

/*
 * Appends r; returns the request that made room (caller frees it outside the
 * lock), counted as dropped.
 */
static struct exp_req *queue_push_locked(struct exporter *e, struct exp_queue *q, struct exp_req *r)
{
	struct exp_req *old = NULL;

	r->seq = e->seq++;
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	if (++q->len > q->max) {
		old = q->head;
		q->head = old->next;
		old->next = NULL;
		q->len--;
		req_count_dropped(e, old);
	}
	return old;
}

static struct exp_req *queue_pop_locked(struct exp_queue *q)
{
	struct exp_req *r = q->head;

	if (!r)
		return NULL;
	q->head = r->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	r->next = NULL;
	return r;
}

static struct exp_req *dequeue_oldest_locked(struct exporter *e)
{
	struct exp_req *t = e->traces.head, *m = e->metrics.head;

	if (m && (!t || m->seq < t->seq))
		return queue_pop_locked(&e->metrics);
	return queue_pop_locked(&e->traces);
}

/* Moves the current batch into the queue; returns what the queue dropped. */
static struct exp_req *batch_queue_locked(struct exporter *e)
{
	struct exp_req *r;

	if (!e->batch_n)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		e->st.spans_dropped += e->batch_n;
		e->batch_n = 0;
		return NULL;
	}
	r->spans = e->batch;
	r->n_spans = e->batch_n;
	if (e->batch_n < e->batch_cap) {
		/* a partial batch may wait long in the queue: give back its tail */
		struct otlp_span *b = realloc(e->batch, e->batch_n * sizeof(*b));

		if (b)
			r->spans = b;
	}
	e->batch = NULL;
	e->batch_n = e->batch_cap = 0;
	pthread_cond_signal(&e->cond);
	return queue_push_locked(e, &e->traces, r);
}

static struct exp_req *batch_expire_locked(struct exporter *e, uint64_t now)
{
	if (e->batch_n && now - e->batch_t0_ms >= e->opts.batch_timeout_ms)
		return batch_queue_locked(e);
	return NULL;
}

static int batch_grow_locked(struct exporter *e)
{
	size_t cap = e->batch_cap ? e->batch_cap * 2 : 64;
	struct otlp_span *b;

	if (cap > e->opts.batch_max_spans)
		cap = e->opts.batch_max_spans;
	b = realloc(e->batch, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	e->batch = b;
	e->batch_cap = cap;
	return 0;
}

void exporter__add_span(struct exporter *e, const struct otlp_span *span)
{
	struct exp_req *dropped = NULL, *d2 = NULL;
	uint64_t now;

	if (!e || !span)
		return;
	now = now_ms();
	pthread_mutex_lock(&e->mu);
	e->st.spans_queued++;
	dropped = batch_expire_locked(e, now);
	if (e->batch_n == e->batch_cap && batch_grow_locked(e)) {
		e->st.spans_dropped++;
		goto out;
	}
	if (!e->batch_n) {
		e->batch_t0_ms = now;
		pthread_cond_signal(&e->cond); /* the sender arms the batch timer */
	}
	e->batch[e->batch_n++] = *span;
	if (e->batch_n >= e->opts.batch_max_spans)
		d2 = batch_queue_locked(e);
out:
	pthread_mutex_unlock(&e->mu);
	req_free(dropped);
	req_free(d2);
}

void exporter__flush(struct exporter *e)
{
	struct exp_req *dropped;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	dropped = batch_queue_locked(e);
	pthread_mutex_unlock(&e->mu);
	req_free(dropped);
}

/* OTLP/JSON has no raw newlines outside whitespace: make each request one line. */
static void json_one_line(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
}

void exporter__push_metrics(struct exporter *e, const struct snapshot *snap, uint64_t start_unix_ns,
			    uint64_t now_unix_ns)
{
	struct exp_req *r, *dropped;
	int err = 0;

	if (!e || !snap)
		return;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	r->metrics = true;
	if (e->want_pb)
		err = otlp__encode_metrics_pb(&e->res, snap, start_unix_ns, now_unix_ns, &r->pb,
					      &r->pb_len);
	if (!err && e->want_json)
		err = otlp__encode_metrics_json(&e->res, snap, start_unix_ns, now_unix_ns, &r->json,
						&r->json_len);
	if (err)
		goto fail;
	if (r->json)
		json_one_line(r->json, r->json_len);
	pthread_mutex_lock(&e->mu);
	dropped = queue_push_locked(e, &e->metrics, r);
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	req_free(dropped);
	return;
fail:
	pr_warn("otlp: cannot encode metrics: %s\n", strerror(-err));
	req_free(r);
	pthread_mutex_lock(&e->mu);
	e->st.metric_requests_failed++;
	e->st.requests_failed++;
	pthread_mutex_unlock(&e->mu);
}

void exporter__stats(struct exporter *e, struct exporter_stats *st)
{
	if (!e || !st)
		return;
	pthread_mutex_lock(&e->mu);
	*st = e->st;
	pthread_mutex_unlock(&e->mu);
}

/* ------------------------------------------------------------ encoding */

/*
 * gzip (zlib's deflate with a gzip wrapper) of in into a new buffer that
 * starts with pre bytes left for the caller. 0 or -ENOMEM / -EIO.
 */
static int gzip_buf(const void *in, size_t len, size_t pre, uint8_t **out, size_t *outlen)
{
	z_stream z = {0};
	uint8_t *buf;
	uLong bound;
	int ret;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, len);
	buf = malloc(pre + bound);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = buf + pre;
	z.avail_out = bound;
	ret = deflate(&z, Z_FINISH);
	*outlen = pre + z.total_out;
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

/* Inflates a gzip buffer (a compressed gRPC response message). */
static int gunzip_buf(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = len * 4 + 64;
	uint8_t *buf = NULL, *nb;
	int ret;

	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	do {
		if (cap > RESP_MAX * 4 || !(nb = realloc(buf, cap))) {
			ret = Z_MEM_ERROR;
			break;
		}
		buf = nb;
		z.next_out = buf + z.total_out;
		z.avail_out = cap - z.total_out;
		ret = inflate(&z, Z_NO_FLUSH);
		cap *= 2;
	} while (ret == Z_OK);
	*outlen = z.total_out;
	inflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

static int encode_traces(struct exporter *e, struct exp_req *r)
{
	int err = 0;

	if (e->want_pb)
		err = otlp__encode_traces_pb(&e->res, r->spans, r->n_spans, &r->pb, &r->pb_len);
	if (!err && e->want_json)
		err =
		    otlp__encode_traces_json(&e->res, r->spans, r->n_spans, &r->json, &r->json_len);
	if (err)
		return err;
	if (r->json)
		json_one_line(r->json, r->json_len);
	free(r->spans); /* the encodings are all the sender needs now */
	r->spans = NULL;
	return 0;
}

/* The request body for the endpoint: gzipped or not, gRPC-framed or not. */
static int endpoint_body(struct exporter *e, const struct exp_req *r, uint8_t **body, size_t *len)
{
	const void *msg = e->opts.protocol == EXPORTER_HTTP_JSON ? (void *)r->json : r->pb;
	size_t mlen = e->opts.protocol == EXPORTER_HTTP_JSON ? r->json_len : r->pb_len;
	size_t pre = e->grpc ? GRPC_FRAME_HDR : 0;
	uint8_t *b;
	int err;

	if (e->opts.gzip) {
		err = gzip_buf(msg, mlen, pre, &b, len);
		if (err)
			return err;
	} else {
		b = malloc(pre + mlen + 1);
		if (!b)
			return -ENOMEM;
		memcpy(b + pre, msg, mlen);
		*len = pre + mlen;
	}
	if (e->grpc) {
		uint32_t n = *len - pre;

		b[0] = e->opts.gzip ? 1 : 0;
		b[1] = n >> 24;
		b[2] = n >> 16;
		b[3] = n >> 8;
		b[4] = n;
	}
	*body = b;
	return 0;
}

/* ------------------------------------------------------------ HTTP */

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	struct exp_resp *rsp = ud;
	size_t len = size * n, want;
	uint8_t *nb;

	if (rsp->len + len > RESP_MAX)
		return len;
	if (rsp->len + len > rsp->cap) {
		want = rsp->cap ? rsp->cap : 1024;
		while (want < rsp->len + len)
			want *= 2;
		nb = realloc(rsp->body, want);
		if (!nb)
			return len;
		rsp->body = nb;
		rsp->cap = want;
	}
	memcpy(rsp->body + rsp->len, data, len);
	rsp->len += len;
	return len;
}

static bool hdr_is(const char *line, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	*val = line;
	*vlen = len;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* grpc-message is percent-encoded; a malformed escape stays as it is. */
static void percent_decode_lossy(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < dstlen; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			dst[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	dst[o] = 0;
}

/* Headers and, for HTTP/2, trailers: libcurl hands both to this callback. */
static size_t header_cb(char *line, size_t size, size_t n, void *ud)
{
	struct exp_resp *rsp = ud;
	size_t len = size * n, vlen;
	const char *val;
	char num[32];

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, say): forget the last one's */
		rsp->grpc_status = -1;
		rsp->grpc_message[0] = 0;
		rsp->has_pushback = false;
		rsp->grpc_gzip = false;
	} else if (hdr_is(line, len, "grpc-status", &val, &vlen)) {
		snprintf(num, sizeof(num), "%.*s", (int)vlen, val);
		rsp->grpc_status = atoi(num);
	} else if (hdr_is(line, len, "grpc-message", &val, &vlen)) {
		percent_decode_lossy(rsp->grpc_message, sizeof(rsp->grpc_message), val, vlen);
	} else if (hdr_is(line, len, "grpc-retry-pushback-ms", &val, &vlen)) {
		char *end;

		snprintf(num, sizeof(num), "%.*s", (int)vlen, val);
		rsp->has_pushback = true;
		rsp->pushback_ms = strtol(num, &end, 10);
		if (end == num || *end)
			rsp->pushback_ms = -1;
	} else if (hdr_is(line, len, "grpc-encoding", &val, &vlen)) {
		rsp->grpc_gzip = vlen == 4 && !strncasecmp(val, "gzip", 4);
	}
	return len;
}

/* Lets exporter__free's deadline cut a request short. */
static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct exporter *e = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return now_ms() >= stop_at(e);
}

static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool http_retryable(long code)
{
	return code == 429 || code == 502 || code == 503 || code == 504;
}

static void partial_success(struct exporter *e, const uint8_t *body, size_t len, bool traces,
			    struct exp_result *res)
{
	bool json = e->opts.protocol == EXPORTER_HTTP_JSON;
	int err;

	if (!len)
		return;
	err = otlp__parse_response(body, len, json, traces, &res->rejected, res->msg,
				   sizeof(res->msg));
	if (err) {
		pr_debug("otlp: cannot decode the %zu-byte response: %s\n", len, strerror(-err));
		res->rejected = 0;
		res->msg[0] = 0;
		return;
	}
	res->partial = res->rejected > 0 || res->msg[0];
}

static int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -EINVAL;
}

/*
 * google.rpc.Status.message (field 2), which OTLP/HTTP collectors send with a
 * 4xx or 5xx in protobuf. False if the body is not such a message.
 */
static bool pb_status_message(const uint8_t *p, size_t len, char *msg, size_t msglen)
{
	const uint8_t *end = p + len;
	uint64_t key, v;

	while (p < end) {
		if (pb_varint(&p, end, &key))
			return false;
		if ((key & 7) == 0 && !pb_varint(&p, end, &v))
			continue;
		if ((key & 7) != 2 || pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
			return false;
		if (key >> 3 == 2) {
			snprintf(msg, msglen, "%.*s", (int)v, (const char *)p);
			return true;
		}
		p += v;
	}
	return false;
}

/* Why a non-2xx HTTP response failed: its status and the server's reason. */
static void http_failure(struct exporter *e, const struct exp_resp *rsp, long code,
			 struct exp_result *res)
{
	size_t n = 0, lim = rsp->len < 159 ? rsp->len : 159;
	char why[160] = "";

	while (n < lim && isprint(rsp->body[n]))
		n++;
	if (n && n == lim)
		snprintf(why, sizeof(why), "%.*s", (int)n, rsp->body);
	else if (rsp->len && !e->grpc && e->opts.protocol == EXPORTER_HTTP_PROTOBUF)
		pb_status_message(rsp->body, rsp->len, why, sizeof(why));
	snprintf(res->msg, sizeof(res->msg), "HTTP %ld%s%s", code, why[0] ? ": " : "", why);
}

static void http_result(struct exporter *e, const struct exp_resp *rsp, long code, bool traces,
			struct exp_result *res)
{
	curl_off_t retry_after = 0;

	if (code >= 200 && code < 300) {
		res->outcome = EXP_OK;
		partial_success(e, rsp->body, rsp->len, traces, res);
		return;
	}
	http_failure(e, rsp, code, res);
	if (!http_retryable(code)) {
		res->outcome = EXP_FAIL;
		return;
	}
	res->outcome = EXP_RETRY;
	if (!curl_easy_getinfo(e->curl, CURLINFO_RETRY_AFTER, &retry_after) && retry_after > 0)
		res->delay_ms = retry_after * 1000;
}

static const char *grpc_code_name(int code)
{
	static const char *const names[] = {
	    "OK",
	    "CANCELLED",
	    "UNKNOWN",
	    "INVALID_ARGUMENT",
	    "DEADLINE_EXCEEDED",
	    "NOT_FOUND",
	    "ALREADY_EXISTS",
	    "PERMISSION_DENIED",
	    "RESOURCE_EXHAUSTED",
	    "FAILED_PRECONDITION",
	    "ABORTED",
	    "OUT_OF_RANGE",
	    "UNIMPLEMENTED",
	    "INTERNAL",
	    "UNAVAILABLE",
	    "DATA_LOSS",
	    "UNAUTHENTICATED",
	};

	return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])) ? names[code] : "?";
}

/* The response message of a successful gRPC call: its partial_success. */
static void grpc_message(struct exporter *e, const struct exp_resp *rsp, bool traces,
			 struct exp_result *res)
{
	const uint8_t *b = rsp->body;
	uint8_t *plain = NULL;
	size_t mlen, plen;

	if (rsp->len < GRPC_FRAME_HDR)
		return;
	mlen = (size_t)b[1] << 24 | b[2] << 16 | b[3] << 8 | b[4];
	if (mlen > rsp->len - GRPC_FRAME_HDR) {
		pr_debug("otlp: truncated gRPC response (%zu of %zu bytes)\n",
			 rsp->len - GRPC_FRAME_HDR, mlen);
		return;
	}
	if (b[0] == 1) {
		if (gunzip_buf(b + GRPC_FRAME_HDR, mlen, &plain, &plen)) {
			pr_debug("otlp: cannot inflate the gRPC response\n");
			return;
		}
		partial_success(e, plain, plen, traces, res);
		free(plain);
		return;
	}
	partial_success(e, b + GRPC_FRAME_HDR, mlen, traces, res);
}

static void grpc_result(struct exporter *e, const struct exp_resp *rsp, long code, bool traces,
			struct exp_result *res)
{
	int st = rsp->grpc_status;

	if (code != 200) {
		/* the gRPC HTTP mapping: these mean UNAVAILABLE */
		http_failure(e, rsp, code, res);
		res->outcome = http_retryable(code) ? EXP_RETRY : EXP_FAIL;
		return;
	}
	if (st < 0) {
		snprintf(res->msg, sizeof(res->msg), "no grpc-status in the response");
		res->outcome = EXP_FAIL;
		return;
	}
	if (st == 0) {
		res->outcome = EXP_OK;
		grpc_message(e, rsp, traces, res);
		return;
	}
	snprintf(res->msg, sizeof(res->msg), "grpc-status %d %s%s%s", st, grpc_code_name(st),
		 rsp->grpc_message[0] ? ": " : "", rsp->grpc_message);
	res->outcome = EXP_FAIL;
	if (st != GRPC_UNAVAILABLE && st != GRPC_RESOURCE_EXHAUSTED)
		return;
	if (rsp->has_pushback && rsp->pushback_ms < 0)
		return; /* the server asks not to retry */
	res->outcome = EXP_RETRY;
	if (rsp->has_pushback)
		res->delay_ms = rsp->pushback_ms;
}

static void post_once(struct exporter *e, const char *url, const uint8_t *body, size_t len,
		      bool traces, struct exp_result *res)
{
	struct exp_resp rsp = {.grpc_status = -1};
	long code = 0;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	res->delay_ms = -1;
	e->curl_err[0] = 0;
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &rsp);
	curl_easy_setopt(e->curl, CURLOPT_HEADERDATA, &rsp);
	rc = curl_easy_perform(e->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(res->msg, sizeof(res->msg), "cut short by the exit deadline");
		res->outcome = EXP_ABORT;
	} else if (rc != CURLE_OK) {
		snprintf(res->msg, sizeof(res->msg), "%s",
			 e->curl_err[0] ? e->curl_err : curl_easy_strerror(rc));
		res->outcome = curl_retryable(rc) ? EXP_RETRY : EXP_FAIL;
	} else {
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
		if (e->grpc)
			grpc_result(e, &rsp, code, traces, res);
		else
			http_result(e, &rsp, code, traces, res);
	}
	free(rsp.body);
}

static uint64_t rng_next(struct exporter *e)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return e->rng;
}

/* 1 s, 2 s, 4 s ... capped, each +-20 % so that exporters do not retry in step. */
static long backoff_ms(struct exporter *e, unsigned int attempt)
{
	long base = attempt >= 5 ? BACKOFF_MAX_MS : BACKOFF_FIRST_MS << attempt;

	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	return base * 8 / 10 + (long)(rng_next(e) % (uint64_t)(base * 4 / 10 + 1));
}

/*
 * Sleeps until until_ms, queueing the partial batch when its time comes.
 * Returns false if exporter__free's deadline came first.
 */
static bool sender_sleep(struct exporter *e, uint64_t until_ms)
{
	struct exp_req *dropped = NULL;
	uint64_t now, wake;
	bool ok = true;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		now = now_ms();
		if (now >= stop_at(e)) {
			ok = false;
			break;
		}
		if (now >= until_ms)
			break;
		req_free(dropped);
		dropped = batch_expire_locked(e, now);
		wake = until_ms < stop_at(e) ? until_ms : stop_at(e);
		if (e->batch_n && e->batch_t0_ms + e->opts.batch_timeout_ms < wake)
			wake = e->batch_t0_ms + e->opts.batch_timeout_ms;
		cond_wait_until(e, wake);
	}
	pthread_mutex_unlock(&e->mu);
	req_free(dropped);
	return ok;
}

static void send_endpoint(struct exporter *e, const struct exp_req *r, struct exp_result *res)
{
	const char *url = r->metrics ? e->metrics_url : e->traces_url;
	uint64_t t0 = now_ms();
	uint8_t *body = NULL;
	size_t len = 0;
	long delay;
	int err;

	err = endpoint_body(e, r, &body, &len);
	if (err) {
		memset(res, 0, sizeof(*res));
		snprintf(res->msg, sizeof(res->msg), "cannot build the body: %s", strerror(-err));
		res->outcome = EXP_FAIL;
		return;
	}
	for (unsigned int attempt = 0;; attempt++) {
		post_once(e, url, body, len, !r->metrics, res);
		if (res->outcome != EXP_RETRY)
			break;
		delay = res->delay_ms >= 0 ? res->delay_ms : backoff_ms(e, attempt);
		if (now_ms() + delay > t0 + e->opts.max_retry_ms) {
			res->outcome = EXP_FAIL;
			pr_debug("otlp: %s: %s; no retry within %u ms\n", url, res->msg,
				 e->opts.max_retry_ms);
			break;
		}
		pr_debug("otlp: %s: %s; retrying in %ld ms\n", url, res->msg, delay);
		pthread_mutex_lock(&e->mu);
		e->st.requests_retried++;
		pthread_mutex_unlock(&e->mu);
		if (!sender_sleep(e, now_ms() + delay)) {
			res->outcome = EXP_ABORT;
			break;
		}
	}
	free(body);
}

static int write_line(FILE *f, const struct exp_req *r)
{
	int err = 0;

	flockfile(f);
	errno = 0;
	if (fwrite(r->json, 1, r->json_len, f) != r->json_len || putc_unlocked('\n', f) == EOF ||
	    fflush(f))
		err = errno ? -errno : -EIO;
	funlockfile(f);
	return err;
}

/* ------------------------------------------------------------ the sender */

static void account(struct exporter *e, const struct exp_req *r, bool ok,
		    const struct exp_result *res)
{
	uint64_t rejected = res->rejected > 0 ? (uint64_t)res->rejected : 0;

	pthread_mutex_lock(&e->mu);
	if (ok && r->metrics) {
		e->st.metric_requests_sent++;
	} else if (ok) {
		if (rejected > r->n_spans)
			rejected = r->n_spans;
		e->st.spans_exported += r->n_spans - rejected;
		e->st.spans_rejected += rejected;
	} else {
		e->st.requests_failed++;
		if (r->metrics)
			e->st.metric_requests_failed++;
		else
			e->st.spans_dropped += r->n_spans;
	}
	if (ok && res->partial)
		e->st.partial_successes++;
	pthread_mutex_unlock(&e->mu);
}

static void process(struct exporter *e, struct exp_req *r)
{
	struct exp_result res = {.outcome = EXP_OK};
	const char *what = r->metrics ? "metrics" : "spans";
	bool ok = true;
	int err;

	if (!r->metrics) {
		err = encode_traces(e, r);
		if (err) {
			pr_warn("otlp: cannot encode %zu spans: %s\n", r->n_spans, strerror(-err));
			account(e, r, false, &res);
			return;
		}
	}
	if (e->opts.to_stdout && (err = write_line(stdout, r))) {
		pr_warn("otlp: cannot write %s to stdout: %s\n", what, strerror(-err));
		ok = false;
	}
	if (e->file && (err = write_line(e->file, r))) {
		pr_warn("otlp: cannot write %s to %s: %s\n", what, e->file_path, strerror(-err));
		clearerr(e->file);
		ok = false;
	}
	if (e->curl) {
		send_endpoint(e, r, &res);
		if (res.outcome != EXP_OK) {
			pr_warn("otlp: %s: %s were not exported: %s\n",
				r->metrics ? e->metrics_url : e->traces_url, what, res.msg);
			ok = false;
		} else if (res.partial && r->metrics) {
			pr_warn("otlp: the collector rejected %" PRId64 " metric data points: %s\n",
				res.rejected, res.msg[0] ? res.msg : "(no message)");
		} else if (res.partial) {
			pr_warn("otlp: the collector rejected %" PRId64 " of %zu spans: %s\n",
				res.rejected, r->n_spans, res.msg[0] ? res.msg : "(no message)");
		}
	}
	account(e, r, ok, &res);
}

/* Queue overflows happen on the callers' threads, which must not log: tell here. */
static void report_drops(struct exporter *e)
{
	uint64_t dropped;

	pthread_mutex_lock(&e->mu);
	dropped = e->st.spans_dropped;
	pthread_mutex_unlock(&e->mu);
	if (dropped > e->dropped_reported)
		pr_warn("otlp: %" PRIu64 " spans dropped so far (queue full or export failed)\n",
			dropped);
	e->dropped_reported = dropped;
}

static void *sender_main(void *arg)
{
	struct exporter *e = arg;
	struct exp_req *r, *dropped;
	uint64_t now, wake;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		now = now_ms();
		if (now >= stop_at(e))
			break;
		dropped = batch_expire_locked(e, now);
		r = dequeue_oldest_locked(e);
		if (r || dropped) {
			pthread_mutex_unlock(&e->mu);
			req_free(dropped);
			if (r)
				process(e, r);
			req_free(r);
			report_drops(e);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (stop_at(e) != NEVER)
			break; /* exporter__free queued the last batch: all sent */
		wake = e->batch_n ? e->batch_t0_ms + e->opts.batch_timeout_ms : NEVER;
		cond_wait_until(e, wake);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ------------------------------------------------------------ setup */

static bool url_http_scheme(CURLU *u)
{
	char *scheme = NULL, *host = NULL;
	bool ok;

	ok = !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
	     (!strcmp(scheme, "http") || !strcmp(scheme, "https")) &&
	     !curl_url_get(u, CURLUPART_HOST, &host, 0) && host[0];
	curl_free(scheme);
	curl_free(host);
	return ok;
}

/* Parses an endpoint; NULL unless it is an http:// or https:// URL with a host. */
static CURLU *url_parse(const char *endpoint)
{
	CURLU *u = curl_url();

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) || !url_http_scheme(u)) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

static char *url_with_path(CURLU *u, const char *path)
{
	char *s = NULL, *ret;

	if (curl_url_set(u, CURLUPART_PATH, path, 0) || curl_url_get(u, CURLUPART_URL, &s, 0))
		return NULL;
	ret = strdup(s);
	curl_free(s);
	return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * HTTP: a bare endpoint gets /v1/traces and /v1/metrics; one with a path is
 * the traces URL as is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and metrics go
 * to the same path with /v1/traces replaced by /v1/metrics (or, for any
 * other path, with /v1/metrics appended). gRPC: the service paths.
 */
static int make_urls(struct exporter *e, CURLU *u)
{
	char *path = NULL, *mpath = NULL;
	size_t n;
	int err = -ENOMEM;

	if (e->grpc) {
		e->traces_url = url_with_path(u, GRPC_TRACES_PATH);
		e->metrics_url = url_with_path(u, GRPC_METRICS_PATH);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0))
		goto out;
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (!n) {
		e->traces_url = url_with_path(u, TRACES_PATH);
		e->metrics_url = url_with_path(u, METRICS_PATH);
		goto out;
	}
	e->traces_url = strdup(e->endpoint);
	mpath = malloc(n + sizeof(METRICS_PATH));
	if (!mpath)
		goto out;
	path[n] = 0;
	if (ends_with(path, TRACES_PATH))
		path[n - strlen(TRACES_PATH)] = 0;
	sprintf(mpath, "%s%s", path, METRICS_PATH);
	e->metrics_url = url_with_path(u, mpath);
out:
	if (e->traces_url && e->metrics_url)
		err = 0;
	curl_free(path);
	free(mpath);
	return err;
}

static int add_header(struct curl_slist **l, const char *h)
{
	struct curl_slist *n = curl_slist_append(*l, h);

	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

static int build_headers(struct exporter *e)
{
	char buf[512];
	int err = 0;

	if (e->grpc) {
		err = err ?: add_header(&e->req_headers, "content-type: application/grpc");
		err = err ?: add_header(&e->req_headers, "te: trailers");
		snprintf(buf, sizeof(buf), "grpc-timeout: %um", e->opts.request_timeout_ms);
		err = err ?: add_header(&e->req_headers, buf);
		if (e->opts.gzip)
			err = err ?: add_header(&e->req_headers, "grpc-encoding: gzip");
	} else {
		err = add_header(&e->req_headers, e->opts.protocol == EXPORTER_HTTP_JSON
						      ? "Content-Type: application/json"
						      : "Content-Type: application/x-protobuf");
		if (e->opts.gzip)
			err = err ?: add_header(&e->req_headers, "Content-Encoding: gzip");
		/* no 100-continue round trip before large bodies */
		err = err ?: add_header(&e->req_headers, "Expect:");
	}
	for (int i = 0; i < e->opts.n_headers && !err; i++) {
		char *h = e->headers[i];

		/* HTTP/2 (gRPC metadata) wants lower-case names */
		for (char *c = h; e->grpc && *c && *c != ':'; c++)
			*c = tolower((unsigned char)*c);
		err = add_header(&e->req_headers, h);
	}
	return err;
}

static int curl_setup(struct exporter *e)
{
	CURL *c = curl_easy_init();
	long ms = e->opts.request_timeout_ms;
	int err;

	if (!c)
		return -ENOMEM;
	e->curl = c;
	err = build_headers(e);
	if (err)
		return err;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->req_headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, OTLP_SDK_NAME "/" OTLP_SDK_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, e);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (!e->grpc)
		return 0;
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	/*
	 * Before 7.89.0, a request on a reused prior-knowledge HTTP/2 connection
	 * fails with "Error in the HTTP2 framing layer" (curl issue 10634): one
	 * connection per request there.
	 */
	if (curl_version_info(CURLVERSION_NOW)->version_num < 0x075900)
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	return 0;
}

static char *xstrdup(const char *s, int *err)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static int copy_opts(struct exporter *e, const struct exporter_opts *opts)
{
	int err = 0;

	e->opts = *opts;
	e->endpoint = xstrdup(opts->endpoint, &err);
	e->file_path = xstrdup(opts->file_path, &err);
	for (int i = 0; i < opts->n_headers; i++)
		e->headers[i] = xstrdup(opts->headers[i], &err);
	e->opts.endpoint = e->endpoint;
	e->opts.file_path = e->file_path;
	for (int i = 0; i < opts->n_headers; i++)
		e->opts.headers[i] = e->headers[i];
	if (!e->opts.batch_max_spans)
		e->opts.batch_max_spans = DEF_BATCH_MAX_SPANS;
	if (!e->opts.batch_timeout_ms)
		e->opts.batch_timeout_ms = DEF_BATCH_TIMEOUT_MS;
	if (!e->opts.queue_max_batches)
		e->opts.queue_max_batches = DEF_QUEUE_MAX_BATCHES;
	if (!e->opts.request_timeout_ms)
		e->opts.request_timeout_ms = DEF_REQUEST_TIMEOUT_MS;
	if (!e->opts.max_retry_ms)
		e->opts.max_retry_ms = DEF_MAX_RETRY_MS;
	e->traces.max = e->opts.queue_max_batches;
	e->metrics.max = METRICS_QUEUE_MAX;
	e->grpc = opts->endpoint && opts->protocol == EXPORTER_GRPC;
	e->want_pb = opts->endpoint && opts->protocol != EXPORTER_HTTP_JSON;
	e->want_json = opts->to_stdout || opts->file_path ||
		       (opts->endpoint && opts->protocol == EXPORTER_HTTP_JSON);
	return err;
}

static int check_opts(const struct exporter_opts *o, char *err, size_t errlen)
{
	if (o->protocol != EXPORTER_HTTP_PROTOBUF && o->protocol != EXPORTER_HTTP_JSON &&
	    o->protocol != EXPORTER_GRPC) {
		snprintf(err, errlen, "unknown OTLP protocol %d", (int)o->protocol);
		return -EINVAL;
	}
	if (!o->endpoint && !o->to_stdout && !o->file_path) {
		snprintf(err, errlen, "no OTLP destination: give an endpoint, stdout or a file");
		return -EINVAL;
	}
	if (o->n_headers < 0 || o->n_headers > EXPORTER_MAX_HEADERS) {
		snprintf(err, errlen, "%d OTLP headers: at most %d", o->n_headers,
			 EXPORTER_MAX_HEADERS);
		return -EINVAL;
	}
	for (int i = 0; i < o->n_headers; i++) {
		const char *h = o->headers[i], *colon = h ? strchr(h, ':') : NULL;

		if (!colon || colon == h || strpbrk(h, "\r\n")) {
			snprintf(err, errlen, "OTLP header \"%s\": expected \"Name: value\"",
				 h ? h : "(null)");
			return -EINVAL;
		}
	}
	return 0;
}

static void exporter_destroy(struct exporter *e)
{
	curl_easy_cleanup(e->curl);
	if (e->curl)
		curl_global_cleanup();
	curl_slist_free_all(e->req_headers);
	if (e->file)
		fclose(e->file);
	req_free(e->traces.head);
	req_free(e->metrics.head);
	free(e->batch);
	free(e->traces_url);
	free(e->metrics_url);
	free(e->endpoint);
	free(e->file_path);
	for (int i = 0; i < EXPORTER_MAX_HEADERS; i++)
		free(e->headers[i]);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

static int endpoint_setup(struct exporter *e, char *err, size_t errlen)
{
	CURLU *u;
	int ret;

	u = url_parse(e->endpoint);
	if (!u) {
		snprintf(err, errlen,
			 "OTLP endpoint \"%s\": expected an http:// or https:// URL such as "
			 "http://localhost:%d",
			 e->endpoint, e->grpc ? 4317 : 4318);
		return -EINVAL;
	}
	ret = make_urls(e, u);
	curl_url_cleanup(u);
	if (ret)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = curl_setup(e);
	if (!ret)
		return 0;
	if (!e->curl)
		curl_global_cleanup();
fail:
	snprintf(err, errlen, "cannot set up the OTLP client: %s", strerror(-ret));
	return ret;
}

struct exporter *exporter__new(const struct exporter_opts *opts, const struct otlp_resource *res,
			       char *err, size_t errlen)
{
	pthread_condattr_t ca;
	struct exporter *e;
	int ret;

	if (!opts || !res) {
		snprintf(err, errlen, "no OTLP options");
		errno = EINVAL;
		return NULL;
	}
	ret = check_opts(opts, err, errlen);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	e->stop_at_ms = NEVER;
	e->res = *res;
	e->rng = (now_ms() ^ (uint64_t)getpid() << 32 ^ (uintptr_t)e) | 1;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (copy_opts(e, opts)) {
		exporter_destroy(e);
		goto nomem;
	}
	if (e->endpoint) {
		ret = endpoint_setup(e, err, errlen);
		if (ret)
			goto err_destroy;
	}
	if (e->file_path && !(e->file = fopen(e->file_path, "a"))) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s to append OTLP/JSON: %s", e->file_path,
			 strerror(errno));
		goto err_destroy;
	}
	ret = -pthread_create(&e->thread, NULL, sender_main, e);
	if (ret) {
		snprintf(err, errlen, "cannot start the OTLP sender thread: %s", strerror(-ret));
		goto err_destroy;
	}
	return e;

err_destroy:
	exporter_destroy(e);
	errno = -ret;
	return NULL;
nomem:
	snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

void exporter__free(struct exporter *e, uint32_t deadline_ms)
{
	struct exp_req *dropped, *r;
	uint64_t spans = 0, metrics = 0;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	dropped = batch_queue_locked(e);
	__atomic_store_n(&e->stop_at_ms, now_ms() + deadline_ms, __ATOMIC_RELEASE);
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	req_free(dropped);
	pthread_join(e->thread, NULL);

	/* the deadline passed: what is still queued will not go */
	pthread_mutex_lock(&e->mu);
	dropped = batch_queue_locked(e);
	req_free(dropped);
	while ((r = dequeue_oldest_locked(e))) {
		if (r->metrics)
			metrics++;
		else
			spans += r->n_spans;
		req_count_dropped(e, r);
		req_free(r);
	}
	pthread_mutex_unlock(&e->mu);
	if (spans || metrics)
		pr_warn("otlp: exit deadline (%u ms) passed: dropped %" PRIu64
			" queued spans and %" PRIu64 " metric requests\n",
			deadline_ms, spans, metrics);
	exporter_destroy(e);
}

/* ------------------------------------------------------------ environment */

#define ENV_ENDPOINT "OTEL_EXPORTER_OTLP_ENDPOINT"
#define ENV_TRACES_ENDPOINT "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
#define ENV_PROTOCOL "OTEL_EXPORTER_OTLP_PROTOCOL"
#define ENV_HEADERS "OTEL_EXPORTER_OTLP_HEADERS"
#define ENV_COMPRESSION "OTEL_EXPORTER_OTLP_COMPRESSION"
#define ENV_SERVICE_NAME "OTEL_SERVICE_NAME"
#define ENV_RESOURCE_ATTRS "OTEL_RESOURCE_ATTRIBUTES"

#define KV_EXPECTED "expected key=value pairs separated by commas, with %%XX escapes"

/* The block exporter__opts_from_env returns: the strings opts points at. */
struct env_store {
	char *p, *end;
};

static char *store_put(struct env_store *s, const char *a, size_t alen, const char *b, size_t blen)
{
	char *d = s->p;

	if ((size_t)(s->end - s->p) < alen + blen + 1)
		return NULL;
	memcpy(d, a, alen);
	memcpy(d + alen, b, blen);
	d[alen + blen] = 0;
	s->p += alen + blen + 1;
	return d;
}

/* The spec treats an empty variable as an unset one. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* Percent-decodes s[0..len) into dst (len + 1 bytes); -1 for a bad escape. */
static long pct_decode(char *dst, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			dst[o++] = s[i];
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			return -1;
		dst[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
		i += 2;
	}
	dst[o] = 0;
	return (long)o;
}

typedef int (*kv_fn)(const char *key, const char *val, size_t vlen, void *ctx, char *err,
		     size_t errlen);

/*
 * Calls fn for every key=value of a comma-separated list (W3C baggage style,
 * as OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES use), both sides
 * trimmed and percent-decoded. Errors name the entry, not the whole list: it
 * may hold credentials.
 */
static int kv_parse(const char *var, const char *list, kv_fn fn, void *ctx, char *err,
		    size_t errlen)
{
	char *key = NULL, *val = NULL;
	const char *p = list;
	int ret = 0;

	key = malloc(strlen(list) + 1);
	val = malloc(strlen(list) + 1);
	if (!key || !val) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (*p && !ret) {
		const char *ent = p, *eq, *k, *v;
		size_t elen = strcspn(p, ","), klen, vlen;
		long kn, vn;

		p += elen + (p[elen] == ',');
		trim(&ent, &elen);
		if (!elen)
			continue;
		eq = memchr(ent, '=', elen);
		if (!eq) {
			snprintf(err, errlen, "%s: entry \"%.*s\" has no '=': " KV_EXPECTED, var,
				 (int)elen, ent);
			ret = -EINVAL;
			break;
		}
		k = ent;
		klen = eq - ent;
		v = eq + 1;
		vlen = ent + elen - v;
		trim(&k, &klen);
		trim(&v, &vlen);
		kn = pct_decode(key, k, klen);
		vn = pct_decode(val, v, vlen);
		if (kn <= 0 || vn < 0 || strlen(key) != (size_t)kn) {
			snprintf(err, errlen, "%s: entry \"%.*s=...\": %s: " KV_EXPECTED, var,
				 (int)klen, k, kn <= 0 ? "bad key" : "bad escape in the value");
			ret = -EINVAL;
			break;
		}
		ret = fn(key, val, (size_t)vn, ctx, err, errlen);
	}
out:
	free(key);
	free(val);
	return ret;
}

struct env_headers {
	struct exporter_opts *o;
	struct env_store *s;
};

static int env_header(const char *key, const char *val, size_t vlen, void *ctx, char *err,
		      size_t errlen)
{
	struct env_headers *h = ctx;
	char *hdr;

	for (const char *c = key; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("!#$%&'*+-.^_`|~", *c)) {
			snprintf(err, errlen,
				 "%s: header name \"%s\" is not an HTTP token: " KV_EXPECTED,
				 ENV_HEADERS, key);
			return -EINVAL;
		}
	}
	if (strlen(val) != vlen || strpbrk(val, "\r\n")) {
		snprintf(err, errlen, "%s: the value of header \"%s\" holds a control character",
			 ENV_HEADERS, key);
		return -EINVAL;
	}
	if (h->o->n_headers >= EXPORTER_MAX_HEADERS) {
		snprintf(err, errlen, "%s: more than %d headers", ENV_HEADERS,
			 EXPORTER_MAX_HEADERS);
		return -EINVAL;
	}
	hdr = store_put(h->s, key, strlen(key), ": ", 2);
	if (!hdr)
		return -ENOMEM;
	h->s->p--; /* the value goes on where the NUL was */
	if (!store_put(h->s, "", 0, val, vlen))
		return -ENOMEM;
	h->o->headers[h->o->n_headers++] = hdr;
	return 0;
}

static int set_field(char *dst, size_t size, const char *var, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (strlen(val) >= size) {
		snprintf(err, errlen, "%s: %s \"%s\" is too long: expected at most %zu bytes", var,
			 key, val, size - 1);
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

/*
 * service.name names the service; every other attribute goes to extra, where
 * otlp.c lets the fields the tracer fills (host.name...) win over a repeat.
 */
static int env_resource_attr(const char *key, const char *val, size_t vlen, void *ctx, char *err,
			     size_t errlen)
{
	struct otlp_resource *r = ctx;
	struct otlp_kv *kv = NULL;
	const char *var = ENV_RESOURCE_ATTRS;
	int max = sizeof(r->extra) / sizeof(r->extra[0]);

	(void)vlen;
	if (!strcmp(key, "service.name"))
		return set_field(r->service_name, sizeof(r->service_name), var, key, val, err,
				 errlen);
	if (strlen(key) >= sizeof(kv->key)) {
		snprintf(err, errlen, "%s: key \"%s\" is too long: expected at most %zu bytes", var,
			 key, sizeof(kv->key) - 1);
		return -EINVAL;
	}
	for (int i = 0; i < r->n_extra && !kv; i++)
		if (!strcmp(r->extra[i].key, key))
			kv = &r->extra[i]; /* the last one wins */
	if (!kv) {
		if (r->n_extra >= max) {
			snprintf(err, errlen, "%s: more than %d attributes besides service.name",
				 var, max);
			return -EINVAL;
		}
		kv = &r->extra[r->n_extra++];
	}
	memset(kv, 0, sizeof(*kv));
	strcpy(kv->key, key);
	kv->type = OTLP_STR;
	return set_field(kv->str, sizeof(kv->str), var, key, val, err, errlen);
}

/*
 * OTEL_EXPORTER_OTLP_ENDPOINT is a base URL for every signal: over HTTP,
 * traces go to its path + /v1/traces even when it has a path. The exporter
 * then takes that path as is and derives /v1/metrics from it.
 */
static int env_endpoint(struct exporter_opts *o, struct env_store *s, char *err, size_t errlen)
{
	const char *tep = env_get(ENV_TRACES_ENDPOINT), *ep = env_get(ENV_ENDPOINT);
	const char *var = tep ? ENV_TRACES_ENDPOINT : ENV_ENDPOINT, *val = tep ?: ep;
	char *path = NULL, *url = NULL;
	CURLU *u;
	size_t n;
	int ret = 0;

	if (!val)
		return 0;
	u = url_parse(val);
	if (!u) {
		snprintf(err, errlen,
			 "%s=\"%s\": expected an http:// or https:// URL such as "
			 "http://localhost:4318 (http/protobuf) or http://localhost:4317 (grpc)",
			 var, val);
		return -EINVAL;
	}
	if (tep || o->protocol == EXPORTER_GRPC || curl_url_get(u, CURLUPART_PATH, &path, 0)) {
		o->endpoint = store_put(s, val, strlen(val), "", 0);
		goto out;
	}
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (!n) {
		o->endpoint = store_put(s, val, strlen(val), "", 0);
		goto out;
	}
	path[n] = 0;
	url = malloc(n + sizeof(TRACES_PATH));
	if (!url) {
		ret = -ENOMEM;
		goto out;
	}
	sprintf(url, "%s%s", path, TRACES_PATH);
	curl_free(path);
	path = NULL;
	if (curl_url_set(u, CURLUPART_PATH, url, 0) || curl_url_get(u, CURLUPART_URL, &path, 0)) {
		ret = -ENOMEM;
		goto out;
	}
	o->endpoint = store_put(s, path, strlen(path), "", 0);
out:
	if (!ret && !o->endpoint)
		ret = -ENOMEM;
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(url);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

static int env_protocol(struct exporter_opts *o, char *err, size_t errlen)
{
	const char *v = env_get(ENV_PROTOCOL);

	if (!v)
		return 0;
	if (!strcmp(v, "grpc")) {
		o->protocol = EXPORTER_GRPC;
	} else if (!strcmp(v, "http/protobuf")) {
		o->protocol = EXPORTER_HTTP_PROTOBUF;
	} else if (!strcmp(v, "http/json")) {
		o->protocol = EXPORTER_HTTP_JSON;
	} else {
		snprintf(err, errlen, "%s=\"%s\": expected grpc, http/protobuf or http/json",
			 ENV_PROTOCOL, v);
		return -EINVAL;
	}
	return 0;
}

static int env_compression(struct exporter_opts *o, char *err, size_t errlen)
{
	const char *v = env_get(ENV_COMPRESSION);

	if (!v)
		return 0;
	if (!strcmp(v, "gzip")) {
		o->gzip = true;
	} else if (!strcmp(v, "none")) {
		o->gzip = false;
	} else {
		snprintf(err, errlen, "%s=\"%s\": expected gzip or none", ENV_COMPRESSION, v);
		return -EINVAL;
	}
	return 0;
}

static int env_resource(struct otlp_resource *r, char *err, size_t errlen)
{
	const char *attrs = env_get(ENV_RESOURCE_ATTRS), *svc = env_get(ENV_SERVICE_NAME);
	int ret;

	if (attrs) {
		ret = kv_parse(ENV_RESOURCE_ATTRS, attrs, env_resource_attr, r, err, errlen);
		if (ret)
			return ret;
	}
	/* OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES' service.name */
	if (svc && strlen(svc) >= sizeof(r->service_name)) {
		snprintf(err, errlen, "%s=\"%s\" is too long: expected at most %zu bytes",
			 ENV_SERVICE_NAME, svc, sizeof(r->service_name) - 1);
		return -EINVAL;
	}
	if (svc)
		strcpy(r->service_name, svc);
	return 0;
}

void *exporter__opts_from_env(struct exporter_opts *opts, struct otlp_resource *res, char *err,
			      size_t errlen)
{
	const char *ep = env_get(ENV_ENDPOINT), *tep = env_get(ENV_TRACES_ENDPOINT);
	const char *hdrs = env_get(ENV_HEADERS);
	struct exporter_opts o;
	struct otlp_resource r;
	struct env_store s;
	size_t size = 64;
	char *block;
	int ret;

	if (!opts || !res) {
		snprintf(err, errlen, "no options to fill");
		errno = EINVAL;
		return NULL;
	}
	/* work on copies: a malformed variable leaves opts and res as they were */
	o = *opts;
	r = *res;
	size += (tep ? strlen(tep) : ep ? strlen(ep) : 0) * 3 + sizeof(TRACES_PATH);
	size += hdrs ? strlen(hdrs) + 2 * (strlen(hdrs) + 1) : 0;
	block = calloc(1, size);
	if (!block) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s.p = block;
	s.end = block + size;
	ret = env_protocol(&o, err, errlen);
	ret = ret ?: env_endpoint(&o, &s, err, errlen);
	ret = ret ?: env_compression(&o, err, errlen);
	if (!ret && hdrs) {
		struct env_headers h = {.o = &o, .s = &s};

		o.n_headers = 0;
		ret = kv_parse(ENV_HEADERS, hdrs, env_header, &h, err, errlen);
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	ret = ret ?: env_resource(&r, err, errlen);
	if (ret) {
		free(block);
		errno = -ret;
		return NULL;
	}
	*opts = o;
	*res = r;
	return block;
}
