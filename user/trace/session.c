/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attach session. A level is one uprobe_multi link of the one BPF program
 * over the level's probe sites; each site's cookie is its index into libbpf's
 * __bpf_usdt_specs map, which we fill ourselves so that bpf_usdt_arg() works
 * without libbpf's one-link-per-probe USDT attach.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "exitcodes.h"
#include "log.h"
#include "session.h"
#include "exporter.h"
#include "torvyn.skel.h"
#include "usdt_elf.h"

_Static_assert(sizeof(struct torvyn_component_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_flow_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_stream_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_pool_block) <= TVN_RB_MAX_BLOCK, "block fits a record");
_Static_assert(sizeof(struct torvyn_system_block) <= TVN_RB_MAX_BLOCK, "block fits a record");

enum { LINK_PROD, LINK_DIAG, N_LINKS };

struct session {
	int pid;
	char path[PATH_MAX]; /* opens the target's executable from here */
	char exe[PATH_MAX]; /* what /proc/PID/exe names */
	struct usdt_sites sites;
	struct torvyn_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[N_LINKS];
	int link_sites[N_LINKS];
	int ncpus;
	session_trace_fn on_trace;
	void *on_trace_ctx;

	pthread_mutex_t lock; /* everything below */
	int level;
	bool target_up;
	struct snap_flow *flows[TORVYN_MAX_FLOWS];
	int n_flows;
	bool have_pool, have_sys;
	struct torvyn_pool_block pool;
	struct torvyn_system_block sys;
	uint64_t blocks_received, traces_received, level_switches, scrapes;
	uint64_t bad_records;
	double start_time;
	int64_t mono_to_unix; /* add to a CLOCK_MONOTONIC ns to get Unix ns */
	struct exporter_stats export;
	bool have_export;
};

/* Probe ids per level; each level's gate comes last so it rises last. */
static const int prod_probes[] = {
	TVN_P_ABI_VERSION,   TVN_P_FLOW_START,	    TVN_P_FLOW_END,
	TVN_P_METRICS_FLUSH, TVN_P_TRACE_PROMOTE, TVN_P_GATE_PRODUCTION,
};
/*
 * Diagnostic: one hit per component step (component__invoke carries the
 * step's dequeue, enqueue, transfer and copy), plus the rare events. The
 * per-event probes whose data the step record already carries (copy,
 * transfer, enqueue, dequeue, pool alloc/return, element__done) stay in the
 * contract for bpftrace and perf; attaching them would cost ~0.5 us each.
 */
static const int diag_probes[] = {
	TVN_P_COMPONENT_INVOKE, TVN_P_BACKPRESSURE_ACTIVATE, TVN_P_BACKPRESSURE_DEACTIVATE,
	TVN_P_POOL_FALLBACK,	TVN_P_POOL_EXHAUSTED,	     TVN_P_GATE_DIAGNOSTIC,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	if (level == LIBBPF_DEBUG && log_verbosity < LOG_DEBUG)
		return 0;
	if (log_verbosity < LOG_DEBUG)
		return 0; /* libbpf's warnings become our own clear messages */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pr_debug("libbpf: %s", buf);
	return 0;
}

/* ------------------------------------------------------------ store */

static struct snap_flow *flow_slot(struct session *s, uint32_t idx)
{
	if (idx >= TORVYN_MAX_FLOWS)
		return NULL;
	if (!s->flows[idx]) {
		s->flows[idx] = calloc(1, sizeof(struct snap_flow));
		if (!s->flows[idx])
			return NULL;
	}
	if ((int)idx >= s->n_flows)
		s->n_flows = idx + 1;
	return s->flows[idx];
}

