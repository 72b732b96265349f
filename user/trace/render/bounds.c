// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"

#define TVN__NS_TO_S(ns) ((double)(ns) / 1e9),
const double tvn_lat_bounds_s[TORVYN_LAT_BOUNDS] = { TORVYN_LAT_BOUND_LIST(TVN__NS_TO_S) };
#undef TVN__NS_TO_S

int tvn_bounds__format(double v, char *buf, size_t len)
{
	char e[40];
	int digits, exp, n;

	/* the fewest significant digits that read back exactly */
	for (digits = 1; digits < 17; digits++) {
		snprintf(e, sizeof(e), "%.*e", digits - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", digits - 1, v);
	exp = atoi(strchr(e, 'e') + 1);
	/* strconv.FormatFloat(v, 'g', -1, 64): exponent form when exp < -4 or exp >= 6 */
	if (exp < -4 || exp >= 6)
		n = snprintf(buf, len, "%s", e);
	else
		n = snprintf(buf, len, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
