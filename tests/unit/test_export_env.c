// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for tvn_exporter__opts_from_env (user/trace/export/env.c): the
 * OTEL_* variables into exporter options and the resource, all or nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exporter.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const env_vars[] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
};

static void env_clear(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(env_vars); i++)
		unsetenv(env_vars[i]);
}

/* The variables must read into o and r, with o->endpoint as want. */
static void assert_endpoint(struct tvn_exporter_opts *o, struct tvn_otlp_resource *r,
			    const char *want)
{
	char err[256] = "";
	void *blk = tvn_exporter__opts_from_env(o, r, err, sizeof(err));

	assert_non_null(blk);
	assert_string_equal(o->endpoint, want);
	free(blk);
}

static void test_env_good(void **state)
{
	struct tvn_exporter_opts o = {.protocol = EXPORTER_HTTP_PROTOBUF};
	struct tvn_otlp_resource r = {.service_name = "torvyn-host"};
	char err[256] = "";
	void *blk;

	(void)state;
	env_clear();
	/* nothing set (or set empty): nothing changes */
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "", 1);
	blk = tvn_exporter__opts_from_env(&o, &r, err, sizeof(err));
	assert_non_null(blk);
	assert_null(o.endpoint);
	assert_int_equal(o.protocol, EXPORTER_HTTP_PROTOBUF);
	assert_string_equal(r.service_name, "torvyn-host");
	free(blk);

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", " api-key = a%20b%2Cc , X-Tenant=t1,,", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES",
	       "service.name=from-attrs,deployment.environment=prod%20eu,host.name=h1", 1);
	setenv("OTEL_SERVICE_NAME", "from-var", 1);
	blk = tvn_exporter__opts_from_env(&o, &r, err, sizeof(err));
	assert_non_null(blk);
	assert_string_equal(o.endpoint, "http://collector:4317");
	assert_int_equal(o.protocol, EXPORTER_GRPC);
	assert_true(o.gzip);
	assert_int_equal(o.n_headers, 2);
	assert_string_equal(o.headers[0], "api-key: a b,c");
	assert_string_equal(o.headers[1], "X-Tenant: t1");
	assert_string_equal(r.service_name, "from-var"); /* OTEL_SERVICE_NAME wins */
	/* the rest go to extra; the encoders let the tracer's own host.name win */
	assert_int_equal(r.n_extra, 2);
	assert_string_equal(r.extra[0].key, "deployment.environment");
	assert_int_equal(r.extra[0].type, OTLP_STR);
	assert_string_equal(r.extra[0].str, "prod eu");
	assert_string_equal(r.extra[1].key, "host.name");
	assert_string_equal(r.extra[1].str, "h1");
	assert_string_equal(r.host_name, "");
	free(blk);

	/* without OTEL_SERVICE_NAME the attribute names the service */
	env_clear();
	setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	blk = tvn_exporter__opts_from_env(&o, &r, err, sizeof(err));
	assert_non_null(blk);
	assert_string_equal(r.service_name, "from-attrs");
	assert_false(o.gzip);
	free(blk);

	/* an HTTP base URL with a path: traces go to path/v1/traces */
	env_clear();
	o.protocol = EXPORTER_HTTP_PROTOBUF;
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/otlp/", 1);
	assert_endpoint(&o, &r, "https://collector:4318/otlp/v1/traces");
	assert_int_equal(o.protocol, EXPORTER_HTTP_JSON);

	/* the traces endpoint wins and is used as it is */
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/custom", 1);
	assert_endpoint(&o, &r, "http://tempo:4318/custom");

	/* a bare HTTP base stays bare: the exporter appends the paths */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318", 1);
	assert_endpoint(&o, &r, "http://localhost:4318");
	env_clear();
}

