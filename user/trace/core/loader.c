// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/types.h>

#include "clock.h"
#include "loader.h"
#include "loader_internal.h"
#include "torvyn_abi.h"
#include "torvyn_bpf.h"
#include "log.h"
#include "torvyn.skel.h"
#include "usdt_elf.h"

/* How long detaching the diagnostic level waits for the host's batch__drained. */
#define DRAIN_TIMEOUT_MS 1000

/* The probes each level attaches; each level's gate comes last so it rises last. */
static const int prod_probes[] = {
    TVN_P_ABI_VERSION,	 TVN_P_FLOW_START,    TVN_P_FLOW_END,
    TVN_P_METRICS_FLUSH, TVN_P_TRACE_PROMOTE, TVN_P_GATE_PRODUCTION,
};
/*
 * Diagnostic: the step records, 64 a hit (component__batch; each record
 * carries the step's dequeue, enqueue, transfer and copy), plus the rare
 * events. The per-event probes whose data the step record already carries,
 * component__invoke among them, stay in the contract for bpftrace and perf;
 * attaching them would cost ~0.5 us each. A host without component__batch
 * gets component__invoke instead (attach_link).
 */
static const int diag_probes[] = {
    TVN_P_COMPONENT_BATCH, TVN_P_BACKPRESSURE_ACTIVATE, TVN_P_BACKPRESSURE_DEACTIVATE,
    TVN_P_POOL_FALLBACK,   TVN_P_POOL_EXHAUSTED,	TVN_P_GATE_DIAGNOSTIC,
};
/*
 * Attached only while the diagnostic level is being detached: the gate asks
 * the host to fire its partial batches and stop batching, batch__drained is
 * its answer (counted in the stats map like every hit).
 */
static const int drain_probes[] = {TVN_P_BATCH_DRAINED, TVN_P_GATE_DRAIN};

static const struct {
	const int *probes;
	int n;
} level_probes[N_LINKS] = {
    [LINK_PROD] = {prod_probes, sizeof(prod_probes) / sizeof(prod_probes[0])},
    [LINK_DIAG] = {diag_probes, sizeof(diag_probes) / sizeof(diag_probes[0])},
    [LINK_DRAIN] = {drain_probes, sizeof(drain_probes) / sizeof(drain_probes[0])},
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	(void)level;
	if (tvn_log_verbosity < LOG_DEBUG)
		return 0; /* libbpf's warnings become our own clear messages */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pr_debug("libbpf: %s", buf);
	return 0;
}

/* ------------------------------------------------------------ the BPF object */

static int fill_specs(struct tvn_loader *l, struct tvn_err *e)
{
	struct bpf_map *map = l->skel->maps.__bpf_usdt_specs;
	int fd = bpf_map__fd(map), key = 0;

	if (bpf_map__value_size(map) != sizeof(struct tvn_usdt_spec))
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -EPROTO,
				    "libbpf's __bpf_usdt_spec is %u bytes, ours %zu: rebuild "
				    "against this libbpf",
				    bpf_map__value_size(map), sizeof(struct tvn_usdt_spec));
	for (int o = 0; o < l->n_objs; o++) {
		const struct tvn_usdt_sites *sites = &l->objs[o]->sites;

		l->objs[o]->spec_base = key;
		if ((uint32_t)(key + sites->n) > bpf_map__max_entries(map))
			return tvn_err__set(e, TVN_CAUSE_INTERNAL, -E2BIG,
					    "%d probe sites: too many", key + sites->n);
		for (int i = 0; i < sites->n; i++, key++) {
			struct tvn_usdt_spec spec = sites->v[i].spec;

			/* the program switches on the probe id, bpf_usdt_cookie() */
			spec.usdt_cookie = (uint64_t)sites->v[i].probe_id;
			if (bpf_map_update_elem(fd, &key, &spec, BPF_ANY))
				return tvn_err__bpf(e, errno, "filling the USDT spec map");
		}
	}
	return 0;
}

