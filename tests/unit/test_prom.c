// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unit tests for user/trace/prom.c: Prometheus 0.0.4 and OpenMetrics rendering. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "prom.h"
#include "snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char out_dir[PATH_MAX] = "build/tests"; /* where the test binary lives */
static char repo_dir[PATH_MAX] = ".";

/* Every family of the catalogue, in exposition order, by its OpenMetrics name. */
struct want_fam {
	const char *name;
	const char *type; /* OpenMetrics type */
	const char *unit;
};

static const struct want_fam want_fams[] = {
    {"torvyn_flow_elements", "counter", NULL},
    {"torvyn_flow_elements_errors", "counter", NULL},
    {"torvyn_flow_latency_seconds", "histogram", "seconds"},
    {"torvyn_flow_copies", "counter", NULL},
    {"torvyn_flow_copies_bytes", "counter", "bytes"},
    {"torvyn_flow_transfers", "counter", NULL},
    {"torvyn_flow_transfers_bytes", "counter", "bytes"},
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
    {"torvyn_component_idle_seconds", "counter", "seconds"},
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
    {"torvyn_pool_fallback_count", "counter", NULL},
    {"torvyn_pool_exhaustion_events", "counter", NULL},
    {"torvyn_pool_buffer_size_bytes", "gauge", "bytes"},
    {"torvyn_system_flows_active", "gauge", NULL},
    {"torvyn_system_components_active", "gauge", NULL},
    {"torvyn_system_memory_total_bytes", "gauge", "bytes"},
    {"torvyn_system_scheduler_wakeups", "counter", NULL},
    {"torvyn_system_scheduler_idle_seconds", "counter", "seconds"},
    {"torvyn_system_spans_dropped", "counter", NULL},
    {"torvyn_diagnostic_invocations", "counter", NULL},
    {"torvyn_diagnostic_invocation_errors", "counter", NULL},
    {"torvyn_diagnostic_processing_time_seconds", "histogram", "seconds"},
    {"torvyn_diagnostic_copies", "counter", NULL},
    {"torvyn_diagnostic_copies_bytes", "counter", "bytes"},
    {"torvyn_diagnostic_transfers", "counter", NULL},
    {"torvyn_diagnostic_transfers_bytes", "counter", "bytes"},
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
    {"torvyn_trace_start_time_seconds", "gauge", "seconds"},
    {"torvyn_trace", "info", NULL},
};

#define N_SELF_FAMS 21

/* Independent copy of the bounds as text: 100 ns .. 10 s. */
static const char *const le_text[TORVYN_LAT_BOUNDS] = {
    "1e-07",  "2.5e-07", "5e-07",  "1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05", "5e-05",
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025",  "0.005", "0.01",	 "0.025",   "0.05",
    "0.1",    "0.25",	 "0.5",	   "1",	    "2.5",     "5",	"10",
};

/* ------------------------------------------------------------ stand-ins */

/* -Wl,--wrap=realloc (UNIT_LIBS_prom): fail the Nth call from now on, 0 never. */
static int realloc_fail_at;
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
	if (realloc_fail_at > 0 && --realloc_fail_at == 0)
		return NULL;
	return __real_realloc(p, n);
}

/* ------------------------------------------------------------ fixtures */

static void set_name(char dst[TORVYN_NAME_LEN], const char *src)
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

static uint64_t hist_bucket_sum(const struct torvyn_hist_lat *h)
{
	uint64_t n = 0;

	for (int i = 0; i < TORVYN_LAT_BUCKETS; i++)
		n += h->bucket[i];
	return n;
}

static struct snap_transfer sample_xfers[2];

/*
 * The hand-built snapshot: flow "f1" (src -> sink through stream "src->sink"),
 * pool, system, diagnostic entries and tracer figures, all with known values.
 */
static struct snapshot *sample_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct snap_flow *f = calloc(1, sizeof(*f));
	struct snap_comp *src, *sink;
	struct snap_stream *st;

	assert_non_null(s);
	assert_non_null(f);
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
	s->spans_dropped = 8;
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
	sink->blk.fuel_consumed = 0;
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
	sample_xfers[0] = (struct snap_transfer){0, 0, 7, {1, 10}};
	sample_xfers[1] = (struct snap_transfer){0, 0, 1, {19998, 1234567}};
	s->n_transfers = 2;
	s->transfers = sample_xfers;
	return s;
}

static void free_snapshot(struct snapshot *s)
{
	if (!s)
		return;
	free(s->flows);
	free(s);
}

/* ------------------------------------------------------------ helpers */

