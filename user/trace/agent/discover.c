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

#include "clock.h"
#include "discover.h"
#include "log.h"
#include "torvyn_abi.h"
#include "torvyn_exec.skel.h"
#include "usdt_elf.h"

#define CACHE_SIZE 1024 /* verdicts, one per file: executables and shared objects */
#define CACHE_WAYS 8	/* slots a file's verdict may take, from its hash on */
#define PENDING 64	/* just-exec'd processes waiting for their re-checks */
#define RECHECKS 3

/*
 * When a just-exec'd process is looked at again, each delay after the
 * previous look: the exec event comes before the dynamic loader maps the
 * libraries, where an embedded runtime's probes are.
 */
static const uint64_t recheck_ns[RECHECKS] = {100000000ull, 500000000ull, 2000000000ull};

enum kind {
	K_NONE,	   /* no torvyn probes */
	K_HOST,	   /* torvyn probes of our ABI */
	K_FOREIGN, /* torvyn probes of another ABI, or malformed: attach would refuse */
};

/* One file's verdict. */
struct verdict {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	bool used;
	enum kind kind;
};

/* A process exec'd a moment ago whose libraries may not be mapped yet. */
struct pending {
	int pid;
	int left; /* re-checks left */
	uint64_t due_ns;
};

struct tvn_discover {
	struct verdict cache[CACHE_SIZE];
	unsigned int next; /* which slot of a full window the next verdict replaces */
	struct pending pending[PENDING];
	int n_pending;
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

/* Reads a file's notes: does it carry the torvyn provider, of our ABI? */
static enum kind judge(const char *path)
{
	struct tvn_usdt_sites sites = {0};
	enum kind k;
	int rc = tvn_usdt_elf__read(path, &sites);

