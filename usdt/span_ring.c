// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The per-flow span ring: one slot per element in flight, each owned by one element struct. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "torvyn_rt.h"

int tvn_span_ring__init(struct tvn_span_ring *ring, uint32_t nslots)
{
	size_t n = nslots ? nslots : 1;

	memset(ring, 0, sizeof(*ring));
	/* 2^21 slots is over 2 GiB: more than any flow can have in flight */
	if (n > TVN_SPAN_RING_MAX)
		return -ENOMEM;
	/* whole cache lines per slot (see struct tvn_span_slot) */
	ring->slots = aligned_alloc(_Alignof(struct tvn_span_slot), n * sizeof(*ring->slots));
	if (!ring->slots)
		return -ENOMEM;
	memset(ring->slots, 0, n * sizeof(*ring->slots));
	ring->nslots = (uint32_t)n;
	return 0;
}

void tvn_span_ring__fini(struct tvn_span_ring *ring)
{
	free(ring->slots);
	memset(ring, 0, sizeof(*ring));
}