static char *render(const struct snapshot *s, bool om)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(prom__render(s, om, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/* True when text has exactly this line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, line)                                                                    \
	do {                                                                                       \
		if (!has_line((text), (line)))                                                     \
			fail_msg("missing line: %s", (line));                                      \
	} while (0)

#define assert_no_line(text, line)                                                                 \
	do {                                                                                       \
		if (has_line((text), (line)))                                                      \
			fail_msg("unexpected line: %s", (line));                                   \
	} while (0)

static void assert_linef(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void assert_linef(const char *text, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_line(text, line);
}

static int count_substr(const char *text, const char *sub)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, sub)); p += strlen(sub))
		n++;
	return n;
}

/* ------------------------------------------------------------ exposition checker */

#define MAX_FAMS 128

struct pfam {
	char name[128];
	char type[16];
	bool help, typed, unit, closed;
};

struct parsed {
	int n;
	struct pfam f[MAX_FAMS];
	char err[512];
};

static struct pfam *pfam_get(struct parsed *p, const char *name, size_t n, bool add)
{
	for (int i = 0; i < p->n; i++)
		if (strlen(p->f[i].name) == n && !strncmp(p->f[i].name, name, n))
			return &p->f[i];
	if (!add || p->n == MAX_FAMS || n >= sizeof(p->f[0].name))
		return NULL;
	memset(&p->f[p->n], 0, sizeof(p->f[0]));
	memcpy(p->f[p->n].name, name, n);
	return &p->f[p->n++];
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !strncmp(s + n - k, suffix, k);
}

/* The declared family a sample name belongs to. */
static struct pfam *family_of(struct parsed *p, const char *name, size_t n, bool om)
{
	static const char *const hist_sfx[] = {"_bucket", "_sum", "_count"};
	struct pfam *f = pfam_get(p, name, n, false);

	if (f && strcmp(f->type, "histogram") && (!om || strcmp(f->type, "counter")) &&
	    strcmp(f->type, "info"))
		return f;
	for (size_t i = 0; i < ARRAY_SIZE(hist_sfx); i++) {
		if (!ends_with(name, n, hist_sfx[i]))
			continue;
		f = pfam_get(p, name, n - strlen(hist_sfx[i]), false);
		if (f && !strcmp(f->type, "histogram"))
			return f;
	}
	if (om && ends_with(name, n, "_total")) {
		f = pfam_get(p, name, n - 6, false);
		if (f && !strcmp(f->type, "counter"))
			return f;
	}
	if (om && ends_with(name, n, "_info")) {
		f = pfam_get(p, name, n - 5, false);
		if (f && !strcmp(f->type, "info"))
			return f;
	}
	return NULL;
}

/* {k="v",...} value: label syntax with escapes, and a number. */
static bool sample_ok(const char *p, const char *end)
{
	char num[64];
	char *nend;

	if (*p == '{') {
		p++;
		while (p < end && *p != '}') {
			while (p < end && (*p == '_' || (*p >= 'a' && *p <= 'z') ||
					   (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
				p++;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return false;
			for (p += 2; p < end && *p != '"'; p++)
				if (*p == '\\' &&
				    (++p >= end || (*p != '\\' && *p != '"' && *p != 'n')))
					return false;
			if (p >= end)
				return false;
			p++;
			if (p < end && *p == ',')
				p++;
		}
		if (p >= end)
			return false;
		p++;
	}
	if (p >= end || *p != ' ' || (size_t)(end - p - 1) >= sizeof(num) || end - p < 2)
		return false;
	memcpy(num, p + 1, (size_t)(end - p - 1));
	num[end - p - 1] = '\0';
	if (!strcmp(num, "+Inf") || !strcmp(num, "-Inf") || !strcmp(num, "NaN"))
		return true;
	strtod(num, &nend);
	return *nend == '\0';
}

/*
 * Checks what a scraper relies on: every sample's family has HELP and TYPE
 * before it, families are contiguous, counters carry _total exactly once
 * (on the 0.0.4 TYPE and on every OpenMetrics sample), UNIT is a suffix of
 * its family, and OpenMetrics ends with "# EOF". Returns 0 or -1 with p->err.
 */
static int check_exposition(const char *text, bool om, struct parsed *p)
{
	struct pfam *cur = NULL;
	bool eof = false;

	memset(p, 0, sizeof(*p));
#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(p->err, sizeof(p->err), __VA_ARGS__);                                     \
		return -1;                                                                         \
	} while (0)
	if (!*text || text[strlen(text) - 1] != '\n')
		BAD("does not end in a newline");
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		int ll = (int)(end - l);

		if (eof)
			BAD("text after # EOF: %.*s", ll, l);
		if (ll == 5 && !strncmp(l, "# EOF", 5)) {
			if (!om)
				BAD("# EOF in 0.0.4 text");
			eof = true;
		} else if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7) ||
			   !strncmp(l, "# UNIT ", 7)) {
			const char *name = l + 7, *sp = memchr(name, ' ', (size_t)(end - name));
			struct pfam *f;

			if (!sp)
				BAD("metadata without text: %.*s", ll, l);
			f = pfam_get(p, name, (size_t)(sp - name), true);
			if (!f)
				BAD("too many families");
			if (f->closed || (cur && cur != f && (f->help || f->typed)))
				BAD("family %s is not contiguous", f->name);
			if (cur && cur != f)
				cur->closed = true;
			cur = f;
			if (l[2] == 'H') {
				if (f->help)
					BAD("second HELP for %s", f->name);
				f->help = true;
			} else if (l[2] == 'T') {
				size_t tl = (size_t)(end - sp - 1);

				if (f->typed)
					BAD("second TYPE for %s", f->name);
				if (tl >= sizeof(f->type))
					BAD("bad type: %.*s", ll, l);
				memcpy(f->type, sp + 1, tl);
				f->typed = true;
				if (!strcmp(f->type, "counter") &&
				    om == ends_with(f->name, strlen(f->name), "_total"))
					BAD("counter %s: _total %s", f->name,
					    om ? "in OM" : "missing");
				if (!om && count_substr(f->name, "_total") > 1)
					BAD("counter %s: _total twice", f->name);
			} else {
				char u[32];

				if (!om)
					BAD("UNIT in 0.0.4 text");
				snprintf(u, sizeof(u), "_%.*s", (int)(end - sp - 1), sp + 1);
				if (!ends_with(f->name, strlen(f->name), u))
					BAD("family %s does not end in unit %s", f->name, u);
				f->unit = true;
			}
		} else if (l[0] == '#') {
			BAD("unknown comment: %.*s", ll, l);
		} else {
			const char *ne = l;
			struct pfam *f;

			while (ne < end && *ne != '{' && *ne != ' ')
				ne++;
			f = family_of(p, l, (size_t)(ne - l), om);
			if (!f)
				BAD("sample of an undeclared family: %.*s", ll, l);
			if (!f->help || !f->typed)
				BAD("sample before HELP and TYPE: %.*s", ll, l);
			if (f != cur)
				BAD("sample outside its family block: %.*s", ll, l);
			if (!strcmp(f->type, "counter")) {
				char name[160];

				snprintf(name, sizeof(name), "%.*s", (int)(ne - l), l);
				if (count_substr(name, "_total") != 1 ||
				    !ends_with(name, strlen(name), "_total"))
					BAD("counter sample without exactly one _total: %.*s", ll,
					    l);
			}
			if (strcmp(f->type, "counter") && ends_with(l, (size_t)(ne - l), "_total"))
				BAD("non-counter sample ends in _total: %.*s", ll, l);
			if (!sample_ok(ne, end))
				BAD("malformed sample: %.*s", ll, l);
		}
		l = end + 1;
	}
	if (om && !eof)
		BAD("no # EOF");
	for (int i = 0; i < p->n; i++)
		if (!p->f[i].help || !p->f[i].typed)
			BAD("family %s lacks HELP or TYPE", p->f[i].name);
#undef BAD
	return 0;
}

static void assert_valid(const char *text, bool om)
{
	struct parsed *p = malloc(sizeof(*p));

	assert_non_null(p);
	if (check_exposition(text, om, p))
		fail_msg("%s exposition: %s", om ? "OpenMetrics" : "0.0.4", p->err);
	free(p);
}

/* ------------------------------------------------------------ tests */

static void test_content_type(void **state)
{
	(void)state;
	assert_string_equal(prom__content_type(false), "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(prom__content_type(true),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static void test_accept(void **state)
{
	static const struct {
		const char *accept;
		bool om;
	} cases[] = {
	    {"", false},
	    {"*/*", false},
	    {"text/plain", false},
	    {"text/plain;version=0.0.4", false},
	    {"application/json", false},
	    {"application/openmetrics-text", true},
	    {"application/openmetrics-text; version=1.0.0; charset=utf-8", true},
	    {"application/openmetrics-text;version=0.0.1", true},
	    {"APPLICATION/OpenMetrics-Text", true},
	    {" application/openmetrics-text ;q=0.5", true},
	    {"application/openmetrics-text;q=0", false},
	    {"application/openmetrics-text; version=1.0.0; q=0.000", false},
	    {"application/openmetrics-text;Q=0", false},
	    {"application/openmetrics-text;version=1.0.0;q=0,*/*", false},
	    {"application/openmetrics-text;q=0.001", true},
	    {"application/openmetrics-text;q=1.000", true},
	    {"application/openmetrics-text;q=1.5", false},
	    {"application/openmetrics-text;q=abc", false},
	    {"application/openmetrics-textual", false},
	    {"application/openmetrics", false},
	    {"application/json, application/openmetrics-text;q=0.1", true},
	    /* Prometheus 2.x and 3.x scrapers */
	    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
	     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	     true},
	    {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
	     "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
	     "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
	     true},
	    /* text preferred */
	    {"text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5", false},
	    {"*/*, application/openmetrics-text;q=0.9", false},
	    /* equal q: the first listed wins */
	    {"text/plain, application/openmetrics-text", false},
	    {"application/openmetrics-text, text/plain", true},
	    {"application/openmetrics-text;q=0.5, text/plain;q=0.5", true},
	    {"text/plain;q=0, application/openmetrics-text;q=0.1", true},
	    {",,application/openmetrics-text,", true},
	};

	(void)state;
	assert_false(prom__wants_openmetrics(NULL));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (prom__wants_openmetrics(cases[i].accept) != cases[i].om)
			fail_msg("Accept \"%s\": want %s", cases[i].accept,
				 cases[i].om ? "OpenMetrics" : "text");
}

static void test_render_args(void **state)
{
	struct snapshot s = {0};
	char *buf = (char *)&s;
	size_t len = 1;

	(void)state;
	assert_int_equal(prom__render(NULL, false, &buf, &len), -EINVAL);
	assert_int_equal(prom__render(&s, false, NULL, &len), -EINVAL);
	assert_int_equal(prom__render(&s, false, &buf, NULL), -EINVAL);
}

static struct snapshot *big_snapshot(void);
static void free_big_snapshot(struct snapshot *s);

/* Out of memory at the first allocation and while growing: -ENOMEM, nothing returned. */
static void test_render_enomem(void **state)
{
	struct snapshot *s = big_snapshot();
	char *buf = (char *)s;
	size_t len = 1;
	int rc;

	(void)state;
	for (int at = 1; at <= 4; at++) {
		realloc_fail_at = at;
		rc = prom__render(s, at % 2, &buf, &len);
		if (realloc_fail_at != 0) {
			realloc_fail_at = 0;
			fail_msg("realloc call %d never came", at);
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(buf);
		assert_int_equal(len, 0);
	}
	assert_int_equal(prom__render(s, false, &buf, &len), 0);
	free(buf);
	free_big_snapshot(s);
}

static void test_host_block_lines(void **state)
{
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false);

	(void)state;
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"f1\"} 10000");
	assert_line(t, "torvyn_flow_elements_errors_total{flow_id=\"f1\"} 12");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"MetadataMarshal\"} 1");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"PayloadRead\"} 2");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"PayloadWrite\"} 3");
	assert_line(t, "torvyn_flow_copies_total{flow_id=\"f1\",reason=\"HostSerialize\"} 4");
	assert_line(t,
		    "torvyn_flow_copies_bytes_total{flow_id=\"f1\",reason=\"HostSerialize\"} 400");
	assert_line(t, "torvyn_flow_transfers_total{flow_id=\"f1\"} 19998");
	assert_line(t, "torvyn_flow_transfers_bytes_total{flow_id=\"f1\"} 1234567");
	assert_line(t, "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} 2.500000001");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"sampled\"} 100");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"error\"} 12");
	assert_line(t, "torvyn_flow_traces_promoted_total{flow_id=\"f1\",reason=\"latency\"} 3");
	assert_line(t, "torvyn_flow_latency_seconds_sum{flow_id=\"f1\"} 123.456789012");

	assert_line(
	    t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20000");
	assert_line(
	    t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"sink\"} 10000");
	assert_line(t, "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"src\"} 0");
	assert_line(t, "torvyn_component_errors_total{flow_id=\"f1\",component_id=\"sink\"} 12");
	assert_line(t,
		    "torvyn_component_fuel_consumed_total{flow_id=\"f1\",component_id=\"sink\"} 0");
	assert_line(
	    t, "torvyn_component_memory_current_bytes{flow_id=\"f1\",component_id=\"src\"} 4096");
	assert_line(
	    t, "torvyn_component_input_bytes_total{flow_id=\"f1\",component_id=\"sink\"} 640000");
	assert_line(
	    t, "torvyn_component_output_bytes_total{flow_id=\"f1\",component_id=\"src\"} 640000");
	assert_line(t, "torvyn_component_wakeups_total{flow_id=\"f1\",component_id=\"sink\"} 5000");
	assert_line(
	    t,
	    "torvyn_component_idle_seconds_total{flow_id=\"f1\",component_id=\"src\"} 1.500000000");
	assert_line(t, "torvyn_component_idle_seconds_total{flow_id=\"f1\",component_id=\"sink\"} "
		       "0.000000042");

	assert_line(t, "torvyn_stream_elements_transferred_total{flow_id=\"f1\",stream_id=\"src->"
		       "sink\"} 10000");
	assert_line(
	    t, "torvyn_stream_elements_dropped_total{flow_id=\"f1\",stream_id=\"src->sink\"} 5");
	assert_line(
	    t, "torvyn_stream_backpressure_events_total{flow_id=\"f1\",stream_id=\"src->sink\"} 6");
	assert_line(t, "torvyn_stream_backpressure_duration_seconds_total{flow_id=\"f1\",stream_id="
		       "\"src->sink\"} 0.000007000");
	assert_line(t,
		    "torvyn_stream_queue_current_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 3");
	assert_line(t, "torvyn_stream_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_stream_queue_capacity{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_stream_queue_wait_time_seconds_sum{flow_id=\"f1\",stream_id=\"src->"
		       "sink\"} 10.000000000");
	assert_line(t, "torvyn_stream_queue_wait_time_seconds_count{flow_id=\"f1\",stream_id=\"src-"
		       ">sink\"} 6");

	assert_line(t, "torvyn_pool_capacity{tier=\"Small\"} 4096");
	assert_line(t, "torvyn_pool_capacity{tier=\"Huge\"} 64");
	assert_line(t, "torvyn_pool_available{tier=\"Medium\"} 1023");
	assert_line(t, "torvyn_pool_allocated_total{tier=\"Large\"} 1002");
	assert_line(t, "torvyn_pool_returned_total{tier=\"Small\"} 999");
	assert_line(t, "torvyn_pool_fallback_count_total{tier=\"Huge\"} 3");
	assert_line(t, "torvyn_pool_exhaustion_events_total{tier=\"Large\"} 20");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Small\"} 256");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Medium\"} 4096");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Large\"} 65536");
	assert_line(t, "torvyn_pool_buffer_size_bytes{tier=\"Huge\"} 1048576");

	assert_line(t, "torvyn_system_flows_active 1");
	assert_line(t, "torvyn_system_components_active 2");
	assert_line(t, "torvyn_system_memory_total_bytes 6291456");
	assert_line(t, "torvyn_system_scheduler_wakeups_total 5077");
	assert_line(t, "torvyn_system_scheduler_idle_seconds_total 2.500000000");
	assert_line(t, "torvyn_system_spans_dropped_total 11");
	free(t);
	free_snapshot(s);
}