/* Reads the variables into a fresh o; the block stays for o's strings. */
static void *read_env(struct tvn_exporter_opts *o, enum tvn_exporter_protocol proto)
{
	struct tvn_otlp_resource r = {.service_name = "torvyn-host"};
	char err[512] = "";
	void *blk;

	*o = (struct tvn_exporter_opts){.protocol = proto, .request_timeout_ms = 10000};
	blk = tvn_exporter__opts_from_env(o, &r, err, sizeof(err));
	if (!blk)
		fail_msg("rejected: %s", err);
	return blk;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* Signal-specific variables win over generic ones; the metrics endpoint is used as is. */
static void test_env_signals(void **state)
{
	static const struct {
		enum tvn_exporter_protocol proto;
		const char *ep, *tep, *mep;
		const char *want_ep, *want_mep; /* NULL: metrics follow the traces endpoint */
	} cases[] = {
	    /* only the generic one: the exporter derives /v1/metrics from it */
	    {EXPORTER_HTTP_PROTOBUF, "http://c:4318", NULL, NULL, "http://c:4318", NULL},
	    /* the metrics endpoint as is, whatever its path */
	    {EXPORTER_HTTP_PROTOBUF, "http://c:4318", NULL, "https://m:9000/custom",
	     "http://c:4318", "https://m:9000/custom"},
	    {EXPORTER_HTTP_PROTOBUF, NULL, "http://t:4318/x", "http://m:4318/v1/metrics",
	     "http://t:4318/x", "http://m:4318/v1/metrics"},
	    /* traces elsewhere: metrics still go to the generic one + /v1/metrics */
	    {EXPORTER_HTTP_PROTOBUF, "http://c:4318/otlp/", "http://t:4318/x", NULL,
	     "http://t:4318/x", "http://c:4318/otlp/v1/metrics"},
	    {EXPORTER_HTTP_JSON, "https://c:4318", "http://t:4318/x", NULL, "http://t:4318/x",
	     "https://c:4318/v1/metrics"},
	    /* gRPC: host and port, the service path is the exporter's */
	    {EXPORTER_GRPC, "https://c:4317", "https://t:4317", NULL, "https://t:4317",
	     "https://c:4317"},
	    {EXPORTER_GRPC, "https://c:4317", NULL, "https://m:4317", "https://c:4317",
	     "https://m:4317"},
	};
	struct tvn_exporter_opts o;
	char pem[] = "/tmp/torvyn-env-pem.XXXXXX", pem2[] = "/tmp/torvyn-env-pem.XXXXXX";
	int fd;
	void *blk;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		env_clear();
		if (cases[i].ep)
			setenv("OTEL_EXPORTER_OTLP_ENDPOINT", cases[i].ep, 1);
		if (cases[i].tep)
			setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", cases[i].tep, 1);
		if (cases[i].mep)
			setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", cases[i].mep, 1);
		blk = read_env(&o, cases[i].proto);
		assert_str_or_null(o.endpoint, cases[i].want_ep);
		assert_str_or_null(o.metrics_endpoint, cases[i].want_mep);
		free(blk);
	}

	/* timeouts: the generic one for both signals, each signal's own over it */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2000", 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_int_equal(o.request_timeout_ms, 2000);
	assert_int_equal(o.metrics_timeout_ms, 2000);
	free(blk);
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "500", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700", 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_int_equal(o.request_timeout_ms, 700);
	assert_int_equal(o.metrics_timeout_ms, 500);
	free(blk);

	/* certificates: the generic one for both, each signal's own over it */
	fd = mkstemp(pem);
	assert_true(fd >= 0);
	close(fd);
	fd = mkstemp(pem2);
	assert_true(fd >= 0);
	close(fd);
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", pem, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_string_equal(o.ca_file, pem);
	assert_string_equal(o.metrics_ca_file, pem);
	free(blk);
	setenv("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", pem2, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_string_equal(o.ca_file, pem);
	assert_string_equal(o.metrics_ca_file, pem2);
	free(blk);
	setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", pem2, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_string_equal(o.ca_file, pem2);
	free(blk);
	unlink(pem);
	unlink(pem2);
	env_clear();
}

/* A fresh empty file under /tmp, its path in path (a mkstemp template). */
static void make_file(char *path)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
}

/* The four client files of o: traces' certificate and key, then metrics'. */
static void assert_client(const struct tvn_exporter_opts *o, const char *tc, const char *tk,
			  const char *mc, const char *mk)
{
	assert_str_or_null(o->client_cert, tc);
	assert_str_or_null(o->client_key, tk);
	assert_str_or_null(o->metrics_client_cert, mc);
	assert_str_or_null(o->metrics_client_key, mk);
}

