/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "level.h"
#include "log.h"
#include "session.h"

/* How long a reader waits for the next bytes: a switch takes tens of ms. */
#define CLIENT_WAIT_MS 10000
#define SERVER_WAIT_MS 2000
/* A scrape reply goes out within this, or the client is dropped: the loop waits on it. */
#define SERVER_SEND_MS 5000

static socklen_t control_addr(int pid, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* abstract namespace: sun_path[0] == '\0' */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "torvyn-trace/%d", pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int tvn_control__listen(int pid)
{
	struct sockaddr_un sa;
	socklen_t len = control_addr(pid, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 8)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static uint64_t mono_ms(void)
{
	return tvn_time__mono_ns() / 1000000;
}

/*
 * Waits up to ms for events on fd: 1 when ready, 0 at the deadline. A signal
 * caught meanwhile (a terminal resize under top, a stop asked for) is not the
 * deadline: the wait goes on for what is left of it.
 */
static int wait_fd(int fd, short events, int ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)(ms > 0 ? ms : 0);
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		uint64_t now = mono_ms();
		int n = poll(&p, 1, now < deadline ? (int)(deadline - now) : 0);

		if (n >= 0)
			return n > 0;
		if (errno != EINTR)
			return 0;
	}
}

/* One read after waiting up to ms for data: bytes read, 0 at EOF, or -errno. */
static ssize_t read_some(int fd, void *buf, size_t len, int ms)
{
	ssize_t n;

	if (!wait_fd(fd, POLLIN, ms))
		return -ETIMEDOUT;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * Reads until a newline, EOF or a full buf (NUL-terminated), within ms in
 * all: a peer that trickles bytes cannot hold the reader longer. Returns the
 * bytes read, which may run past the line, or -errno.
 */
static ssize_t read_line(int fd, char *buf, size_t len, int ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)ms;
	size_t got = 0;

	while (got + 1 < len) {
		uint64_t now = mono_ms();
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = read_some(fd, buf + got, len - 1 - got, (int)(deadline - now));
		if (n < 0)
			return n;
		if (!n)
			break;
		got += n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void answer(struct tvn_session *s, const char *line, char *reply, size_t len)
{
	struct tvn_err e = {0};
	uint64_t ns = 0;
	int level, rc;

	if (!strcmp(line, "status")) {
		snprintf(reply, len, "ok %s\n", tvn_level__name(tvn_session__level(s)));
		return;
	}
	if (strncmp(line, "level ", 6) || (level = tvn_level__parse(line + 6)) < 0) {
		snprintf(reply, len, "err %s unknown request '%s'\n",
			 tvn_cause__name(TVN_CAUSE_USAGE), line);
		return;
	}
	rc = tvn_session__set_level(s, level, &ns, &e);
	if (rc)
		snprintf(reply, len, "err %s %s\n", tvn_cause__name(e.cause), e.msg);
	else
		snprintf(reply, len, "ok %s %llu\n", tvn_level__name(level),
			 (unsigned long long)ns);
	pr_info("level %s: %s (%.1f ms)\n", line + 6, rc ? e.msg : "done", ns / 1e6);
}


/* Sends all of buf before deadline (CLOCK_MONOTONIC ms); 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len) {
		uint64_t now = mono_ms();
		ssize_t n;

		if (now >= deadline || !wait_fd(fd, POLLOUT, (int)(deadline - now)))
			return -ETIMEDOUT;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0) {
			buf += n;
			len -= n;
		}
	}
	return 0;
}

/* "scrape": "ok BYTES\n" and the target's Prometheus text, or one "err" line. */
static int answer_scrape(int fd, const struct tvn_control_ops *ops)
{
	uint64_t deadline = mono_ms() + SERVER_SEND_MS;
	char head[64], *body = NULL;
	size_t len = 0;
	int rc = ops->render ? ops->render(ops->ctx, &body, &len) : -EOPNOTSUPP;

	if (rc) {
		snprintf(head, sizeof(head), "err %s cannot render metrics: %s\n",
			 tvn_cause__name(TVN_CAUSE_INTERNAL), strerror(-rc));
		return send_all(fd, head, strlen(head), deadline);
	}
	snprintf(head, sizeof(head), "ok %zu\n", len);
	rc = send_all(fd, head, strlen(head), deadline);
	if (!rc)
		rc = send_all(fd, body, len, deadline);
	free(body);
	return rc;
}

/*
 * May the peer of fd command this tracer? Root, the user who started the
 * tracer, or a member of the group allowed with --control-group.
 */
static bool allowed(int fd, int allow_gid, struct ucred *cred)
{
	gid_t groups[256];
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len))
		return false;
	if (cred->uid == 0 || cred->uid == getuid())
		return true;
	if (allow_gid < 0)
		return false;
	if (cred->gid == (gid_t)allow_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t i = 0; i < len / sizeof(groups[0]); i++) {
		if (groups[i] == (gid_t)allow_gid)
			return true;
	}
	return false;
}

