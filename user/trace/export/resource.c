// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The resources (traced hosts) of one exporter, by id: the index of the
 * resource in a table that grows and whose free slots are given again. A
 * resource also has a place among the current batch's resources from its
 * first span in the batch until the batch is queued; then the request takes
 * copies of them, so that a host dropped meanwhile still names its spans and
 * its slot is free again. The table thus holds the live hosts and, until
 * their batch leaves, the dropped ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static bool slot_free(const struct tvn_exporter_res *s)
{
	return !s->live && s->in_batch < 0;
}

static struct tvn_exporter_res *slot_live(const struct tvn_exporter *e, int id)
{
	if (id < 0 || id >= e->n_res || !e->res[id].live)
		return NULL;
	return &e->res[id];
}

/* A free slot for res, the table grown if need be: its id, or -ENOMEM. */
static int res_add_locked(struct tvn_exporter *e, const struct tvn_otlp_resource *res)
{
	int id;

	for (id = 0; id < e->n_res && !slot_free(&e->res[id]); id++)
		;
	if (id == e->cap_res) {
		int cap = e->cap_res ? 2 * e->cap_res : 4;
		struct tvn_exporter_res *t = realloc(e->res, (size_t)cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		e->res = t;
		e->cap_res = cap;
	}
	if (id == e->n_res)
		e->n_res++;
	e->res[id] = (struct tvn_exporter_res){.res = *res, .live = true, .in_batch = -1};
	return id;
}

int tvn_exporter__res_init_locked(struct tvn_exporter *e, const struct tvn_otlp_resource *res)
{
	int id = res_add_locked(e, res);

	return id < 0 ? id : 0;
}

int tvn_exporter__add_resource(struct tvn_exporter *e, const struct tvn_otlp_resource *res)
{
	int id;

	if (!e || !res)
		return -EINVAL;
	pthread_mutex_lock(&e->mu);
	id = res_add_locked(e, res);
	pthread_mutex_unlock(&e->mu);
	return id;
}

void tvn_exporter__drop_resource(struct tvn_exporter *e, int id)
{
	struct tvn_exporter_res *s;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	s = slot_live(e, id);
	if (s)
		s->live = false; /* free once its batch, if any, is queued */
	pthread_mutex_unlock(&e->mu);
}

int tvn_exporter__batch_res_locked(struct tvn_exporter *e, int id)
{
	struct tvn_exporter_res *s = slot_live(e, id);

	if (!s)
		return -ENOENT;
	if (s->in_batch >= 0)
		return s->in_batch;
	if (e->batch_n_res == e->batch_res_cap) {
		uint32_t cap = e->batch_res_cap ? 2 * e->batch_res_cap : 8;
		int *t = realloc(e->batch_res, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		e->batch_res = t;
		e->batch_res_cap = cap;
	}
	e->batch_res[e->batch_n_res] = id;
	s->in_batch = (int)e->batch_n_res++;
	return s->in_batch;
}

int tvn_exporter__batch_res_take_locked(struct tvn_exporter *e, struct tvn_otlp_req *r)
{
	uint32_t n = e->batch_n_res;
	struct tvn_otlp_resource *res = r ? malloc((n ? n : 1) * sizeof(*res)) : NULL;

	for (uint32_t i = 0; i < n; i++) {
		struct tvn_exporter_res *s = &e->res[e->batch_res[i]];

		if (res)
			res[i] = s->res;
		s->in_batch = -1;
	}
	e->batch_n_res = 0;
	if (!res)
		return -ENOMEM;
	r->res = res;
	r->n_res = n;
	return 0;
}

int tvn_exporter__res_copy_locked(const struct tvn_exporter *e, const int *ids, int n,
				  struct tvn_otlp_resource *out)
{
	for (int i = 0; i < n; i++) {
		const struct tvn_exporter_res *s = slot_live(e, ids[i]);

		if (!s)
			return i;
		out[i] = s->res;
	}
	return -1;
}
