/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Logging a repeating failure once per interval: one line per cause (a key
 * the caller names), with how many like it were held back since the last.
 * A collector down for an hour gives one line a minute, not one a request.
 */
#ifndef TORVYN_RATELIMIT_H
#define TORVYN_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define TVN_RATELIMIT_CAUSES 8

struct tvn_ratelimit {
	uint64_t interval_ns;
	struct {
		char key[96];
		uint64_t last_ns, held;
	} c[TVN_RATELIMIT_CAUSES];
};

/*
 * True when the cause key may be logged now; *held (may be NULL) is then how
 * many were held back since its last line. Not thread-safe: one per thread.
 */
bool tvn_ratelimit__allow(struct tvn_ratelimit *r, const char *key, uint64_t now_ns,
			  uint64_t *held);

#endif /* TORVYN_RATELIMIT_H */
