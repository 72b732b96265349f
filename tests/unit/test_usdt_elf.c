// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/trace/usdt_elf.c: the argument parser on a table of
 * sdt.h argument strings, and the probe sites of build/torvyn-host checked
 * against readelf -n (an independent reader of the same notes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/types.h>

#include "torvyn_abi.h"
#include "torvyn_bpf.h"
#include "usdt_elf.h"

/* offsetof(struct pt_regs, ...) of x86-64, written out as the truth */
#define R15 0
#define R13 16
#define RBP 32
#define R10 56
#define R8 72
#define RAX 80
#define RDX 96
#define RSI 104
#define RIP 128
#define RSP 152

struct arg_case {
	const char *s;
	enum usdt_arg_type type;
	uint64_t val_off;
	short reg_off;
	bool is_signed;
	char bitshift;
	int consumed;
};

static const struct arg_case arg_cases[] = {
    {"-4@%esi", USDT_ARG_REG, 0, RSI, true, 32, 7},
    {"8@-16(%rbp)", USDT_ARG_REG_DEREF, (uint64_t)-16, RBP, false, 0, 11},
    {"8@%rax", USDT_ARG_REG, 0, RAX, false, 0, 6},
    {"4@$1", USDT_ARG_CONST, 1, 0, false, 32, 4},
    {"-8@$-5", USDT_ARG_CONST, (uint64_t)-5, 0, true, 0, 6},
    {"1@%al", USDT_ARG_REG, 0, RAX, false, 56, 5},
    {"8@(%rdx)", USDT_ARG_REG_DEREF, 0, RDX, false, 0, 8},
    {"-2@%r10w", USDT_ARG_REG, 0, R10, true, 48, 8},
    {"1@%r13b", USDT_ARG_REG, 0, R13, false, 56, 7},
    {"-1@%sil", USDT_ARG_REG, 0, RSI, true, 56, 7},
    {"4@%r8d", USDT_ARG_REG, 0, R8, false, 32, 6},
    {"8@%rip", USDT_ARG_REG, 0, RIP, false, 0, 6},
    {"8@%spl", USDT_ARG_REG, 0, RSP, false, 0, 6},
    {"8@8344(%r15)", USDT_ARG_REG_DEREF, 8344, R15, false, 0, 12},
    {"8@0(%r13)", USDT_ARG_REG_DEREF, 0, R13, false, 0, 9},
    /* the following whitespace is consumed, the next argument is not */
    {"-4@%esi 8@%rax", USDT_ARG_REG, 0, RSI, true, 32, 8},
    {"4@$71  -4@%edi", USDT_ARG_CONST, 71, 0, false, 32, 7},
};

static void test_parse_arg_forms(void **state)
{
	struct tvn_usdt_arg_ref ref;
	struct tvn_usdt_arg_spec a;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(arg_cases) / sizeof(arg_cases[0]); i++) {
		const struct arg_case *c = &arg_cases[i];

		n = -1;
		memset(&a, 0xa5, sizeof(a));
		if (tvn_usdt_elf__parse_arg(c->s, &a, &ref, &n) || ref.sym[0])
			fail_msg("'%s' rejected, or read as naming a symbol", c->s);
		if (a.arg_type != c->type || a.val_off != c->val_off || a.reg_off != c->reg_off ||
		    a.arg_signed != c->is_signed || a.arg_bitshift != c->bitshift ||
		    n != c->consumed)
			fail_msg("'%s': type %d val_off %lld reg_off %d signed %d bitshift %d "
				 "consumed %d",
				 c->s, a.arg_type, (long long)a.val_off, a.reg_off, a.arg_signed,
				 a.arg_bitshift, n);
	}
}

static void test_parse_arg_garbage(void **state)
{
	static const char *const bad[] = {
	    "8@%xyz",
	    "@",
	    "8@",
	    "3@%eax",
	    "",
	    "16@%rax",
	    "0@$1",
	    "8@%",
	    "x@%rax",
	    "8@-16(%rbp",
	    "8@-16(%rbx,%rax,8)",
	    "8@(%eflags)",
	    "8@$",
	    "8@rax",
	    /* a symbol subtracted, two symbols, no register, a bad one */
	    "8@-fb(%rip)",
	    "8@a+b(%rip)",
	    "8@fb",
	    "8@fb(%xyz)",
	    "8@fb+(%rip)",
	};
	struct tvn_usdt_arg_spec a;
	struct tvn_usdt_arg_ref ref;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ref.why = NULL;
		if (tvn_usdt_elf__parse_arg(bad[i], &a, &ref, &n) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		if (!ref.why || !ref.why[0])
			fail_msg("'%s' refused without a reason", bad[i]);
	}
	/* libbpf >= 1.5's scaled-index form: refused, and said so */
	assert_int_equal(tvn_usdt_elf__parse_arg("1@-96(%rbp,%rax,8)", &a, &ref, &n), -EINVAL);
	assert_non_null(strstr(ref.why, "scaled-index"));
}

