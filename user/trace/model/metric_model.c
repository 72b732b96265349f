// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metric catalogue and its walk over a snapshot.
 *
 * One table lists every family in exposition order with where its samples
 * come from: each entity that has data (a present flow, a component with
 * diagnostic aggregates, ...) gives one label set and a base pointer that the
 * family's offset applies to. A few families walk the snapshot themselves.
 * Nothing is allocated per sample: labels and values live on the stack for
 * the visitor's call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_model.h"
#include "snapshot.h"
#include "torvyn_names.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(ARRAY_SIZE(torvyn_probe_names) == TVN_P_COUNT, "a probe has no name");
_Static_assert(ARRAY_SIZE(torvyn_promote_names) == 3, "promoted_total[] has 3 reasons");
_Static_assert(TORVYN_FLOW_FAILED == TORVYN_FLOW_STATES - 1, "flow states changed");

enum src {
	SRC_FLOW,    /* present flows: struct torvyn_flow_block */
	SRC_COMP,    /* present components: struct torvyn_component_block */
	SRC_STREAM,  /* present streams: struct torvyn_stream_block */
	SRC_TIER,    /* pool torvyn_tier_names if have_pool: struct torvyn_pool_tier */
	SRC_SYS,     /* if have_sys: struct torvyn_system_block */
	SRC_DCOMP,   /* components with has_diag: struct tvn_invoke_val */
	SRC_DSTREAM, /* streams with has_diag: struct tvn_queue_val */
	SRC_DPOOL,   /* torvyn_tier_names if has_diag_pool: struct tvn_pool_val */
	SRC_SELF,    /* always: struct snapshot */
	SRC_OWN,     /* the family's fn walks the snapshot itself */
};

enum val {
	V_U64,	/* __u64 at off */
	V_U32,	/* __u32 at off */
	V_INT,	/* int at off */
	V_DBL,	/* double at off */
	V_NS,	/* __u64 nanoseconds at off */
	V_HIST, /* struct torvyn_hist_lat at off */
	V_ARR,	/* __u64[n_names] at off, one sample per name, label lkey */
	V_FN,	/* fn gives the entity's samples */
};

/* An entity's labels; values that are indices are formatted into num. */
struct lset {
	struct metric_label l[METRIC_MAX_LABELS];
	int n;
	char num[METRIC_MAX_LABELS][24];
};

struct walk;
struct fam;
typedef void (*fam_fn)(struct walk *w, const struct fam *f, const void *base, const struct lset *l);

struct fam {
	struct metric_family pub;
	enum src src;
	enum val val;
	size_t off;
	fam_fn fn;
	const char *lkey; /* V_ARR */
	const char *const *names;
	size_t n_names;
};

struct walk {
	const struct snapshot *s; /* sanitized: counts match the arrays */
	uint64_t now_ns;
	const uint32_t *xfer_order; /* transfers sorted by flow, from, to */
	const struct metric_visitor *v;
	void *ctx;
	bool begun; /* begin was called for the current family */
	int err;
};

/* ------------------------------------------------------------ samples */

static void emit(struct walk *w, const struct fam *f, const struct lset *l,
		 const struct metric_value *v)
{
	if (w->err)
		return;
	if (!w->begun) {
		w->begun = true;
		if (w->v->begin)
			w->err = w->v->begin(w->ctx, &f->pub);
		if (w->err)
			return;
	}
	w->err = w->v->sample(w->ctx, &f->pub, l->l, l->n, v);
}

static void emit_u64(struct walk *w, const struct fam *f, const struct lset *l, uint64_t x)
{
	struct metric_value v = {.kind = METRIC_U64, .u = x};

	emit(w, f, l, &v);
}

static void ls_add(struct lset *l, const char *key, const char *val, size_t vmax)
{
	if (l->n == METRIC_MAX_LABELS)
		return;
	l->l[l->n++] = (struct metric_label){key, val, vmax};
}

/* A name from a block, or the index when the block is absent or unnamed. */
static void ls_name(struct lset *l, const char *key, const char *name, uint64_t idx)
{
	if (name && name[0]) {
		ls_add(l, key, name, TORVYN_NAME_LEN);
		return;
	}
	if (l->n == METRIC_MAX_LABELS)
		return;
	snprintf(l->num[l->n], sizeof(l->num[0]), "%llu", (unsigned long long)idx);
	ls_add(l, key, l->num[l->n], sizeof(l->num[0]));
}

