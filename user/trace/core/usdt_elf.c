// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reads the torvyn probe sites from .note.stapsdt. The address arithmetic
 * and the argument parser follow libbpf 1.4's usdt.c (collect_usdt_targets,
 * parse_usdt_note, parse_usdt_spec, parse_usdt_arg) step by step: the tracer
 * attaches with uprobe_multi and fills __bpf_usdt_specs itself, so any
 * difference from libbpf would make bpf_usdt_arg() read the wrong thing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <linux/ptrace.h>
#endif

#include "torvyn_abi.h"
#include "torvyn_bpf.h"

#include "log.h"
#include "usdt_elf.h"
#include "torvyn_names.h"

#define PROVIDER "torvyn"
#define NOTE_SEC ".note.stapsdt"
#define BASE_SEC ".stapsdt.base"
#define NOTE_NAME "stapsdt"
#define NOTE_TYPE 3

_Static_assert(sizeof(torvyn_probe_names) / sizeof(torvyn_probe_names[0]) == TVN_P_COUNT,
	       "a name for every enum torvyn_probe_id");

const char *tvn_usdt_elf__probe_name(int probe_id)
{
	if (probe_id < 0 || probe_id >= TVN_P_COUNT)
		return NULL;
	return torvyn_probe_names[probe_id];
}

static int probe_id_of(const char *name)
{
	int i;

	for (i = 0; i < TVN_P_COUNT; i++)
		if (strcmp(torvyn_probe_names[i], name) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------ arguments */

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

int tvn_usdt_elf__parse_arg(const char *s, struct tvn_usdt_arg_spec *out, int *consumed)
{
	struct tvn_usdt_arg_spec a;
	int sz, len, err;

	memset(&a, 0, sizeof(a));
	err = parse_location(s, &a, &sz, &len);
	if (err)
		return err;
	a.arg_signed = sz < 0;
	if (sz < 0)
		sz = -sz;
	if (sz != 1 && sz != 2 && sz != 4 && sz != 8)
		return -EINVAL;
	a.arg_bitshift = 64 - sz * 8;
	*out = a;
	*consumed = len;
	return 0;
}

#else /* !__x86_64__ */

int tvn_usdt_elf__parse_arg(const char *s, struct tvn_usdt_arg_spec *out, int *consumed)
{
	(void)s;
	(void)out;
	(void)consumed;
	return -EOPNOTSUPP;
}

#endif

static int parse_spec(struct tvn_usdt_site *site)
{
	struct tvn_usdt_spec *spec = &site->spec;
	const char *s = site->args;
	int len, err;

	memset(spec, 0, sizeof(*spec));
	while (*s) {
		if (spec->arg_cnt >= USDT_MAX_ARG_CNT) {
			pr_warn("probe %s: more than %d arguments in '%s'\n", site->name,
				USDT_MAX_ARG_CNT, site->args);
			return -EINVAL;
		}
		err = tvn_usdt_elf__parse_arg(s, &spec->args[spec->arg_cnt], &len);
		if (err == -EOPNOTSUPP)
			return err;
		if (err) {
			pr_warn("probe %s: cannot parse argument #%d at '%s' of '%s'\n", site->name,
				spec->arg_cnt, s, site->args);
			return -EINVAL;
		}
		s += len;
		spec->arg_cnt++;
	}
	return 0;
}

/* ------------------------------------------------------------ ELF */

struct seg {
	uint64_t start, end, offset;
	bool exec;
};

struct elf_ctx {
	const char *path;
	Elf *elf;
	GElf_Ehdr ehdr;
	struct seg *segs;
	size_t n_segs;
	uint64_t base_addr; /* .stapsdt.base sh_addr, 0 if none */
};

static int check_elf(struct elf_ctx *c)
{
	if (elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &c->ehdr)) {
		pr_warn("%s: not an ELF file\n", c->path);
		return -ENOEXEC;
	}
	if (c->ehdr.e_type != ET_EXEC && c->ehdr.e_type != ET_DYN) {
		pr_warn("%s: not an executable or shared object (ELF type %u)\n", c->path,
			c->ehdr.e_type);
		return -ENOEXEC;
	}
	if (c->ehdr.e_ident[EI_CLASS] != ELFCLASS64 || c->ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
	    c->ehdr.e_machine != EM_X86_64) {
		pr_warn("%s: not an x86-64 ELF file (class %u, machine %u): torvyn-trace reads "
			"x86-64 probes only\n",
			c->path, c->ehdr.e_ident[EI_CLASS], c->ehdr.e_machine);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int find_sec(Elf *elf, const char *name, GElf_Shdr *shdr, Elf_Scn **out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *n;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, shdr))
			return -EINVAL;
		n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && strcmp(n, name) == 0) {
			*out = scn;
			return 0;
		}
	}
	return -ENOENT;
}

