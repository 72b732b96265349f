/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * torvyn-trace attach: one session per target PID. The main thread polls the
 * ring buffer on a timer (records are submitted without wakeups), answers the
 * control socket and writes textfiles; libmicrohttpd serves /metrics.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "control.h"
#include "exitcodes.h"
#include "http.h"
#include "log.h"
#include "prom.h"
#include "session.h"
#include "textfile.h"

#define POLL_MS 50

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

struct attach_opts {
	int pid;
	int level;
	const char *listen;
	const char *textfile_dir;
	double interval_s;
	bool exit_with_target;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: torvyn-trace attach --pid PID [options]\n"
		"\n"
		"Attaches to a running torvyn host, aggregates in BPF maps and serves Prometheus\n"
		"metrics until stopped (SIGINT/SIGTERM).\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID             the host to attach to\n"
		"  -l, --level LEVEL         production (default) or diagnostic\n"
		"      --listen ADDR:PORT    serve /metrics here (127.0.0.1:9464)\n"
		"      --textfile-dir DIR    also write DIR/torvyn-PID.prom for node_exporter\n"
		"      --interval SEC        textfile period (15)\n"
		"      --exit-with-target    quit when the host exits (default: keep serving\n"
		"                            the final values with torvyn_trace_target_up 0)\n"
		"  -v, --verbose             debug messages, libbpf's included\n"
		"  -q, --quiet               warnings only\n"
		"\n"
		"Examples:\n"
		"  torvyn-trace attach --pid $(pgrep -n torvyn-host)\n"
		"  torvyn-trace attach --pid 1234 --level diagnostic --listen 0.0.0.0:9464\n"
		"  torvyn-trace attach --pid 1234 --textfile-dir /var/lib/node_exporter/textfile\n");
}

