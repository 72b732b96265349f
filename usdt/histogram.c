// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Bucket bounds of the Torvyn histograms; bucket i holds v <= bound[i]. */
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

static void __attribute__((constructor)) tvn_lat_first_bound_init(void)
{
	for (unsigned int k = 0; k < 64; k++) {
		uint64_t p = 1ull << k;
		unsigned int i = 0;

		while (i < TORVYN_LAT_BOUNDS && tvn_lat_bounds_ns[i] < p)
			i++;
		tvn_lat_first_bound_tbl[k] = (uint8_t)i;
	}
}
