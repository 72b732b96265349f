// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Requests and where they wait. Callers append spans to the current batch
 * under the exporter's mutex; full, timed-out or flushed batches go into a
 * bounded queue that drops its oldest batch when full. Metric requests are
 * encoded by the caller and wait in a small queue of their own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

void tvn_otlp_req__free(struct tvn_otlp_req *r)
{
	struct tvn_otlp_req *next;

	for (; r; r = next) {
		next = r->next;
		free(r->spans);
		free(r->res_of);
		free(r->res);
		free(r->pb);
		free(r->json);
		free(r);
	}
}

/* OTLP/JSON has no raw newlines outside whitespace: make each request one line. */
static void json_one_line(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
}

/* After an encoding: each JSON request one line, and the batch freed (the encodings do now). */
static int encoded(struct tvn_otlp_req *r, int err)
{
	if (err)
		return err;
	if (r->json)
		json_one_line(r->json, r->json_len);
	free(r->spans);
	free(r->res_of);
	free(r->res);
	r->spans = NULL;
	r->res_of = NULL;
	r->res = NULL;
	return 0;
}

int tvn_exporter__encode_traces(const struct tvn_exporter *e, struct tvn_otlp_req *r)
{
	struct tvn_otlp_traces t = {r->res, r->n_res, r->spans, r->res_of, r->n_spans};
	int err = 0;

	if (e->want_pb)
		err = tvn_otlp__encode_traces_many_pb(&t, &r->pb, &r->pb_len);
	if (!err && e->want_json)
		err = tvn_otlp__encode_traces_many_json(&t, &r->json, &r->json_len);
	return encoded(r, err);
}

int tvn_exporter__encode_metrics(const struct tvn_exporter *e, struct tvn_otlp_req *r,
				 const struct tvn_otlp_resource *const *res,
				 const struct tvn_snapshot *const *snaps, size_t n,
				 uint64_t start_unix_ns, uint64_t now_unix_ns)
{
	int err = 0;

	if (e->want_pb)
		err = tvn_otlp__encode_metrics_many_pb(res, snaps, n, start_unix_ns, now_unix_ns,
						       &r->pb, &r->pb_len);
	if (!err && e->want_json)
		err = tvn_otlp__encode_metrics_many_json(res, snaps, n, start_unix_ns, now_unix_ns,
							 &r->json, &r->json_len);
	return encoded(r, err);
}

void tvn_exporter__count_dropped_locked(struct tvn_exporter *e, const struct tvn_otlp_req *r)
{
	if (r->metrics)
		e->st.metric_requests_dropped++;
	else
		e->st.spans_dropped += r->n_spans;
}

/* Appends r; returns the request that made room, counted as dropped. */
struct tvn_otlp_req *tvn_exporter__enqueue_locked(struct tvn_exporter *e, struct tvn_otlp_queue *q,
						  struct tvn_otlp_req *r)
{
	struct tvn_otlp_req *old = NULL;

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
		tvn_exporter__count_dropped_locked(e, old);
	}
	return old;
}

static struct tvn_otlp_req *queue_pop(struct tvn_otlp_queue *q)
{
	struct tvn_otlp_req *r = q->head;

	if (!r)
		return NULL;
	q->head = r->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	r->next = NULL;
	return r;
}

struct tvn_otlp_req *tvn_exporter__dequeue_oldest_locked(struct tvn_exporter *e)
{
	struct tvn_otlp_req *t = e->traces.head, *m = e->metrics.head;

	if (m && (!t || m->seq < t->seq))
		return queue_pop(&e->metrics);
	return queue_pop(&e->traces);
}

/* Gives the batch's arrays to r, their unused tails given back. */
static void batch_give(struct tvn_exporter *e, struct tvn_otlp_req *r)
{
	r->spans = e->batch;
	r->res_of = e->batch_of;
	r->n_spans = e->batch_n;
	if (e->batch_n < e->batch_cap) {
		/* a partial batch may wait long in the queue: give back its tail */
		struct tvn_otlp_span *b = realloc(e->batch, e->batch_n * sizeof(*b));
		uint32_t *o = realloc(e->batch_of, e->batch_n * sizeof(*o));

		if (b)
			r->spans = b;
		if (o)
			r->res_of = o;
	}
	e->batch = NULL;
	e->batch_of = NULL;
	e->batch_n = e->batch_cap = 0;
}

struct tvn_otlp_req *tvn_exporter__batch_queue_locked(struct tvn_exporter *e)
{
	struct tvn_otlp_req *r;

	if (!e->batch_n)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (tvn_exporter__batch_res_take_locked(e, r)) {
		tvn_otlp_req__free(r);
		e->st.spans_dropped += e->batch_n;
		e->batch_n = 0;
		return NULL;
	}
	batch_give(e, r);
	pthread_cond_signal(&e->cond);
	return tvn_exporter__enqueue_locked(e, &e->traces, r);
}

struct tvn_otlp_req *tvn_exporter__batch_expire_locked(struct tvn_exporter *e, uint64_t now)
{
	if (e->batch_n && now - e->batch_t0_ms >= e->opts.batch_timeout_ms)
		return tvn_exporter__batch_queue_locked(e);
	return NULL;
}

int tvn_exporter__batch_grow_locked(struct tvn_exporter *e)
{
	size_t cap = e->batch_cap ? e->batch_cap * 2 : 64;
	struct tvn_otlp_span *b;
	uint32_t *o;

	if (cap > e->opts.batch_max_spans)
		cap = e->opts.batch_max_spans;
	b = realloc(e->batch, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	e->batch = b;
	o = realloc(e->batch_of, cap * sizeof(*o));
	if (!o)
		return -ENOMEM; /* batch_cap stays: the next span tries again */
	e->batch_of = o;
	e->batch_cap = cap;
	return 0;
}
