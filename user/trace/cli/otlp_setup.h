/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The OTLP exporter of a verb, from the OTEL_* variables and then its flags. */
#ifndef TORVYN_OTLP_SETUP_H
#define TORVYN_OTLP_SETUP_H

#include "exporter.h"
#include "opts.h"

struct tvn_otlp_setup {
	struct tvn_exporter *exp;		 /* NULL when no destination is configured */
	void *env_store;			 /* what the OTEL_* strings point into */
	char headers[TVN_OTLP_MAX_HEADERS][512]; /* "K=V" flags as "K: V" */
};

/*
 * Opens the exporter for target pid (its executable exe) into st; flags win
 * over the OTEL_* variables. Returns 0 (st->exp NULL when nothing is
 * configured) or an exit code after a message.
 */
int tvn_otlp_setup__open(struct tvn_otlp_setup *st, const struct tvn_otlp_flags *f, int pid,
			 const char *exe);

/* Drains the exporter (deadline_ms at most) and frees what open made. */
void tvn_otlp_setup__close(struct tvn_otlp_setup *st, uint32_t deadline_ms);

#endif /* TORVYN_OTLP_SETUP_H */