	if (rc)
		return rc == -EINVAL ? K_FOREIGN : K_NONE;
	if (!sites.n)
		k = K_NONE;
	else if (tvn_usdt_sites__abi_version(&sites) == TORVYN_PROBE_ABI_VERSION)
		k = K_HOST;
	else
		k = K_FOREIGN;
	tvn_usdt_sites__free(&sites);
	return k;
}

/*
 * The cached verdict on the file st describes, or -ENOENT and in *slot where
 * to store it. A file replaced in place (same inode, new mtime) is a miss.
 */
static int lookup(struct tvn_discover *d, const struct stat *st, struct verdict **slot)
{
	uint64_t h = ((uint64_t)st->st_ino ^ ((uint64_t)st->st_dev << 40)) * 0x9e3779b97f4a7c15ull;
	unsigned int home = (unsigned int)(h >> 32) % CACHE_SIZE;
	struct verdict *v;

	*slot = NULL;
	for (int i = 0; i < CACHE_WAYS; i++) {
		v = &d->cache[(home + i) % CACHE_SIZE];
		if (!v->used) {
			*slot = *slot ? *slot : v;
			continue;
		}
		if (v->dev != st->st_dev || v->ino != st->st_ino)
			continue;
		if (v->mtime.tv_sec == st->st_mtim.tv_sec &&
		    v->mtime.tv_nsec == st->st_mtim.tv_nsec)
			return v->kind;
		*slot = v; /* an older version of the file */
		return -ENOENT;
	}
	if (!*slot)
		*slot = &d->cache[(home + d->next++ % CACHE_WAYS) % CACHE_SIZE];
	return -ENOENT;
}

static enum kind store(struct verdict *slot, const struct stat *st, enum kind k)
{
	*slot = (struct verdict){
	    .dev = st->st_dev, .ino = st->st_ino, .mtime = st->st_mtim, .used = true, .kind = k};
	return k;
}

/* What the shared objects of one process are. */
struct objects {
	struct tvn_discover *d;
	int pid;
	int n;	      /* mapped executable, besides the executable */
	bool host;    /* one carries our probes */
	bool foreign; /* one carries probes we would refuse */
};

static int judge_object(void *ctx, const char *name)
{
	struct objects *x = ctx;
	char path[PATH_MAX];
	struct stat st;

	struct verdict *slot;
	int k, rc;

	x->n++;
	/* as tvn_usdt_elf__object_path() names it, without opening it: stat tells */
	rc = snprintf(path, sizeof(path), "/proc/%d/root%s", x->pid, name);
	if (rc < 0 || (size_t)rc >= sizeof(path) || stat(path, &st))
		return 0;
	k = lookup(x->d, &st, &slot);
	switch (k < 0 ? store(slot, &st, judge(path)) : (enum kind)k) {
	case K_HOST:
		x->host = true;
		break;
	case K_FOREIGN:
		x->foreign = true;
		break;
	case K_NONE:
		break;
	}
	return 0;
}

/* pid needs no more re-checks: its verdict is final. */
static void settle(struct tvn_discover *d, int pid)
{
	for (int i = 0; i < d->n_pending; i++) {
		if (d->pending[i].pid == pid) {
			d->pending[i] = d->pending[--d->n_pending];
			return;
		}
	}
}

int tvn_discover__check(struct tvn_discover *d, int pid, char *exe, size_t len)
{
	struct objects objs = {.d = d, .pid = pid};
	char link[64], path[PATH_MAX];
	struct verdict *slot;
	struct stat st;
	int k, rc = 0;

	if (pid == d->self)
		return 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st)) { /* kernel threads have none; a zombie's is gone */
		settle(d, pid);
		return errno == EACCES || errno == EPERM ? -errno : 0;
	}
	k = lookup(d, &st, &slot);
	if (k < 0) {
		rc = tvn_usdt_elf__target_path(pid, path, sizeof(path));
		if (rc) {
			settle(d, pid);
			return rc == -EACCES || rc == -EPERM ? rc : 0;
		}
		k = store(slot, &st, judge(path));
	}
	/* a runtime embedded as a library: its probes are in a shared object it maps */
	if (k == K_NONE) {
		rc = tvn_usdt_elf__each_object(pid, judge_object, &objs);
		if (rc == -EACCES || rc == -EPERM) {
			settle(d, pid);
			return rc;
		}
		if (objs.host && !objs.foreign)
			k = K_HOST;
	}
	/*
	 * The dynamic loader alone mapped: at the exec event it has not mapped the
	 * libraries yet, so a just-exec'd process keeps its re-checks. Anything
	 * else (libraries mapped, a static executable, gone) is final.
	 */
	if (k != K_NONE || objs.n != 1 || rc)
		settle(d, pid);
	if (k != K_HOST)
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

	int pid;

	if (size < sizeof(__u32))
		return 0;
	pid = (int)*(const __u32 *)data;
	if (d->n_pending < PENDING) /* else the rescan finds it */
		d->pending[d->n_pending++] = (struct pending){
		    .pid = pid, .left = RECHECKS, .due_ns = tvn_time__mono_ns() + recheck_ns[0]};
	d->fn(d->fn_ctx, pid);
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

/* Looks again at the just-exec'd processes whose time has come. */
static void recheck(struct tvn_discover *d)
{
	uint64_t now = tvn_time__mono_ns();
	int due[PENDING], n = 0;

	for (int i = 0; i < d->n_pending;) {
		struct pending *p = &d->pending[i];

		if (p->due_ns > now) {
			i++;
			continue;
		}
		due[n++] = p->pid;
		if (--p->left) {
			p->due_ns = now + recheck_ns[RECHECKS - p->left];
			i++;
		} else {
			*p = d->pending[--d->n_pending];
		}
	}
	/* fn may settle entries: the list is not walked meanwhile */
	for (int i = 0; i < n; i++)
		d->fn(d->fn_ctx, due[i]);
}

int tvn_discover__poll(struct tvn_discover *d, tvn_pid_fn fn, void *ctx)
{
	int n;

	if (!d->rb)
		return 0;
	d->fn = fn;
	d->fn_ctx = ctx;
	n = ring_buffer__consume(d->rb);
	recheck(d);
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
