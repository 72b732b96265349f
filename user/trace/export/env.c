// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tvn_exporter__opts_from_env: the standard OTEL_* variables into exporter
 * options and the resource, all or nothing. The strings the options point at
 * live in one block the caller frees.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export_internal.h"

#define ENV_ENDPOINT "OTEL_EXPORTER_OTLP_ENDPOINT"
#define ENV_TRACES_ENDPOINT "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
#define ENV_METRICS_ENDPOINT "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
#define ENV_PROTOCOL "OTEL_EXPORTER_OTLP_PROTOCOL"
#define ENV_HEADERS "OTEL_EXPORTER_OTLP_HEADERS"
#define ENV_COMPRESSION "OTEL_EXPORTER_OTLP_COMPRESSION"
#define ENV_SERVICE_NAME "OTEL_SERVICE_NAME"
#define ENV_RESOURCE_ATTRS "OTEL_RESOURCE_ATTRIBUTES"
#define ENV_CERTIFICATE "OTEL_EXPORTER_OTLP_CERTIFICATE"
#define ENV_CLIENT_CERT "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
#define ENV_CLIENT_KEY "OTEL_EXPORTER_OTLP_CLIENT_KEY"

#define KV_EXPECTED "expected key=value pairs separated by commas, with %%XX escapes"

/* The block tvn_exporter__opts_from_env returns: the strings opts points at. */
struct env_store {
	char *p, *end;
};

static char *store_put(struct env_store *s, const char *a, size_t alen, const char *b, size_t blen)
{
	char *d = s->p;

	if ((size_t)(s->end - s->p) < alen + blen + 1)
		return NULL;
	memcpy(d, a, alen);
	memcpy(d + alen, b, blen);
	d[alen + blen] = 0;
	s->p += alen + blen + 1;
	return d;
}

/* The spec treats an empty variable as an unset one. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ------------------------------------------------------------ key=value lists */

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long tvn_percent__decode(char *dst, size_t dstlen, const char *s, size_t len, bool strict)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < dstlen; i++) {
		bool esc =
		    s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0;

		if (esc) {
			dst[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '%' && strict) {
			return -1;
		} else {
			dst[o++] = s[i];
		}
	}
	dst[o] = 0;
	return (long)o;
}

typedef int (*kv_fn)(const char *key, const char *val, size_t vlen, void *ctx, char *err,
		     size_t errlen);

/*
 * One entry ent[0..elen) of a list: key and val (each elen + 1 bytes) get its
 * sides, trimmed and percent-decoded, for fn.
 */
static int kv_entry(const char *var, const char *ent, size_t elen, char *key, char *val, kv_fn fn,
		    void *ctx, char *err, size_t errlen)
{
	const char *eq = memchr(ent, '=', elen), *k = ent, *v;
	size_t klen, vlen;
	long kn, vn;

	if (!eq) {
		snprintf(err, errlen, "%s: entry \"%.*s\" has no '=': " KV_EXPECTED, var, (int)elen,
			 ent);
		return -EINVAL;
	}
	klen = eq - ent;
	v = eq + 1;
	vlen = ent + elen - v;
	trim(&k, &klen);
	trim(&v, &vlen);
	kn = tvn_percent__decode(key, klen + 1, k, klen, true);
	vn = tvn_percent__decode(val, vlen + 1, v, vlen, true);
	if (kn <= 0 || vn < 0 || strlen(key) != (size_t)kn) {
		snprintf(err, errlen, "%s: entry \"%.*s=...\": %s: " KV_EXPECTED, var, (int)klen, k,
			 kn <= 0 ? "bad key" : "bad escape in the value");
		return -EINVAL;
	}
	return fn(key, val, (size_t)vn, ctx, err, errlen);
}

/*
 * Calls fn for every key=value of a comma-separated list (W3C baggage style,
 * as OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES use), both sides
 * trimmed and percent-decoded. Errors name the entry, not the whole list: it
 * may hold credentials.
 */
