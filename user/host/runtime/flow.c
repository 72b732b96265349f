/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Setting the host's flows up and tearing them down: components, streams,
 * element structs with their span-ring slots, and the metric block of each
 * (include/torvyn_abi.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "components.h"
#include "runtime_internal.h"
#include "torvyn_probes.h"

/* A zeroed metric block of size bytes with its header written, or NULL. */
static void *block_new(uint32_t kind, uint32_t size, int flow_idx, int idx, const char *flow_name,
		       const char *name)
{
	struct torvyn_block_hdr *h;
	void *p = NULL;

	/* blocks get their own cache lines: each is written by one thread */
	if (posix_memalign(&p, 64, size))
		return NULL;
	memset(p, 0, size);
	h = p; /* every block starts with its header */
	h->kind = kind;
	h->size = size;
	h->flow_idx = flow_idx;
	h->idx = idx;
	snprintf(h->flow_name, sizeof(h->flow_name), "%s", flow_name);
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

/* ------------------------------------------------------------ setup */

static int comps_init(struct tvn_flow *f)
{
	const struct tvn_flow_cfg *cfg = f->cfg;

	for (int i = 0; i < cfg->n_comps; i++) {
		struct tvn_comp *c = &f->comps[i];

		c->flow = f;
		c->idx = i;
		c->cfg = &cfg->comps[i];
		c->pool = &f->host->pool;
		c->blk = block_new(TORVYN_BLOCK_COMPONENT, sizeof(*c->blk), f->idx, i, cfg->id,
				   c->cfg->id);
		if (!c->blk)
			return -ENOMEM;
		c->blk->role = c->cfg->role;
		if (c->cfg->kind == TVN_KIND_FILE_SINK)
			f->needs_ctx = 1;
		if (f->host->opts.gap_log) {
			c->gaps = calloc(TVN_MAX_GAPS, sizeof(*c->gaps));
			if (!c->gaps)
				return -ENOMEM;
		}
	}
	return 0;
}

static int streams_init(struct tvn_flow *f)
{
	const struct tvn_flow_cfg *cfg = f->cfg;

	for (int i = 0; i < cfg->n_streams; i++) {
		struct tvn_stream *s = &f->streams[i];
		struct tvn_comp *from = &f->comps[cfg->streams[i].from];

		s->flow = f;
		s->idx = i;
		s->cfg = cfg->streams[i];
		s->ring = calloc(s->cfg.capacity, sizeof(*s->ring));
		s->blk =
		    block_new(TORVYN_BLOCK_STREAM, sizeof(*s->blk), f->idx, i, cfg->id, s->cfg.id);
		if (!s->ring || !s->blk)
			return -ENOMEM;
		s->low_mark = (uint32_t)(s->cfg.low_watermark * s->cfg.capacity);
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->not_empty, NULL);
		pthread_cond_init(&s->not_full, NULL);
		s->blk->from_idx = s->cfg.from;
		s->blk->to_idx = s->cfg.to;
		s->blk->capacity = s->cfg.capacity;
		s->blk->policy = s->cfg.policy;
		f->comps[s->cfg.to].in = s;
		from->out[from->n_out++] = s;
	}
	return 0;
}

/* Every element in flight has its own element struct, and each struct its own slot. */
static int elems_init(struct tvn_flow *f)
{
	uint32_t window = (uint32_t)f->n_comps + 2;
	int rc;

	for (int i = 0; i < f->n_streams; i++)
		window += f->streams[i].cfg.capacity;
	rc = tvn_span_ring__init(&f->ring, window);
	if (rc)
		return rc;
	f->n_elem = window;
	f->elem_mem = calloc(window, sizeof(*f->elem_mem));
	if (!f->elem_mem)
		return -ENOMEM;
	pthread_spin_init(&f->elem_lock, PTHREAD_PROCESS_PRIVATE);
	for (uint32_t i = 0; i < window; i++) {
		f->elem_mem[i].slot = tvn_span_ring__slot(&f->ring, i);
		f->elem_mem[i].next = f->elem_free;
		f->elem_free = &f->elem_mem[i];
	}
	return 0;
}

static int flow_init(struct tvn_host *h, struct tvn_flow *f, int idx,
		     const struct tvn_flow_cfg *cfg, char *err, size_t errlen)
{
	int rc;

	f->host = h;
	f->idx = idx;
	f->cfg = cfg;
	f->n_comps = cfg->n_comps;
	/* ids must differ across flows, runs and hosts */
	if (getrandom(&f->id_key, sizeof(f->id_key), 0) != sizeof(f->id_key))
		f->id_key = tvn_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)f;
	f->n_streams = cfg->n_streams;
	f->blk = block_new(TORVYN_BLOCK_FLOW, sizeof(*f->blk), idx, 0, cfg->id, cfg->id);
	if (!f->blk)
		return -ENOMEM;
	f->blk->n_components = cfg->n_comps;
	f->blk->state = TORVYN_FLOW_VALIDATED;
	rc = comps_init(f);
	if (!rc)
		rc = streams_init(f);
	if (!rc)
		rc = elems_init(f);
	for (int i = 0; !rc && i < cfg->n_comps; i++)
		rc = tvn_comp__open(&f->comps[i], err, errlen);
	if (!rc)
		f->blk->state = TORVYN_FLOW_INSTANTIATED;
	return rc;
}

