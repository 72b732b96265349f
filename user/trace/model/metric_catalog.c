// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metric catalogue: every family of docs/metrics.md in one table, in
 * exposition order, with where its samples come from (metric_model.c walks
 * it). A new metric is one line of the table; the few families whose
 * samples are not one value per entity come with their own function.
 */
#include <stdio.h>

#include "metric_model_internal.h"
#include "torvyn_names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(ARRAY_SIZE(torvyn_probe_names) == TVN_P_COUNT, "a probe has no name");
_Static_assert(ARRAY_SIZE(torvyn_promote_names) == 3, "promoted_total[] has 3 reasons");
_Static_assert(TORVYN_FLOW_FAILED == TORVYN_FLOW_STATES - 1, "flow states changed");

/* ------------------------------------------------------------ special families */

static void fn_active_duration(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			       const void *base, const struct tvn_metric_lset *l)
{
	const struct torvyn_flow_block *b = base;
	uint64_t end = b->end_ns ? b->end_ns : w->now_ns;
	struct tvn_metric_value v = {.kind = METRIC_NS};

	v.u = b->start_ns && end > b->start_ns ? end - b->start_ns : 0;
	tvn_metric_walk__emit(w, f, l, &v);
}

/* One sample per state: 1 for the current one. OpenMetrics renders a
 * stateset, whose label is named after the family. */
static void fn_flow_state(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			  const void *base, const struct tvn_metric_lset *l)
{
	const struct torvyn_flow_block *b = base;

	for (uint32_t i = 0; i < TORVYN_FLOW_STATES; i++) {
		struct tvn_metric_lset x = *l;

		tvn_metric_lset__add(&x, "torvyn_flow_state", torvyn_flow_state_names[i], 16);
		tvn_metric_walk__emit_u64(w, f, &x, b->state == i);
	}
}

/* Only reasons that happened: the map has no entry for the others. */
static void fn_diag_copies(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			   const void *base, const struct tvn_metric_lset *unused)
{
	const struct tvn_snapshot *s = base;
	struct tvn_metric_lset l;

	(void)unused;
	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct tvn_count_val *cv = s->flows[fi].comps[ci].diag_copies;

			for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
				if (!cv[r].count)
					continue;
				tvn_metric_lset__flow(&l, s, fi);
				tvn_metric_lset__name(&l, "component_id",
						      tvn_metric_walk__comp_name(s, fi, ci), ci);
				tvn_metric_lset__add(&l, "reason", torvyn_copy_reason_names[r], 32);
				tvn_metric_walk__emit_u64(
				    w, f, &l, tvn_metric_walk__read_u64(&cv[r], f->off));
			}
		}
	}
}

static void fn_diag_transfers(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			      const void *base, const struct tvn_metric_lset *unused)
{
	const struct tvn_snapshot *s = base;
	struct tvn_metric_lset l;

	(void)unused;
	for (int i = 0; i < s->n_transfers; i++) {
		const struct tvn_snap_transfer *t = &s->transfers[w->xfer_order[i]];

		l.n = 0;
		tvn_metric_lset__name(&l, "flow_id", tvn_metric_walk__flow_name(s, t->flow_idx),
				      t->flow_idx);
		tvn_metric_lset__name(&l, "from_component",
				      tvn_metric_walk__comp_name(s, t->flow_idx, t->from_idx),
				      t->from_idx);
		tvn_metric_lset__name(&l, "to_component",
				      tvn_metric_walk__comp_name(s, t->flow_idx, t->to_idx),
				      t->to_idx);
		tvn_metric_walk__emit_u64(w, f, &l, tvn_metric_walk__read_u64(&t->val, f->off));
	}
}

static void fn_info(struct tvn_metric_walk *w, const struct tvn_metric_fam *f, const void *base,
		    const struct tvn_metric_lset *unused)
{
	const struct tvn_snapshot *s = base;
	struct tvn_metric_lset l = {.n = 0};

	(void)unused;
	snprintf(l.num[0], sizeof(l.num[0]), "%d", s->target_pid);
	tvn_metric_lset__add(&l, "pid", l.num[0], sizeof(l.num[0]));
	tvn_metric_lset__add(&l, "exe", s->target_exe, sizeof(s->target_exe));
	tvn_metric_walk__emit_u64(w, f, &l, 1);
}