static uint64_t rd_u64(const void *base, size_t off)
{
	uint64_t x;

	memcpy(&x, (const char *)base + off, sizeof(x));
	return x;
}

static const char *flow_name(const struct snapshot *s, uint64_t fi)
{
	const struct snap_flow *f;

	if (fi >= (uint64_t)s->n_flows)
		return NULL;
	f = &s->flows[fi];
	if (f->present)
		return f->blk.hdr.flow_name;
	/* Diagnostic entries may come without the flow's block: any block of
	 * the flow carries its name. */
	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++)
		if (f->comps[i].present)
			return f->comps[i].blk.hdr.flow_name;
	for (int i = 0; i < TORVYN_MAX_STREAMS; i++)
		if (f->streams[i].present)
			return f->streams[i].blk.hdr.flow_name;
	return NULL;
}

static const char *comp_name(const struct snapshot *s, uint64_t fi, uint64_t ci)
{
	const struct snap_comp *c;

	if (fi >= (uint64_t)s->n_flows || ci >= TORVYN_MAX_COMPONENTS)
		return NULL;
	c = &s->flows[fi].comps[ci];
	return c->present ? c->blk.hdr.name : NULL;
}

static const char *stream_name(const struct snapshot *s, uint64_t fi, uint64_t si)
{
	const struct snap_stream *st = &s->flows[fi].streams[si];

	return st->present ? st->blk.hdr.name : NULL;
}

/*
 * A block read mid-update may have count behind its buckets: count takes the
 * larger and the last bucket the difference, so count is the buckets' sum.
 */
static void hist_norm(const struct torvyn_hist_lat *h, struct metric_hist *out)
{
	uint64_t cum = 0;

	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		out->bucket[i] = h->bucket[i];
		cum += h->bucket[i];
	}
	out->count = h->count > cum ? h->count : cum;
	out->bucket[TORVYN_LAT_BOUNDS] = out->count - cum;
	out->sum_ns = h->sum_ns;
}

static void put_entity(struct walk *w, const struct fam *f, const void *base, const struct lset *l)
{
	const char *p = (const char *)base + f->off;
	struct metric_value v = {.kind = METRIC_U64};
	struct metric_hist h;
	uint32_t u32;
	int i;

	switch (f->val) {
	case V_U64:
		v.u = rd_u64(base, f->off);
		break;
	case V_U32:
		memcpy(&u32, p, sizeof(u32));
		v.u = u32;
		break;
	case V_INT:
		memcpy(&i, p, sizeof(i));
		v.kind = METRIC_I64;
		v.i = i;
		break;
	case V_DBL:
		v.kind = METRIC_DBL;
		memcpy(&v.d, p, sizeof(v.d));
		break;
	case V_NS:
		v.kind = METRIC_NS;
		v.u = rd_u64(base, f->off);
		break;
	case V_HIST:
		hist_norm((const struct torvyn_hist_lat *)p, &h);
		v.kind = METRIC_HIST;
		v.h = &h;
		break;
	case V_ARR:
		for (size_t k = 0; k < f->n_names; k++) {
			struct lset x = *l;

			ls_add(&x, f->lkey, f->names[k], 64);
			emit_u64(w, f, &x, rd_u64(base, f->off + k * sizeof(__u64)));
		}
		return;
	case V_FN:
		f->fn(w, f, base, l);
		return;
	}
	emit(w, f, l, &v);
}

/* ------------------------------------------------------------ entities */

static void ls_flow(struct lset *l, const struct snapshot *s, int fi)
{
	l->n = 0;
	ls_name(l, "flow_id", flow_name(s, (uint64_t)fi), (uint64_t)fi);
}

static void walk_flows(struct walk *w, const struct fam *f)
{
	const struct snapshot *s = w->s;
	struct lset l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		if (!s->flows[fi].present)
			continue;
		ls_flow(&l, s, fi);
		put_entity(w, f, &s->flows[fi].blk, &l);
	}
}

static void walk_comps(struct walk *w, const struct fam *f, bool diag)
{
	const struct snapshot *s = w->s;
	struct lset l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct snap_comp *sc = &s->flows[fi].comps[ci];

			if (!(diag ? sc->has_diag : sc->present))
				continue;
			ls_flow(&l, s, fi);
			ls_name(&l, "component_id", comp_name(s, fi, ci), ci);
			put_entity(w, f, diag ? (const void *)&sc->diag : &sc->blk, &l);
		}
	}
}

