// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The endpoint's client: one curl easy handle, reused by every request of
 * the sender thread, that posts OTLP/HTTP or OTLP/gRPC (HTTP/2: with prior
 * knowledge in cleartext, negotiated over TLS), over TLS for https
 * endpoints, each signal with its own URL, timeout and certificates (the
 * endpoint's CAs, and a client certificate for mutual TLS). What a
 * reply means is reply.c's and grpc.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_internal.h"

/* ------------------------------------------------------------ request headers */

static int add_header(struct curl_slist **l, const char *h)
{
	struct curl_slist *n = curl_slist_append(*l, h);

	if (!n)
		return -ENOMEM;
	*l = n;
	return 0;
}

/* A header of the user's: HTTP/2 (gRPC metadata) wants lower-case names. */
static int add_user_header(struct tvn_otlp_client *c, struct curl_slist **l, const char *h)
{
	char *lc;
	int err;

	if (!c->grpc)
		return add_header(l, h);
	lc = strdup(h);
	if (!lc)
		return -ENOMEM;
	for (char *p = lc; *p && *p != ':'; p++)
		*p = tolower((unsigned char)*p);
	err = add_header(l, lc);
	free(lc);
	return err;
}

/* The headers of one signal's requests, whose timeout is timeout_ms. */
static int build_headers(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o,
			 struct curl_slist **l, long timeout_ms)
{
	char buf[512];
	int err = 0;

	if (c->grpc) {
		err = err ?: add_header(l, "content-type: application/grpc");
		err = err ?: add_header(l, "te: trailers");
		snprintf(buf, sizeof(buf), "grpc-timeout: %ldm", timeout_ms);
		err = err ?: add_header(l, buf);
		if (c->gzip)
			err = err ?: add_header(l, "grpc-encoding: gzip");
	} else {
		err = add_header(l, c->protocol == EXPORTER_HTTP_JSON
					? "Content-Type: application/json"
					: "Content-Type: application/x-protobuf");
		if (c->gzip)
			err = err ?: add_header(l, "Content-Encoding: gzip");
		/* no 100-continue round trip before large bodies */
		err = err ?: add_header(l, "Expect:");
	}
	for (int i = 0; i < o->n_headers && !err; i++)
		err = add_user_header(c, l, o->headers[i]);
	return err;
}

/* ------------------------------------------------------------ curl callbacks */

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	struct tvn_otlp_resp *rsp = ud;
	size_t len = size * n, want;
	uint8_t *nb;

	if (rsp->len + len > RESP_MAX)
		return len;
	if (rsp->len + len > rsp->cap) {
		want = rsp->cap ? rsp->cap : 1024;
		while (want < rsp->len + len)
			want *= 2;
		nb = realloc(rsp->body, want);
		if (!nb)
			return len;
		rsp->body = nb;
		rsp->cap = want;
	}
	memcpy(rsp->body + rsp->len, data, len);
	rsp->len += len;
	return len;
}

/* Headers and, for HTTP/2, trailers: libcurl hands both to this callback. */
static size_t header_cb(char *line, size_t size, size_t n, void *ud)
{
	tvn_otlp_resp__header(ud, line, size * n);
	return size * n;
}

/* Lets tvn_exporter__free's deadline cut a request short. */
static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct tvn_otlp_client *c = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return tvn_export__now_ms() >= __atomic_load_n(c->stop_at_ms, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ setup */

static int curl_setup(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o)
{
	CURL *h = curl_easy_init();
	int err;

	if (!h)
		return -ENOMEM;
	c->curl = h;
	err = build_headers(c, o, &c->req_headers, c->traces_ms);
	err = err ?: build_headers(c, o, &c->metrics_headers, c->metrics_ms);
	if (err)
		return err;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, OTLP_SDK_NAME "/" OTLP_SDK_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (!c->grpc)
		return 0;
	/* cleartext: HTTP/2 with prior knowledge; https: HTTP/2 negotiated by ALPN */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	/*
	 * Before 7.89.0, a request on a reused prior-knowledge HTTP/2 connection
	 * fails with "Error in the HTTP2 framing layer" (curl issue 10634): one
	 * connection per request there.
	 */
	if (curl_version_info(CURLVERSION_NOW)->version_num < 0x075900)
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	return 0;
}

static char *dup_or_null(const char *s, int *ret)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*ret = -ENOMEM;
	return d;
}

/*
 * Each signal's certificates: the endpoint's CAs, and our own for mutual TLS
 * (each signal's pair alone: a traces pair is not for the metrics endpoint).
 */