/* Component order within a family: flow index, then component index. */
static void test_sample_order(void **state)
{
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false);
	const char *src, *sink, *x1, *x7;

	(void)state;
	src = strstr(t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"src\"}");
	sink =
	    strstr(t, "torvyn_component_invocations_total{flow_id=\"f1\",component_id=\"sink\"}");
	assert_non_null(src);
	assert_non_null(sink);
	assert_true(src < sink);
	/* transfers are sorted though given in hash order */
	x1 = strstr(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"sink\"}");
	x7 = strstr(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"7\"}");
	assert_non_null(x1);
	assert_non_null(x7);
	assert_true(x1 < x7);
	free(t);
	free_snapshot(s);
}

/* Buckets at and around the bounds: per-bucket 3 at 100 ns, 5 at 1 us, 2 above 10 s. */
static void check_hist(const char *t, const char *fam, const char *labels, bool om)
{
	uint64_t want;

	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		const char *le = le_text[i];

		if (om && (!strcmp(le, "1") || !strcmp(le, "5") || !strcmp(le, "10")))
			le = !strcmp(le, "1") ? "1.0" : !strcmp(le, "5") ? "5.0" : "10.0";
		want = i < 3 ? 3 : 8;
		assert_linef(t, "%s_bucket{%s,le=\"%s\"} %llu", fam, labels, le,
			     (unsigned long long)want);
	}
	assert_linef(t, "%s_bucket{%s,le=\"+Inf\"} 10", fam, labels);
	assert_linef(t, "%s_sum{%s} 20.000001300", fam, labels);
	assert_linef(t, "%s_count{%s} 10", fam, labels);
	/* 25 finite bounds and +Inf, nothing else */
	{
		char pfx[256];

		snprintf(pfx, sizeof(pfx), "%s_bucket{%s,", fam, labels);
		assert_int_equal(count_substr(t, pfx), TORVYN_LAT_BUCKETS);
	}
}

