// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The loader's first step: the target's files that carry torvyn probes, its
 * executable and each shared object it maps (a runtime embedded as a
 * library), their probe sites read from the ELF notes, and each file's probe
 * ABI and gates checked before anything is loaded into the kernel.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "loader_internal.h"
#include "log.h"
#include "torvyn_abi.h"
#include "torvyn_bpf.h"

static int find_target(struct tvn_loader *l, char *path, size_t len, struct tvn_err *e)
{
	int rc = tvn_usdt_elf__target_path(l->pid, path, len);

	if (!rc)
		rc = tvn_usdt_elf__exe_link(l->pid, l->exe, sizeof(l->exe));
	if (rc == -ESRCH)
		return tvn_err__set(e, TVN_CAUSE_NO_PROCESS, rc, "pid %d: no such process", l->pid);
	if (rc == -EACCES || rc == -EPERM)
		return tvn_err__set(
		    e, TVN_CAUSE_PERMISSION, rc,
		    "pid %d: cannot read /proc/%d/exe: permission denied: run as root", l->pid,
		    l->pid);
	if (rc)
		return tvn_err__set(
		    e, TVN_CAUSE_NO_PROBES, rc,
		    "pid %d: cannot find its executable (%s): is it a kernel thread "
		    "or a zombie?",
		    l->pid, strerror(-rc));
	return 0;
}

/*
 * Reads one file's torvyn sites; keeps it if it has any. A shared object
 * (lib) that cannot be read is no host, unless its torvyn probes are what
 * failed.
 */
static int add_obj(struct tvn_loader *l, const char *name, const char *path, bool lib,
		   struct tvn_err *e)
{
	struct probe_obj *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return tvn_err__set(e, TVN_CAUSE_INTERNAL, -ENOMEM, "out of memory");
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->path, sizeof(o->path), "%s", path);
	rc = tvn_usdt_elf__read(path, &o->sites);
	if (rc == -EINVAL && o->sites.why[0])
		rc = tvn_err__set(e, TVN_CAUSE_CONTRACT, rc, "pid %d (%s): cannot trace it: %s",
				  l->pid, name, o->sites.why);
	else if (rc && lib)
		pr_debug("pid %d: %s: %s: not read for probes\n", l->pid, name, strerror(-rc));
	else if (rc == -EACCES || rc == -EPERM)
		rc = tvn_err__set(e, TVN_CAUSE_PERMISSION, rc,
				  "pid %d: cannot read %s: permission denied: run as root", l->pid,
				  name);
	else if (rc == -EOPNOTSUPP)
		rc =
		    tvn_err__set(e, TVN_CAUSE_KERNEL, rc,
				 "pid %d (%s): not an x86-64 file: torvyn-trace reads x86-64 probe "
				 "arguments only",
				 l->pid, name);
	else if (rc == -EINVAL)
		rc = tvn_err__set(e, TVN_CAUSE_CONTRACT, rc,
				  "pid %d (%s): its probe notes are malformed (see above)", l->pid,
				  name);
	else if (rc)
		rc = tvn_err__set(e, TVN_CAUSE_NO_PROBES, rc,
				  "pid %d (%s): cannot read its probes: %s", l->pid, name,
				  strerror(-rc));
	if (rc && lib && !o->sites.why[0])
		rc = 0;
	if (rc || !o->sites.n || l->n_objs == MAX_OBJS) {
		if (!rc && o->sites.n)
			pr_warn("pid %d: more than %d files with torvyn probes: %s is not traced\n",
				l->pid, MAX_OBJS, name);
		tvn_usdt_sites__free(&o->sites);
		free(o);
		return rc;
	}
	l->objs[l->n_objs++] = o;
	return 0;
}

struct lib_scan {
	struct tvn_loader *l;
	struct tvn_err *e;
};

/* Each shared object the process maps: a runtime embedded as a library. */
static int scan_lib(void *ctx, const char *name)
{
	struct lib_scan *x = ctx;
	char path[PATH_MAX];

	if (tvn_usdt_elf__object_path(x->l->pid, name, path, sizeof(path)))
		return 0;
	return add_obj(x->l, name, path, true, x->e);
}

