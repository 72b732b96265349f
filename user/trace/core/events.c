// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "events.h"
#include "log.h"

struct tvn_events {
	struct ring_buffer *rb;
	struct tvn_store *store;
	tvn_trace_fn on_trace;
	void *on_trace_ctx;
	uint64_t traces; /* atomic */
};

static int handle(void *ctx, void *data, size_t size)
{
	struct tvn_events *ev = ctx;
	const struct tvn_rb_hdr *h = data;

	if (size < sizeof(*h)) {
		tvn_store__bad_record(ev->store, 0, size);
		return 0;
	}
	if (h->type == TVN_RB_BLOCK && size >= sizeof(struct tvn_rb_block)) {
		tvn_store__put(ev->store, data);
	} else if (h->type == TVN_RB_TRACE && size >= sizeof(struct tvn_rb_trace)) {
		__atomic_add_fetch(&ev->traces, 1, __ATOMIC_RELAXED);
		if (ev->on_trace)
			ev->on_trace(ev->on_trace_ctx, data);
	} else if (h->type == TVN_RB_FLOW && size >= sizeof(struct tvn_rb_flow)) {
		const struct tvn_rb_flow *f = data;

		pr_debug("flow %u %s\n", f->flow_idx,
			 f->probe == TVN_P_FLOW_START ? "started" : "ended");
	} else {
		tvn_store__bad_record(ev->store, h->type, size);
	}
	return 0;
}

struct tvn_events *tvn_events__new(int map_fd, struct tvn_store *st)
{
	struct tvn_events *ev = calloc(1, sizeof(*ev));
	int e;

	if (!ev)
		return NULL;
	ev->store = st;
	ev->rb = ring_buffer__new(map_fd, handle, ev, NULL);
	if (!ev->rb) {
		e = errno;
		free(ev);
		errno = e;
		return NULL;
	}
	return ev;
}

void tvn_events__free(struct tvn_events *ev)
{
	if (!ev)
		return;
	ring_buffer__free(ev->rb);
	free(ev);
}

void tvn_events__on_trace(struct tvn_events *ev, tvn_trace_fn fn, void *ctx)
{
	ev->on_trace = fn;
	ev->on_trace_ctx = ctx;
}

int tvn_events__poll(struct tvn_events *ev)
{
	int n = ring_buffer__consume(ev->rb);

	return n < 0 && n != -EINTR ? n : 0;
}

uint64_t tvn_events__traces(const struct tvn_events *ev)
{
	return __atomic_load_n(&ev->traces, __ATOMIC_RELAXED);
}