static void test_histogram_cumulative(void **state)
{
	struct snapshot *s = sample_snapshot();
	const struct torvyn_hist_lat *h = &s->flows[0].comps[0].blk.processing_time;
	char *t, *om;

	(void)state;
	/* the input is consistent: count is the sum of the buckets */
	assert_int_equal(h->count, hist_bucket_sum(h));
	assert_int_equal(h->count, 10);
	t = render(s, false);
	om = render(s, true);
	check_hist(t, "torvyn_component_processing_time_seconds",
		   "flow_id=\"f1\",component_id=\"src\"", false);
	check_hist(om, "torvyn_component_processing_time_seconds",
		   "flow_id=\"f1\",component_id=\"src\"", true);
	/* the first bucket's upper bound is inclusive of exactly 100 ns: 1e-07 */
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"sink\",le=\"1e-07\"} 10000");
	/* _count equals +Inf on every histogram of the sample */
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"+Inf\"} 10000");
	assert_line(t, "torvyn_flow_latency_seconds_count{flow_id=\"f1\"} 10000");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"5e-07\"} 9000");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"1e-06\"} 9900");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10\"} 9900");
	free(t);
	free(om);
	free_snapshot(s);
}

/* A block read mid-update: count behind the buckets. Buckets stay monotonic. */
static void test_histogram_torn(void **state)
{
	struct snapshot *s = sample_snapshot();
	struct torvyn_hist_lat *h = &s->flows[0].comps[0].blk.processing_time;
	char *t;

	(void)state;
	h->count = 5; /* buckets say 8 finite + 2 */
	t = render(s, false);
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"10\"} 8");
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"+Inf\"} 8");
	assert_line(t, "torvyn_component_processing_time_seconds_count{flow_id=\"f1\","
		       "component_id=\"src\"} 8");
	free(t);
	h->count = 12; /* count ahead of the buckets */
	t = render(s, false);
	assert_line(t, "torvyn_component_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"+Inf\"} 12");
	assert_line(t, "torvyn_component_processing_time_seconds_count{flow_id=\"f1\","
		       "component_id=\"src\"} 12");
	free(t);
	free_snapshot(s);
}

static void test_flow_state(void **state)
{
	static const char *const states[] = {"Created",	 "Validated", "Instantiated", "Running",
					     "Draining", "Completed", "Cancelled",    "Failed"};
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		int v = i == TORVYN_FLOW_COMPLETED;

		assert_linef(t, "torvyn_flow_state{flow_id=\"f1\",state=\"%s\"} %d", states[i], v);
		assert_linef(om, "torvyn_flow_state{flow_id=\"f1\",torvyn_flow_state=\"%s\"} %d",
			     states[i], v);
	}
	assert_line(t, "# TYPE torvyn_flow_state gauge");
	assert_line(om, "# TYPE torvyn_flow_state stateset");
	free(t);
	free(om);
	free_snapshot(s);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A running flow's duration is measured to now, on CLOCK_MONOTONIC as the host. */
