/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the exporter's unit tests share (otlp_rx.c): a tiny HTTP/1.1
 * collector on a thread of the test (127.0.0.1, ephemeral port) whose answers
 * each test scripts, the options every test starts from, and polling.
 */
#ifndef TORVYN_TEST_OTLP_RX_H
#define TORVYN_TEST_OTLP_RX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "exporter.h"

/* The monotonic clock in milliseconds. */
uint64_t now_ms(void);

/* Polls expr every 2 ms for up to ms milliseconds; true once it holds. */
#define WAIT_FOR(expr, ms)                                                                         \
	({                                                                                         \
		uint64_t _until = now_ms() + (ms);                                                 \
		bool _ok;                                                                          \
		while (!(_ok = (expr)) && now_ms() < _until)                                       \
			usleep(2000);                                                              \
		_ok;                                                                               \
	})

#define RX_MAX_REQS 32
#define RX_MAX_SCRIPT 8

struct rx_req {
	char method[16];
	char path[256];
	char hdrs[4096]; /* the header lines as received */
	uint8_t *body;
	size_t len;
	uint64_t t_ms; /* when the request was complete */
};

struct rx_reply {
	int status;	     /* 0: 200 */
	const char *headers; /* extra lines, each ending in \r\n */
	const void *body;
	size_t len;
};

struct rx {
	int lfd;
	int port;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct rx_req reqs[RX_MAX_REQS];
	int n;
	struct rx_reply script[RX_MAX_SCRIPT]; /* the answer to request i; then 200 */
	int stall; /* request index that waits for rx_release(); -1: none */
	bool released, stop;
};

int rx_count(struct rx *rx);

/* Lets the stalled request (rx->stall) have its answer. */
void rx_release(struct rx *rx);

/* The value of header name in req (case-insensitive), or NULL. */
const char *rx_header(const struct rx_req *req, const char *name, char *val, size_t vlen);

/* A socket bound to an ephemeral port of 127.0.0.1, not listening. */
int listen_any(int *port);

struct rx *rx_start(void);
void rx_stop(struct rx *rx); /* frees the requests received */

struct tvn_exporter_stats stats(struct tvn_exporter *e);

/*
 * Protobuf to rx (NULL: no endpoint; url holds its URL), batches of 512
 * flushed by the tests, 64 of them queued.
 */
struct tvn_exporter_opts base_opts(struct rx *rx, char *url, size_t urllen);

#endif /* TORVYN_TEST_OTLP_RX_H */
