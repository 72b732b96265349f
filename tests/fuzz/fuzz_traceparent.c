// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * traceparent parsing (usdt/trace_context.c): any bytes, in a buffer of
 * exactly their length so that a read past it is a crash. What parses
 * formats back to the same ids and flags.
 */
#include "fuzz.h"
#include "torvyn_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1), out[TVN_TRACEPARENT_LEN + 1];
	struct tvn_trace_ctx ctx;

	FUZZ_CHECK(s, "malloc");
	memcpy(s, data, size);
	if (tvn_traceparent_parse(s, size, &ctx) == 0) {
		FUZZ_CHECK(size == TVN_TRACEPARENT_LEN ||
			       (size > TVN_TRACEPARENT_LEN && s[TVN_TRACEPARENT_LEN] == '-'),
			   "accepted %zu bytes", size);
		FUZZ_CHECK(memcmp(s, "ff", 2) != 0, "accepted version ff");
		FUZZ_CHECK(ctx.parent_span_id != 0, "accepted a zero parent id");
		tvn_traceparent_format(ctx.trace_id, ctx.parent_span_id, (uint8_t)ctx.flags, out);
		FUZZ_CHECK(memcmp(out + 2, s + 2, TVN_TRACEPARENT_LEN - 2) == 0,
			   "%.55s formats back as %s", s, out);
	}
	free(s);
	return 0;
}
