// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A small runtime written against the repository's headers only, the way a
 * runtime author would write one: it waits for its production gate, counts
 * ELEMENTS elements in one flow block and flushes the block FLUSHES times.
 * Built by the Makefile three ways (test_usdt_host.sh traces each):
 *   build/integ/probe_host          an executable (PIE) with the probes;
 *   build/integ/probe_host_shared   a main without probes, the runtime in
 *                                   libprobehost.so, which it links;
 *   build/integ/probe_host_nogate   tests TORVYN_GATE_PRODUCTION_ENABLED()
 *                                   with no TORVYN_GATE_PRODUCTION site.
 * Two probe arguments are globals, passed as they are: they compile to
 * %rip-relative locations ("8@probe_abi(%rip)"), which the tracer must
 * resolve. probe_block_size is the size argument of every flush: with
 * "bad-size" it is 8 bytes too many, and the tracer must drop each block.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "torvyn_abi.h"
#include "torvyn_probes.h"

/* hidden: read %rip-relative, in the executable and in the shared object */
__attribute__((visibility("hidden"))) uint64_t probe_abi = TORVYN_PROBE_ABI_VERSION;
__attribute__((visibility("hidden"))) uint64_t probe_block_size = sizeof(struct torvyn_flow_block);
static struct torvyn_flow_block blk;

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int probe_host_run(int argc, char **argv)
{
	long elements, flushes;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ELEMENTS FLUSHES [bad-size]\n", argv[0]);
		return 2;
	}
	elements = atol(argv[1]);
	flushes = atol(argv[2]);
	if (argc > 3 && strcmp(argv[3], "bad-size") == 0)
		probe_block_size += 8;
	/* running: the executable and its libraries are mapped */
	printf("ready\n");
	fflush(stdout);
	/* the host learns its level from the gate; 30 s at most */
	for (i = 0; i < 3000 && !TORVYN_GATE_PRODUCTION_ENABLED(); i++)
		nap(10);
	if (!TORVYN_GATE_PRODUCTION_ENABLED()) {
		fprintf(stderr, "the production gate never rose\n");
		return 3;
	}
#ifndef PROBE_HOST_NO_GATE_SITE
	TORVYN_GATE_PRODUCTION(1);
#endif
	blk.hdr.kind = TORVYN_BLOCK_FLOW;
	blk.hdr.size = sizeof(blk);
	snprintf(blk.hdr.flow_name, sizeof(blk.hdr.flow_name), "probe-flow");
	snprintf(blk.hdr.name, sizeof(blk.hdr.name), "probe-flow");
	blk.state = TORVYN_FLOW_RUNNING;
	blk.n_components = 1;
	for (long e = 0; e < elements; e++) {
		blk.elements_total++;
		if (e % 10 == 9)
			blk.elements_errors++;
	}
	for (long f = 0; f < flushes; f++) {
		blk.hdr.flushes++;
		TORVYN_ABI_VERSION(probe_abi);
		if (TORVYN_METRICS_FLUSH_ENABLED())
			TORVYN_METRICS_FLUSH(&blk, probe_block_size, TORVYN_BLOCK_FLOW);
		nap(20);
	}
	printf("done\n");
	fflush(stdout);
	nap(60000); /* until the test stops it */
	return 0;
}
