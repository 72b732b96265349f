// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Baselines: reports saved as .torvyn/bench/NAME.json, found again by name for --compare. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench_internal.h"

#define BASELINE_DIR ".torvyn/bench"
#define BASELINE_NAME_MAX 64

static bool baseline_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > BASELINE_NAME_MAX)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == n;
}

static int mkdir_p(const char *dir)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = strchr(buf, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -errno;
		if (!p)
			return 0;
		*p = '/';
	}
}

/* A new file beside path, named into tmp: its descriptor or -errno. */
static int open_temp(const char *path, char *tmp, size_t len)
{
	int fd = -1;

	for (int i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, len, "%s.tmp.%d.%d", path, (int)getpid(), i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	return fd < 0 ? -EEXIST : fd;
}

/* Write to a fresh file beside path, then rename over it: readers see old or new, never half. */
static int write_atomic(const struct tvn_bench_report *r, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd, err;

	fd = open_temp(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	err = tvn_bench_report__write(r, TVN_BENCH_JSON, f);
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
err_unlink:
	unlink(tmp);
	return err;
}

int tvn_bench_report__save_baseline(const struct tvn_bench_report *r, const char *name,
				    char *path_out, size_t len)
{
	char path[sizeof(BASELINE_DIR) + BASELINE_NAME_MAX + 8];
	int err;

	if (!name || !baseline_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s.json", BASELINE_DIR, name);
	if (path_out && strlen(path) >= len)
		return -ENAMETOOLONG;
	err = mkdir_p(BASELINE_DIR);
	err = err ?: write_atomic(r, path);
	if (!err && path_out)
		snprintf(path_out, len, "%s", path);
	return err;
}

int tvn_bench_report__resolve(const char *arg, char *path, size_t len)
{
	struct stat st;
	bool is_dir = false;
	int n;

	if (!arg || !arg[0] || !len)
		return -EINVAL;
	if (!stat(arg, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			n = snprintf(path, len, "%s", arg);
			return (size_t)n < len ? 0 : -ENAMETOOLONG;
		}
		is_dir = true;
	}
	if (!baseline_name_ok(arg)) {
		snprintf(path, len, "%s", arg);
		return is_dir ? -EISDIR : -ENOENT;
	}
	n = snprintf(path, len, "%s/%s.json", BASELINE_DIR, arg);
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	if (!stat(path, &st))
		return 0;
	return is_dir ? -EISDIR : -ENOENT;
}