static void walk_streams(struct walk *w, const struct fam *f, bool diag)
{
	const struct snapshot *s = w->s;
	struct lset l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int si = 0; si < TORVYN_MAX_STREAMS; si++) {
			const struct snap_stream *st = &s->flows[fi].streams[si];

			if (!(diag ? st->has_diag : st->present))
				continue;
			ls_flow(&l, s, fi);
			ls_name(&l, "stream_id", stream_name(s, fi, si), si);
			put_entity(w, f, diag ? (const void *)&st->diag : &st->blk, &l);
		}
	}
}

static void walk_tiers(struct walk *w, const struct fam *f, bool diag)
{
	const struct snapshot *s = w->s;
	struct lset l;

	if (!(diag ? s->has_diag_pool : s->have_pool))
		return;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		l.n = 0;
		ls_add(&l, "tier", torvyn_tier_names[t], 16);
		put_entity(w, f, diag ? (const void *)&s->diag_pool[t] : &s->pool.tier[t], &l);
	}
}

static void walk_fam(struct walk *w, const struct fam *f)
{
	const struct snapshot *s = w->s;
	struct lset l = {.n = 0};

	switch (f->src) {
	case SRC_FLOW:
		walk_flows(w, f);
		break;
	case SRC_COMP:
	case SRC_DCOMP:
		walk_comps(w, f, f->src == SRC_DCOMP);
		break;
	case SRC_STREAM:
	case SRC_DSTREAM:
		walk_streams(w, f, f->src == SRC_DSTREAM);
		break;
	case SRC_TIER:
	case SRC_DPOOL:
		walk_tiers(w, f, f->src == SRC_DPOOL);
		break;
	case SRC_SYS:
		if (s->have_sys)
			put_entity(w, f, &s->sys, &l);
		break;
	case SRC_SELF:
		put_entity(w, f, s, &l);
		break;
	case SRC_OWN:
		f->fn(w, f, s, &l);
		break;
	}
}

/* ------------------------------------------------------------ special families */

static void fn_active_duration(struct walk *w, const struct fam *f, const void *base,
			       const struct lset *l)
{
	const struct torvyn_flow_block *b = base;
	uint64_t end = b->end_ns ? b->end_ns : w->now_ns;
	struct metric_value v = {.kind = METRIC_NS};

	v.u = b->start_ns && end > b->start_ns ? end - b->start_ns : 0;
	emit(w, f, l, &v);
}

/* One sample per state: 1 for the current one. OpenMetrics renders a
 * stateset, whose label is named after the family. */
static void fn_flow_state(struct walk *w, const struct fam *f, const void *base,
			  const struct lset *l)
{
	const struct torvyn_flow_block *b = base;

	for (uint32_t i = 0; i < TORVYN_FLOW_STATES; i++) {
		struct lset x = *l;

		ls_add(&x, "state", torvyn_flow_state_names[i], 16);
		emit_u64(w, f, &x, b->state == i);
	}
}

/* Only reasons that happened: the map has no entry for the others. */
static void fn_diag_copies(struct walk *w, const struct fam *f, const void *base,
			   const struct lset *unused)
{
	const struct snapshot *s = base;
	struct lset l;

	(void)unused;
	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct tvn_count_val *cv = s->flows[fi].comps[ci].diag_copies;

			for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
				if (!cv[r].count)
					continue;
				ls_flow(&l, s, fi);
				ls_name(&l, "component_id", comp_name(s, fi, ci), ci);
				ls_add(&l, "reason", torvyn_copy_reason_names[r], 32);
				emit_u64(w, f, &l, rd_u64(&cv[r], f->off));
			}
		}
	}
}

static void fn_diag_transfers(struct walk *w, const struct fam *f, const void *base,
			      const struct lset *unused)
{
	const struct snapshot *s = base;
	struct lset l;

	(void)unused;
	for (int i = 0; i < s->n_transfers; i++) {
		const struct snap_transfer *t = &s->transfers[w->xfer_order[i]];

		l.n = 0;
		ls_name(&l, "flow_id", flow_name(s, t->flow_idx), t->flow_idx);
		ls_name(&l, "from_component", comp_name(s, t->flow_idx, t->from_idx), t->from_idx);
		ls_name(&l, "to_component", comp_name(s, t->flow_idx, t->to_idx), t->to_idx);
		emit_u64(w, f, &l, rd_u64(&t->val, f->off));
	}
}

