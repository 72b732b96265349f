// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The argument locations of sdt.h notes, parsed the way libbpf 1.4's usdt.c
 * (parse_usdt_arg) does, plus the locations that name a symbol, which
 * libbpf refuses but GCC and clang emit for a global passed as an argument.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <linux/ptrace.h>
#endif

#include "usdt_elf.h"

#if defined(__x86_64__)

/* libbpf's calc_pt_regs_off() table for x86-64. */
static const struct {
	const char *names[4];
	short off;
} reg_map[] = {
    {{"rip", "eip", "", ""}, offsetof(struct pt_regs, rip)},
    {{"rax", "eax", "ax", "al"}, offsetof(struct pt_regs, rax)},
    {{"rbx", "ebx", "bx", "bl"}, offsetof(struct pt_regs, rbx)},
    {{"rcx", "ecx", "cx", "cl"}, offsetof(struct pt_regs, rcx)},
    {{"rdx", "edx", "dx", "dl"}, offsetof(struct pt_regs, rdx)},
    {{"rsi", "esi", "si", "sil"}, offsetof(struct pt_regs, rsi)},
    {{"rdi", "edi", "di", "dil"}, offsetof(struct pt_regs, rdi)},
    {{"rbp", "ebp", "bp", "bpl"}, offsetof(struct pt_regs, rbp)},
    {{"rsp", "esp", "sp", "spl"}, offsetof(struct pt_regs, rsp)},
    {{"r8", "r8d", "r8w", "r8b"}, offsetof(struct pt_regs, r8)},
    {{"r9", "r9d", "r9w", "r9b"}, offsetof(struct pt_regs, r9)},
    {{"r10", "r10d", "r10w", "r10b"}, offsetof(struct pt_regs, r10)},
    {{"r11", "r11d", "r11w", "r11b"}, offsetof(struct pt_regs, r11)},
    {{"r12", "r12d", "r12w", "r12b"}, offsetof(struct pt_regs, r12)},
    {{"r13", "r13d", "r13w", "r13b"}, offsetof(struct pt_regs, r13)},
    {{"r14", "r14d", "r14w", "r14b"}, offsetof(struct pt_regs, r14)},
    {{"r15", "r15d", "r15w", "r15b"}, offsetof(struct pt_regs, r15)},
};

static int reg_off(const char *name)
{
	size_t i, j;

	if (!name[0])
		return -EINVAL;
	for (i = 0; i < sizeof(reg_map) / sizeof(reg_map[0]); i++)
		for (j = 0; j < 4; j++)
			if (strcmp(name, reg_map[i].names[j]) == 0)
				return reg_map[i].off;
	return -EINVAL;
}

/*
 * libbpf's sscanf() patterns, in its order. len starts at -1 because a
 * pattern can return its full count and still stop before %n (a missing
 * ")"), which libbpf does not notice.
 */
static int parse_location(const char *s, struct tvn_usdt_arg_spec *a, int *sz, int *len)
{
	char reg[16] = {0};
	long off = 0;
	int r;

	*len = -1;
	if (sscanf(s, " %d @ %ld ( %%%15[^)] ) %n", sz, &off, reg, len) == 3 && *len > 0) {
		a->arg_type = USDT_ARG_REG_DEREF; /* -4@-20(%rbp) */
		a->val_off = off;
		goto reg;
	}
	*len = -1;
	if (sscanf(s, " %d @ ( %%%15[^)] ) %n", sz, reg, len) == 2 && *len > 0) {
		a->arg_type = USDT_ARG_REG_DEREF; /* 8@(%rsp) */
		a->val_off = 0;
		goto reg;
	}
	*len = -1;
	if (sscanf(s, " %d @ %%%15s %n", sz, reg, len) == 2 && *len > 0) {
		a->arg_type = USDT_ARG_REG; /* -4@%eax */
		a->val_off = 0;
		goto reg;
	}
	*len = -1;
	if (sscanf(s, " %d @ $%ld %n", sz, &off, len) == 2 && *len > 0) {
		a->arg_type = USDT_ARG_CONST; /* 4@$71 */
		a->val_off = off;
		a->reg_off = 0;
		return 0;
	}
	return -EINVAL;
reg:
	r = reg_off(reg);
	if (r < 0)
		return r;
	a->reg_off = r;
	return 0;
}

static bool sym_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
	       c == '$' || (!first && c >= '0' && c <= '9');
}

/*
 * An assembler expression of one symbol and numbers joined by + and -
 * ("fb", "120+fb", "fb+120", "fb-8"), as GCC and clang print a global's
 * address. The symbol must be added, not subtracted.
 */
