// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The statistics of --compare: a mean over a run's windows, its standard
 * error, and the confidence interval of the change between two runs
 * (Welch's t interval of the difference of two means).
 */
#include <errno.h>
#include <math.h>

#include "bench.h"

int tvn_bench_stats__mean_se(const double *x, int n, double *mean, double *se, int *n_out)
{
	double sum = 0, ss = 0, m;
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (isfinite(x[i])) {
			sum += x[i];
			k++;
		}
	}
	if (n_out)
		*n_out = k;
	if (k < 2)
		return -EINVAL;
	m = sum / k;
	for (int i = 0; i < n; i++)
		if (isfinite(x[i]))
			ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*se = sqrt(ss / (k - 1) / k);
	return 0;
}

double tvn_bench_stats__t975(double df)
{
	/* exact to 3 decimals up to 30 degrees of freedom */
	static const double table[] = {
	    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	    2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	    2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
	};
	const double z = 1.959964; /* the normal's 97.5 % quantile */
	double v = floor(df), z3 = z * z * z, z5 = z3 * z * z;

	if (!(v >= 1))
		return INFINITY;
	if (v <= 30)
		return table[(int)v - 1];
	/* Cornish-Fisher expansion around the normal: within 0.001 from 30 on */
	return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v);
}

int tvn_bench_stats__diff_ci(const double *base, int nb, const double *cur, int nc,
			     struct tvn_bench_ci *ci)
{
	double mb, sb, mc, sc, vb, vc, se, df, half;
	int kb, kc;

	if (tvn_bench_stats__mean_se(base, nb, &mb, &sb, &kb) ||
	    tvn_bench_stats__mean_se(cur, nc, &mc, &sc, &kc) || mb == 0)
		return -EINVAL;
	vb = sb * sb;
	vc = sc * sc;
	se = sqrt(vb + vc);
	/* Welch-Satterthwaite; two constant series have no spread at all */
	df = se > 0 ? (vb + vc) * (vb + vc) / (vb * vb / (kb - 1) + vc * vc / (kc - 1))
		    : kb + kc - 2;
	half = tvn_bench_stats__t975(df) * se;
	ci->base_mean = mb;
	ci->cur_mean = mc;
	ci->change_pct = (mc - mb) / fabs(mb) * 100;
	ci->lo_pct = (mc - mb - half) / fabs(mb) * 100;
	ci->hi_pct = (mc - mb + half) / fabs(mb) * 100;
	return 0;
}