/* The file's probe ABI: known before it runs (a constant, or a global's initial value). */
static int check_abi(const struct tvn_loader *l, const struct probe_obj *o, struct tvn_err *e)
{
	int abi = tvn_usdt_sites__abi_version(&o->sites);
	const struct tvn_usdt_site *site = NULL;

	for (int i = 0; i < o->sites.n && !site; i++)
		if (o->sites.v[i].probe_id == TVN_P_ABI_VERSION)
			site = &o->sites.v[i];
	if (abi == -ENOENT && site)
		return tvn_err__set(
		    e, TVN_CAUSE_CONTRACT, -EPROTO,
		    "pid %d (%s): probe abi__version, argument #0 '%s': not a literal constant "
		    "nor an initialized global, so the tracer cannot read the ABI version before "
		    "the host runs: pass the literal TORVYN_PROBE_ABI_VERSION (%d)",
		    l->pid, o->name, site->args, TORVYN_PROBE_ABI_VERSION);
	if (abi == -ENOENT)
		return tvn_err__set(e, TVN_CAUSE_ABI, -EPROTO,
				    "pid %d (%s) has no abi__version probe site: a host fires "
				    "TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION), this "
				    "torvyn-trace speaks ABI %d",
				    l->pid, o->name, TORVYN_PROBE_ABI_VERSION);
	if (abi != TORVYN_PROBE_ABI_VERSION)
		return tvn_err__set(
		    e, TVN_CAUSE_ABI, -EPROTO,
		    "pid %d (%s) speaks torvyn probe ABI %d, this torvyn-trace speaks "
		    "%d: use the torvyn-trace built with that host",
		    l->pid, o->name, abi < 0 ? 0 : abi, TORVYN_PROBE_ABI_VERSION);
	return 0;
}

bool tvn_usdt_sites__has_probe(const struct tvn_usdt_sites *s, int probe_id)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i].probe_id == probe_id)
			return true;
	return false;
}

/*
 * A host learns its level only from the gate semaphores, and the kernel
 * raises a semaphore only for a probe site that exists. A host that uses
 * semaphores (sites with one, or the semaphore defined, as dtrace -G does)
 * but has no gate__production site would wait forever for its gate while
 * the tracer says "attached": refused. Without a gate__diagnostic site only
 * the diagnostic level is lost: a warning.
 */
static int check_gates(const struct tvn_loader *l, const struct probe_obj *o, struct tvn_err *e)
{
	bool sems = o->sites.sem_defined & (1ull << TVN_P_GATE_PRODUCTION);

	for (int i = 0; i < o->sites.n; i++)
		sems |= o->sites.v[i].sem_off != 0;
	if (sems && !tvn_usdt_sites__has_probe(&o->sites, TVN_P_GATE_PRODUCTION))
		return tvn_err__set(
		    e, TVN_CAUSE_CONTRACT, -EPROTO,
		    "pid %d (%s): probe gate__production has no site: the host uses probe "
		    "semaphores, but TORVYN_GATE_PRODUCTION_ENABLED() can never rise without "
		    "a site, so it would wait while the tracer says attached: the host must "
		    "contain a TORVYN_GATE_PRODUCTION(level) site, reached when it sees the "
		    "gate up (README, \"Probe contract\")",
		    l->pid, o->name);
	if (sems && !tvn_usdt_sites__has_probe(&o->sites, TVN_P_GATE_DIAGNOSTIC))
		pr_warn("pid %d (%s): probe gate__diagnostic has no site: at the diagnostic level "
			"TORVYN_GATE_DIAGNOSTIC_ENABLED() stays 0; add a "
			"TORVYN_GATE_DIAGNOSTIC(level) site (README, \"Probe contract\")\n",
			l->pid, o->name);
	return 0;
}

int tvn_loader__read_probes(struct tvn_loader *l, struct tvn_err *e)
{
	struct lib_scan scan = {.l = l, .e = e};
	char path[PATH_MAX];
	int rc = find_target(l, path, sizeof(path), e);
	bool flush = false;

	if (!rc)
		rc = add_obj(l, l->exe, path, false, e);
	/* a runtime embedded as a library: its probes are in the shared object */
	if (!rc)
		rc = tvn_usdt_elf__each_object(l->pid, scan_lib, &scan);
	if (rc == -ESRCH)
		return tvn_err__set(e, TVN_CAUSE_NO_PROCESS, rc, "pid %d: no such process", l->pid);
	if (rc)
		return rc;
	if (!l->n_objs)
		return tvn_err__set(
		    e, TVN_CAUSE_NO_PROBES, -ENOENT,
		    "pid %d (%s) has no torvyn probes, nor does any shared object it maps: is it "
		    "a torvyn host built with probes? (build/torvyn-host-noprobes has none by "
		    "design)",
		    l->pid, l->exe);
	for (int i = 0; i < l->n_objs; i++) {
		rc = check_abi(l, l->objs[i], e);
		if (!rc)
			rc = check_gates(l, l->objs[i], e);
		if (rc)
			return rc;
		if (strcmp(l->objs[i]->name, l->exe))
			pr_info("pid %d: torvyn probes in %s: %d sites\n", l->pid, l->objs[i]->name,
				l->objs[i]->sites.n);
		flush |= tvn_usdt_sites__has_probe(&l->objs[i]->sites, TVN_P_METRICS_FLUSH);
	}
	if (!flush)
		pr_warn("pid %d (%s): probe metrics__flush has no site: no metric blocks will "
			"arrive; a host flushes each block with TORVYN_METRICS_FLUSH(block, size, "
			"kind)\n",
			l->pid, l->exe);
	return 0;
}