static void test_active_duration_running(void **state)
{
	struct snapshot *s = sample_snapshot();
	const char *key = "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} ";
	uint64_t before, after, secs, frac, got;
	char *t, *p, *end;

	(void)state;
	before = mono_ns();
	s->flows[0].blk.start_ns = before - 5000000000ULL;
	s->flows[0].blk.end_ns = 0;
	s->flows[0].blk.state = TORVYN_FLOW_RUNNING;
	t = render(s, false);
	after = mono_ns();
	p = strstr(t, key);
	assert_non_null(p);
	p += strlen(key);
	secs = strtoull(p, &end, 10);
	assert_int_equal(*end, '.');
	frac = strtoull(end + 1, &p, 10);
	assert_int_equal(p - end - 1, 9);
	got = secs * 1000000000ULL + frac;
	assert_true(got >= 5000000000ULL);
	assert_true(got <= after - s->flows[0].blk.start_ns);
	free(t);

	s->flows[0].blk.start_ns = 0; /* never ran */
	t = render(s, false);
	assert_line(t, "torvyn_flow_active_duration_seconds{flow_id=\"f1\"} 0.000000000");
	free(t);
	free_snapshot(s);
}

static void test_diagnostic_lines(void **state)
{
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false);

	(void)state;
	assert_line(
	    t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20001");
	assert_line(
	    t, "torvyn_diagnostic_invocation_errors_total{flow_id=\"f1\",component_id=\"src\"} 1");
	assert_line(t, "torvyn_diagnostic_processing_time_seconds_bucket{flow_id=\"f1\","
		       "component_id=\"src\",le=\"1e-06\"} 20001");
	assert_line(t, "torvyn_diagnostic_processing_time_seconds_sum{flow_id=\"f1\","
		       "component_id=\"src\"} 0.002000050");
	/* sink has no diagnostic entry */
	assert_null(
	    strstr(t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"sink\"}"));
	/* only the reasons that happened */
	assert_line(t, "torvyn_diagnostic_copies_total{flow_id=\"f1\",component_id=\"src\","
		       "reason=\"PayloadRead\"} 5");
	assert_line(t, "torvyn_diagnostic_copies_bytes_total{flow_id=\"f1\",component_id=\"src\","
		       "reason=\"PayloadRead\"} 5120");
	assert_int_equal(count_substr(t, "torvyn_diagnostic_copies_total{"), 1);
	assert_int_equal(count_substr(t, "torvyn_diagnostic_copies_bytes_total{"), 1);
	/* transfers: names from the component blocks, index when absent */
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"sink\"} 19998");
	assert_line(t, "torvyn_diagnostic_transfers_bytes_total{flow_id=\"f1\","
		       "from_component=\"src\",to_component=\"sink\"} 1234567");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"7\"} 1");
	assert_line(
	    t,
	    "torvyn_diagnostic_queue_enqueues_total{flow_id=\"f1\",stream_id=\"src->sink\"} 10005");
	assert_line(
	    t,
	    "torvyn_diagnostic_queue_dequeues_total{flow_id=\"f1\",stream_id=\"src->sink\"} 10002");
	assert_line(t, "torvyn_diagnostic_queue_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 3");
	assert_line(
	    t, "torvyn_diagnostic_queue_peak_depth{flow_id=\"f1\",stream_id=\"src->sink\"} 64");
	assert_line(t, "torvyn_diagnostic_queue_wait_time_seconds_count{flow_id=\"f1\",stream_id="
		       "\"src->sink\"} 4");
	assert_line(t, "torvyn_diagnostic_backpressure_events_total{flow_id=\"f1\",stream_id=\"src-"
		       ">sink\"} 6");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_bucket{flow_id=\"f1\","
		       "stream_id=\"src->sink\",le=\"5e-07\"} 0");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_bucket{flow_id=\"f1\","
		       "stream_id=\"src->sink\",le=\"1e-06\"} 6");
	assert_line(t, "torvyn_diagnostic_backpressure_duration_seconds_sum{flow_id=\"f1\","
		       "stream_id=\"src->sink\"} 0.000006000");
	assert_line(t, "torvyn_diagnostic_pool_allocations_total{tier=\"Small\"} 500");
	assert_line(t, "torvyn_diagnostic_pool_returns_total{tier=\"Medium\"} 401");
	assert_line(t, "torvyn_diagnostic_pool_fallbacks_total{tier=\"Large\"} 2");
	assert_line(t, "torvyn_diagnostic_pool_exhaustions_total{tier=\"Huge\"} 6");
	free(t);
	free_snapshot(s);
}

/* Diagnostic entries whose blocks were never received: names fall back. */
static void test_diagnostic_without_blocks(void **state)
{
	struct snapshot *s = sample_snapshot();
	struct snap_flow *f = &s->flows[0];
	char *t;

	(void)state;
	f->present = false;
	f->comps[1].present = false;
	t = render(s, false);
	/* the flow's name comes from its component block */
	assert_line(
	    t, "torvyn_diagnostic_invocations_total{flow_id=\"f1\",component_id=\"src\"} 20001");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"f1\",from_component=\"src\","
		       "to_component=\"1\"} 19998");
	assert_null(strstr(t, "torvyn_flow_"));
	free(t);

	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++)
		f->comps[i].present = false;
	f->streams[0].present = false;
	s->transfers[0].flow_idx = 9; /* beyond n_flows */
	t = render(s, false);
	assert_line(t,
		    "torvyn_diagnostic_invocations_total{flow_id=\"0\",component_id=\"0\"} 20001");
	assert_line(t, "torvyn_diagnostic_queue_depth{flow_id=\"0\",stream_id=\"0\"} 3");
	assert_line(t, "torvyn_diagnostic_transfers_total{flow_id=\"9\",from_component=\"0\","
		       "to_component=\"7\"} 1");
	assert_null(strstr(t, "torvyn_component_"));
	assert_null(strstr(t, "torvyn_stream_"));
	assert_valid(t, false);
	free(t);
	free_snapshot(s);
}

