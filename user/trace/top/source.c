// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a frame's text comes from: the control socket of the session (or
 * agent) serving a PID ("scrape"), or an agent's /metrics over HTTP. Both
 * bodies are bounded by TVN_CONTROL_SCRAPE_MAX.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "err.h"
#include "top.h"

struct tvn_top_source {
	int pid;
	const char *agent; /* ADDR:PORT, borrowed */
	char url[320];
	CURL *curl; /* kept: one connection for every frame */
};

struct body {
	char *buf;
	size_t len, cap;
	int err; /* -EFBIG, -ENOMEM: why the body was cut */
};

struct tvn_top_source *tvn_top_source__new(int pid, const char *agent)
{
	struct tvn_top_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->pid = agent ? 0 : pid;
	src->agent = agent;
	if (!agent)
		return src;
	snprintf(src->url, sizeof(src->url), "http://%s/metrics", agent);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(src->curl = curl_easy_init())) {
		free(src);
		errno = ENOMEM;
		return NULL;
	}
	return src;
}

void tvn_top_source__free(struct tvn_top_source *src)
{
	if (!src)
		return;
	if (src->curl) {
		curl_easy_cleanup(src->curl);
		curl_global_cleanup();
	}
	free(src);
}

int tvn_top_source__pid(const struct tvn_top_source *src)
{
	return src->pid;
}

static int from_session(struct tvn_top_source *src, char **body, size_t *len, struct tvn_err *e)
{
	int pid = src->pid, rc = tvn_control__scrape(pid, body, len);

	if (rc == -ECONNREFUSED || rc == -ENOENT)
		return tvn_err__set(e, TVN_CAUSE_NO_SESSION, rc,
				    "no attach session or agent serves pid %d: start one with "
				    "'torvyn-trace attach --pid %d'",
				    pid, pid);
	if (rc == -EOPNOTSUPP)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, rc,
				    "the session serving pid %d is older than top: restart it with "
				    "this torvyn-trace",
				    pid);
	if (rc == -EFBIG)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, rc,
				    "the session serving pid %d sent over %u MiB of metrics", pid,
				    TVN_CONTROL_SCRAPE_MAX >> 20);
	if (rc)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, rc, "scraping the session of pid %d: %s",
				    pid, strerror(-rc));
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;

	if (b->len + add > TVN_CONTROL_SCRAPE_MAX) {
		b->err = -EFBIG;
		return 0;
	}
	if (b->len + add + 1 > b->cap) {
		size_t cap = (b->len + add + 1) * 2;
		char *buf = realloc(b->buf, cap);

		if (!buf) {
			b->err = -ENOMEM;
			return 0;
		}
		b->buf = buf;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, add);
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

static int from_agent(struct tvn_top_source *src, char **body, size_t *len, struct tvn_err *e)
{
	struct body b = {0};
	long status = 0;
	CURLcode cc;

	curl_easy_setopt(src->curl, CURLOPT_URL, src->url);
	curl_easy_setopt(src->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(src->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(src->curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(src->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(src->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(src->curl, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(src->curl);
	curl_easy_getinfo(src->curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK && status == 200) {
		*body = b.buf ? b.buf : strdup("");
		*len = b.len;
		return *body ? 0 : -ENOMEM;
	}
	free(b.buf);
	if (b.err)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, b.err, "%s: %s", src->url,
				    b.err == -EFBIG ? "over 64 MiB of metrics" : strerror(-b.err));
	if (cc == CURLE_OK)
		return tvn_err__set(
		    e, TVN_CAUSE_UNREACHABLE, -EPROTO,
		    "%s answered HTTP %ld: is a torvyn-trace agent listening at %s?", src->url,
		    status, src->agent);
	return tvn_err__set(e, TVN_CAUSE_UNREACHABLE, -EHOSTUNREACH,
			    "no agent answers at %s (%s): start one with 'torvyn-trace agent' or "
			    "give its --listen address",
			    src->agent, curl_easy_strerror(cc));
}

int tvn_top_source__fetch(struct tvn_top_source *src, char **body, size_t *len, struct tvn_err *e)
{
	return src->curl ? from_agent(src, body, len, e) : from_session(src, body, len, e);
}

int tvn_top_source__frame(struct tvn_top_source *src, struct tvn_top_frame *f, struct tvn_err *e)
{
	const char *from = src->curl ? src->url : "the session";
	struct timespec ts;
	char *body = NULL;
	size_t len = 0;
	int bad = 0, rc;

	*f = (struct tvn_top_frame){0};
	rc = tvn_top_source__fetch(src, &body, &len, e);
	if (rc)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	rc = tvn_top_frame__parse(body, len, src->pid, f, &bad);
	free(body);
	if (rc == -EINVAL || rc == -E2BIG)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, rc,
				    "the metrics from %s are malformed at line %d", from, bad);
	if (rc)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, rc, "reading the metrics from %s: %s",
				    from, strerror(-rc));
	f->at = ts.tv_sec + ts.tv_nsec / 1e9;
	return 0;
}
