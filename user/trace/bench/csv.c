// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A bench report as CSV: the report's figures in one row, then a row per
 * component. Numbers are exact (the shortest text that reads back).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench_internal.h"

/* RFC 4180: quote a field holding a comma, a quote or a line break. */
void tvn_bench_csv__put_str(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void tvn_bench_csv__put_num(FILE *out, double v)
{
	char buf[64];

	tvn_bench_fmt__num(buf, sizeof(buf), v);
	fputs(buf, out);
}

/* ",v" for each of n values. */
static void put_nums(FILE *out, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputc(',', out);
		tvn_bench_csv__put_num(out, v[i]);
	}
}

static void put_u64s(FILE *out, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, ",%" PRIu64, v[i]);
}

static void write_summary(const struct tvn_bench_report *r, FILE *out)
{
	const double rates[] = {r->elements_per_sec, r->bytes_per_sec};
	const double lat[] = {r->p50_us, r->p90_us, r->p95_us, r->p99_us, r->p999_us, r->max_us};
	const uint64_t tail[] = {r->total_copies, r->total_wakeups,  r->backpressure_events,
				 r->queue_peak,	  r->queue_capacity, r->peak_rss_bytes};

	fputs("target,duration_s,elements,elements_per_sec,bytes_per_sec,"
	      "p50_us,p90_us,p95_us,p99_us,p999_us,max_us,buffer_allocs,pool_reuse_pct,"
	      "total_copies,total_wakeups,backpressure_events,queue_peak,queue_capacity,"
	      "peak_rss_bytes\n",
	      out);
	tvn_bench_csv__put_str(out, r->target);
	put_nums(out, &r->duration_s, 1);
	put_u64s(out, &r->elements, 1);
	put_nums(out, rates, ARRAY_SIZE(rates));
	put_nums(out, lat, ARRAY_SIZE(lat));
	put_u64s(out, &r->buffer_allocs, 1);
	put_nums(out, &r->pool_reuse_pct, 1);
	put_u64s(out, tail, ARRAY_SIZE(tail));
}

static void write_component(const struct tvn_bench_component *c, FILE *out)
{
	const uint64_t counts[] = {c->invocations, c->errors};
	const double d[] = {c->p50_us, c->p99_us, c->mean_us, c->max_us, c->share_pct};
	const double sched[] = {c->idle_s, c->cpu_s};

	tvn_bench_csv__put_str(out, c->flow);
	fputc(',', out);
	tvn_bench_csv__put_str(out, c->component);
	put_u64s(out, counts, ARRAY_SIZE(counts));
	put_nums(out, d, ARRAY_SIZE(d));
	put_u64s(out, &c->wakeups, 1);
	put_nums(out, sched, ARRAY_SIZE(sched));
	fputc('\n', out);
}

int tvn_bench_csv__write(const struct tvn_bench_report *r, FILE *out)
{
	write_summary(r, out);
	fputs("\n\nflow,component,invocations,errors,p50_us,p99_us,mean_us,max_us,share_pct,"
	      "wakeups,idle_s,cpu_s\n",
	      out);
	for (int i = 0; i < r->n_comps; i++)
		write_component(&r->comps[i], out);
	return 0;
}
