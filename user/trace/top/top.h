/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace top: frames of one or many hosts' metrics, read from
 * Prometheus text (an attach session's control socket or an agent's
 * /metrics), rates and quantiles from two frames, and their presentations:
 * lines of text (plain output and the terminal view), JSON, ncurses.
 */
#ifndef TORVYN_TOP_H
#define TORVYN_TOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tvn_err;

/* ------------------------------------------------------------ frames */

#define TVN_TOP_MAX_BUCKETS 32

/* A histogram's buckets: ascending bounds, the last +Inf; cumulative counts. */
struct tvn_top_hist {
	int n;
	double le[TVN_TOP_MAX_BUCKETS];
	double cum[TVN_TOP_MAX_BUCKETS];
};

/* The tracer's figures of one target (docs/metrics.md, "Tracer"). */
enum tvn_top_self {
	TVN_TOP_LEVEL,
	TVN_TOP_TARGET_UP,
	TVN_TOP_BLOCKS_RECEIVED, /* the host's flushes: new counts arrived */
	TVN_TOP_EVENTS_LOST,	 /* the drops, from here to the end */
	TVN_TOP_MAP_UPDATE_FAILURES,
	TVN_TOP_USER_READ_FAILURES,
	TVN_TOP_TRACES_FILTERED,
	TVN_TOP_SPANS_DROPPED,
	TVN_TOP_SPANS_REJECTED,
	TVN_TOP_OTLP_FAILURES,
	TVN_TOP_SELF_COUNT,
};

/* Each figure: its family, its JSON key, its short name on screen. */
struct tvn_top_self_row {
	const char *family, *key, *label;
};
extern const struct tvn_top_self_row tvn_top_self_rows[TVN_TOP_SELF_COUNT];

struct tvn_top_target {
	int pid;
	char *exe, *service;		 /* NULL: not labelled */
	double self[TVN_TOP_SELF_COUNT]; /* NAN: not in the scrape */
	double seen_at;			 /* when a frame first saw its counts; NAN: unknown */
	double rates_s;			 /* the time its rates span; 0: none */
	bool carried; /* no flush since the last frame: the rates are the last ones */
};

/* Counts are absolute (as scraped); rates and quantiles come from tvn_top_frame__diff(). */
struct tvn_top_comp {
	char *id;  /* first in each entity: the lookups rely on it */
	int order; /* position in the scrape */
	double invocations, errors;
	struct tvn_top_hist hist;	 /* torvyn_component_processing_time_seconds */
	double rate, err_rate, p50, p99; /* NAN: unknown */
};

struct tvn_top_stream {
	char *id;
	double depth, capacity, peak, bp_events, dropped;
	double bp_rate;
};

struct tvn_top_flow {
	char *id;
	int order;
	int target; /* index in the frame's targets */
	double elements, errors;
	double rate, err_rate, p99; /* p99: the highest of its components' */
	struct tvn_top_comp *comps;
	int n_comps;
	struct tvn_top_stream *streams;
	int n_streams;
};

struct tvn_top_frame {
	struct tvn_top_target *targets; /* ascending pid */
	int n_targets;
	struct tvn_top_flow *flows; /* grouped by target, in the target's order */
	int n_flows;
	double at; /* when it was scraped, in seconds of a monotonic clock (the caller's) */
	double dt; /* seconds since the previous frame; 0: none */
};

/*
 * Builds f from one scrape. Series without a "pid" label belong to
 * default_pid (the PID a session serves). Returns 0, or -errno (-EINVAL for
 * malformed text: its line in *bad_line).
 */
int tvn_top_frame__parse(const char *text, size_t len, int default_pid, struct tvn_top_frame *f,
			 int *bad_line);

/*
 * A host publishes its counts once per flush (1 s by default), so two
 * scrapes closer than that, or out of phase with it, may see no flush or
 * two: their increase alone would show a rate of 0, then twice the truth.
 * So a target's rates span the two latest frames that first saw new counts
 * (torvyn_trace_blocks_received_total grew): none before its second flush
 * seen. While no flush arrives, a running target keeps its last rates for
 * up to TVN_TOP_CARRY_S after its counts were seen; then they are unknown.
 */
