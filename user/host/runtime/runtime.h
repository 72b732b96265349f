/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* torvyn-host's runtime: flows of components joined by streams, their elements. */
#ifndef TORVYN_RUNTIME_H
#define TORVYN_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "io.h"
#include "pipeline.h"
#include "pool.h"
#include "torvyn_component.h"
#include "torvyn_rt.h"

/* ------------------------------------------------------------ probe state */

/*
 * The hot path tests one word per element and component, not one semaphore
 * per probe site: the telemetry thread folds every probe semaphore into
 * tvn_probes_hot (and the gates into tvn_level) every few milliseconds, and
 * each component thread runs the copy of its step the word names. OFF: the
 * code of the probes-compiled-out build. LEVEL: production with no per-step
 * probe attached (the production tracer's own set): the level's accounting,
 * not one probe test. EVENTS: any other combination; each probe site tests
 * its own semaphore.
 */
enum { TVN_HOT_OFF, TVN_HOT_LEVEL, TVN_HOT_EVENTS };

#ifdef TORVYN_NO_PROBES
#define tvn_hot() TVN_HOT_OFF
#else
extern int tvn_probes_hot;
#define tvn_hot() __builtin_expect(__atomic_load_n(&tvn_probes_hot, __ATOMIC_RELAXED), 0)
#endif
extern int tvn_level;

/* ------------------------------------------------------------ elements */

struct tvn_flow;

#define TVN_CTX_DERIVED 2 /* has_ctx: a generated context, ids still to derive */

struct tvn_elem {
	uint64_t seq;
	struct tvn_buf *buf;
	uint32_t len;
	uint16_t holder;   /* component that holds it now */
	uint8_t traced;	   /* span records are being kept (production level and up) */
	uint8_t has_ctx;   /* tctx is valid; TVN_CTX_DERIVED: ids to derive (tvn_elem__fill_ctx) */
	uint32_t nrec;	   /* span records written to slot */
	uint32_t ndropped; /* span records the full slot could not take */
	/* times in clock ticks (tvn_ticks), as are its span records' until promoted */
	uint64_t t_start;  /* source invocation start, when traced */
	uint64_t t_enq;	   /* last enqueue, when traced */
	uint64_t t_last;   /* end of its last invocation, when traced: reused, not re-read */
	struct tvn_trace_ctx tctx;
	/* kept when the struct is reused (elem_put): */
	struct tvn_span_slot *slot; /* this struct's own, for good */
	struct tvn_elem *next;
};

/* ------------------------------------------------------------ streams */

struct tvn_stream {
	struct tvn_flow *flow;
	int idx;
	struct tvn_stream_cfg cfg;
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	struct tvn_elem **ring;
	uint32_t head, len; /* under lock */
	uint32_t low_mark;  /* deactivate backpressure at len <= low_mark */
	bool closed;	    /* the producer is done */
	bool bp_active;
	uint64_t bp_start_ns;
	int waiting_consumer, waiting_producer;
	struct torvyn_stream_block *blk;
	struct tvn_hist_ticks wait_ticks; /* blk->wait_time's sum, by the consumer */
};

/* ------------------------------------------------------------ components */

struct tvn_comp {
	struct tvn_flow *flow;
	int idx;
	const struct tvn_comp_cfg *cfg;
	pthread_t thread;
	struct tvn_stream *in;
	struct tvn_stream *out[TORVYN_MAX_STREAMS];
	int n_out;
	uint32_t rr;	    /* router: next output */
	struct tvn_rng rng; /* payloads: deterministic from the pipeline's seed */
	/* built-in state: the file of a lines source or a file sink */
	int fd;
	bool own_fd;	/* opened here, closed here (not stdin or stdout) */
	bool may_block; /* a write can wait for a reader (tvn_io__may_block) */
	struct tvn_lines lines;
	/* I/O errors, written by the component's thread, read once it has ended */
	bool broken;	    /* it cannot go on: its flow fails, whatever the policy */
	uint64_t io_errors; /* reads and writes that failed, lines too long */
	char io_msg[384];   /* the first of them, in words */
	uint8_t *scratch;
	uint32_t scratch_cap;
	/* plugin */
	void *dl;
	const struct torvyn_component *plugin;
	void *plugin_state;
	struct torvyn_component_block *blk;
	/*
	 * Production: the end of the last invocation in ticks, the start of the
	 * next one unless the thread waited in between (0: read the clock).
	 */
	uint64_t t_mark;
	struct tvn_hist_ticks proc_ticks, e2e_ticks; /* blk's histograms' sums */
	/* the record of the current step, for component__invoke (hot path only) */
	struct torvyn_invoke_rec rec;
	struct tvn_elem *rec_elem; /* the element the record is about, NULL when none */
	bool rec_on;		   /* component__invoke or the batch takes it: keep the record */
	bool rec_batch;		   /* the record goes to the batch when the step ends */
	/*
	 * Level 2: this thread's step records for component__batch (step_batch.h).
	 * batch_state says who may touch the batch (TVN_BATCH_*): the thread
	 * itself, or, while the thread waits, the telemetry thread serving a
	 * flush request. batch_done: the last request served.
	 */
	struct tvn_batch *batch;
	int batch_state;	/* atomic */
	uint32_t batch_done;	/* atomic */
	uint64_t batch_records; /* records handed to an attached component__batch */
	/* --gap-log: pauses of this component's loop */
	struct tvn_gap *gaps;
	uint32_t n_gaps;
	uint64_t iter_t0, iter_idle0, max_gap_ns;
	struct tvn_pool *pool; /* the host's: where payloads come from */
};