/* Mutual TLS: the generic pair for both signals, a signal's own over it, key by key. */
static void test_env_client_cert(void **state)
{
	char c[] = "/tmp/torvyn-env-crt.XXXXXX", k[] = "/tmp/torvyn-env-key.XXXXXX";
	char tc[] = "/tmp/torvyn-env-crt.XXXXXX", tk[] = "/tmp/torvyn-env-key.XXXXXX";
	char mk[] = "/tmp/torvyn-env-key.XXXXXX";
	struct tvn_exporter_opts o;
	void *blk;

	(void)state;
	make_file(c);
	make_file(k);
	make_file(tc);
	make_file(tk);
	make_file(mk);
	env_clear();
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_client(&o, NULL, NULL, NULL, NULL);
	free(blk);

	setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", c, 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", k, 1);
	blk = read_env(&o, EXPORTER_GRPC);
	assert_client(&o, c, k, c, k);
	free(blk);

	/* the traces' own pair wins for traces only */
	setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", tc, 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", tk, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_client(&o, tc, tk, c, k);
	free(blk);

	/* a signal's own key alone: its certificate is still the generic one */
	setenv("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", mk, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_client(&o, tc, tk, c, mk);
	free(blk);

	/* per-signal pairs alone: the other signal sends no certificate */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE", tc, 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", mk, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_client(&o, NULL, NULL, tc, mk);
	free(blk);

	/* the CA file is a matter apart: it does not need a client pair */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", c, 1);
	blk = read_env(&o, EXPORTER_HTTP_PROTOBUF);
	assert_string_equal(o.ca_file, c);
	assert_client(&o, NULL, NULL, NULL, NULL);
	free(blk);

	unlink(c);
	unlink(k);
	unlink(tc);
	unlink(tk);
	unlink(mk);
	env_clear();
}

/* vars[0..n) set to vals: refused with every want[] in the message. */
static void assert_refused(const char *const *vars, const char *const *vals, int n,
			   const char *const *want)
{
	struct tvn_exporter_opts o = {.protocol = EXPORTER_HTTP_PROTOBUF};
	struct tvn_otlp_resource r = {.service_name = "torvyn-host"};
	char err[512] = "";

	env_clear();
	for (int i = 0; i < n; i++)
		setenv(vars[i], vals[i], 1);
	errno = 0;
	if (tvn_exporter__opts_from_env(&o, &r, err, sizeof(err)))
		fail_msg("%s=%s was accepted", vars[0], vals[0]);
	assert_int_equal(errno, EINVAL);
	for (int j = 0; want[j]; j++)
		if (!strstr(err, want[j]))
			fail_msg("\"%s\" lacks \"%s\"", err, want[j]);
	assert_null(o.client_cert);
	assert_null(o.client_key);
	assert_null(o.metrics_client_cert);
	env_clear();
}

/* A certificate without its key (or the reverse), and files that cannot be read. */
static void test_env_client_cert_bad(void **state)
{
	char f[] = "/tmp/torvyn-env-crt.XXXXXX", dir[] = "/tmp/torvyn-env-dir.XXXXXX";
	const char *cert = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
	const char *key = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
	const char *tkey = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
	const char *mcert = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";

	(void)state;
	make_file(f);
	assert_non_null(mkdtemp(dir));
	assert_refused((const char *[]){cert}, (const char *[]){f}, 1,
		       (const char *[]){"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=\"", f,
					"without OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY or "
					"OTEL_EXPORTER_OTLP_CLIENT_KEY",
					"set both", NULL});
	assert_refused((const char *[]){tkey}, (const char *[]){f}, 1,
		       (const char *[]){"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY=\"",
					"without OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE or "
					"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
					"set both", NULL});
	/* the traces have their pair, the metrics only a certificate */
	assert_refused((const char *[]){mcert, cert, tkey}, (const char *[]){f, f, f}, 3,
		       (const char *[]){"OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE=",
					"without OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", NULL});
	/* unreadable: missing, or a directory (which root could open) */
	assert_refused((const char *[]){cert, key}, (const char *[]){f, "/nonexistent/k.pem"}, 2,
		       (const char *[]){"OTEL_EXPORTER_OTLP_CLIENT_KEY=\"/nonexistent/k.pem\"",
					"No such file", "private key", NULL});
	assert_refused((const char *[]){cert, key}, (const char *[]){dir, f}, 2,
		       (const char *[]){"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=\"", dir,
					"Is a directory", "PEM file of the client certificate",
					NULL});
	assert_refused((const char *[]){"OTEL_EXPORTER_OTLP_CERTIFICATE"}, (const char *[]){dir}, 1,
		       (const char *[]){"Is a directory", "verify the endpoint", NULL});
	unlink(f);
	rmdir(dir);
}

struct env_case {
	const char *var, *val;
	const char *want[3]; /* substrings of the error */
};

