/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Promoted traces -> OTLP spans: one element's span records (the flow root,
 * one span per invocation, and at diagnostic level its transfers, copies and
 * backpressure waits) become spans named and parented as the Torvyn model
 * says, handed to the exporter.
 */
#ifndef TORVYN_TRACING_H
#define TORVYN_TRACING_H

#include "exporter.h"
#include "session.h"

#define TRACING_MAX_SPANS TVN_RB_MAX_RECS

/*
 * Builds the spans of one promoted trace into out (at most
 * TRACING_MAX_SPANS); returns how many. Names come from the session.
 */
int tracing__build(struct session *s, const struct tvn_rb_trace *rec, struct otlp_span *out);

/* A session_trace_fn: builds the spans and adds them to the exporter (ctx). */
void tracing__on_trace(void *exporter, const struct tvn_rb_trace *rec);

/* The session tracing__on_trace takes its names from; set once before attaching. */
void tracing__set_session(struct session *s);

/*
 * Emits the traces that waited for their flow's names once the names are
 * there, or after a second, or now with force. Call after each poll.
 */
void tracing__retry(void *exporter, bool force);

#endif /* TORVYN_TRACING_H */
