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

/* ------------------------------------------------------------ ELF */

struct seg {
	uint64_t start, end, offset;
	uint64_t file_end; /* start + p_filesz: past it, .bss */
	bool exec;
};

struct elf_ctx {
	const char *path;
	int fd;
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
		    .file_end = ph.p_vaddr + ph.p_filesz,
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

/* The value of a defined symbol, from .symtab, else .dynsym. */
static int find_sym(const struct elf_ctx *c, const char *name, uint64_t *val)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	const char *n;

	for (int pass = 0; pass < 2; pass++) {
		while ((scn = elf_nextscn(c->elf, scn))) {
			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !sh.sh_entsize)
				continue;
			data = elf_getdata(scn, NULL);
			for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
				if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
					continue;
				n = elf_strptr(c->elf, sh.sh_link, sym.st_name);
				if (n && strcmp(n, name) == 0) {
					*val = sym.st_value;
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

/* The initial value of the global at vaddr, if the file holds it (not .bss). */
static bool read_init(const struct elf_ctx *c, uint64_t vaddr, const struct tvn_usdt_arg_spec *a,
		      uint64_t *val)
{
	const struct seg *seg = find_seg(c, vaddr);
	size_t sz = (64 - a->arg_bitshift) / 8;
	uint64_t v = 0;

	if (!seg || vaddr + sz > seg->file_end ||
	    pread(c->fd, &v, sz, (off_t)(vaddr - seg->start + seg->offset)) != (ssize_t)sz)
		return false;
	if (a->arg_bitshift)
		v = a->arg_signed ? (uint64_t)((int64_t)(v << a->arg_bitshift) >> a->arg_bitshift)
				  : (v << a->arg_bitshift) >> a->arg_bitshift;
	*val = v;
	return true;
}

/*
 * Turns a location that names a symbol into one libbpf's BPF side reads:
 * %rip-relative, the uprobe's ip is the site's own address, so the global is
 * at ip + (sym + addend - pc) whatever the load base; an absolute address
 * holds only in a file that does not move (ET_EXEC).
 */
static const char *resolve_arg(const struct elf_ctx *c, struct tvn_usdt_site *site, int i,
			       const struct tvn_usdt_arg_ref *ref)
{
	struct tvn_usdt_arg_spec *a = &site->spec.args[i];
	uint64_t addr;

	if (find_sym(c, ref->sym, &addr))
		return "it names a symbol the file's symbol table lacks (a stripped file or an "
		       "assembler-local label): keep the symbol table (do not strip the host), "
		       "or pass the value through a local variable";
	addr += (uint64_t)ref->addend;
	if (ref->rip) {
		a->val_off = addr - site->pc;
		if (read_init(c, addr, a, &site->init_val[i]))
			site->init_mask |= 1u << i;
		return NULL;
	}
	if (c->ehdr.e_type != ET_EXEC)
		return "it is an absolute address in a position-independent file";
	a->val_off = addr;
	return NULL;
}

static int parse_spec(const struct elf_ctx *c, struct tvn_usdt_site *site, char *why, size_t wl)
{
	struct tvn_usdt_spec *spec = &site->spec;
	struct tvn_usdt_arg_ref ref;
	const char *s = site->args;
	int len, err;

	memset(spec, 0, sizeof(*spec));
	while (*s) {
		if (spec->arg_cnt >= USDT_MAX_ARG_CNT) {
			snprintf(why, wl, "probe %s: more than %d arguments in '%s'", site->name,
				 USDT_MAX_ARG_CNT, site->args);
			return -EINVAL;
		}
		err = tvn_usdt_elf__parse_arg(s, &spec->args[spec->arg_cnt], &ref, &len);
		if (err == -EOPNOTSUPP)
			return err;
		if (!err && ref.sym[0])
			ref.why = resolve_arg(c, site, spec->arg_cnt, &ref);
		if (err || ref.why) {
			snprintf(why, wl, "probe %s, argument #%d '%.*s' (of '%s'): %s", site->name,
				 spec->arg_cnt, (int)strcspn(s, " "), s, site->args, ref.why);
			return -EINVAL;
		}
		s += len;
		spec->arg_cnt++;
	}
	return 0;
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
static int fill_site(const struct elf_ctx *c, const struct note *n, struct tvn_usdt_site *s,
		     struct tvn_usdt_sites *out)
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
	return parse_spec(c, s, out->why, sizeof(out->why));
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
		err = fill_site(c, &n, &site, out);
		if (!err)
			err = add_site(out, &cap, &site);
		if (err)
			return err;
	}
	return 0;
}

/* Which probes' semaphores the file defines, sites or not (dtrace -G defines them all). */
static void find_semaphores(const struct elf_ctx *c, struct tvn_usdt_sites *out)
{
	char name[USDT_NAME_LEN + 32];
	uint64_t addr;

	for (int p = 0; p < TVN_P_COUNT && p < 64; p++) {
		snprintf(name, sizeof(name), PROVIDER "_%s_semaphore", torvyn_probe_names[p]);
		if (!find_sym(c, name, &addr))
			out->sem_defined |= 1ull << p;
	}
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
	c.fd = fd;
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
	out->is_dyn = c.ehdr.e_type == ET_DYN;
	err = read_notes(&c, out);
	if (!err && out->n)
		find_semaphores(&c, out);
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
	uint64_t x;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].probe_id != TVN_P_ABI_VERSION || s->v[i].spec.arg_cnt < 1)
			continue;
		a = &s->v[i].spec.args[0];
		if (a->arg_type == USDT_ARG_CONST)
			x = a->val_off;
		else if (s->v[i].init_mask & 1)
			x = s->v[i].init_val[0];
		else
			continue;
		if (v >= 0 && (uint64_t)v != x) {
			pr_warn("abi__version sites disagree: %d and %lld\n", v, (long long)x);
			return -EINVAL;
		}
		if (x > INT_MAX)
			return -EINVAL;
		v = (int)x;
	}
	return v;
}