static int kv_parse(const char *var, const char *list, kv_fn fn, void *ctx, char *err,
		    size_t errlen)
{
	char *key = NULL, *val = NULL;
	const char *p = list;
	int ret = 0;

	key = malloc(strlen(list) + 1);
	val = malloc(strlen(list) + 1);
	if (!key || !val) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (*p && !ret) {
		const char *ent = p;
		size_t elen = strcspn(p, ",");

		p += elen + (p[elen] == ',');
		trim(&ent, &elen);
		if (elen)
			ret = kv_entry(var, ent, elen, key, val, fn, ctx, err, errlen);
	}
out:
	free(key);
	free(val);
	return ret;
}

/* ------------------------------------------------------------ the variables */

struct env_headers {
	struct tvn_exporter_opts *o;
	struct env_store *s;
};

static int env_header(const char *key, const char *val, size_t vlen, void *ctx, char *err,
		      size_t errlen)
{
	struct env_headers *h = ctx;
	char *hdr;

	for (const char *c = key; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("!#$%&'*+-.^_`|~", *c)) {
			snprintf(err, errlen,
				 "%s: header name \"%s\" is not an HTTP token: " KV_EXPECTED,
				 ENV_HEADERS, key);
			return -EINVAL;
		}
	}
	if (strlen(val) != vlen || strpbrk(val, "\r\n")) {
		snprintf(err, errlen, "%s: the value of header \"%s\" holds a control character",
			 ENV_HEADERS, key);
		return -EINVAL;
	}
	if (h->o->n_headers >= EXPORTER_MAX_HEADERS) {
		snprintf(err, errlen, "%s: more than %d headers", ENV_HEADERS,
			 EXPORTER_MAX_HEADERS);
		return -EINVAL;
	}
	hdr = store_put(h->s, key, strlen(key), ": ", 2);
	if (!hdr)
		return -ENOMEM;
	h->s->p--; /* the value goes on where the NUL was */
	if (!store_put(h->s, "", 0, val, vlen))
		return -ENOMEM;
	h->o->headers[h->o->n_headers++] = hdr;
	return 0;
}

