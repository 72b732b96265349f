# torvyn-trace: `make run` and `make test` are all a new user needs.
# Everything generated goes to build/. V=1 shows the commands.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# SANITIZE=1 builds the same programs and tests with AddressSanitizer and
# UndefinedBehaviorSanitizer into their own folder (README, "Sanitizers and fuzzing").
SANITIZE ?= 0
BUILD := $(if $(filter 1,$(SANITIZE)),build-san,build)
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -pthread \
	-fno-omit-frame-pointer -I$(BUILD) -Iinclude -Iusdt
LDLIBS_HOST := -ljansson -lz -ldl -lm -pthread

# Any report stops the program (-fno-sanitize-recover): a test sees it as a failure.
# Only userspace is sanitized: the BPF programs keep BPF_CFLAGS.
# TVN_SANITIZE tells timing tests that their limits do not hold.
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DTVN_SANITIZE=1
ifeq ($(SANITIZE),1)
CC := $(CLANG)
CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 $(SAN_CFLAGS)
endif

# ---------------------------------------------------------------- packages
# Debian 12 packages the build, the tests and `make run` need. libbpf-dev and
# bpftool come from bookworm-backports (libbpf >= 1.3 has uprobe_multi).
DEB_PKGS := clang llvm libelf-dev zlib1g-dev libprotobuf-c-dev protobuf-c-compiler \
	libcmocka-dev systemtap-sdt-dev libmicrohttpd-dev libcurl4-openssl-dev \
	libjansson-dev prometheus prometheus-node-exporter bpftrace pkg-config \
	valgrind jq python3 python3-prometheus-client curl iproute2 procps util-linux \
	libncurses-dev tmux
BPO_PKGS := libbpf-dev bpftool

.PHONY: deps
deps:
	$(Q)./tools/deps.sh "$(DEB_PKGS)" "$(BPO_PKGS)"

# ---------------------------------------------------------------- version
# VERSION is the release; built from a git clone, `git describe` is added
# (`0.1.0 (git a85fe51-dirty)`), and a tarball (no .git here) says VERSION alone.
# The string reaches the two main.c files only, through -DTVN_VERSION; they are
# rebuilt when it changes ($(BUILD)/version.txt is rewritten only then).
VERSION := 0.1.0
GIT_DESCRIBE := $(shell [ -e .git ] && git describe --tags --always --dirty 2>/dev/null)
FULL_VERSION := $(VERSION)$(if $(GIT_DESCRIBE), (git $(GIT_DESCRIBE)))

$(BUILD)/version.txt: FORCE | $(BUILD)
	$(Q)echo '$(FULL_VERSION)' | cmp -s - $@ || echo '$(FULL_VERSION)' >$@

.PHONY: FORCE
FORCE:

# ---------------------------------------------------------------- probes
# Every argument is widened to 64 bits at the site: the notes then name only
# full registers (%rax, not %r14d), which every USDT consumer parses.
$(BUILD)/torvyn_probes_gen.h: usdt/torvyn.d | $(BUILD)
	$(call msg,DTRACE,$@)
	$(Q)dtrace -h -s $< -o $@.tmp
	$(Q)sed -E '/^DTRACE_PROBE/ s/\barg([0-9]+)\b/(unsigned long long)(arg\1)/g' $@.tmp >$@
	$(Q)rm -f $@.tmp

# The probe list (ids, names, BPF families) and the no-probe stubs, from the
# same torvyn.d: one source for the whole contract.
$(BUILD)/torvyn_probe_list.h: usdt/torvyn.d tools/probe-list.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)awk -f tools/probe-list.awk $< >$@

$(BUILD)/torvyn_probes_off.h: usdt/torvyn.d tools/probe-list.awk | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)awk -v mode=off -f tools/probe-list.awk $< >$@

GEN_HDRS := $(BUILD)/torvyn_probe_list.h $(BUILD)/torvyn_probes_off.h

$(BUILD)/torvyn_probes_sem.o: usdt/torvyn.d | $(BUILD)
	$(call msg,DTRACE,$@)
	$(Q)dtrace -G -s $< -o $@

# ---------------------------------------------------------------- runtime library
RT_SRCS := usdt/trace_context.c usdt/sampling.c usdt/histogram.c usdt/span_ring.c usdt/clock.c
RT_OBJS := $(RT_SRCS:usdt/%.c=$(BUILD)/rt/%.o)

