/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the libFuzzer harnesses share: a check that stops the run with a
 * message (libFuzzer keeps the input as a crash), the input written to an
 * anonymous file for loaders that read a path, and a reader that takes
 * structured values from the input bytes.
 */
#ifndef TORVYN_FUZZ_H
#define TORVYN_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);                         \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * data in a new anonymous file, its name in path ("/proc/self/fd/N"): a
 * loader opens it as any file. Returns the descriptor (the caller closes it).
 */
static inline int fuzz_memfd(const void *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	FUZZ_CHECK(fd >= 0, "memfd_create");
	while (off < size) {
		ssize_t w = write(fd, (const char *)data + off, size - off);

		FUZZ_CHECK(w > 0, "write to memfd");
		off += (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* The input as a stream of values; past its end every value is zero. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline void fuzz_bytes(struct fuzz_in *in, void *out, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(out, in->p, k);
	memset((char *)out + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;

	fuzz_bytes(in, &v, 1);
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

/*
 * A string field of n bytes: a length byte, then that many bytes (at most
 * n, NUL-free or not); the rest of the field zero.
 */
static inline void fuzz_field(struct fuzz_in *in, char *out, size_t n)
{
	size_t k = fuzz_u8(in);

	memset(out, 0, n);
	fuzz_bytes(in, out, k < n ? k : n);
}

/* A NUL-terminated string of at most max bytes (a length byte first); caller frees. */
static inline char *fuzz_cstr(struct fuzz_in *in, size_t max)
{
	size_t k = fuzz_u8(in);
	char *s;

	k = k < max ? k : max;
	s = malloc(k + 1);
	FUZZ_CHECK(s, "malloc");
	fuzz_bytes(in, s, k);
	s[k] = '\0';
	return s;
}

/*
 * The oracle of every renderer that cleans strings from the traced process:
 * s read up to a NUL or max bytes, each byte that starts no valid UTF-8
 * sequence (RFC 3629: shortest form, no surrogates, at most U+10FFFF)
 * replaced by U+FFFD. Written independently of the renderers' own check.
 * out needs 3 * max + 1 bytes; returns its length.
 */
static inline size_t fuzz_utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static inline size_t fuzz_clean(const char *s, size_t max, char *out)
{
	const unsigned char *v = (const unsigned char *)s;
	size_t n = strnlen(s, max), o = 0;

	for (size_t i = 0; i < n;) {
		size_t k = fuzz_utf8_seq(v + i, n - i);

		if (!k) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, v + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return o;
}

#endif /* TORVYN_FUZZ_H */
