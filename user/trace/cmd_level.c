/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* torvyn-trace level --pid PID off|production|diagnostic */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "exitcodes.h"
#include <linux/types.h>

#include "torvyn_abi.h"
#include "torvyn_parse.h"

int level__parse(const char *s)
{
	if (!strcmp(s, "off") || !strcmp(s, "0"))
		return TORVYN_LEVEL_OFF;
	if (!strcmp(s, "production") || !strcmp(s, "1"))
		return TORVYN_LEVEL_PRODUCTION;
	if (!strcmp(s, "diagnostic") || !strcmp(s, "2"))
		return TORVYN_LEVEL_DIAGNOSTIC;
	return -1;
}

const char *level__name(int level)
{
	static const char *const names[] = { "off", "production", "diagnostic" };

	return level >= 0 && level <= 2 ? names[level] : "?";
}

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
		"Examples:\n"
		"  torvyn-trace level --pid 1234 diagnostic\n"
		"  torvyn-trace level --pid 1234 off\n");
}

int cmd_level(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char req[64], reply[512];
	int opt, pid = 0, level = -1, rc;

	while ((opt = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (torvyn_parse_pid(optarg, &pid)) {
				fprintf(stderr, "torvyn-trace level: --pid %s: expected a process id\n",
					optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return TVN_EXIT_OK;
		default:
			usage(stderr);
			return TVN_EXIT_USAGE;
		}
	}
	if (!pid || argc - optind > 1) {
		usage(stderr);
		return TVN_EXIT_USAGE;
	}
	if (optind < argc) {
		level = level__parse(argv[optind]);
		if (level < 0) {
			fprintf(stderr,
				"torvyn-trace level: '%s': expected off, production or diagnostic\n",
				argv[optind]);
			return TVN_EXIT_USAGE;
		}
		snprintf(req, sizeof(req), "level %s", level__name(level));
	} else {
		snprintf(req, sizeof(req), "status");
	}
	rc = control__request(pid, req, reply, sizeof(reply));
	if (rc == -ECONNREFUSED || rc == -ENOENT) {
		fprintf(stderr,
			"torvyn-trace level: no attach session serves pid %d: start one with "
			"'torvyn-trace attach --pid %d'\n",
			pid, pid);
		return TVN_EXIT_NO_SESSION;
	}
	if (rc) {
		fprintf(stderr, "torvyn-trace level: talking to the session of pid %d: %s\n", pid,
			strerror(-rc));
		return TVN_EXIT_INTERNAL;
	}
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
		int code = atoi(reply + 4);
		const char *msg = strchr(reply + 4, ' ');

		fprintf(stderr, "torvyn-trace level: %s\n", msg ? msg + 1 : reply);
		return code > 0 ? code : TVN_EXIT_INTERNAL;
	}
	fprintf(stderr, "torvyn-trace level: unexpected reply from the session: %s\n", reply);
	return TVN_EXIT_INTERNAL;
}