static int refuse(int fd, const struct ucred *cred)
{
	char reply[320];

	snprintf(reply, sizeof(reply),
		 "err %s uid %u may not command this torvyn-trace: run as root or as uid %u, or "
		 "start the tracer with --control-group naming a group of yours\n",
		 tvn_cause__name(TVN_CAUSE_PERMISSION), (unsigned)cred->uid, (unsigned)getuid());
	pr_warn("control: refused uid %u (pid %d): not root, not uid %u, not in the control "
		"group\n",
		(unsigned)cred->uid, (int)cred->pid, (unsigned)getuid());
	return send_all(fd, reply, strlen(reply), mono_ms() + SERVER_WAIT_MS);
}

/* One connection: its request line (within SERVER_WAIT_MS in all), then who asks, then the answer. */
static void serve_one(int fd, const struct tvn_control_ops *ops)
{
	char line[128], reply[640];
	struct ucred cred;
	int rc;

	if (read_line(fd, line, sizeof(line), SERVER_WAIT_MS) <= 0)
		return;
	if (!allowed(fd, ops->allow_gid, &cred)) {
		refuse(fd, &cred);
		return;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!strcmp(line, "scrape")) {
		rc = answer_scrape(fd, ops);
	} else {
		answer(ops->session, line, reply, sizeof(reply));
		rc = send_all(fd, reply, strlen(reply), mono_ms() + SERVER_WAIT_MS);
	}
	if (rc)
		pr_debug("control reply: %s\n", strerror(-rc));
}

void tvn_control__serve(int lfd, const struct tvn_control_ops *ops)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve_one(fd, ops);
		close(fd);
	}
}

/* A connected socket to the session of pid with req sent; fd or -errno. */
static int connect_send(int pid, const char *req)
{
	struct sockaddr_un sa;
	socklen_t alen = control_addr(pid, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	char line[160];
	int n = snprintf(line, sizeof(line), "%s\n", req);

	if (fd < 0)
		return -errno;
	/* no SIGPIPE: a session that refuses may close before it reads */
	if (connect(fd, (struct sockaddr *)&sa, alen) ||
	    send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int tvn_control__request(int pid, const char *req, char *reply, size_t len)
{
	int fd = connect_send(pid, req);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read_line(fd, reply, len, CLIENT_WAIT_MS);
	close(fd);
	if (n < 0)
		return (int)n;
	reply[strcspn(reply, "\r\n")] = '\0';
	return 0;
}

/* The body of a scrape whose first got bytes (after the head) are in buf already. */
static int read_body(int fd, size_t want, const char *buf, size_t got, char **body)
{
	char *b;

	got = got < want ? got : want; /* past BYTES is not the body */
	b = malloc(want + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, buf, got);
	while (got < want) {
		ssize_t n = read_some(fd, b + got, want - got, CLIENT_WAIT_MS);

		if (n <= 0) {
			free(b);
			return n ? (int)n : -EPROTO;
		}
		got += n;
	}
	b[want] = '\0';
	*body = b;
	return 0;
}

int tvn_control__scrape(int pid, char **body, size_t *len)
{
	char head[256], *nl, *end;
	unsigned long long want;
	ssize_t n;
	int fd = connect_send(pid, "scrape"), rc;

	if (fd < 0)
		return fd;
	n = read_line(fd, head, sizeof(head), CLIENT_WAIT_MS);
	nl = n > 0 ? memchr(head, '\n', n) : NULL;
	if (n < 0 || !nl) {
		close(fd);
		return n < 0 ? (int)n : -EPROTO;
	}
	*nl = '\0';
	if (strncmp(head, "ok ", 3)) {
		close(fd);
		/* a session older than "scrape" calls it a usage error */
		return !strncmp(head, "err usage ", 10) ? -EOPNOTSUPP : -EPROTO;
	}
	errno = 0;
	want = strtoull(head + 3, &end, 10);
	if (errno || end == head + 3 || *end) {
		close(fd);
		return -EPROTO;
	}
	if (want > TVN_CONTROL_SCRAPE_MAX) {
		close(fd);
		return -EFBIG;
	}
	rc = read_body(fd, want, nl + 1, (size_t)(head + n - (nl + 1)), body);
	close(fd);
	if (!rc)
		*len = want;
	return rc;
}