static int cmp_segs(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int load_segs(struct elf_ctx *c)
{
	GElf_Phdr ph;
	size_t n, i;

	if (elf_getphdrnum(c->elf, &n)) {
		pr_warn("%s: cannot read program headers: %s\n", c->path, elf_errmsg(-1));
		return -EINVAL;
	}
	c->segs = calloc(n ? n : 1, sizeof(*c->segs));
	if (!c->segs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(c->elf, i, &ph))
			return -EINVAL;
		if (ph.p_type != PT_LOAD)
			continue;
		c->segs[c->n_segs++] = (struct seg){
		    .start = ph.p_vaddr,
		    .end = ph.p_vaddr + ph.p_memsz,
		    .offset = ph.p_offset,
		    .exec = ph.p_flags & PF_X,
		};
	}
	if (!c->n_segs) {
		pr_warn("%s: no PT_LOAD program headers\n", c->path);
		return -ENOEXEC;
	}
	qsort(c->segs, c->n_segs, sizeof(*c->segs), cmp_segs);
	return 0;
}

static const struct seg *find_seg(const struct elf_ctx *c, uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < c->n_segs; i++)
		if (c->segs[i].start <= vaddr && vaddr < c->segs[i].end)
			return &c->segs[i];
	return NULL;
}

struct note {
	const char *provider, *name, *args;
	uint64_t loc, base, sema;
};

/* libbpf's parse_usdt_note(); 1 if the note is not a stapsdt note at all. */
static int parse_note(const GElf_Nhdr *nh, const char *data, size_t name_off, size_t desc_off,
		      struct note *n)
{
	const char *d = data + desc_off, *end;
	uint64_t addrs[3];

	if (nh->n_type != NOTE_TYPE || nh->n_namesz != sizeof(NOTE_NAME) ||
	    memcmp(data + name_off, NOTE_NAME, sizeof(NOTE_NAME)) != 0)
		return 1;
	if (nh->n_descsz < sizeof(addrs) + 3)
		return -EINVAL;
	end = d + nh->n_descsz;
	memcpy(addrs, d, sizeof(addrs));
	n->provider = d + sizeof(addrs);
	n->name = memchr(n->provider, '\0', end - n->provider);
	if (!n->name || ++n->name >= end || !*n->name)
		return -EINVAL;
	n->args = memchr(n->name, '\0', end - n->name);
	if (!n->args || ++n->args >= end || !memchr(n->args, '\0', end - n->args))
		return -EINVAL;
	if (*n->args == ':')
		n->args = "";
	n->loc = addrs[0];
	n->base = addrs[1];
	n->sema = addrs[2];
	return 0;
}