int tvn_host__init(struct tvn_host *h, struct tvn_pipeline_cfg *cfg,
		   const struct tvn_host_opts *opts, char *err, size_t errlen)
{
	int rc;

	memset(h, 0, sizeof(*h));
	h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->stop_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the stop eventfd: %s", strerror(-rc));
		return rc;
	}
	h->opts = *opts;
	h->cfg = cfg;
	h->sample_threshold = tvn_sample_threshold(opts->sample_rate);
	rc = tvn_pool__init(&h->pool);
	if (rc) {
		snprintf(err, errlen, "cannot allocate the buffer pool: %s", strerror(-rc));
		return rc;
	}
	h->sys = block_new(TORVYN_BLOCK_SYSTEM, sizeof(*h->sys), 0, 0, "", "system");
	h->pool_blk = block_new(TORVYN_BLOCK_POOL, sizeof(*h->pool_blk), 0, 0, "", "pool");
	h->flows = calloc(cfg->n_flows, sizeof(*h->flows));
	if (!h->sys || !h->pool_blk || !h->flows) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->sys->abi_version = TORVYN_PROBE_ABI_VERSION;
	h->sys->n_flows = cfg->n_flows;
	h->n_flows = cfg->n_flows;
	for (int i = 0; i < cfg->n_flows; i++) {
		rc = flow_init(h, &h->flows[i], i, &cfg->flows[i], err, errlen);
		if (rc) {
			if (!err[0])
				snprintf(err, errlen, "flow %s: %s", cfg->flows[i].id,
					 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ teardown */

static void stream_fini(struct tvn_stream *s)
{
	/* elements still queued (an interrupted run) give their buffers back */
	for (uint32_t k = 0; s->ring && k < s->len; k++)
		tvn_pool__return(s->ring[(s->head + k) % s->cfg.capacity]->buf);
	free(s->ring);
	free(s->blk);
	if (s->flow) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->not_empty);
		pthread_cond_destroy(&s->not_full);
	}
}

/* Frees what flow_init made, as far as it got. */
static void flow_fini(struct tvn_flow *f)
{
	for (int j = 0; j < f->n_comps; j++) {
		tvn_comp__close(&f->comps[j]);
		free(f->comps[j].blk);
		free(f->comps[j].gaps);
	}
	for (int j = 0; j < f->n_streams; j++)
		stream_fini(&f->streams[j]);
	tvn_span_ring__fini(&f->ring);
	free(f->elem_mem);
	free(f->blk);
}

void tvn_host__fini(struct tvn_host *h)
{
	for (int i = 0; h->flows && i < h->n_flows; i++)
		flow_fini(&h->flows[i]);
	free(h->flows);
	free(h->sys);
	free(h->pool_blk);
	h->flows = NULL;
	if (h->stop_fd >= 0)
		close(h->stop_fd);
	h->stop_fd = -1;
	tvn_pool__fini(&h->pool);
}
