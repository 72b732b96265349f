// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "proc.h"

void tvn_proc__exe_base(const char *exe, char *buf, size_t len)
{
	const char *base = strrchr(exe, '/');
	char *cut;

	snprintf(buf, len, "%s", base ? base + 1 : exe);
	/* a replaced executable reads "name (deleted)": the label keeps the name */
	cut = strstr(buf, " (deleted)");
	if (cut)
		*cut = '\0';
}

void tvn_proc__service(int pid, const char *fallback, char *buf, size_t len)
{
	static const char key[] = "OTEL_SERVICE_NAME=";
	char path[64], env[16384];
	ssize_t n = -1;
	int fd;

	snprintf(buf, len, "%s", fallback);
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, env, sizeof(env) - 1);
		close(fd);
	}
	if (n <= 0)
		return;
	env[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
		if (!strncmp(env + i, key, sizeof(key) - 1) && env[i + sizeof(key) - 1]) {
			snprintf(buf, len, "%s", env + i + sizeof(key) - 1);
			return;
		}
	}
}
