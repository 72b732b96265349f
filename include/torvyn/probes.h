/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtorvyn-probes: the runtime side of the Torvyn probe contract, for any
 * host. The library owns the USDT probe sites and their semaphores, the
 * metric blocks and their flush, the gates and the level, the span records
 * of each element and their promotion, and W3C traceparent. A host tells it
 * what happens (a step began, a step ended, an element was queued); a
 * tracer attached to the host's process (torvyn-trace, bpftrace, perf) sees
 * the probes. docs/write-your-own-host.md is the guide.
 *
 * Threads: a component's calls (step, copy, push on a stream it produces
 * into, pop from a stream it consumes, elem_end) come from one thread at a
 * time per component; a flow's elements may be handed between threads.
 * Registration (flow_new, component, stream, ready) happens before the flow
 * starts. Everything else is thread-safe.
 *
 * Errors: functions returning int return 0 (or an index) or -errno.
 */
#ifndef TORVYN_PROBES_LIB_H
#define TORVYN_PROBES_LIB_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "torvyn_abi.h" /* levels, statuses, roles, the metric block layouts */

#ifdef __cplusplus
extern "C" {
#endif

#define TVN_PROBES_API __attribute__((visibility("default")))

/* The library's version; the shared object is libtorvyn-probes.so.MAJOR. */
#define TVN_PROBES_VERSION_MAJOR 1
#define TVN_PROBES_VERSION_MINOR 0

struct tvn_probes;
struct tvn_probes_flow;
struct tvn_probes_elem;

struct tvn_probes_opts {
	/* how often the blocks are flushed while a tracer is attached; 0: 1000 ms */
	uint32_t flush_interval_ms;
	/* head sampling at the production level: 0 the default 0.01, < 0 none, >= 1 all */
	double sample_rate;
	/* an element slower than this end to end has its trace promoted; 0: 10 ms */
	uint64_t latency_threshold_ns;
	/*
	 * true: the library runs a thread of its own that polls the gates every
	 * 5 ms and flushes; false: the host calls tvn_probes__poll() itself.
	 */
	bool thread;
	/* called before each flush, with the library's lock held: update gauges here */
	void (*before_flush)(struct tvn_probes *p, void *arg);
	/* called when the level changes (from the thread that noticed) */
	void (*on_level)(struct tvn_probes *p, int level, void *arg);
	/*
	 * called at each poll, from the polling thread only, before the flush;
	 * due: a flush interval ended (the blocks are flushed right after)
	 */
	void (*on_tick)(struct tvn_probes *p, bool due, void *arg);
	void *arg;
};

/* ------------------------------------------------------------ the library */

/*
 * One per process. Announces the probe ABI (abi__version) and, with
 * opts->thread, starts the polling thread. opts may be NULL (the defaults).
 */
TVN_PROBES_API int tvn_probes__open(const struct tvn_probes_opts *opts, struct tvn_probes **out);
/*
 * Stops the thread, ends the flows started and not ended yet (as Completed), flushes
 * every block a last time (the tracer keeps the exact totals) and frees
 * everything. NULL does nothing.
 */
TVN_PROBES_API void tvn_probes__close(struct tvn_probes *p);

/*
 * Reads the gates: TORVYN_LEVEL_OFF, _PRODUCTION or _DIAGNOSTIC. A tracer
 * raises a gate by attaching to the gate's probe site, which this library
 * holds: a host never needs a site of its own.
 */
TVN_PROBES_API int tvn_probes__level(const struct tvn_probes *p);

#define TVN_PROBES_ANY 0x1	   /* some torvyn probe is attached */
#define TVN_PROBES_STEP_EVENTS 0x2 /* a probe fired per step is attached (diagnostic, bpftrace) */
TVN_PROBES_API unsigned int tvn_probes__attached(const struct tvn_probes *p);

/*
 * Reads the gates and, when the level changed since the last call, announces
 * it: the gate's probe fires once, so a tracer knows the host noticed.
 * Returns the level. Safe from any thread.
 */
TVN_PROBES_API int tvn_probes__announce(struct tvn_probes *p);

/*
 * What the polling thread does, for a host that polls from a thread of its
 * own (every 1 to 10 ms; always the same thread): tvn_probes__announce,
 * opts.on_tick, and the flush, at once when a tracer arrives and then every
 * flush interval. Returns the level.
 */
TVN_PROBES_API int tvn_probes__poll(struct tvn_probes *p);

/*
 * Waits until a tracer raised the production gate (or timeout_ns passed,
 * 0: forever), announces it and flushes, so the tracer knows every flow's
 * name before the first element. Returns the level or -ETIMEDOUT.
 */
TVN_PROBES_API int tvn_probes__wait_attach(struct tvn_probes *p, uint64_t timeout_ns);

/* Derives the flow blocks and the system block from the component blocks. */
TVN_PROBES_API void tvn_probes__aggregate(struct tvn_probes *p);
/* Aggregates and fires metrics__flush once per block, if a tracer listens. */
TVN_PROBES_API void tvn_probes__flush(struct tvn_probes *p);

TVN_PROBES_API struct torvyn_system_block *tvn_probes__system_block(struct tvn_probes *p);
TVN_PROBES_API struct torvyn_pool_block *tvn_probes__pool_block(struct tvn_probes *p);

/* CLOCK_MONOTONIC in nanoseconds, the clock of every timestamp the library keeps. */
TVN_PROBES_API uint64_t tvn_probes__now_ns(void);

/* ------------------------------------------------------------ flows */

/*
 * A flow named name, TORVYN_MAX_FLOWS at most. Names of flows, components
 * and streams longer than TORVYN_NAME_LEN - 1 bytes are cut.
 */
TVN_PROBES_API int tvn_probes__flow_new(struct tvn_probes *p, const char *name,
					struct tvn_probes_flow **out);
/* Adds a component (TORVYN_ROLE_*); returns its index, from 0. */
TVN_PROBES_API int tvn_probes_flow__component(struct tvn_probes_flow *f, const char *name,
					      uint32_t role);
/*
 * Adds a bounded stream from component from to component to; returns its
 * index. Backpressure starts when a push leaves it full and ends when a pop
 * leaves it half empty. policy: TORVYN_POLICY_*.
 */
TVN_PROBES_API int tvn_probes_flow__stream(struct tvn_probes_flow *f, const char *name,
					   uint32_t from, uint32_t to, uint32_t capacity,
					   uint32_t policy);
/*
 * Registration is over: the flow is Instantiated. max_in_flight: how many
 * elements the host may have in flight at once (tvn_probes_flow__elem_begin
 * beyond it allocates); 0 for a host that keeps span slots of its own.
 */
TVN_PROBES_API int tvn_probes_flow__ready(struct tvn_probes_flow *f, uint32_t max_in_flight);
/* The flow is Running: flow__start fires. */
TVN_PROBES_API void tvn_probes_flow__start(struct tvn_probes_flow *f);
/* The flow ended in state (TORVYN_FLOW_COMPLETED, _CANCELLED, _FAILED): flow__end fires. */
TVN_PROBES_API void tvn_probes_flow__end(struct tvn_probes_flow *f, uint32_t state);

TVN_PROBES_API int tvn_probes_flow__idx(const struct tvn_probes_flow *f);
/* The blocks, for a host that counts in them directly (each written by one thread). */
TVN_PROBES_API struct torvyn_flow_block *tvn_probes_flow__block(struct tvn_probes_flow *f);
TVN_PROBES_API struct torvyn_component_block *
tvn_probes_flow__component_block(struct tvn_probes_flow *f, int comp);
TVN_PROBES_API struct torvyn_stream_block *tvn_probes_flow__stream_block(struct tvn_probes_flow *f,
									 int stream);

/* ------------------------------------------------------------ elements and steps */

/*
 * A new element enters the flow (at its source): a sequence number, a trace
 * context (from traceparent, tp_len bytes, when not NULL and valid; else a
 * new one), the head-sampling decision, and a slot for its span records.
 * NULL with errno ENOMEM.
 */
TVN_PROBES_API struct tvn_probes_elem *
tvn_probes_flow__elem_begin(struct tvn_probes_flow *f, const char *traceparent, size_t tp_len);
/*
 * The element's path ends at component comp (a sink took it, a filter
 * dropped it, an error ended it): counted in the component's
 * elements_ended, its end-to-end latency recorded, its trace promoted if
 * sampled, failed or slow. The element is gone after this call.
 */
TVN_PROBES_API void tvn_probes_flow__elem_end(struct tvn_probes_flow *f, int comp,
					      struct tvn_probes_elem *e, uint32_t status,
					      uint32_t error_kind);
TVN_PROBES_API uint64_t tvn_probes_elem__seq(const struct tvn_probes_elem *e);
/* Its traceparent for the next hop, with a NUL: returns 55. */
TVN_PROBES_API int tvn_probes_elem__traceparent(const struct tvn_probes_elem *e, char out[56]);

/*
 * An invocation of component comp on element e (NULL for a source step
 * that produced nothing): step_begin returns the token step_end takes.
 */
TVN_PROBES_API uint64_t tvn_probes_flow__step_begin(struct tvn_probes_flow *f, int comp,
						    struct tvn_probes_elem *e);
/*
 * Counts the invocation (invocations, errors by kind, bytes), times it
 * (production level), records its span. status: TORVYN_STATUS_*;
 * error_kind: TORVYN_ERR_* when status is an error. The diagnostic record
 * of the step (component__invoke) fires once the element moved on: at its
 * push, at its elem_end, or at the component's next step_begin.
 */
TVN_PROBES_API void tvn_probes_flow__step_end(struct tvn_probes_flow *f, int comp,
					      struct tvn_probes_elem *e, uint64_t token,
					      uint32_t status, uint32_t error_kind,
					      uint64_t bytes_in, uint64_t bytes_out);
/* Component comp copied bytes of e's payload (reason: TORVYN_COPY_*). */
TVN_PROBES_API void tvn_probes_flow__copy(struct tvn_probes_flow *f, int comp,
					  struct tvn_probes_elem *e, uint32_t reason,
					  uint64_t bytes);
/* e was queued on stream; depth: the stream's length after the push. */
TVN_PROBES_API void tvn_probes_flow__push(struct tvn_probes_flow *f, int stream,
					  struct tvn_probes_elem *e, uint32_t depth);
/*
 * e was taken from stream by its consumer, which now owns its buffer (a
 * transfer); depth: the length after the pop.
 */
TVN_PROBES_API void tvn_probes_flow__pop(struct tvn_probes_flow *f, int stream,
					 struct tvn_probes_elem *e, uint32_t depth);
/* e was dropped from stream by its policy (drop-oldest, drop-newest, error). */
TVN_PROBES_API void tvn_probes_flow__dropped(struct tvn_probes_flow *f, int stream);

/* ------------------------------------------------------------ pools */

enum tvn_probes_pool_event {
	TVN_POOL_ALLOC,	    /* a buffer served from the tier */
	TVN_POOL_RETURN,    /* a buffer given back to the tier */
	TVN_POOL_FALLBACK,  /* the tier was empty: the system allocator served it */
	TVN_POOL_EXHAUSTED, /* the tier's last free buffer was taken */
};

/* A tier's shape (TORVYN_TIER_*): buffer size and buffer count. */
TVN_PROBES_API int tvn_probes__pool_tier(struct tvn_probes *p, uint32_t tier, uint64_t buffer_size,
					 uint64_t capacity);
/* A pool event of tier for a buffer of size bytes; counted and probed. */
TVN_PROBES_API void tvn_probes__pool_event(struct tvn_probes *p, enum tvn_probes_pool_event ev,
					   uint32_t tier, uint64_t size);

/* ------------------------------------------------------------ trace context */

#define TVN_TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

struct tvn_trace_ctx {
	uint8_t trace_id[16];
	uint64_t span_id;	 /* our current span */
	uint64_t parent_span_id; /* the remote parent (from traceparent), 0 if none */
	uint8_t flags;		 /* TORVYN_TRACE_FLAG_* */
};

/*
 * A W3C traceparent header value, strictly (trace-context level 1); fills
 * trace_id, parent_span_id and flags, span_id 0. 0 or -EINVAL.
 */
TVN_PROBES_API int tvn_traceparent__parse(const char *s, size_t len, struct tvn_trace_ctx *out);
/* "00-<trace_id>-<span_id>-<flags>" and a NUL; returns 55. */
TVN_PROBES_API int tvn_traceparent__format(const uint8_t trace_id[16], uint64_t span_id,
					   uint8_t flags, char out[TVN_TRACEPARENT_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif /* TORVYN_PROBES_LIB_H */
