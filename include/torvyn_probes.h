/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host's view of the probe contract (usdt/torvyn.d). Built normally, each
 * TORVYN_<PROBE>_ENABLED() reads the probe's kernel-managed semaphore and
 * TORVYN_<PROBE>(...) is a sys/sdt.h probe site. Built with
 * TORVYN_NO_PROBES (the baseline for overhead measurements), both vanish.
 */
#ifndef TORVYN_PROBES_H
#define TORVYN_PROBES_H

#include "torvyn_probe_list.h"

#ifndef TORVYN_NO_PROBES
#include "torvyn_probes_gen.h"
#else
/* probe sites sit under `if (TORVYN_X_ENABLED())`, so these calls are dead code */
static inline void tvn__noprobe(int unused, ...)
{
	(void)unused;
}
#define TVN__NOPROBE(...) tvn__noprobe(0, ##__VA_ARGS__)
#include "torvyn_probes_off.h" /* generated from usdt/torvyn.d */
#endif

/* Nonzero when any torvyn probe at all is attached (any semaphore raised). */
static inline int torvyn_probes__any(void)
{
#define TVN__ANY(id, name, nargs, family) TORVYN_##id##_ENABLED() ||
	return TORVYN_PROBE_LIST(TVN__ANY) 0;
#undef TVN__ANY
}

/*
 * Nonzero when a probe that fires from a component step is attached: the
 * per-event probes of the diagnostic level, or any of them on its own
 * (bpftrace, perf).
 */
static inline int torvyn_probes__step_events(void)
{
	return TORVYN_COMPONENT_INVOKE_ENABLED() || TORVYN_COMPONENT_BATCH_ENABLED() ||
	       TORVYN_BUFFER_COPY_ENABLED() || TORVYN_BUFFER_TRANSFER_ENABLED() ||
	       TORVYN_BACKPRESSURE_ACTIVATE_ENABLED() || TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED() ||
	       TORVYN_QUEUE_ENQUEUE_ENABLED() || TORVYN_QUEUE_DEQUEUE_ENABLED() ||
	       TORVYN_ELEMENT_DONE_ENABLED();
}

/* The level the host runs at, read from the gate semaphores. */
static inline int torvyn_probes__level(void)
{
	if (TORVYN_GATE_DIAGNOSTIC_ENABLED())
		return 2;
	return TORVYN_GATE_PRODUCTION_ENABLED() ? 1 : 0;
}

#endif /* TORVYN_PROBES_H */
