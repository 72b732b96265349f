/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tracing.h"
#include "torvyn_names.h"

static struct session *names_from;

static void id64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void set_error(struct otlp_span *sp, uint8_t kind)
{
	const char *name = kind < sizeof(torvyn_err_kind_names) / sizeof(torvyn_err_kind_names[0]) ? torvyn_err_kind_names[kind] :
									   "unknown";

	sp->status_code = OTLP_STATUS_ERROR;
	snprintf(sp->status_message, sizeof(sp->status_message), "%s", name);
	otlp_span__attr_str(sp, "torvyn.error.kind", name);
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

int tracing__build(struct session *s, const struct tvn_rb_trace *rec, struct otlp_span *out)
{
	const struct torvyn_trace_hdr *h = &rec->trace;
	uint32_t n = h->count < TVN_RB_MAX_RECS ? h->count : TVN_RB_MAX_RECS;
	uint32_t flow = (uint32_t)h->flow_idx;
	char fname[TORVYN_NAME_LEN], name[TORVYN_NAME_LEN], other[TORVYN_NAME_LEN];

	session__name(s, flow, TORVYN_BLOCK_FLOW, -1, fname, sizeof(fname));
	for (uint32_t i = 0; i < n; i++) {
		const struct torvyn_span_rec *r = &rec->rec[i];
		struct otlp_span *sp = &out[i];
		uint64_t parent = r->parent_span_id;

		memset(sp, 0, sizeof(*sp));
		memcpy(sp->trace_id, h->trace_id, 16);
		id64(sp->span_id, r->span_id);
		sp->flags = h->flags & 0x01;
		sp->kind = OTLP_SPAN_KIND_INTERNAL;
		sp->start_unix_ns = session__mono_to_unix(s, r->start_ns);
		sp->end_unix_ns = session__mono_to_unix(s, r->end_ns);
		otlp_span__attr_str(sp, "torvyn.flow.id", fname);
		otlp_span__attr_int(sp, "torvyn.element.seq", (int64_t)r->seq);
		switch (r->kind) {
		case TORVYN_SPAN_FLOW:
			/* the root: parented to the incoming traceparent, if any */
			snprintf(sp->name, sizeof(sp->name), "flow:%s", fname);
			sp->kind = OTLP_SPAN_KIND_CONSUMER;
			parent = h->remote_parent_span_id;
			otlp_span__attr_str(sp, "torvyn.promotion.reason",
					    h->reason < 3 ? torvyn_promote_names[h->reason] : "unknown");
			otlp_span__attr_int(sp, "torvyn.element.bytes", (int64_t)r->bytes);
			if (h->dropped)
				otlp_span__attr_int(sp, "torvyn.spans.dropped", h->dropped);
			break;
		case TORVYN_SPAN_INVOKE:
			session__name(s, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
				      sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "component:%s:invoke:%llu", name,
				 (unsigned long long)r->seq);
			otlp_span__attr_str(sp, "torvyn.component.id", name);
			otlp_span__attr_int(sp, "torvyn.bytes.in", (int64_t)r->aux);
			otlp_span__attr_int(sp, "torvyn.bytes.out", (int64_t)r->bytes);
			break;
		case TORVYN_SPAN_TRANSFER: {
			const struct torvyn_span_rec *to = invoke_of(rec, n, r->aux_idx);

			session__name(s, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
				      sizeof(name));
			session__name(s, flow, TORVYN_BLOCK_COMPONENT, r->aux_idx, other,
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
					session__mono_to_unix(s, to->start_ns);
			}
			otlp_span__attr_int(sp, "torvyn.queue.wait_ns",
					    (int64_t)(r->end_ns - r->start_ns));
			otlp_span__attr_int(sp, "torvyn.buffer.id", (int64_t)r->aux);
			otlp_span__attr_str(sp, "torvyn.transfer.from", name);
			otlp_span__attr_str(sp, "torvyn.transfer.to", other);
			otlp_span__attr_int(sp, "torvyn.bytes", (int64_t)r->bytes);
			break;
		}
		case TORVYN_SPAN_COPY:
			session__name(s, flow, TORVYN_BLOCK_COMPONENT, r->component_idx, name,
				      sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "resource:copy:%llu",
				 (unsigned long long)r->aux);
			otlp_span__attr_str(sp, "torvyn.component.id", name);
			otlp_span__attr_str(sp, "torvyn.copy.reason",
					    r->reason < 4 ? torvyn_copy_reason_names[r->reason] : "unknown");
			otlp_span__attr_int(sp, "torvyn.bytes", (int64_t)r->bytes);
			break;
		case TORVYN_SPAN_BACKPRESSURE:
			session__name(s, flow, TORVYN_BLOCK_STREAM, r->component_idx, name,
				      sizeof(name));
			snprintf(sp->name, sizeof(sp->name), "backpressure:%s", name);
			otlp_span__attr_str(sp, "torvyn.stream.id", name);
			otlp_span__attr_int(sp, "torvyn.queue.depth", (int64_t)r->aux);
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

void tracing__set_session(struct session *s)
{
	names_from = s;
}

static void emit(void *exporter, const struct tvn_rb_trace *rec)
{
	struct otlp_span spans[TRACING_MAX_SPANS];
	int n = tracing__build(names_from, rec, spans);

	for (int i = 0; i < n; i++)
		exporter__add_span(exporter, &spans[i]);
}

/*
 * A trace can overtake the first metric blocks of its flow (a tracer that
 * attaches mid-run sees elements before the host's next flush): it waits
 * here for the names, a second at most.
 */
#define PENDING_MAX 256
#define PENDING_WAIT_NS 1000000000ull

static struct {
	struct tvn_rb_trace rec;
	uint64_t since_ns;
} pending[PENDING_MAX];
static int n_pending;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void tracing__on_trace(void *exporter, const struct tvn_rb_trace *rec)
{
	if (!names_from || !exporter)
		return;
	if (session__flow_named(names_from, (uint32_t)rec->trace.flow_idx) ||
	    n_pending == PENDING_MAX) {
		emit(exporter, rec);
		return;
	}
	pending[n_pending].rec = *rec;
	pending[n_pending].since_ns = mono_ns();
	n_pending++;
}

void tracing__retry(void *exporter, bool force)
{
	uint64_t now = mono_ns();
	int kept = 0;

	for (int i = 0; i < n_pending; i++) {
		if (force || now - pending[i].since_ns > PENDING_WAIT_NS ||
		    session__flow_named(names_from, (uint32_t)pending[i].rec.trace.flow_idx)) {
			if (exporter)
				emit(exporter, &pending[i].rec);
		} else {
			pending[kept++] = pending[i];
		}
	}
	n_pending = kept;
}