static void test_self_metrics(void **state)
{
	static const char *const probes[TVN_P_COUNT] = {
	    "abi__version",
	    "gate__production",
	    "gate__diagnostic",
	    "flow__start",
	    "flow__end",
	    "component__invoke",
	    "buffer__copy",
	    "buffer__transfer",
	    "backpressure__activate",
	    "backpressure__deactivate",
	    "queue__enqueue",
	    "queue__dequeue",
	    "pool__alloc",
	    "pool__return",
	    "pool__fallback",
	    "pool__exhausted",
	    "metrics__flush",
	    "trace__promote",
	    "element__done",
	};
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);
	const char *prev = t;

	(void)state;
	assert_line(t, "torvyn_trace_level 2");
	assert_line(t, "torvyn_trace_target_up 1");
	assert_line(t, "torvyn_trace_probes_attached 17");
	assert_line(t, "torvyn_trace_events_lost_total 3");
	for (int i = 0; i < TVN_P_COUNT; i++) {
		char line[128];
		const char *at;

		snprintf(line, sizeof(line), "torvyn_trace_probe_hits_total{probe=\"%s\"} %d",
			 probes[i], 100 + i);
		assert_line(t, line);
		at = strstr(t, line);
		assert_true(at > prev); /* enum order */
		prev = at;
	}
	assert_int_equal(count_substr(t, "torvyn_trace_probe_hits_total{"), TVN_P_COUNT);
	assert_line(t, "torvyn_trace_map_update_failures_total 4");
	assert_line(t, "torvyn_trace_user_read_failures_total 5");
	assert_line(t, "torvyn_trace_blocks_received_total 600");
	assert_line(t, "torvyn_trace_traces_received_total 7");
	assert_line(t, "torvyn_trace_spans_dropped_total 8");
	assert_line(t, "torvyn_trace_level_switches_total 2");
	assert_line(t, "torvyn_trace_scrapes_total 9");
	assert_line(t, "torvyn_trace_start_time_seconds 1700000000.25");
	assert_line(t, "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1");
	assert_line(t, "# TYPE torvyn_trace_info gauge");
	assert_line(om, "# TYPE torvyn_trace info");
	assert_line(om, "torvyn_trace_info{pid=\"4242\",exe=\"/usr/bin/torvyn-host\"} 1");
	free(t);
	free(om);
	free_snapshot(s);
}

static void test_label_escaping(void **state)
{
	struct snapshot *s = sample_snapshot();
	struct snap_flow *f = &s->flows[0];
	char *t;

	(void)state;
	set_name(f->blk.hdr.flow_name, "a\"b\\c\nd");
	/* 48 bytes, no NUL: the label stops at the field's end */
	memset(f->comps[0].blk.hdr.name, 'x', TORVYN_NAME_LEN);
	set_name(f->comps[1].blk.hdr.name, "bad\xff\xc3(utf8\xc3\xa9");
	strcpy(s->target_exe, "/opt/my \"host\"\\bin");
	/* overlong, surrogate, above U+10FFFF, then a valid 4-byte sequence */
	set_name(f->streams[0].blk.hdr.name,
		 "s\xe0\x80\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xf0\x9f\x98\x80");
	t = render(s, false);
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"a\\\"b\\\\c\\nd\"} 10000");
	assert_linef(t,
		     "torvyn_component_invocations_total{flow_id=\"a\\\"b\\\\c\\nd\","
		     "component_id=\"%.48s\"} 20000",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_line(t, "torvyn_component_invocations_total{flow_id=\"a\\\"b\\\\c\\nd\","
		       "component_id=\"bad\xef\xbf\xbd\xef\xbf\xbd(utf8\xc3\xa9\"} 10000");
	assert_line(t, "torvyn_trace_info{pid=\"4242\",exe=\"/opt/my \\\"host\\\"\\\\bin\"} 1");
#define FFFD "\xef\xbf\xbd"
	assert_line(
	    t,
	    "torvyn_stream_queue_capacity{flow_id=\"a\\\"b\\\\c\\nd\",stream_id=\"s" FFFD FFFD FFFD
	    "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|\xf0\x9f\x98\x80\"} 64");
#undef FFFD
	assert_valid(t, false);
	free(t);

	set_name(f->blk.hdr.flow_name, ""); /* unnamed: the index */
	t = render(s, false);
	assert_line(t, "torvyn_flow_elements_total{flow_id=\"0\"} 10000");
	free(t);
	free_snapshot(s);
}

static void test_absent_families(void **state)
{
	struct snapshot s = {0};
	struct parsed *p = malloc(sizeof(*p));
	char *t;

	(void)state;
	assert_non_null(p);
	t = render(&s, false);
	assert_null(strstr(t, "torvyn_flow_"));
	assert_null(strstr(t, "torvyn_component_"));
	assert_null(strstr(t, "torvyn_stream_"));
	assert_null(strstr(t, "torvyn_pool_"));
	assert_null(strstr(t, "torvyn_system_"));
	assert_null(strstr(t, "torvyn_diagnostic_"));
	assert_int_equal(check_exposition(t, false, p), 0);
	assert_int_equal(p->n, N_SELF_FAMS); /* self-metrics always */
	assert_line(t, "torvyn_trace_level 0");
	free(t);

	/* blocks but no diagnostic data, no pool, no system */
	{
		struct snapshot *full = sample_snapshot();

		full->have_pool = full->have_sys = full->has_diag_pool = false;
		full->flows[0].comps[0].has_diag = false;
		full->flows[0].comps[0].diag_copies[TORVYN_COPY_PAYLOAD_READ].count = 0;
		full->flows[0].streams[0].has_diag = false;
		full->n_transfers = 0;
		t = render(full, false);
		assert_null(strstr(t, "torvyn_pool_"));
		assert_null(strstr(t, "torvyn_system_"));
		assert_null(strstr(t, "torvyn_diagnostic_"));
		assert_non_null(strstr(t, "# HELP torvyn_component_invocations_total "));
		free(t);
		/* a flow without component or stream blocks */
		memset(full->flows[0].comps, 0, sizeof(full->flows[0].comps));
		memset(full->flows[0].streams, 0, sizeof(full->flows[0].streams));
		t = render(full, true);
		assert_null(strstr(t, "torvyn_component_"));
		assert_null(strstr(t, "torvyn_stream_"));
		assert_non_null(strstr(t, "# TYPE torvyn_flow_elements counter\n"));
		free(t);
		free_snapshot(full);
	}
	free(p);
}

/* Every family of the catalogue, in order, typed as specified, in both formats. */
static void test_family_catalogue(void **state)
{
	struct snapshot *s = sample_snapshot();
	struct parsed *p = malloc(sizeof(*p));
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	assert_non_null(p);
	assert_int_equal(check_exposition(om, true, p), 0);
	assert_int_equal(p->n, ARRAY_SIZE(want_fams));
	for (size_t i = 0; i < ARRAY_SIZE(want_fams); i++) {
		const struct want_fam *w = &want_fams[i];

		assert_string_equal(p->f[i].name, w->name);
		assert_string_equal(p->f[i].type, w->type);
		assert_int_equal(p->f[i].unit, w->unit != NULL);
		if (w->unit)
			assert_linef(om, "# UNIT %s %s", w->name, w->unit);
	}
	assert_int_equal(check_exposition(t, false, p), 0);
	assert_int_equal(p->n, ARRAY_SIZE(want_fams));
	for (size_t i = 0; i < ARRAY_SIZE(want_fams); i++) {
		const struct want_fam *w = &want_fams[i];
		const char *type =
		    !strcmp(w->type, "stateset") || !strcmp(w->type, "info") ? "gauge" : w->type;
		char name[128];

		snprintf(name, sizeof(name), "%s%s", w->name,
			 !strcmp(w->type, "counter") ? "_total"
			 : !strcmp(w->type, "info")  ? "_info"
						     : "");
		assert_string_equal(p->f[i].name, name);
		assert_string_equal(p->f[i].type, type);
	}
	free(p);
	free(t);
	free(om);
	free_snapshot(s);
}

