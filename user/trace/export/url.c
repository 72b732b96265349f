// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP endpoint URLs (libcurl's URL API): which endpoints are valid, and the
 * URL of each signal, traces and metrics, for OTLP/HTTP and OTLP/gRPC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

#define METRICS_PATH "/v1/metrics"
#define GRPC_TRACES_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define GRPC_METRICS_PATH "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

static bool url_http_scheme(CURLU *u)
{
	char *scheme = NULL, *host = NULL;
	bool ok;

	ok = !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
	     (!strcmp(scheme, "http") || !strcmp(scheme, "https")) &&
	     !curl_url_get(u, CURLUPART_HOST, &host, 0) && host[0];
	curl_free(scheme);
	curl_free(host);
	return ok;
}

CURLU *tvn_otlp_url__parse(const char *endpoint)
{
	CURLU *u = curl_url();

	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) || !url_http_scheme(u)) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

static char *url_with_path(CURLU *u, const char *path)
{
	char *s = NULL, *ret;

	if (curl_url_set(u, CURLUPART_PATH, path, 0) || curl_url_get(u, CURLUPART_URL, &s, 0))
		return NULL;
	ret = strdup(s);
	curl_free(s);
	return ret;
}

/* u's path, cut before its trailing slashes (curl_free it), n its length; NULL on failure. */
static char *url_path(CURLU *u, size_t *n)
{
	char *path = NULL;

	if (curl_url_get(u, CURLUPART_PATH, &path, 0))
		return NULL;
	*n = strlen(path);
	while (*n && path[*n - 1] == '/')
		(*n)--;
	path[*n] = 0;
	return path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * HTTP: a bare endpoint gets /v1/traces and /v1/metrics; one with a path is
 * the traces URL as is (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and metrics go
 * to the same path with /v1/traces replaced by /v1/metrics (or, for any
 * other path, with /v1/metrics appended). gRPC: the service paths.
 */
int tvn_otlp_url__signals(CURLU *u, const char *endpoint, bool grpc, char **traces, char **metrics)
{
	char *path = NULL, *mpath = NULL;
	size_t n;
	int err = -ENOMEM;

	*traces = *metrics = NULL;
	if (grpc) {
		*traces = url_with_path(u, GRPC_TRACES_PATH);
		*metrics = url_with_path(u, GRPC_METRICS_PATH);
		goto out;
	}
	path = url_path(u, &n);
	if (!path)
		goto out;
	if (!n) {
		*traces = url_with_path(u, TRACES_PATH);
		*metrics = url_with_path(u, METRICS_PATH);
		goto out;
	}
	*traces = strdup(endpoint);
	mpath = malloc(n + sizeof(METRICS_PATH));
	if (!mpath)
		goto out;
	if (ends_with(path, TRACES_PATH))
		path[n - strlen(TRACES_PATH)] = 0;
	sprintf(mpath, "%s%s", path, METRICS_PATH);
	*metrics = url_with_path(u, mpath);
out:
	if (*traces && *metrics)
		err = 0;
	curl_free(path);
	free(mpath);
	return err;
}

/* u's path + suffix into *url (curl_free it); NULL for a bare endpoint unless always. */
static int base_with(CURLU *u, const char *suffix, bool always, char **url)
{
	char *path = NULL, *p = NULL;
	size_t n;
	int ret = 0;

	*url = NULL;
	path = url_path(u, &n);
	if (!path || (!n && !always))
		goto out;
	p = malloc(n + strlen(suffix) + 1);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	sprintf(p, "%s%s", path, suffix);
	if (curl_url_set(u, CURLUPART_PATH, p, 0) || curl_url_get(u, CURLUPART_URL, url, 0)) {
		curl_free(*url);
		*url = NULL;
		ret = -ENOMEM;
	}
out:
	free(p);
	curl_free(path);
	return ret;
}

int tvn_otlp_url__base_traces(CURLU *u, char **url)
{
	return base_with(u, TRACES_PATH, false, url);
}

int tvn_otlp_url__base_metrics(CURLU *u, char **url)
{
	return base_with(u, METRICS_PATH, true, url);
}

char *tvn_otlp_url__metrics(const char *metrics_endpoint, bool grpc)
{
	CURLU *u;
	char *url;

	if (!grpc)
		return strdup(metrics_endpoint);
	u = tvn_otlp_url__parse(metrics_endpoint);
	if (!u)
		return NULL;
	url = url_with_path(u, GRPC_METRICS_PATH);
	curl_url_cleanup(u);
	return url;
}
