// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bucket bounds of the Torvyn histograms (bucket i holds v <= bound[i]), in
 * ns and in clock ticks, and the ns sums of histograms timed in ticks.
 */
#include "torvyn_rt.h"

/* The bounds of torvyn_abi.h; two sentinels stop tvn_lat_bucket at +Inf. */
const uint64_t tvn_lat_bounds_ns[TORVYN_LAT_BOUNDS + 2] = {
	TORVYN_LAT_BOUND_LIST(TORVYN_BOUND_ITEM) UINT64_MAX, UINT64_MAX,
};

const uint64_t tvn_size_bounds[TORVYN_SIZE_BOUNDS] = {
	TORVYN_SIZE_BOUND_LIST(TORVYN_BOUND_ITEM)
};

/* tvn_lat_first_bound[k]: the index of the first bound >= 2^k (filled at load). */
uint8_t tvn_lat_first_bound_tbl[64];

/* Until the clock is calibrated, and for good without a TSC, ticks are ns. */
struct tvn_lat_ticks tvn_lat_ticks;

/* first[k]: the index of the first of bounds >= 2^k. */
static void first_fill(uint8_t first[64], const uint64_t *bounds)
{
	for (unsigned int k = 0; k < 64; k++) {
		uint64_t p = 1ull << k;
		unsigned int i = 0;

		while (i < TORVYN_LAT_BOUNDS && bounds[i] < p)
			i++;
		first[k] = (uint8_t)i;
	}
}

/*
 * bound[i] = max { t : (t * mult) >> 32 <= ns[i] }. Each word is stored whole, and only if it
 * changes: the hot path reads the table while the clock thread refills it.
 */
void tvn_lat_ticks__fill(struct tvn_lat_ticks *t, uint64_t mult)
{
	uint8_t first[64];

	if (!mult)
		return;
	for (unsigned int i = 0; i < TORVYN_LAT_BOUNDS + 2; i++) {
		uint64_t b = UINT64_MAX;

		if (i < TORVYN_LAT_BOUNDS)
			b = tvn_ticks__max_within(tvn_lat_bounds_ns[i], mult);
		if (t->bound[i] != b)
			__atomic_store_n(&t->bound[i], b, __ATOMIC_RELAXED);
	}
	first_fill(first, t->bound);
	for (unsigned int k = 0; k < 64; k++)
		if (t->first[k] != first[k])
			__atomic_store_n(&t->first[k], first[k], __ATOMIC_RELAXED);
}

void tvn_hist_lat__settle(struct torvyn_hist_lat *h, struct tvn_hist_ticks *t)
{
	uint64_t sum = __atomic_load_n(&t->sum, __ATOMIC_RELAXED), count = 0;
	unsigned __int128 ns;

	/* 32.32 fixed point: the fraction of a ns carries over to the next call */
	ns = (unsigned __int128)(sum - t->settled) *
		 __atomic_load_n(&tvn_clock.mult, __ATOMIC_RELAXED) +
	     t->frac;
	t->settled = sum;
	t->frac = (uint64_t)ns & 0xffffffffu;
	h->sum_ns += (uint64_t)(ns >> 32);
	for (unsigned int i = 0; i < TORVYN_LAT_BUCKETS; i++)
		count += h->bucket[i];
	h->count = count;
}

static void __attribute__((constructor)) tvn_lat_first_bound_init(void)
{
	first_fill(tvn_lat_first_bound_tbl, tvn_lat_bounds_ns);
	tvn_lat_ticks__fill(&tvn_lat_ticks, 1ull << 32);
}
