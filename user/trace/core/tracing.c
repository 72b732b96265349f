/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "tracing.h"
#include "torvyn_names.h"

#define PENDING_MAX 256
#define PENDING_WAIT_NS 1000000000ull

struct tvn_tracing {
	struct tvn_session *session;
	tvn_span_sink sink;
	void *sink_ctx;
	int n_pending;
	struct {
		struct tvn_rb_trace rec;
		uint64_t since_ns;
	} pending[PENDING_MAX];
};

static void id64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void set_error(struct tvn_otlp_span *sp, uint8_t kind)
{
	const char *name = kind < sizeof(torvyn_err_kind_names) / sizeof(torvyn_err_kind_names[0])
			       ? torvyn_err_kind_names[kind]
			       : "unknown";

	sp->status_code = OTLP_STATUS_ERROR;
	snprintf(sp->status_message, sizeof(sp->status_message), "%s", name);
	tvn_otlp_span__attr_str(sp, "torvyn.error.kind", name);
}

/* The invoke record of component idx in this trace, for a transfer's parent. */
static const struct torvyn_span_rec *invoke_of(const struct tvn_rb_trace *rec, uint32_t n,
					       uint16_t idx)
{
	for (uint32_t i = 0; i < n; i++) {
		if (rec->rec[i].kind == TORVYN_SPAN_INVOKE && rec->rec[i].component_idx == idx)
			return &rec->rec[i];
	}
	return NULL;
}

int tvn_tracing__build(struct tvn_session *s, const struct tvn_rb_trace *rec,
		       struct tvn_otlp_span *out)
{
	const struct torvyn_trace_hdr *h = &rec->trace;
	uint32_t n = h->count < TRACING_MAX_SPANS ? h->count : TRACING_MAX_SPANS;
	struct tvn_store *st = tvn_session__store(s);
	uint32_t flow = (uint32_t)h->flow_idx;
	char fname[TORVYN_NAME_LEN], name[TORVYN_NAME_LEN], other[TORVYN_NAME_LEN];

