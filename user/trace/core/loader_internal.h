/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The loader's own parts: what loader.c and loader_probes.c share. */
#ifndef TVN_LOADER_INTERNAL_H
#define TVN_LOADER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

#include "err.h"
#include "usdt_elf.h"

struct bpf_link;
struct torvyn_bpf;

enum { LINK_PROD, LINK_DIAG, LINK_DRAIN, N_LINKS };

/*
 * One file of the target that carries torvyn probes: its executable, or a
 * shared object it maps (a runtime embedded as a library). Each has its own
 * sites, semaphores and links; their specs share the one map.
 */
struct probe_obj {
	char name[PATH_MAX]; /* as the process names it (exe link, maps entry) */
	char path[PATH_MAX]; /* opens it from here, in any mount namespace */
	struct tvn_usdt_sites sites;
	int spec_base; /* its site i is key spec_base + i of __bpf_usdt_specs */
	struct bpf_link *links[N_LINKS];
	int link_sites[N_LINKS];
};

#define MAX_OBJS 8

struct tvn_loader {
	int pid;
	char exe[PATH_MAX];
	struct probe_obj *objs[MAX_OBJS];
	int n_objs;
	struct torvyn_bpf *skel;
	int ncpus;
	pthread_t drain_release; /* releasing the drain link, while drain_releasing */
	bool drain_releasing;
};

/*
 * Finds the target's files with torvyn probes (its executable, each shared
 * object it maps), reads their sites and checks each file's ABI and gates.
 */
int tvn_loader__read_probes(struct tvn_loader *l, struct tvn_err *e);

bool tvn_usdt_sites__has_probe(const struct tvn_usdt_sites *s, int probe_id);

#endif
