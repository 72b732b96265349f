/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of libtorvyn-probes share: the objects behind the opaque
 * handles of include/torvyn/probes.h. probes.c holds the library, its flows,
 * gates, flush and pools; probes_elem.c the elements, steps and streams.
 */
#ifndef TORVYN_PROBES_INTERNAL_H
#define TORVYN_PROBES_INTERNAL_H

#include <pthread.h>

#include "torvyn_rt.h"

/*
 * The semaphores (dtrace -G) are the library's own: hidden, so that in the
 * shared object every probe site reads its semaphore directly, and a host
 * cannot interpose one of its own.
 */
#pragma GCC visibility push(hidden)
#include "torvyn_probes.h"
#pragma GCC visibility pop

struct tvn_probes_elem {
	struct tvn_probes_flow *flow;
	uint64_t seq;
	uint64_t len;	  /* payload bytes, from the last step's bytes_out */
	uint64_t t_start; /* its first step's start, when traced */
	uint64_t t_enq;	  /* its last push, when traced */
	uint64_t t_last;  /* the end of its last step, when traced */
	uint32_t nrec, ndropped;
	uint16_t holder; /* the component that holds it */
	uint8_t traced;	 /* span records are kept (production level and up) */
	struct tvn_trace_ctx tctx;
	struct tvn_span_slot *slot; /* its own */
	struct tvn_probes_elem *next;
	bool heap; /* beyond max_in_flight: freed at its end */
};

struct tvn_probes_comp {
	struct torvyn_component_block *blk;
	struct torvyn_invoke_rec rec;	  /* the step's record (component__invoke) */
	struct tvn_probes_elem *rec_elem; /* the element it is about */
	bool rec_pending;		  /* ended, not fired yet */
};

struct tvn_probes_stream {
	struct torvyn_stream_block *blk;
	uint32_t low_mark;
	bool bp_active;
	uint64_t bp_start_ns;
};

struct tvn_probes_flow {
	struct tvn_probes *p;
	int idx;
	bool ended;
	struct torvyn_flow_block *blk;
	struct tvn_probes_comp comps[TORVYN_MAX_COMPONENTS];
	struct tvn_probes_stream streams[TORVYN_MAX_STREAMS];
	int n_comps, n_streams;
	uint64_t id_key;
	uint64_t next_seq; /* atomic */
	struct tvn_span_ring ring;
	struct tvn_probes_elem *elem_mem, *elem_free;
	pthread_spinlock_t elem_lock;
	/*
	 * tvn_probes_comp__fire, set by the first step: a host that never calls
	 * the step API (torvyn-host) links none of probes_elem.c's probe sites
	 */
	void (*fire)(struct tvn_probes_comp *c);
};

struct tvn_probes {
	struct tvn_probes_opts opts;
	uint64_t sample_threshold;
	pthread_mutex_t lock; /* flows, polling, flushing */
	struct tvn_probes_flow *flows[TORVYN_MAX_FLOWS];
	int n_flows;
	struct torvyn_system_block *sys;
	struct torvyn_pool_block *pool;
	int last_level;
	uint64_t next_flush_ns;
	pthread_t thread;
	bool thread_on;
	int stop; /* atomic: the thread ends */
};

/* probes.c: a zeroed metric block with its header written, or NULL. */
void *tvn_probes__block_new(uint32_t kind, uint32_t size, int flow_idx, int idx,
			    const char *flow_name, const char *name);
/* probes_elem.c: fires a component's pending record (the flow is over); f->fire. */
void tvn_probes_comp__fire(struct tvn_probes_comp *c);

#endif /* TORVYN_PROBES_INTERNAL_H */