	tvn_store__name(st, flow, TORVYN_BLOCK_FLOW, -1, fname, sizeof(fname));
	for (uint32_t i = 0; i < n; i++) {
		const struct torvyn_span_rec *r = &rec->rec[i];
		struct tvn_otlp_span *sp = &out[i];
		uint64_t parent = r->parent_span_id;

		memset(sp, 0, sizeof(*sp));
		memcpy(sp->trace_id, h->trace_id, 16);
		id64(sp->span_id, r->span_id);
		sp->flags = h->flags & 0x01;
		sp->kind = OTLP_SPAN_KIND_INTERNAL;
		sp->start_unix_ns = tvn_session__mono_to_unix(s, r->start_ns);
		sp->end_unix_ns = tvn_session__mono_to_unix(s, r->end_ns);
		tvn_otlp_span__attr_str(sp, "torvyn.flow.id", fname);
		tvn_otlp_span__attr_int(sp, "torvyn.element.seq", (int64_t)r->seq);
		switch (r->kind) {
		case TORVYN_SPAN_FLOW:
			/* the root: parented to the incoming traceparent, if any */
			snprintf(sp->name, sizeof(sp->name), "flow:%s", fname);
			sp->kind = OTLP_SPAN_KIND_CONSUMER;
			parent = h->remote_parent_span_id;
			tvn_otlp_span__attr_str(sp, "torvyn.promotion.reason",
						h->reason < 3 ? torvyn_promote_names[h->reason]
							      : "unknown");
			tvn_otlp_span__attr_int(sp, "torvyn.element.bytes", (int64_t)r->bytes);
			if (h->dropped)
				tvn_otlp_span__attr_int(sp, "torvyn.spans.dropped", h->dropped);
			break;
		case TORVYN_SPAN_INVOKE:
			tvn_store__name(st, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
					sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "component:%s:invoke:%llu", name,
				 (unsigned long long)r->seq);
			tvn_otlp_span__attr_str(sp, "torvyn.component.id", name);
			tvn_otlp_span__attr_int(sp, "torvyn.bytes.in", (int64_t)r->aux);
			tvn_otlp_span__attr_int(sp, "torvyn.bytes.out", (int64_t)r->bytes);
			break;
		case TORVYN_SPAN_TRANSFER: {
			const struct torvyn_span_rec *to = invoke_of(rec, n, r->aux_idx);

			tvn_store__name(st, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
					sizeof(name));
			tvn_store__name(st, flow, TORVYN_BLOCK_COMPONENT, r->aux_idx, other,
					sizeof(other));
			snprintf(sp->name, sizeof(sp->name), "resource:transfer:%llu",
				 (unsigned long long)r->aux);
			if (to) {
				/*
				 * The handover, under the invocation that received the
				 * buffer (the seed's hierarchy): an instant at its start;
				 * the queue wait before it is an attribute.
				 */
				parent = to->span_id;
				sp->start_unix_ns = sp->end_unix_ns =
				    tvn_session__mono_to_unix(s, to->start_ns);
			}
			tvn_otlp_span__attr_int(sp, "torvyn.queue.wait_ns",
						(int64_t)(r->end_ns - r->start_ns));
			tvn_otlp_span__attr_int(sp, "torvyn.buffer.id", (int64_t)r->aux);
			tvn_otlp_span__attr_str(sp, "torvyn.transfer.from", name);
			tvn_otlp_span__attr_str(sp, "torvyn.transfer.to", other);
			tvn_otlp_span__attr_int(sp, "torvyn.bytes", (int64_t)r->bytes);
			break;
		}
		case TORVYN_SPAN_COPY:
			tvn_store__name(st, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
					sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "resource:copy:%llu",
				 (unsigned long long)r->aux);
			tvn_otlp_span__attr_str(sp, "torvyn.component.id", name);
			tvn_otlp_span__attr_str(sp, "torvyn.copy.reason",
						r->reason < 4 ? torvyn_copy_reason_names[r->reason]
							      : "unknown");
			tvn_otlp_span__attr_int(sp, "torvyn.bytes", (int64_t)r->bytes);
			break;
		case TORVYN_SPAN_BACKPRESSURE:
			tvn_store__name(st, flow, TORVYN_BLOCK_STREAM, r->component_idx, name,
					sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "backpressure:%s", name);
			tvn_otlp_span__attr_str(sp, "torvyn.stream.id", name);
			tvn_otlp_span__attr_int(sp, "torvyn.queue.depth", (int64_t)r->aux);
			break;
		default:
			snprintf(sp->name, sizeof(sp->name), "torvyn:unknown:%u", r->kind);
		}
		if (parent)
			id64(sp->parent_span_id, parent);
		if (r->status == TORVYN_STATUS_ERROR)
			set_error(sp, r->error_kind);
	}
	return (int)n;
}

static void emit(struct tvn_tracing *t, const struct tvn_rb_trace *rec)
{
	struct tvn_otlp_span spans[TRACING_MAX_SPANS];
	int n = tvn_tracing__build(t->session, rec, spans);

	for (int i = 0; i < n; i++)
		t->sink(t->sink_ctx, &spans[i]);
}

static bool named(struct tvn_tracing *t, const struct tvn_rb_trace *rec)
{
	return tvn_store__flow_named(tvn_session__store(t->session), (uint32_t)rec->trace.flow_idx);
}

static void on_trace(void *ctx, const struct tvn_rb_trace *rec)
{
	struct tvn_tracing *t = ctx;

	if (named(t, rec) || t->n_pending == PENDING_MAX) {
		emit(t, rec);
		return;
	}
	t->pending[t->n_pending].rec = *rec;
	t->pending[t->n_pending].since_ns = tvn_time__mono_ns();
	t->n_pending++;
}

struct tvn_tracing *tvn_tracing__new(struct tvn_session *s, tvn_span_sink sink, void *ctx)
{
	struct tvn_tracing *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->session = s;
	t->sink = sink;
	t->sink_ctx = ctx;
	tvn_session__on_trace(s, on_trace, t);
	return t;
}

void tvn_tracing__free(struct tvn_tracing *t)
{
	if (!t)
		return;
	tvn_session__on_trace(t->session, NULL, NULL);
	free(t);
}

void tvn_tracing__retry(struct tvn_tracing *t, bool force)
{
	uint64_t now = tvn_time__mono_ns();
	int kept = 0;

	for (int i = 0; i < t->n_pending; i++) {
		if (force || now - t->pending[i].since_ns > PENDING_WAIT_NS ||
		    named(t, &t->pending[i].rec))
			emit(t, &t->pending[i].rec);
		else
			t->pending[kept++] = t->pending[i];
	}
	t->n_pending = kept;
}
