// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace probes: the torvyn probes of a host binary or of a running
 * host, their sites, argument strings, semaphores and the probe ABI version.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torvyn_abi.h"

#include "commands.h"
#include "exitcodes.h"
#include "log.h"
#include "opts.h"
#include "usdt_elf.h"
#include "torvyn_parse.h"

struct probe_row {
	const char *name;
	int id;
	int sites;
	const struct tvn_usdt_site *first;
	int sem; /* semaphore value with --pid, -1 otherwise */
};

struct probes_opts {
	int pid; /* 0 with --binary */
	const char *binary;
	bool json;
};

static const struct tvn_opt probes_table[] = {
    {.name = "pid",
     .short_name = 'p',
     .kind = TVN_OPT_PID,
     .off = offsetof(struct probes_opts, pid),
     .arg = "PID",
     .help = "a running host; reads /proc/PID (root or CAP_SYS_PTRACE)"},
    {.name = "binary",
     .short_name = 'b',
     .kind = TVN_OPT_STR,
     .off = offsetof(struct probes_opts, binary),
     .arg = "PATH",
     .help = "a host executable on disk"},
    {.name = "json",
     .short_name = 'j',
     .kind = TVN_OPT_FLAG,
     .off = offsetof(struct probes_opts, json),
     .arg = NULL,
     .help = "JSON instead of a table"},
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: torvyn-trace probes (--pid PID | --binary PATH) [-j|--json]\n"
		   "\n"
		   "Lists the torvyn USDT probes of a host: each probe's id, number of sites and\n"
		   "argument string, the probe ABI version and, with --pid, the current value of\n"
		   "each probe's semaphore (how many tracers have it attached).\n"
		   "\n"
		   "Options:\n");
	tvn_opts__print(f, probes_table);
	fprintf(f, "\n"
		   "Examples:\n"
		   "  torvyn-trace probes --binary /usr/bin/torvyn-host\n"
		   "  torvyn-trace probes --pid $(pgrep -n torvyn-host)\n"
		   "  torvyn-trace probes --pid 4242 -j | \\\n"
		   "      jq -r '.probes[] | select(.semaphore > 0) | .name'\n");
}

/* Returns -1 to go on, else an exit code. */
static int parse_opts(int argc, char **argv, struct probes_opts *o)
{
	int rc = tvn_opts__parse(probes_table, argc, argv, o, usage, NULL, 0);

	if (rc)
		return rc == 1 ? TVN_EXIT_OK : rc;
	if (!o->pid == !o->binary) {
		pr_warn("probes: give exactly one of --pid PID and --binary PATH (see --help)\n");
		return TVN_EXIT_USAGE;
	}
	return -1;
}

/* Turns an error finding or reading the target into a message and an exit code. */
static int target_error(const struct probes_opts *o, const char *what, int err)
{
	if (err == -ESRCH) {
		pr_warn("pid %d: no such process\n", o->pid);
		return TVN_EXIT_NO_PROCESS;
	}
	if (err == -EACCES || err == -EPERM) {
		if (o->pid && geteuid() == 0)
			pr_warn("pid %d: cannot read %s: %s: even root needs CAP_SYS_PTRACE in "
				"the host's user namespace (run torvyn-trace there)\n",
				o->pid, what, strerror(-err));
		else if (o->pid)
			pr_warn("pid %d: cannot read %s: %s: run as root, or with CAP_SYS_PTRACE "
				"as the host's user\n",
				o->pid, what, strerror(-err));
		else
			pr_warn("%s: %s: make it readable or run as a user who may read it\n", what,
				strerror(-err));
		return TVN_EXIT_PERMISSION;
	}
	if (err == -ENOENT && o->pid) {
		pr_warn("pid %d has no executable (a kernel thread or a zombie?)\n", o->pid);
		return TVN_EXIT_NO_PROBES;
	}
	if (err == -ENOENT) {
		pr_warn("%s: no such file\n", what);
		return TVN_EXIT_USAGE;
	}
	if (err == -ENOEXEC)
		return TVN_EXIT_NO_PROBES; /* usdt_elf said why */
	if (err != -EINVAL && err != -EOPNOTSUPP)
		pr_warn("%s: %s\n", what, strerror(-err));
	return TVN_EXIT_INTERNAL;
}

