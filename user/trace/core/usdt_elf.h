/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The torvyn USDT probe sites of an ELF file, computed the way libbpf's
 * usdt.c computes them, so that the tracer can attach all sites of a level
 * through one bpf_program__attach_uprobe_multi() link (offsets[] = file_off,
 * ref_ctr_offsets[] = sem_off, cookies[] = a spec id) and fill libbpf's
 * __bpf_usdt_specs map itself with each site's spec, for bpf_usdt_arg().
 * x86-64 only: elsewhere the functions that parse arguments fail with
 * -EOPNOTSUPP. Beyond libbpf's forms, a location that names a symbol (a
 * global passed as an argument: "8@120+fb(%rip)", "-4@ver(%rip)", or
 * "8@$sym" in a non-PIE executable) is resolved through the file's symbol
 * table into the register forms libbpf's BPF side reads.
 */
#ifndef TORVYN_USDT_ELF_H
#define TORVYN_USDT_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Userspace twins of libbpf 1.4's struct __bpf_usdt_arg_spec and struct
 * __bpf_usdt_spec (<bpf/usdt.bpf.h>, which cannot be included outside BPF):
 * same field types, same order, same size. A usdt_spec is the value written
 * into the __bpf_usdt_specs map, byte for byte. The _Static_asserts below
 * catch a drift of our copy; a libbpf that changes its layout needs a new
 * copy here.
 */
enum usdt_arg_type {
	USDT_ARG_CONST,	    /* val_off is the value */
	USDT_ARG_REG,	    /* the register at reg_off in struct pt_regs */
	USDT_ARG_REG_DEREF, /* memory at register + (signed) val_off */
};

struct tvn_usdt_arg_spec {
	uint64_t val_off;
	enum usdt_arg_type arg_type;
	short reg_off; /* offsetof(struct pt_regs, <reg>) */
	bool arg_signed;
	char arg_bitshift; /* 64 - size * 8 */
};

#define USDT_MAX_ARG_CNT 12 /* BPF_USDT_MAX_ARG_CNT */

struct tvn_usdt_spec {
	struct tvn_usdt_arg_spec args[USDT_MAX_ARG_CNT];
	uint64_t usdt_cookie; /* left 0: the tracer identifies probes by spec id */
	short arg_cnt;
};

_Static_assert(sizeof(struct tvn_usdt_arg_spec) == 16, "struct __bpf_usdt_arg_spec is 16 bytes");
_Static_assert(offsetof(struct tvn_usdt_arg_spec, reg_off) == 12, "__bpf_usdt_arg_spec.reg_off");
_Static_assert(offsetof(struct tvn_usdt_spec, usdt_cookie) == 192, "__bpf_usdt_spec.usdt_cookie");
_Static_assert(sizeof(struct tvn_usdt_spec) == 208, "struct __bpf_usdt_spec is 208 bytes");

#define USDT_NAME_LEN 64
#define USDT_ARGS_LEN 256

/* One probe site: one .note.stapsdt note of provider "torvyn". */
struct tvn_usdt_site {
	char name[USDT_NAME_LEN]; /* probe name, e.g. "component__invoke" */
	int probe_id;	    /* enum torvyn_probe_id, -1 for a name torvyn.d does not declare */
	uint64_t pc;	    /* link-time address of the nop, after the .stapsdt.base adjustment */
	uint64_t file_off;  /* file offset of the nop: the uprobe offset */
	uint64_t sem_vaddr; /* link-time address of the semaphore, 0 if none */
	uint64_t sem_off;   /* file offset of the semaphore: the ref_ctr_offset, 0 if none */
	char args[USDT_ARGS_LEN]; /* the note's argument string, "" if none */
	struct tvn_usdt_spec spec;
	/*
	 * Arguments that name a global (%rip-relative): bit i set when the
	 * file holds the global's initial value, in init_val[i] (sign- or
	 * zero-extended as the spec says). Lets the tracer read abi__version
	 * when the host passes a global rather than the literal.
	 */
	uint16_t init_mask;
	uint64_t init_val[USDT_MAX_ARG_CNT];
};

/* The torvyn sites of one file, in note order. */
struct tvn_usdt_sites {
	struct tvn_usdt_site *v;
	int n;
	bool is_dyn; /* ET_DYN (PIE or shared object): it moves with its load base */
	/*
	 * Bit p set when the file defines the semaphore torvyn_<probe p>_semaphore
	 * in its symbol table: the code may test TORVYN_<PROBE>_ENABLED() even
	 * where no site of probe p exists. 0 when the file has no symbol table.
	 */
	uint64_t sem_defined;
	/*
	 * After tvn_usdt_elf__read() failed with -EINVAL: which probe, which
	 * argument, why it was refused and what to do, in one sentence.
	 */
	char why[384];
};

/*
 * What parsing an argument learnt besides the spec: the symbol the location
 * names, resolved by tvn_usdt_elf__read() against the file, or why the
 * argument was refused.
 */
