// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "clock.h"
#include "session_internal.h"
#include "torvyn.skel.h"

static void clocks(struct tvn_session *s)
{
	struct timespec rt, mt;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	s->start_time = tv.tv_sec + tv.tv_usec / 1e6;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	s->mono_to_unix =
	    ((int64_t)rt.tv_sec - mt.tv_sec) * 1000000000ll + ((int64_t)rt.tv_nsec - mt.tv_nsec);
}

int tvn_session__open(const struct tvn_loader_opts *o, struct tvn_session **out, struct tvn_err *e)
{
	struct tvn_session *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->switch_lock, NULL);
	clocks(s);
	rc = tvn_loader__open(o, &s->loader, e);
	if (rc)
		goto err;
	s->store = tvn_store__new();
	if (!s->store) {
		rc = tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
		goto err;
	}
	s->events =
	    tvn_events__new(bpf_map__fd(tvn_loader__skel(s->loader)->maps.events), s->store);
	if (!s->events) {
		rc = tvn_err__bpf(e, errno, "opening the ring buffer");
		goto err;
	}
	s->target_up = true;
	*out = s;
	return 0;
err:
	tvn_session__free(s);
	return rc;
}

void tvn_session__free(struct tvn_session *s)
{
	if (!s)
		return;
	/* links first: nothing may write the ring buffer while it goes */
	if (s->loader)
		tvn_loader__detach_all(s->loader);
	tvn_events__free(s->events);
	tvn_loader__free(s->loader);
	tvn_store__free(s->store);
	pthread_mutex_destroy(&s->switch_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int tvn_session__set_level(struct tvn_session *s, int level, uint64_t *elapsed_ns,
			   struct tvn_err *e)
{
	uint64_t t0 = tvn_time__mono_ns();
	int rc;

	pthread_mutex_lock(&s->switch_lock);
	pthread_mutex_lock(&s->lock);
	rc = s->target_up ? 0 : -ESRCH;
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		pthread_mutex_unlock(&s->switch_lock);
		return tvn_err__set(e, TVN_CAUSE_NO_PROCESS, rc,
				    "pid %d has exited: nothing to attach to",
				    tvn_loader__pid(s->loader));
	}
	rc = tvn_loader__set_level(s->loader, level, e);
	pthread_mutex_lock(&s->lock);
	s->level = tvn_loader__level(s->loader);
	s->sites_attached = tvn_loader__sites_attached(s->loader);
	s->level_switches++;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->switch_lock);
	if (elapsed_ns)
		*elapsed_ns = tvn_time__mono_ns() - t0;
	return rc;
}

int tvn_session__level(struct tvn_session *s)
{
	int level;

	pthread_mutex_lock(&s->lock);
	level = s->level;
	pthread_mutex_unlock(&s->lock);
	return level;
}

int tvn_session__poll(struct tvn_session *s)
{
	return tvn_events__poll(s->events);
}

void tvn_session__target_exited(struct tvn_session *s)
{
	/* everything the host flushed before it exited is in the ring already */
	tvn_events__poll(s->events);
	pthread_mutex_lock(&s->switch_lock);
	tvn_loader__detach_all(s->loader);
	pthread_mutex_lock(&s->lock);
	s->target_up = false;
	s->level = TORVYN_LEVEL_OFF;
	s->sites_attached = 0;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->switch_lock);
}

bool tvn_session__target_up(struct tvn_session *s)
{
	bool up;

	pthread_mutex_lock(&s->lock);
	up = s->target_up;
	pthread_mutex_unlock(&s->lock);
	return up;
}

int tvn_session__pid(const struct tvn_session *s)
{
	return tvn_loader__pid(s->loader);
}

const char *tvn_session__exe(const struct tvn_session *s)
{
	return tvn_loader__exe(s->loader);
}

void tvn_session__on_trace(struct tvn_session *s, tvn_trace_fn fn, void *ctx)
{
	tvn_events__on_trace(s->events, fn, ctx);
}

struct tvn_store *tvn_session__store(struct tvn_session *s)
{
	return s->store;
}

uint64_t tvn_session__mono_to_unix(const struct tvn_session *s, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + s->mono_to_unix);
}

/* ------------------------------------------------------------ bench */

int tvn_session__bench_attach(struct tvn_session *s, struct tvn_err *e)
{
	return tvn_loader__bench_attach(s->loader, e);
}

static void reset_peak(void *ctx, uint32_t f, uint32_t k)
{
	tvn_maps__reset_peak(ctx, f, k);
}

void tvn_session__reset_peaks(struct tvn_session *s)
{
	tvn_store__each_stream(s->store, reset_peak, s->loader);
}

int tvn_session__read_fine(struct tvn_session *s, tvn_fine_fn fn, void *ctx)
{
	return tvn_maps__read_fine(s->loader, fn, ctx);
}

int tvn_session__read_sched(struct tvn_session *s, tvn_sched_fn fn, void *ctx)
{
	return tvn_maps__read_sched(s->loader, fn, ctx);
}
