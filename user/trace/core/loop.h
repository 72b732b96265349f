/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event loop: one thread serves any number of sessions. Each tick (50
 * ms) it consumes every session's ring buffer (probes never wake us), notices
 * targets that exited (a pidfd each), serves the file descriptors and runs
 * the periodic tasks that the commands registered (textfiles, OTLP metric
 * pushes). The commands only configure it.
 */
#ifndef TORVYN_LOOP_H
#define TORVYN_LOOP_H

#include <signal.h>
#include <stdint.h>

#include "err.h"
#include "session.h"

#define TVN_LOOP_TICK_MS 50

struct tvn_loop;

typedef void (*tvn_loop_fn)(void *ctx);
typedef void (*tvn_loop_fd_fn)(void *ctx, int fd);

struct tvn_loop_session_ops {
	tvn_loop_fn after_poll;	   /* after each poll of the session (may be NULL) */
	tvn_loop_fn target_exited; /* the target exited; the session is drained (may be NULL) */
};

/* NULL and errno on failure; tvn_loop__free(NULL) does nothing. */
struct tvn_loop *tvn_loop__new(void);
void tvn_loop__free(struct tvn_loop *l);

/*
 * Serves session s (borrowed: it must outlive its place in the loop) with
 * ops called on ctx. Returns 0 or -errno with e set (the target is gone, or
 * the kernel has no pidfds).
 */
int tvn_loop__add_session(struct tvn_loop *l, struct tvn_session *s,
			  const struct tvn_loop_session_ops *ops, void *ctx, struct tvn_err *e);
/* Stops serving s (safe from inside a callback). */
void tvn_loop__remove_session(struct tvn_loop *l, struct tvn_session *s);

/* Calls fn(ctx, fd) when fd is readable (fd borrowed). 0 or -ENOMEM. */
int tvn_loop__add_fd(struct tvn_loop *l, int fd, tvn_loop_fd_fn fn, void *ctx);
/* Stops watching fd (safe from inside a callback; close fd after). */
void tvn_loop__remove_fd(struct tvn_loop *l, int fd);

/* Calls fn(ctx) every period_ns (0: every tick), the first time first_ns from now. 0 or -ENOMEM. */
int tvn_loop__add_timer(struct tvn_loop *l, uint64_t first_ns, uint64_t period_ns, tvn_loop_fn fn,
			void *ctx);

/* Makes tvn_loop__run() return after this tick (safe from a callback). */
void tvn_loop__stop(struct tvn_loop *l);

/*
 * Runs until *stop (a signal handler's flag) or tvn_loop__stop(); then
 * consumes every session's ring buffer once more. Returns 0 or -errno.
 */
int tvn_loop__run(struct tvn_loop *l, const volatile sig_atomic_t *stop);

#endif /* TORVYN_LOOP_H */
