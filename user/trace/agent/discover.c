// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "log.h"
#include "torvyn_abi.h"
#include "torvyn_exec.skel.h"
#include "usdt_elf.h"

#define CACHE_SIZE 1024

/* One executable file's verdict. */
struct verdict {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	bool used;
	bool host; /* torvyn provider, our ABI */
};

struct tvn_discover {
	struct verdict cache[CACHE_SIZE];
	unsigned int next; /* the slot the next new verdict replaces */
	int self;
	struct torvyn_exec_bpf *skel;
	struct ring_buffer *rb;
	tvn_pid_fn fn; /* during a poll */
	void *fn_ctx;
};

struct tvn_discover *tvn_discover__new(void)
{
	struct tvn_discover *d = calloc(1, sizeof(*d));

	if (d)
		d->self = getpid();
	return d;
}

void tvn_discover__free(struct tvn_discover *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	torvyn_exec_bpf__destroy(d->skel);
	free(d);
}

static struct verdict *cached(struct tvn_discover *d, const struct stat *st)
{
	for (int i = 0; i < CACHE_SIZE; i++) {
		struct verdict *v = &d->cache[i];

		if (v->used && v->dev == st->st_dev && v->ino == st->st_ino &&
		    v->mtime.tv_sec == st->st_mtim.tv_sec &&
		    v->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return v;
	}
	return NULL;
}

/* Reads the executable's notes: is it a torvyn host of our ABI? */
static bool judge(const char *path)
{
	struct tvn_usdt_sites sites = {0};
	bool host;

	if (tvn_usdt_elf__read(path, &sites))
		return false;
	host = sites.n > 0 && tvn_usdt_sites__abi_version(&sites) == TORVYN_PROBE_ABI_VERSION;
	tvn_usdt_sites__free(&sites);
	return host;
}

int tvn_discover__check(struct tvn_discover *d, int pid, char *exe, size_t len)
{
	char link[64], path[PATH_MAX];
	struct verdict *v;
	struct stat st;
	int rc;

	if (pid == d->self)
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st)) /* kernel threads have none; a zombie's is gone */
		return errno == EACCES || errno == EPERM ? -errno : 0;
	v = cached(d, &st);
	if (!v) {
		rc = tvn_usdt_elf__target_path(pid, path, sizeof(path));
		if (rc)
			return rc == -EACCES || rc == -EPERM ? rc : 0;
		v = &d->cache[d->next++ % CACHE_SIZE];
		*v = (struct verdict){.dev = st.st_dev,
				      .ino = st.st_ino,
				      .mtime = st.st_mtim,
				      .used = true,
				      .host = judge(path)};
	}
	if (!v->host)
		return 0;
	rc = tvn_usdt_elf__exe_link(pid, exe, len);
	return rc ? 0 : 1;
}

int tvn_discover__scan(struct tvn_discover *d, tvn_pid_fn fn, void *ctx)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;

	(void)d;
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (isdigit((unsigned char)de->d_name[0]))
			fn(ctx, atoi(de->d_name));
	}
	closedir(dir);
	return 0;
}

static int on_exec(void *ctx, void *data, size_t size)
{
	struct tvn_discover *d = ctx;

	if (size >= sizeof(__u32))
		d->fn(d->fn_ctx, (int)*(const __u32 *)data);
	return 0;
}

int tvn_discover__watch(struct tvn_discover *d, struct tvn_err *e)
{
	int rc;

	d->skel = torvyn_exec_bpf__open_and_load();
	if (!d->skel)
		return tvn_err__bpf(e, errno,
				    "loading the exec watcher (tp_btf/sched_process_exec)");
	rc = torvyn_exec_bpf__attach(d->skel);
	if (rc)
		return tvn_err__bpf(e, rc,
				    "attaching the exec watcher (tp_btf/sched_process_exec)");
	d->rb = ring_buffer__new(bpf_map__fd(d->skel->maps.execs), on_exec, d, NULL);
	if (!d->rb)
		return tvn_err__bpf(e, errno, "opening the exec watcher's ring buffer");
	return 0;
}

int tvn_discover__poll(struct tvn_discover *d, tvn_pid_fn fn, void *ctx)
{
	int n;

	if (!d->rb)
		return 0;
	d->fn = fn;
	d->fn_ctx = ctx;
	n = ring_buffer__consume(d->rb);
	return n < 0 && n != -EINTR ? n : 0;
}

uint64_t tvn_discover__lost(struct tvn_discover *d)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 total = 0, *vals;
	__u32 zero = 0;

	if (!d->skel || ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (vals && !bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.exec_lost), &zero, vals)) {
		for (int c = 0; c < ncpus; c++)
			total += vals[c];
	}
	free(vals);
	return total;
}
