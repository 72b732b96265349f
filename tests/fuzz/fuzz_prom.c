// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exposition writer (render/prom.c): a snapshot built from the input
 * (names, metric blocks and transfer indices as a hostile host could send
 * them, the agent's pid, exe and service labels) rendered as Prometheus
 * text and as OpenMetrics, then read back by a checker of its own: every
 * line parses, the text is UTF-8, and each sample line carries, in order,
 * the labels the metric model's walk handed the renderer, their values
 * escaped and unescaped back to the value cleaned of invalid UTF-8.
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "fuzz.h"
#include "metric_model.h"
#include "prom.h"
#include "snapshot.h"

#define MAX_LABELS (METRIC_MAX_LABELS + TVN_METRIC_MAX_TARGET_LABELS)
#define VAL_MAX (3 * 256 + 1)

struct want_label {
	char key[64];
	char val[VAL_MAX];
};

/* One sample the walk handed over: its lines (a histogram's buckets, _sum, _count). */
struct want {
	char prom[128]; /* the family's name: the walk's copy lives only for the call */
	bool hist;
	int n;
	struct want_label l[MAX_LABELS];
};

struct wants {
	bool om;
	int n, cap;
	struct want *w;
};

static int want_sample(void *ctx, const struct tvn_metric_family *f,
		       const struct tvn_metric_label *ls, int n, const struct tvn_metric_value *v)
{
	struct wants *ws = ctx;
	struct want *w;

	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? 2 * ws->cap : 256;
		ws->w = realloc(ws->w, (size_t)ws->cap * sizeof(*ws->w));
		FUZZ_CHECK(ws->w, "realloc");
	}
	FUZZ_CHECK(n <= MAX_LABELS, "%d labels", n);
	w = &ws->w[ws->n++];
	snprintf(w->prom, sizeof(w->prom), "%s", f->prom);
	w->hist = v->kind == METRIC_HIST;
	w->n = n;
	for (int i = 0; i < n; i++) {
		snprintf(w->l[i].key, sizeof(w->l[i].key), "%s", ls[i].key);
		FUZZ_CHECK(ls[i].vmax <= 256, "vmax %zu", ls[i].vmax);
		fuzz_clean(ls[i].val, ls[i].vmax, w->l[i].val);
	}
	return 0;
}

/* ------------------------------------------------------------ the checker */

static bool name_ch(char c, bool first)
{
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/* A label value from p (after the opening quote) unescaped into out; the end or NULL. */
static const char *unescape(const char *p, const char *end, char *out, size_t cap)
{
	size_t o = 0;

	while (p < end && *p != '"') {
		char c = *p++;

		FUZZ_CHECK(c != '\n', "raw newline in a label value");
		if (c == '\\') {
			FUZZ_CHECK(p < end && (*p == '\\' || *p == '"' || *p == 'n'), "bad escape");
			c = *p == 'n' ? '\n' : *p;
			p++;
		}
		FUZZ_CHECK(o + 1 < cap, "label value too long");
		out[o++] = c;
	}
	out[o] = '\0';
	return p < end ? p + 1 : NULL;
}

/* One sample line [p, end) against the walk's sample w, as its line k. */
static void check_line(const char *p, const char *end, const struct want *w, int k)
{
	static const char *const sfx[] = {"_sum", "_count"};
	bool bucket = w->hist && k <= TORVYN_LAT_BOUNDS;
	size_t fl = strlen(w->prom);
	struct want_label got;
	const char *name = p;
	char num[64], *nend;
	int i = 0;

	FUZZ_CHECK(name_ch(*p, true), "line: %.*s", (int)(end - p), p);
	while (p < end && name_ch(*p, false))
		p++;
	FUZZ_CHECK((size_t)(p - name) >= fl && !strncmp(name, w->prom, fl), "%.*s is not of %s",
		   (int)(p - name), name, w->prom);
	if (w->hist)
		FUZZ_CHECK(bucket ? !strncmp(name + fl, "_bucket", 7)
				  : !strncmp(name + fl, sfx[k - TORVYN_LAT_BOUNDS - 1],
					     strlen(sfx[k - TORVYN_LAT_BOUNDS - 1])),
			   "histogram line %d: %.*s", k, (int)(p - name), name);
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			const char *key = p;

			while (p < end && name_ch(*p, false))
				p++;
			FUZZ_CHECK(p > key && (size_t)(p - key) < sizeof(got.key), "label name");
			memcpy(got.key, key, (size_t)(p - key));
			got.key[p - key] = '\0';
			FUZZ_CHECK(p + 1 < end && p[0] == '=' && p[1] == '"', "label syntax");
			p = unescape(p + 2, end, got.val, sizeof(got.val));
			FUZZ_CHECK(p, "unterminated label value");
			if (i < w->n) {
				FUZZ_CHECK(!strcmp(got.key, w->l[i].key), "label %d: %s, want %s",
					   i, got.key, w->l[i].key);
				FUZZ_CHECK(!strcmp(got.val, w->l[i].val),
					   "%s: '%s' does not round-trip: want '%s'", got.key,
					   got.val, w->l[i].val);
			} else {
				FUZZ_CHECK(bucket && i == w->n && !strcmp(got.key, "le"),
					   "extra label %s", got.key);
			}
			i++;
			if (p < end && *p == ',')
				p++;
		}
		FUZZ_CHECK(p < end, "unterminated label set");
		p++;
	}
	FUZZ_CHECK(i == w->n + bucket, "%d labels, want %d", i, w->n + bucket);
	FUZZ_CHECK(p < end && *p == ' ', "no space before the value");
	p++;
	FUZZ_CHECK(end > p && (size_t)(end - p) < sizeof(num), "value");
	memcpy(num, p, (size_t)(end - p));
	num[end - p] = '\0';
	if (strcmp(num, "+Inf") && strcmp(num, "-Inf") && strcmp(num, "NaN")) {
		strtod(num, &nend);
		FUZZ_CHECK(*nend == '\0' && num[0] != ' ', "value '%s'", num);
	}
}

