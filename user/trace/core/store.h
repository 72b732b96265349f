/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a host sent: its metric blocks (flows, components, streams, the pool,
 * the system), kept by flow index, and the one name resolver of the tracer:
 * a flow's Prometheus label, its OTLP attribute and its span names all come
 * from tvn_store__name(), so they can never differ. Thread-safe.
 */
#ifndef TORVYN_STORE_H
#define TORVYN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct tvn_store;

/* NULL and errno on failure; free with tvn_store__free() (NULL does nothing). */
struct tvn_store *tvn_store__new(void);
void tvn_store__free(struct tvn_store *st);

/*
 * Keeps a metric block record from the ring buffer. Returns 0, or -EPROTO for
 * a block of another size or kind, a header that disagrees or an index out of
 * range (never misread: counted by reason, the first of each reason logged
 * with its cause and fix), or -ENOMEM.
 */
int tvn_store__put(struct tvn_store *st, const struct tvn_rb_block *r);

/* Counts (and logs once) a ring-buffer record of an unknown type or size. */
void tvn_store__bad_record(struct tvn_store *st, uint32_t type, size_t size);

/*
 * The name of a flow (idx < 0) or of its component (kind
 * TORVYN_BLOCK_COMPONENT) or stream (TORVYN_BLOCK_STREAM) idx, into buf; the
 * index as text until the host's blocks have named it.
 */
void tvn_store__name(struct tvn_store *st, uint32_t flow_idx, int kind, int idx, char *buf,
		     size_t len);

/* True once the flow's metric block (its name) has arrived. */
bool tvn_store__flow_named(struct tvn_store *st, uint32_t flow_idx);

/*
 * Copies the host's blocks and the store's counters into snap (flows
 * allocated: snapshot__free). Returns 0 or -ENOMEM.
 */
int tvn_store__copy(struct tvn_store *st, struct tvn_snapshot *snap);

/* Calls fn for every (flow, stream) whose block has arrived. */
void tvn_store__each_stream(struct tvn_store *st, void (*fn)(void *ctx, uint32_t f, uint32_t k),
			    void *ctx);

#endif /* TORVYN_STORE_H */
