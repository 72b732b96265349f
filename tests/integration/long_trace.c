/*
 * A process that speaks the torvyn probe contract by hand and promotes one
 * trace with more span records than a trace holds (TORVYN_TRACE_RECS): 20
 * records, 19 component invocations of 1 us each and the root (flow) span
 * last, 50 ms long, promoted for tail latency. The tracer must keep the root
 * (it takes the last place), count the 4 records it drops, and export the
 * trace because the root is slow. Built and run by test_long_trace.sh:
 *   cc -O2 -Iinclude -o long_trace tests/integration/long_trace.c
 * It fires every 100 ms for at most a minute.
 */
#include <linux/types.h>
#include <string.h>
#include <sys/sdt.h>
#include <time.h>

#include "torvyn_abi.h"

#define NREC 20

int main(void)
{
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	struct torvyn_trace_hdr hdr;
	struct torvyn_span_rec rec[NREC];
	unsigned long long base = 1000000000ull;

	memset(&hdr, 0, sizeof(hdr));
	memset(rec, 0, sizeof(rec));
	for (int i = 0; i < 16; i++)
		hdr.trace_id[i] = (unsigned char)(0xa0 + i);
	hdr.reason = TORVYN_PROMOTE_LATENCY;
	hdr.count = NREC;
	for (int i = 0; i < NREC - 1; i++) {
		rec[i].span_id = 0x100 + i;
		rec[i].parent_span_id = 0x1;
		rec[i].component_idx = (unsigned short)(i % TORVYN_MAX_COMPONENTS);
		rec[i].kind = TORVYN_SPAN_INVOKE;
		rec[i].start_ns = base + i * 1000ull;
		rec[i].end_ns = base + i * 1000ull + 1000ull;
	}
	rec[NREC - 1].span_id = 0x1;
	rec[NREC - 1].kind = TORVYN_SPAN_FLOW;
	rec[NREC - 1].start_ns = base;
	rec[NREC - 1].end_ns = base + 50 * 1000000ull;
	for (int i = 0; i < 600; i++) {
		unsigned long long h = (unsigned long long)&hdr, r = (unsigned long long)rec;
		unsigned long long n = NREC, why = TORVYN_PROMOTE_LATENCY;

		DTRACE_PROBE1(torvyn, abi__version, 1ULL);
		DTRACE_PROBE4(torvyn, trace__promote, h, r, n, why);
		nanosleep(&tick, NULL);
	}
	return 0;
}
