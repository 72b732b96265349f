// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Snapshot assembly: the store's blocks, the BPF maps, the session's figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

int tvn_session__snapshot(struct tvn_session *s, const struct tvn_snap_export *otlp,
			  struct tvn_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&s->lock);
	s->scrapes++;
	snap->level = s->level;
	snap->target_up = s->target_up;
	snap->probes_attached = s->sites_attached;
	snap->level_switches = s->level_switches;
	snap->scrapes = s->scrapes;
	pthread_mutex_unlock(&s->lock);
	snap->target_pid = tvn_session__pid(s);
	snprintf(snap->target_exe, sizeof(snap->target_exe), "%.*s",
		 (int)sizeof(snap->target_exe) - 1, tvn_session__exe(s));
	snap->start_time = s->start_time;
	snap->traces_received = tvn_events__traces(s->events);
	if (otlp) {
		snap->otlp_enabled = true;
		snap->otlp = *otlp;
	}
	if (tvn_store__copy(s->store, snap))
		return -ENOMEM;
	tvn_maps__read_stats(s->loader, snap);
	tvn_maps__read_pool(s->loader, snap);
	tvn_maps__read_diag(s->loader, snap);
	return 0;
}

void tvn_snapshot__free(struct tvn_snapshot *snap)
{
	free(snap->flows);
	free(snap->transfers);
	snap->flows = NULL;
	snap->transfers = NULL;
}