/* collect_usdt_targets() for one note, with the uprobe_multi choices. */
static int fill_site(const struct elf_ctx *c, const struct note *n, struct tvn_usdt_site *s)
{
	const struct seg *seg;

	memset(s, 0, sizeof(*s));
	if (strlen(n->name) >= sizeof(s->name) || strlen(n->args) >= sizeof(s->args)) {
		pr_warn("%s: probe %s: name or argument string too long\n", c->path, n->name);
		return -EINVAL;
	}
	strcpy(s->name, n->name);
	strcpy(s->args, n->args);
	s->probe_id = probe_id_of(n->name);

	/* prelink moves .stapsdt.base but not the (unallocated) notes */
	s->pc = n->loc;
	if (c->base_addr && n->base)
		s->pc += c->base_addr - n->base;
	seg = find_seg(c, s->pc);
	if (!seg || !seg->exec) {
		pr_warn("%s: probe %s: pc 0x%llx is not in an executable segment\n", c->path,
			s->name, (unsigned long long)s->pc);
		return -EINVAL;
	}
	s->file_off = s->pc - seg->start + seg->offset;

	/* libbpf does not apply the prelink adjustment to semaphores */
	if (n->sema) {
		seg = find_seg(c, n->sema);
		if (!seg || seg->exec) {
			pr_warn("%s: probe %s: semaphore 0x%llx is not in a data segment\n",
				c->path, s->name, (unsigned long long)n->sema);
			return -EINVAL;
		}
		s->sem_vaddr = n->sema;
		s->sem_off = n->sema - seg->start + seg->offset;
	}
	return parse_spec(s);
}

static int add_site(struct tvn_usdt_sites *out, size_t *cap, const struct tvn_usdt_site *s)
{
	struct tvn_usdt_site *v;

	if ((size_t)out->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		v = realloc(out->v, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
	}
	out->v[out->n++] = *s;
	return 0;
}

static int read_notes(struct elf_ctx *c, struct tvn_usdt_sites *out)
{
	struct tvn_usdt_site site;
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, cap = 0;
	struct note n;
	int err;

	if (find_sec(c->elf, NOTE_SEC, &shdr, &scn))
		return 0; /* no USDT probes at all */
	if (shdr.sh_type != SHT_NOTE) {
		pr_warn("%s: %s is not a note section\n", c->path, NOTE_SEC);
		return -EINVAL;
	}
	data = elf_getdata(scn, NULL);
	if (!data)
		return 0;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		err = parse_note(&nh, data->d_buf, name_off, desc_off, &n);
		if (err == 1)
			continue;
		if (err) {
			pr_warn("%s: malformed %s note\n", c->path, NOTE_SEC);
			return err;
		}
		if (strcmp(n.provider, PROVIDER) != 0)
			continue;
		err = fill_site(c, &n, &site);
		if (!err)
			err = add_site(out, &cap, &site);
		if (err)
			return err;
	}
	return 0;
}

int tvn_usdt_elf__read(const char *path, struct tvn_usdt_sites *out)
{
	struct elf_ctx c = {.path = path};
	GElf_Shdr shdr;
	Elf_Scn *scn;
	int fd, err;

	memset(out, 0, sizeof(*out));
#if !defined(__x86_64__)
	pr_warn("%s: reading USDT probes is implemented for x86-64 only\n", path);
	return -EOPNOTSUPP;
#endif
	if (elf_version(EV_CURRENT) == EV_NONE) {
		pr_warn("libelf: %s\n", elf_errmsg(-1));
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c.elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!c.elf) {
		pr_warn("%s: not an ELF file (%s)\n", path, elf_errmsg(-1));
		err = -ENOEXEC;
		goto out;
	}
	err = check_elf(&c);
	if (err)
		goto out;
	err = load_segs(&c);
	if (err)
		goto out;
	if (find_sec(c.elf, BASE_SEC, &shdr, &scn) == 0)
		c.base_addr = shdr.sh_addr;
	err = read_notes(&c, out);
out:
	if (err)
		tvn_usdt_sites__free(out);
	free(c.segs);
	elf_end(c.elf);
	close(fd);
	return err;
}