$(BUILD)/rt/%.o: usdt/%.c $(wildcard usdt/*.h) include/torvyn_abi.h $(GEN_HDRS) | $(BUILD)/rt
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# ---------------------------------------------------------------- libtorvyn-probes
# The runtime side of the probe contract as a library (include/torvyn/probes.h,
# docs/write-your-own-host.md): the runtime sources above plus the public API,
# with the semaphores of `dtrace -G` inside. Position-independent objects and
# hidden symbols but the API's serve both the archive and the shared object.
# torvyn-host links the archive; its probes-compiled-out twin links a
# no-probe archive that is never installed.
LIB_VERSION := $(shell sed -n 's/^\#define TVN_PROBES_VERSION_\(MAJOR\|MINOR\) //p' \
	include/torvyn/probes.h | paste -sd. -).0
LIB_MAJOR := $(firstword $(subst ., ,$(LIB_VERSION)))
LIB_SONAME := libtorvyn-probes.so.$(LIB_MAJOR)
LIB_SRCS := $(RT_SRCS) usdt/probes.c usdt/probes_elem.c usdt/probes_promote.c usdt/probes_pool.c
LIB_OBJS := $(LIB_SRCS:usdt/%.c=$(BUILD)/lib/%.o)
LIB_OBJS_NP := $(LIB_SRCS:usdt/%.c=$(BUILD)/lib-np/%.o)
LIB_HDRS := $(wildcard usdt/*.h) include/torvyn_abi.h include/torvyn/probes.h \
	include/torvyn_probes.h $(GEN_HDRS)
LIB_CFLAGS := -fPIC -fvisibility=hidden
# Every symbol resolved at link time; not under the sanitizers, whose runtime
# the executable brings.
LIB_ZDEFS := $(if $(filter 1,$(SANITIZE)),,-Wl,-z,defs)
LIB_A := $(BUILD)/libtorvyn-probes.a
LIB_SO := $(BUILD)/libtorvyn-probes.so.$(LIB_VERSION)
LIB_A_NP := $(BUILD)/libtorvyn-probes-noprobes.a
LIB_PC := $(BUILD)/torvyn-probes.pc

$(BUILD)/lib/%.o: usdt/%.c $(LIB_HDRS) $(BUILD)/torvyn_probes_gen.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/lib-np/%.o: usdt/%.c $(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LIB_CFLAGS) -DTORVYN_NO_PROBES -c $< -o $@

$(LIB_A): $(LIB_OBJS) $(BUILD)/torvyn_probes_sem.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_A_NP): $(LIB_OBJS_NP)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS) $(BUILD)/torvyn_probes_sem.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) $(LIB_ZDEFS) $^ -pthread -o $@
	$(Q)ln -sf $(notdir $@) $(BUILD)/$(LIB_SONAME)
	$(Q)ln -sf $(LIB_SONAME) $(BUILD)/libtorvyn-probes.so

# ---------------------------------------------------------------- torvyn-host
# Sources may sit in subfolders (user/host/pipeline/...); each folder is on the
# include path, so a header is named by its file name alone.
HOST_DIRS := $(shell find user/host -type d -not -path 'user/host/plugins*' -not -path 'user/host/pipelines*')
HOST_SRCS := $(foreach d,$(HOST_DIRS),$(wildcard $(d)/*.c))
HOST_HDRS := $(foreach d,$(HOST_DIRS),$(wildcard $(d)/*.h)) $(wildcard include/*.h) $(wildcard usdt/*.h) \
	$(GEN_HDRS)
HOST_INC := $(addprefix -I,$(HOST_DIRS))
HOST_OBJS := $(HOST_SRCS:user/host/%.c=$(BUILD)/host/%.o)
HOST_OBJS_NP := $(HOST_SRCS:user/host/%.c=$(BUILD)/host-np/%.o)
HOST_OBJS_CO := $(HOST_SRCS:user/host/%.c=$(BUILD)/host-co/%.o)

$(BUILD)/host/%.o: user/host/%.c $(HOST_HDRS) $(BUILD)/torvyn_probes_gen.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(HOST_INC) -c $< -o $@

$(BUILD)/host-np/%.o: user/host/%.c $(HOST_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DTORVYN_NO_PROBES $(HOST_INC) -c $< -o $@

$(BUILD)/host-co/%.o: user/host/%.c $(HOST_HDRS) $(BUILD)/torvyn_probes_gen.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DTVN_BENCH_CLOCKS_ONLY=1 $(HOST_INC) -c $< -o $@

$(BUILD)/torvyn-host: $(HOST_OBJS) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -rdynamic $^ $(LDLIBS_HOST) -o $@

# The baseline: the same host with every probe compiled out.
$(BUILD)/torvyn-host-noprobes: $(HOST_OBJS_NP) $(LIB_A_NP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -rdynamic $^ $(LDLIBS_HOST) -o $@

# make bench only: Level 1 reduced to its clock reads (runtime/step.c), the floor
# of timing every invocation.
$(BUILD)/torvyn-host-clocks-only: $(HOST_OBJS_CO) $(LIB_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -rdynamic $^ $(LDLIBS_HOST) -o $@

# Sample components loaded through the C ABI (user/host/plugins/).
PLUGIN_SRCS := $(wildcard user/host/plugins/*.c)
PLUGINS := $(PLUGIN_SRCS:user/host/plugins/%.c=$(BUILD)/plugins/%.so)
$(BUILD)/plugins/%.so: user/host/plugins/%.c include/torvyn_component.h | $(BUILD)/plugins
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared $< -o $@

# ---------------------------------------------------------------- BPF
# vmlinux.h comes from the running kernel's BTF, once, into build/.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_FAMILIES := dispatch metrics invoke queue pool bench
BPF_OBJS := $(BPF_FAMILIES:%=$(BUILD)/bpf/%.bpf.o)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Iinclude \
	-I/usr/include/$(MULTIARCH) -Wall -Werror

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c >$@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/common.bpf.h include/torvyn_abi.h include/torvyn_bpf.h \
		$(BUILD)/vmlinux.h $(GEN_HDRS) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One object, one skeleton: the families link into a single program so that a
# level is one uprobe_multi link (docs/design.md, "Levels").
$(BUILD)/torvyn.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/torvyn.skel.h: $(BUILD)/torvyn.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name torvyn_bpf >$@

# The agent's exec watcher: its own object, loaded once per agent.
$(BUILD)/torvyn_exec.skel.h: $(BUILD)/bpf/exec.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name torvyn_exec_bpf >$@

# ---------------------------------------------------------------- torvyn-trace
# user/trace/ is layered into folders (cli/, core/, render/, ...): every
# folder is on the include path; proto/ holds .proto files only.
TRACE_DIRS := $(shell find user/trace -type d -not -path 'user/trace/proto*')
TRACE_SRCS := $(foreach d,$(TRACE_DIRS),$(wildcard $(d)/*.c))
TRACE_HDRS := $(foreach d,$(TRACE_DIRS),$(wildcard $(d)/*.h)) $(wildcard include/*.h) $(GEN_HDRS)
TRACE_INC := $(addprefix -I,$(TRACE_DIRS))
TRACE_OBJS := $(TRACE_SRCS:user/trace/%.c=$(BUILD)/trace/%.o)
# top's terminal view: Debian's ncurses (wide-character build).
NCURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
LDLIBS_TRACE := -lbpf -lelf -lz -ljansson -lmicrohttpd -lcurl -lprotobuf-c -lm -pthread \
	$(NCURSES_LIBS)

$(BUILD)/trace/%.o: user/trace/%.c $(TRACE_HDRS) $(BUILD)/torvyn.skel.h $(BUILD)/torvyn_exec.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(TRACE_INC) -c $< -o $@

# The tracer shares the host's head-sampling decision (usdt/sampling.c).
$(BUILD)/torvyn-trace: $(TRACE_OBJS) $(BUILD)/rt/sampling.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_TRACE) -o $@

# ---------------------------------------------------------------- protobuf
# OTLP messages (user/trace/proto/, upstream's package, message and field
# names and numbers) -> build/proto/**/*.pb-c.{c,h} -> build/proto/**/*.pb-c.o,
# linked into torvyn-trace. One protoc-c run per .proto; every object and every
# user of the OTLP encoders (render/otlp_*.c) waits for all the headers, since
# they include one another.
# The tests' independent decoder (tests/unit/otlp_decode.py) wants protoc and
# python3-protobuf; the gRPC tests want grpcio.
DEB_PKGS += protobuf-compiler python3-protobuf python3-grpcio

PROTOC_C ?= protoc-c
PROTO_DIR := user/trace/proto
PROTO_SRCS := $(sort $(shell find $(PROTO_DIR) -name '*.proto'))
PROTO_GEN_C := $(PROTO_SRCS:$(PROTO_DIR)/%.proto=$(BUILD)/proto/%.pb-c.c)
PROTO_HDRS := $(PROTO_GEN_C:.c=.h)
PROTO_OBJS := $(PROTO_GEN_C:.c=.o)
CFLAGS += -I$(BUILD)/proto

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: $(PROTO_DIR)/%.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)$(PROTOC_C) --c_out=$(BUILD)/proto -I$(PROTO_DIR) $<

