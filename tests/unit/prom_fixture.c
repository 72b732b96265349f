// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixtures of the prom unit tests (prom_fixture.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom_fixture.h"

const struct want_fam want_fams[] = {
    {"torvyn_flow_elements", "counter", NULL},
    {"torvyn_flow_errors", "counter", NULL},
    {"torvyn_flow_latency_seconds", "histogram", "seconds"},
    {"torvyn_flow_copies", "counter", NULL},
    {"torvyn_flow_copied_bytes", "counter", "bytes"},
    {"torvyn_flow_transfers", "counter", NULL},
    {"torvyn_flow_transferred_bytes", "counter", "bytes"},
    {"torvyn_flow_active_duration_seconds", "gauge", "seconds"},
    {"torvyn_flow_state", "stateset", NULL},
    {"torvyn_flow_traces_promoted", "counter", NULL},
    {"torvyn_component_invocations", "counter", NULL},
    {"torvyn_component_errors", "counter", NULL},
    {"torvyn_component_processing_time_seconds", "histogram", "seconds"},
    {"torvyn_component_fuel_consumed", "counter", NULL},
    {"torvyn_component_memory_current_bytes", "gauge", "bytes"},
    {"torvyn_component_input_bytes", "counter", "bytes"},
    {"torvyn_component_output_bytes", "counter", "bytes"},
    {"torvyn_component_wakeups", "counter", NULL},
    {"torvyn_component_idle_time_seconds", "counter", "seconds"},
    {"torvyn_stream_elements_transferred", "counter", NULL},
    {"torvyn_stream_elements_dropped", "counter", NULL},
    {"torvyn_stream_backpressure_events", "counter", NULL},
    {"torvyn_stream_backpressure_duration_seconds", "counter", "seconds"},
    {"torvyn_stream_queue_current_depth", "gauge", NULL},
    {"torvyn_stream_queue_peak_depth", "gauge", NULL},
    {"torvyn_stream_queue_capacity", "gauge", NULL},
    {"torvyn_stream_queue_wait_time_seconds", "histogram", "seconds"},
    {"torvyn_pool_capacity", "gauge", NULL},
    {"torvyn_pool_available", "gauge", NULL},
    {"torvyn_pool_allocated", "counter", NULL},
    {"torvyn_pool_returned", "counter", NULL},
    {"torvyn_pool_fallbacks", "counter", NULL},
    {"torvyn_pool_exhaustions", "counter", NULL},
    {"torvyn_pool_buffer_size_bytes", "gauge", "bytes"},
    {"torvyn_host_flows_active", "gauge", NULL},
    {"torvyn_host_components_active", "gauge", NULL},
    {"torvyn_host_memory_mapped_bytes", "gauge", "bytes"},
    {"torvyn_host_scheduler_wakeups", "counter", NULL},
    {"torvyn_host_scheduler_idle_time_seconds", "counter", "seconds"},
    {"torvyn_host_spans_dropped", "counter", NULL},
    {"torvyn_diagnostic_invocations", "counter", NULL},
    {"torvyn_diagnostic_invocation_errors", "counter", NULL},
    {"torvyn_diagnostic_processing_time_seconds", "histogram", "seconds"},
    {"torvyn_diagnostic_copies", "counter", NULL},
    {"torvyn_diagnostic_copied_bytes", "counter", "bytes"},
    {"torvyn_diagnostic_transfers", "counter", NULL},
    {"torvyn_diagnostic_transferred_bytes", "counter", "bytes"},
    {"torvyn_diagnostic_queue_enqueues", "counter", NULL},
    {"torvyn_diagnostic_queue_dequeues", "counter", NULL},
    {"torvyn_diagnostic_queue_depth", "gauge", NULL},
    {"torvyn_diagnostic_queue_peak_depth", "gauge", NULL},
    {"torvyn_diagnostic_queue_wait_time_seconds", "histogram", "seconds"},
    {"torvyn_diagnostic_backpressure_events", "counter", NULL},
    {"torvyn_diagnostic_backpressure_duration_seconds", "histogram", "seconds"},
    {"torvyn_diagnostic_pool_allocations", "counter", NULL},
    {"torvyn_diagnostic_pool_returns", "counter", NULL},
    {"torvyn_diagnostic_pool_fallbacks", "counter", NULL},
    {"torvyn_diagnostic_pool_exhaustions", "counter", NULL},
    {"torvyn_trace_level", "gauge", NULL},
    {"torvyn_trace_target_up", "gauge", NULL},
    {"torvyn_trace_probes_attached", "gauge", NULL},
    {"torvyn_trace_events_lost", "counter", NULL},
    {"torvyn_trace_probe_hits", "counter", NULL},
    {"torvyn_trace_map_update_failures", "counter", NULL},
    {"torvyn_trace_user_read_failures", "counter", NULL},
    {"torvyn_trace_blocks_received", "counter", NULL},
    {"torvyn_trace_malformed_blocks", "counter", NULL},
    {"torvyn_trace_traces_received", "counter", NULL},
    {"torvyn_trace_traces_filtered", "counter", NULL},
    {"torvyn_trace_spans_dropped", "counter", NULL},
    {"torvyn_trace_spans_exported", "counter", NULL},
    {"torvyn_trace_spans_rejected", "counter", NULL},
    {"torvyn_trace_otlp_retries", "counter", NULL},
    {"torvyn_trace_otlp_failures", "counter", NULL},
    {"torvyn_trace_otlp_partial_successes", "counter", NULL},
    {"torvyn_trace_otlp_metric_requests", "counter", NULL},
    {"torvyn_trace_level_switches", "counter", NULL},
    {"torvyn_trace_scrapes", "counter", NULL},
    {"torvyn_trace_textfile_write_failures", "counter", NULL},
    {"torvyn_trace_start_time_seconds", "gauge", "seconds"},
    {"torvyn_trace", "info", NULL},
};

