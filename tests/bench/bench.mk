# Benchmarks (make bench): loopback workloads, floor BPF programs and their
# loaders, the collector's ingest benchmark, built into $(BUILD)/bench/;
# tests/bench/run.sh runs and compares.
BENCH_DIR     := $(BUILD)/bench
BENCH_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I$(BENCH_DIR)
BENCH_BPF     := empty_uprobe write_floor
BENCH_LOADERS := $(addprefix $(BENCH_DIR)/,$(BENCH_BPF))
BENCH_LOADS   := $(addprefix $(BENCH_DIR)/,tls_client tls_server write_load exec_loop rss_load)
# The Go workload (go-tls and h2 benchmarks) is built only where Go is installed.
GO            ?= $(shell command -v go 2>/dev/null)
BENCH_GO      := $(if $(GO),$(BENCH_DIR)/go_tls_client)
BENCH_BINS    := $(BENCH_LOADERS) $(BENCH_LOADS) $(BENCH_DIR)/ingest_bench $(BENCH_DIR)/loadgen \
                 $(BENCH_DIR)/replay_bench \
                 $(BENCH_DIR)/query_bench $(BENCH_GO)
ROUNDS        ?= 7

.PHONY: bench-bins

bench-bins: $(BENCH_BINS)

bench: $(BUILD)/tokentap $(BUILD)/tokentap-collector $(BENCH_BINS)
	ROUNDS=$(ROUNDS) tests/bench/run.sh $(BUILD)

$(BENCH_DIR):
	mkdir -p $@

$(BENCH_DIR)/%.bpf.o: tests/bench/%.bpf.c vmlinux/$(ARCH)/vmlinux.h | $(BENCH_DIR)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -Wno-unused-parameter \
		-Ivmlinux/$(ARCH) -c $< -o $@

$(BENCH_DIR)/%.skel.h: $(BENCH_DIR)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Loaders: one C file each, built against the skeleton of their BPF object.
$(BENCH_LOADERS): $(BENCH_DIR)/%: tests/bench/%.c $(BENCH_DIR)/%.skel.h tests/bench/tracefs.h
	$(CC) $(BENCH_CFLAGS) $(LOADER_INC) -o $@ $< $(LOADER_OBJS) -lbpf -lelf -lz $(LOADER_LIBS)

# The empty call-site probe chooses its sites with the sensor's own code.
EMPTY_UPROBE_OBJS := $(addprefix $(BUILD)/obj/elf/,elfsym.o probe_site.o probepoint.o)
$(BENCH_DIR)/empty_uprobe: $(EMPTY_UPROBE_OBJS)
$(BENCH_DIR)/empty_uprobe: LOADER_INC = $(INC_elf)
$(BENCH_DIR)/empty_uprobe: LOADER_OBJS = $(EMPTY_UPROBE_OBJS)
$(BENCH_DIR)/empty_uprobe: LOADER_LIBS = -lcapstone

# TLS workloads link libssl dynamically so uprobes on libssl.so.3 see them.
$(BENCH_DIR)/tls_client $(BENCH_DIR)/tls_server: $(BENCH_DIR)/%: tests/bench/%.c | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lssl -lcrypto

$(BENCH_DIR)/write_load: tests/bench/write_load.c | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/exec_loop: tests/bench/exec_loop.c | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -ldl

$(BENCH_DIR)/rss_load: tests/bench/rss_load.c user/common/numarg.c | $(BENCH_DIR)
	$(CC) $(BENCH_CFLAGS) -Iuser/common -o $@ $^

# Standard library only; a private cache in the build directory. Not
# stripped: the empty-uprobe floor finds crypto/tls.(*Conn).Write by symbol.
$(BENCH_DIR)/go_tls_client: tests/bench/go_tls_client/main.go | $(BENCH_DIR)
	cd $(BENCH_DIR) && GOCACHE=$(abspath $(BENCH_DIR))/gocache GOPATH=$(abspath $(BENCH_DIR))/gopath \
		CGO_ENABLED=0 GOFLAGS= GOTOOLCHAIN=local $(GO) build -o $(abspath $@) $(abspath $<)

# The ingest benchmark links the collector's objects exactly as the
# collector binary uses them (same flags, no sanitizers), minus main().
BENCH_COLL_OBJS := $(filter-out $(BUILD)/obj/collector/main.o,$(COLL_OBJS))

$(BENCH_DIR)/ingest_bench: tests/bench/ingest_bench.c tests/unit/batch_fixture.h $(BENCH_COLL_OBJS) \
		| $(BENCH_DIR)
	$(CC) $(BASE_CFLAGS) $(INC_collector) -Itests/unit -o $@ $< $(BENCH_COLL_OBJS) $(COLL_LDLIBS)

$(BENCH_DIR)/query_bench: tests/bench/query_bench.c tests/unit/batch_fixture.h $(BENCH_COLL_OBJS) \
		| $(BENCH_DIR)
	$(CC) $(BASE_CFLAGS) $(INC_collector) -Itests/unit -o $@ $< $(BENCH_COLL_OBJS) $(COLL_LDLIBS)

# The fleet simulator links the collector's objects for its token-file
# reader; its fleet model (fleet.c, pure logic) is unit-tested alone.
LOADGEN_DIR  := tests/bench/loadgen
LOADGEN_SRCS := $(wildcard $(LOADGEN_DIR)/*.c)

$(BENCH_DIR)/loadgen: $(LOADGEN_SRCS) $(wildcard $(LOADGEN_DIR)/*.h) tests/unit/batch_fixture.h \
		$(BENCH_COLL_OBJS) | $(BENCH_DIR)
	$(CC) $(BASE_CFLAGS) $(INC_collector) -Itests/unit -I$(LOADGEN_DIR) -o $@ $(LOADGEN_SRCS) \
		$(BENCH_COLL_OBJS) $(COLL_LDLIBS)

# An explicit rule: the fleet model instead of the sanitized library.
$(BUILD)/tests/test_fleet: tests/unit/test_fleet.c $(LOADGEN_DIR)/fleet.c $(LOADGEN_DIR)/fleet.h
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -I$(LOADGEN_DIR) -o $@ $< $(LOADGEN_DIR)/fleet.c -lcmocka

# Keep the BPF objects and skeletons: they are worth inspecting with bpftool.
.SECONDARY: $(foreach b,$(BENCH_BPF),$(BENCH_DIR)/$(b).bpf.o $(BENCH_DIR)/$(b).skel.h)

# The replay benchmark links the pipeline and what it builds on exactly as
# the sensor binary uses them (same objects, same flags), no BPF.
REPLAY_DIRS := common protocol credential process pipeline
REPLAY_OBJS := $(call obj_of,$(call srcs_in,$(REPLAY_DIRS)),obj)

# tests/unit/h2_build.h: the HTTP/2 bytes are built as the unit tests build them.
$(BENCH_DIR)/replay_bench: tests/bench/replay_bench.c tests/unit/h2_build.h $(REPLAY_OBJS) | $(BENCH_DIR)
	$(CC) $(BASE_CFLAGS) $(INC_pipeline) -Itests/unit -o $@ $< $(REPLAY_OBJS) -lcrypto -ljson-c -lz -lm
