/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding torvyn hosts on the node: which processes run an executable, or
 * map a shared object (a runtime embedded as a library), that carries the
 * `torvyn` provider with the probe ABI this tracer speaks. Files are read
 * through /proc/PID/root, so hosts in other mount namespaces (containers)
 * count too; verdicts are cached per file (device, inode, mtime), so a
 * rescan of /proc reads each ELF once and otherwise costs a stat per file
 * and a read of /proc/PID/maps per process whose executable has no probes.
 * New processes are announced by a BPF program on sched_process_exec; as
 * the dynamic loader has not mapped the libraries at that point, a process
 * that maps only the loader then is looked at again up to three times
 * within about 2.6 s (at the polls that follow). A library opened later
 * with dlopen() is found by the next rescan.
 */
#ifndef TORVYN_DISCOVER_H
#define TORVYN_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tvn_discover;

typedef void (*tvn_pid_fn)(void *ctx, int pid);

/* NULL and errno on failure; tvn_discover__free(NULL) does nothing. */
struct tvn_discover *tvn_discover__new(void);
void tvn_discover__free(struct tvn_discover *d);

/*
 * 1 when pid runs a torvyn host of our probe ABI (in its executable, or in
 * a shared object it maps while no mapped file carries probes of another
 * ABI), with its executable (as /proc/PID/exe names it) in exe; 0 when it
 * does not (or is gone); -errno when it cannot be told (permission).
 */
int tvn_discover__check(struct tvn_discover *d, int pid, char *exe, size_t len);

/* Calls fn for every process of /proc. 0 or -errno. */
int tvn_discover__scan(struct tvn_discover *d, tvn_pid_fn fn, void *ctx);

/* Loads and attaches the exec watcher. 0 or -errno with e set. */
int tvn_discover__watch(struct tvn_discover *d, struct tvn_err *e);

/*
 * Calls fn for every exec since the last call, and again for the exec'd
 * processes whose re-check is due. 0 or -errno.
 */
int tvn_discover__poll(struct tvn_discover *d, tvn_pid_fn fn, void *ctx);

/* Execs the watcher could not report (its ring was full): rescan when it grows. */
uint64_t tvn_discover__lost(struct tvn_discover *d);

#endif /* TORVYN_DISCOVER_H */
