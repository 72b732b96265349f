/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Setting the host's flows up and tearing them down: components, streams,
 * element structs with their span-ring slots. Each flow, component and
 * stream is registered with libtorvyn-probes, which owns its metric block
 * (include/torvyn_abi.h); the hot path counts in the block directly.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "components.h"
#include "runtime_internal.h"
#include "torvyn_probes.h"

/* ------------------------------------------------------------ setup */

static int comps_init(struct tvn_flow *f)
{
	const struct tvn_flow_cfg *cfg = f->cfg;
	int rc;

	for (int i = 0; i < cfg->n_comps; i++) {
		struct tvn_comp *c = &f->comps[i];

		c->flow = f;
		c->idx = i;
		c->cfg = &cfg->comps[i];
		c->pool = &f->host->pool;
		rc = tvn_probes_flow__component(f->pf, c->cfg->id, c->cfg->role);
		if (rc < 0)
			return rc;
		c->blk = tvn_probes_flow__component_block(f->pf, i);
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
	int rc;

	for (int i = 0; i < cfg->n_streams; i++) {
		struct tvn_stream *s = &f->streams[i];
		struct tvn_comp *from = &f->comps[cfg->streams[i].from];

		s->flow = f;
		s->idx = i;
		s->cfg = cfg->streams[i];
		s->ring = calloc(s->cfg.capacity, sizeof(*s->ring));
		if (!s->ring)
			return -ENOMEM;
		rc = tvn_probes_flow__stream(f->pf, s->cfg.id, s->cfg.from, s->cfg.to,
					     s->cfg.capacity, s->cfg.policy);
		if (rc < 0)
			return rc;
		s->blk = tvn_probes_flow__stream_block(f->pf, i);
		s->low_mark = (uint32_t)(s->cfg.low_watermark * s->cfg.capacity);
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->not_empty, NULL);
		pthread_cond_init(&s->not_full, NULL);
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
	rc = tvn_probes__flow_new(h->probes, cfg->id, &f->pf);
	if (rc)
		return rc;
	f->blk = tvn_probes_flow__block(f->pf); /* Validated */
	rc = comps_init(f);
	if (!rc)
		rc = streams_init(f);
	if (!rc)
		rc = elems_init(f);
	for (int i = 0; !rc && i < cfg->n_comps; i++)
		rc = tvn_comp__open(&f->comps[i], err, errlen);
	if (!rc) /* the host keeps its elements' span slots itself */
		rc = tvn_probes_flow__ready(f->pf, 0);
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
	rc =
	    tvn_probes__open(&(struct tvn_probes_opts){.flush_interval_ms = opts->flush_interval_ms,
						       .before_flush = tvn_host__before_flush,
						       .on_tick = tvn_host__tick,
						       .arg = h},
			     &h->probes);
	if (rc) {
		snprintf(err, errlen, "cannot open libtorvyn-probes: %s", strerror(-rc));
		return rc;
	}
	h->sys = tvn_probes__system_block(h->probes);
	h->pool_blk = tvn_probes__pool_block(h->probes);
	h->flows = calloc(cfg->n_flows, sizeof(*h->flows));
	if (!h->flows) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
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
	free(s->ring); /* its block is the library's */
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
		free(f->comps[j].gaps);
	}
	for (int j = 0; j < f->n_streams; j++)
		stream_fini(&f->streams[j]);
	tvn_span_ring__fini(&f->ring);
	free(f->elem_mem);
}

void tvn_host__fini(struct tvn_host *h)
{
	for (int i = 0; h->flows && i < h->n_flows; i++)
		flow_fini(&h->flows[i]);
	free(h->flows);
	h->flows = NULL;
	/* every block goes with the library; its flows have ended (run.c) */
	tvn_probes__close(h->probes);
	h->probes = NULL;
	h->sys = NULL;
	h->pool_blk = NULL;
	if (h->stop_fd >= 0)
		close(h->stop_fd);
	h->stop_fd = -1;
	tvn_pool__fini(&h->pool);
}
