/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Promoted traces -> OTLP spans, per session: one element's span records
 * (the flow root, one span per invocation, and at diagnostic level its
 * transfers, copies and backpressure waits) become spans named and parented
 * as the Torvyn model says (docs/design.md, "Traces"), handed to a sink (the
 * OTLP exporter). A trace that overtakes its flow's first metric block (a
 * tracer attached mid-run sees elements before the host's next flush) waits
 * for the names, a second at most.
 */
#ifndef TORVYN_TRACING_H
#define TORVYN_TRACING_H

#include <stdbool.h>

#include "otlp.h"
#include "session.h"

#define TRACING_MAX_SPANS TORVYN_TRACE_RECS

struct tvn_tracing;

/* Receives each span of a built trace. */
typedef void (*tvn_span_sink)(void *ctx, const struct tvn_otlp_span *span);

/*
 * Builds the spans of one promoted trace into out (at most
 * TRACING_MAX_SPANS); returns how many. Names come from the session's store.
 */
int tvn_tracing__build(struct tvn_session *s, const struct tvn_rb_trace *rec,
		       struct tvn_otlp_span *out);

/*
 * The tracing of session s into sink(ctx); registers itself as the
 * session's trace callback. NULL and errno on failure. Free (which
 * unregisters it) before the session.
 */
struct tvn_tracing *tvn_tracing__new(struct tvn_session *s, tvn_span_sink sink, void *ctx);
void tvn_tracing__free(struct tvn_tracing *t); /* NULL does nothing */

/*
 * Emits the traces that waited for their flow's names once the names are
 * there, or after a second, or now with force. Call after each poll.
 */
void tvn_tracing__retry(struct tvn_tracing *t, bool force);

#endif /* TORVYN_TRACING_H */
