// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <getopt.h>
#include <grp.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exitcodes.h"
#include "http.h"
#include "level.h"
#include "log.h"
#include "opts.h"
#include "torvyn_abi.h"
#include "torvyn_parse.h"

#define MAX_ROWS 64
#define LONG_ONLY 256 /* getopt values of options without a short name: 256 + row */

static int count_rows(const struct tvn_opt *t)
{
	int n = 0;

	while (t[n].name)
		n++;
	return n;
}

/* Stores one option's argument; 0, or -EINVAL after a message saying what it expects. */
static int store(const struct tvn_opt *o, const char *arg, void *dst)
{
	char *p = (char *)dst + o->off;
	struct sockaddr_storage ss;
	unsigned int sslen;
	int level;

	switch (o->kind) {
	case TVN_OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case TVN_OPT_STR:
		*(const char **)p = arg;
		return 0;
	case TVN_OPT_PID:
		if (!torvyn_parse_pid(arg, (int *)p))
			return 0;
		pr_warn("--%s %s: expected a process id\n", o->name, arg);
		return -EINVAL;
	case TVN_OPT_SECONDS:
		if (!torvyn_parse_seconds(arg, o->min, o->max, (double *)p))
			return 0;
		pr_warn("--%s %s: expected seconds in [%g, %g]\n", o->name, arg, o->min, o->max);
		return -EINVAL;
	case TVN_OPT_RATE:
		if (!torvyn_parse_rate(arg, (double *)p))
			return 0;
		pr_warn("--%s %s: expected a number in [0, 1]\n", o->name, arg);
		return -EINVAL;
	case TVN_OPT_DURATION:
		if (!torvyn_parse_duration_ns(arg, (uint64_t *)p))
			return 0;
		pr_warn("--%s %s: expected a duration such as 10ms, 500us, 1s\n", o->name, arg);
		return -EINVAL;
	case TVN_OPT_LEVEL:
		level = tvn_level__parse(arg);
		if (level >= TORVYN_LEVEL_PRODUCTION) {
			*(int *)p = level;
			return 0;
		}
		pr_warn("--%s %s: expected production or diagnostic (to attach nothing, do not "
			"attach)\n",
			o->name, arg);
		return -EINVAL;
	case TVN_OPT_LISTEN:
		/* a malformed address is a usage error, before the target is touched */
		if (!tvn_http__parse_addr(arg, &ss, &sslen)) {
			*(const char **)p = arg;
			return 0;
		}
		pr_warn("--%s %s: expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464\n", o->name,
			arg);
		return -EINVAL;
	case TVN_OPT_HEADER: {
		struct tvn_otlp_flags *f = (void *)p;

		if (f->n_headers < TVN_OTLP_MAX_HEADERS && strchr(arg, '=')) {
			f->headers[f->n_headers++] = arg;
			return 0;
		}
		pr_warn("--%s %s: expected KEY=VALUE (at most %d)\n", o->name, arg,
			TVN_OTLP_MAX_HEADERS);
		return -EINVAL;
	}
	case TVN_OPT_VERBOSE:
		tvn_log_verbosity = LOG_DEBUG;
		return 0;
	case TVN_OPT_QUIET:
		tvn_log_verbosity = LOG_WARN;
		return 0;
	case TVN_OPT_HELP:
		return 0;
	case TVN_OPT_CALL:
		return o->parse(arg, p) ? -EINVAL : 0;
	}
	return -EINVAL;
}

/* getopt_long's tables, from ours. */
static void build(const struct tvn_opt *t, int n, struct option *lo, char *shorts,
		  unsigned int flags)
{
	char *s = shorts;

	if (flags & TVN_OPTS_IN_ORDER)
		*s++ = '+';
	*s++ = ':'; /* a missing argument is ':', told apart from an unknown option */
	for (int i = 0; i < n; i++) {
		bool has_arg = t[i].arg != NULL;

		lo[i] = (struct option){t[i].name, has_arg ? required_argument : no_argument, NULL,
					t[i].short_name ? t[i].short_name : LONG_ONLY + i};
		if (t[i].short_name) {
			*s++ = t[i].short_name;
			if (has_arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	lo[n] = (struct option){0};
}

static int row_of(const struct tvn_opt *t, int n, int val)
{
	if (val >= LONG_ONLY)
		return val - LONG_ONLY < n ? val - LONG_ONLY : -1;
	for (int i = 0; i < n; i++) {
		if (t[i].short_name == val)
			return i;
	}
	return -1;
}

int tvn_opts__parse(const struct tvn_opt *table, int argc, char **argv, void *dst,
		    void (*usage)(FILE *out), int *first_arg, unsigned int flags)
{
	struct option lo[MAX_ROWS + 1];
	char shorts[2 * MAX_ROWS + 3];
	int n = count_rows(table), opt, row;

	if (n > MAX_ROWS)
		return TVN_EXIT_INTERNAL;
	build(table, n, lo, shorts, flags);
	optind = 0; /* glibc: start over (argv[0] is the verb) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (opt == ':' || opt == '?') {
			pr_warn("%s: %s (try --help)\n", argv[optind - 1],
				opt == ':' ? "needs a value" : "unknown option");
			return TVN_EXIT_USAGE;
		}
		row = row_of(table, n, opt);
		if (row < 0)
			return TVN_EXIT_USAGE;
		if (table[row].kind == TVN_OPT_HELP) {
			usage(stdout);
			return 1;
		}
		if (store(&table[row], optarg, dst))
			return TVN_EXIT_USAGE;
	}
	if (first_arg) {
		*first_arg = optind;
	} else if (optind != argc) {
		pr_warn("unexpected argument '%s' (try --help)\n", argv[optind]);
		return TVN_EXIT_USAGE;
	}
	return 0;
}

#define HELP_COL 28
#define HELP_WIDTH (80 - HELP_COL)

/* Prints text from column HELP_COL, wrapped at word boundaries to 80 columns. */
static void print_wrapped(FILE *out, const char *text, int col)
{
	while (*text) {
		int n = (int)strlen(text), cut = n;

		if (n > HELP_WIDTH) {
			cut = HELP_WIDTH;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (!cut)
				cut = HELP_WIDTH;
		}
		fprintf(out, "%*s%.*s\n", HELP_COL - col, "", cut, text);
		col = 0;
		text += cut;
		while (*text == ' ')
			text++;
	}
}

void tvn_opts__print(FILE *out, const struct tvn_opt *table)
{
	for (int i = 0; table[i].name; i++) {
		const struct tvn_opt *o = &table[i];
		int len;

		len = fprintf(out, "  %c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			      o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ',
			      o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		if (len >= HELP_COL) {
			fputc('\n', out);
			len = 0;
		}
		print_wrapped(out, o->help, len);
	}
}

int tvn_opts__parse_group(const char *arg, void *field)
{
	struct group *g = getgrnam(arg);
	char *end;
	long gid;

	if (g) {
		*(int *)field = (int)g->gr_gid;
		return 0;
	}
	gid = strtol(arg, &end, 10);
	if (end != arg && !*end && gid >= 0 && gid < 0x7fffffff) {
		*(int *)field = (int)gid;
		return 0;
	}
	pr_warn("--control-group %s: no such group (a name from /etc/group, or a gid)\n", arg);
	return -EINVAL;
}