/* ------------------------------------------------------------ the catalogue */

/* Designated initializers for the table below. */
#define FAM(o, t, u, up, h)                                                                        \
	.pub.otlp = (o), .pub.type = (t), .pub.unit = (u), .pub.upstream = (up), .pub.help = (h)
#define OTLP_HELP(h) .pub.otlp_help = (h)
#define AT(s, type, field, v) .src = (s), .val = (v), .off = offsetof(type, field)
#define FLOW(f) AT(SRC_FLOW, struct torvyn_flow_block, f, V_U64)
#define FLOWv(f, v) AT(SRC_FLOW, struct torvyn_flow_block, f, v)
#define COMP(f) AT(SRC_COMP, struct torvyn_component_block, f, V_U64)
#define COMPv(f, v) AT(SRC_COMP, struct torvyn_component_block, f, v)
#define STREAM(f) AT(SRC_STREAM, struct torvyn_stream_block, f, V_U64)
#define STREAMv(f, v) AT(SRC_STREAM, struct torvyn_stream_block, f, v)
#define TIER(f) AT(SRC_TIER, struct torvyn_pool_tier, f, V_U64)
#define SYS(f) AT(SRC_SYS, struct torvyn_system_block, f, V_U64)
#define SYSv(f, v) AT(SRC_SYS, struct torvyn_system_block, f, v)
#define DCOMP(f) AT(SRC_DCOMP, struct tvn_invoke_val, f, V_U64)
#define DCOMPv(f, v) AT(SRC_DCOMP, struct tvn_invoke_val, f, v)
#define DSTREAM(f) AT(SRC_DSTREAM, struct tvn_queue_val, f, V_U64)
#define DSTREAMv(f, v) AT(SRC_DSTREAM, struct tvn_queue_val, f, v)
#define DPOOL(f) AT(SRC_DPOOL, struct tvn_pool_val, f, V_U64)
#define SELF(f) AT(SRC_SELF, struct tvn_snapshot, f, V_U64)
#define SELFv(f, v) AT(SRC_SELF, struct tvn_snapshot, f, v)
#define OWN(fun, field) AT(SRC_OWN, struct tvn_count_val, field, V_FN), .fn = (fun)
#define ARR(key, tbl) .lkey = (key), .names = (tbl), .n_names = ARRAY_SIZE(tbl)

/*
 * The families of docs/metrics.md in exposition order: OTLP name, type, UCUM
 * unit, upstream Torvyn's name. Each Prometheus name is derived from the
 * first three (tvn_metric_name__prom), as the Collector would translate it.
 */
