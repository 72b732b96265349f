// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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
	uint64_t bad[TVN_BAD_REASONS];
	unsigned logged; /* bit per reason: logged once per session */
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

static const char *const kind_name[] = {
    [TORVYN_BLOCK_FLOW] = "flow",     [TORVYN_BLOCK_COMPONENT] = "component",
    [TORVYN_BLOCK_STREAM] = "stream", [TORVYN_BLOCK_POOL] = "pool",
    [TORVYN_BLOCK_SYSTEM] = "system",
};

/* Counts a dropped record; the first of each reason is logged with its cause and fix. */
static int bad_locked(struct tvn_store *st, enum tvn_bad_reason why, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	st->bad[why]++;
	if (why != TVN_BAD_RECORD)
		st->bad_records++;
	if (st->logged & (1u << why))
		return -EPROTO;
	st->logged |= 1u << why;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("%s: dropped, and every such record after it (counted in "
		"torvyn_trace_malformed_blocks{reason=\"%s\"}, logged once)\n",
		msg, tvn_bad_reason_names[why]);
	return -EPROTO;
}

static int check_block(struct tvn_store *st, const struct tvn_rb_block *r)
{
	const struct torvyn_block_hdr *hdr = (const void *)r->data;
	size_t n = sizeof(block_size) / sizeof(block_size[0]);
	size_t want = r->kind < n ? block_size[r->kind] : 0;

	if (!want)
		return bad_locked(st, TVN_BAD_KIND,
				  "metrics__flush: a block of kind %u, which this tracer does not "
				  "know (1 flow, 2 component, 3 stream, 4 pool, 5 system): pass a "
				  "TORVYN_BLOCK_* kind as the third argument",
				  r->kind);
	if (r->size != want)
		return bad_locked(st, TVN_BAD_SIZE,
				  "metrics__flush: a %s block passed with size %u, expected %zu "
				  "(sizeof(struct torvyn_%s_block) in this tracer's "
				  "include/torvyn_abi.h): build the host against the same headers "
				  "and pass sizeof the block as the second argument",
				  kind_name[r->kind], r->size, want, kind_name[r->kind]);
	if (hdr->size != want || hdr->kind != r->kind)
		return bad_locked(st, TVN_BAD_HEADER,
				  "metrics__flush: a %s block whose header says kind %u, size %u: "
				  "set hdr.kind to %u and hdr.size to %zu before flushing",
				  kind_name[r->kind], hdr->kind, hdr->size, r->kind, want);
	if (r->kind != TORVYN_BLOCK_POOL && r->kind != TORVYN_BLOCK_SYSTEM &&
	    (hdr->flow_idx >= TORVYN_MAX_FLOWS ||
	     (r->kind == TORVYN_BLOCK_COMPONENT && hdr->idx >= TORVYN_MAX_COMPONENTS) ||
	     (r->kind == TORVYN_BLOCK_STREAM && hdr->idx >= TORVYN_MAX_STREAMS)))
		return bad_locked(st, TVN_BAD_INDEX,
				  "metrics__flush: a %s block of flow %u, index %u: beyond this "
				  "tracer's limits (%d flows, %d components, %d streams per flow)",
				  kind_name[r->kind], hdr->flow_idx, hdr->idx, TORVYN_MAX_FLOWS,
				  TORVYN_MAX_COMPONENTS, TORVYN_MAX_STREAMS);
	return 0;
}

static int put_locked(struct tvn_store *st, const struct tvn_rb_block *r)
{
	const struct torvyn_block_hdr *hdr = (const void *)r->data;
	struct tvn_snap_flow *f;
	int rc = check_block(st, r);
	size_t want;

	if (rc)
		return rc;
	want = block_size[r->kind]; /* a known kind: checked */
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
		return -ENOMEM;
	if (r->kind == TORVYN_BLOCK_FLOW) {
		memcpy(&f->blk, r->data, want);
		f->present = true;
	} else if (r->kind == TORVYN_BLOCK_COMPONENT) {
		memcpy(&f->comps[hdr->idx].blk, r->data, want);
		f->comps[hdr->idx].present = true;
	} else {
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

void tvn_store__bad_record(struct tvn_store *st, uint32_t type, size_t size)
{
	pthread_mutex_lock(&st->lock);
	bad_locked(st, TVN_BAD_RECORD,
		   "a ring-buffer record of type %u and %zu bytes, which this tracer does not "
		   "know: the BPF object and the tracer were built apart: rebuild them together",
		   type, size);
	pthread_mutex_unlock(&st->lock);
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
	memcpy(snap->bad_by_reason, st->bad, sizeof(st->bad));
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