static int parse_sym_expr(const char *e, struct tvn_usdt_arg_ref *ref)
{
	int sign = 1, n;
	char *end;

	ref->sym[0] = '\0';
	ref->addend = 0;
	while (*e) {
		if (*e == '+' || *e == '-') {
			sign = *e++ == '-' ? -1 : 1;
			if (!*e || *e == '+' || *e == '-')
				return -EINVAL; /* a sign without its term */
			continue;
		}
		if (sym_char(*e, true)) {
			for (n = 0; sym_char(e[n], false); n++)
				;
			if (ref->sym[0] || sign < 0 || n >= (int)sizeof(ref->sym))
				return -EINVAL;
			memcpy(ref->sym, e, n);
			ref->sym[n] = '\0';
			e += n;
		} else {
			long long v = strtoll(e, &end, 0);

			if (end == e)
				return -EINVAL;
			ref->addend += sign * v;
			e = end;
		}
		sign = 1;
	}
	return ref->sym[0] ? 0 : -EINVAL;
}

/* The forms that name a symbol: N@expr(%reg) and N@$expr. */
static int parse_sym_location(const char *s, struct tvn_usdt_arg_spec *a,
			      struct tvn_usdt_arg_ref *ref, int *sz, int *len)
{
	char expr[96] = {0}, reg[16] = {0};
	int r;

	*len = -1;
	if (sscanf(s, " %d @ %95[^( ] ( %%%15[^)] ) %n", sz, expr, reg, len) == 3 && *len > 0) {
		if (parse_sym_expr(expr, ref))
			return -EINVAL;
		r = reg_off(reg);
		if (r < 0)
			return r;
		a->arg_type = USDT_ARG_REG_DEREF;
		a->reg_off = r;
		ref->rip = strcmp(reg, "rip") == 0;
		return 0;
	}
	*len = -1;
	if (sscanf(s, " %d @ $%95[^ ] %n", sz, expr, len) == 2 && *len > 0) {
		if (parse_sym_expr(expr, ref))
			return -EINVAL;
		a->arg_type = USDT_ARG_CONST; /* an absolute address: non-PIE only */
		return 0;
	}
	return -EINVAL;
}

/* libbpf >= 1.5 reads base+index*scale; the BPF side of libbpf 1.4 cannot. */
static bool is_sib(const char *s)
{
	char reg[16], idx[16];
	long off;
	int sz;

	return sscanf(s, " %d @ %ld ( %%%15[^,] , %%%15[^,)]", &sz, &off, reg, idx) == 4 ||
	       sscanf(s, " %d @ ( %%%15[^,] , %%%15[^,)]", &sz, reg, idx) == 3;
}

int tvn_usdt_elf__parse_arg(const char *s, struct tvn_usdt_arg_spec *out,
			    struct tvn_usdt_arg_ref *ref, int *consumed)
{
	struct tvn_usdt_arg_spec a;
	int sz, len, err;

	memset(&a, 0, sizeof(a));
	memset(ref, 0, sizeof(*ref));
	if (is_sib(s)) {
		ref->why = "a scaled-index location (base, index, scale), which the BPF side of "
			   "this libbpf cannot read";
		return -EINVAL;
	}
	err = parse_location(s, &a, &sz, &len);
	if (err) {
		memset(&a, 0, sizeof(a));
		err = parse_sym_location(s, &a, ref, &sz, &len);
		a.val_off = (uint64_t)ref->addend;
	}
	if (err) {
		ref->why = "a location neither libbpf nor torvyn-trace understands (expected "
			   "N@%reg, N@off(%reg), N@$const or N@sym+off(%rip))";
		return -EINVAL;
	}
	a.arg_signed = sz < 0;
	if (sz < 0)
		sz = -sz;
	if (sz != 1 && sz != 2 && sz != 4 && sz != 8) {
		ref->why = "a size other than 1, 2, 4 or 8 bytes";
		return -EINVAL;
	}
	a.arg_bitshift = 64 - sz * 8;
	*out = a;
	*consumed = len;
	return 0;
}

#else /* !__x86_64__ */

int tvn_usdt_elf__parse_arg(const char *s, struct tvn_usdt_arg_spec *out,
			    struct tvn_usdt_arg_ref *ref, int *consumed)
{
	(void)s;
	(void)out;
	(void)consumed;
	memset(ref, 0, sizeof(*ref));
	ref->why = "torvyn-trace reads x86-64 probe arguments only";
	return -EOPNOTSUPP;
}

#endif