static int load_bpf(struct tvn_loader *l, const struct tvn_loader_opts *o, struct tvn_err *e)
{
	int rc;

	l->skel = torvyn_bpf__open();
	if (!l->skel)
		return tvn_err__bpf(e, errno, "opening the BPF object");
	l->skel->rodata->cfg_sample_threshold = o->sample_threshold;
	l->skel->rodata->cfg_latency_ns = o->latency_threshold_ns;
	l->skel->rodata->cfg_bench = o->bench;
	l->skel->rodata->cfg_tgid = (__u32)l->pid;
#ifdef TVN_BENCH_BATCH_HITS_ONLY
	/* make bench's floor: Level 2 reads each batch and aggregates nothing */
	l->skel->rodata->cfg_batch_hits_only = 1;
#endif
	if (o->ring_bytes && bpf_map__set_max_entries(l->skel->maps.events, o->ring_bytes))
		return tvn_err__set(
		    e, TVN_CAUSE_USAGE, -EINVAL,
		    "ring buffer of %u bytes: expected a power of two of at least a "
		    "page",
		    o->ring_bytes);
	if (o->max_flows && o->max_flows < TORVYN_MAX_FLOWS &&
	    (bpf_map__set_max_entries(l->skel->maps.invokes,
				      o->max_flows * TORVYN_MAX_COMPONENTS) ||
	     bpf_map__set_max_entries(l->skel->maps.copies,
				      o->max_flows * TORVYN_MAX_COMPONENTS * TORVYN_COPY_REASONS) ||
	     bpf_map__set_max_entries(l->skel->maps.queues, o->max_flows * TORVYN_MAX_STREAMS)))
		return tvn_err__bpf(e, errno, "sizing the diagnostic maps");
	/*
	 * bench's maps are preallocated per CPU (5.7 MB on two CPUs): a session
	 * that does not bench keeps them at one entry, which nothing fills
	 */
	if (!o->bench && (bpf_map__set_max_entries(l->skel->maps.fine, 1) ||
			  bpf_map__set_max_entries(l->skel->maps.sched, 1)))
		return tvn_err__bpf(e, errno, "sizing the bench maps");
	/* the scheduler programs cost every context switch: only bench loads them */
	bpf_program__set_autoload(l->skel->progs.tvn_sched_switch, o->bench);
	bpf_program__set_autoload(l->skel->progs.tvn_sched_wakeup, o->bench);
	rc = torvyn_bpf__load(l->skel);
	if (rc)
		return tvn_err__bpf(e, rc, "loading the BPF programs");
	return fill_specs(l, e);
}

