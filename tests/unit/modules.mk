# What each unit test links: UNIT_DEPS_<name> for tests/unit/test_<name>.c.
# The metric model: the catalogue and its walk (user/trace/model/).
MODEL_SRCS := user/trace/model/metric_model.c user/trace/model/metric_catalog.c \
	user/trace/model/metric_names.c \
	user/trace/core/names.c
UNIT_DEPS_trace_context := usdt/trace_context.c
UNIT_DEPS_sampling := usdt/sampling.c usdt/trace_context.c
UNIT_DEPS_histogram := usdt/histogram.c usdt/clock.c
UNIT_DEPS_span_ring := usdt/span_ring.c
UNIT_LIBS_sampling := -lm
UNIT_DEPS_pipeline := user/host/pipeline/json_pos.c user/host/pipeline/json_read.c \
	user/host/pipeline/load.c user/host/pipeline/load_comp.c user/host/pipeline/topology.c \
	user/host/pipeline/load_json.c
UNIT_LIBS_pipeline := -ljansson
# The host's file I/O: lines, records, errors and stops.
UNIT_DEPS_io := user/host/io.c
UNIT_LIBS_io := -pthread
PROM_TEST_SRCS := user/trace/render/prom.c user/trace/render/bounds.c $(MODEL_SRCS) \
	tests/unit/prom_fixture.c tests/unit/prom_check.c
UNIT_DEPS_prom := $(PROM_TEST_SRCS)
UNIT_DEPS_prom_families := $(PROM_TEST_SRCS)
# One vocabulary: the OTLP-to-Prometheus name translation against the catalogue.
UNIT_DEPS_metric_names := $(MODEL_SRCS)
UNIT_DEPS_usdt_elf := user/trace/core/usdt_elf.c user/trace/core/usdt_arg.c user/trace/core/usdt_proc.c user/trace/util/log.c
UNIT_LIBS_usdt_elf := -lelf
UNIT_LIBS_prom := -Wl,--wrap=realloc
# The protobuf-c code generated from user/trace/proto/.
OTLP_PROTO_SRCS := $(addprefix $(BUILD)/proto/opentelemetry/proto/,common/v1/common.pb-c.c \
	resource/v1/resource.pb-c.c trace/v1/trace.pb-c.c metrics/v1/metrics.pb-c.c \
	collector/trace/v1/trace_service.pb-c.c collector/metrics/v1/metrics_service.pb-c.c)
UNIT_DEPS_otlp := $(wildcard user/trace/render/otlp_*.c) user/trace/render/bounds.c $(MODEL_SRCS) \
	$(OTLP_PROTO_SRCS) tests/unit/otlp_fixture.c
UNIT_LIBS_otlp := -lprotobuf-c -ljansson
# The report half of bench/: everything but run.c, sample.c and window.c (a session).
BENCH_REPORT_SRCS := $(addprefix user/trace/bench/,report.c fmt.c table.c human.c json.c csv.c stats.c \
	baseline.c compare.c hist.c)
UNIT_DEPS_bench := $(BENCH_REPORT_SRCS) tests/unit/bench_fixture.c
UNIT_LIBS_bench := -ljansson -lm
UNIT_DEPS_bench_compare := $(BENCH_REPORT_SRCS) tests/unit/bench_fixture.c
UNIT_LIBS_bench_compare := -ljansson -lm
UNIT_DEPS_bench_stats := $(BENCH_REPORT_SRCS) tests/unit/bench_fixture.c
UNIT_LIBS_bench_stats := -ljansson -lm
UNIT_DEPS_bench_hist := user/trace/bench/hist.c
UNIT_LIBS_bench_hist := -lm
EXPORTER_TEST_SRCS := $(wildcard user/trace/export/*.c) $(wildcard user/trace/render/otlp_*.c) \
	user/trace/render/bounds.c $(MODEL_SRCS) user/trace/util/log.c user/trace/util/ratelimit.c $(OTLP_PROTO_SRCS) \
	tests/unit/otlp_rx.c
UNIT_DEPS_exporter := $(EXPORTER_TEST_SRCS)
# tvn_log__printf and the JSON encoder are wrapped: the test reads the warnings and
# checks that a multi-line encoding still goes out as one line.
UNIT_LIBS_exporter := -lcurl -lz -lprotobuf-c -ljansson -pthread -Wl,--wrap=tvn_log__printf \
	-Wl,--wrap=tvn_otlp__encode_traces_json -Wl,--wrap=tvn_otlp__encode_traces_many_json
UNIT_DEPS_exporter_many := $(EXPORTER_TEST_SRCS) tests/unit/otlp_fixture.c
UNIT_LIBS_exporter_many := -lcurl -lz -lprotobuf-c -ljansson -pthread
UNIT_DEPS_export_env := user/trace/export/env.c user/trace/export/url.c
UNIT_LIBS_export_env := -lcurl
UNIT_DEPS_clock := usdt/clock.c usdt/histogram.c
# The probe list against torvyn.d; the semaphores come from dtrace -G.
UNIT_DEPS_probe_list := $(BUILD)/torvyn_probes_sem.o
# The one name resolver: the store (spans) against the metric walk (labels).
UNIT_DEPS_names := user/trace/core/store.c user/trace/util/log.c $(MODEL_SRCS)
UNIT_LIBS_names := -pthread
# top: the Prometheus text parser alone; then frames, rates, lines and JSON over it.
UNIT_DEPS_promtext := user/trace/top/promtext.c
TOP_FRAME_SRCS := $(addprefix user/trace/top/,promtext.c frame.c rates.c lines.c json.c) \
	user/trace/core/level.c
UNIT_DEPS_top_frame := $(TOP_FRAME_SRCS)
UNIT_LIBS_top_frame := -ljansson -lm
# The control protocol's scrape, client and server (the session is stubbed).
UNIT_DEPS_control := user/trace/serve/control.c user/trace/core/level.c user/trace/core/err.c \
	user/trace/util/log.c user/trace/util/ratelimit.c
UNIT_LIBS_control := -pthread
UNIT_DEPS_ratelimit := user/trace/util/ratelimit.c
# The scrape cache: one render per snapshot, shared by reference.
UNIT_DEPS_scrape_cache := user/trace/serve/scrape_cache.c
UNIT_LIBS_scrape_cache := -lz -pthread
# libtorvyn-probes: its sources and the semaphores of dtrace -G.
UNIT_DEPS_probes_lib := $(LIB_SRCS) $(BUILD)/torvyn_probes_sem.o
UNIT_LIBS_probes_lib := -pthread