static void test_env_malformed(void **state)
{
	static char long_name[201];
	static char many[17 * 6 + 1];
	const struct env_case cases[] = {
	    {"OTEL_EXPORTER_OTLP_ENDPOINT",
	     "localhost:4318",
	     {"OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4318\"", "expected an http:// or https://"}},
	    {"OTEL_EXPORTER_OTLP_ENDPOINT",
	     "grpc://collector:4317",
	     {"OTEL_EXPORTER_OTLP_ENDPOINT=\"grpc://collector:4317\"", "expected an http://"}},
	    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	     "collector/v1/traces",
	     {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\"collector/v1/traces\"", "expected an http://"}},
	    {"OTEL_EXPORTER_OTLP_PROTOCOL",
	     "http",
	     {"OTEL_EXPORTER_OTLP_PROTOCOL=\"http\"", "expected grpc, http/protobuf or http/json"}},
	    {"OTEL_EXPORTER_OTLP_COMPRESSION",
	     "zstd",
	     {"OTEL_EXPORTER_OTLP_COMPRESSION=\"zstd\"", "expected gzip or none"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS",
	     "a=1,novalue",
	     {"OTEL_EXPORTER_OTLP_HEADERS", "\"novalue\" has no '='", "expected key=value pairs"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS",
	     "key=%zz",
	     {"OTEL_EXPORTER_OTLP_HEADERS", "\"key=...\": bad escape", "%XX escapes"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS",
	     "key=ab%4",
	     {"OTEL_EXPORTER_OTLP_HEADERS", "bad escape"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS", "=v", {"OTEL_EXPORTER_OTLP_HEADERS", "bad key"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS",
	     "bad key=v",
	     {"OTEL_EXPORTER_OTLP_HEADERS", "\"bad key\" is not an HTTP token"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS",
	     "k=a%0d%0aEvil: 1",
	     {"OTEL_EXPORTER_OTLP_HEADERS", "header \"k\" holds a control character"}},
	    {"OTEL_EXPORTER_OTLP_HEADERS", many, {"OTEL_EXPORTER_OTLP_HEADERS", "more than 16"}},
	    {"OTEL_RESOURCE_ATTRIBUTES",
	     "service.name",
	     {"OTEL_RESOURCE_ATTRIBUTES", "\"service.name\" has no '='"}},
	    {"OTEL_SERVICE_NAME", long_name, {"OTEL_SERVICE_NAME=\"xxxx", "at most 127 bytes"}},
	    {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	     "collector:4318/v1/metrics",
	     {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=\"collector:4318/v1/metrics\"",
	      "expected an http://"}},
	    {"OTEL_EXPORTER_OTLP_TIMEOUT",
	     "10s",
	     {"OTEL_EXPORTER_OTLP_TIMEOUT=\"10s\"", "expected a timeout in milliseconds"}},
	    {"OTEL_EXPORTER_OTLP_TIMEOUT", "0", {"OTEL_EXPORTER_OTLP_TIMEOUT=\"0\"", "1 to"}},
	    {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
	     "-5",
	     {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT=\"-5\"", "milliseconds"}},
	    {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	     "99999999999",
	     {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1 to 3600000"}},
	    {"OTEL_EXPORTER_OTLP_CERTIFICATE",
	     "/nonexistent/ca.pem",
	     {"OTEL_EXPORTER_OTLP_CERTIFICATE=\"/nonexistent/ca.pem\"", "No such file",
	      "PEM file"}},
	    {"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
	     "/nonexistent/m.pem",
	     {"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", "No such file"}},
	};
	struct tvn_exporter_opts o = {.protocol = EXPORTER_HTTP_PROTOBUF, .endpoint = "http://x:1"};
	struct tvn_otlp_resource r = {.service_name = "torvyn-host"};
	char err[512];

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	for (int i = 0; i < 17; i++)
		sprintf(many + i * 6, "k%02d=v,", i);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		env_clear();
		setenv(cases[i].var, cases[i].val, 1);
		err[0] = 0;
		errno = 0;
		if (tvn_exporter__opts_from_env(&o, &r, err, sizeof(err)))
			fail_msg("case %zu (%s=%s) was accepted", i, cases[i].var, cases[i].val);
		assert_int_equal(errno, EINVAL);
		for (int j = 0; j < 3 && cases[i].want[j]; j++)
			if (!strstr(err, cases[i].want[j]))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want[j]);
		/* a malformed variable leaves the options as they were */
		assert_string_equal(o.endpoint, "http://x:1");
		assert_int_equal(o.protocol, EXPORTER_HTTP_PROTOBUF);
		assert_false(o.gzip);
		assert_int_equal(o.n_headers, 0);
		assert_string_equal(r.service_name, "torvyn-host");
	}
	env_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_good),
	    cmocka_unit_test(test_env_signals),
	    cmocka_unit_test(test_env_malformed),
	    cmocka_unit_test(test_env_client_cert),
	    cmocka_unit_test(test_env_client_cert_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