static int set_field(char *dst, size_t size, const char *var, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (strlen(val) >= size) {
		snprintf(err, errlen, "%s: %s \"%s\" is too long: expected at most %zu bytes", var,
			 key, val, size - 1);
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

/*
 * service.name names the service; every other attribute goes to extra, where
 * otlp_common.c lets the fields the tracer fills (host.name...) win over a repeat.
 */
static int env_resource_attr(const char *key, const char *val, size_t vlen, void *ctx, char *err,
			     size_t errlen)
{
	struct tvn_otlp_resource *r = ctx;
	struct tvn_otlp_kv *kv = NULL;
	const char *var = ENV_RESOURCE_ATTRS;
	int max = sizeof(r->extra) / sizeof(r->extra[0]);

	(void)vlen;
	if (!strcmp(key, "service.name"))
		return set_field(r->service_name, sizeof(r->service_name), var, key, val, err,
				 errlen);
	if (strlen(key) >= sizeof(kv->key)) {
		snprintf(err, errlen, "%s: key \"%s\" is too long: expected at most %zu bytes", var,
			 key, sizeof(kv->key) - 1);
		return -EINVAL;
	}
	for (int i = 0; i < r->n_extra && !kv; i++)
		if (!strcmp(r->extra[i].key, key))
			kv = &r->extra[i]; /* the last one wins */
	if (!kv) {
		if (r->n_extra >= max) {
			snprintf(err, errlen, "%s: more than %d attributes besides service.name",
				 var, max);
			return -EINVAL;
		}
		kv = &r->extra[r->n_extra++];
	}
	memset(kv, 0, sizeof(*kv));
	strcpy(kv->key, key);
	kv->type = OTLP_STR;
	return set_field(kv->str, sizeof(kv->str), var, key, val, err, errlen);
}

/*
 * An endpoint variable's value into *out: as is, or what derive makes of it.
 * 0 or -errno with err set.
 */
static int put_endpoint(const char *var, const char *val, int (*derive)(CURLU *u, char **url),
			const char **out, struct env_store *s, char *err, size_t errlen)
{
	char *url = NULL;
	CURLU *u = tvn_otlp_url__parse(val);
	int ret = 0;

	if (!u) {
		snprintf(err, errlen,
			 "%s=\"%s\": expected an http:// or https:// URL such as "
			 "http://localhost:4318 (http/protobuf) or http://localhost:4317 (grpc)",
			 var, val);
		return -EINVAL;
	}
	if (derive)
		ret = derive(u, &url);
	if (!ret) {
		const char *ok = url ? url : val;

		*out = store_put(s, ok, strlen(ok), "", 0);
		if (!*out)
			ret = -ENOMEM;
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	curl_free(url);
	curl_url_cleanup(u);
	return ret;
}

/*
 * OTEL_EXPORTER_OTLP_ENDPOINT is a base URL for every signal: over HTTP,
 * traces go to its path + /v1/traces even when it has a path. The exporter
 * then takes that path as is and derives /v1/metrics from it.
 */
static int env_endpoint(struct tvn_exporter_opts *o, struct env_store *s, char *err, size_t errlen)
{
	const char *tep = env_get(ENV_TRACES_ENDPOINT), *ep = env_get(ENV_ENDPOINT);

	if (!tep && !ep)
		return 0;
	return put_endpoint(tep ? ENV_TRACES_ENDPOINT : ENV_ENDPOINT, tep ?: ep,
			    !tep && o->protocol != EXPORTER_GRPC ? tvn_otlp_url__base_traces : NULL,
			    &o->endpoint, s, err, errlen);
}

/*
 * Metrics go to OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is; else, when the
 * traces have their own endpoint, to the generic one's path + /v1/metrics
 * (gRPC: its host and port); else where the traces endpoint says.
 */
static int env_metrics_endpoint(struct tvn_exporter_opts *o, struct env_store *s, char *err,
				size_t errlen)
{
	const char *mep = env_get(ENV_METRICS_ENDPOINT), *ep = env_get(ENV_ENDPOINT);

	if (!mep && !(ep && env_get(ENV_TRACES_ENDPOINT)))
		return 0;
	return put_endpoint(mep ? ENV_METRICS_ENDPOINT : ENV_ENDPOINT, mep ?: ep,
			    !mep && o->protocol != EXPORTER_GRPC ? tvn_otlp_url__base_metrics
								 : NULL,
			    &o->metrics_endpoint, s, err, errlen);
}

/*
 * A per-signal variable (OTEL_EXPORTER_OTLP_TRACES_X) over the generic one
 * (OTEL_EXPORTER_OTLP_X); *var names the one given.
 */
static const char *env_signal(const char *generic, const char *specific, const char **var)
{
	const char *v = env_get(specific);

	*var = v ? specific : generic;
	return v ?: env_get(generic);
}

#define TIMEOUT_MAX_MS 3600000

/* OTEL_EXPORTER_OTLP_[signal_]TIMEOUT: milliseconds, 1 .. one hour. */
static int env_timeout(const char *specific, uint32_t *out, char *err, size_t errlen)
{
	const char *var, *v = env_signal("OTEL_EXPORTER_OTLP_TIMEOUT", specific, &var);
	char *end;
	unsigned long ms;

	if (!v)
		return 0;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end || errno || !ms || ms > TIMEOUT_MAX_MS) {
		snprintf(err, errlen,
			 "%s=\"%s\": expected a timeout in milliseconds, 1 to %d (10000 is "
			 "10 s)",
			 var, v, TIMEOUT_MAX_MS);
		return -EINVAL;
	}
	*out = (uint32_t)ms;
	return 0;
}

/*
 * Whether path can be read: it opens (as whoever we run as: root reads any
 * mode) and is not a directory. 0 or -errno.
 */
static int readable_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	close(fd);
	return ret;
}

/*
 * OTEL_EXPORTER_OTLP_[signal_]X, a PEM file we can read, into *out (and the
 * variable that gave it into *var); expected says what the file holds.
 */
static int env_pem(const char *generic, const char *specific, const char *expected,
		   const char **out, const char **var, struct env_store *s, char *err,
		   size_t errlen)
{
	const char *v = env_signal(generic, specific, var);
	int ret;

	if (!v)
		return 0;
	ret = readable_file(v);
	if (ret) {
		snprintf(err, errlen, "%s=\"%s\": %s: expected %s", *var, v, strerror(-ret),
			 expected);
		return -EINVAL;
	}
	*out = store_put(s, v, strlen(v), "", 0);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* OTEL_EXPORTER_OTLP_[signal_]CERTIFICATE: the certificates that verify the endpoint. */
static int env_certificate(const char *specific, const char **out, struct env_store *s, char *err,
			   size_t errlen)
{
	const char *var;

	return env_pem(ENV_CERTIFICATE, specific,
		       "the PEM file of the certificates that verify the endpoint", out, &var, s,
		       err, errlen);
}

/*
 * OTEL_EXPORTER_OTLP_[signal_]CLIENT_CERTIFICATE and _CLIENT_KEY, into *cert
 * and *key: mutual TLS, a signal's own over the generic ones. Both or neither.
 */
static int env_client(const char *cert_var, const char *key_var, const char **cert,
		      const char **key, struct env_store *s, char *err, size_t errlen)
{
	const char *c = NULL, *k = NULL, *cvar, *kvar;
	int ret;

	ret = env_pem(ENV_CLIENT_CERT, cert_var,
		      "the PEM file of the client certificate the endpoint authenticates us by", &c,
		      &cvar, s, err, errlen);
	ret = ret
		  ?: env_pem(ENV_CLIENT_KEY, key_var,
			     "the PEM file of the client certificate's private key (unencrypted)",
			     &k, &kvar, s, err, errlen);
	if (ret)
		return ret;
	if (!c != !k) {
		snprintf(err, errlen,
			 "%s=\"%s\" without %s or %s: set both the client certificate and its key",
			 c ? cvar : kvar, c ?: k, c ? key_var : cert_var,
			 c ? ENV_CLIENT_KEY : ENV_CLIENT_CERT);
		return -EINVAL;
	}
	*cert = c ?: *cert;
	*key = k ?: *key;
	return 0;
}

static int env_signals(struct tvn_exporter_opts *o, struct env_store *s, char *err, size_t errlen)
{
	int ret;

	ret = env_timeout("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", &o->request_timeout_ms, err, errlen);
	ret = ret
		  ?: env_timeout("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", &o->metrics_timeout_ms, err,
				 errlen);
	ret = ret
		  ?: env_certificate("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &o->ca_file, s, err,
				     errlen);
	ret = ret
		  ?: env_certificate("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", &o->metrics_ca_file,
				     s, err, errlen);
	ret = ret
		  ?: env_client("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
				"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", &o->client_cert,
				&o->client_key, s, err, errlen);
	ret = ret
		  ?: env_client("OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
				"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", &o->metrics_client_cert,
				&o->metrics_client_key, s, err, errlen);
	return ret;
}

/* A variable that takes one of a few words. */
struct env_choice {
	const char *word;
	int value;
};

static const struct env_choice protocols[] = {
    {"grpc", EXPORTER_GRPC},
    {"http/protobuf", EXPORTER_HTTP_PROTOBUF},
    {"http/json", EXPORTER_HTTP_JSON},
    {NULL, 0},
};

static const struct env_choice compressions[] = {
    {"gzip", true},
    {"none", false},
    {NULL, 0},
};

/*
 * The value of the word var holds among choices, into *out: 1, or 0 if var
 * is unset, or -EINVAL with err set (expected lists the words).
 */
static int env_choose(const char *var, const struct env_choice *choices, const char *expected,
		      int *out, char *err, size_t errlen)
{
	const char *v = env_get(var);

	if (!v)
		return 0;
	for (const struct env_choice *c = choices; c->word; c++) {
		if (!strcmp(v, c->word)) {
			*out = c->value;
			return 1;
		}
	}
	snprintf(err, errlen, "%s=\"%s\": expected %s", var, v, expected);
	return -EINVAL;
}

static int env_protocol(struct tvn_exporter_opts *o, char *err, size_t errlen)
{
	int v, ret;

	ret = env_choose(ENV_PROTOCOL, protocols, "grpc, http/protobuf or http/json", &v, err,
			 errlen);
	if (ret > 0)
		o->protocol = (enum tvn_exporter_protocol)v;
	return ret < 0 ? ret : 0;
}

static int env_compression(struct tvn_exporter_opts *o, char *err, size_t errlen)
{
	int v, ret;

	ret = env_choose(ENV_COMPRESSION, compressions, "gzip or none", &v, err, errlen);
	if (ret > 0)
		o->gzip = v;
	return ret < 0 ? ret : 0;
}

static int env_headers(struct tvn_exporter_opts *o, struct env_store *s, const char *hdrs,
		       char *err, size_t errlen)
{
	struct env_headers h = {.o = o, .s = s};
	int ret;

	o->n_headers = 0;
	ret = kv_parse(ENV_HEADERS, hdrs, env_header, &h, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

static int env_resource(struct tvn_otlp_resource *r, char *err, size_t errlen)
{
	const char *attrs = env_get(ENV_RESOURCE_ATTRS), *svc = env_get(ENV_SERVICE_NAME);
	int ret;

	if (attrs) {
		ret = kv_parse(ENV_RESOURCE_ATTRS, attrs, env_resource_attr, r, err, errlen);
		if (ret)
			return ret;
	}
	/* OTEL_SERVICE_NAME wins over OTEL_RESOURCE_ATTRIBUTES' service.name */
	if (svc && strlen(svc) >= sizeof(r->service_name)) {
		snprintf(err, errlen, "%s=\"%s\" is too long: expected at most %zu bytes",
			 ENV_SERVICE_NAME, svc, sizeof(r->service_name) - 1);
		return -EINVAL;
	}
	if (svc)
		strcpy(r->service_name, svc);
	return 0;
}

/* What the strings of every variable may take in the block, endpoint rewritten. */
static size_t store_size(void)
{
	static const char *const also[] = {
	    ENV_METRICS_ENDPOINT,
	    ENV_CERTIFICATE,
	    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
	    "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
	    ENV_CLIENT_CERT,
	    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
	    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
	    ENV_CLIENT_KEY,
	    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
	    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
	};
	const char *ep = env_get(ENV_ENDPOINT), *tep = env_get(ENV_TRACES_ENDPOINT);
	const char *hdrs = env_get(ENV_HEADERS);
	size_t size = 64;

	size += (tep ? strlen(tep) : ep ? strlen(ep) : 0) * 3 + sizeof(TRACES_PATH);
	/* the metrics endpoint, from the generic one, and each PEM file's path */
	size += (ep ? strlen(ep) : 0) * 3 + sizeof(TRACES_PATH);
	for (size_t i = 0; i < sizeof(also) / sizeof(also[0]); i++)
		size += env_get(also[i]) ? strlen(env_get(also[i])) * 3 + 1 : 0;
	size += hdrs ? strlen(hdrs) + 2 * (strlen(hdrs) + 1) : 0;
	return size;
}

void *tvn_exporter__opts_from_env(struct tvn_exporter_opts *opts, struct tvn_otlp_resource *res,
				  char *err, size_t errlen)
{
	const char *hdrs = env_get(ENV_HEADERS);
	size_t size = store_size();
	struct tvn_exporter_opts o;
	struct tvn_otlp_resource r;
	struct env_store s;
	char *block;
	int ret;

	if (!opts || !res) {
		snprintf(err, errlen, "no options to fill");
		errno = EINVAL;
		return NULL;
	}
	/* work on copies: a malformed variable leaves opts and res as they were */
	o = *opts;
	r = *res;
	block = calloc(1, size);
	if (!block) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s.p = block;
	s.end = block + size;
	ret = env_protocol(&o, err, errlen);
	ret = ret ?: env_endpoint(&o, &s, err, errlen);
	ret = ret ?: env_metrics_endpoint(&o, &s, err, errlen);
	ret = ret ?: env_signals(&o, &s, err, errlen);
	ret = ret ?: env_compression(&o, err, errlen);
	if (!ret && hdrs)
		ret = env_headers(&o, &s, hdrs, err, errlen);
	ret = ret ?: env_resource(&r, err, errlen);
	if (ret) {
		free(block);
		errno = -ret;
		return NULL;
	}
	*opts = o;
	*res = r;
	return block;
}