$(PROTO_OBJS): $(BUILD)/proto/%.o: $(BUILD)/proto/%.c $(PROTO_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

TRACE_OBJS += $(PROTO_OBJS)
$(TRACE_OBJS): $(PROTO_HDRS)
$(BUILD)/torvyn-trace: $(PROTO_OBJS)
$(BUILD)/tests/test_otlp: $(PROTO_HDRS)

# make bench only: a tracer whose Level 2 reads each batch of step records and
# aggregates nothing (bpf/invoke.bpf.c), the floor of delivering them.
$(BUILD)/trace-bho/loader.o: user/trace/core/loader.c $(TRACE_HDRS) $(BUILD)/torvyn.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DTVN_BENCH_BATCH_HITS_ONLY $(TRACE_INC) -c $< -o $@

$(BUILD)/torvyn-trace-batch-hits-only: $(filter-out $(BUILD)/trace/core/loader.o,$(TRACE_OBJS)) \
		$(BUILD)/trace-bho/loader.o $(BUILD)/rt/sampling.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_TRACE) -o $@

# ---------------------------------------------------------------- unit tests
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Each unit test links only the module it tests (tests/unit/modules.mk).
include tests/unit/modules.mk

.SECONDEXPANSION:
$(BUILD)/tests/test_%: tests/unit/test_%.c $$(UNIT_DEPS_$$*) $(HOST_HDRS) $(TRACE_HDRS) \
		$(wildcard tests/unit/*.h) $(BUILD)/torvyn_probes_gen.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_INC) $(TRACE_INC) $< $(UNIT_DEPS_$*) -lcmocka $(UNIT_LIBS_$*) -o $@

# ---------------------------------------------------------------- fuzzing
# libFuzzer harnesses (tests/fuzz/): clang, with ASan and UBSan, each linking
# only what it fuzzes. `make test` runs each on its corpus and then FUZZ_TEST_SECONDS;
# `make fuzz` runs each FUZZ_SECONDS, its finds kept in $(BUILD)/fuzz/new/NAME;
# `make fuzz-merge` adds those that reach new code to tests/fuzz/corpus/NAME.
include tests/fuzz/fuzz.mk
FUZZ_CFLAGS = $(filter-out -O2,$(CFLAGS)) -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 10

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $$(FUZZ_DEPS_$$*) $(HOST_HDRS) \
		$(TRACE_HDRS) $(PROTO_HDRS) $(BUILD)/torvyn_probes_gen.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(HOST_INC) $(TRACE_INC) -Itests/fuzz $< $(FUZZ_DEPS_$*) \
		$(FUZZ_LIBS_$*) -o $@

.PHONY: fuzz-bins fuzz fuzz-merge
fuzz-bins: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 SUITES=fuzz ./tests/run.sh

fuzz-merge: $(FUZZ_BINS)
	$(Q)for n in $(FUZZ_NAMES); do \
		mkdir -p tests/fuzz/corpus/$$n $(BUILD)/fuzz/new/$$n; \
		$(BUILD)/fuzz/fuzz_$$n -merge=1 tests/fuzz/corpus/$$n $(BUILD)/fuzz/new/$$n \
			2>&1 | grep -E '^MERGE-OUTER: [0-9]+ new files' || exit 1; \
	done

# ---------------------------------------------------------------- integration programs
# Programs the integration tests run. multi_session links the tracer's modules
# without its command line (cli/): many sessions in one process, and proof
# that the core stands without the verbs.
TRACE_LIB_OBJS := $(filter-out $(BUILD)/trace/cli/%,$(TRACE_OBJS))
$(BUILD)/integ/multi_session: tests/integration/multi_session.c $(TRACE_LIB_OBJS) \
		$(BUILD)/rt/sampling.o $(TRACE_HDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(TRACE_INC) $< $(TRACE_LIB_OBJS) $(BUILD)/rt/sampling.o \
		$(LDLIBS_TRACE) -o $@
INTEG_BINS := $(BUILD)/integ/multi_session

$(BUILD)/trace/cli/main.o $(BUILD)/host/main.o $(BUILD)/host-np/main.o $(BUILD)/host-co/main.o: \
	private CFLAGS += -DTVN_VERSION='"$(FULL_VERSION)"'
$(BUILD)/trace/cli/main.o $(BUILD)/host/main.o $(BUILD)/host-np/main.o $(BUILD)/host-co/main.o: \
	$(BUILD)/version.txt

# A runtime written against the headers (tests/integration/probe_host.c):
# an executable, the same code as a shared object its main links, and one
# that tests its production gate without a site (test_usdt_host.sh).
PROBE_HOST_DEPS := tests/integration/probe_host.c tests/integration/probe_host_main.c \
	$(BUILD)/torvyn_probes_gen.h $(GEN_HDRS) include/torvyn_abi.h include/torvyn_probes.h \
	$(BUILD)/torvyn_probes_sem.o
$(BUILD)/integ/probe_host: $(PROBE_HOST_DEPS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIE -pie tests/integration/probe_host_main.c \
		tests/integration/probe_host.c $(BUILD)/torvyn_probes_sem.o -o $@
$(BUILD)/integ/probe_host_nogate: $(PROBE_HOST_DEPS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -DPROBE_HOST_NO_GATE_SITE tests/integration/probe_host_main.c \
		tests/integration/probe_host.c $(BUILD)/torvyn_probes_sem.o -o $@
$(BUILD)/integ/libprobehost.so: $(PROBE_HOST_DEPS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared tests/integration/probe_host.c \
		$(BUILD)/torvyn_probes_sem.o -o $@
$(BUILD)/integ/probe_host_shared: tests/integration/probe_host_main.c $(BUILD)/integ/libprobehost.so
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Iinclude $< -L$(BUILD)/integ -lprobehost -Wl,-rpath,'$$ORIGIN' -o $@
# the same with no probe in the executable: only the library is a host
$(BUILD)/integ/probe_host_embedded: tests/integration/probe_host_main.c $(BUILD)/integ/libprobehost.so
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Iinclude -DPROBE_HOST_MAIN_NO_SITE $< -L$(BUILD)/integ -lprobehost \
		-Wl,-rpath,'$$ORIGIN' -o $@
INTEG_BINS += $(BUILD)/integ/probe_host $(BUILD)/integ/probe_host_nogate \
	$(BUILD)/integ/probe_host_shared $(BUILD)/integ/probe_host_embedded

# ---------------------------------------------------------------- top level
ALL := $(BUILD)/torvyn-host $(BUILD)/torvyn-host-noprobes $(PLUGINS) $(BUILD)/torvyn-trace \
	$(LIB_A) $(LIB_SO) $(LIB_PC)

.PHONY: all
all: $(ALL)

$(BUILD) $(BUILD)/rt $(BUILD)/host $(BUILD)/host-np $(BUILD)/host-co $(BUILD)/tests $(BUILD)/plugins $(BUILD)/trace $(BUILD)/bpf:
	$(Q)mkdir -p $@

.PHONY: unit
unit: $(UNIT_BINS) $(INTEG_BINS)

# make test SANITIZE=1: the unit tests and short attach sessions
# (tests/fuzz/san_attach.sh) with the sanitized programs of build-san/.
.PHONY: test
test: deps
ifeq ($(SANITIZE),1)
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)BUILD=$(BUILD) SUITES="unit san" ./tests/run.sh
else
	$(Q)$(MAKE) --no-print-directory all unit fuzz-bins $(BUILD)/torvyn-trace-batch-hits-only
	$(Q)FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) ./tests/run.sh
endif

.PHONY: bench
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/torvyn-host-clocks-only \
		$(BUILD)/torvyn-trace-batch-hits-only
	$(Q)python3 tools/bench_overhead.py

.PHONY: run
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tools/run-demo.sh

# ---------------------------------------------------------------- install
# tests/integration/test_install.sh verifies the unit with systemd-analyze;
# test_contrib.sh reads contrib/'s YAML with python3-yaml.
DEB_PKGS += systemd python3-yaml

# make install [PREFIX=/usr/local] [DESTDIR=]: torvyn-trace to sbin (it runs
# with BPF and ptrace privileges, an administrator's command), torvyn-host to
# bin, the agent's systemd unit disabled: nothing is enabled or started.
# PREFIX=/usr is Debian's own place: units then go to /lib/systemd/system
# (bookworm's systemdsystemunitdir); any other prefix keeps them under it
# (/usr/local/lib/systemd/system is on systemd's unit path). The unit's
# ExecStart is rewritten to the sbin it was installed with.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
UNIT := torvyn-trace-agent.service
INSTALLED := $(DESTDIR)$(SBINDIR)/torvyn-trace $(DESTDIR)$(BINDIR)/torvyn-host \
	$(DESTDIR)$(UNITDIR)/$(UNIT)

.PHONY: install uninstall
install: $(BUILD)/torvyn-trace $(BUILD)/torvyn-host contrib/systemd/$(UNIT)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BUILD)/torvyn-trace $(DESTDIR)$(SBINDIR)/torvyn-trace
	$(Q)install -D -m 0755 $(BUILD)/torvyn-host $(DESTDIR)$(BINDIR)/torvyn-host
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|^ExecStart=/usr/sbin/torvyn-trace |ExecStart=$(SBINDIR)/torvyn-trace |' \
		contrib/systemd/$(UNIT) >$(DESTDIR)$(UNITDIR)/$(UNIT)
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/$(UNIT)

uninstall:
	$(call msg,RM,$(INSTALLED))
	$(Q)rm -f $(INSTALLED)

# ---------------------------------------------------------------- install: libtorvyn-probes
# The library (archive, shared object and its two links), its headers under
# torvyn/, the probe contract (torvyn.d, for dtrace -G or bpftrace) and the
# pkg-config file, written for the PREFIX it is installed with.
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
LIB_INSTALLED := $(DESTDIR)$(LIBDIR)/libtorvyn-probes.a \
	$(DESTDIR)$(LIBDIR)/libtorvyn-probes.so.$(LIB_VERSION) \
	$(DESTDIR)$(LIBDIR)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libtorvyn-probes.so \
	$(DESTDIR)$(INCLUDEDIR)/torvyn/probes.h $(DESTDIR)$(INCLUDEDIR)/torvyn/torvyn_abi.h \
	$(DESTDIR)$(DATADIR)/torvyn/torvyn.d $(DESTDIR)$(LIBDIR)/pkgconfig/torvyn-probes.pc
PC_SED = -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	-e 's|@DATADIR@|$(DATADIR)|' -e 's|@VERSION@|$(LIB_VERSION)|'

# Rewritten when PREFIX or a directory changes, not otherwise.
$(LIB_PC): usdt/torvyn-probes.pc.in FORCE | $(BUILD)
	$(Q)sed $(PC_SED) $< >$@.tmp && (cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@)

.PHONY: install-lib uninstall-lib FORCE
FORCE:
install: install-lib
uninstall: uninstall-lib
install-lib: $(LIB_A) $(LIB_SO) $(LIB_PC)
	$(call msg,INSTALL,libtorvyn-probes)
	$(Q)install -D -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libtorvyn-probes.a
	$(Q)install -D -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libtorvyn-probes.so.$(LIB_VERSION)
	$(Q)ln -sf libtorvyn-probes.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	$(Q)ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libtorvyn-probes.so
	$(Q)install -D -m 0644 include/torvyn/probes.h $(DESTDIR)$(INCLUDEDIR)/torvyn/probes.h
	$(Q)install -D -m 0644 include/torvyn_abi.h $(DESTDIR)$(INCLUDEDIR)/torvyn/torvyn_abi.h
	$(Q)install -D -m 0644 usdt/torvyn.d $(DESTDIR)$(DATADIR)/torvyn/torvyn.d
	$(Q)install -D -m 0644 $(LIB_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/torvyn-probes.pc

uninstall-lib:
	$(call msg,RM,libtorvyn-probes)
	$(Q)rm -f $(LIB_INSTALLED)

# ---------------------------------------------------------------- install: manual pages
# Manual pages (docs/man/, roff written by hand): torvyn-trace(8), torvyn-host(1),
# torvyn-probes(7), gzip'd -9n into MANDIR/manN as Debian installs them.
# tests/integration/test_man.sh lints them and checks they name every verb and option.
DEB_PKGS += groff-base man-db
MANDIR ?= $(PREFIX)/share/man
MAN_PAGES := torvyn-trace.8 torvyn-host.1 torvyn-probes.7
MAN_INSTALLED := $(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m).gz)

.PHONY: install-man uninstall-man
install: install-man
uninstall: uninstall-man
install-man: $(MAN_PAGES:%=docs/man/%)
	$(Q)for m in $(MAN_PAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}; install -d $$d && \
		gzip -9n <docs/man/$$m >$$d/$$m.gz && chmod 0644 $$d/$$m.gz || exit 1; \
	done

uninstall-man:
	$(Q)rm -f $(MAN_INSTALLED)

.PHONY: clean
clean:
	rm -rf build build-san
