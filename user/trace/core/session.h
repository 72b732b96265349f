/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An attach session: one target process, made of the loader (target, BPF
 * object, links per level), the store (what the host sent, and names) and
 * the events (its ring buffer). Many sessions live in one process, each with
 * its own BPF object; nothing is shared between them. Thread-safe: one
 * thread polls and switches levels, any thread takes snapshots.
 */
#ifndef TORVYN_SESSION_H
#define TORVYN_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "events.h"
#include "loader.h"
#include "maps.h"
#include "snapshot.h"
#include "store.h"

struct tvn_session;

/*
 * Opens the target, checks its probes and ABI, loads its BPF object;
 * attaches nothing yet. Returns 0 and *out (free with tvn_session__free()),
 * or -errno with e naming the cause and the fix.
 */
int tvn_session__open(const struct tvn_loader_opts *o, struct tvn_session **out, struct tvn_err *e);
void tvn_session__free(struct tvn_session *s); /* NULL does nothing */

/*
 * Switches to level (TORVYN_LEVEL_*): one uprobe_multi attach or detach per
 * level crossed; per-event probes before gates. Returns 0 or -errno with e
 * set; *elapsed_ns (may be NULL) is the time the switch took.
 */
int tvn_session__set_level(struct tvn_session *s, int level, uint64_t *elapsed_ns,
			   struct tvn_err *e);
int tvn_session__level(struct tvn_session *s);

/* Consumes the ring buffer (no wakeups are sent: call it on a timer). */
int tvn_session__poll(struct tvn_session *s);

/* The target is gone: drain what it sent, drop the links, mark it down. */
void tvn_session__target_exited(struct tvn_session *s);
bool tvn_session__target_up(struct tvn_session *s);

int tvn_session__pid(const struct tvn_session *s);
const char *tvn_session__exe(const struct tvn_session *s);

/* fn (NULL: none) is called on the polling thread for every promoted trace. */
void tvn_session__on_trace(struct tvn_session *s, tvn_trace_fn fn, void *ctx);

/* The session's names (the store's resolver; see store.h). */
struct tvn_store *tvn_session__store(struct tvn_session *s);

/* CLOCK_MONOTONIC ns of the host -> Unix ns. */
uint64_t tvn_session__mono_to_unix(const struct tvn_session *s, uint64_t mono_ns);

/*
 * Fills snap with everything known now (core/snapshot.c); otlp carries the
 * exporter's figures, NULL when the session exports no OTLP. Caller frees
 * with tvn_snapshot__free(). Returns 0 or -ENOMEM.
 */
int tvn_session__snapshot(struct tvn_session *s, const struct tvn_snap_export *otlp,
			  struct tvn_snapshot *snap);
void tvn_snapshot__free(struct tvn_snapshot *snap);

/* bench: the scheduler programs (opened with bench), the peaks, the fine maps. */
int tvn_session__bench_attach(struct tvn_session *s, struct tvn_err *e);
void tvn_session__reset_peaks(struct tvn_session *s);
int tvn_session__read_fine(struct tvn_session *s, tvn_fine_fn fn, void *ctx);
int tvn_session__read_sched(struct tvn_session *s, tvn_sched_fn fn, void *ctx);

#endif /* TORVYN_SESSION_H */