int tvn_loader__open(const struct tvn_loader_opts *o, struct tvn_loader **out, struct tvn_err *e)
{
	struct tvn_loader *l;
	int rc;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	if (o->pid <= 0)
		return tvn_err__set(e, TVN_CAUSE_USAGE, -EINVAL, "--pid %d: expected a process id",
				    o->pid);
	if (kill(o->pid, 0) && errno == ESRCH)
		return tvn_err__set(e, TVN_CAUSE_NO_PROCESS, -ESRCH,
				    "pid %d: no such process: is the torvyn host running? (pgrep "
				    "torvyn-host)",
				    o->pid);
	l = calloc(1, sizeof(*l));
	if (!l)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	l->pid = o->pid;
	l->ncpus = libbpf_num_possible_cpus();
	rc = tvn_loader__read_probes(l, e);
	if (!rc)
		rc = load_bpf(l, o, e);
	if (rc) {
		tvn_loader__free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void tvn_loader__free(struct tvn_loader *l)
{
	if (!l)
		return;
	tvn_loader__detach_all(l);
	torvyn_bpf__destroy(l->skel);
	for (int i = 0; i < l->n_objs; i++) {
		tvn_usdt_sites__free(&l->objs[i]->sites);
		free(l->objs[i]);
	}
	free(l);
}

/* ------------------------------------------------------------ levels */

/* Whether any file of the target has a site of probe. */
static bool any_has_probe(const struct tvn_loader *l, int probe)
{
	for (int i = 0; i < l->n_objs; i++) {
		if (tvn_usdt_sites__has_probe(&l->objs[i]->sites, probe))
			return true;
	}
	return false;
}

/* One file's sites of one level, in the order of the level's list: its gate, last, rises last. */
static int attach_obj(struct tvn_loader *l, struct probe_obj *o, int which, struct tvn_err *e)
{
	const struct tvn_usdt_sites *sites = &o->sites;
	unsigned long *offs = calloc(sites->n, sizeof(*offs));
	unsigned long *refs = calloc(sites->n, sizeof(*refs));
	__u64 *cookies = calloc(sites->n, sizeof(*cookies));
	struct bpf_link *link;
	int n = 0, rc = 0;

	if (!offs || !refs || !cookies) {
		rc = tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	for (int p = 0; p < level_probes[which].n; p++) {
		int probe = level_probes[which].probes[p];

		/* a host from before component__batch: its steps one hit each */
		if (probe == TVN_P_COMPONENT_BATCH && !tvn_usdt_sites__has_probe(&o->sites, probe))
			probe = TVN_P_COMPONENT_INVOKE;
		for (int i = 0; i < sites->n; i++) {
			if (sites->v[i].probe_id != probe)
				continue;
			offs[n] = sites->v[i].file_off;
			refs[n] = sites->v[i].sem_off;
			cookies[n] = o->spec_base + i;
			n++;
		}
	}
	if (!n)
		goto out;
	{
		LIBBPF_OPTS(bpf_uprobe_multi_opts, uo, .offsets = offs, .ref_ctr_offsets = refs,
			    .cookies = cookies, .cnt = n);

		link = bpf_program__attach_uprobe_multi(l->skel->progs.torvyn_probe, l->pid,
							o->path, NULL, &uo);
	}
	if (!link) {
		int err = errno;

		if (err == ESRCH || (kill(l->pid, 0) && errno == ESRCH))
			rc = tvn_err__set(e, TVN_CAUSE_NO_PROCESS, -ESRCH, "pid %d exited", l->pid);
		else
			rc = tvn_err__bpf(e, err, "attaching the probes (uprobe_multi)");
		goto out;
	}
	o->links[which] = link;
	o->link_sites[which] = n;
out:
	free(offs);
	free(refs);
	free(cookies);
	return rc;
}

static void detach_link(struct tvn_loader *l, int which)
{
	for (int i = 0; i < l->n_objs; i++) {
		bpf_link__destroy(l->objs[i]->links[which]);
		l->objs[i]->links[which] = NULL;
		l->objs[i]->link_sites[which] = 0;
	}
}

/* A level over every file with probes: all of it or, on failure, none. */
static int attach_link(struct tvn_loader *l, int which, struct tvn_err *e)
{
	int rc = 0;

	for (int i = 0; i < l->n_objs && !rc; i++)
		rc = attach_obj(l, l->objs[i], which, e);
	if (rc)
		detach_link(l, which);
	return rc;
}

static void *destroy_link_thread(void *arg)
{
	struct tvn_loader *l = arg;

	detach_link(l, LINK_DIAG);
	return NULL;
}

/*
 * A link's release waits for an RCU grace period, so the two levels go in
 * parallel (diagnostic on a helper thread) and going off costs one grace
 * period, not two. Each level touches only its own link slots.
 */
static void detach_both(struct tvn_loader *l)
{
	pthread_t t;

	if (pthread_create(&t, NULL, destroy_link_thread, l)) {
		detach_link(l, LINK_DIAG);
		detach_link(l, LINK_PROD);
		return;
	}
	detach_link(l, LINK_PROD);
	pthread_join(t, NULL);
}

static bool attached(const struct tvn_loader *l, int which)
{
	for (int i = 0; i < l->n_objs; i++)
		if (l->objs[i]->links[which])
			return true;
	return false;
}

/* The target exited (a zombie runs no thread either). */
static bool target_gone(const struct tvn_loader *l)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", l->pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the state follows the command, which may hold anything */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Hits of batch__drained on every CPU so far: the host's answers to a drain. */
static __u64 drained_hits(const struct tvn_loader *l)
{
	__u32 key = TVN_STAT_HITS + TVN_P_BATCH_DRAINED;
	__u64 v[l->ncpus], sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.stats), &key, v))
		return 0;
	for (int i = 0; i < l->ncpus; i++)
		sum += v[i];
	return sum;
}

/*
 * Before the diagnostic level goes: the host's threads hold step records in
 * partial batches that only the attached component__batch can carry. Raise
 * gate__drain, wait for the host's batch__drained (every batch fired,
 * batching stopped), and only then detach; the drain link goes last, after
 * the diagnostic one (drain_end). A host that does not answer in time (one
 * stopped, or from before the drain) is detached anyway, with a warning.
 */
static void drain_begin(struct tvn_loader *l)
{
	struct tvn_err e = {0};
	__u64 before, t0, t1;

	if (!any_has_probe(l, TVN_P_GATE_DRAIN) || !any_has_probe(l, TVN_P_BATCH_DRAINED))
		return;
	t0 = tvn_time__mono_ns();
	before = drained_hits(l);
	if (target_gone(l))
		return; /* its threads fired their batches at exit */
	if (attach_link(l, LINK_DRAIN, &e)) {
		if (e.cause == TVN_CAUSE_NO_PROCESS || target_gone(l))
			return;
		pr_warn("pid %d: cannot drain the step-record batches (%s): records still "
			"batched are not counted\n",
			l->pid, e.msg);
		return;
	}
	t1 = tvn_time__mono_ns();
	for (int ms = 0; drained_hits(l) == before; ms++) {
		if (ms >= DRAIN_TIMEOUT_MS || target_gone(l)) {
			if (ms >= DRAIN_TIMEOUT_MS)
				pr_warn("pid %d: no batch__drained in %d ms: records still batched "
					"are not counted\n",
					l->pid, DRAIN_TIMEOUT_MS);
			return;
		}
		usleep(1000);
	}
	pr_debug("pid %d: step-record batches drained in %.1f ms (gate up in %.1f ms)\n", l->pid,
		 (tvn_time__mono_ns() - t0) / 1e6, (t1 - t0) / 1e6);
}