static void check_text(const char *text, size_t len, const struct wants *ws, bool om)
{
	const unsigned char *u = (const unsigned char *)text;
	int s = 0, k = 0;

	FUZZ_CHECK(strlen(text) == len && len && text[len - 1] == '\n', "text end");
	for (size_t i = 0; i < len;) {
		size_t n = fuzz_utf8_seq(u + i, len - i);

		FUZZ_CHECK(n, "invalid UTF-8 at byte %zu", i);
		i += n;
	}
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');

		if (*p == '#') {
			FUZZ_CHECK(!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7) ||
				       (om && (!strncmp(p, "# UNIT ", 7) || !strcmp(p, "# EOF\n"))),
				   "comment: %.*s", (int)(end - p), p);
		} else {
			FUZZ_CHECK(s < ws->n, "more sample lines than samples");
			check_line(p, end, &ws->w[s], k);
			if (++k == (ws->w[s].hist ? TORVYN_LAT_BOUNDS + 3 : 1)) {
				s++;
				k = 0;
			}
		}
		p = end + 1;
	}
	FUZZ_CHECK(s == ws->n && k == 0, "%d samples of %d rendered", s, ws->n);
	FUZZ_CHECK(!om || (len >= 6 && !strcmp(text + len - 6, "# EOF\n")), "no # EOF");
}

/* ------------------------------------------------------------ the snapshot */

static void fuzz_hdr(struct fuzz_in *in, struct torvyn_block_hdr *h)
{
	fuzz_field(in, h->flow_name, sizeof(h->flow_name));
	fuzz_field(in, h->name, sizeof(h->name));
}

/* A block: its names first, then its bytes as they come (counts, states, roles). */
#define FUZZ_BLOCK(in, blk)                                                                        \
	do {                                                                                       \
		fuzz_bytes((in), (char *)&(blk) + sizeof((blk).hdr),                               \
			   sizeof(blk) - sizeof((blk).hdr));                                       \
		fuzz_hdr((in), &(blk).hdr);                                                        \
	} while (0)

static void fuzz_flow(struct fuzz_in *in, struct tvn_snap_flow *f)
{
	uint8_t n;

	f->present = fuzz_u8(in) & 1;
	FUZZ_BLOCK(in, f->blk);
	n = fuzz_u8(in) % 6;
	for (int i = 0; i < n; i++) {
		struct tvn_snap_comp *c = &f->comps[fuzz_u8(in) % TORVYN_MAX_COMPONENTS];
		uint8_t b = fuzz_u8(in);

		c->present = b & 1;
		c->has_diag = b & 2;
		FUZZ_BLOCK(in, c->blk);
		fuzz_bytes(in, &c->diag, sizeof(c->diag));
		fuzz_bytes(in, c->diag_copies, sizeof(c->diag_copies));
	}
	n = fuzz_u8(in) % 6;
	for (int i = 0; i < n; i++) {
		struct tvn_snap_stream *st = &f->streams[fuzz_u8(in) % TORVYN_MAX_STREAMS];
		uint8_t b = fuzz_u8(in);

		st->present = b & 1;
		st->has_diag = b & 2;
		FUZZ_BLOCK(in, st->blk);
		fuzz_bytes(in, &st->diag, sizeof(st->diag));
	}
}