void tvn_usdt_sites__free(struct tvn_usdt_sites *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int tvn_usdt_sites__abi_version(const struct tvn_usdt_sites *s)
{
	const struct tvn_usdt_arg_spec *a;
	int i, v = -ENOENT;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].probe_id != TVN_P_ABI_VERSION || s->v[i].spec.arg_cnt < 1)
			continue;
		a = &s->v[i].spec.args[0];
		if (a->arg_type != USDT_ARG_CONST)
			continue;
		if (v >= 0 && (uint64_t)v != a->val_off) {
			pr_warn("abi__version sites disagree: %d and %lld\n", v,
				(long long)a->val_off);
			return -EINVAL;
		}
		if (a->val_off > INT_MAX)
			return -EINVAL;
		v = (int)a->val_off;
	}
	return v;
}

/* ------------------------------------------------------------ processes */

int tvn_usdt_elf__exe_link(int pid, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "/proc/%d/exe", pid);
	n = readlink(p, buf, len);
	if (n < 0) {
		int err = -errno;

		snprintf(p, sizeof(p), "/proc/%d", pid);
		if (access(p, F_OK))
			return -ESRCH;
		return err == -EPERM ? -EACCES : err;
	}
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int tvn_usdt_elf__target_path(int pid, char *buf, size_t len)
{
	static const char deleted[] = " (deleted)";
	char exe[PATH_MAX];
	size_t el;
	int err, n;

	err = tvn_usdt_elf__exe_link(pid, exe, sizeof(exe));
	if (err)
		return err;
	el = strlen(exe);
	/* a replaced executable is only reachable through /proc/PID/exe */
	if (exe[0] == '/' &&
	    !(el > sizeof(deleted) - 1 && strcmp(exe + el - (sizeof(deleted) - 1), deleted) == 0)) {
		n = snprintf(buf, len, "/proc/%d/root%s", pid, exe);
		if (n > 0 && (size_t)n < len && try_open(buf) == 0)
			return 0;
	}
	n = snprintf(buf, len, "/proc/%d/exe", pid);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	err = try_open(buf);
	if (err == -ENOENT)
		return access(buf, F_OK) == 0 ? -ENOENT : -ESRCH;
	return err == -EPERM ? -EACCES : err;
}

/*
 * Where pid maps file offset off of its executable: like the kernel's
 * uprobe reference counter, through the private writable mapping of the
 * file that covers off, else any mapping of the file that covers it.
 */
static int offset_to_addr(int pid, const char *exe, uint64_t off, uint64_t *addr)
{
	unsigned long start, end, moff;
	char p[64], perms[8], *line = NULL;
	size_t cap = 0, pl;
	int pos, best = 0; /* 1: a mapping of the file, 2: its writable private one */
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		pos = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &moff, &pos) <
			4 ||
		    !pos)
			continue;
		pl = strlen(line + pos);
		if (pl && line[pos + pl - 1] == '\n')
			line[pos + --pl] = '\0';
		if (strcmp(line + pos, exe) != 0 || off < moff || off >= moff + (end - start))
			continue;
		if (best < 2) {
			best = perms[1] == 'w' && perms[3] == 'p' ? 2 : 1;
			*addr = start + (off - moff);
		}
	}
	free(line);
	fclose(f);
	return best ? 0 : -ENOENT;
}

int tvn_usdt_elf__read_semaphore(int pid, const struct tvn_usdt_site *site, uint16_t *val)
{
	char exe[PATH_MAX], p[64];
	uint64_t addr = 0;
	ssize_t n;
	int fd, err;

	if (!site->sem_off)
		return -ENOENT;
	err = tvn_usdt_elf__exe_link(pid, exe, sizeof(exe));
	if (err)
		return err;
	err = offset_to_addr(pid, exe, site->sem_off, &addr);
	if (err)
		return err;
	snprintf(p, sizeof(p), "/proc/%d/mem", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = pread(fd, val, sizeof(*val), (off_t)addr);
	err = n == sizeof(*val) ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}
