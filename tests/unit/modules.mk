# What each unit test links: UNIT_DEPS_<name> for tests/unit/test_<name>.c.
UNIT_DEPS_trace_context := usdt/trace_context.c
UNIT_DEPS_sampling := usdt/sampling.c usdt/trace_context.c
UNIT_DEPS_histogram := usdt/histogram.c
UNIT_DEPS_span_ring := usdt/span_ring.c
UNIT_LIBS_sampling := -lm
UNIT_DEPS_pipeline := user/host/pipeline/json_pos.c user/host/pipeline/json_read.c \
	user/host/pipeline/load.c user/host/pipeline/load_comp.c user/host/pipeline/topology.c
UNIT_LIBS_pipeline := -ljansson
UNIT_DEPS_prom := user/trace/prom.c user/trace/metric_model.c
UNIT_DEPS_usdt_elf := user/trace/usdt_elf.c user/trace/log.c
UNIT_LIBS_usdt_elf := -lelf
UNIT_LIBS_prom := -Wl,--wrap=realloc
UNIT_DEPS_otlp := user/trace/otlp.c user/trace/metric_model.c \
	$(BUILD)/proto/opentelemetry/proto/common/v1/common.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/resource/v1/resource.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/trace/v1/trace.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/metrics/v1/metrics.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/collector/trace/v1/trace_service.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.c
UNIT_LIBS_otlp := -lprotobuf-c -ljansson
UNIT_DEPS_bench := user/trace/bench.c
UNIT_LIBS_bench := -ljansson -lm
UNIT_DEPS_exporter := user/trace/exporter.c user/trace/otlp.c user/trace/metric_model.c \
	user/trace/log.c \
	$(BUILD)/proto/opentelemetry/proto/common/v1/common.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/resource/v1/resource.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/trace/v1/trace.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/metrics/v1/metrics.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/collector/trace/v1/trace_service.pb-c.c \
	$(BUILD)/proto/opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.c
# log_printf and the JSON encoder are wrapped: the test reads the warnings and
# checks that a multi-line encoding still goes out as one line.
UNIT_LIBS_exporter := -lcurl -lz -lprotobuf-c -ljansson -pthread -Wl,--wrap=log_printf \
	-Wl,--wrap=otlp__encode_traces_json
UNIT_DEPS_clock := usdt/clock.c
