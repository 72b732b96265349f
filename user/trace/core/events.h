/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The events of one target: the BPF ring buffer's records, consumed on a
 * timer (probes submit without wakeups, so no probe pays for waking us).
 * Metric blocks go to the store; promoted traces to a callback.
 */
#ifndef TORVYN_EVENTS_H
#define TORVYN_EVENTS_H

#include <stdint.h>

#include "store.h"

struct tvn_events;

/* Called on the polling thread for every promoted trace. */
typedef void (*tvn_trace_fn)(void *ctx, const struct tvn_rb_trace *rec);

/* Consumes the ring buffer map_fd into st. NULL and errno on failure. */
struct tvn_events *tvn_events__new(int map_fd, struct tvn_store *st);
void tvn_events__free(struct tvn_events *ev); /* NULL does nothing */

/* fn (NULL: none) receives the promoted traces from the next poll on. */
void tvn_events__on_trace(struct tvn_events *ev, tvn_trace_fn fn, void *ctx);

/* Consumes what is there. Returns 0 or -errno. */
int tvn_events__poll(struct tvn_events *ev);

/* Promoted traces consumed so far (any thread). */
uint64_t tvn_events__traces(const struct tvn_events *ev);

#endif /* TORVYN_EVENTS_H */
