/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

static socklen_t control_addr(int pid, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* abstract namespace: sun_path[0] == '\0' */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "torvyn-trace/%d", pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

int control__listen(int pid)
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

int control__read_line(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
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

int control__request(int pid, const char *req, char *reply, size_t len)
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
			struct pollfd p = { .fd = fd, .events = POLLIN };
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
