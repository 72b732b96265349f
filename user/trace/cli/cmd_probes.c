// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * torvyn-trace probes: the torvyn probes of a host binary or of a running
 * host (its executable and every shared object it maps that carries them),
 * their sites, argument strings, semaphores and the probe ABI version.
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

/* One file with torvyn probes: the binary, or a file the process maps. */
struct probe_file {
	char name[PATH_MAX];	  /* as given, or as the process names it */
	char path[PATH_MAX + 32]; /* opens it from here */
	bool lib;		  /* a shared object the process maps */
	struct tvn_usdt_sites sites;
	struct probe_row *rows; /* borrow from sites */
	int n;
	int abi; /* -errno when unknown */
};

#define MAX_FILES 8

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
		   "each probe's semaphore (how many tracers have it attached). With --pid, the\n"
		   "executable and every shared object the process maps that carries torvyn\n"
		   "probes (a runtime embedded as a library) are listed, each under its path.\n"
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

static int read_semaphores(const struct probes_opts *o, struct probe_file *f)
{
	char what[64];
	uint16_t v;
	int i, err;

	for (i = 0; i < f->n; i++) {
		if (!f->rows[i].first->sem_off)
			continue;
		err = tvn_usdt_elf__read_object_semaphore(o->pid, f->name, f->rows[i].first, &v);
		if (err == -ENOENT) {
			snprintf(what, sizeof(what), "/proc/%d", o->pid);
			if (access(what, F_OK))
				return target_error(o, what, -ESRCH);
			pr_warn("pid %d: %s is not in /proc/%d/maps\n", o->pid, f->name, o->pid);
			return TVN_EXIT_INTERNAL;
		}
		if (err) {
			snprintf(what, sizeof(what), "/proc/%d/mem", o->pid);
			return target_error(o, what, err);
		}
		f->rows[i].sem = v;
	}
	return -1;
}

/* What list_probes() found, for the printers. */
struct probes_report {
	const char *binary; /* the executable with --pid */
	struct probe_file *files[MAX_FILES];
	int n_files;
};

