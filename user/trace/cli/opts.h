/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Table-driven command-line options: a verb describes its options as rows
 * (name, kind, where the value goes, help), and one parser converts and
 * checks every value the same way, with the same messages, for every verb.
 * The options the verbs share (--pid, --listen, the OTLP flags, -v, -q,
 * -h) are rows defined once below.
 */
#ifndef TORVYN_OPTS_H
#define TORVYN_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TVN_OTLP_MAX_HEADERS 16

enum tvn_opt_kind {
	TVN_OPT_FLAG,	  /* bool = true */
	TVN_OPT_STR,	  /* const char * = the argument */
	TVN_OPT_PID,	  /* int > 0 */
	TVN_OPT_SECONDS,  /* double within [min, max] */
	TVN_OPT_COUNT,	  /* int within [min, max] */
	TVN_OPT_RATE,	  /* double within [0, 1] */
	TVN_OPT_DURATION, /* uint64_t ns: "10ms", "500us", "1s" */
	TVN_OPT_LEVEL,	  /* int: production or diagnostic */
	TVN_OPT_LISTEN,	  /* const char *: HOST:PORT, checked */
	TVN_OPT_HEADER,	  /* struct tvn_otlp_flags: KEY=VALUE, repeatable */
	TVN_OPT_VERBOSE,  /* -v: debug messages */
	TVN_OPT_QUIET,	  /* -q: warnings only */
	TVN_OPT_HELP,	  /* -h: the verb's usage to stdout */
	TVN_OPT_CALL,	  /* parse(arg, field): 0, or -EINVAL after saying what it expects */
};

struct tvn_opt {
	const char *name; /* long name, without "--" */
	char short_name;  /* 0: none */
	enum tvn_opt_kind kind;
	size_t off;	 /* offset of the value in the verb's options struct */
	const char *arg; /* the argument's name in the help ("PID"); NULL: none */
	const char *help;
	double min, max;			    /* TVN_OPT_SECONDS, TVN_OPT_COUNT */
	int (*parse)(const char *arg, void *field); /* TVN_OPT_CALL */
};

/* The OTLP flags, applied over the OTEL_* variables (attach). */
struct tvn_otlp_flags {
	const char *endpoint;
	const char *protocol;
	const char *compression;
	const char *headers[TVN_OTLP_MAX_HEADERS]; /* "KEY=VALUE" */
	int n_headers;
	bool to_stdout;
	const char *file;
	double metrics_interval_s;
	const char *service_name;
};

#define TVN_OPT_ROW_PID(type, field)                                                               \
	{                                                                                          \
		.name = "pid", .short_name = 'p', .kind = TVN_OPT_PID,                             \
		.off = offsetof(type, field), .arg = "PID", .help = "the host to attach to"        \
	}
/* --control-group GROUP: its members may command the tracer too; an int gid, -1 none. */
int tvn_opts__parse_group(const char *arg, void *field);
#define TVN_OPT_ROW_CONTROL_GROUP(type, field)                                                   \
	{.name = "control-group",                                                                \
	 .kind = TVN_OPT_CALL,                                                                   \
	 .off = offsetof(type, field),                                                           \
	 .arg = "GROUP",                                                                         \
	 .help = "members of GROUP may switch levels and scrape through the control "           \
		 "socket, besides root and this user",                                           \
	 .parse = tvn_opts__parse_group}
#define TVN_OPT_ROW_VERBOSE                                                                        \
	{                                                                                          \
		.name = "verbose", .short_name = 'v', .kind = TVN_OPT_VERBOSE, .off = 0,           \
		.arg = NULL, .help = "debug messages, libbpf's included"                           \
	}
#define TVN_OPT_ROW_QUIET                                                                          \
	{                                                                                          \
		.name = "quiet", .short_name = 'q', .kind = TVN_OPT_QUIET, .off = 0, .arg = NULL,  \
		.help = "warnings only"                                                            \
	}
#define TVN_OPT_ROW_HELP                                                                           \
	{                                                                                          \
		.name = "help", .short_name = 'h', .kind = TVN_OPT_HELP, .off = 0, .arg = NULL,    \
		.help = "this text"                                                                \
	}
