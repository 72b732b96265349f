// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process side of the probe sites: the executable of a PID and the
 * shared objects it maps, opened through /proc/PID/root so that a process in
 * another mount namespace (a container) is read from its own files, and its
 * semaphores read from /proc/PID/mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usdt_elf.h"

int tvn_usdt_elf__exe_link(int pid, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "/proc/%d/exe", pid);
	n = readlink(p, buf, len);
	if (n < 0) {
		int err = -errno;

		snprintf(p, sizeof(p), "/proc/%d", pid);
		if (access(p, F_OK))
			return -ESRCH;
		return err == -EPERM ? -EACCES : err;
	}
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int tvn_usdt_elf__target_path(int pid, char *buf, size_t len)
{
	static const char deleted[] = " (deleted)";
	char exe[PATH_MAX];
	size_t el;
	int err, n;

	err = tvn_usdt_elf__exe_link(pid, exe, sizeof(exe));
	if (err)
		return err;
	el = strlen(exe);
	/* a replaced executable is only reachable through /proc/PID/exe */
	if (exe[0] == '/' &&
	    !(el > sizeof(deleted) - 1 && strcmp(exe + el - (sizeof(deleted) - 1), deleted) == 0)) {
		n = snprintf(buf, len, "/proc/%d/root%s", pid, exe);
		if (n > 0 && (size_t)n < len && try_open(buf) == 0)
			return 0;
	}
	n = snprintf(buf, len, "/proc/%d/exe", pid);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	err = try_open(buf);
	if (err == -ENOENT)
		return access(buf, F_OK) == 0 ? -ENOENT : -ESRCH;
	return err == -EPERM ? -EACCES : err;
}

/* One line of /proc/PID/maps: its range, permissions, offset and file name. */
struct map_line {
	unsigned long start, end, off;
	char perms[8];
	const char *name; /* points into the line; "" for an anonymous mapping */
};

static bool parse_map_line(char *line, struct map_line *m)
{
	size_t pl;
	int pos = 0;

	if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &m->start, &m->end, m->perms, &m->off,
		   &pos) < 4 ||
	    !pos)
		return false;
	pl = strlen(line + pos);
	if (pl && line[pos + pl - 1] == '\n')
		line[pos + --pl] = '\0';
	m->name = line + pos;
	return true;
}

/*
 * Where pid maps file offset off of its executable: like the kernel's
 * uprobe reference counter, through the private writable mapping of the
 * file that covers off, else any mapping of the file that covers it.
 */
static int offset_to_addr(int pid, const char *exe, uint64_t off, uint64_t *addr)
{
	char p[64], *line = NULL;
	struct map_line m;
	size_t cap = 0;
	int best = 0; /* 1: a mapping of the file, 2: its writable private one */
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		if (!parse_map_line(line, &m) || strcmp(m.name, exe) != 0 || off < m.off ||
		    off >= m.off + (m.end - m.start))
			continue;
		if (best < 2) {
			best = m.perms[1] == 'w' && m.perms[3] == 'p' ? 2 : 1;
			*addr = m.start + (off - m.off);
		}
	}
	free(line);
	fclose(f);
	return best ? 0 : -ENOENT;
}

int tvn_usdt_elf__read_object_semaphore(int pid, const char *name, const struct tvn_usdt_site *site,
					uint16_t *val)
{
	char p[64];
	uint64_t addr = 0;
	ssize_t n;
	int fd, err;

	if (!site->sem_off)
		return -ENOENT;
	err = offset_to_addr(pid, name, site->sem_off, &addr);
	if (err)
		return err;
	snprintf(p, sizeof(p), "/proc/%d/mem", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = pread(fd, val, sizeof(*val), (off_t)addr);
	err = n == sizeof(*val) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

int tvn_usdt_elf__read_semaphore(int pid, const struct tvn_usdt_site *site, uint16_t *val)
{
	char exe[PATH_MAX];
	int err;

	if (!site->sem_off)
		return -ENOENT;
	err = tvn_usdt_elf__exe_link(pid, exe, sizeof(exe));
	return err ? err : tvn_usdt_elf__read_object_semaphore(pid, exe, site, val);
}

int tvn_usdt_elf__each_object(int pid, int (*fn)(void *ctx, const char *name), void *ctx)
{
	static const char deleted[] = " (deleted)";
	char p[64], exe[PATH_MAX], *line = NULL, **seen = NULL;
	size_t cap = 0, n_seen = 0, nl;
	struct map_line m;
	int rc = 0;
	FILE *f;

	if (tvn_usdt_elf__exe_link(pid, exe, sizeof(exe)))
		exe[0] = '\0';
	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!rc && getline(&line, &cap, f) > 0) {
		bool dup = false;
		char **v;

		if (!parse_map_line(line, &m) || m.name[0] != '/' || m.perms[2] != 'x' ||
		    strcmp(m.name, exe) == 0)
			continue;
		nl = strlen(m.name);
		if (nl > sizeof(deleted) - 1 &&
		    !strcmp(m.name + nl - (sizeof(deleted) - 1), deleted))
			continue;
		for (size_t i = 0; i < n_seen && !dup; i++)
			dup = strcmp(seen[i], m.name) == 0;
		if (dup)
			continue;
		v = realloc(seen, (n_seen + 1) * sizeof(*seen));
		if (!v || !(v[n_seen] = strdup(m.name))) {
			seen = v ? v : seen;
			rc = -ENOMEM;
			break;
		}
		seen = v;
		rc = fn(ctx, seen[n_seen++]);
	}
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
	free(line);
	fclose(f);
	return rc;
}

int tvn_usdt_elf__object_path(int pid, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/proc/%d/root%s", pid, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return try_open(buf);
}