static void store_block(struct session *s, const struct tvn_rb_block *r)
{
	const struct torvyn_block_hdr *hdr = (const void *)r->data;
	struct snap_flow *f;
	size_t want;

	switch (r->kind) {
	case TORVYN_BLOCK_FLOW:
		want = sizeof(struct torvyn_flow_block);
		break;
	case TORVYN_BLOCK_COMPONENT:
		want = sizeof(struct torvyn_component_block);
		break;
	case TORVYN_BLOCK_STREAM:
		want = sizeof(struct torvyn_stream_block);
		break;
	case TORVYN_BLOCK_POOL:
		want = sizeof(struct torvyn_pool_block);
		break;
	case TORVYN_BLOCK_SYSTEM:
		want = sizeof(struct torvyn_system_block);
		break;
	default:
		want = 0;
	}
	/* a block of another size is another ABI: never misread it */
	if (!want || r->size != want || hdr->size != want || hdr->kind != r->kind) {
		s->bad_records++;
		return;
	}
	s->blocks_received++;
	if (r->kind == TORVYN_BLOCK_POOL) {
		memcpy(&s->pool, r->data, want);
		s->have_pool = true;
		return;
	}
	if (r->kind == TORVYN_BLOCK_SYSTEM) {
		memcpy(&s->sys, r->data, want);
		s->have_sys = true;
		return;
	}
	f = flow_slot(s, hdr->flow_idx);
	if (!f)
		return;
	if (r->kind == TORVYN_BLOCK_FLOW) {
		memcpy(&f->blk, r->data, want);
		f->present = true;
	} else if (r->kind == TORVYN_BLOCK_COMPONENT && hdr->idx < TORVYN_MAX_COMPONENTS) {
		memcpy(&f->comps[hdr->idx].blk, r->data, want);
		f->comps[hdr->idx].present = true;
	} else if (r->kind == TORVYN_BLOCK_STREAM && hdr->idx < TORVYN_MAX_STREAMS) {
		memcpy(&f->streams[hdr->idx].blk, r->data, want);
		f->streams[hdr->idx].present = true;
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	const struct tvn_rb_hdr *h = data;

	if (size < sizeof(*h))
		return 0;
	if (h->type == TVN_RB_BLOCK && size >= sizeof(struct tvn_rb_block)) {
		pthread_mutex_lock(&s->lock);
		store_block(s, data);
		pthread_mutex_unlock(&s->lock);
	} else if (h->type == TVN_RB_TRACE && size >= sizeof(struct tvn_rb_trace)) {
		__atomic_add_fetch(&s->traces_received, 1, __ATOMIC_RELAXED);
		if (s->on_trace)
			s->on_trace(s->on_trace_ctx, data);
	} else if (h->type == TVN_RB_FLOW && size >= sizeof(struct tvn_rb_flow)) {
		const struct tvn_rb_flow *f = data;

		pr_debug("flow %u %s\n", f->flow_idx, f->probe == TVN_P_FLOW_START ? "started" : "ended");
	}
	return 0;
}

/* ------------------------------------------------------------ open */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

static int bpf_error(int e, char *err, size_t errlen, const char *what)
{
	e = e < 0 ? -e : e;
	if (e == EACCES && geteuid() == 0)
		return fail(err, errlen, TVN_EXIT_KERNEL,
			    "%s: the kernel's BPF verifier rejected the programs: run with -v for "
			    "its log and report it",
			    what);
	if (e == EPERM || e == EACCES)
		return fail(err, errlen, TVN_EXIT_PERMISSION,
			    "%s: permission denied: run torvyn-trace as root (it needs CAP_BPF, "
			    "CAP_PERFMON and CAP_SYS_PTRACE)",
			    what);
	if (e == ENOSYS || e == EOPNOTSUPP || e == EINVAL || e == ENOENT)
		return fail(err, errlen, TVN_EXIT_KERNEL,
			    "%s: %s: this kernel lacks what torvyn-trace needs (BPF, uprobes, "
			    "uprobe_multi links: Linux >= 6.6 with CONFIG_UPROBES and BTF)",
			    what, strerror(e));
	return fail(err, errlen, TVN_EXIT_INTERNAL, "%s: %s", what, strerror(e));
}

static int fill_specs(struct session *s, char *err, size_t errlen)
{
	int fd = bpf_map__fd(s->skel->maps.__bpf_usdt_specs);

	if (bpf_map__value_size(s->skel->maps.__bpf_usdt_specs) != sizeof(struct usdt_spec))
		return fail(err, errlen, TVN_EXIT_INTERNAL,
			    "libbpf's __bpf_usdt_spec is %u bytes, ours %zu: rebuild against "
			    "this libbpf",
			    bpf_map__value_size(s->skel->maps.__bpf_usdt_specs),
			    sizeof(struct usdt_spec));
	if ((uint32_t)s->sites.n > bpf_map__max_entries(s->skel->maps.__bpf_usdt_specs))
		return fail(err, errlen, TVN_EXIT_INTERNAL, "%d probe sites: too many", s->sites.n);
	for (int i = 0; i < s->sites.n; i++) {
		struct usdt_spec spec = s->sites.v[i].spec;
		int key = i;

		/* the program switches on the probe id, bpf_usdt_cookie() */
		spec.usdt_cookie = (uint64_t)s->sites.v[i].probe_id;
		if (bpf_map_update_elem(fd, &key, &spec, BPF_ANY))
			return bpf_error(errno, err, errlen, "filling the USDT spec map");
	}
	return 0;
}

int session__open(const struct session_opts *opts, struct session **out, char *err, size_t errlen)
{
	struct session *s;
	int rc, abi;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	if (opts->pid <= 0)
		return fail(err, errlen, TVN_EXIT_USAGE, "--pid %d: expected a process id", opts->pid);
	if (kill(opts->pid, 0) && errno == ESRCH)
		return fail(err, errlen, TVN_EXIT_NO_PROCESS,
			    "pid %d: no such process: is the torvyn host running? (pgrep torvyn-host)",
			    opts->pid);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, TVN_EXIT_INTERNAL, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->pid = opts->pid;
	s->start_time = 0;
	{
		struct timeval tv;

		gettimeofday(&tv, NULL);
		s->start_time = tv.tv_sec + tv.tv_usec / 1e6;
	}
	rc = usdt_elf__target_path(s->pid, s->path, sizeof(s->path));
	if (!rc)
		rc = usdt_elf__exe_link(s->pid, s->exe, sizeof(s->exe));
	if (rc == -ESRCH) {
		rc = fail(err, errlen, TVN_EXIT_NO_PROCESS, "pid %d: no such process", s->pid);
		goto err;
	}
	if (rc == -EACCES || rc == -EPERM) {
		rc = fail(err, errlen, TVN_EXIT_PERMISSION,
			  "pid %d: cannot read /proc/%d/exe: permission denied: run as root",
			  s->pid, s->pid);
		goto err;
	}
	if (rc) {
		rc = fail(err, errlen, TVN_EXIT_NO_PROBES,
			  "pid %d: cannot find its executable (%s): is it a kernel thread or a "
			  "zombie?",
			  s->pid, strerror(-rc));
		goto err;
	}
	rc = usdt_elf__read(s->path, &s->sites);
	if (rc == -EACCES || rc == -EPERM) {
		rc = fail(err, errlen, TVN_EXIT_PERMISSION,
			  "pid %d: cannot read its executable %s: permission denied: run as root",
			  s->pid, s->exe);
		goto err;
	}
	if (rc == -EOPNOTSUPP) {
		rc = fail(err, errlen, TVN_EXIT_KERNEL,
			  "pid %d (%s): not an x86-64 executable: torvyn-trace reads x86-64 probe "
			  "arguments only",
			  s->pid, s->exe);
		goto err;
	}
	if (rc == -EINVAL) {
		rc = fail(err, errlen, TVN_EXIT_ABI,
			  "pid %d (%s): its torvyn probe notes do not parse (see above): build the "
			  "host with this repository's usdt/torvyn.d",
			  s->pid, s->exe);
		goto err;
	}
	if (rc || !s->sites.n) {
		rc = fail(err, errlen, TVN_EXIT_NO_PROBES,
			  "pid %d (%s) has no torvyn probes%s%s: is it a torvyn host built with "
			  "probes? (build/torvyn-host-noprobes has none by design)",
			  s->pid, s->exe, rc ? ": " : "", rc ? strerror(-rc) : "");
		goto err;
	}
	abi = usdt_sites__abi_version(&s->sites);
	if (abi != TORVYN_PROBE_ABI_VERSION) {
		rc = fail(err, errlen, TVN_EXIT_ABI,
			  "pid %d (%s) speaks torvyn probe ABI %d, this torvyn-trace speaks %d: use "
			  "the torvyn-trace built with that host",
			  s->pid, s->exe, abi < 0 ? 0 : abi, TORVYN_PROBE_ABI_VERSION);
		goto err;
	}
	s->ncpus = libbpf_num_possible_cpus();
	{
		struct timespec rt, mt;

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		s->mono_to_unix = ((int64_t)rt.tv_sec - mt.tv_sec) * 1000000000ll +
				  ((int64_t)rt.tv_nsec - mt.tv_nsec);
	}
	s->skel = torvyn_bpf__open();
	if (!s->skel) {
		rc = bpf_error(errno, err, errlen, "opening the BPF object");
		goto err;
	}
	s->skel->rodata->cfg_sample_threshold = opts->sample_threshold;
	s->skel->rodata->cfg_latency_ns = opts->latency_threshold_ns;
	s->skel->rodata->cfg_bench = opts->bench;
	s->skel->rodata->cfg_tgid = (__u32)s->pid;
	/* the scheduler programs cost every context switch: only bench loads them */
	bpf_program__set_autoload(s->skel->progs.tvn_sched_switch, opts->bench);
	bpf_program__set_autoload(s->skel->progs.tvn_sched_wakeup, opts->bench);
	rc = torvyn_bpf__load(s->skel);
	if (rc) {
		rc = bpf_error(rc, err, errlen, "loading the BPF programs");
		goto err;
	}
	rc = fill_specs(s, err, errlen);
	if (rc)
		goto err;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
	if (!s->rb) {
		rc = bpf_error(errno, err, errlen, "opening the ring buffer");
		goto err;
	}
	s->target_up = true;
	*out = s;
	return 0;
err:
	session__free(s);
	return rc;
}

void session__free(struct session *s)
{
	if (!s)
		return;
	for (int i = N_LINKS - 1; i >= 0; i--)
		bpf_link__destroy(s->links[i]);
	ring_buffer__free(s->rb);
	torvyn_bpf__destroy(s->skel);
	usdt_sites__free(&s->sites);
	for (int i = 0; i < TORVYN_MAX_FLOWS; i++)
		free(s->flows[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ------------------------------------------------------------ levels */

static int attach_link(struct session *s, int which, char *err, size_t errlen)
{
	const int *probes = which == LINK_PROD ? prod_probes : diag_probes;
	int nprobes = which == LINK_PROD ? (int)(sizeof(prod_probes) / sizeof(prod_probes[0])) :
					   (int)(sizeof(diag_probes) / sizeof(diag_probes[0]));
	unsigned long *offs = calloc(s->sites.n, sizeof(*offs));
	unsigned long *refs = calloc(s->sites.n, sizeof(*refs));
	__u64 *cookies = calloc(s->sites.n, sizeof(*cookies));
	struct bpf_link *link;
	int n = 0, rc = 0;

	if (!offs || !refs || !cookies) {
		rc = fail(err, errlen, TVN_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	/* in the order of the level's list: the gate, last in it, rises last */
	for (int p = 0; p < nprobes; p++) {
		for (int i = 0; i < s->sites.n; i++) {
			if (s->sites.v[i].probe_id != probes[p])
				continue;
			offs[n] = s->sites.v[i].file_off;
			refs[n] = s->sites.v[i].sem_off;
			cookies[n] = i;
			n++;
		}
	}
	if (!n)
		goto out;
	{
		LIBBPF_OPTS(bpf_uprobe_multi_opts, o, .offsets = offs, .ref_ctr_offsets = refs,
			    .cookies = cookies, .cnt = n);

		link = bpf_program__attach_uprobe_multi(s->skel->progs.torvyn_probe, s->pid,
							s->path, NULL, &o);
	}
	if (!link) {
		int e = errno;

		if (e == ESRCH || (kill(s->pid, 0) && errno == ESRCH))
			rc = fail(err, errlen, TVN_EXIT_NO_PROCESS, "pid %d exited", s->pid);
		else
			rc = bpf_error(e, err, errlen, "attaching the probes (uprobe_multi)");
		goto out;
	}
	s->links[which] = link;
	s->link_sites[which] = n;
out:
	free(offs);
	free(refs);
	free(cookies);
	return rc;
}

static void detach_link(struct session *s, int which)
{
	bpf_link__destroy(s->links[which]);
	s->links[which] = NULL;
	s->link_sites[which] = 0;
}

static void *destroy_link_thread(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

int session__set_level(struct session *s, int level, uint64_t *elapsed_ns, char *err,
		       size_t errlen)
{
	uint64_t t0 = now_ns();
	int rc = 0;

	if (level < TORVYN_LEVEL_OFF || level > TORVYN_LEVEL_DIAGNOSTIC)
		return fail(err, errlen, TVN_EXIT_USAGE, "level %d: expected 0, 1 or 2", level);
	if (!s->target_up)
		return fail(err, errlen, TVN_EXIT_NO_PROCESS,
			    "pid %d has exited: nothing to attach to", s->pid);
	/*
	 * Going down: a link's release waits for an RCU grace period, so two
	 * links go in parallel (one on a helper thread) and the switch costs
	 * one grace period, not two. Going up: per-event probes first.
	 */
	if (level < TORVYN_LEVEL_PRODUCTION && s->links[LINK_PROD] && s->links[LINK_DIAG]) {
		pthread_t t;
		struct bpf_link *diag = s->links[LINK_DIAG];

		s->links[LINK_DIAG] = NULL;
		s->link_sites[LINK_DIAG] = 0;
		if (pthread_create(&t, NULL, destroy_link_thread, diag)) {
			bpf_link__destroy(diag);
			detach_link(s, LINK_PROD);
		} else {
			detach_link(s, LINK_PROD);
			pthread_join(t, NULL);
		}
	}
	if (level < TORVYN_LEVEL_DIAGNOSTIC && s->links[LINK_DIAG])
		detach_link(s, LINK_DIAG);
	if (level < TORVYN_LEVEL_PRODUCTION && s->links[LINK_PROD])
		detach_link(s, LINK_PROD);
	if (level >= TORVYN_LEVEL_DIAGNOSTIC && !s->links[LINK_DIAG])
		rc = attach_link(s, LINK_DIAG, err, errlen);
	if (!rc && level >= TORVYN_LEVEL_PRODUCTION && !s->links[LINK_PROD])
		rc = attach_link(s, LINK_PROD, err, errlen);
	pthread_mutex_lock(&s->lock);
	s->level = s->links[LINK_DIAG] ? TORVYN_LEVEL_DIAGNOSTIC :
		   s->links[LINK_PROD] ? TORVYN_LEVEL_PRODUCTION :
					 TORVYN_LEVEL_OFF;
	s->level_switches++;
	pthread_mutex_unlock(&s->lock);
	if (elapsed_ns)
		*elapsed_ns = now_ns() - t0;
	return rc;
}

int session__level(struct session *s)
{
	int level;

	pthread_mutex_lock(&s->lock);
	level = s->level;
	pthread_mutex_unlock(&s->lock);
	return level;
}

int session__poll(struct session *s)
{
	int n = ring_buffer__consume(s->rb);

	return n < 0 && n != -EINTR ? n : 0;
}

void session__target_exited(struct session *s)
{
	/* everything the host flushed before it exited is in the ring already */
	ring_buffer__consume(s->rb);
	for (int i = N_LINKS - 1; i >= 0; i--)
		detach_link(s, i);
	pthread_mutex_lock(&s->lock);
	s->target_up = false;
	s->level = TORVYN_LEVEL_OFF;
	pthread_mutex_unlock(&s->lock);
}

int session__pid(const struct session *s)
{
	return s->pid;
}

const char *session__exe(const struct session *s)
{
	return s->exe;
}

void session__on_trace(struct session *s, session_trace_fn fn, void *ctx)
{
	s->on_trace = fn;
	s->on_trace_ctx = ctx;
}

void session__set_export_stats(struct session *s, const struct exporter_stats *st)
{
	pthread_mutex_lock(&s->lock);
	s->export = *st;
	s->have_export = true;
	pthread_mutex_unlock(&s->lock);
}

bool session__flow_named(struct session *s, uint32_t flow_idx)
{
	bool named;

	pthread_mutex_lock(&s->lock);
	named = flow_idx < TORVYN_MAX_FLOWS && s->flows[flow_idx] && s->flows[flow_idx]->present;
	pthread_mutex_unlock(&s->lock);
	return named;
}

uint64_t session__mono_to_unix(const struct session *s, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + s->mono_to_unix);
}

void session__name(struct session *s, uint32_t flow_idx, int kind, int idx, char *buf, size_t len)
{
	const struct snap_flow *f;
	const char *name = NULL;

	pthread_mutex_lock(&s->lock);
	f = flow_idx < TORVYN_MAX_FLOWS ? s->flows[flow_idx] : NULL;
	if (f && idx < 0 && f->present)
		name = f->blk.hdr.name;
	else if (f && kind == TORVYN_BLOCK_COMPONENT && idx >= 0 && idx < TORVYN_MAX_COMPONENTS &&
		 f->comps[idx].present)
		name = f->comps[idx].blk.hdr.name;
	else if (f && kind == TORVYN_BLOCK_STREAM && idx >= 0 && idx < TORVYN_MAX_STREAMS &&
		 f->streams[idx].present)
		name = f->streams[idx].blk.hdr.name;
	if (name)
		snprintf(buf, len, "%.*s", TORVYN_NAME_LEN - 1, name);
	else
		snprintf(buf, len, "%d", idx < 0 ? (int)flow_idx : idx);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ snapshots */

/* Sums the per-CPU copies of a value made only of __u64 counters. */
static void sum_u64(void *dst, const void *percpu, size_t value_size, int ncpus)
{
	size_t stride = (value_size + 7) & ~(size_t)7, n = value_size / 8;
	__u64 *d = dst;

	memset(dst, 0, value_size);
	for (int c = 0; c < ncpus; c++) {
		const __u64 *v = (const void *)((const char *)percpu + c * stride);

		for (size_t i = 0; i < n; i++)
			d[i] += v[i];
	}
}

/* Looks one slot of a per-CPU array up; vals holds ncpus values. */
static int percpu_lookup(struct bpf_map *map, __u32 slot, void *vals)
{
	return bpf_map_lookup_elem(bpf_map__fd(map), &slot, vals) ? -errno : 0;
}

static void add_transfer(struct snapshot *snap, __u32 flow, __u32 from, __u32 to,
			 const struct tvn_invoke_val *v)
{
	struct snap_transfer *t = realloc(snap->transfers, (snap->n_transfers + 1) * sizeof(*t));

	if (!t)
		return;
	snap->transfers = t;
	t += snap->n_transfers++;
	t->flow_idx = flow;
	t->from_idx = from;
	t->to_idx = to;
	t->val.count = v->transfers_in;
	t->val.bytes = v->transfer_bytes;
}

static void read_comp_diag(struct session *s, struct snapshot *snap, __u32 f, __u32 j, void *vals)
{
	size_t stride = (sizeof(struct tvn_invoke_val) + 7) & ~(size_t)7;
	struct snap_comp *c = &snap->flows[f].comps[j];
	struct tvn_invoke_val sum;
	__u64 from = 0;

	if (percpu_lookup(s->skel->maps.invokes, TVN_COMP_SLOT(f, j), vals))
		return;
	sum_u64(&sum, vals, sizeof(sum), s->ncpus);
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		const struct tvn_invoke_val *v = (const void *)((const char *)vals + cpu * stride);

		if (v->transfers_in)
			from = v->from_idx; /* an index, not a counter: never summed */
	}
	sum.from_idx = from;
	if (!sum.invocations)
		return;
	c->has_diag = true;
	c->diag = sum;
	/* labelled by names: only components whose blocks (names) have arrived */
	if (sum.transfers_in && from < TORVYN_MAX_COMPONENTS && snap->flows[f].comps[from].present)
		add_transfer(snap, f, (__u32)from, j, &sum);
	for (__u32 r = 0; r < TORVYN_COPY_REASONS; r++) {
		if (!percpu_lookup(s->skel->maps.copies, TVN_COPY_SLOT(f, j, r), vals))
			sum_u64(&c->diag_copies[r], vals, sizeof(struct tvn_count_val), s->ncpus);
	}
}

static void read_stream_diag(struct session *s, struct snapshot *snap, __u32 f, __u32 k, void *vals)
{
	size_t stride = (sizeof(struct tvn_queue_val) + 7) & ~(size_t)7;
	struct tvn_queue_val q;
	__u64 newest = 0;

	if (percpu_lookup(s->skel->maps.queues, TVN_STREAM_SLOT(f, k), vals))
		return;
	sum_u64(&q, vals, sizeof(q), s->ncpus);
	/* depth is a gauge: the newest CPU's; the peak is the highest of any CPU's */
	q.depth = q.depth_ts = q.peak_depth = 0;
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		const struct tvn_queue_val *v = (const void *)((const char *)vals + cpu * stride);

		if (v->depth_ts >= newest && (v->enqueues || v->dequeues)) {
			newest = v->depth_ts;
			q.depth = v->depth;
		}
		if (v->peak_depth > q.peak_depth)
			q.peak_depth = v->peak_depth;
	}
	q.depth_ts = newest;
	if (!q.enqueues && !q.dequeues && !q.bp_events && !q.bp_duration.count)
		return;
	snap->flows[f].streams[k].has_diag = true;
	snap->flows[f].streams[k].diag = q;
}

/*
 * The diagnostic arrays, for the flows, components and streams whose blocks
 * have arrived: aggregates are keyed by index, series are labelled by name,
 * and a series must not change its labels once the names arrive.
 */
static void read_diag(struct session *s, struct snapshot *snap)
{
	size_t biggest = sizeof(struct tvn_queue_val) > sizeof(struct tvn_invoke_val) ?
				 sizeof(struct tvn_queue_val) :
				 sizeof(struct tvn_invoke_val);
	void *vals = calloc(s->ncpus, (biggest + 7) & ~(size_t)7);

	if (!vals)
		return;
	for (int f = 0; f < snap->n_flows; f++) {
		if (!snap->flows[f].present)
			continue;
		for (int j = 0; j < TORVYN_MAX_COMPONENTS; j++) {
			if (snap->flows[f].comps[j].present)
				read_comp_diag(s, snap, f, j, vals);
		}
		for (int k = 0; k < TORVYN_MAX_STREAMS; k++) {
			if (snap->flows[f].streams[k].present)
				read_stream_diag(s, snap, f, k, vals);
		}
	}
	free(vals);
}

static void read_stats(struct session *s, struct snapshot *snap)
{
	int fd = bpf_map__fd(s->skel->maps.stats);
	size_t stride = 8;
	__u64 *vals = calloc(s->ncpus, stride);

	if (!vals)
		return;
	for (__u32 i = 0; i < TVN_STAT_COUNT; i++) {
		__u64 total = 0;

		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < s->ncpus; c++)
			total += vals[c];
		if (i < TVN_P_COUNT)
			snap->probe_hits[i] = total;
		else if (i == TVN_STAT_RB_LOST)
			snap->events_lost = total;
		else if (i == TVN_STAT_MAP_FULL)
			snap->map_full = total;
		else if (i == TVN_STAT_READ_FAIL)
			snap->read_fail = total;
		else if (i == TVN_STAT_TRACE_FILTERED)
			snap->traces_filtered = total;
	}
	free(vals);
}

static void read_pool(struct session *s, struct snapshot *snap)
{
	int fd = bpf_map__fd(s->skel->maps.pools);
	size_t stride = (sizeof(struct tvn_pool_val) + 7) & ~(size_t)7;
	char *vals = calloc(s->ncpus, stride);

	if (!vals)
		return;
	for (__u32 t = 0; t < TORVYN_TIERS; t++) {
		if (bpf_map_lookup_elem(fd, &t, vals))
			continue;
		sum_u64(&snap->diag_pool[t], vals, sizeof(struct tvn_pool_val), s->ncpus);
		if (snap->diag_pool[t].allocs || snap->diag_pool[t].returns ||
		    snap->diag_pool[t].fallbacks || snap->diag_pool[t].exhaustions)
			snap->has_diag_pool = true;
	}
	free(vals);
}

int session__snapshot(struct session *s, struct snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&s->lock);
	s->scrapes++;
	snap->level = s->level;
	snap->target_up = s->target_up;
	snap->target_pid = s->pid;
	snprintf(snap->target_exe, sizeof(snap->target_exe), "%.*s", (int)sizeof(snap->target_exe) - 1,
		 s->exe);
	snap->probes_attached = s->link_sites[LINK_PROD] + s->link_sites[LINK_DIAG];
	snap->blocks_received = s->blocks_received;
	snap->traces_received = __atomic_load_n(&s->traces_received, __ATOMIC_RELAXED);
	if (s->have_export) {
		snap->otlp_enabled = true;
		snap->spans_dropped = s->export.spans_dropped;
		snap->spans_exported = s->export.spans_exported;
		snap->spans_rejected = s->export.spans_rejected;
		snap->otlp_retries = s->export.requests_retried;
		snap->otlp_failures = s->export.requests_failed;
		snap->otlp_partial_successes = s->export.partial_successes;
		snap->otlp_metric_requests = s->export.metric_requests_sent;
	}
	snap->level_switches = s->level_switches;
	snap->scrapes = s->scrapes;
	snap->start_time = s->start_time;
	snap->have_pool = s->have_pool;
	snap->have_sys = s->have_sys;
	snap->pool = s->pool;
	snap->sys = s->sys;
	if (s->n_flows) {
		snap->flows = calloc(s->n_flows, sizeof(*snap->flows));
		if (!snap->flows) {
			pthread_mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		snap->n_flows = s->n_flows;
		for (int i = 0; i < s->n_flows; i++) {
			if (s->flows[i])
				snap->flows[i] = *s->flows[i];
		}
	}
	pthread_mutex_unlock(&s->lock);

	/* BPF maps are read without the lock: the kernel serializes the syscalls */
	read_stats(s, snap);
	read_pool(s, snap);
	read_diag(s, snap);
	return 0;
}

void snapshot__free(struct snapshot *snap)
{
	free(snap->flows);
	free(snap->transfers);
	snap->flows = NULL;
	snap->transfers = NULL;
}

/* ------------------------------------------------------------ bench */

int session__bench_attach(struct session *s, char *err, size_t errlen)
{
	struct bpf_link *l;

	l = bpf_program__attach(s->skel->progs.tvn_sched_switch);
	if (!l)
		return bpf_error(errno, err, errlen, "attaching tp_btf/sched_switch");
	s->skel->links.tvn_sched_switch = l;
	l = bpf_program__attach(s->skel->progs.tvn_sched_wakeup);
	if (!l)
		return bpf_error(errno, err, errlen, "attaching tp_btf/sched_wakeup");
	s->skel->links.tvn_sched_wakeup = l;
	return 0;
}

int session__read_fine(struct session *s, session_fine_fn fn, void *ctx)
{
	int fd = bpf_map__fd(s->skel->maps.fine);
	size_t stride = (sizeof(struct tvn_fine_val) + 7) & ~(size_t)7;
	struct tvn_comp_key key, next;
	struct tvn_fine_val *sum = malloc(sizeof(*sum));
	char *vals = calloc(s->ncpus, stride);
	bool first = true;

	if (!sum || !vals) {
		free(sum);
		free(vals);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		sum_u64(sum, vals, sizeof(*sum), s->ncpus);
		sum->max = 0; /* a maximum, not a counter */
		for (int c = 0; c < s->ncpus; c++) {
			const struct tvn_fine_val *v = (const void *)(vals + c * stride);

			if (v->max > sum->max)
				sum->max = v->max;
		}
		fn(ctx, key.flow_idx, key.comp_idx, sum);
	}
	free(sum);
	free(vals);
	return 0;
}

int session__read_sched(struct session *s, session_sched_fn fn, void *ctx)
{
	int fd = bpf_map__fd(s->skel->maps.sched);
	__u32 key, next;
	struct tvn_sched_val v;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &v))
			fn(ctx, key, &v);
	}
	return 0;
}

void session__reset_peaks(struct session *s)
{
	size_t stride = (sizeof(struct tvn_queue_val) + 7) & ~(size_t)7;
	int fd = bpf_map__fd(s->skel->maps.queues);
	char *vals = calloc(s->ncpus, stride);

	if (!vals)
		return;
	pthread_mutex_lock(&s->lock);
	for (int f = 0; f < s->n_flows; f++) {
		for (int k = 0; s->flows[f] && k < TORVYN_MAX_STREAMS; k++) {
			__u32 slot = TVN_STREAM_SLOT(f, k);

			if (!s->flows[f]->streams[k].present || bpf_map_lookup_elem(fd, &slot, vals))
				continue;
			/* a racing update may be lost: it only lowers this one peak */
			for (int c = 0; c < s->ncpus; c++)
				((struct tvn_queue_val *)(vals + c * stride))->peak_depth = 0;
			bpf_map_update_elem(fd, &slot, vals, BPF_ANY);
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(vals);
}