#define TVN_TOP_CARRY_S 2.5

/* Rates and quantiles of cur (its at set) from the increase since prev (NULL: none). */
void tvn_top_frame__diff(struct tvn_top_frame *cur, const struct tvn_top_frame *prev);

/* Whether t's rates are its latest: it has flushed twice since the first frame, or
 * it is not running at a level (exited, or off) and never will. */
bool tvn_top_target__settled(const struct tvn_top_target *t);

/* The quantile q of h (cumulative counts) as histogram_quantile() computes it; NAN if empty. */
double tvn_top_hist__quantile(const struct tvn_top_hist *h, double q);

enum tvn_top_sort {
	TVN_TOP_SORT_ORDER, /* as the host lists them */
	TVN_TOP_SORT_RATE,
	TVN_TOP_SORT_P99,
	TVN_TOP_SORT_ERRORS,
	TVN_TOP_SORT_COUNT,
};

/* The sort's name ("rate"). */
const char *tvn_top_sort__name(enum tvn_top_sort s);

/* Sorts each target's flows, and each flow's components, by s (descending but ORDER). */
void tvn_top_frame__sort(struct tvn_top_frame *f, enum tvn_top_sort s);

void tvn_top_frame__free(struct tvn_top_frame *f);

/* ------------------------------------------------------------ presentations */

enum tvn_top_line_kind {
	TVN_TOP_LINE_TITLE,
	TVN_TOP_LINE_HEAD,
	TVN_TOP_LINE_TARGET,
	TVN_TOP_LINE_FLOW,
	TVN_TOP_LINE_COMP,
	TVN_TOP_LINE_STREAM,
};

struct tvn_top_line {
	enum tvn_top_line_kind kind;
	int flow; /* the flow the line belongs to, or -1 */
	char *text;
};

struct tvn_top_lines {
	struct tvn_top_line *v;
	int n;
};

struct tvn_top_view_opts {
	const char *source; /* "pid 1234", "agent 127.0.0.1:9464" */
	double interval_s;
	enum tvn_top_sort sort;
	bool keys; /* a line naming the keys (the terminal view) */
};

/* The frame as lines of text; 0 or -ENOMEM. */
int tvn_top_lines__build(const struct tvn_top_frame *f, const struct tvn_top_view_opts *o,
			 struct tvn_top_lines *out);
void tvn_top_lines__free(struct tvn_top_lines *l);

/* The frame as one JSON object, malloc'd and NUL-terminated; NULL on ENOMEM. */
char *tvn_top_json__dump(const struct tvn_top_frame *f, const struct tvn_top_view_opts *o);

/* ------------------------------------------------------------ sources */

struct tvn_top_source;

/* A source: the session serving pid (agent NULL), or the agent at ADDR:PORT. */
struct tvn_top_source *tvn_top_source__new(int pid, const char *agent);
void tvn_top_source__free(struct tvn_top_source *src);

/*
 * One scrape: 0 and a malloc'd body (the caller frees it), or -errno with e
 * saying why (TVN_CAUSE_NO_SESSION, TVN_CAUSE_UNREACHABLE, ...).
 */
int tvn_top_source__fetch(struct tvn_top_source *src, char **body, size_t *len, struct tvn_err *e);

/* The PID whose series carry no pid label (0 for an agent). */
int tvn_top_source__pid(const struct tvn_top_source *src);

/*
 * One scrape as a frame, its at set (CLOCK_MONOTONIC seconds): 0, or -errno
 * with e saying why (malformed text is TVN_CAUSE_INTERNAL, naming the line).
 */
int tvn_top_source__frame(struct tvn_top_source *src, struct tvn_top_frame *f, struct tvn_err *e);

/* ------------------------------------------------------------ the terminal view */

/*
 * Runs the live view until q (or *stop): a frame every interval_s, keys
 * switching the level of the selected flow's host. Returns 0, or -ENOTTY
 * when stdin and stdout are no terminal ncurses can drive.
 */
int tvn_top_view__run(struct tvn_top_source *src, const struct tvn_top_view_opts *o,
		      volatile sig_atomic_t *stop);

#endif /* TORVYN_TOP_H */