/* A component thread's batch of step records (component__batch). */
struct tvn_batch {
	uint32_t n;
	struct torvyn_invoke_rec rec[TORVYN_BATCH_RECS];
};

/* Who holds a batch: nobody (no batch), its thread, nobody (the thread waits), telemetry. */
enum { TVN_BATCH_NONE, TVN_BATCH_OWN, TVN_BATCH_PARK, TVN_BATCH_TAKEN };

/* ------------------------------------------------------------ flows */

struct tvn_host;

struct tvn_flow {
	struct tvn_host *host;
	int idx;
	const struct tvn_flow_cfg *cfg;
	struct tvn_comp comps[TORVYN_MAX_COMPONENTS];
	struct tvn_stream streams[TORVYN_MAX_STREAMS];
	int n_comps, n_streams;
	uint64_t next_seq; /* atomic: several sources share it */
	uint64_t id_key;   /* generated trace and root span ids: from this and seq */
	volatile int failed;
	int needs_ctx;	     /* a file sink writes traceparent: every element gets a context */
	int sources_running; /* atomic */
	/* element structs: a free list under elem_lock */
	pthread_spinlock_t elem_lock;
	struct tvn_elem *elem_free;
	struct tvn_elem *elem_mem;
	uint32_t n_elem;
	struct tvn_span_ring ring;
	struct tvn_probes_flow *pf; /* the library's flow: its blocks and probes */
	struct torvyn_flow_block *blk;
};

/*
 * A context the host generated has ids that are a function of the flow's key
 * and the element's seq (three draws of a generator seeded with the key), so
 * the 99 % of elements whose trace is never read never compute them. Writes
 * them into e->tctx; call before reading its trace id or span id.
 */
static inline void tvn_elem__fill_ctx(const struct tvn_flow *f, struct tvn_elem *e)
{
	if (e->has_ctx != TVN_CTX_DERIVED)
		return;
	tvn_ids__trace(f->id_key, e->seq, e->tctx.trace_id);
	e->tctx.span_id = tvn_ids__span(f->id_key, e->seq);
	e->has_ctx = 1;
}

struct tvn_host_opts {
	uint64_t elements; /* per source, 0 = unbounded */
	double duration_s; /* 0 = unbounded */
	bool wait_attach;
	const char *summary_path;
	double sample_rate;	       /* head sampling at production level */
	uint64_t latency_threshold_ns; /* tail promotion, strictly greater */
	uint32_t flush_interval_ms;
	const char *gap_log;	   /* record pauses of the component loops here */
	uint64_t gap_threshold_ns; /* pauses longer than this are recorded */
	const char *progress_log;  /* a line per telemetry tick: time, elements, level */
	uint32_t ab_period_ms;	   /* alternate the hot path: level as attached, then Level 0 */
	int force_level; /* >= 0: do that level's in-process work with no tracer (benchmarks) */
};

/* A pause: one step of a component loop kept it busy gap_ns, ending at end_ns. */
struct tvn_gap {
	uint64_t end_ns;
	uint64_t gap_ns;
};

#define TVN_MAX_GAPS 4096

struct tvn_host {
	struct tvn_host_opts opts;
	struct tvn_pipeline_cfg *cfg;
	struct tvn_flow *flows;
	int n_flows;
	volatile int stop;	  /* sources stop producing */
	volatile int interrupted; /* stopped by a signal: flows end Cancelled */
	int running;		  /* atomic: component threads still running */
	volatile int done;	  /* every flow finished */
	int stop_fd; /* an eventfd, readable once stop is set: blocked I/O gives up (io.h) */
	uint64_t sample_threshold;
	uint64_t latency_ticks; /* opts.latency_threshold_ns in clock ticks */
	uint64_t run_start_ns, run_end_ns;
	struct tvn_probes *probes; /* libtorvyn-probes: blocks, flush, gates and level */
	struct torvyn_system_block *sys;
	struct torvyn_pool_block *pool_blk;
	/* loop gaps: the longest time between two consecutive element completions */
	uint64_t max_gap_ns;
	FILE *progress; /* --progress-log, written by the telemetry thread */
	/* step-record batches, written by the telemetry thread (batch.c) */
	int batch_on;	      /* atomic: component threads append their step records */
	uint32_t batch_gen;   /* atomic: flush requests so far; each thread serves the latest */
	bool batch_draining;  /* gate__drain was up at the last tick */
	struct tvn_pool pool; /* every buffer of every flow */
};

int tvn_host__init(struct tvn_host *host, struct tvn_pipeline_cfg *cfg,
		   const struct tvn_host_opts *opts, char *err, size_t errlen);
int tvn_host__run(struct tvn_host *host);
/*
 * Stops the sources and wakes every component waiting on a file; interrupted
 * (a signal): flows end Cancelled and no fault delay is waited out.
 * Async-signal-safe.
 */
void tvn_host__stop(struct tvn_host *host, bool interrupted);
void tvn_host__fini(struct tvn_host *host);
/* flush.c: the library's before_flush: the pool's block and the memory it maps. */
void tvn_host__before_flush(struct tvn_probes *p, void *host);
/* flush.c: the library's on_tick (the telemetry thread's poll): the batches' part. */
void tvn_host__tick(struct tvn_probes *p, bool due, void *host);
/* summary.c: --summary, the host's own counts as JSON. */
int tvn_host__write_summary(struct tvn_host *host, const char *path);
/* --gap-log: every recorded pause, one JSON object a line. */
int tvn_host__write_gaps(struct tvn_host *host, const char *path);

#endif /* TORVYN_RUNTIME_H */