struct tvn_usdt_arg_ref {
	char sym[64];	 /* "fb" of "8@120+fb(%rip)"; "" when no symbol is named */
	int64_t addend;	 /* 120 there: added to the symbol's address */
	bool rip;	 /* the location is %rip-relative (sym must resolve to data) */
	const char *why; /* on failure: the reason, in words */
};

/*
 * Reads the torvyn probe sites of the ELF file at path. Returns 0 and fills
 * out (caller frees with tvn_usdt_sites__free(); out->n == 0 when the file has
 * no torvyn probes), or -errno: -ENOENT/-EACCES/... opening path, -ENOEXEC
 * if it is not an ELF executable or shared object, -EOPNOTSUPP for a machine
 * or class other than x86-64 (or when built for another architecture),
 * -EINVAL for a malformed note or an argument string that cannot be parsed
 * (logged, naming the probe and the string).
 */
int tvn_usdt_elf__read(const char *path, struct tvn_usdt_sites *out);

/* Frees what tvn_usdt_elf__read() allocated and zeroes *s; NULL does nothing. */
void tvn_usdt_sites__free(struct tvn_usdt_sites *s);

/*
 * The probe ABI version the file declares: the constant argument of its
 * abi__version probe, or the initial value of the global it passes.
 * -ENOENT if there is no abi__version site whose argument is known before
 * the process runs, -EINVAL if two sites disagree.
 */
int tvn_usdt_sites__abi_version(const struct tvn_usdt_sites *s);

/*
 * Parses one argument of an x86-64 sdt.h argument string starting at s:
 * "N@$const", "N@%reg", "N@off(%reg)" or "N@(%reg)", N one of 1, 2, 4, 8,
 * negative for signed, filled exactly as libbpf's parse_usdt_arg() and
 * parse_usdt_spec() do; and the forms that name a symbol,
 * "N@sym(%rip)", "N@sym+off(%rip)", "N@off+sym(%rip)", "N@sym-off(%rip)",
 * "N@sym+off(%reg)" and "N@$sym+off", whose symbol and addend go to *ref
 * (out->val_off holds the addend until the reader resolves the symbol).
 * Sets *consumed to the characters used, including the whitespace that
 * follows. Returns 0, -EINVAL with ref->why set (not logged: the caller
 * knows the probe) or -EOPNOTSUPP on other architectures.
 */
int tvn_usdt_elf__parse_arg(const char *s, struct tvn_usdt_arg_spec *out,
			    struct tvn_usdt_arg_ref *ref, int *consumed);

/* The torvyn.d name of a probe id ("abi__version"), NULL if out of range. */
const char *tvn_usdt_elf__probe_name(int probe_id);

/*
 * The executable of pid as the kernel names it: readlink of /proc/PID/exe
 * (" (deleted)" appended when it was replaced). Returns 0, -ESRCH when there
 * is no such process, -ENOENT when it has no executable (a kernel thread, a
 * zombie), -EACCES when we may not look, -ENAMETOOLONG.
 */
int tvn_usdt_elf__exe_link(int pid, char *buf, size_t len);

/*
 * A path through which the executable of pid can be opened, from any mount
 * namespace: /proc/PID/root/<exe> if that opens, else /proc/PID/exe. Pass it
 * to tvn_usdt_elf__read() and to bpf_program__attach_uprobe_multi(). Returns 0
 * or the errors of tvn_usdt_elf__exe_link().
 */
int tvn_usdt_elf__target_path(int pid, char *buf, size_t len);

/*
 * Calls fn with each file that pid maps executable other than its
 * executable (its shared objects, as /proc/PID/maps names them: a path in
 * the process's mount namespace), each once, in address order. Stops when fn
 * returns nonzero and returns that value; else 0, or -ESRCH, -EACCES.
 * Deleted files (" (deleted)") are skipped: their probes cannot be attached
 * by path.
 */
int tvn_usdt_elf__each_object(int pid, int (*fn)(void *ctx, const char *name), void *ctx);

/*
 * A path through which the file that pid maps as name opens from here:
 * /proc/PID/root/<name>. Returns 0, -ENAMETOOLONG or the error of opening it.
 */
int tvn_usdt_elf__object_path(int pid, const char *name, char *buf, size_t len);

/*
 * Reads the current value of site's semaphore in the running process pid:
 * at the address where the process maps sem_off of its executable (the
 * writable mapping, where the kernel counts uprobe references; this covers
 * PIE and non-PIE alike). Returns 0, -ENOENT if the site has no semaphore
 * or the executable is not mapped, -ESRCH if the process is gone, -EACCES
 * or -EPERM when /proc/PID/mem may not be read.
 */
int tvn_usdt_elf__read_semaphore(int pid, const struct tvn_usdt_site *site, uint16_t *val);

/*
 * The same for a site of the file that pid maps as name (a shared object,
 * as tvn_usdt_elf__each_object() names it): -ENOENT when name does not map
 * the semaphore's offset.
 */
int tvn_usdt_elf__read_object_semaphore(int pid, const char *name, const struct tvn_usdt_site *site,
					uint16_t *val);

#endif /* TORVYN_USDT_ELF_H */