static struct probe_row *find_row(struct probe_row *rows, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/*
 * Whether site i is the first site of its probe with its argument string:
 * inlining can leave the same argument in different places per site.
 */
static bool new_variant(const struct tvn_usdt_sites *sites, int i)
{
	const struct tvn_usdt_site *s = &sites->v[i];
	int j;

	for (j = 0; j < i; j++)
		if (strcmp(sites->v[j].name, s->name) == 0 &&
		    strcmp(sites->v[j].args, s->args) == 0)
			return false;
	return true;
}

/* torvyn.d order first, then names torvyn.d does not declare, by name. */
static int cmp_rows(const void *a, const void *b)
{
	const struct probe_row *x = a, *y = b;

	if (x->id >= 0 && y->id >= 0)
		return x->id - y->id;
	if (x->id >= 0 || y->id >= 0)
		return x->id >= 0 ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One row per probe name; rows borrow from sites. Returns the row count or -ENOMEM. */
static int group_sites(const struct tvn_usdt_sites *sites, struct probe_row **out)
{
	struct probe_row *rows, *r;
	int i, n = 0;

	rows = calloc(sites->n ? sites->n : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < sites->n; i++) {
		const struct tvn_usdt_site *s = &sites->v[i];

		r = find_row(rows, n, s->name);
		if (!r) {
			r = &rows[n++];
			r->name = s->name;
			r->id = s->probe_id;
			r->first = s;
			r->sem = -1;
		}
		r->sites++;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	*out = rows;
	return n;
}

static int read_semaphores(const struct probes_opts *o, struct probe_row *rows, int n)
{
	char what[64];
	uint16_t v;
	int i, err;

	for (i = 0; i < n; i++) {
		if (!rows[i].first->sem_off)
			continue;
		err = tvn_usdt_elf__read_semaphore(o->pid, rows[i].first, &v);
		if (err == -ENOENT) {
			snprintf(what, sizeof(what), "/proc/%d", o->pid);
			if (access(what, F_OK))
				return target_error(o, what, -ESRCH);
			pr_warn("pid %d: its executable is not in /proc/%d/maps\n", o->pid, o->pid);
			return TVN_EXIT_INTERNAL;
		}
		if (err) {
			snprintf(what, sizeof(what), "/proc/%d/mem", o->pid);
			return target_error(o, what, err);
		}
		rows[i].sem = v;
	}
	return -1;
}

/* What list_probes() found, for the printers. */
struct probes_report {
	const char *binary;
	int abi; /* -errno when unknown */
	const struct tvn_usdt_sites *sites;
	const struct probe_row *rows;
	int n;
};

static json_t *json_variants(const struct probes_report *rep, const struct probe_row *r)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < rep->sites->n; i++)
		if (strcmp(rep->sites->v[i].name, r->name) == 0 && new_variant(rep->sites, i) &&
		    json_array_append_new(a, json_string(rep->sites->v[i].args))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int print_json(const struct probes_opts *o, const struct probes_report *rep)
{
	json_t *root, *probes, *p;
	int i, err;

	root = json_pack("{s:s, s:o, s:o, s:[]}", "binary", rep->binary, "pid",
			 o->pid ? json_integer(o->pid) : json_null(), "abi_version",
			 rep->abi >= 0 ? json_integer(rep->abi) : json_null(), "probes");
	probes = json_object_get(root, "probes");
	if (!root || !probes)
		goto err;
	for (i = 0; i < rep->n; i++) {
		const struct probe_row *r = &rep->rows[i];

		p = json_pack("{s:s, s:i, s:i, s:s, s:o, s:i, s:o}", "name", r->name, "id", r->id,
			      "sites", r->sites, "args", r->first->args, "args_variants",
			      json_variants(rep, r), "arg_count", r->first->spec.arg_cnt,
			      "semaphore", r->sem >= 0 ? json_integer(r->sem) : json_null());
		if (!p || json_array_append_new(probes, p))
			goto err;
	}
	err = json_dumpf(root, stdout, JSON_INDENT(2));
	json_decref(root);
	if (err || fputc('\n', stdout) == EOF)
		return TVN_EXIT_INTERNAL;
	return TVN_EXIT_OK;
err:
	pr_warn("probes: cannot build the JSON output (out of memory, or a path that is not "
		"UTF-8?)\n");
	json_decref(root);
	return TVN_EXIT_INTERNAL;
}

static void print_table(const struct probes_opts *o, const struct probes_report *rep)
{
	int i, j, semw = o->pid ? 10 : 0; /* the SEMAPHORE column, with --pid only */

	if (o->pid)
		printf("pid %d: %s\n", o->pid, rep->binary);
	else
		printf("%s\n", rep->binary);
	if (rep->abi >= 0)
		printf("probe ABI version: %d\n", rep->abi);
	else
		printf("probe ABI version: unknown (no abi__version probe with a constant)\n");
	printf("\n%-26s %3s %5s %*s  %s\n", "PROBE", "ID", "SITES", semw, o->pid ? "SEMAPHORE" : "",
	       "ARGS");
	for (i = 0; i < rep->n; i++) {
		const struct probe_row *r = &rep->rows[i];
		char sem[16] = "-";

		if (r->sem >= 0)
			snprintf(sem, sizeof(sem), "%d", r->sem);
		printf("%-26s %3d %5d %*s  %s\n", r->name, r->id, r->sites, semw, o->pid ? sem : "",
		       r->first->args);
		for (j = 0; j < rep->sites->n; j++) {
			const struct tvn_usdt_site *s = &rep->sites->v[j];

			if (s != r->first && strcmp(s->name, r->name) == 0 &&
			    new_variant(rep->sites, j) && strcmp(s->args, r->first->args) != 0)
				printf("%-26s %3s %5s %*s  %s\n", "", "", "", semw, "", s->args);
		}
	}
}

static int list_probes(const struct probes_opts *o, const char *path, const char *binary)
{
	struct tvn_usdt_sites sites = {};
	struct probe_row *rows = NULL;
	struct probes_report rep = {.binary = binary, .sites = &sites};
	int n, ret;

	n = tvn_usdt_elf__read(path, &sites);
	if (n) {
		ret = target_error(o, o->pid ? path : binary, n);
		goto out;
	}
	if (!sites.n) {
		char who[PATH_MAX + 32];

		if (o->pid)
			snprintf(who, sizeof(who), "pid %d (%s)", o->pid, binary);
		else
			snprintf(who, sizeof(who), "%s", binary);
		pr_warn("%s has no torvyn probes: is it a torvyn host built with probes? "
			"(build/torvyn-host-noprobes has none by design)\n",
			who);
		ret = TVN_EXIT_NO_PROBES;
		goto out;
	}
	n = group_sites(&sites, &rows);
	if (n < 0) {
		ret = target_error(o, binary, n);
		goto out;
	}
	if (o->pid) {
		ret = read_semaphores(o, rows, n);
		if (ret >= 0)
			goto out;
	}
	rep.rows = rows;
	rep.n = n;
	rep.abi = tvn_usdt_sites__abi_version(&sites);
	if (rep.abi >= 0 && rep.abi != TORVYN_PROBE_ABI_VERSION)
		pr_warn("%s speaks probe ABI %d, this torvyn-trace speaks %d: it cannot attach\n",
			binary, rep.abi, TORVYN_PROBE_ABI_VERSION);
	if (o->json) {
		ret = print_json(o, &rep);
	} else {
		print_table(o, &rep);
		ret = TVN_EXIT_OK;
	}
out:
	free(rows);
	tvn_usdt_sites__free(&sites);
	return ret;
}

int tvn_cli__probes(int argc, char **argv)
{
	struct probes_opts o = {};
	char path[PATH_MAX + 32], exe[PATH_MAX];
	int ret, err;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.binary)
		return list_probes(&o, o.binary, o.binary);

	err = tvn_usdt_elf__exe_link(o.pid, exe, sizeof(exe));
	if (!err)
		err = tvn_usdt_elf__target_path(o.pid, path, sizeof(path));
	if (err) {
		snprintf(path, sizeof(path), "/proc/%d/exe", o.pid);
		return target_error(&o, path, err);
	}
	return list_probes(&o, path, exe);
}