static int parse_args(int argc, char **argv, struct attach_opts *o)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "level", required_argument, NULL, 'l' },
		{ "listen", required_argument, NULL, 'L' },
		{ "textfile-dir", required_argument, NULL, 'T' },
		{ "interval", required_argument, NULL, 'i' },
		{ "exit-with-target", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	char *end;

	while ((opt = getopt_long(argc, argv, "p:l:vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o->pid = (int)strtol(optarg, &end, 10);
			if (*end || o->pid <= 0) {
				pr_warn("--pid %s: expected a process id\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'l':
			o->level = level__parse(optarg);
			if (o->level < TORVYN_LEVEL_PRODUCTION) {
				pr_warn("--level %s: expected production or diagnostic (to attach "
					"nothing, do not attach)\n",
					optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'L':
			o->listen = optarg;
			break;
		case 'T':
			o->textfile_dir = optarg;
			break;
		case 'i':
			o->interval_s = strtod(optarg, &end);
			if (*end || end == optarg || o->interval_s < 0.1 || o->interval_s > 86400) {
				pr_warn("--interval %s: expected seconds in [0.1, 86400]\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'x':
			o->exit_with_target = true;
			break;
		case 'v':
			log_verbosity = LOG_DEBUG;
			break;
		case 'q':
			log_verbosity = LOG_WARN;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return TVN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		pr_warn("unexpected argument '%s' (try --help)\n", argv[optind]);
		return TVN_EXIT_USAGE;
	}
	if (!o->pid) {
		pr_warn("attach needs --pid PID (try --help)\n");
		return TVN_EXIT_USAGE;
	}
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void write_textfile(struct session *s, const struct attach_opts *o)
{
	struct snapshot snap;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (session__snapshot(s, &snap) || prom__render(&snap, false, &buf, &len)) {
		pr_warn("textfile: out of memory\n");
	} else {
		rc = textfile__write(o->textfile_dir, o->pid, buf, len);
		if (rc)
			pr_warn("textfile %s/torvyn-%d.prom: %s\n", o->textfile_dir, o->pid,
				strerror(-rc));
	}
	free(buf);
	snapshot__free(&snap);
}

static void serve_control(struct session *s, int lfd)
{
	char line[128], err[512], reply[640];
	uint64_t ns = 0;
	int fd, level, rc;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (control__read_line(fd, line, sizeof(line))) {
			close(fd);
			continue;
		}
		if (!strcmp(line, "status")) {
			snprintf(reply, sizeof(reply), "ok %s\n", level__name(session__level(s)));
		} else if (!strncmp(line, "level ", 6) && (level = level__parse(line + 6)) >= 0) {
			err[0] = '\0';
			rc = session__set_level(s, level, &ns, err, sizeof(err));
			if (rc)
				snprintf(reply, sizeof(reply), "err %d %s\n", rc, err);
			else
				snprintf(reply, sizeof(reply), "ok %s %llu\n", level__name(level),
					 (unsigned long long)ns);
			pr_info("level %s: %s (%.1f ms)\n", line + 6, rc ? err : "done", ns / 1e6);
		} else {
			snprintf(reply, sizeof(reply), "err %d unknown request '%s'\n",
				 TVN_EXIT_USAGE, line);
		}
		if (write(fd, reply, strlen(reply)) < 0)
			pr_debug("control reply: %s\n", strerror(errno));
		close(fd);
	}
}

static int run(struct session *s, const struct attach_opts *o, int ctl, int pidfd)
{
	uint64_t next_textfile = mono_ns();
	bool up = true;

	while (!exiting) {
		struct pollfd pfd[2] = {
			{ .fd = ctl, .events = POLLIN },
			{ .fd = up ? pidfd : -1, .events = POLLIN },
		};
		int n = poll(pfd, 2, POLL_MS);

		if (n < 0 && errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			return TVN_EXIT_INTERNAL;
		}
		session__poll(s);
		if (up && (pfd[1].revents & POLLIN)) {
			session__target_exited(s);
			up = false;
			pr_info("pid %d exited; %s\n", o->pid,
				o->exit_with_target ? "quitting" :
						      "serving its final values until stopped");
			if (o->exit_with_target)
				break;
		}
		if (pfd[0].revents & POLLIN)
			serve_control(s, ctl);
		if (o->textfile_dir && mono_ns() >= next_textfile) {
			write_textfile(s, o);
			next_textfile = mono_ns() + (uint64_t)(o->interval_s * 1e9);
		}
	}
	session__poll(s);
	if (o->textfile_dir)
		write_textfile(s, o);
	return TVN_EXIT_OK;
}

int cmd_attach(int argc, char **argv)
{
	struct attach_opts o = {
		.level = TORVYN_LEVEL_PRODUCTION,
		.listen = "127.0.0.1:9464",
		.interval_s = 15,
	};
	struct http_server *http = NULL;
	struct session *s = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512] = "";
	int rc, ctl = -1, pidfd = -1;
	uint64_t ns = 0;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? TVN_EXIT_OK : rc;
	if (o.textfile_dir && (rc = textfile__check_dir(o.textfile_dir))) {
		pr_warn("--textfile-dir %s: %s: give an existing directory this user can write\n",
			o.textfile_dir, strerror(-rc));
		return TVN_EXIT_EXPORT;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct session_opts so = { .pid = o.pid };

	rc = session__open(&so, &s, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		return rc;
	}
	pidfd = (int)syscall(SYS_pidfd_open, o.pid, 0);
	if (pidfd < 0) {
		pr_warn("pid %d: %s\n", o.pid, strerror(errno));
		rc = errno == ESRCH ? TVN_EXIT_NO_PROCESS : TVN_EXIT_KERNEL;
		goto out;
	}
	ctl = control__listen(o.pid);
	if (ctl < 0) {
		if (ctl == -EADDRINUSE)
			pr_warn("pid %d already has an attach session: switch its level with "
				"'torvyn-trace level --pid %d ...' or stop it first\n",
				o.pid, o.pid);
		else
			pr_warn("control socket: %s\n", strerror(-ctl));
		rc = ctl == -EADDRINUSE ? TVN_EXIT_ADDR_IN_USE : TVN_EXIT_INTERNAL;
		goto out;
	}
	http = http_server__start(o.listen, s);
	if (!http) {
		int e = errno;

		if (e == EADDRINUSE)
			pr_warn("--listen %s: address already in use: pick another port "
				"(--listen 127.0.0.1:PORT) or stop what holds it (ss -ltnp)\n",
				o.listen);
		else if (e == EINVAL)
			pr_warn("--listen %s: expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464\n",
				o.listen);
		else
			pr_warn("--listen %s: %s\n", o.listen, strerror(e));
		rc = e == EADDRINUSE ? TVN_EXIT_ADDR_IN_USE :
		     e == EINVAL     ? TVN_EXIT_USAGE :
		     e == EACCES     ? TVN_EXIT_PERMISSION :
				       TVN_EXIT_INTERNAL;
		goto out;
	}
	rc = session__set_level(s, o.level, &ns, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		goto out;
	}
	pr_info("attached to pid %d (%s) at level %s in %.1f ms; serving http://%s/metrics\n",
		o.pid, session__exe(s), level__name(o.level), ns / 1e6, o.listen);
	rc = run(s, &o, ctl, pidfd);
out:
	http_server__stop(http);
	if (ctl >= 0)
		close(ctl);
	if (pidfd >= 0)
		close(pidfd);
	session__free(s);
	return rc;
}
