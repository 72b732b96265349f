// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store.h"

_Static_assert(sizeof(struct torvyn_component_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_flow_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_stream_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_pool_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_system_block) <= TVN_RB_MAX_BLOCK, "block fits a record");

struct tvn_store {
	pthread_mutex_t lock; /* everything below */
	struct tvn_snap_flow *flows[TORVYN_MAX_FLOWS];
	int n_flows;
	bool have_pool, have_sys;
	struct torvyn_pool_block pool;
	struct torvyn_system_block sys;
	uint64_t blocks_received, bad_records;
};

/* The size of each kind of block: anything else is another ABI. */
static const size_t block_size[] = {
    [TORVYN_BLOCK_FLOW] = sizeof(struct torvyn_flow_block),
    [TORVYN_BLOCK_COMPONENT] = sizeof(struct torvyn_component_block),
    [TORVYN_BLOCK_STREAM] = sizeof(struct torvyn_stream_block),
    [TORVYN_BLOCK_POOL] = sizeof(struct torvyn_pool_block),
    [TORVYN_BLOCK_SYSTEM] = sizeof(struct torvyn_system_block),
};

struct tvn_store *tvn_store__new(void)
{
	struct tvn_store *st = calloc(1, sizeof(*st));

	if (st)
		pthread_mutex_init(&st->lock, NULL);
	return st;
}

void tvn_store__free(struct tvn_store *st)
{
	if (!st)
		return;
	for (int i = 0; i < TORVYN_MAX_FLOWS; i++)
		free(st->flows[i]);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static struct tvn_snap_flow *flow_slot(struct tvn_store *st, uint32_t idx)
{
	if (idx >= TORVYN_MAX_FLOWS)
		return NULL;
	if (!st->flows[idx]) {
		st->flows[idx] = calloc(1, sizeof(struct tvn_snap_flow));
		if (!st->flows[idx])
			return NULL;
	}
	if ((int)idx >= st->n_flows)
		st->n_flows = idx + 1;
	return st->flows[idx];
}

static int put_locked(struct tvn_store *st, const struct tvn_rb_block *r)
{
	const struct torvyn_block_hdr *hdr = (const void *)r->data;
	size_t n = sizeof(block_size) / sizeof(block_size[0]);
	size_t want = r->kind < n ? block_size[r->kind] : 0;
	struct tvn_snap_flow *f;

	if (!want || r->size != want || hdr->size != want || hdr->kind != r->kind) {
		st->bad_records++;
		return -EPROTO;
	}
	st->blocks_received++;
	if (r->kind == TORVYN_BLOCK_POOL) {
		memcpy(&st->pool, r->data, want);
		st->have_pool = true;
		return 0;
	}
	if (r->kind == TORVYN_BLOCK_SYSTEM) {
		memcpy(&st->sys, r->data, want);
		st->have_sys = true;
		return 0;
	}
	f = flow_slot(st, hdr->flow_idx);
	if (!f)
		return hdr->flow_idx < TORVYN_MAX_FLOWS ? -ENOMEM : -EPROTO;
	if (r->kind == TORVYN_BLOCK_FLOW) {
		memcpy(&f->blk, r->data, want);
		f->present = true;
	} else if (r->kind == TORVYN_BLOCK_COMPONENT && hdr->idx < TORVYN_MAX_COMPONENTS) {
		memcpy(&f->comps[hdr->idx].blk, r->data, want);
		f->comps[hdr->idx].present = true;
	} else if (r->kind == TORVYN_BLOCK_STREAM && hdr->idx < TORVYN_MAX_STREAMS) {
		memcpy(&f->streams[hdr->idx].blk, r->data, want);
		f->streams[hdr->idx].present = true;
	}
	return 0;
}

int tvn_store__put(struct tvn_store *st, const struct tvn_rb_block *r)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = put_locked(st, r);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void tvn_store__name(struct tvn_store *st, uint32_t flow_idx, int kind, int idx, char *buf,
		     size_t len)
{
	const struct tvn_snap_flow *f;
	const char *name;

	pthread_mutex_lock(&st->lock);
	f = flow_idx < TORVYN_MAX_FLOWS ? st->flows[flow_idx] : NULL;
	if (idx < 0)
		name = tvn_names__flow(f);
	else if (kind == TORVYN_BLOCK_COMPONENT)
		name = tvn_names__component(f, idx);
	else
		name = tvn_names__stream(f, idx);
	tvn_names__format(name, idx < 0 ? flow_idx : (uint64_t)idx, buf, len);
	pthread_mutex_unlock(&st->lock);
}

bool tvn_store__flow_named(struct tvn_store *st, uint32_t flow_idx)
{
	bool named;

	pthread_mutex_lock(&st->lock);
	named = flow_idx < TORVYN_MAX_FLOWS && st->flows[flow_idx] && st->flows[flow_idx]->present;
	pthread_mutex_unlock(&st->lock);
	return named;
}

int tvn_store__copy(struct tvn_store *st, struct tvn_snapshot *snap)
{
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	snap->blocks_received = st->blocks_received;
	snap->bad_records = st->bad_records;
	snap->have_pool = st->have_pool;
	snap->have_sys = st->have_sys;
	snap->pool = st->pool;
	snap->sys = st->sys;
	if (st->n_flows) {
		snap->flows = calloc(st->n_flows, sizeof(*snap->flows));
		if (!snap->flows) {
			rc = -ENOMEM;
			goto out;
		}
		snap->n_flows = st->n_flows;
		for (int i = 0; i < st->n_flows; i++) {
			if (st->flows[i])
				snap->flows[i] = *st->flows[i];
		}
	}
out:
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void tvn_store__each_stream(struct tvn_store *st, void (*fn)(void *ctx, uint32_t f, uint32_t k),
			    void *ctx)
{
	pthread_mutex_lock(&st->lock);
	for (int f = 0; f < st->n_flows; f++) {
		for (int k = 0; st->flows[f] && k < TORVYN_MAX_STREAMS; k++) {
			if (st->flows[f]->streams[k].present)
				fn(ctx, (uint32_t)f, (uint32_t)k);
		}
	}
	pthread_mutex_unlock(&st->lock);
}
