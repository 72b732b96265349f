// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Bucket bounds of the Torvyn histograms; bucket i holds v <= bound[i]. */
#include "torvyn_rt.h"

/* 1-2.5-5 per decade, 100 ns .. 10 s. */
const uint64_t tvn_lat_bounds_ns[TORVYN_LAT_BOUNDS + 2] = {
	100ull,		/* 100 ns */
	250ull,
	500ull,
	1000ull,	/* 1 us */
	2500ull,
	5000ull,
	10000ull,
	25000ull,
	50000ull,
	100000ull,
	250000ull,
	500000ull,
	1000000ull,	/* 1 ms */
	2500000ull,
	5000000ull,
	10000000ull,
	25000000ull,
	50000000ull,
	100000000ull,
	250000000ull,
	500000000ull,
	1000000000ull,	/* 1 s */
	2500000000ull,
	5000000000ull,
	10000000000ull,	/* 10 s */
	UINT64_MAX,	/* sentinels: tvn_lat_bucket steps no further */
	UINT64_MAX,
};

/* 64 B .. 16 MiB by powers of 4. */
const uint64_t tvn_size_bounds[TORVYN_SIZE_BOUNDS] = {
	64ull,
	256ull,
	1ull << 10,
	4ull << 10,
	16ull << 10,
	64ull << 10,
	256ull << 10,
	1ull << 20,
	4ull << 20,
	16ull << 20,
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
