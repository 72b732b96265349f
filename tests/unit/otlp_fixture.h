/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the OTLP encoder and exporter tests share (otlp_fixture.c): where the
 * test binary and the repository are, sample files, and the independent
 * decoder (tests/unit/otlp_decode.py).
 */
#ifndef TORVYN_TEST_OTLP_FIXTURE_H
#define TORVYN_TEST_OTLP_FIXTURE_H

#include <limits.h>
#include <stddef.h>

struct otlp_dirs {
	char out[PATH_MAX];  /* the test binary's: build/tests */
	char repo[PATH_MAX]; /* the repository's root */
};

/* The directories of the test binary argv0; d keeps what it had when that fails. */
void otlp_dirs__find(struct otlp_dirs *d, const char *argv0);

/* Writes data to d->out/name, asserting it worked. */
void otlp_dirs__write(const struct otlp_dirs *d, const char *name, const void *data, size_t len);

/*
 * Runs otlp_decode.py on the samples in d->out with args (its options, shell
 * quoted) and fails the test unless it passes. Skips the test without protoc
 * or Python's protobuf runtime (Debian protobuf-compiler, python3-protobuf).
 */
void otlp_dirs__decode(const struct otlp_dirs *d, const char *args);

#endif /* TORVYN_TEST_OTLP_FIXTURE_H */