static void fn_info(struct walk *w, const struct fam *f, const void *base,
		    const struct lset *unused)
{
	const struct snapshot *s = base;
	struct lset l = {.n = 0};

	(void)unused;
	snprintf(l.num[0], sizeof(l.num[0]), "%d", s->target_pid);
	ls_add(&l, "pid", l.num[0], sizeof(l.num[0]));
	ls_add(&l, "exe", s->target_exe, sizeof(s->target_exe));
	emit_u64(w, f, &l, 1);
}

/* ------------------------------------------------------------ the catalogue */

/* Designated initializers for the table below. */
#define FAM(p, o, t, u, h)                                                                         \
	.pub.prom = (p), .pub.otlp = (o), .pub.type = (t), .pub.unit = (u), .pub.help = (h)
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
#define SELF(f) AT(SRC_SELF, struct snapshot, f, V_U64)
#define SELFv(f, v) AT(SRC_SELF, struct snapshot, f, v)
#define OWN(fun, field) AT(SRC_OWN, struct tvn_count_val, field, V_FN), .fn = (fun)
#define ARR(key, tbl) .lkey = (key), .names = (tbl), .n_names = ARRAY_SIZE(tbl)

/*
 * The families of docs/metrics.md in exposition order. OTLP units follow
 * from unit (UCUM "s", "By"); the two families whose upstream names end in
 * _ns keep integer nanoseconds in OTLP (otlp_ns).
 */