const struct tvn_metric_fam tvn_metric_fams[] = {
    /* flow */
    {FAM("torvyn.flow.elements", METRIC_COUNTER, "{element}", "flow.elements.total",
	 "Elements that reached the end of the flow (sink, filter drop or error)."),
     FLOW(elements_total)},
    {FAM("torvyn.flow.errors", METRIC_COUNTER, "{element}", "flow.elements.errors",
	 "Elements on which a component returned an error."),
     FLOW(elements_errors)},
    {FAM("torvyn.flow.latency", METRIC_HISTOGRAM, "s", "flow.latency",
	 "End-to-end latency of the elements of the flow."),
     FLOWv(latency, V_HIST)},
    {FAM("torvyn.flow.copies", METRIC_COUNTER, "{copy}", "flow.copies.total",
	 "Buffer copies in the flow, by reason."),
     FLOWv(copies_total, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn.flow.copied", METRIC_COUNTER, "By", "flow.copies.bytes",
	 "Bytes copied in the flow, by reason."),
     FLOWv(copies_bytes, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn.flow.transfers", METRIC_COUNTER, "{transfer}", NULL,
	 "Buffer ownership transfers between the components of the flow."),
     FLOW(transfers_total)},
    {FAM("torvyn.flow.transferred", METRIC_COUNTER, "By", NULL,
	 "Bytes of the buffers whose ownership moved between components of the flow."),
     FLOW(transfers_bytes)},
    {FAM("torvyn.flow.active_duration", METRIC_GAUGE, "s", "flow.active_duration",
	 "Time the flow has been running, or ran until it ended."),
     FLOWv(start_ns, V_FN), .fn = fn_active_duration},
    {FAM("torvyn.flow.state", METRIC_STATESET, "", "flow.state",
	 "Lifecycle state of the flow: 1 for the current state, 0 for the others."),
     FLOWv(state, V_FN), .fn = fn_flow_state},
    {FAM("torvyn.flow.traces.promoted", METRIC_COUNTER, "{trace}", NULL,
	 "Element traces exported, by reason: head-sampled, error or tail latency."),
     FLOWv(promoted_total, V_ARR), ARR("reason", torvyn_promote_names)},
    /* component */
    {FAM("torvyn.component.invocations", METRIC_COUNTER, "{invocation}", "component.invocations",
	 "Invocations of the component."),
     COMP(invocations)},
    {FAM("torvyn.component.errors", METRIC_COUNTER, "{invocation}", "component.errors",
	 "Invocations of the component that returned an error."),
     COMP(errors)},
    {FAM("torvyn.component.processing_time", METRIC_HISTOGRAM, "s", "component.processing_time",
	 "Time per invocation of the component."),
     COMPv(processing_time, V_HIST)},
    {FAM("torvyn.component.fuel_consumed", METRIC_COUNTER, "{fuel}", "component.fuel_consumed",
	 "WebAssembly fuel consumed by the component; only where the host reports some."),
     COMP(fuel_consumed), .if_set = true},
    {FAM("torvyn.component.memory_current", METRIC_GAUGE, "By", "component.memory_current",
	 "Bytes of payload the component holds now."),
     COMP(memory_current), .if_set = true},
    {FAM("torvyn.component.input", METRIC_COUNTER, "By", NULL,
	 "Payload bytes passed into the component."),
     COMP(bytes_in)},
    {FAM("torvyn.component.output", METRIC_COUNTER, "By", NULL,
	 "Payload bytes produced by the component."),
     COMP(bytes_out)},
    {FAM("torvyn.component.wakeups", METRIC_COUNTER, "{wakeup}", NULL,
	 "Times the thread of the component woke from a wait."),
     COMP(wakeups)},
    {FAM("torvyn.component.idle_time", METRIC_COUNTER, "s", NULL,
	 "Time the component spent waiting for input or output."),
     COMPv(idle_ns, V_NS)},
    /* stream */
    {FAM("torvyn.stream.elements.transferred", METRIC_COUNTER, "{element}",
	 "stream.elements.transferred", "Elements passed through the stream."),
     STREAM(elements_transferred)},
    {FAM("torvyn.stream.elements.dropped", METRIC_COUNTER, "{element}", NULL,
	 "Elements dropped by the overflow policy of the stream."),
     STREAM(elements_dropped)},
    {FAM("torvyn.stream.backpressure.events", METRIC_COUNTER, "{event}",
	 "stream.backpressure.events", "Times backpressure activated on the stream."),
     STREAM(backpressure_events)},
    {FAM("torvyn.stream.backpressure.duration", METRIC_COUNTER, "s",
	 "stream.backpressure.duration_ns", "Time the stream spent in backpressure."),
     STREAMv(backpressure_duration_ns, V_NS)},
    {FAM("torvyn.stream.queue.current_depth", METRIC_GAUGE, "{element}",
	 "stream.queue.current_depth", "Elements in the queue of the stream now."),
     STREAM(current_depth)},
    {FAM("torvyn.stream.queue.peak_depth", METRIC_GAUGE, "{element}", "stream.queue.peak_depth",
	 "Highest depth the queue of the stream reached."),
     STREAM(peak_depth)},
    {FAM("torvyn.stream.queue.capacity", METRIC_GAUGE, "{element}", NULL,
	 "Capacity of the queue of the stream."),
     STREAMv(capacity, V_U32)},
    {FAM("torvyn.stream.queue.wait_time", METRIC_HISTOGRAM, "s", "stream.queue.wait_time",
	 "Time elements waited in the queue of the stream, timed at diagnostic level."),
     STREAMv(wait_time, V_HIST)},
    /* pool */
    {FAM("torvyn.pool.capacity", METRIC_GAUGE, "{buffer}", "pool.capacity",
	 "Buffers in the pool tier."),
     TIER(capacity)},
    {FAM("torvyn.pool.available", METRIC_GAUGE, "{buffer}", "pool.available",
	 "Free buffers in the pool tier now."),
     TIER(available)},
    {FAM("torvyn.pool.allocated", METRIC_COUNTER, "{buffer}", "pool.allocated",
	 "Buffers served from the pool tier."),
     TIER(allocated)},
    {FAM("torvyn.pool.returned", METRIC_COUNTER, "{buffer}", "pool.returned",
	 "Buffers returned to the pool tier."),
     TIER(returned)},
    {FAM("torvyn.pool.fallbacks", METRIC_COUNTER, "{buffer}", "pool.fallback_count",
	 "Buffers served by the system allocator because the pool tier was empty."),
     TIER(fallback_count)},
    {FAM("torvyn.pool.exhaustions", METRIC_COUNTER, "{event}", "pool.exhaustion_events",
	 "Times the pool tier became empty."),
     TIER(exhaustion_events)},
    {FAM("torvyn.pool.buffer.size", METRIC_GAUGE, "By", NULL,
	 "Size of each buffer of the pool tier."),
     TIER(buffer_size)},
    /* system */
    {FAM("torvyn.host.flows.active", METRIC_GAUGE, "{flow}", "system.flows.active",
	 "Flows running now."),
     SYS(flows_active)},
    {FAM("torvyn.host.components.active", METRIC_GAUGE, "{component}", "system.components.active",
	 "Component instances running now."),
     SYS(components_active)},
    {FAM("torvyn.host.memory.mapped", METRIC_GAUGE, "By", "system.memory.total",
	 "Bytes of pool memory mapped."),
     SYS(memory_total)},
    {FAM("torvyn.host.scheduler.wakeups", METRIC_COUNTER, "{wakeup}", "system.scheduler.wakeups",
	 "Wakeups of the threads of the host."),
     SYS(scheduler_wakeups)},
    {FAM("torvyn.host.scheduler.idle_time", METRIC_COUNTER, "s", "system.scheduler.idle_ns",
	 "Time the threads of the host spent idle."),
     SYSv(scheduler_idle_ns, V_NS)},
    {FAM("torvyn.host.spans.dropped", METRIC_COUNTER, "{span}", "system.spans_dropped",
	 "Spans of exported traces the host dropped: their span-ring slot was full."),
     SYS(spans_dropped)},
    /* diagnostic level, from the BPF maps */
    {FAM("torvyn.diagnostic.invocations", METRIC_COUNTER, "{invocation}", NULL,
	 "Component invocations seen by the diagnostic probes."),
     DCOMP(invocations)},
    {FAM("torvyn.diagnostic.invocation.errors", METRIC_COUNTER, "{invocation}", NULL,
	 "Component invocations that ended in an error, seen by the diagnostic probes."),
     DCOMP(errors)},
    {FAM("torvyn.diagnostic.processing_time", METRIC_HISTOGRAM, "s", NULL,
	 "Time per component invocation, seen by the diagnostic probes."),
     DCOMPv(time, V_HIST)},
    {FAM("torvyn.diagnostic.copies", METRIC_COUNTER, "{copy}", NULL,
	 "Buffer copies per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, count)},
    {FAM("torvyn.diagnostic.copied", METRIC_COUNTER, "By", NULL,
	 "Bytes copied per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, bytes)},
    {FAM("torvyn.diagnostic.transfers", METRIC_COUNTER, "{transfer}", NULL,
	 "Buffer ownership transfers per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, count)},
    {FAM("torvyn.diagnostic.transferred", METRIC_COUNTER, "By", NULL,
	 "Bytes transferred per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, bytes)},
    {FAM("torvyn.diagnostic.queue.enqueues", METRIC_COUNTER, "{element}", NULL,
	 "Elements enqueued on the stream, seen by the diagnostic probes."),
     DSTREAM(enqueues)},
    {FAM("torvyn.diagnostic.queue.dequeues", METRIC_COUNTER, "{element}", NULL,
	 "Elements dequeued from the stream, seen by the diagnostic probes."),
     DSTREAM(dequeues)},
    {FAM("torvyn.diagnostic.queue.depth", METRIC_GAUGE, "{element}", NULL,
	 "Depth of the queue of the stream after its latest event."),
     DSTREAM(depth)},
    {FAM("torvyn.diagnostic.queue.peak_depth", METRIC_GAUGE, "{element}", NULL,
	 "Highest depth of the queue of the stream, seen by the diagnostic probes."),
     DSTREAM(peak_depth)},
    {FAM("torvyn.diagnostic.queue.wait_time", METRIC_HISTOGRAM, "s", NULL,
	 "Time elements waited in the queue, seen by the diagnostic probes."),
     DSTREAMv(wait, V_HIST)},
    {FAM("torvyn.diagnostic.backpressure.events", METRIC_COUNTER, "{event}", NULL,
	 "Times backpressure activated on the stream, seen by the diagnostic probes."),
     DSTREAM(bp_events)},
    {FAM("torvyn.diagnostic.backpressure.duration", METRIC_HISTOGRAM, "s", NULL,
	 "Length of the backpressure episodes of the stream."),
     DSTREAMv(bp_duration, V_HIST)},
    {FAM("torvyn.diagnostic.pool.allocations", METRIC_COUNTER, "{buffer}", NULL,
	 "Buffers served from the pool tier, seen by the diagnostic probes."),
     DPOOL(allocs)},
    {FAM("torvyn.diagnostic.pool.returns", METRIC_COUNTER, "{buffer}", NULL,
	 "Buffers returned to the pool tier, seen by the diagnostic probes."),
     DPOOL(returns)},
    {FAM("torvyn.diagnostic.pool.fallbacks", METRIC_COUNTER, "{buffer}", NULL,
	 "Allocations served by the system allocator, seen by the diagnostic probes."),
     DPOOL(fallbacks)},
    {FAM("torvyn.diagnostic.pool.exhaustions", METRIC_COUNTER, "{event}", NULL,
	 "Times the pool tier became empty, seen by the diagnostic probes."),
     DPOOL(exhaustions)},
    /* the tracer itself */
    {FAM("torvyn.trace.level", METRIC_GAUGE, "", NULL,
	 "Probe level attached now: 0 off, 1 production, 2 diagnostic."),
     SELFv(level, V_INT)},
    {FAM("torvyn.trace.target.up", METRIC_GAUGE, "", NULL,
	 "1 while the traced process lives, else 0."),
     SELFv(target_up, V_INT)},
    {FAM("torvyn.trace.probes.attached", METRIC_GAUGE, "{probe}", NULL,
	 "Probe sites attached now."),
     SELFv(probes_attached, V_INT)},
    {FAM("torvyn.trace.events.lost", METRIC_COUNTER, "{record}", NULL,
	 "Ring-buffer records lost because the buffer was full."),
     SELF(events_lost)},
    {FAM("torvyn.trace.probe.hits", METRIC_COUNTER, "{run}", NULL, "BPF program runs per probe."),
     SELFv(probe_hits, V_ARR), ARR("probe", torvyn_probe_names)},
    {FAM("torvyn.trace.map.update.failures", METRIC_COUNTER, "{update}", NULL,
	 "Diagnostic aggregation map updates that failed."),
     SELF(map_full)},
    {FAM("torvyn.trace.user.read.failures", METRIC_COUNTER, "{read}", NULL,
	 "Reads of the memory of the traced process that failed."),
     SELF(read_fail)},
    {FAM("torvyn.trace.blocks.received", METRIC_COUNTER, "{block}", NULL,
	 "Metric blocks received from the host."),
     SELF(blocks_received)},
    {FAM("torvyn.trace.malformed.blocks", METRIC_COUNTER, "{record}", NULL,
	 "Records from the host dropped as malformed, by reason (the tracer logs the first of "
	 "each with its cause and fix)."),
     SELFv(bad_by_reason, V_ARR), ARR("reason", tvn_bad_reason_names),
     OTLP_HELP("Records from the host dropped as malformed, by reason.")},
    {FAM("torvyn.trace.traces.received", METRIC_COUNTER, "{trace}", NULL,
	 "Promoted element traces received from the host."),
     SELF(traces_received)},
    {FAM("torvyn.trace.traces.filtered", METRIC_COUNTER, "{trace}", NULL,
	 "Promoted traces the tracer's own sampling (--sample-rate, --latency-threshold) dropped."),
     SELF(traces_filtered), OTLP_HELP("Promoted traces the tracer's own sampling dropped.")},
    {FAM("torvyn.trace.spans.dropped", METRIC_COUNTER, "{span}", NULL,
	 "Spans the OTLP exporter dropped: queue full (oldest batch first) or retries exhausted."),
     SELF(otlp.spans_dropped),
     OTLP_HELP("Spans the OTLP exporter dropped: queue full or retries exhausted.")},
    {FAM("torvyn.trace.spans.exported", METRIC_COUNTER, "{span}", NULL,
	 "Spans every OTLP destination accepted."),
     SELF(otlp.spans_exported)},
    {FAM("torvyn.trace.spans.rejected", METRIC_COUNTER, "{span}", NULL,
	 "Spans an OTLP receiver rejected in a partial success."),
     SELF(otlp.spans_rejected)},
    {FAM("torvyn.trace.otlp.retries", METRIC_COUNTER, "{request}", NULL,
	 "OTLP requests retried (429, 502, 503, 504, UNAVAILABLE, RESOURCE_EXHAUSTED, no "
	 "connection)."),
     SELF(otlp.retries), OTLP_HELP("OTLP requests retried.")},
    {FAM("torvyn.trace.otlp.failures", METRIC_COUNTER, "{request}", NULL,
	 "OTLP requests given up: a non-retryable answer or retries exhausted."),
     SELF(otlp.failures)},
    {FAM("torvyn.trace.otlp.partial_successes", METRIC_COUNTER, "{response}", NULL,
	 "OTLP responses that reported a partial success."),
     SELF(otlp.partial_successes)},
    {FAM("torvyn.trace.otlp.metric_requests", METRIC_COUNTER, "{request}", NULL,
	 "OTLP metric requests sent."),
     SELF(otlp.metric_requests)},
    {FAM("torvyn.trace.level_switches", METRIC_COUNTER, "{switch}", NULL,
	 "Changes of the attached probe level."),
     SELF(level_switches)},
    {FAM("torvyn.trace.scrapes", METRIC_COUNTER, "{snapshot}", NULL,
	 "Snapshots taken: /metrics renders (one serves every scrape of the next 100 ms), "
	 "textfiles, OTLP pushes."),
     SELF(scrapes)},
    {FAM("torvyn.trace.textfile.write.failures", METRIC_COUNTER, "{write}", NULL,
	 "Textfile writes that failed (the tracer's log says why)."),
     SELF(textfile_failures)},
    {FAM("torvyn.trace.start_time", METRIC_GAUGE, "s", NULL,
	 "Start time of the tracer session in seconds since the Unix epoch."),
     SELFv(start_time, V_DBL)},
    {FAM("torvyn.trace.info", METRIC_INFO, "", NULL, "The traced process."), .src = SRC_OWN,
     .val = V_FN, .fn = fn_info, OTLP_HELP("The traced process: always 1.")},
};

const size_t tvn_metric_n_fams = ARRAY_SIZE(tvn_metric_fams);
