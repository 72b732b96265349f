/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a traced process says of itself, for the labels that tell hosts apart. */
#ifndef TORVYN_PROC_H
#define TORVYN_PROC_H

#include <stddef.h>

/* The basename of an executable path, " (deleted)" cut off, into buf. */
void tvn_proc__exe_base(const char *exe, char *buf, size_t len);

/* service.name: the process's OTEL_SERVICE_NAME, else fallback, into buf. */
void tvn_proc__service(int pid, const char *fallback, char *buf, size_t len);

#endif /* TORVYN_PROC_H */