static int tls_setup(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o)
{
	int ret = 0;

	c->traces_ca = dup_or_null(o->ca_file, &ret);
	c->metrics_ca = dup_or_null(o->metrics_ca_file ? o->metrics_ca_file : o->ca_file, &ret);
	c->traces_cert = dup_or_null(o->client_cert, &ret);
	c->traces_key = dup_or_null(o->client_key, &ret);
	c->metrics_cert = dup_or_null(o->metrics_client_cert, &ret);
	c->metrics_key = dup_or_null(o->metrics_client_key, &ret);
	return ret;
}

/* What differs per signal: the metrics URL when given apart, timeouts, certificates. */
static int signal_setup(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o, char *err,
			size_t errlen)
{
	int ret = 0;

	c->traces_ms = o->request_timeout_ms;
	c->metrics_ms = o->metrics_timeout_ms ? o->metrics_timeout_ms : o->request_timeout_ms;
	ret = tls_setup(c, o);
	if (!ret && o->metrics_endpoint) {
		free(c->metrics_url);
		c->metrics_url = tvn_otlp_url__metrics(o->metrics_endpoint, c->grpc);
		if (!c->metrics_url) {
			snprintf(
			    err, errlen,
			    "OTLP metrics endpoint \"%s\": expected an http:// or https:// URL "
			    "such as https://localhost:4318/v1/metrics",
			    o->metrics_endpoint);
			return -EINVAL;
		}
	}
	if (ret)
		snprintf(err, errlen, "cannot set up the OTLP client: %s", strerror(-ret));
	return ret;
}

int tvn_otlp_client__init(struct tvn_otlp_client *c, const struct tvn_exporter_opts *o,
			  const uint64_t *stop_at_ms, char *err, size_t errlen)
{
	CURLU *u;
	int ret;

	c->protocol = o->protocol;
	c->grpc = o->protocol == EXPORTER_GRPC;
	c->gzip = o->gzip;
	c->stop_at_ms = stop_at_ms;
	if (!o->endpoint) /* metrics only: signal_setup gives their URL */
		goto signals;
	u = tvn_otlp_url__parse(o->endpoint);
	if (!u) {
		snprintf(err, errlen,
			 "OTLP endpoint \"%s\": expected an http:// or https:// URL such as "
			 "http://localhost:%d",
			 o->endpoint, c->grpc ? 4317 : 4318);
		return -EINVAL;
	}
	ret = tvn_otlp_url__signals(u, o->endpoint, c->grpc, &c->traces_url, &c->metrics_url);
	curl_url_cleanup(u);
	if (ret)
		goto fail;
signals:
	ret = signal_setup(c, o, err, errlen);
	if (ret)
		return ret;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = curl_setup(c, o);
	if (!ret)
		return 0;
	if (!c->curl)
		curl_global_cleanup();
fail:
	snprintf(err, errlen, "cannot set up the OTLP client: %s", strerror(-ret));
	return ret;
}

void tvn_otlp_client__fini(struct tvn_otlp_client *c)
{
	curl_easy_cleanup(c->curl);
	if (c->curl)
		curl_global_cleanup();
	curl_slist_free_all(c->req_headers);
	curl_slist_free_all(c->metrics_headers);
	free(c->traces_url);
	free(c->metrics_url);
	free(c->traces_ca);
	free(c->metrics_ca);
	free(c->traces_cert);
	free(c->traces_key);
	free(c->metrics_cert);
	free(c->metrics_key);
	c->curl = NULL;
	c->req_headers = c->metrics_headers = NULL;
	c->traces_url = c->metrics_url = c->traces_ca = c->metrics_ca = NULL;
	c->traces_cert = c->traces_key = c->metrics_cert = c->metrics_key = NULL;
}

/* ------------------------------------------------------------ requests */

int tvn_otlp_client__body(const struct tvn_otlp_client *c, const struct tvn_otlp_req *r,
			  uint8_t **body, size_t *len)
{
	bool json = c->protocol == EXPORTER_HTTP_JSON;
	const void *msg = json ? (void *)r->json : r->pb;
	size_t mlen = json ? r->json_len : r->pb_len;
	size_t pre = c->grpc ? GRPC_FRAME_HDR : 0;
	uint8_t *b;
	int err;

	if (c->gzip) {
		err = tvn_gzip__deflate(msg, mlen, pre, &b, len);
		if (err)
			return err;
	} else {
		b = malloc(pre + mlen + 1);
		if (!b)
			return -ENOMEM;
		memcpy(b + pre, msg, mlen);
		*len = pre + mlen;
	}
	if (c->grpc)
		tvn_grpc__frame(b, c->gzip, *len - pre);
	*body = b;
	return 0;
}

static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* What a TLS failure means to whoever set the variables. */
static const char *tls_hint(CURLcode rc, bool traces)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return traces ? "TLS: the endpoint's certificate is not trusted (check "
				"OTEL_EXPORTER_OTLP_CERTIFICATE or _TRACES_CERTIFICATE): "
			      : "TLS: the endpoint's certificate is not trusted (check "
				"OTEL_EXPORTER_OTLP_CERTIFICATE or _METRICS_CERTIFICATE): ";
	case CURLE_SSL_CACERT_BADFILE:
		return "TLS: cannot load the certificate file: ";
	case CURLE_SSL_CERTPROBLEM:
		return "TLS: the client certificate or key cannot be used (check "
		       "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY): ";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS: handshake failed: ";
	default:
		return "";
	}
}

