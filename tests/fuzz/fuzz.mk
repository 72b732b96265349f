# The libFuzzer harnesses (tests/fuzz/fuzz_<name>.c) and what each links:
# FUZZ_DEPS_<name>, FUZZ_LIBS_<name>. Included by the Makefile after the unit
# tests' modules.mk, whose source lists it reuses.
FUZZ_NAMES := pipeline traceparent bench_json prom otlp http
FUZZ_DEPS_pipeline := $(UNIT_DEPS_pipeline)
FUZZ_LIBS_pipeline := -ljansson
FUZZ_DEPS_traceparent := usdt/trace_context.c
FUZZ_DEPS_bench_json := $(BENCH_REPORT_SRCS)
FUZZ_LIBS_bench_json := -ljansson -lm
FUZZ_DEPS_prom := user/trace/render/prom.c user/trace/render/bounds.c $(MODEL_SRCS)
FUZZ_DEPS_otlp := $(wildcard user/trace/render/otlp_*.c) user/trace/render/bounds.c \
	$(MODEL_SRCS) $(OTLP_PROTO_SRCS)
FUZZ_LIBS_otlp := -lprotobuf-c -ljansson
FUZZ_DEPS_http := user/trace/serve/http.c user/trace/serve/scrape_cache.c user/trace/render/prom.c \
	user/trace/render/bounds.c \
	$(MODEL_SRCS) user/trace/util/log.c
FUZZ_LIBS_http := -lmicrohttpd -lz -pthread
# How long a larger input may grow (the prom harness's snapshot takes kilobytes).
FUZZ_MAXLEN_prom := 32768
FUZZ_MAXLEN_otlp := 8192