/*
 * After the diagnostic link is gone: the drain link goes too, on a helper
 * thread, so the switch does not wait a second grace period; the next switch
 * (or the end) waits for it (drain_join).
 */
static void *drain_release_thread(void *arg)
{
	detach_link(arg, LINK_DRAIN); /* touches only the drain link slots */
	return NULL;
}

static void drain_end(struct tvn_loader *l)
{
	if (!attached(l, LINK_DRAIN))
		return;
	if (pthread_create(&l->drain_release, NULL, drain_release_thread, l))
		detach_link(l, LINK_DRAIN);
	else
		l->drain_releasing = true;
}

static void drain_join(struct tvn_loader *l)
{
	if (l->drain_releasing)
		pthread_join(l->drain_release, NULL);
	l->drain_releasing = false;
}

int tvn_loader__set_level(struct tvn_loader *l, int level, struct tvn_err *e)
{
	int rc = 0;

	if (level < TORVYN_LEVEL_OFF || level > TORVYN_LEVEL_DIAGNOSTIC)
		return tvn_err__set(e, TVN_CAUSE_USAGE, -EINVAL, "level %d: expected 0, 1 or 2",
				    level);
	drain_join(l); /* a new Level 2 must not start under the last drain's gate */
	if (level < TORVYN_LEVEL_DIAGNOSTIC && attached(l, LINK_DIAG))
		drain_begin(l);
	if (level < TORVYN_LEVEL_PRODUCTION && attached(l, LINK_PROD) && attached(l, LINK_DIAG))
		detach_both(l);
	if (level < TORVYN_LEVEL_DIAGNOSTIC && attached(l, LINK_DIAG))
		detach_link(l, LINK_DIAG);
	if (level < TORVYN_LEVEL_PRODUCTION && attached(l, LINK_PROD))
		detach_link(l, LINK_PROD);
	drain_end(l);
	/* going up: per-event probes first, so the gate rises last */
	if (level >= TORVYN_LEVEL_DIAGNOSTIC && !attached(l, LINK_DIAG))
		rc = attach_link(l, LINK_DIAG, e);
	if (!rc && level >= TORVYN_LEVEL_PRODUCTION && !attached(l, LINK_PROD))
		rc = attach_link(l, LINK_PROD, e);
	return rc;
}

int tvn_loader__level(const struct tvn_loader *l)
{
	return attached(l, LINK_DIAG)	? TORVYN_LEVEL_DIAGNOSTIC
	       : attached(l, LINK_PROD) ? TORVYN_LEVEL_PRODUCTION
					: TORVYN_LEVEL_OFF;
}

int tvn_loader__sites_attached(const struct tvn_loader *l)
{
	int n = 0;

	for (int i = 0; i < l->n_objs; i++)
		n += l->objs[i]->link_sites[LINK_PROD] + l->objs[i]->link_sites[LINK_DIAG];
	return n;
}

void tvn_loader__detach_all(struct tvn_loader *l)
{
	drain_join(l);
	if (attached(l, LINK_DIAG))
		drain_begin(l);
	detach_link(l, LINK_DIAG);
	detach_link(l, LINK_PROD);
	drain_end(l);
	drain_join(l);
}

int tvn_loader__bench_attach(struct tvn_loader *l, struct tvn_err *e)
{
	struct bpf_link *link;

	link = bpf_program__attach(l->skel->progs.tvn_sched_switch);
	if (!link)
		return tvn_err__bpf(e, errno, "attaching tp_btf/sched_switch");
	l->skel->links.tvn_sched_switch = link;
	link = bpf_program__attach(l->skel->progs.tvn_sched_wakeup);
	if (!link)
		return tvn_err__bpf(e, errno, "attaching tp_btf/sched_wakeup");
	l->skel->links.tvn_sched_wakeup = link;
	return 0;
}

int tvn_loader__pid(const struct tvn_loader *l)
{
	return l->pid;
}

const char *tvn_loader__exe(const struct tvn_loader *l)
{
	return l->exe;
}

struct torvyn_bpf *tvn_loader__skel(const struct tvn_loader *l)
{
	return l->skel;
}

int tvn_loader__ncpus(const struct tvn_loader *l)
{
	return l->ncpus;
}
