/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "level.h"
#include "log.h"
#include "session.h"

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

static int read_line(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		got += n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
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

void tvn_control__serve(int lfd, const struct tvn_control_ops *ops)
{
	struct tvn_session *s = ops->session;
	char line[128], reply[640];
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (!read_line(fd, line, sizeof(line))) {
			answer(s, line, reply, sizeof(reply));
			if (write(fd, reply, strlen(reply)) < 0)
				pr_debug("control reply: %s\n", strerror(errno));
		}
		close(fd);
	}
}

int tvn_control__request(int pid, const char *req, char *reply, size_t len)
{
	struct sockaddr_un sa;
	socklen_t alen = control_addr(pid, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, alen)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (dprintf(fd, "%s\n", req) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* a switch takes tens of milliseconds; allow for a slow machine */
	{
		size_t got = 0;

		for (;;) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			ssize_t n;

			if (poll(&p, 1, 10000) <= 0) {
				close(fd);
				return -ETIMEDOUT;
			}
			n = read(fd, reply + got, len - 1 - got);
			if (n <= 0)
				break;
			got += n;
			if (memchr(reply, '\n', got) || got + 1 >= len)
				break;
		}
		reply[got] = '\0';
		reply[strcspn(reply, "\r\n")] = '\0';
	}
	close(fd);
	return 0;
}
