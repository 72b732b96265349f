// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The per-flow span ring: one slot per element in flight, indexed by seq. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "torvyn_rt.h"

int tvn_span_ring__init(struct tvn_span_ring *ring, uint32_t nslots)
{
	uint32_t n = 1;

	memset(ring, 0, sizeof(*ring));
	/* Past 2^31 the rounded size does not fit in nslots (nor in memory). */
	if (nslots > (1u << 31))
		return -ENOMEM;
	while (n < nslots)
		n <<= 1;

	/* whole cache lines per slot (see struct tvn_span_slot) */
	ring->slots = aligned_alloc(_Alignof(struct tvn_span_slot), (size_t)n * sizeof(*ring->slots));
	if (!ring->slots)
		return -ENOMEM;
	memset(ring->slots, 0, (size_t)n * sizeof(*ring->slots));
	/*
	 * A never-claimed slot must not match get(): give slot i a seq that maps
	 * to another slot (with one slot, ~0 = UINT64_MAX, which no flow reaches).
	 */
	for (uint32_t i = 0; i < n; i++)
		ring->slots[i].hdr.seq = ~(uint64_t)i;
	ring->nslots = n;
	ring->mask = n - 1;
	return 0;
}

void tvn_span_ring__fini(struct tvn_span_ring *ring)
{
	free(ring->slots);
	memset(ring, 0, sizeof(*ring));
}

struct tvn_span_slot *tvn_span_ring__get(struct tvn_span_ring *ring, uint64_t seq)
{
	struct tvn_span_slot *slot;

	if (!ring->slots) {
		errno = EINVAL;
		return NULL;
	}
	slot = &ring->slots[seq & ring->mask];
	if (slot->hdr.seq != seq) {
		errno = ENOENT;
		return NULL;
	}
	return slot;
}
