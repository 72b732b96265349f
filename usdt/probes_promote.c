// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtorvyn-probes: exporting one element's trace (trace__promote), for the
 * library's elements and for a host that keeps span slots of its own
 * (torvyn-host). A file of its own: a static link pulls in only the probe
 * sites its host can reach.
 */
#include <string.h>

#include "probes_internal.h"

/* The start of the invocation that received transfer i, or i's own start if none was recorded. */
static uint64_t transfer_end(const struct tvn_span_slot *s, uint32_t i, uint32_t n)
{
	const struct torvyn_span_rec *t = &s->rec[i];

	for (uint32_t j = i + 1; j < n; j++) {
		const struct torvyn_span_rec *r = &s->rec[j];

		if (r->kind == TORVYN_SPAN_INVOKE && r->component_idx == t->aux_idx)
			return r->start_ns > t->start_ns ? r->start_ns : t->start_ns;
	}
	return t->start_ns;
}

void tvn_span_slot__promote(struct tvn_span_slot *s, struct torvyn_flow_block *fb,
			    const struct tvn_trace_ctx *ctx, uint64_t seq, uint32_t nrec,
			    uint32_t ndropped, uint32_t reason, const struct tvn_clock *seg)
{
	uint64_t root = ctx->span_id;
	uint32_t n = nrec < TVN_SLOT_RECS ? nrec : TVN_SLOT_RECS;

	memcpy(s->hdr.trace_id, ctx->trace_id, sizeof(s->hdr.trace_id));
	s->hdr.remote_parent_span_id = ctx->parent_span_id;
	s->hdr.flow_idx = fb->hdr.flow_idx;
	s->hdr.seq = seq;
	s->hdr.flags = ctx->flags;
	s->hdr.reason = reason;
	s->hdr.count = n;
	s->hdr.dropped = ndropped;
	for (uint32_t i = 0; i < n; i++) {
		struct torvyn_span_rec *r = &s->rec[i];
		uint64_t z = tvn_rng_at(root, i + 1);

		r->seq = seq;
		if (seg) {
			r->start_ns = tvn_clock__read(seg, r->start_ns);
			/* a transfer's end, 0, is its receiver's start: the loop below */
			if (r->end_ns || r->kind != TORVYN_SPAN_TRANSFER)
				r->end_ns = tvn_clock__read(seg, r->end_ns);
		}
		if (r->kind == TORVYN_SPAN_FLOW)
			continue;
		r->parent_span_id = root;
		r->span_id = z ? z : 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct torvyn_span_rec *r = &s->rec[i];

		if (r->kind == TORVYN_SPAN_COPY && r->aux_idx < n)
			r->parent_span_id = s->rec[r->aux_idx].span_id;
		/* a transfer recorded without its end ends where its receiver's invocation starts
		 */
		if (r->kind == TORVYN_SPAN_TRANSFER && !r->end_ns)
			r->end_ns = transfer_end(s, i, n);
	}
	__atomic_add_fetch(&fb->promoted_total[reason], 1, __ATOMIC_RELAXED);
	/* the records an exported trace lost to its full slot */
	if (ndropped)
		__atomic_add_fetch(&fb->spans_dropped, ndropped, __ATOMIC_RELAXED);
	if (TORVYN_TRACE_PROMOTE_ENABLED())
		TORVYN_TRACE_PROMOTE(&s->hdr, s->rec, s->hdr.count, reason);
}
