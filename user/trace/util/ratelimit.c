// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

bool tvn_ratelimit__allow(struct tvn_ratelimit *r, const char *key, uint64_t now_ns, uint64_t *held)
{
	int slot = -1, oldest = 0;

	for (int i = 0; i < TVN_RATELIMIT_CAUSES; i++) {
		if (!strncmp(r->c[i].key, key, sizeof(r->c[i].key) - 1)) {
			slot = i;
			break;
		}
		if (r->c[i].last_ns < r->c[oldest].last_ns)
			oldest = i;
	}
	if (slot < 0) {
		/* a new cause takes the slot of the one logged longest ago */
		slot = oldest;
		snprintf(r->c[slot].key, sizeof(r->c[slot].key), "%s", key);
		r->c[slot].last_ns = 0;
		r->c[slot].held = 0;
	}
	if (r->c[slot].last_ns && now_ns - r->c[slot].last_ns < r->interval_ns) {
		r->c[slot].held++;
		return false;
	}
	if (held)
		*held = r->c[slot].held;
	r->c[slot].held = 0;
	r->c[slot].last_ns = now_ns ? now_ns : 1;
	return true;
}