const size_t n_want_fams = ARRAY_SIZE(want_fams);

/* ------------------------------------------------------------ the snapshot */

void set_name(char dst[TORVYN_NAME_LEN], const char *src)
{
	memset(dst, 0, TORVYN_NAME_LEN);
	memcpy(dst, src, strnlen(src, TORVYN_NAME_LEN));
}

static void set_hdr(struct torvyn_block_hdr *h, uint32_t kind, uint32_t fi, uint32_t idx,
		    const char *flow, const char *name)
{
	h->kind = kind;
	h->flow_idx = fi;
	h->idx = idx;
	set_name(h->flow_name, flow);
	set_name(h->name, name);
}

static void set_hist(struct torvyn_hist_lat *h, uint64_t b0, uint64_t b3, uint64_t binf,
		     uint64_t sum_ns)
{
	memset(h, 0, sizeof(*h));
	h->bucket[0] = b0;
	h->bucket[3] = b3;
	h->bucket[TORVYN_LAT_BUCKETS - 1] = binf;
	h->count = b0 + b3 + binf;
	h->sum_ns = sum_ns;
}

uint64_t hist_bucket_sum(const struct torvyn_hist_lat *h)
{
	uint64_t n = 0;

	for (int i = 0; i < TORVYN_LAT_BUCKETS; i++)
		n += h->bucket[i];
	return n;
}

struct tvn_snapshot *sample_snapshot(void)
{
	struct tvn_snapshot *s = calloc(1, sizeof(*s));
	struct tvn_snap_flow *f = calloc(1, sizeof(*f));
	struct tvn_snap_transfer *x = calloc(2, sizeof(*x));
	struct tvn_snap_comp *src, *sink;
	struct tvn_snap_stream *st;

	assert_non_null(s);
	assert_non_null(f);
	assert_non_null(x);
	s->level = TORVYN_LEVEL_DIAGNOSTIC;
	s->target_up = 1;
	s->target_pid = 4242;
	strcpy(s->target_exe, "/usr/bin/torvyn-host");
	s->probes_attached = 17;
	s->events_lost = 3;
	for (int i = 0; i < TVN_P_COUNT; i++)
		s->probe_hits[i] = 100 + (uint64_t)i;
	s->map_full = 4;
	s->read_fail = 5;
	s->blocks_received = 600;
	s->traces_received = 7;
	s->otlp.spans_dropped = 8;
	s->level_switches = 2;
	s->scrapes = 9;
	s->start_time = 1700000000.25;

