// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exporter's sender thread: it takes the oldest request of either queue,
 * encodes it (traces), writes it to stdout and the file as a JSON line, sends
 * it to the endpoint (retry.c), and counts what came of it. It also queues
 * the partial batch when its time comes, and is the one that tells of drops:
 * the callers' threads must not log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "log.h"

/* Waits on e->cond until the monotonic time until_ms (NEVER: no timeout). */
static void cond_wait_until(struct tvn_exporter *e, uint64_t until_ms)
{
	struct timespec ts;

	if (until_ms == NEVER) {
		pthread_cond_wait(&e->cond, &e->mu);
		return;
	}
	ts.tv_sec = until_ms / 1000;
	ts.tv_nsec = (until_ms % 1000) * 1000000;
	pthread_cond_timedwait(&e->cond, &e->mu, &ts);
}

bool tvn_exporter__sleep_until(struct tvn_exporter *e, uint64_t until_ms)
{
	struct tvn_otlp_req *dropped = NULL;
	uint64_t now, wake;
	bool ok = true;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		now = tvn_export__now_ms();
		if (now >= tvn_exporter__stop_at(e)) {
			ok = false;
			break;
		}
		if (now >= until_ms)
			break;
		tvn_otlp_req__free(dropped);
		dropped = tvn_exporter__batch_expire_locked(e, now);
		wake = until_ms < tvn_exporter__stop_at(e) ? until_ms : tvn_exporter__stop_at(e);
		if (e->batch_n && e->batch_t0_ms + e->opts.batch_timeout_ms < wake)
			wake = e->batch_t0_ms + e->opts.batch_timeout_ms;
		cond_wait_until(e, wake);
	}
	pthread_mutex_unlock(&e->mu);
	tvn_otlp_req__free(dropped);
	return ok;
}

static int write_line(FILE *f, const struct tvn_otlp_req *r)
{
	int err = 0;

	flockfile(f);
	errno = 0;
	if (fwrite(r->json, 1, r->json_len, f) != r->json_len || putc_unlocked('\n', f) == EOF ||
	    fflush(f))
		err = errno ? -errno : -EIO;
	funlockfile(f);
	return err;
}

static void account(struct tvn_exporter *e, const struct tvn_otlp_req *r, bool ok,
		    const struct tvn_otlp_result *res)
{
	uint64_t rejected = res->rejected > 0 ? (uint64_t)res->rejected : 0;

	pthread_mutex_lock(&e->mu);
	if (ok && r->metrics) {
		e->st.metric_requests_sent++;
	} else if (ok) {
		if (rejected > r->n_spans)
			rejected = r->n_spans;
		e->st.spans_exported += r->n_spans - rejected;
		e->st.spans_rejected += rejected;
	} else {
		e->st.requests_failed++;
		if (r->metrics)
			e->st.metric_requests_failed++;
		else
			e->st.spans_dropped += r->n_spans;
	}
	if (ok && res->partial)
		e->st.partial_successes++;
	pthread_mutex_unlock(&e->mu);
}

/* The JSON line to stdout and to the file. False if either failed. */
static bool write_lines(struct tvn_exporter *e, const struct tvn_otlp_req *r, const char *what)
{
	bool ok = true;
	int err;

	if (e->opts.to_stdout && (err = write_line(stdout, r))) {
		pr_warn("otlp: cannot write %s to stdout: %s\n", what, strerror(-err));
		ok = false;
	}
	if (e->file && (err = write_line(e->file, r))) {
		pr_warn("otlp: cannot write %s to %s: %s\n", what, e->file_path, strerror(-err));
		clearerr(e->file);
		ok = false;
	}
	return ok;
}

static const char *held_note(uint64_t held, char *buf, size_t len)
{
	snprintf(buf, len, " (and %" PRIu64 " more like it since the last such line)", held);
	return buf;
}

/* The request to the endpoint. False if it was not exported. */
static bool send_endpoint(struct tvn_exporter *e, const struct tvn_otlp_req *r, const char *what,
			  struct tvn_otlp_result *res)
{
	const char *msg;

	tvn_exporter__send(e, r, res);
	if (res->outcome != EXPORT_OK) {
		const char *url = r->metrics ? e->client.metrics_url : e->client.traces_url;
		char key[96], note[96];
		uint64_t held = 0;

		/* one line per cause a minute, with what was held back */
		snprintf(key, sizeof(key), "%s %.60s", what, res->msg);
		if (tvn_ratelimit__allow(&e->failures_log, key, tvn_export__now_ms() * 1000000ull,
					 &held))
			pr_warn("otlp: %s: %s were not exported: %s%s\n", url, what, res->msg,
				held ? held_note(held, note, sizeof(note)) : "");
		return false;
	}
	msg = res->msg[0] ? res->msg : "(no message)";
	if (res->partial && r->metrics)
		pr_warn("otlp: the collector rejected %" PRId64 " metric data points: %s\n",
			res->rejected, msg);
	else if (res->partial)
		pr_warn("otlp: the collector rejected %" PRId64 " of %zu spans: %s\n",
			res->rejected, r->n_spans, msg);
	return true;
}

static void process(struct tvn_exporter *e, struct tvn_otlp_req *r)
{
	struct tvn_otlp_result res = {.outcome = EXPORT_OK};
	const char *what = r->metrics ? "metrics" : "spans";
	bool ok;
	int err;

	if (!r->metrics) {
		err = tvn_exporter__encode_traces(e, r);
		if (err) {
			pr_warn("otlp: cannot encode %zu spans: %s\n", r->n_spans, strerror(-err));
			account(e, r, false, &res);
			return;
		}
	}
	ok = write_lines(e, r, what);
	if (e->client.curl && !send_endpoint(e, r, what, &res))
		ok = false;
	account(e, r, ok, &res);
}

/* Queue overflows happen on the callers' threads, which must not log: tell here. */
static void report_drops(struct tvn_exporter *e)
{
	uint64_t dropped;

	pthread_mutex_lock(&e->mu);
	dropped = e->st.spans_dropped;
	pthread_mutex_unlock(&e->mu);
	if (dropped > e->dropped_reported)
		pr_warn("otlp: %" PRIu64 " spans dropped so far (queue full or export failed)\n",
			dropped);
	e->dropped_reported = dropped;
}

void *tvn_exporter__sender_main(void *arg)
{
	struct tvn_exporter *e = arg;
	struct tvn_otlp_req *r, *dropped;
	uint64_t now, wake;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		now = tvn_export__now_ms();
		if (now >= tvn_exporter__stop_at(e))
			break;
		dropped = tvn_exporter__batch_expire_locked(e, now);
		r = tvn_exporter__dequeue_oldest_locked(e);
		if (r || dropped) {
			pthread_mutex_unlock(&e->mu);
			tvn_otlp_req__free(dropped);
			if (r)
				process(e, r);
			tvn_otlp_req__free(r);
			report_drops(e);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (tvn_exporter__stop_at(e) != NEVER)
			break; /* tvn_exporter__free queued the last batch: all sent */
		wake = e->batch_n ? e->batch_t0_ms + e->opts.batch_timeout_ms : NEVER;
		cond_wait_until(e, wake);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}