/* Counters: _total exactly once on every sample; declared without it in OpenMetrics. */
static void test_counter_total(void **state)
{
	struct snapshot *s = sample_snapshot();
	char *t = render(s, false), *om = render(s, true);

	(void)state;
	assert_valid(t, false);
	assert_valid(om, true);
	assert_null(strstr(t, "_total_total"));
	assert_null(strstr(om, "_total_total"));
	assert_line(t, "# TYPE torvyn_flow_elements_total counter");
	assert_line(om, "# TYPE torvyn_flow_elements counter");
	assert_line(om, "# TYPE torvyn_pool_fallback_count counter");
	assert_line(om, "torvyn_flow_elements_total{flow_id=\"f1\"} 10000");
	assert_no_line(om, "# TYPE torvyn_flow_elements_total counter");
	for (size_t i = 0; i < ARRAY_SIZE(want_fams); i++) {
		char line[160];

		if (strcmp(want_fams[i].type, "counter"))
			continue;
		snprintf(line, sizeof(line), "# TYPE %s_total counter", want_fams[i].name);
		assert_line(t, line);
		assert_no_line(om, line);
	}
	free(t);
	free(om);
	free_snapshot(s);
}

/* The checker itself catches what it is meant to. */
static void test_checker_rejects(void **state)
{
	static const struct {
		const char *text;
		bool om;
	} bad[] = {
	    {"a_total 1\n", false},
	    {"# HELP a_total x\na_total 1\n", false},
	    {"# TYPE a_total counter\na_total 1\n", false},
	    {"# HELP a x\n# TYPE a counter\na 1\n", false},
	    {"# HELP a_total x\n# TYPE a_total counter\na_total 1\n", true},
	    {"# HELP a x\n# TYPE a counter\na_total 1\n", true},
	    {"# HELP g x\n# TYPE g gauge\ng_total 1\n", false},
	    {"# HELP g x\n# TYPE g gauge\ng{l=\"a\\x\"} 1\n", false},
	    {"# HELP g x\n# TYPE g gauge\ng 1\n# HELP h x\n# TYPE h gauge\nh 1\ng 2\n", false},
	    {"# TYPE g_bytes gauge\n# UNIT g_bytes seconds\n# HELP g_bytes x\ng_bytes 1\n"
	     "# EOF\n",
	     true},
	    {"# TYPE g gauge\n# HELP g x\ng 1\n", true},
	    {"# TYPE g gauge\n# HELP g x\ng 1\n# EOF\ng 2\n", true},
	};
	struct parsed *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (check_exposition(bad[i].text, bad[i].om, p) == 0)
			fail_msg("checker accepted case %zu", i);
	assert_int_equal(check_exposition("# HELP g x\n# TYPE g gauge\ng 1\n", false, p), 0);
	free(p);
}

static void test_openmetrics_format(void **state)
{
	struct snapshot *s = sample_snapshot();
	char *om = render(s, true), *t = render(s, false);
	size_t n = strlen(om);

	(void)state;
	assert_true(n > 6);
	assert_string_equal(om + n - 6, "# EOF\n");
	assert_int_equal(count_substr(om, "# EOF"), 1);
	assert_null(strstr(t, "# EOF"));
	assert_null(strstr(t, "# UNIT"));
	assert_line(om, "# UNIT torvyn_flow_latency_seconds seconds");
	assert_line(om, "# UNIT torvyn_flow_copies_bytes bytes");
	assert_line(om, "# UNIT torvyn_component_idle_seconds seconds");
	assert_line(om, "# TYPE torvyn_flow_latency_seconds histogram");
	assert_line(om, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10.0\"} 9900");
	assert_line(om, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"2.5\"} 9900");
	assert_line(t, "torvyn_flow_latency_seconds_bucket{flow_id=\"f1\",le=\"10\"} 9900");
	/* TYPE before UNIT before HELP, then samples */
	assert_non_null(strstr(om, "# TYPE torvyn_component_idle_seconds counter\n"
				   "# UNIT torvyn_component_idle_seconds seconds\n"
				   "# HELP torvyn_component_idle_seconds "));
	free(om);
	free(t);
	free_snapshot(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Writes the sample in both formats beside the test binary; returns the path. */
static void write_sample(bool om, char *path, size_t n)
{
	struct snapshot *s = sample_snapshot();
	char *t = render(s, om);

	snprintf(path, n, "%s/prom-sample%s.txt", out_dir, om ? ".om" : "");
	write_file(path, t);
	free(t);
	free_snapshot(s);
}

/* Runs cmd, returns its exit status and what it printed (caller frees). */
static int run_capture(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int st;

	assert_non_null(p);
	assert_non_null(buf);
	for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_promtool(void **state)
{
	char path[PATH_MAX + 32], cmd[2 * PATH_MAX], *out;
	int rc;

	(void)state;
	write_sample(true, path, sizeof(path));
	write_sample(false, path, sizeof(path));
	if (access("/usr/bin/promtool", X_OK) != 0)
		skip();
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < '%s' 2>&1", path);
	rc = run_capture(cmd, &out);
	if (rc != 0 || out[0])
		fail_msg("promtool check metrics %s: exit %d:\n%s", path, rc, out);
	free(out);
}

/* OpenMetrics has no promtool check; the reference Python parser is strict. */
static void test_openmetrics_parser(void **state)
{
	static const char script[] =
	    "import sys\n"
	    "from prometheus_client.openmetrics.parser import text_string_to_metric_families\n"
	    "fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))\n"
	    "if len(fams) != int(sys.argv[2]): sys.exit('%d families' % len(fams))\n";
	char path[PATH_MAX + 32], spath[PATH_MAX + 32], cmd[3 * PATH_MAX], *out;
	int rc;

	(void)state;
	write_sample(true, path, sizeof(path));
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' "
		   ">/dev/null 2>&1") != 0)
		skip(); /* Debian package python3-prometheus-client */
	snprintf(spath, sizeof(spath), "%s/prom-om-check.py", out_dir);
	write_file(spath, script);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s' %zu 2>&1", spath, path,
		 ARRAY_SIZE(want_fams));
	rc = run_capture(cmd, &out);
	if (rc != 0 || out[0])
		fail_msg("OpenMetrics parser on %s: exit %d:\n%s", path, rc, out);
	free(out);
}

