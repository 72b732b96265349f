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
#include "exporter.h"
#include "http.h"
#include "log.h"
#include "prom.h"
#include "session.h"
#include "textfile.h"
#include "torvyn_parse.h"
#include "torvyn_rt.h"
#include "tracing.h"

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
	/* tracing */
	double sample_rate;
	uint64_t latency_threshold_ns;
	/* OTLP: flags, applied over the OTEL_* variables */
	const char *otlp_endpoint;
	const char *otlp_protocol;
	const char *otlp_compression;
	const char *otlp_headers[EXPORTER_MAX_HEADERS];
	int n_otlp_headers;
	bool otlp_stdout;
	const char *otlp_file;
	double otlp_metrics_interval_s;
	const char *service_name;
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
		"\n"
		"Tracing (the host head-samples and promotes; these narrow what is exported):\n"
		"      --sample-rate R       export head-sampled traces whose trace id falls under\n"
		"                            R (0.01); errors are always exported\n"
		"      --latency-threshold D export elements slower than D end to end (10ms)\n"
		"      --otlp-endpoint URL   OTLP receiver (OTEL_EXPORTER_OTLP_ENDPOINT), e.g.\n"
		"                            http://127.0.0.1:4318 or, with grpc, :4317\n"
		"      --otlp-protocol P     http/protobuf (default), http/json or grpc\n"
		"      --otlp-compression C  gzip or none (default)\n"
		"      --otlp-header K=V     an extra request header (repeatable)\n"
		"      --otlp-stdout         also write OTLP/JSON requests to stdout, one a line\n"
		"      --otlp-file PATH      also append OTLP/JSON requests to PATH\n"
		"      --otlp-metrics-interval SEC  push OTLP metrics every SEC (15)\n"
		"      --service-name NAME   service.name (OTEL_SERVICE_NAME; torvyn-host)\n"
		"  -v, --verbose             debug messages, libbpf's included\n"
		"  -q, --quiet               warnings only\n"
		"\n"
		"Examples:\n"
		"  torvyn-trace attach --pid $(pgrep -n torvyn-host)\n"
		"  torvyn-trace attach --pid 1234 --level diagnostic --listen 0.0.0.0:9464\n"
		"  torvyn-trace attach --pid 1234 --textfile-dir /var/lib/node_exporter/textfile\n"
		"  torvyn-trace attach --pid 1234 --otlp-endpoint http://127.0.0.1:4318\n");
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
		{ "sample-rate", required_argument, NULL, 'S' },
		{ "latency-threshold", required_argument, NULL, 'D' },
		{ "otlp-endpoint", required_argument, NULL, 'E' },
		{ "otlp-protocol", required_argument, NULL, 'P' },
		{ "otlp-compression", required_argument, NULL, 'C' },
		{ "otlp-header", required_argument, NULL, 'H' },
		{ "otlp-stdout", no_argument, NULL, 'O' },
		{ "otlp-file", required_argument, NULL, 'F' },
		{ "otlp-metrics-interval", required_argument, NULL, 'M' },
		{ "service-name", required_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "p:l:vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (torvyn_parse_pid(optarg, &o->pid)) {
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
			if (torvyn_parse_seconds(optarg, 0.1, 86400, &o->interval_s)) {
				pr_warn("--interval %s: expected seconds in [0.1, 86400]\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'x':
			o->exit_with_target = true;
			break;
		case 'S':
			if (torvyn_parse_rate(optarg, &o->sample_rate)) {
				pr_warn("--sample-rate %s: expected a number in [0, 1]\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'D':
			if (torvyn_parse_duration_ns(optarg, &o->latency_threshold_ns)) {
				pr_warn("--latency-threshold %s: expected a duration such as 10ms, "
					"500us, 1s\n",
					optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'E':
			o->otlp_endpoint = optarg;
			break;
		case 'P':
			o->otlp_protocol = optarg;
			break;
		case 'C':
			o->otlp_compression = optarg;
			break;
		case 'H':
			if (o->n_otlp_headers >= EXPORTER_MAX_HEADERS || !strchr(optarg, '=')) {
				pr_warn("--otlp-header %s: expected KEY=VALUE (at most %d)\n", optarg,
					EXPORTER_MAX_HEADERS);
				return TVN_EXIT_USAGE;
			}
			o->otlp_headers[o->n_otlp_headers++] = optarg;
			break;
		case 'O':
			o->otlp_stdout = true;
			break;
		case 'F':
			o->otlp_file = optarg;
			break;
		case 'M':
			if (torvyn_parse_seconds(optarg, 0.1, 86400, &o->otlp_metrics_interval_s)) {
				pr_warn("--otlp-metrics-interval %s: expected seconds >= 0.1\n", optarg);
				return TVN_EXIT_USAGE;
			}
			break;
		case 'N':
			o->service_name = optarg;
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
	{
		struct sockaddr_storage ss;
		unsigned int sslen;

		/* a malformed address is a usage error, before the target is touched */
		if (http__parse_addr(o->listen, &ss, &sslen)) {
			pr_warn("--listen %s: expected HOST:PORT, e.g. 127.0.0.1:9464 or "
				"[::1]:9464\n",
				o->listen);
			return TVN_EXIT_USAGE;
		}
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

/* Copies the string value of an OTEL_RESOURCE_ATTRIBUTES entry; false when absent. */
static bool resource_attr(const struct otlp_resource *res, const char *key, char *buf, size_t len)
{
	for (int i = 0; i < res->n_extra; i++) {
		if (!strcmp(res->extra[i].key, key) && res->extra[i].type == OTLP_STR) {
			snprintf(buf, len, "%s", res->extra[i].str);
			return true;
		}
	}
	return false;
}

/* Header storage for "K=V" flags turned into "K: V". */
static char header_buf[EXPORTER_MAX_HEADERS][512];

/*
 * The OTLP exporter, from the OTEL_* variables and then the flags (flags
 * win). *out stays NULL when no destination is configured.
 */
static int open_exporter(const struct attach_opts *o, struct session *s, struct exporter **out,
			 void **env_store)
{
	struct exporter_opts eo = {
		.protocol = EXPORTER_HTTP_PROTOBUF,
		.batch_max_spans = 512,
		.batch_timeout_ms = 5000,
		.queue_max_batches = 16, /* 8192 spans, ~22 MB while a receiver is down */
		.request_timeout_ms = 10000,
		.max_retry_ms = 30000,
	};
	struct otlp_resource res = { 0 };
	char err[512] = "", *base;
	const char *exe = session__exe(s);

	*out = NULL;
	snprintf(res.service_name, sizeof(res.service_name), "torvyn-host");
	*env_store = exporter__opts_from_env(&eo, &res, err, sizeof(err));
	if (!*env_store && err[0]) {
		pr_warn("%s\n", err);
		return TVN_EXIT_EXPORT;
	}
	if (o->otlp_endpoint)
		eo.endpoint = o->otlp_endpoint;
	if (o->otlp_protocol) {
		if (!strcmp(o->otlp_protocol, "http/protobuf"))
			eo.protocol = EXPORTER_HTTP_PROTOBUF;
		else if (!strcmp(o->otlp_protocol, "http/json"))
			eo.protocol = EXPORTER_HTTP_JSON;
		else if (!strcmp(o->otlp_protocol, "grpc"))
			eo.protocol = EXPORTER_GRPC;
		else {
			pr_warn("--otlp-protocol %s: expected http/protobuf, http/json or grpc\n",
				o->otlp_protocol);
			return TVN_EXIT_USAGE;
		}
	}
	if (o->otlp_compression) {
		if (strcmp(o->otlp_compression, "gzip") && strcmp(o->otlp_compression, "none")) {
			pr_warn("--otlp-compression %s: expected gzip or none\n",
				o->otlp_compression);
			return TVN_EXIT_USAGE;
		}
		eo.gzip = !strcmp(o->otlp_compression, "gzip");
	}
	for (int i = 0; i < o->n_otlp_headers && eo.n_headers < EXPORTER_MAX_HEADERS; i++) {
		const char *eq = strchr(o->otlp_headers[i], '=');

		snprintf(header_buf[i], sizeof(header_buf[i]), "%.*s: %s",
			 (int)(eq - o->otlp_headers[i]), o->otlp_headers[i], eq + 1);
		eo.headers[eo.n_headers++] = header_buf[i];
	}
	eo.to_stdout = o->otlp_stdout;
	if (o->otlp_file)
		eo.file_path = o->otlp_file;
	if (!eo.endpoint && !eo.to_stdout && !eo.file_path)
		return 0;
	if (o->service_name)
		snprintf(res.service_name, sizeof(res.service_name), "%s", o->service_name);
	/* what OTEL_RESOURCE_ATTRIBUTES says wins over what we would fill in */
	if (!resource_attr(&res, "host.name", res.host_name, sizeof(res.host_name)))
		gethostname(res.host_name, sizeof(res.host_name) - 1);
	if (!resource_attr(&res, "service.instance.id", res.service_instance_id,
			   sizeof(res.service_instance_id)))
		snprintf(res.service_instance_id, sizeof(res.service_instance_id), "%.40s-%d",
			 res.host_name, o->pid);
	res.pid = o->pid;
	base = strrchr(exe, '/');
	if (!resource_attr(&res, "process.executable.name", res.executable_name,
			   sizeof(res.executable_name)))
		snprintf(res.executable_name, sizeof(res.executable_name), "%s",
			 base ? base + 1 : exe);
	*out = exporter__new(&eo, &res, err, sizeof(err));
	if (!*out) {
		pr_warn("OTLP exporter: %s\n", err);
		return TVN_EXIT_EXPORT;
	}
	return 0;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void push_metrics(struct session *s, struct exporter *exp, uint64_t start_unix)
{
	struct snapshot snap;

	if (!session__snapshot(s, &snap))
		exporter__push_metrics(exp, &snap, start_unix, unix_ns());
	snapshot__free(&snap);
}

static int run(struct session *s, const struct attach_opts *o, int ctl, int pidfd,
	       struct exporter *exp)
{
	uint64_t next_textfile = mono_ns(), start_unix = unix_ns();
	uint64_t next_metrics = mono_ns() + (uint64_t)(o->otlp_metrics_interval_s * 1e9);
	struct exporter_stats st;
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
		tracing__retry(exp, false);
		if (up && (pfd[1].revents & POLLIN)) {
			session__target_exited(s);
			tracing__retry(exp, true);
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
		if (exp) {
			if (mono_ns() >= next_metrics) {
				push_metrics(s, exp, start_unix);
				next_metrics = mono_ns() + (uint64_t)(o->otlp_metrics_interval_s * 1e9);
			}
			exporter__stats(exp, &st);
			session__set_export_stats(s, &st);
		}
	}
	session__poll(s);
	tracing__retry(exp, true);
	if (o->textfile_dir)
		write_textfile(s, o);
	if (exp) {
		/* what was collected goes out before we leave */
		push_metrics(s, exp, start_unix);
		exporter__flush(exp);
	}
	return TVN_EXIT_OK;
}

int cmd_attach(int argc, char **argv)
{
	struct attach_opts o = {
		.level = TORVYN_LEVEL_PRODUCTION,
		.listen = "127.0.0.1:9464",
		.interval_s = 15,
		.sample_rate = 0.01,
		.latency_threshold_ns = 10 * 1000000ull,
		.otlp_metrics_interval_s = 15,
	};
	struct exporter *exp = NULL;
	void *env_store = NULL;
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

	struct session_opts so = {
		.pid = o.pid,
		.sample_threshold = tvn_sample_threshold(o.sample_rate),
		.latency_threshold_ns = o.latency_threshold_ns,
	};

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
	rc = open_exporter(&o, s, &exp, &env_store);
	if (rc)
		goto out;
	tracing__set_session(s);
	session__on_trace(s, tracing__on_trace, exp);
	rc = session__set_level(s, o.level, &ns, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err);
		goto out;
	}
	pr_info("attached to pid %d (%s) at level %s in %.1f ms; serving http://%s/metrics\n",
		o.pid, session__exe(s), level__name(o.level), ns / 1e6, o.listen);
	rc = run(s, &o, ctl, pidfd, exp);
out:
	/* stop producing spans, then drain the exporter (5 s at most) */
	if (s)
		session__on_trace(s, NULL, NULL);
	exporter__free(exp, 5000);
	free(env_store);
	http_server__stop(http);
	if (ctl >= 0)
		close(ctl);
	if (pidfd >= 0)
		close(pidfd);
	session__free(s);
	return rc;
}