/* The locations GCC and clang emit for globals: the symbol and addend are kept for the reader. */
struct sym_case {
	const char *s;
	enum usdt_arg_type type;
	short reg_off;
	const char *sym;
	int64_t addend;
	bool rip, is_signed;
	int consumed;
};

static const struct sym_case sym_cases[] = {
    {"8@120+fb(%rip)", USDT_ARG_REG_DEREF, RIP, "fb", 120, true, false, 14},
    {"8@fb+120(%rip)", USDT_ARG_REG_DEREF, RIP, "fb", 120, true, false, 14},
    {"-4@sym+4(%rip)", USDT_ARG_REG_DEREF, RIP, "sym", 4, true, true, 14},
    {"-4@ver(%rip)", USDT_ARG_REG_DEREF, RIP, "ver", 0, true, true, 12},
    {"8@fb-8(%rip) 4@$1", USDT_ARG_REG_DEREF, RIP, "fb", -8, true, false, 13},
    {"8@tbl+0x10(%rax)", USDT_ARG_REG_DEREF, RAX, "tbl", 16, false, false, 16},
    {"8@$fb+16", USDT_ARG_CONST, 0, "fb", 16, false, false, 8},
    {"8@$fb", USDT_ARG_CONST, 0, "fb", 0, false, false, 5},
    {"1@_ZN3foo3barE.lto_priv.0(%rip)", USDT_ARG_REG_DEREF, RIP, "_ZN3foo3barE.lto_priv.0", 0, true,
     false, 31},
};

static void test_parse_arg_symbols(void **state)
{
	struct tvn_usdt_arg_spec a;
	struct tvn_usdt_arg_ref ref;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(sym_cases) / sizeof(sym_cases[0]); i++) {
		const struct sym_case *c = &sym_cases[i];

		if (tvn_usdt_elf__parse_arg(c->s, &a, &ref, &n))
			fail_msg("'%s' rejected: %s", c->s, ref.why);
		if (a.arg_type != c->type || a.reg_off != c->reg_off || strcmp(ref.sym, c->sym) ||
		    ref.addend != c->addend || ref.rip != c->rip || a.arg_signed != c->is_signed ||
		    (int64_t)a.val_off != c->addend || n != c->consumed)
			fail_msg("'%s': type %d reg_off %d sym '%s' addend %lld rip %d signed %d "
				 "consumed %d",
				 c->s, a.arg_type, a.reg_off, ref.sym, (long long)ref.addend,
				 ref.rip, a.arg_signed, n);
	}
}

static void test_probe_names(void **state)
{
	(void)state;
	assert_string_equal(tvn_usdt_elf__probe_name(TVN_P_ABI_VERSION), "abi__version");
	assert_string_equal(tvn_usdt_elf__probe_name(TVN_P_COMPONENT_INVOKE), "component__invoke");
	assert_string_equal(tvn_usdt_elf__probe_name(TVN_P_TRACE_PROMOTE), "trace__promote");
	assert_null(tvn_usdt_elf__probe_name(TVN_P_COUNT));
	assert_null(tvn_usdt_elf__probe_name(-1));
}

static void test_abi_version_of_sites(void **state)
{
	struct tvn_usdt_site v[3];
	struct tvn_usdt_sites s = {.v = v, .n = 0};

	(void)state;
	memset(v, 0, sizeof(v));
	assert_int_equal(tvn_usdt_sites__abi_version(&s), -ENOENT);
	v[0].probe_id = TVN_P_ABI_VERSION;
	v[0].spec.arg_cnt = 1;
	v[0].spec.args[0].arg_type = USDT_ARG_REG; /* not a constant */
	s.n = 1;
	assert_int_equal(tvn_usdt_sites__abi_version(&s), -ENOENT);
	v[1] = v[0];
	v[1].spec.args[0].arg_type = USDT_ARG_CONST;
	v[1].spec.args[0].val_off = 7;
	s.n = 2;
	assert_int_equal(tvn_usdt_sites__abi_version(&s), 7);
	v[2] = v[1];
	v[2].spec.args[0].val_off = 8;
	s.n = 3;
	assert_int_equal(tvn_usdt_sites__abi_version(&s), -EINVAL);
}