	s->n_flows = 1;
	s->flows = f;
	f->present = true;
	set_hdr(&f->blk.hdr, TORVYN_BLOCK_FLOW, 0, 0, "f1", "f1");
	f->blk.elements_total = 10000;
	f->blk.elements_errors = 12;
	for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
		f->blk.copies_total[r] = 1 + (uint64_t)r;
		f->blk.copies_bytes[r] = 100 * (1 + (uint64_t)r);
	}
	f->blk.transfers_total = 19998;
	f->blk.transfers_bytes = 1234567;
	f->blk.start_ns = 1000000000;
	f->blk.end_ns = 3500000001;
	f->blk.state = TORVYN_FLOW_COMPLETED;
	f->blk.n_components = 2;
	f->blk.promoted_total[TORVYN_PROMOTE_SAMPLED] = 100;
	f->blk.promoted_total[TORVYN_PROMOTE_ERROR] = 12;
	f->blk.promoted_total[TORVYN_PROMOTE_LATENCY] = 3;
	set_hist(&f->blk.latency, 9000, 900, 100, 123456789012);

	src = &f->comps[0];
	src->present = true;
	set_hdr(&src->blk.hdr, TORVYN_BLOCK_COMPONENT, 0, 0, "f1", "src");
	src->blk.role = TORVYN_ROLE_SOURCE;
	src->blk.invocations = 20000;
	src->blk.bytes_out = 640000;
	src->blk.memory_current = 4096;
	src->blk.wakeups = 77;
	src->blk.idle_ns = 1500000000;
	set_hist(&src->blk.processing_time, 3, 5, 2, 20000001300);
	src->has_diag = true;
	src->diag.invocations = 20001;
	src->diag.errors = 1;
	set_hist(&src->diag.time, 20000, 1, 0, 2000050);
	src->diag_copies[TORVYN_COPY_PAYLOAD_READ].count = 5;
	src->diag_copies[TORVYN_COPY_PAYLOAD_READ].bytes = 5120;

	sink = &f->comps[1];
	sink->present = true;
	set_hdr(&sink->blk.hdr, TORVYN_BLOCK_COMPONENT, 0, 1, "f1", "sink");
	sink->blk.role = TORVYN_ROLE_SINK;
	sink->blk.invocations = 10000;
	sink->blk.errors = 12;
	sink->blk.bytes_in = 640000;
	sink->blk.fuel_consumed = 7; /* src reports none: no sample */
	sink->blk.wakeups = 5000;
	sink->blk.idle_ns = 42;
	set_hist(&sink->blk.processing_time, 10000, 0, 0, 900000);

	st = &f->streams[0];
	st->present = true;
	set_hdr(&st->blk.hdr, TORVYN_BLOCK_STREAM, 0, 0, "f1", "src->sink");
	st->blk.from_idx = 0;
	st->blk.to_idx = 1;
	st->blk.capacity = 64;
	st->blk.elements_transferred = 10000;
	st->blk.elements_dropped = 5;
	st->blk.backpressure_events = 6;
	st->blk.backpressure_duration_ns = 7000;
	st->blk.current_depth = 3;
	st->blk.peak_depth = 64;
	set_hist(&st->blk.wait_time, 1, 2, 3, 10000000000);
	st->has_diag = true;
	st->diag.enqueues = 10005;
	st->diag.dequeues = 10002;
	st->diag.depth = 3;
	st->diag.peak_depth = 64;
	st->diag.bp_events = 6;
	set_hist(&st->diag.wait, 4, 0, 0, 400);
	set_hist(&st->diag.bp_duration, 0, 6, 0, 6000);

	s->have_pool = true;
	set_hdr(&s->pool.hdr, TORVYN_BLOCK_POOL, 0, 0, "", "pool");
	for (int t = 0; t < TORVYN_TIERS; t++) {
		struct torvyn_pool_tier *pt = &s->pool.tier[t];

		pt->buffer_size = 256ULL << (4 * t);
		pt->capacity = 4096 >> (2 * t);
		pt->available = pt->capacity - 1;
		pt->allocated = 1000 + (uint64_t)t;
		pt->returned = 999 + (uint64_t)t;
		pt->fallback_count = (uint64_t)t;
		pt->exhaustion_events = 10 * (uint64_t)t;
	}
	s->have_sys = true;
	s->sys.flows_active = 1;
	s->sys.components_active = 2;
	s->sys.memory_total = 6291456;
	s->sys.scheduler_wakeups = 5077;
	s->sys.scheduler_idle_ns = 2500000000;
	s->sys.spans_dropped = 11;

	s->has_diag_pool = true;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		s->diag_pool[t].allocs = 500 + (uint64_t)t;
		s->diag_pool[t].returns = 400 + (uint64_t)t;
		s->diag_pool[t].fallbacks = (uint64_t)t;
		s->diag_pool[t].exhaustions = 2 * (uint64_t)t;
	}
	/* hash order, not sorted; component 7 has no block */
	x[0] = (struct tvn_snap_transfer){0, 0, 7, {1, 10}};
	x[1] = (struct tvn_snap_transfer){0, 0, 1, {19998, 1234567}};
	s->n_transfers = 2;
	s->transfers = x;
	return s;
}

void free_snapshot(struct tvn_snapshot *s)
{
	if (!s)
		return;
	free(s->flows);
	free(s->transfers);
	free(s);
}

/* ------------------------------------------------------------ renderings and lines */

char *render(const struct tvn_snapshot *s, bool om)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(tvn_prom__render(s, om, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

void assert_linef(const char *text, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_line(text, line);
}

int count_substr(const char *text, const char *sub)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void find_dirs(const char *argv0, struct dirs *d)
{
	char *slash;

	if (!realpath(argv0, d->out))
		return;
	slash = strrchr(d->out, '/');
	if (slash)
		*slash = '\0'; /* .../build/tests */
	snprintf(d->repo, sizeof(d->repo), "%s", d->out);
	for (int i = 0; i < 2; i++) {
		slash = strrchr(d->repo, '/');
		if (slash)
			*slash = '\0';
	}
}
