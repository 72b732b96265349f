/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The histogram bounds as the renderers write them, derived from the one
 * definition in include/torvyn_abi.h (TORVYN_LAT_BOUND_LIST, in ns).
 */
#ifndef TORVYN_BOUNDS_H
#define TORVYN_BOUNDS_H

#include <linux/types.h>
#include <stddef.h>

#include "torvyn_abi.h"

/* The latency bounds in seconds (OTLP explicit bounds, Prometheus `le`). */
extern const double tvn_lat_bounds_s[TORVYN_LAT_BOUNDS];

/*
 * Writes v as Go's strconv.FormatFloat(v, 'g', -1, 64) does, the form
 * Prometheus clients give `le` labels: the shortest digits that read back
 * as v, in exponent form below 1e-4 and from 1e6 ("1e-07", "0.00025", "10").
 * Returns the length, or -ENOSPC.
 */
int tvn_bounds__format(double v, char *buf, size_t len);

#endif /* TORVYN_BOUNDS_H */
