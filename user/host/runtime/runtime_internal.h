/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of the runtime share. step.c is the hot path: the step
 * loops and everything that inlines into them, one translation unit with
 * step_elem.h, step_stream.h and step_batch.h, which only it includes.
 * flow.c sets flows up and tears them down, run.c runs them, telemetry.c is
 * the telemetry thread, batch.c its side of the step-record batches,
 * flush.c aggregates and flushes the metric blocks.
 */
#ifndef TORVYN_RUNTIME_INTERNAL_H
#define TORVYN_RUNTIME_INTERNAL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "runtime.h"

static inline void tvn_time__sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Sleeps ns, or less: until the host stops (any_stop), or is interrupted by
 * a signal. A stop that does not end the nap is waited through.
 */
static inline void tvn_host__nap(const struct tvn_host *h, uint64_t ns, bool any_stop)
{
	struct pollfd p = {.fd = h->stop_fd, .events = POLLIN};
	uint64_t end = tvn_mono_ns() + ns, now;

	while ((now = tvn_mono_ns()) < end) {
		struct timespec ts = {.tv_sec = (end - now) / 1000000000ull,
				      .tv_nsec = (end - now) % 1000000000ull};

		if (h->interrupted || (any_stop && h->stop))
			return;
		if (h->stop) {
			tvn_time__sleep_ns(end - now); /* the stop descriptor stays readable */
			return;
		}
		ppoll(&p, 1, &ts, NULL);
	}
}

/* ------------------------------------------------------------ step.c */

/* A component's thread: its loop, until its input ends or its source is done. */
void *tvn_comp__main(void *arg);

/* ------------------------------------------------------------ telemetry.c */

/*
 * Folds the probe semaphores into the words the hot path reads; returns the
 * level. hold_off (--ab-period): the hot path runs as at Level 0.
 */
int tvn_probes__refresh(const struct tvn_host *h, bool hold_off);
/* The telemetry thread (arg: the host): probe words, progress log, flushes. */
void *tvn_telemetry__main(void *arg);

/* ------------------------------------------------------------ batch.c */

/* Hands c's batch to component__batch (if attached) and empties it; its holder only. */
void tvn_batch__fire(struct tvn_comp *c);
/* Whether threads batch, from the semaphores now (--wait-attach: before the first step). */
void tvn_batch__refresh(struct tvn_host *h);
/*
 * The telemetry thread's part, every tick: whether threads batch, a flush
 * request at each flush interval (interval) and on a drain, the batches of
 * waiting threads flushed for them, batch__drained once all are.
 */
void tvn_batch__tick(struct tvn_host *h, bool interval);

#endif /* TORVYN_RUNTIME_INTERNAL_H */
