// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP exporter (exporter.h): its setup and exit, and the calls that hand
 * it spans and metrics, each of one of its resources (resource.c). Spans
 * gather in the current batch and batches in a bounded queue (queue.c); one
 * sender thread (sender.c) takes the oldest request of either queue, encodes
 * it (traces) and delivers it to every destination, retrying the network one
 * with exponential backoff (retry.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export_internal.h"
#include "log.h"

#define DEF_BATCH_MAX_SPANS 512
#define DEF_BATCH_TIMEOUT_MS 5000
#define DEF_QUEUE_MAX_BATCHES 64
#define DEF_REQUEST_TIMEOUT_MS 10000
#define DEF_MAX_RETRY_MS 30000
#define METRICS_QUEUE_MAX 4 /* a minute of 15 s pushes */

uint64_t tvn_export__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t tvn_exporter__stop_at(const struct tvn_exporter *e)
{
	return __atomic_load_n(&e->stop_at_ms, __ATOMIC_ACQUIRE);
}

void tvn_exporter__add_span_to(struct tvn_exporter *e, int res_id, const struct tvn_otlp_span *span)
{
	struct tvn_otlp_req *dropped = NULL, *d2 = NULL;
	uint64_t now;
	int of;

	if (!e || !span || e->no_traces)
		return;
	now = tvn_export__now_ms();
	pthread_mutex_lock(&e->mu);
	e->st.spans_queued++;
	dropped = tvn_exporter__batch_expire_locked(e, now);
	if (e->batch_n == e->batch_cap && tvn_exporter__batch_grow_locked(e)) {
		e->st.spans_dropped++;
		goto out;
	}
	of = tvn_exporter__batch_res_locked(e, res_id);
	if (of < 0) {
		e->st.spans_dropped++;
		goto out;
	}
	if (!e->batch_n) {
		e->batch_t0_ms = now;
		pthread_cond_signal(&e->cond); /* the sender arms the batch timer */
	}
	e->batch_of[e->batch_n] = (uint32_t)of;
	e->batch[e->batch_n++] = *span;
	if (e->batch_n >= e->opts.batch_max_spans)
		d2 = tvn_exporter__batch_queue_locked(e);
out:
	pthread_mutex_unlock(&e->mu);
	tvn_otlp_req__free(dropped);
	tvn_otlp_req__free(d2);
}

void tvn_exporter__add_span(struct tvn_exporter *e, const struct tvn_otlp_span *span)
{
	tvn_exporter__add_span_to(e, 0, span);
}

void tvn_exporter__flush(struct tvn_exporter *e)
{
	struct tvn_otlp_req *dropped;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	dropped = tvn_exporter__batch_queue_locked(e);
	pthread_mutex_unlock(&e->mu);
	tvn_otlp_req__free(dropped);
}

/* Copies of the resources of ids[0..n), for encoding outside the lock. 0 or -errno. */
static int push_resources(struct tvn_exporter *e, const int *ids, int n,
			  struct tvn_otlp_resource **res, const struct tvn_otlp_resource ***ptrs)
{
	int bad;

	*res = calloc((size_t)n, sizeof(**res));
	*ptrs = calloc((size_t)n, sizeof(**ptrs));
	if (!*res || !*ptrs)
		return -ENOMEM;
	pthread_mutex_lock(&e->mu);
	bad = tvn_exporter__res_copy_locked(e, ids, n, *res);
	pthread_mutex_unlock(&e->mu);
	if (bad >= 0) {
		pr_warn("otlp: cannot push metrics: no resource has id %d\n", ids[bad]);
		return -ENOENT;
	}
	for (int i = 0; i < n; i++)
		(*ptrs)[i] = &(*res)[i];
	return 0;
}

void tvn_exporter__push_metrics_many(struct tvn_exporter *e, const int *res_ids,
				     const struct tvn_snapshot *const *snaps, int n,
				     uint64_t start_unix_ns, uint64_t now_unix_ns)
{
	const struct tvn_otlp_resource **ptrs = NULL;
	struct tvn_otlp_resource *res = NULL;
	struct tvn_otlp_req *r = NULL, *dropped;
	int err;

	if (!e || !res_ids || !snaps || n <= 0)
		return;
	err = push_resources(e, res_ids, n, &res, &ptrs);
	if (err)
		goto fail;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	r->metrics = true;
	err =
	    tvn_exporter__encode_metrics(e, r, ptrs, snaps, (size_t)n, start_unix_ns, now_unix_ns);
	if (err)
		goto fail;
	free(res);
	free(ptrs);
	pthread_mutex_lock(&e->mu);
	dropped = tvn_exporter__enqueue_locked(e, &e->metrics, r);
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	tvn_otlp_req__free(dropped);
	return;
fail:
	if (err != -ENOENT)
		pr_warn("otlp: cannot encode metrics: %s\n", strerror(-err));
	free(res);
	free(ptrs);
	tvn_otlp_req__free(r);
	pthread_mutex_lock(&e->mu);
	e->st.metric_requests_failed++;
	e->st.requests_failed++;
	pthread_mutex_unlock(&e->mu);
}

void tvn_exporter__push_metrics(struct tvn_exporter *e, const struct tvn_snapshot *snap,
				uint64_t start_unix_ns, uint64_t now_unix_ns)
{
	static const int res0 = 0;

	if (snap)
		tvn_exporter__push_metrics_many(e, &res0, &snap, 1, start_unix_ns, now_unix_ns);
}

void tvn_exporter__stats(struct tvn_exporter *e, struct tvn_exporter_stats *st)
{
	if (!e || !st)
		return;
	pthread_mutex_lock(&e->mu);
	*st = e->st;
	pthread_mutex_unlock(&e->mu);
}

/* ------------------------------------------------------------ setup */

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

/* The defaults of the limits left at 0. */
static void default_opts(struct tvn_exporter_opts *o)
{
	if (!o->batch_max_spans)
		o->batch_max_spans = DEF_BATCH_MAX_SPANS;
	if (!o->batch_timeout_ms)
		o->batch_timeout_ms = DEF_BATCH_TIMEOUT_MS;
	if (!o->queue_max_batches)
		o->queue_max_batches = DEF_QUEUE_MAX_BATCHES;
	if (!o->request_timeout_ms)
		o->request_timeout_ms = DEF_REQUEST_TIMEOUT_MS;
	if (!o->max_retry_ms)
		o->max_retry_ms = DEF_MAX_RETRY_MS;
}

static int copy_opts(struct tvn_exporter *e, const struct tvn_exporter_opts *opts)
{
	bool net;
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
	default_opts(&e->opts);
	e->traces.max = e->opts.queue_max_batches;
	e->metrics.max = METRICS_QUEUE_MAX;
	net = opts->endpoint || opts->metrics_endpoint;
	e->want_pb = net && opts->protocol != EXPORTER_HTTP_JSON;
	e->want_json = opts->to_stdout || opts->file_path ||
		       (net && opts->protocol == EXPORTER_HTTP_JSON);
	e->no_traces = !opts->endpoint && !opts->to_stdout && !opts->file_path;
	return err;
}

static int check_headers(const struct tvn_exporter_opts *o, char *err, size_t errlen)
{
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

static int check_opts(const struct tvn_exporter_opts *o, char *err, size_t errlen)
{
	if (o->protocol != EXPORTER_HTTP_PROTOBUF && o->protocol != EXPORTER_HTTP_JSON &&
	    o->protocol != EXPORTER_GRPC) {
		snprintf(err, errlen, "unknown OTLP protocol %d", (int)o->protocol);
		return -EINVAL;
	}
	if (!o->endpoint && !o->metrics_endpoint && !o->to_stdout && !o->file_path) {
		snprintf(err, errlen, "no OTLP destination: give an endpoint, stdout or a file");
		return -EINVAL;
	}
	return check_headers(o, err, errlen);
}

static void exporter_destroy(struct tvn_exporter *e)
{
	tvn_otlp_client__fini(&e->client);
	if (e->file)
		fclose(e->file);
	tvn_otlp_req__free(e->traces.head);
	tvn_otlp_req__free(e->metrics.head);
	free(e->batch);
	free(e->batch_of);
	free(e->batch_res);
	free(e->res);
	free(e->endpoint);
	free(e->file_path);
	for (int i = 0; i < EXPORTER_MAX_HEADERS; i++)
		free(e->headers[i]);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

/* A zeroed exporter with its lock, its condition (on the monotonic clock) and its generator. */
static struct tvn_exporter *exporter_alloc(void)
{
	pthread_condattr_t ca;
	struct tvn_exporter *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->stop_at_ms = NEVER;
	e->failures_log.interval_ns = 60000000000ull;
	tvn_backoff__init(&e->backoff,
			  tvn_export__now_ms() ^ (uint64_t)getpid() << 32 ^ (uintptr_t)e);
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	return e;
}

/* The destinations and the sender thread. 0, or -errno with err set. */
static int exporter_start(struct tvn_exporter *e, char *err, size_t errlen)
{
	int ret;

	if (e->endpoint || e->opts.metrics_endpoint) {
		ret = tvn_otlp_client__init(&e->client, &e->opts, &e->stop_at_ms, err, errlen);
		if (ret)
			return ret;
	}
	if (e->file_path && !(e->file = fopen(e->file_path, "a"))) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s to append OTLP/JSON: %s", e->file_path,
			 strerror(errno));
		return ret;
	}
	ret = -pthread_create(&e->thread, NULL, tvn_exporter__sender_main, e);
	if (ret)
		snprintf(err, errlen, "cannot start the OTLP sender thread: %s", strerror(-ret));
	return ret;
}

struct tvn_exporter *tvn_exporter__new(const struct tvn_exporter_opts *opts,
				       const struct tvn_otlp_resource *res, char *err,
				       size_t errlen)
{
	struct tvn_exporter *e;
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
	e = exporter_alloc();
	if (!e)
		goto nomem;
	if (copy_opts(e, opts) || tvn_exporter__res_init_locked(e, res)) {
		exporter_destroy(e);
		goto nomem;
	}
	ret = exporter_start(e, err, errlen);
	if (ret) {
		exporter_destroy(e);
		errno = -ret;
		return NULL;
	}
	return e;

nomem:
	snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

/* After the sender stopped: what is still queued will not go. */
static void drop_queued(struct tvn_exporter *e, uint32_t deadline_ms)
{
	struct tvn_otlp_req *dropped, *r;
	uint64_t spans = 0, metrics = 0;

	pthread_mutex_lock(&e->mu);
	dropped = tvn_exporter__batch_queue_locked(e);
	tvn_otlp_req__free(dropped);
	while ((r = tvn_exporter__dequeue_oldest_locked(e))) {
		if (r->metrics)
			metrics++;
		else
			spans += r->n_spans;
		tvn_exporter__count_dropped_locked(e, r);
		tvn_otlp_req__free(r);
	}
	pthread_mutex_unlock(&e->mu);
	if (spans || metrics)
		pr_warn("otlp: exit deadline (%u ms) passed: dropped %" PRIu64
			" queued spans and %" PRIu64 " metric requests\n",
			deadline_ms, spans, metrics);
}

void tvn_exporter__free(struct tvn_exporter *e, uint32_t deadline_ms)
{
	struct tvn_otlp_req *dropped;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	dropped = tvn_exporter__batch_queue_locked(e);
	__atomic_store_n(&e->stop_at_ms, tvn_export__now_ms() + deadline_ms, __ATOMIC_RELEASE);
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	tvn_otlp_req__free(dropped);
	pthread_join(e->thread, NULL);
	drop_queued(e, deadline_ms);
	exporter_destroy(e);
}