static void test_read_errors(void **state)
{
	char tmp[] = "/tmp/test_usdt_elf.XXXXXX";
	struct tvn_usdt_sites s;
	int fd;

	(void)state;
	assert_int_equal(tvn_usdt_elf__read("/nonexistent/torvyn-host", &s), -ENOENT);
	assert_int_equal(s.n, 0);
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	assert_int_equal(tvn_usdt_elf__read(tmp, &s), -ENOEXEC);
	unlink(tmp);
	assert_int_equal(tvn_usdt_elf__target_path(999999999, (char[64]){0}, 64), -ESRCH);
	tvn_usdt_sites__free(NULL);
}

/* ------------------------------------------------------------ build/torvyn-host */

#define MAX_NOTES 512

struct ref_note {
	char name[USDT_NAME_LEN];
	uint64_t loc, base, sema;
	char args[USDT_ARGS_LEN];
};

struct host {
	const char *path;
	struct tvn_usdt_sites sites;
	struct ref_note ref[MAX_NOTES]; /* readelf -n, torvyn notes in note order */
	int n_ref;
	off_t size;
	int fd;
};

static const char *host_path(void)
{
	const char *p = getenv("TORVYN_HOST");

	return p ? p : "build/torvyn-host";
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* The torvyn notes as binutils reads them. */
static int readelf_notes(struct host *h)
{
	char cmd[512], line[1024], *p;
	struct ref_note *cur = NULL;
	bool torvyn = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf -n --wide '%s' 2>/dev/null", h->path);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		trim(line);
		if ((p = strstr(line, "Provider: "))) {
			torvyn = strcmp(p + 10, "torvyn") == 0;
			cur = NULL;
			if (torvyn && h->n_ref < MAX_NOTES)
				cur = &h->ref[h->n_ref++];
		} else if (cur && (p = strstr(line, "Name: "))) {
			snprintf(cur->name, sizeof(cur->name), "%s", p + 6);
		} else if (cur && (p = strstr(line, "Location: "))) {
			if (sscanf(p, "Location: %lx, Base: %lx, Semaphore: %lx", &cur->loc,
				   &cur->base, &cur->sema) != 3) {
				print_error("readelf line not understood: %s\n", line);
				pclose(f);
				return -EINVAL;
			}
		} else if (cur && (p = strstr(line, "Arguments: "))) {
			snprintf(cur->args, sizeof(cur->args), "%s", p + 11);
		}
	}
	return pclose(f) == 0 ? 0 : -EIO;
}