static void fuzz_snapshot(struct fuzz_in *in, struct tvn_snapshot *s)
{
	uint8_t b = fuzz_u8(in);

	s->level = b % 3;
	s->target_up = (b >> 2) & 1;
	s->otlp_enabled = (b >> 3) & 1;
	s->have_pool = (b >> 4) & 1;
	s->have_sys = (b >> 5) & 1;
	s->has_diag_pool = (b >> 6) & 1;
	s->target_pid = (int)(fuzz_u64(in) & 0x3fffff);
	fuzz_field(in, s->target_exe, sizeof(s->target_exe));
	s->n_flows = fuzz_u8(in) % 4;
	s->flows = calloc(s->n_flows ? s->n_flows : 1, sizeof(*s->flows));
	FUZZ_CHECK(s->flows, "calloc");
	for (int i = 0; i < s->n_flows; i++)
		fuzz_flow(in, &s->flows[i]);
	s->n_transfers = fuzz_u8(in) % 5;
	s->transfers = calloc(s->n_transfers ? s->n_transfers : 1, sizeof(*s->transfers));
	FUZZ_CHECK(s->transfers, "calloc");
	/* indices as the host's probe arguments gave them: any value */
	fuzz_bytes(in, s->transfers, (size_t)s->n_transfers * sizeof(*s->transfers));
	fuzz_bytes(in, &s->pool, sizeof(s->pool));
	fuzz_bytes(in, &s->sys, sizeof(s->sys));
	fuzz_bytes(in, s->diag_pool, sizeof(s->diag_pool));
	fuzz_bytes(in, &s->otlp, sizeof(s->otlp));
	fuzz_bytes(in, s->probe_hits, sizeof(s->probe_hits));
	s->events_lost = fuzz_u64(in);
	s->start_time = (double)(fuzz_u64(in) >> 12) / 1e3;
}

/* The agent's labels of one host (agent/render.c): their sizes, any bytes. */
struct target_labels {
	char pid[16], exe[64], service[128];
	struct tvn_metric_label l[3];
};

static void fuzz_target(struct fuzz_in *in, struct target_labels *tl, struct tvn_metric_target *t,
			const struct tvn_snapshot *s)
{
	fuzz_field(in, tl->pid, sizeof(tl->pid));
	fuzz_field(in, tl->exe, sizeof(tl->exe));
	fuzz_field(in, tl->service, sizeof(tl->service));
	tl->l[0] = (struct tvn_metric_label){"pid", tl->pid, sizeof(tl->pid)};
	tl->l[1] = (struct tvn_metric_label){"exe", tl->exe, sizeof(tl->exe)};
	tl->l[2] = (struct tvn_metric_label){"service", tl->service, sizeof(tl->service)};
	*t = (struct tvn_metric_target){s, tl->l, fuzz_u8(in) % 4};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tvn_metric_visitor visitor = {.sample = want_sample};
	struct fuzz_in in = {data, size};
	struct tvn_snapshot s = {0};
	struct target_labels tl[2];
	struct tvn_metric_target t[2];
	int n = 1 + (fuzz_u8(&in) & 1);

	fuzz_snapshot(&in, &s);
	for (int i = 0; i < n; i++)
		fuzz_target(&in, &tl[i], &t[i], &s);
	for (int om = 0; om <= 1; om++) {
		struct wants ws = {.om = om};
		size_t len;
		char *text;
		int ret;

		ret = tvn_metric_model__walk_many(t, n, 0, &visitor, &ws);
		FUZZ_CHECK(ret == 0, "walk: %d", ret);
		ret = n == 1 && !t[0].n_labels ? tvn_prom__render(&s, om, &text, &len)
					       : tvn_prom__render_many(t, n, om, NULL, &text, &len);
		FUZZ_CHECK(ret == 0, "render: %d", ret);
		check_text(text, len, &ws, om);
		free(text);
		free(ws.w);
	}
	free(s.flows);
	free(s.transfers);
	return 0;
}