#define TVN_OPT_ROW_END                                                                            \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* The OTLP rows, for a struct tvn_otlp_flags at field of type. */
#define TVN_OPT_ROWS_OTLP(type, field)                                                             \
	{.name = "otlp-endpoint",                                                                  \
	 .short_name = 0,                                                                          \
	 .kind = TVN_OPT_STR,                                                                      \
	 .off = offsetof(type, field.endpoint),                                                    \
	 .arg = "URL",                                                                             \
	 .help = "OTLP receiver (OTEL_EXPORTER_OTLP_ENDPOINT), a URL: http://127.0.0.1:4318, or "  \
		 "http://127.0.0.1:4317 with --otlp-protocol grpc"},                               \
	    {.name = "otlp-protocol",                                                              \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_STR,                                                                  \
	     .off = offsetof(type, field.protocol),                                                \
	     .arg = "P",                                                                           \
	     .help = "http/protobuf (default), http/json or grpc"},                                \
	    {.name = "otlp-compression",                                                           \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_STR,                                                                  \
	     .off = offsetof(type, field.compression),                                             \
	     .arg = "C",                                                                           \
	     .help = "gzip or none (default)"},                                                    \
	    {.name = "otlp-header",                                                                \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_HEADER,                                                               \
	     .off = offsetof(type, field),                                                         \
	     .arg = "K=V",                                                                         \
	     .help = "an extra request header (repeatable)"},                                      \
	    {.name = "otlp-stdout",                                                                \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_FLAG,                                                                 \
	     .off = offsetof(type, field.to_stdout),                                               \
	     .arg = NULL,                                                                          \
	     .help = "also write OTLP/JSON requests to stdout, one a line"},                       \
	    {.name = "otlp-file",                                                                  \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_STR,                                                                  \
	     .off = offsetof(type, field.file),                                                    \
	     .arg = "PATH",                                                                        \
	     .help = "also append OTLP/JSON requests to PATH"},                                    \
	    {.name = "otlp-metrics-interval",                                                      \
	     .short_name = 0,                                                                      \
	     .kind = TVN_OPT_SECONDS,                                                              \
	     .off = offsetof(type, field.metrics_interval_s),                                      \
	     .arg = "SEC",                                                                         \
	     .help = "push OTLP metrics every SEC (15)",                                           \
	     .min = 0.1,                                                                           \
	     .max = 86400},                                                                        \
	{                                                                                          \
		.name = "service-name", .short_name = 0, .kind = TVN_OPT_STR,                      \
		.off = offsetof(type, field.service_name), .arg = "NAME",                          \
		.help = "service.name (OTEL_SERVICE_NAME; torvyn-host)"                            \
	}

/* The /metrics server's rows, for a struct tvn_http_opts at field of type (serve/http.h). */
#define TVN_OPT_ROWS_HTTP(type, field)                                                             \
	{.name = "max-connections",                                                                \
	 .short_name = 0,                                                                          \
	 .kind = TVN_OPT_COUNT,                                                                    \
	 .off = offsetof(type, field.max_connections),                                             \
	 .arg = "N",                                                                               \
	 .help = "/metrics connections served at once (256); more wait to be accepted",            \
	 .min = 1,                                                                                 \
	 .max = 65536},                                                                            \
	{                                                                                          \
		.name = "send-timeout", .short_name = 0, .kind = TVN_OPT_SECONDS,                  \
		.off = offsetof(type, field.send_timeout_s), .arg = "SEC",                         \
		.help = "cut a /metrics response not sent within SEC of its request (30)",         \
		.min = 0.1, .max = 3600                                                            \
	}

/* tvn_opts__parse() flags */
#define TVN_OPTS_IN_ORDER 1 /* options end at the first argument (a command to run) */

/*
 * Parses argv (argv[0] the verb) into dst by table. Returns 0; 1 when --help
 * printed the usage (exit 0); or TVN_EXIT_USAGE after a message naming the
 * option and what it expects. Positional arguments are left at
 * argv[*first_arg ...] (first_arg may be NULL: then none are allowed).
 */
int tvn_opts__parse(const struct tvn_opt *table, int argc, char **argv, void *dst,
		    void (*usage)(FILE *out), int *first_arg, unsigned int flags);

/* Prints the table's options, one a line (or two), for a usage text. */
void tvn_opts__print(FILE *out, const struct tvn_opt *table);

#endif /* TORVYN_OPTS_H */