/*
 * Whether this transfer opened a TLS connection and got no reply on it at
 * all: how a TLS 1.3 endpoint that refuses our client certificate (or its
 * absence) can look when it resets the connection before curl reads its
 * alert ("Send failure: Connection reset by peer", "getpeername() failed").
 */
static bool closed_fresh_tls(CURL *h, CURLcode rc)
{
	const char *scheme = NULL;
	long conns = 0, hdr = 0;

	if (rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR && rc != CURLE_HTTP2)
		return false;
	curl_easy_getinfo(h, CURLINFO_SCHEME, &scheme);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &hdr);
	return scheme && !strcasecmp(scheme, "https") && conns > 0 && hdr == 0;
}

/*
 * The endpoint refused us over TLS: with an alert during the handshake (TLS
 * 1.2, "handshake failure"), or, as TLS 1.3 checks client certificates after
 * the client's side of it, on the first read or write ("certificate
 * required"), or by closing the fresh connection. Trying again would not
 * change its mind. A fresh connection closed without an alert is also what
 * an endpoint going down looks like: it counts as a refusal only the second
 * time in a row (c->fresh_closes), so that one such close is retried.
 */
static bool tls_refused(struct tvn_otlp_client *c, CURLcode rc, const char *why)
{
	bool alert = strstr(why, " alert ") != NULL;

	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
		return alert;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_HTTP2:
		return alert || c->fresh_closes >= 2;
	default:
		return false;
	}
}

/* A refusal: whether we offered a client certificate decides the hint. */
static const char *refused_hint(struct tvn_otlp_client *c, bool traces)
{
	bool *hinted = &c->cert_hinted[!traces];

	if (traces ? c->traces_cert : c->metrics_cert)
		return "TLS: the endpoint refused the connection (does it trust our client "
		       "certificate?): ";
	if (*hinted)
		return "TLS: the endpoint refused the connection: ";
	*hinted = true; /* once per signal: the lines after it say the rest */
	return "TLS: the endpoint refused the connection and may require a client certificate "
	       "(set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY): ";
}

/* A transfer that failed before any HTTP reply: why, and whether to try again. */
static void curl_failure(struct tvn_otlp_client *c, CURLcode rc, bool traces,
			 struct tvn_otlp_result *res)
{
	const char *why = c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc);
	bool refused = tls_refused(c, rc, why);
	const char *hint = refused ? refused_hint(c, traces) : tls_hint(rc, traces);

	/* cut to fit: the hint comes first */
	if (snprintf(res->msg, sizeof(res->msg), "%s%s", hint, why) < 0)
		res->msg[0] = 0;
	res->outcome = !refused && curl_retryable(rc) ? EXPORT_RETRY : EXPORT_FAIL;
}

void tvn_otlp_client__post(struct tvn_otlp_client *c, const char *url, const uint8_t *body,
			   size_t len, bool traces, struct tvn_otlp_result *res)
{
	struct tvn_otlp_resp rsp = {.grpc_status = -1};
	long code = 0;
	CURLcode rc;

	long ms = traces ? c->traces_ms : c->metrics_ms;

	memset(res, 0, sizeof(*res));
	res->delay_ms = -1;
	c->curl_err[0] = 0;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, traces ? c->req_headers : c->metrics_headers);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
	/* NULL restores the system's bundle */
	curl_easy_setopt(c->curl, CURLOPT_CAINFO, traces ? c->traces_ca : c->metrics_ca);
	/* mutual TLS; NULL sends no client certificate */
	curl_easy_setopt(c->curl, CURLOPT_SSLCERT, traces ? c->traces_cert : c->metrics_cert);
	curl_easy_setopt(c->curl, CURLOPT_SSLKEY, traces ? c->traces_key : c->metrics_key);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &rsp);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &rsp);
	rc = curl_easy_perform(c->curl);
	/* in a row: an answer, or any other failure, starts the count again */
	c->fresh_closes = closed_fresh_tls(c->curl, rc) ? c->fresh_closes + 1 : 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(res->msg, sizeof(res->msg), "cut short by the exit deadline");
		res->outcome = EXPORT_ABORT;
	} else if (rc != CURLE_OK) {
		curl_failure(c, rc, traces, res);
	} else {
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
		if (c->grpc)
			tvn_otlp_client__grpc_result(c, &rsp, code, traces, res);
		else
			tvn_otlp_client__http_result(c, &rsp, code, traces, res);
	}
	free(rsp.body);
}
