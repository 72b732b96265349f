// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The log-linear histograms of the bench programs (bpf/bench.bpf.c): bucket
 * bounds and quantiles. tvn_bench_hist__bucket() is inline in bench.h.
 */
#include <math.h>
#include <stdint.h>

#include "bench.h"

uint64_t tvn_bench_hist__lower(unsigned int i)
{
	unsigned int k;

	if (i > TVN_BENCH_HIST_BUCKETS)
		i = TVN_BENCH_HIST_BUCKETS;
	if (i < TVN_BENCH_HIST_SUB)
		return i;
	k = i / TVN_BENCH_HIST_SUB + 3;
	return (uint64_t)(TVN_BENCH_HIST_SUB + i % TVN_BENCH_HIST_SUB) << (k - 4);
}

/* The 1-based rank of quantile q among total values, q clamped to 0..1. */
static uint64_t quantile_rank(double q, uint64_t total)
{
	uint64_t rank;
	double x;

	if (!(q > 0)) /* also NaN */
		q = 0;
	if (q > 1)
		q = 1;
	/* q * total carries rounding noise (0.07 * 100 = 7.000000000000001) */
	x = q * (double)total;
	x = ceil(x - x * 1e-12);
	rank = x < 1 ? 1 : (uint64_t)x;
	return rank > total ? total : rank;
}

double tvn_bench_hist__quantile(const uint64_t *counts, double q)
{
	uint64_t total = 0, rank, before = 0;
	double lo, hi;
	unsigned int i;

	for (i = 0; i < TVN_BENCH_HIST_BUCKETS; i++)
		total += counts[i];
	if (!total)
		return 0;
	rank = quantile_rank(q, total);
	for (i = 0; i < TVN_BENCH_HIST_BUCKETS; i++) {
		if (before + counts[i] >= rank)
			break;
		before += counts[i];
	}
	lo = (double)tvn_bench_hist__lower(i);
	hi = (double)tvn_bench_hist__lower(i + 1);
	return lo + (hi - lo) * (double)(rank - before) / (double)counts[i];
}
