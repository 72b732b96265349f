/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host's view of the probe contract (usdt/torvyn.d). Built normally, each
 * TORVYN_<PROBE>_ENABLED() reads the probe's kernel-managed semaphore and
 * TORVYN_<PROBE>(...) is a sys/sdt.h probe site. Built with
 * TORVYN_NO_PROBES (the baseline for overhead measurements), both vanish.
 */
#ifndef TORVYN_PROBES_H
#define TORVYN_PROBES_H

#ifndef TORVYN_NO_PROBES
#include "torvyn_probes_gen.h"
#else
/* probe sites sit under `if (TORVYN_X_ENABLED())`, so these calls are dead code */
static inline void tvn__noprobe(int unused, ...)
{
	(void)unused;
}
#define TVN__NOPROBE(...) tvn__noprobe(0, ##__VA_ARGS__)
#define TORVYN_ABI_VERSION_ENABLED() 0
#define TORVYN_ABI_VERSION(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_GATE_PRODUCTION_ENABLED() 0
#define TORVYN_GATE_PRODUCTION(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_GATE_DIAGNOSTIC_ENABLED() 0
#define TORVYN_GATE_DIAGNOSTIC(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_FLOW_START_ENABLED() 0
#define TORVYN_FLOW_START(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_FLOW_END_ENABLED() 0
#define TORVYN_FLOW_END(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_COMPONENT_INVOKE_ENABLED() 0
#define TORVYN_COMPONENT_INVOKE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_BUFFER_COPY_ENABLED() 0
#define TORVYN_BUFFER_COPY(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_BUFFER_TRANSFER_ENABLED() 0
#define TORVYN_BUFFER_TRANSFER(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_BACKPRESSURE_ACTIVATE_ENABLED() 0
#define TORVYN_BACKPRESSURE_ACTIVATE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED() 0
#define TORVYN_BACKPRESSURE_DEACTIVATE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_QUEUE_ENQUEUE_ENABLED() 0
#define TORVYN_QUEUE_ENQUEUE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_QUEUE_DEQUEUE_ENABLED() 0
#define TORVYN_QUEUE_DEQUEUE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_POOL_ALLOC_ENABLED() 0
#define TORVYN_POOL_ALLOC(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_POOL_RETURN_ENABLED() 0
#define TORVYN_POOL_RETURN(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_POOL_FALLBACK_ENABLED() 0
#define TORVYN_POOL_FALLBACK(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_POOL_EXHAUSTED_ENABLED() 0
#define TORVYN_POOL_EXHAUSTED(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_METRICS_FLUSH_ENABLED() 0
#define TORVYN_METRICS_FLUSH(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_TRACE_PROMOTE_ENABLED() 0
#define TORVYN_TRACE_PROMOTE(...) TVN__NOPROBE(__VA_ARGS__)
#define TORVYN_ELEMENT_DONE_ENABLED() 0
#define TORVYN_ELEMENT_DONE(...) TVN__NOPROBE(__VA_ARGS__)
#endif

/* Nonzero when any torvyn probe at all is attached (any semaphore raised). */
static inline int torvyn_probes__any(void)
{
	return TORVYN_ABI_VERSION_ENABLED() || TORVYN_GATE_PRODUCTION_ENABLED() ||
	       TORVYN_GATE_DIAGNOSTIC_ENABLED() || TORVYN_FLOW_START_ENABLED() ||
	       TORVYN_FLOW_END_ENABLED() || TORVYN_COMPONENT_INVOKE_ENABLED() ||
	       TORVYN_BUFFER_COPY_ENABLED() || TORVYN_BUFFER_TRANSFER_ENABLED() ||
	       TORVYN_BACKPRESSURE_ACTIVATE_ENABLED() || TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED() ||
	       TORVYN_QUEUE_ENQUEUE_ENABLED() || TORVYN_QUEUE_DEQUEUE_ENABLED() ||
	       TORVYN_POOL_ALLOC_ENABLED() || TORVYN_POOL_RETURN_ENABLED() ||
	       TORVYN_POOL_FALLBACK_ENABLED() || TORVYN_POOL_EXHAUSTED_ENABLED() ||
	       TORVYN_METRICS_FLUSH_ENABLED() || TORVYN_TRACE_PROMOTE_ENABLED() ||
	       TORVYN_ELEMENT_DONE_ENABLED();
}

/*
 * Nonzero when a probe that fires from a component step is attached: the
 * per-event probes of the diagnostic level, or any of them on its own
 * (bpftrace, perf).
 */
static inline int torvyn_probes__step_events(void)
{
	return TORVYN_COMPONENT_INVOKE_ENABLED() || TORVYN_BUFFER_COPY_ENABLED() ||
	       TORVYN_BUFFER_TRANSFER_ENABLED() || TORVYN_BACKPRESSURE_ACTIVATE_ENABLED() ||
	       TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED() || TORVYN_QUEUE_ENQUEUE_ENABLED() ||
	       TORVYN_QUEUE_DEQUEUE_ENABLED() || TORVYN_ELEMENT_DONE_ENABLED();
}

/* The level the host runs at, read from the gate semaphores. */
static inline int torvyn_probes__level(void)
{
	if (TORVYN_GATE_DIAGNOSTIC_ENABLED())
		return 2;
	return TORVYN_GATE_PRODUCTION_ENABLED() ? 1 : 0;
}

#endif /* TORVYN_PROBES_H */
