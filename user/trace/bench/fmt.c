// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Numbers of a bench report as text: exact (CSV) or in the unit that fits (tables). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_internal.h"

/* Shortest decimal text that reads back as v; plain notation where that is short. */
void tvn_bench_fmt__num(char *buf, size_t len, double v)
{
	double a = fabs(v);
	int p;

	if (!isfinite(v)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	if (a == 0 || (a >= 1e-6 && a < 1e15)) {
		for (p = 0; p <= 20; p++) {
			snprintf(buf, len, "%.*f", p, v);
			if (strtod(buf, NULL) == v)
				return;
		}
	}
	for (p = 1; p < 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* A duration given in µs, in the unit that fits. */
void tvn_bench_fmt__us(char *buf, size_t len, double us)
{
	double a = fabs(us);

	if (!isfinite(us))
		snprintf(buf, len, "-");
	else if (us == 0)
		snprintf(buf, len, "0");
	else if (a < 1)
		snprintf(buf, len, "%.0f ns", us * 1e3);
	else if (a < 1e3)
		snprintf(buf, len, "%.*f µs", a < 10 ? 2 : 1, us);
	else if (a < 1e6)
		snprintf(buf, len, "%.*f ms", a < 1e4 ? 2 : 1, us / 1e3);
	else
		snprintf(buf, len, "%.*f s", a < 1e7 ? 2 : 1, us / 1e6);
}

void tvn_bench_fmt__s(char *buf, size_t len, double s)
{
	tvn_bench_fmt__us(buf, len, s * 1e6);
}

/* Unit prefixes: steps of step; prec fraction digits with a prefix, plain_prec without. */
struct scale {
	double step;
	const char *pfx[5];
	int plain_prec, prec;
};

static const struct scale si_scale = {1000, {"k", "M", "G", "T", "P"}, 1, 2};
static const struct scale iec_scale = {1024, {"KiB", "MiB", "GiB", "TiB", "PiB"}, 0, 1};

/* v with the largest prefix it reaches: "<v> <plain>" or "<v> <prefix><unit>". */
static void fmt_scaled(char *buf, size_t len, double v, const struct scale *sc, const char *plain,
		       const char *unit)
{
	int i = -1;

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (fabs(v) >= sc->step && i < (int)ARRAY_SIZE(sc->pfx) - 1) {
		v /= sc->step;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%.*f %s", sc->plain_prec, v, plain);
	else
		snprintf(buf, len, "%.*f %s%s", sc->prec, v, sc->pfx[i], unit);
}

/* SI prefixes for counts and rates ("12.35 k"). */
void tvn_bench_fmt__si(char *buf, size_t len, double v, const char *unit)
{
	fmt_scaled(buf, len, v, &si_scale, unit, unit);
}

/* IEC prefixes for bytes ("1.5 MiB"). */
void tvn_bench_fmt__iec(char *buf, size_t len, double v, const char *suffix)
{
	char plain[16];

	snprintf(plain, sizeof(plain), "B%s", suffix);
	fmt_scaled(buf, len, v, &iec_scale, plain, suffix);
}

void tvn_bench_fmt__pct(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v);
}
