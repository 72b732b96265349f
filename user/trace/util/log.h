/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Logging for torvyn-trace modules: pr_warn always, pr_info unless -q, pr_debug with -v. */
#ifndef TORVYN_LOG_H
#define TORVYN_LOG_H

#include <stdarg.h>

enum tvn_log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum tvn_log_level tvn_log_verbosity;

void tvn_log__printf(enum tvn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define pr_warn(...) tvn_log__printf(LOG_WARN, __VA_ARGS__)
#define pr_info(...) tvn_log__printf(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) tvn_log__printf(LOG_DEBUG, __VA_ARGS__)

#endif /* TORVYN_LOG_H */
