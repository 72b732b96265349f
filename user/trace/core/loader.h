/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The loader: finds a target process and the files it maps that carry
 * torvyn probes (its executable, shared objects), reads their probe notes,
 * checks their probe ABI and gates, loads one BPF object for the process and
 * keeps the links that make up its level. A level is one uprobe_multi link
 * of the one BPF program per file over the level's probe sites; each site's
 * cookie is its index into libbpf's __bpf_usdt_specs map, which the loader
 * fills itself so that bpf_usdt_arg() works without libbpf's
 * one-link-per-probe USDT attach. Not thread-safe:
 * the session serializes its calls.
 */
#ifndef TORVYN_LOADER_H
#define TORVYN_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct tvn_loader;
struct torvyn_bpf;

struct tvn_loader_opts {
	int pid;
	/* the tracer's own trace sampling (BPF side); see bpf/metrics.bpf.c */
	uint64_t sample_threshold; /* tvn_sample_threshold(rate); UINT64_MAX passes all */
	uint64_t latency_threshold_ns;
	bool bench; /* fine histograms and the scheduler programs */
	/*
	 * Bytes of the ring buffer the host's records come through (a power of
	 * two, at least a page); 0: the default, 8 MiB. It is mapped into this
	 * process, so it counts in its RSS (twice: the kernel maps the data
	 * area two times over for records that wrap).
	 */
	uint32_t ring_bytes;
	/*
	 * Flows the diagnostic maps hold (flow indices below it); 0: all
	 * TORVYN_MAX_FLOWS. The per-CPU maps cost about 24 KiB per flow and
	 * CPU of kernel memory; updates for flows beyond are counted in
	 * torvyn_trace_map_update_failures_total.
	 */
	uint32_t max_flows;
};

/*
 * Opens the target, checks its probes and ABI, loads the BPF object;
 * attaches nothing. Returns 0 and *out (free with tvn_loader__free()), or
 * -errno with e's cause and message set.
 */
int tvn_loader__open(const struct tvn_loader_opts *o, struct tvn_loader **out, struct tvn_err *e);
void tvn_loader__free(struct tvn_loader *l); /* NULL does nothing */

/*
 * Attaches and detaches links until level (TORVYN_LEVEL_*) is what is
 * attached: per-event probes before gates going up, two links released in
 * parallel going down. Returns 0 or -errno with e set.
 */
int tvn_loader__set_level(struct tvn_loader *l, int level, struct tvn_err *e);
int tvn_loader__level(const struct tvn_loader *l); /* what is attached now */
int tvn_loader__sites_attached(const struct tvn_loader *l);
void tvn_loader__detach_all(struct tvn_loader *l);

/* bench: attaches the scheduler programs (opened with bench). 0 or -errno, e set. */
int tvn_loader__bench_attach(struct tvn_loader *l, struct tvn_err *e);

int tvn_loader__pid(const struct tvn_loader *l);
const char *tvn_loader__exe(const struct tvn_loader *l); /* what /proc/PID/exe names */
struct torvyn_bpf *tvn_loader__skel(const struct tvn_loader *l);
int tvn_loader__ncpus(const struct tvn_loader *l);

#endif /* TORVYN_LOADER_H */
