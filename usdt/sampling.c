// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Deterministic head sampling: the threshold tvn_sample_decide() compares with. */
#include "torvyn_rt.h"

uint64_t tvn_sample_threshold(double rate)
{
	/* !(rate > 0) also catches NaN. */
	if (!(rate > 0))
		return 0;
	if (rate >= 1)
		return UINT64_MAX;
	/*
	 * Scaling by a power of two is exact in binary floating point (ldexp
	 * without libm), and rate <= 1 - 2^-53 keeps the product <= 2^64 - 2^11,
	 * so the conversion cannot overflow.
	 */
	return (uint64_t)(rate * 0x1p64);
}