/* docs/metrics.md names every family as it is scraped. */
static void test_docs_catalogue(void **state)
{
	char path[PATH_MAX + 32], *doc;
	FILE *f;
	long n;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/metrics.md", repo_dir);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	doc = malloc((size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	doc[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < ARRAY_SIZE(want_fams); i++) {
		const struct want_fam *w = &want_fams[i];
		char name[160];

		snprintf(name, sizeof(name), "`%s%s`", w->name,
			 !strcmp(w->type, "counter") ? "_total"
			 : !strcmp(w->type, "info")  ? "_info"
						     : "");
		if (!strstr(doc, name))
			fail_msg("%s does not list %s", path, name);
	}
	free(doc);
}

/* 100 flows x 5 components x 4 streams, every block and diagnostic entry present. */
static struct snapshot *big_snapshot(void)
{
	struct snapshot *s = sample_snapshot();
	struct snap_flow *one = &s->flows[0];
	struct snap_flow *flows = calloc(100, sizeof(*flows));
	struct snap_transfer *x = calloc(400, sizeof(*x));

	assert_non_null(flows);
	assert_non_null(x);
	for (int fi = 0; fi < 100; fi++) {
		struct snap_flow *f = &flows[fi];
		char fname[TORVYN_NAME_LEN], name[TORVYN_NAME_LEN];

		snprintf(fname, sizeof(fname), "flow-%d", fi);
		f->present = true;
		f->blk = one->blk;
		set_name(f->blk.hdr.flow_name, fname);
		for (int ci = 0; ci < 5; ci++) {
			f->comps[ci] = one->comps[0];
			f->comps[ci].diag_copies[TORVYN_COPY_PAYLOAD_WRITE].count = 1;
			snprintf(name, sizeof(name), "comp-%d", ci);
			set_name(f->comps[ci].blk.hdr.flow_name, fname);
			set_name(f->comps[ci].blk.hdr.name, name);
		}
		for (int si = 0; si < 4; si++) {
			f->streams[si] = one->streams[0];
			snprintf(name, sizeof(name), "comp-%d->comp-%d", si, si + 1);
			set_name(f->streams[si].blk.hdr.flow_name, fname);
			set_name(f->streams[si].blk.hdr.name, name);
			x[fi * 4 + si] = (struct snap_transfer){
			    (uint32_t)fi, (uint32_t)si, (uint32_t)si + 1, {10, 1000}};
		}
	}
	free(s->flows);
	s->flows = flows;
	s->n_flows = 100;
	s->transfers = x;
	s->n_transfers = 400;
	return s;
}

static void free_big_snapshot(struct snapshot *s)
{
	free(s->transfers);
	free_snapshot(s);
}

static double render_ms(const struct snapshot *s, bool om, size_t *len)
{
	double best = 1e9;

	for (int i = 0; i < 10; i++) {
		uint64_t t0 = mono_ns();
		char *buf = NULL;
		double ms;

		assert_int_equal(prom__render(s, om, &buf, len), 0);
		ms = (double)(mono_ns() - t0) / 1e6;
		best = ms < best ? ms : best;
		free(buf);
	}
	return best;
}

/* The budget: 100 flows x 5 components x 4 streams, every family, under 10 ms. */
static void test_render_speed(void **state)
{
	const char *preload = getenv("LD_PRELOAD");
	struct snapshot *s = big_snapshot();
	size_t len_text, len_om;
	double ms_text, ms_om;
	char *t;

	(void)state;
	t = render(s, false);
	assert_valid(t, false);
	assert_line(t, "torvyn_component_invocations_total{flow_id=\"flow-99\","
		       "component_id=\"comp-4\"} 20000");
	assert_int_equal(count_substr(t, "torvyn_component_invocations_total{"), 500);
	assert_int_equal(count_substr(t, "torvyn_stream_queue_wait_time_seconds_count{"), 400);
	assert_int_equal(count_substr(t, "torvyn_diagnostic_transfers_total{"), 400);
	print_message("%d sample lines\n", count_substr(t, "\n") - 2 * count_substr(t, "# TYPE"));
	free(t);
	ms_text = render_ms(s, false, &len_text);
	ms_om = render_ms(s, true, &len_om);
	free_big_snapshot(s);
	print_message("render 100 flows x 5 components x 4 streams: 0.0.4 %.2f ms (%zu bytes), "
		      "OpenMetrics %.2f ms (%zu bytes)\n",
		      ms_text, len_text, ms_om, len_om);
	if (preload && strstr(preload, "vgpreload"))
		skip(); /* under valgrind: time means nothing */
	assert_true(ms_text < 10.0);
	assert_true(ms_om < 10.0);
}

static void find_dirs(const char *argv0)
{
	char *slash;

	if (!realpath(argv0, out_dir))
		return;
	slash = strrchr(out_dir, '/');
	if (slash)
		*slash = '\0'; /* .../build/tests */
	snprintf(repo_dir, sizeof(repo_dir), "%s", out_dir);
	for (int i = 0; i < 2; i++) {
		slash = strrchr(repo_dir, '/');
		if (slash)
			*slash = '\0';
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_accept),
	    cmocka_unit_test(test_render_args),
	    cmocka_unit_test(test_render_enomem),
	    cmocka_unit_test(test_host_block_lines),
	    cmocka_unit_test(test_sample_order),
	    cmocka_unit_test(test_histogram_cumulative),
	    cmocka_unit_test(test_histogram_torn),
	    cmocka_unit_test(test_flow_state),
	    cmocka_unit_test(test_active_duration_running),
	    cmocka_unit_test(test_diagnostic_lines),
	    cmocka_unit_test(test_diagnostic_without_blocks),
	    cmocka_unit_test(test_self_metrics),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_absent_families),
	    cmocka_unit_test(test_family_catalogue),
	    cmocka_unit_test(test_counter_total),
	    cmocka_unit_test(test_checker_rejects),
	    cmocka_unit_test(test_openmetrics_format),
	    cmocka_unit_test(test_promtool),
	    cmocka_unit_test(test_openmetrics_parser),
	    cmocka_unit_test(test_docs_catalogue),
	    cmocka_unit_test(test_render_speed),
	};

	(void)argc;
	find_dirs(argv[0]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
