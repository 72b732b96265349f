// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"
#include "otlp_setup.h"

static const struct {
	const char *name;
	enum tvn_exporter_protocol protocol;
} protocols[] = {
    {"http/protobuf", EXPORTER_HTTP_PROTOBUF},
    {"http/json", EXPORTER_HTTP_JSON},
    {"grpc", EXPORTER_GRPC},
};

/* Copies the string value of an OTEL_RESOURCE_ATTRIBUTES entry; false when absent. */
static bool resource_attr(const struct tvn_otlp_resource *res, const char *key, char *buf,
			  size_t len)
{
	for (int i = 0; i < res->n_extra; i++) {
		if (!strcmp(res->extra[i].key, key) && res->extra[i].type == OTLP_STR) {
			snprintf(buf, len, "%s", res->extra[i].str);
			return true;
		}
	}
	return false;
}

static int apply_flags(struct tvn_otlp_setup *st, const struct tvn_otlp_flags *f,
		       struct tvn_exporter_opts *eo)
{
	size_t i;

	if (f->endpoint) {
		/* the flag names the endpoint of every signal */
		eo->endpoint = f->endpoint;
		eo->metrics_endpoint = NULL;
	}
	for (i = 0; f->protocol && i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		if (!strcmp(f->protocol, protocols[i].name))
			break;
	}
	if (f->protocol && i == sizeof(protocols) / sizeof(protocols[0])) {
		pr_warn("--otlp-protocol %s: expected http/protobuf, http/json or grpc\n",
			f->protocol);
		return TVN_EXIT_USAGE;
	}
	if (f->protocol)
		eo->protocol = protocols[i].protocol;
	if (f->compression) {
		if (strcmp(f->compression, "gzip") && strcmp(f->compression, "none")) {
			pr_warn("--otlp-compression %s: expected gzip or none\n", f->compression);
			return TVN_EXIT_USAGE;
		}
		eo->gzip = !strcmp(f->compression, "gzip");
	}
	for (int h = 0; h < f->n_headers && eo->n_headers < EXPORTER_MAX_HEADERS; h++) {
		const char *eq = strchr(f->headers[h], '=');

		snprintf(st->headers[h], sizeof(st->headers[h]), "%.*s: %s",
			 (int)(eq - f->headers[h]), f->headers[h], eq + 1);
		eo->headers[eo->n_headers++] = st->headers[h];
	}
	eo->to_stdout = f->to_stdout;
	if (f->file)
		eo->file_path = f->file;
	return 0;
}

/* What OTEL_RESOURCE_ATTRIBUTES says wins over what we would fill in. */
static void fill_resource(struct tvn_otlp_resource *res, const struct tvn_otlp_flags *f, int pid,
			  const char *exe)
{
	const char *base = strrchr(exe, '/');

	if (f->service_name)
		snprintf(res->service_name, sizeof(res->service_name), "%s", f->service_name);
	if (!resource_attr(res, "host.name", res->host_name, sizeof(res->host_name)))
		gethostname(res->host_name, sizeof(res->host_name) - 1);
	if (!resource_attr(res, "service.instance.id", res->service_instance_id,
			   sizeof(res->service_instance_id)))
		snprintf(res->service_instance_id, sizeof(res->service_instance_id), "%.40s-%d",
			 res->host_name, pid);
	res->pid = pid;
	if (!resource_attr(res, "process.executable.name", res->executable_name,
			   sizeof(res->executable_name)))
		snprintf(res->executable_name, sizeof(res->executable_name), "%s",
			 base ? base + 1 : exe);
}

int tvn_otlp_setup__open(struct tvn_otlp_setup *st, const struct tvn_otlp_flags *f, int pid,
			 const char *exe)
{
	struct tvn_exporter_opts eo = {
	    .protocol = EXPORTER_HTTP_PROTOBUF,
	    .batch_max_spans = 512,
	    .batch_timeout_ms = 5000,
	    .queue_max_batches = 16, /* 8192 spans, ~22 MB while a receiver is down */
	    .request_timeout_ms = 10000,
	    .max_retry_ms = 30000,
	};
	struct tvn_otlp_resource res = {0};
	char err[512] = "";
	int rc;

	st->exp = NULL;
	snprintf(res.service_name, sizeof(res.service_name), "torvyn-host");
	st->env_store = tvn_exporter__opts_from_env(&eo, &res, err, sizeof(err));
	if (!st->env_store && err[0]) {
		pr_warn("%s\n", err);
		return TVN_EXIT_EXPORT;
	}
	rc = apply_flags(st, f, &eo);
	if (rc)
		return rc;
	/* a metrics endpoint alone exports metrics only: spans have nowhere to go */
	if (!eo.endpoint && !eo.metrics_endpoint && !eo.to_stdout && !eo.file_path)
		return 0;
	fill_resource(&res, f, pid, exe);
	st->exp = tvn_exporter__new(&eo, &res, err, sizeof(err));
	if (!st->exp) {
		pr_warn("OTLP exporter: %s\n", err);
		return TVN_EXIT_EXPORT;
	}
	return 0;
}

void tvn_otlp_setup__close(struct tvn_otlp_setup *st, uint32_t deadline_ms)
{
	tvn_exporter__free(st->exp, deadline_ms);
	st->exp = NULL;
	free(st->env_store);
	st->env_store = NULL;
}
