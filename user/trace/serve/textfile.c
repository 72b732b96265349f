/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "textfile.h"

int tvn_textfile__check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return access(dir, W_OK) ? -errno : 0;
}

int tvn_textfile__write(const char *dir, int pid, const char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "torvyn-%d.prom", pid);
	return tvn_textfile__write_named(dir, name, buf, len);
}

int tvn_textfile__write_named(const char *dir, const char *name, const char *buf, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	size_t off = 0;
	int fd, rc = 0;

	/* the collector reads *.prom only: the temporary name does not match */
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		off += n;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, dst))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