static int host_setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	struct stat st;

	if (!h)
		return -1;
	h->path = host_path();
	h->fd = open(h->path, O_RDONLY);
	if (h->fd >= 0 && fstat(h->fd, &st) == 0)
		h->size = st.st_size;
	if (h->fd >= 0 && (readelf_notes(h) || tvn_usdt_elf__read(h->path, &h->sites))) {
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int host_teardown(void **state)
{
	struct host *h = *state;

	if (h->fd >= 0)
		close(h->fd);
	tvn_usdt_sites__free(&h->sites);
	free(h);
	return 0;
}

static struct host *need_host(void **state)
{
	struct host *h = *state;

	if (h->fd < 0) {
		print_message("%s is not built (make build/torvyn-host): skipped\n", h->path);
		skip();
	}
	return h;
}

static int count_ref(const struct host *h, const char *name)
{
	int i, n = 0;

	for (i = 0; i < h->n_ref; i++)
		n += strcmp(h->ref[i].name, name) == 0;
	return n;
}

static int count_sites(const struct host *h, const char *name)
{
	int i, n = 0;

	for (i = 0; i < h->sites.n; i++)
		n += strcmp(h->sites.v[i].name, name) == 0;
	return n;
}

static void test_host_sites_match_readelf(void **state)
{
	struct host *h = need_host(state);
	int i;

	assert_true(h->n_ref > 0);
	assert_int_equal(h->sites.n, h->n_ref);
	for (i = 0; i < TVN_P_COUNT; i++) {
		const char *name = tvn_usdt_elf__probe_name(i);

		if (count_ref(h, name) < 1)
			fail_msg("readelf shows no %s site", name);
		if (count_sites(h, name) != count_ref(h, name))
			fail_msg("%s: %d sites, readelf shows %d", name, count_sites(h, name),
				 count_ref(h, name));
	}
	/* site by site: no prelink here, so pc is the note's location */
	for (i = 0; i < h->sites.n; i++) {
		const struct tvn_usdt_site *s = &h->sites.v[i];
		const struct ref_note *r = &h->ref[i];

		assert_string_equal(s->name, r->name);
		assert_string_equal(s->args, r->args);
		assert_int_equal(s->pc, r->loc);
		assert_int_equal(s->sem_vaddr, r->sema);
		assert_true(s->probe_id >= 0 && s->probe_id < TVN_P_COUNT);
		assert_string_equal(tvn_usdt_elf__probe_name(s->probe_id), s->name);
	}
}

static void test_host_sites_are_nops_with_semaphores(void **state)
{
	struct host *h = need_host(state);
	unsigned char b;
	uint16_t sem;
	int i;

	for (i = 0; i < h->sites.n; i++) {
		const struct tvn_usdt_site *s = &h->sites.v[i];

		if (!s->sem_vaddr || !s->sem_off)
			fail_msg("%s site %d has no semaphore", s->name, i);
		if (s->file_off >= (uint64_t)h->size || s->sem_off + 2 > (uint64_t)h->size)
			fail_msg("%s: offsets 0x%llx/0x%llx beyond the file (%lld bytes)", s->name,
				 (unsigned long long)s->file_off, (unsigned long long)s->sem_off,
				 (long long)h->size);
		assert_int_equal(pread(h->fd, &b, 1, s->file_off), 1);
		if (b != 0x90)
			fail_msg("%s: byte 0x%02x at 0x%llx, want a nop (0x90)", s->name, b,
				 (unsigned long long)s->file_off);
		assert_int_equal(pread(h->fd, &sem, 2, s->sem_off), 2);
		assert_int_equal(sem, 0);
	}
}

static void test_host_specs(void **state)
{
	struct host *h = need_host(state);
	int i, n_invoke = 0;

	for (i = 0; i < h->sites.n; i++) {
		const struct tvn_usdt_site *s = &h->sites.v[i];

		assert_int_equal(s->spec.usdt_cookie, 0);
		if (s->probe_id != TVN_P_COMPONENT_INVOKE)
			continue;
		n_invoke++;
		assert_int_equal(s->spec.arg_cnt, 9); /* the 8 scalars and the step record */
	}
	assert_true(n_invoke > 0);
	assert_int_equal(tvn_usdt_sites__abi_version(&h->sites), TORVYN_PROBE_ABI_VERSION);
}

/* ------------------------------------------------------------ a target built here */

/*
 * A program with two torvyn probes and one of another provider, whose
 * semaphores start at values we know: the file offsets and the semaphore
 * reads are then checked against those values, for PIE and non-PIE.
 */
static const char target_src[] = "#define _SDT_HAS_SEMAPHORES 1\n"
				 "#include <sys/sdt.h>\n"
				 "#include <unistd.h>\n"
				 "__extension__ unsigned short torvyn_abi__version_semaphore\n"
				 "	__attribute__((section(\".probes\"))) = 0x1111;\n"
				 "__extension__ unsigned short torvyn_not__declared_semaphore\n"
				 "	__attribute__((section(\".probes\"))) = 0x2222;\n"
				 "__extension__ unsigned short other_thing_semaphore\n"
				 "	__attribute__((section(\".probes\"))) = 0x3333;\n"
				 "int main(int argc, char **argv)\n"
				 "{\n"
				 "	if (torvyn_abi__version_semaphore)\n"
				 "		STAP_PROBE1(torvyn, abi__version, 1);\n"
				 "	if (torvyn_not__declared_semaphore)\n"
				 "		STAP_PROBE2(torvyn, not__declared, argc, argv);\n"
				 "	if (other_thing_semaphore)\n"
				 "		STAP_PROBE1(other, thing, argc);\n"
				 "	if (argc > 1 && write(1, \"r\", 1) == 1)\n"
				 "		pause();\n"
				 "	return 0;\n"
				 "}\n";

/* Builds src with cflags into dir; 0, or -1 after a message (then skip). */
static int build_src(const char *src_text, const char *dir, const char *cflags, char *exe,
		     size_t len)
{
	char src[256], cmd[1024];
	FILE *f;

	snprintf(src, sizeof(src), "%s/t.c", dir);
	snprintf(exe, len, "%s/t", dir);
	f = fopen(src, "w");
	if (!f || fputs(src_text, f) < 0 || fclose(f))
		return -1;
	snprintf(cmd, sizeof(cmd), "cc -O1 %s -o %s %s >/dev/null 2>&1", cflags, exe, src);
	if (system(cmd) != 0) {
		print_message("cannot build a probe target (%s): needs cc and sys/sdt.h\n", cmd);
		return -1;
	}
	return 0;
}

/*
 * Starts the target and waits until it runs main(): /proc/PID/exe names the
 * new executable before exec has mapped it, so polling that is not enough.
 */
static pid_t run_target(const char *exe)
{
	char c;
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(exe, exe, "wait", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

static const struct tvn_usdt_site *site_named(const struct tvn_usdt_sites *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static void check_target(const char *cflags, bool pie)
{
	char dir[] = "/tmp/test_usdt_elf.XXXXXX", exe[300], path[4200], rm[400], name[4096];
	const struct tvn_usdt_site *abi, *nd;
	struct tvn_usdt_sites s = {};
	uint16_t v, sem[3] = {0};
	unsigned char b;
	int fd, err[7];
	pid_t pid;

	assert_non_null(mkdtemp(dir));
	if (build_src(target_src, dir, cflags, exe, sizeof(exe))) {
		snprintf(rm, sizeof(rm), "rm -rf %s", dir);
		assert_int_equal(system(rm), 0);
		skip();
	}
	assert_int_equal(tvn_usdt_elf__read(exe, &s), 0);
	assert_int_equal(s.n, 2); /* provider "other" is not ours */
	abi = site_named(&s, "abi__version");
	nd = site_named(&s, "not__declared");
	assert_non_null(abi);
	assert_non_null(nd);
	assert_int_equal(abi->probe_id, TVN_P_ABI_VERSION);
	assert_int_equal(nd->probe_id, -1);
	assert_string_equal(abi->args, "-4@$1");
	assert_int_equal(nd->spec.arg_cnt, 2);
	assert_int_equal(tvn_usdt_sites__abi_version(&s), 1);
	if (!pie) /* ET_EXEC: link-time addresses are not file offsets */
		assert_true(abi->pc != abi->file_off && abi->sem_vaddr != abi->sem_off);

	fd = open(exe, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, abi->file_off), 1);
	assert_int_equal(b, 0x90);
	assert_int_equal(pread(fd, &b, 1, nd->file_off), 1);
	assert_int_equal(b, 0x90);
	assert_int_equal(pread(fd, &v, 2, abi->sem_off), 2);
	assert_int_equal(v, 0x1111);
	assert_int_equal(pread(fd, &v, 2, nd->sem_off), 2);
	assert_int_equal(v, 0x2222);
	close(fd);

	/* no assert while the child runs: a failing one would leave it paused */
	pid = run_target(exe);
	assert_true(pid > 0);
	err[0] = tvn_usdt_elf__target_path(pid, path, sizeof(path));
	err[1] = tvn_usdt_elf__read_semaphore(pid, abi, &sem[0]);
	err[2] = tvn_usdt_elf__read_semaphore(pid, nd, &sem[1]);
	/* by the name the process maps the file as (a shared object's way) */
	err[4] = tvn_usdt_elf__exe_link(pid, name, sizeof(name));
	err[5] = tvn_usdt_elf__read_object_semaphore(pid, name, nd, &sem[2]);
	err[6] = tvn_usdt_elf__read_object_semaphore(pid, "/no/such/lib.so", abi, &v);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	err[3] = tvn_usdt_elf__read_semaphore(pid, abi, &v);
	assert_int_equal(err[0], 0);
	assert_int_equal(strncmp(path, "/proc/", 6), 0);
	assert_int_equal(err[1], 0);
	assert_int_equal(sem[0], 0x1111);
	assert_int_equal(err[2], 0);
	assert_int_equal(sem[1], 0x2222);
	assert_int_equal(err[3], -ESRCH);
	assert_int_equal(err[4], 0);
	assert_int_equal(err[5], 0);
	assert_int_equal(sem[2], 0x2222);
	assert_int_equal(err[6], -ENOENT);

	tvn_usdt_sites__free(&s);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
}

static void test_target_non_pie(void **state)
{
	(void)state;
	check_target("-no-pie -fno-pie", false);
}

static void test_target_pie(void **state)
{
	(void)state;
	check_target("-pie -fPIE", true);
}

/*
 * Globals passed as arguments: GCC prints them "8@120+fb(%rip)" in a PIE,
 * "8@fb+120(%rip)" in a non-PIE executable. The reader must turn each into
 * what the BPF side reads at the site: the global's address (nm's, an
 * independent reader) relative to the site's pc; and keep a global's
 * initial value.
 */
static const char globals_src[] =
    "#include <sys/sdt.h>\n"
    "struct fbs { char pad[120]; unsigned long long v; } fb = { .v = 42 };\n"
    "unsigned long long ver = 7;\n"
    "int main(void)\n"
    "{\n"
    "	DTRACE_PROBE1(torvyn, abi__version, ver);\n"
    "	DTRACE_PROBE1(torvyn, flow__start, fb.v);\n"
    "	return 0;\n"
    "}\n";

static uint64_t nm_addr(const char *exe, const char *sym)
{
	char cmd[512], line[256];
	unsigned long long a = 0;
	char name[64];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm %s", exe);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %*s %63s", &a, name) == 2 && strcmp(name, sym) == 0)
			break;
	pclose(f);
	return a;
}

static void check_globals(const char *cflags, bool pie)
{
	char dir[] = "/tmp/test_usdt_elf.XXXXXX", exe[300], rm[400];
	const struct tvn_usdt_site *abi, *fs;
	struct tvn_usdt_sites s = {};
	uint64_t fb, ver;

	assert_non_null(mkdtemp(dir));
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (build_src(globals_src, dir, cflags, exe, sizeof(exe))) {
		assert_int_equal(system(rm), 0);
		skip();
	}
	assert_int_equal(tvn_usdt_elf__read(exe, &s), 0);
	fb = nm_addr(exe, "fb");
	ver = nm_addr(exe, "ver");
	assert_true(fb && ver);
	abi = site_named(&s, "abi__version");
	fs = site_named(&s, "flow__start");
	assert_non_null(abi);
	assert_non_null(fs);
	print_message("%s: '%s', '%s'\n", cflags, abi->args, fs->args);
	assert_string_equal(abi->args, "8@ver(%rip)");
	assert_int_equal(abi->spec.args[0].arg_type, USDT_ARG_REG_DEREF);
	assert_int_equal(abi->spec.args[0].reg_off, RIP);
	assert_int_equal(abi->pc + abi->spec.args[0].val_off, ver);
	assert_int_equal(abi->init_mask, 1);
	assert_int_equal(abi->init_val[0], 7);
	assert_int_equal(tvn_usdt_sites__abi_version(&s), 7);
	assert_int_equal(fs->spec.args[0].arg_type, USDT_ARG_REG_DEREF);
	assert_int_equal(fs->spec.args[0].reg_off, RIP);
	assert_int_equal(fs->pc + fs->spec.args[0].val_off, fb + 120);
	assert_int_equal(fs->init_val[0], 42);
	assert_string_equal(fs->args, pie ? "8@120+fb(%rip)" : "8@fb+120(%rip)");
	assert_int_equal(s.is_dyn, pie);
	tvn_usdt_sites__free(&s);
	assert_int_equal(system(rm), 0);
}

static void test_globals_pie(void **state)
{
	(void)state;
	check_globals("-pie -fPIE", true);
}

static void test_globals_non_pie(void **state)
{
	(void)state;
	check_globals("-no-pie -fno-pie", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_arg_forms),
	    cmocka_unit_test(test_parse_arg_garbage),
	    cmocka_unit_test(test_parse_arg_symbols),
	    cmocka_unit_test(test_probe_names),
	    cmocka_unit_test(test_abi_version_of_sites),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_host_sites_match_readelf),
	    cmocka_unit_test(test_host_sites_are_nops_with_semaphores),
	    cmocka_unit_test(test_host_specs),
	    cmocka_unit_test(test_target_non_pie),
	    cmocka_unit_test(test_target_pie),
	    cmocka_unit_test(test_globals_pie),
	    cmocka_unit_test(test_globals_non_pie),
	};

	/* the group setup reads build/torvyn-host once; the parser tests ignore it */
	return cmocka_run_group_tests(tests, host_setup, host_teardown);
}
