/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What session.c and snapshot.c share. */
#ifndef TORVYN_SESSION_INTERNAL_H
#define TORVYN_SESSION_INTERNAL_H

#include <pthread.h>

#include "session.h"

struct tvn_session {
	struct tvn_loader *loader;
	struct tvn_store *store;
	struct tvn_events *events;
	double start_time;    /* unix seconds the session started */
	int64_t mono_to_unix; /* add to a CLOCK_MONOTONIC ns to get Unix ns */

	pthread_mutex_t switch_lock; /* serializes level switches (the loader's links) */
	pthread_mutex_t lock;	     /* everything below: never held across a switch */
	int level;
	int sites_attached;
	bool target_up;
	uint64_t level_switches, scrapes;
};

#endif /* TORVYN_SESSION_INTERNAL_H */