static const struct fam fams[] = {
    /* flow */
    {FAM("torvyn_flow_elements", "flow.elements.total", METRIC_COUNTER, NULL,
	 "Elements that reached the end of the flow (sink, filter drop or error)."),
     FLOW(elements_total)},
    {FAM("torvyn_flow_elements_errors", "flow.elements.errors", METRIC_COUNTER, NULL,
	 "Elements on which a component returned an error."),
     FLOW(elements_errors)},
    {FAM("torvyn_flow_latency_seconds", "flow.latency", METRIC_HISTOGRAM, "seconds",
	 "End-to-end latency of the elements of the flow."),
     FLOWv(latency, V_HIST)},
    {FAM("torvyn_flow_copies", "flow.copies.total", METRIC_COUNTER, NULL,
	 "Buffer copies in the flow, by reason."),
     FLOWv(copies_total, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_copies_bytes", "flow.copies.bytes", METRIC_COUNTER, "bytes",
	 "Bytes copied in the flow, by reason."),
     FLOWv(copies_bytes, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_transfers", "torvyn.flow.transfers", METRIC_COUNTER, NULL,
	 "Buffer ownership transfers between the components of the flow."),
     FLOW(transfers_total)},
    {FAM("torvyn_flow_transfers_bytes", "torvyn.flow.transfers.bytes", METRIC_COUNTER, "bytes",
	 "Bytes of the buffers whose ownership moved between components of the flow."),
     FLOW(transfers_bytes)},
    {FAM("torvyn_flow_active_duration_seconds", "flow.active_duration", METRIC_GAUGE, "seconds",
	 "Time the flow has been running, or ran until it ended."),
     FLOWv(start_ns, V_FN), .fn = fn_active_duration},
    {FAM("torvyn_flow_state", "flow.state", METRIC_STATESET, NULL,
	 "Lifecycle state of the flow: 1 for the current state, 0 for the others."),
     FLOWv(state, V_FN), .fn = fn_flow_state},
    {FAM("torvyn_flow_traces_promoted", "torvyn.flow.traces.promoted", METRIC_COUNTER, NULL,
	 "Element traces exported, by reason: head-sampled, error or tail latency."),
     FLOWv(promoted_total, V_ARR), ARR("reason", torvyn_promote_names)},
    /* component */
    {FAM("torvyn_component_invocations", "component.invocations", METRIC_COUNTER, NULL,
	 "Invocations of the component."),
     COMP(invocations)},
    {FAM("torvyn_component_errors", "component.errors", METRIC_COUNTER, NULL,
	 "Invocations of the component that returned an error."),
     COMP(errors)},
    {FAM("torvyn_component_processing_time_seconds", "component.processing_time", METRIC_HISTOGRAM,
	 "seconds", "Time per invocation of the component."),
     COMPv(processing_time, V_HIST)},
    {FAM("torvyn_component_fuel_consumed", "component.fuel_consumed", METRIC_COUNTER, NULL,
	 "WebAssembly fuel consumed by the component (always 0 for native components)."),
     COMP(fuel_consumed)},
    {FAM("torvyn_component_memory_current_bytes", "component.memory_current", METRIC_GAUGE, "bytes",
	 "Bytes of payload the component holds now."),
     COMP(memory_current)},
    {FAM("torvyn_component_input_bytes", "torvyn.component.input.bytes", METRIC_COUNTER, "bytes",
	 "Payload bytes passed into the component."),
     COMP(bytes_in)},
    {FAM("torvyn_component_output_bytes", "torvyn.component.output.bytes", METRIC_COUNTER, "bytes",
	 "Payload bytes produced by the component."),
     COMP(bytes_out)},
    {FAM("torvyn_component_wakeups", "torvyn.component.wakeups", METRIC_COUNTER, NULL,
	 "Times the thread of the component woke from a wait."),
     COMP(wakeups)},
    {FAM("torvyn_component_idle_seconds", "torvyn.component.idle.seconds", METRIC_COUNTER,
	 "seconds", "Time the component spent waiting for input or output."),
     COMPv(idle_ns, V_NS)},
    /* stream */
    {FAM("torvyn_stream_elements_transferred", "stream.elements.transferred", METRIC_COUNTER, NULL,
	 "Elements passed through the stream."),
     STREAM(elements_transferred)},
    {FAM("torvyn_stream_elements_dropped", "torvyn.stream.elements.dropped", METRIC_COUNTER, NULL,
	 "Elements dropped by the overflow policy of the stream."),
     STREAM(elements_dropped)},
    {FAM("torvyn_stream_backpressure_events", "stream.backpressure.events", METRIC_COUNTER, NULL,
	 "Times backpressure activated on the stream."),
     STREAM(backpressure_events)},
    {FAM("torvyn_stream_backpressure_duration_seconds", "stream.backpressure.duration_ns",
	 METRIC_COUNTER, "seconds", "Time the stream spent in backpressure."),
     STREAMv(backpressure_duration_ns, V_NS), .pub.otlp_ns = true},
    {FAM("torvyn_stream_queue_current_depth", "stream.queue.current_depth", METRIC_GAUGE, NULL,
	 "Elements in the queue of the stream now."),
     STREAM(current_depth)},
    {FAM("torvyn_stream_queue_peak_depth", "stream.queue.peak_depth", METRIC_GAUGE, NULL,
	 "Highest depth the queue of the stream reached."),
     STREAM(peak_depth)},
    {FAM("torvyn_stream_queue_capacity", "torvyn.stream.queue.capacity", METRIC_GAUGE, NULL,
	 "Capacity of the queue of the stream."),
     STREAMv(capacity, V_U32)},
    {FAM("torvyn_stream_queue_wait_time_seconds", "stream.queue.wait_time", METRIC_HISTOGRAM,
	 "seconds", "Time elements waited in the queue of the stream, timed at diagnostic level."),
     STREAMv(wait_time, V_HIST)},
    /* pool */
    {FAM("torvyn_pool_capacity", "pool.capacity", METRIC_GAUGE, NULL, "Buffers in the pool tier."),
     TIER(capacity)},
    {FAM("torvyn_pool_available", "pool.available", METRIC_GAUGE, NULL,
	 "Free buffers in the pool tier now."),
     TIER(available)},
    {FAM("torvyn_pool_allocated", "pool.allocated", METRIC_COUNTER, NULL,
	 "Buffers served from the pool tier."),
     TIER(allocated)},
    {FAM("torvyn_pool_returned", "pool.returned", METRIC_COUNTER, NULL,
	 "Buffers returned to the pool tier."),
     TIER(returned)},
    {FAM("torvyn_pool_fallback_count", "pool.fallback_count", METRIC_COUNTER, NULL,
	 "Buffers served by the system allocator because the pool tier was empty."),
     TIER(fallback_count)},
    {FAM("torvyn_pool_exhaustion_events", "pool.exhaustion_events", METRIC_COUNTER, NULL,
	 "Times the pool tier became empty."),
     TIER(exhaustion_events)},
    {FAM("torvyn_pool_buffer_size_bytes", "torvyn.pool.buffer.size.bytes", METRIC_GAUGE, "bytes",
	 "Size of each buffer of the pool tier."),
     TIER(buffer_size)},
    /* system */
    {FAM("torvyn_system_flows_active", "system.flows.active", METRIC_GAUGE, NULL,
	 "Flows running now."),
     SYS(flows_active)},
    {FAM("torvyn_system_components_active", "system.components.active", METRIC_GAUGE, NULL,
	 "Component instances running now."),
     SYS(components_active)},
    {FAM("torvyn_system_memory_total_bytes", "system.memory.total", METRIC_GAUGE, "bytes",
	 "Bytes of pool memory mapped."),
     SYS(memory_total)},
    {FAM("torvyn_system_scheduler_wakeups", "system.scheduler.wakeups", METRIC_COUNTER, NULL,
	 "Wakeups of the threads of the host."),
     SYS(scheduler_wakeups)},
    {FAM("torvyn_system_scheduler_idle_seconds", "system.scheduler.idle_ns", METRIC_COUNTER,
	 "seconds", "Time the threads of the host spent idle."),
     SYSv(scheduler_idle_ns, V_NS), .pub.otlp_ns = true},
    {FAM("torvyn_system_spans_dropped", "system.spans_dropped", METRIC_COUNTER, NULL,
	 "Spans of exported traces the host dropped: their span-ring slot was full."),
     SYS(spans_dropped)},
    /* diagnostic level, from the BPF maps */
    {FAM("torvyn_diagnostic_invocations", "torvyn.diagnostic.invocations", METRIC_COUNTER, NULL,
	 "Component invocations seen by the diagnostic probes."),
     DCOMP(invocations)},
    {FAM("torvyn_diagnostic_invocation_errors", "torvyn.diagnostic.invocation.errors",
	 METRIC_COUNTER, NULL,
	 "Component invocations that ended in an error, seen by the diagnostic probes."),
     DCOMP(errors)},
    {FAM("torvyn_diagnostic_processing_time_seconds", "torvyn.diagnostic.processing.time.seconds",
	 METRIC_HISTOGRAM, "seconds",
	 "Time per component invocation, seen by the diagnostic probes."),
     DCOMPv(time, V_HIST)},
    {FAM("torvyn_diagnostic_copies", "torvyn.diagnostic.copies", METRIC_COUNTER, NULL,
	 "Buffer copies per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, count)},
    {FAM("torvyn_diagnostic_copies_bytes", "torvyn.diagnostic.copies.bytes", METRIC_COUNTER,
	 "bytes", "Bytes copied per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, bytes)},
    {FAM("torvyn_diagnostic_transfers", "torvyn.diagnostic.transfers", METRIC_COUNTER, NULL,
	 "Buffer ownership transfers per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, count)},
    {FAM("torvyn_diagnostic_transfers_bytes", "torvyn.diagnostic.transfers.bytes", METRIC_COUNTER,
	 "bytes", "Bytes transferred per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, bytes)},
    {FAM("torvyn_diagnostic_queue_enqueues", "torvyn.diagnostic.queue.enqueues", METRIC_COUNTER,
	 NULL, "Elements enqueued on the stream, seen by the diagnostic probes."),
     DSTREAM(enqueues)},
    {FAM("torvyn_diagnostic_queue_dequeues", "torvyn.diagnostic.queue.dequeues", METRIC_COUNTER,
	 NULL, "Elements dequeued from the stream, seen by the diagnostic probes."),
     DSTREAM(dequeues)},
    {FAM("torvyn_diagnostic_queue_depth", "torvyn.diagnostic.queue.depth", METRIC_GAUGE, NULL,
	 "Depth of the queue of the stream after its latest event."),
     DSTREAM(depth)},
    {FAM("torvyn_diagnostic_queue_peak_depth", "torvyn.diagnostic.queue.peak.depth", METRIC_GAUGE,
	 NULL, "Highest depth of the queue of the stream, seen by the diagnostic probes."),
     DSTREAM(peak_depth)},
    {FAM("torvyn_diagnostic_queue_wait_time_seconds", "torvyn.diagnostic.queue.wait.time.seconds",
	 METRIC_HISTOGRAM, "seconds",
	 "Time elements waited in the queue, seen by the diagnostic probes."),
     DSTREAMv(wait, V_HIST)},
    {FAM("torvyn_diagnostic_backpressure_events", "torvyn.diagnostic.backpressure.events",
	 METRIC_COUNTER, NULL,
	 "Times backpressure activated on the stream, seen by the diagnostic probes."),
     DSTREAM(bp_events)},
    {FAM("torvyn_diagnostic_backpressure_duration_seconds",
	 "torvyn.diagnostic.backpressure.duration.seconds", METRIC_HISTOGRAM, "seconds",
	 "Length of the backpressure episodes of the stream."),
     DSTREAMv(bp_duration, V_HIST)},
    {FAM("torvyn_diagnostic_pool_allocations", "torvyn.diagnostic.pool.allocations", METRIC_COUNTER,
	 NULL, "Buffers served from the pool tier, seen by the diagnostic probes."),
     DPOOL(allocs)},
    {FAM("torvyn_diagnostic_pool_returns", "torvyn.diagnostic.pool.returns", METRIC_COUNTER, NULL,
	 "Buffers returned to the pool tier, seen by the diagnostic probes."),
     DPOOL(returns)},
    {FAM("torvyn_diagnostic_pool_fallbacks", "torvyn.diagnostic.pool.fallbacks", METRIC_COUNTER,
	 NULL, "Allocations served by the system allocator, seen by the diagnostic probes."),
     DPOOL(fallbacks)},
    {FAM("torvyn_diagnostic_pool_exhaustions", "torvyn.diagnostic.pool.exhaustions", METRIC_COUNTER,
	 NULL, "Times the pool tier became empty, seen by the diagnostic probes."),
     DPOOL(exhaustions)},
    /* the tracer itself */
    {FAM("torvyn_trace_level", "torvyn.trace.level", METRIC_GAUGE, NULL,
	 "Probe level attached now: 0 off, 1 production, 2 diagnostic."),
     SELFv(level, V_INT)},
    {FAM("torvyn_trace_target_up", "torvyn.trace.target.up", METRIC_GAUGE, NULL,
	 "1 while the traced process lives, else 0."),
     SELFv(target_up, V_INT)},
    {FAM("torvyn_trace_probes_attached", "torvyn.trace.probes.attached", METRIC_GAUGE, NULL,
	 "Probe sites attached now."),
     SELFv(probes_attached, V_INT)},
    {FAM("torvyn_trace_events_lost", "torvyn.trace.events.lost", METRIC_COUNTER, NULL,
	 "Ring-buffer records lost because the buffer was full."),
     SELF(events_lost)},
    {FAM("torvyn_trace_probe_hits", "torvyn.trace.probe.hits", METRIC_COUNTER, NULL,
	 "BPF program runs per probe."),
     SELFv(probe_hits, V_ARR), ARR("probe", torvyn_probe_names)},
    {FAM("torvyn_trace_map_update_failures", "torvyn.trace.map.update.failures", METRIC_COUNTER,
	 NULL, "Diagnostic aggregation map updates that failed."),
     SELF(map_full)},
    {FAM("torvyn_trace_user_read_failures", "torvyn.trace.user.read.failures", METRIC_COUNTER, NULL,
	 "Reads of the memory of the traced process that failed."),
     SELF(read_fail)},
    {FAM("torvyn_trace_blocks_received", "torvyn.trace.blocks.received", METRIC_COUNTER, NULL,
	 "Metric blocks received from the host."),
     SELF(blocks_received)},
    {FAM("torvyn_trace_traces_received", "torvyn.trace.traces.received", METRIC_COUNTER, NULL,
	 "Promoted element traces received from the host."),
     SELF(traces_received)},
    {FAM("torvyn_trace_traces_filtered", "torvyn.trace.traces.filtered", METRIC_COUNTER, NULL,
	 "Promoted traces the tracer's own sampling (--sample-rate, --latency-threshold) dropped."),
     SELF(traces_filtered), OTLP_HELP("Promoted traces the tracer's own sampling dropped.")},
    {FAM("torvyn_trace_spans_dropped", "torvyn.trace.spans.dropped", METRIC_COUNTER, NULL,
	 "Spans the OTLP exporter dropped: queue full (oldest batch first) or retries exhausted."),
     SELF(spans_dropped),
     OTLP_HELP("Spans the OTLP exporter dropped: queue full or retries exhausted.")},
    {FAM("torvyn_trace_spans_exported", "torvyn.trace.spans.exported", METRIC_COUNTER, NULL,
	 "Spans every OTLP destination accepted."),
     SELF(spans_exported)},
    {FAM("torvyn_trace_spans_rejected", "torvyn.trace.spans.rejected", METRIC_COUNTER, NULL,
	 "Spans an OTLP receiver rejected in a partial success."),
     SELF(spans_rejected)},
    {FAM("torvyn_trace_otlp_retries", "torvyn.trace.otlp.retries", METRIC_COUNTER, NULL,
	 "OTLP requests retried (429, 502, 503, 504, UNAVAILABLE, RESOURCE_EXHAUSTED, no "
	 "connection)."),
     SELF(otlp_retries), OTLP_HELP("OTLP requests retried.")},
    {FAM("torvyn_trace_otlp_failures", "torvyn.trace.otlp.failures", METRIC_COUNTER, NULL,
	 "OTLP requests given up: a non-retryable answer or retries exhausted."),
     SELF(otlp_failures)},
    {FAM("torvyn_trace_otlp_partial_successes", "torvyn.trace.otlp.partial.successes",
	 METRIC_COUNTER, NULL, "OTLP responses that reported a partial success."),
     SELF(otlp_partial_successes)},
    {FAM("torvyn_trace_otlp_metric_requests", "torvyn.trace.otlp.metric.requests", METRIC_COUNTER,
	 NULL, "OTLP metric requests sent."),
     SELF(otlp_metric_requests)},
    {FAM("torvyn_trace_level_switches", "torvyn.trace.level.switches", METRIC_COUNTER, NULL,
	 "Changes of the attached probe level."),
     SELF(level_switches)},
    {FAM("torvyn_trace_scrapes", "torvyn.trace.scrapes", METRIC_COUNTER, NULL,
	 "Metric expositions served."),
     SELF(scrapes)},
    {FAM("torvyn_trace_start_time_seconds", "torvyn.trace.start.time.seconds", METRIC_GAUGE,
	 "seconds", "Start time of the tracer session in seconds since the Unix epoch."),
     SELFv(start_time, V_DBL)},
    {FAM("torvyn_trace", "torvyn.trace.info", METRIC_INFO, NULL, "The traced process."),
     .src = SRC_OWN, .val = V_FN, .fn = fn_info, OTLP_HELP("The traced process: always 1.")},
};

/* ------------------------------------------------------------ UTF-8 */

size_t metric_model__utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* ------------------------------------------------------------ the walk */

struct xfer_key {
	uint32_t flow, from, to, idx;
};

static int xfer_cmp(const void *a, const void *b)
{
	const struct xfer_key *x = a, *y = b;

	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The transfers come in BPF hash order; an exposition must be stable. */
static uint32_t *sort_transfers(const struct snapshot *s)
{
	size_t n = (size_t)s->n_transfers;
	struct xfer_key *k = malloc(sizeof(*k) * n);
	uint32_t *order = malloc(sizeof(*order) * n);

	if (!k || !order) {
		free(k);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (struct xfer_key){s->transfers[i].flow_idx, s->transfers[i].from_idx,
					 s->transfers[i].to_idx, (uint32_t)i};
	qsort(k, n, sizeof(*k), xfer_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].idx;
	free(k);
	return order;
}

int metric_model__walk(const struct snapshot *s, uint64_t now_mono_ns,
		       const struct metric_visitor *v, void *ctx)
{
	struct walk w = {.now_ns = now_mono_ns, .v = v, .ctx = ctx};
	struct snapshot view;
	uint32_t *order = NULL;

	if (!s || !v || !v->sample)
		return -EINVAL;
	/* Negative counts or missing arrays mean "none". */
	view = *s;
	if (view.n_flows < 0 || !view.flows)
		view.n_flows = 0;
	if (view.n_transfers < 0 || !view.transfers)
		view.n_transfers = 0;
	if (view.n_transfers > 0) {
		order = sort_transfers(&view);
		if (!order)
			return -ENOMEM;
	}
	w.s = &view;
	w.xfer_order = order;
	for (size_t i = 0; i < ARRAY_SIZE(fams) && !w.err; i++) {
		w.begun = false;
		walk_fam(&w, &fams[i]);
		if (w.begun && !w.err && v->end)
			w.err = v->end(ctx, &fams[i].pub);
	}
	free(order);
	return w.err;
}