static json_t *json_variants(const struct tvn_usdt_sites *sites, const struct probe_row *r)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < sites->n; i++)
		if (strcmp(sites->v[i].name, r->name) == 0 && new_variant(sites, i) &&
		    json_array_append_new(a, json_string(sites->v[i].args))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *json_abi(int abi)
{
	return abi >= 0 ? json_integer(abi) : json_null();
}

/* Appends f's probes to probes and f itself to files. 0 or -ENOMEM. */
static int json_file(const struct probe_file *f, json_t *files, json_t *probes)
{
	json_t *p;

	p = json_pack("{s:s, s:b, s:o, s:i}", "path", f->name, "shared_object", f->lib,
		      "abi_version", json_abi(f->abi), "sites", f->sites.n);
	if (!p || json_array_append_new(files, p))
		return -ENOMEM;
	for (int i = 0; i < f->n; i++) {
		const struct probe_row *r = &f->rows[i];

		p = json_pack("{s:s, s:i, s:i, s:s, s:o, s:i, s:o, s:s}", "name", r->name, "id",
			      r->id, "sites", r->sites, "args", r->first->args, "args_variants",
			      json_variants(&f->sites, r), "arg_count", r->first->spec.arg_cnt,
			      "semaphore", r->sem >= 0 ? json_integer(r->sem) : json_null(), "file",
			      f->name);
		if (!p || json_array_append_new(probes, p))
			return -ENOMEM;
	}
	return 0;
}

static int print_json(const struct probes_opts *o, const struct probes_report *rep)
{
	json_t *root;
	int i, err;

	/* abi_version: the first file's (the executable's when it has probes) */
	root = json_pack("{s:s, s:o, s:o, s:[], s:[]}", "binary", rep->binary, "pid",
			 o->pid ? json_integer(o->pid) : json_null(), "abi_version",
			 json_abi(rep->files[0]->abi), "files", "probes");
	if (!root)
		goto err;
	for (i = 0; i < rep->n_files; i++)
		if (json_file(rep->files[i], json_object_get(root, "files"),
			      json_object_get(root, "probes")))
			goto err;
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

static void print_file(const struct probes_opts *o, const struct probe_file *f)
{
	int i, j, semw = o->pid ? 10 : 0; /* the SEMAPHORE column, with --pid only */
	const struct tvn_usdt_sites *sites = &f->sites;

	if (o->pid)
		printf("pid %d: %s%s\n", o->pid, f->name,
		       f->lib ? " (a shared object it maps)" : "");
	else
		printf("%s\n", f->name);
	if (f->abi >= 0)
		printf("probe ABI version: %d\n", f->abi);
	else
		printf("probe ABI version: unknown (no abi__version probe with a constant)\n");
	printf("\n%-26s %3s %5s %*s  %s\n", "PROBE", "ID", "SITES", semw, o->pid ? "SEMAPHORE" : "",
	       "ARGS");
	for (i = 0; i < f->n; i++) {
		const struct probe_row *r = &f->rows[i];
		char sem[16] = "-";

		if (r->sem >= 0)
			snprintf(sem, sizeof(sem), "%d", r->sem);
		printf("%-26s %3d %5d %*s  %s\n", r->name, r->id, r->sites, semw, o->pid ? sem : "",
		       r->first->args);
		for (j = 0; j < sites->n; j++) {
			const struct tvn_usdt_site *s = &sites->v[j];

			if (s != r->first && strcmp(s->name, r->name) == 0 &&
			    new_variant(sites, j) && strcmp(s->args, r->first->args) != 0)
				printf("%-26s %3s %5s %*s  %s\n", "", "", "", semw, "", s->args);
		}
	}
}

static void print_table(const struct probes_opts *o, const struct probes_report *rep)
{
	if (o->pid && rep->files[0]->lib)
		printf("pid %d: %s: no torvyn probes in the executable\n\n", o->pid, rep->binary);
	for (int i = 0; i < rep->n_files; i++) {
		if (i)
			printf("\n");
		print_file(o, rep->files[i]);
	}
}

static void free_file(struct probe_file *f)
{
	tvn_usdt_sites__free(&f->sites);
	free(f->rows);
	free(f);
}

/*
 * Reads f's sites; keeps it in rep when it has any. A shared object that
 * cannot be read is skipped (said why when its probes are malformed).
 * Returns -1 to go on, else an exit code.
 */
static int add_file(const struct probes_opts *o, struct probes_report *rep, struct probe_file *f)
{
	int n = tvn_usdt_elf__read(f->path, &f->sites);

	if (n && f->lib && f->sites.why[0])
		pr_warn("pid %d: %s: %s\n", o->pid, f->name, f->sites.why);
	if (n && f->lib)
		n = 0; /* not a host's file */
	else if (n)
		n = target_error(o, o->pid ? f->path : f->name, n);
	if (n || !f->sites.n) {
		free_file(f);
		return n ? n : -1;
	}
	n = group_sites(&f->sites, &f->rows);
	if (n < 0) {
		free_file(f);
		return target_error(o, "probes", n);
	}
	f->n = n;
	f->abi = tvn_usdt_sites__abi_version(&f->sites);
	if (f->abi >= 0 && f->abi != TORVYN_PROBE_ABI_VERSION)
		pr_warn("%s speaks probe ABI %d, this torvyn-trace speaks %d: it cannot attach\n",
			f->name, f->abi, TORVYN_PROBE_ABI_VERSION);
	n = o->pid ? read_semaphores(o, f) : -1;
	if (n < 0 && rep->n_files == MAX_FILES)
		pr_warn("more than %d files with torvyn probes: %s is not listed\n", MAX_FILES,
			f->name);
	if (n >= 0 || rep->n_files == MAX_FILES)
		free_file(f);
	else
		rep->files[rep->n_files++] = f;
	return n;
}

struct lib_scan {
	const struct probes_opts *o;
	struct probes_report *rep;
	int ret;
};

/* Each shared object the process maps. Stops at an exit code. */
static int scan_lib(void *ctx, const char *name)
{
	struct lib_scan *x = ctx;
	struct probe_file *f = calloc(1, sizeof(*f));

	if (!f) {
		x->ret = target_error(x->o, name, -ENOMEM);
		return 1;
	}
	f->lib = true;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (tvn_usdt_elf__object_path(x->o->pid, name, f->path, sizeof(f->path))) {
		free(f);
		return 0;
	}
	x->ret = add_file(x->o, x->rep, f);
	return x->ret >= 0;
}

/* Fills rep with the files of the target. Returns -1 to go on, else an exit code. */
static int find_files(const struct probes_opts *o, struct probes_report *rep)
{
	struct lib_scan scan = {.o = o, .rep = rep, .ret = -1};
	struct probe_file *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return target_error(o, "probes", -ENOMEM);
	if (o->binary) {
		snprintf(f->name, sizeof(f->name), "%s", o->binary);
		snprintf(f->path, sizeof(f->path), "%s", o->binary);
		return add_file(o, rep, f);
	}
	err = tvn_usdt_elf__exe_link(o->pid, f->name, sizeof(f->name));
	if (!err)
		err = tvn_usdt_elf__target_path(o->pid, f->path, sizeof(f->path));
	if (err) {
		snprintf(f->path, sizeof(f->path), "/proc/%d/exe", o->pid);
		err = target_error(o, f->path, err);
		free(f);
		return err;
	}
	err = add_file(o, rep, f);
	if (err >= 0)
		return err;
	/* a runtime embedded as a library: its probes are in a shared object */
	err = tvn_usdt_elf__each_object(o->pid, scan_lib, &scan);
	if (scan.ret >= 0)
		return scan.ret;
	if (err < 0) {
		char what[64];

		snprintf(what, sizeof(what), "/proc/%d/maps", o->pid);
		return target_error(o, what, err);
	}
	return -1;
}

int tvn_cli__probes(int argc, char **argv)
{
	struct probes_opts o = {};
	struct probes_report rep = {};
	char exe[PATH_MAX];
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.pid && tvn_usdt_elf__exe_link(o.pid, exe, sizeof(exe)))
		exe[0] = '\0'; /* find_files() says why */
	rep.binary = o.binary ? o.binary : exe;
	ret = find_files(&o, &rep);
	if (ret < 0 && !rep.n_files) {
		if (o.pid)
			pr_warn("pid %d (%s) has no torvyn probes, nor does any shared object it "
				"maps: is it a torvyn host built with probes? "
				"(build/torvyn-host-noprobes has none by design)\n",
				o.pid, exe);
		else
			pr_warn("%s has no torvyn probes: is it a torvyn host built with probes? "
				"(build/torvyn-host-noprobes has none by design)\n",
				o.binary);
		ret = TVN_EXIT_NO_PROBES;
	}
	if (ret < 0 && o.json) {
		ret = print_json(&o, &rep);
	} else if (ret < 0) {
		print_table(&o, &rep);
		ret = TVN_EXIT_OK;
	}
	for (int i = 0; i < rep.n_files; i++)
		free_file(rep.files[i]);
	return ret;
}
