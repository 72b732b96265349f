// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* torvyn-trace level --pid PID off|production|diagnostic */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "exitcodes.h"
#include "level.h"
#include "log.h"
#include "opts.h"

struct level_opts {
	int pid;
};

static const struct tvn_opt level_table[] = {
    {.name = "pid",
     .short_name = 'p',
     .kind = TVN_OPT_PID,
     .off = offsetof(struct level_opts, pid),
     .arg = "PID",
     .help = "the host whose attach session to switch"},
    TVN_OPT_ROW_HELP,
    TVN_OPT_ROW_END,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace level --pid PID off|production|diagnostic\n"
		"       torvyn-trace level --pid PID          (prints the current level)\n"
		"\n"
		"Switches the level of the attach session serving PID, live: flows keep running.\n"
		"off detaches every probe (the host is back at Level 0) while the session keeps\n"
		"serving what it collected.\n"
		"\n"
		"Options:\n");
	tvn_opts__print(out, level_table);
	fprintf(out, "\n"
		     "Examples:\n"
		     "  torvyn-trace level --pid 1234 diagnostic\n"
		     "  torvyn-trace level --pid 1234 off\n");
}

/* "ok LEVEL [NS]" or "err CAUSE TEXT" -> what the user reads, and the exit code. */
static int report(int pid, int level, const char *reply)
{
	if (!strncmp(reply, "ok ", 3)) {
		char name[32] = "";
		unsigned long long ns = 0;

		sscanf(reply + 3, "%31s %llu", name, &ns);
		if (level < 0)
			printf("pid %d: %s\n", pid, name);
		else
			printf("pid %d: %s (switched in %.1f ms)\n", pid, name, ns / 1e6);
		return TVN_EXIT_OK;
	}
	if (!strncmp(reply, "err ", 4)) {
		char cause[32] = "";
		const char *msg = strchr(reply + 4, ' ');

		sscanf(reply + 4, "%31s", cause);
		pr_warn("level: %s\n", msg ? msg + 1 : reply);
		return tvn_cli__exit_code(tvn_cause__parse(cause));
	}
	pr_warn("level: unexpected reply from the session: %s\n", reply);
	return TVN_EXIT_INTERNAL;
}

int tvn_cli__level(int argc, char **argv)
{
	struct level_opts o = {0};
	char req[64], reply[640];
	int level = -1, rc, first;

	rc = tvn_opts__parse(level_table, argc, argv, &o, usage, &first, 0);
	if (rc)
		return rc == 1 ? TVN_EXIT_OK : rc;
	if (!o.pid || argc - first > 1) {
		usage(stderr);
		return TVN_EXIT_USAGE;
	}
	if (first < argc) {
		level = tvn_level__parse(argv[first]);
		if (level < 0) {
			pr_warn("level: '%s': expected off, production or diagnostic\n",
				argv[first]);
			return TVN_EXIT_USAGE;
		}
		snprintf(req, sizeof(req), "level %s", tvn_level__name(level));
	} else {
		snprintf(req, sizeof(req), "status");
	}
	rc = tvn_control__request(o.pid, req, reply, sizeof(reply));
	if (rc == -ECONNREFUSED || rc == -ENOENT) {
		pr_warn("level: no attach session serves pid %d: start one with "
			"'torvyn-trace attach --pid %d'\n",
			o.pid, o.pid);
		return TVN_EXIT_NO_SESSION;
	}
	if (rc) {
		pr_warn("level: talking to the session of pid %d: %s\n", o.pid, strerror(-rc));
		return TVN_EXIT_INTERNAL;
	}
	return report(o.pid, level, reply);
}
