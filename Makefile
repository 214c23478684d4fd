# tokentap — the one build entry: make, make run, make test, make bench, make fuzz.
ARCH        ?= x86
CC          ?= gcc
CLANG       ?= clang
BPFTOOL     ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
BUILD       := build
VERSION     := 0.1.0

WARN        := -Wall -Wextra -Werror
CFLAGS      ?= -O2 -g
ALL_CFLAGS  := -std=c11 -D_GNU_SOURCE -DTOKENTAP_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
               -Iuser/lib -Ibpf -I$(BUILD) -fstack-protector-strong -D_FORTIFY_SOURCE=2
LIB_LDLIBS  := -lcrypto -ljson-c -lz -lcapstone
SENSOR_LDLIBS := -lbpf -lelf $(LIB_LDLIBS)

LIB_SRCS    := $(wildcard user/lib/*.c)
SENSOR_SRCS := $(wildcard user/sensor/*.c)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
BPF_HDRS    := $(wildcard bpf/*.h)

LIB_OBJS    := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
SENSOR_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(SENSOR_SRCS))

.PHONY: all clean run test unit e2e fuzz fuzz-short bench vmlinux deps

all: $(BUILD)/tokentap

# ---- BPF ---------------------------------------------------------------
# One object holds every capture program so a single skeleton loads them.
$(BUILD)/tokentap.bpf.o: $(BPF_SRCS) $(BPF_HDRS) vmlinux/$(ARCH)/vmlinux.h | $(BUILD)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -Wno-unused-parameter \
		-Ivmlinux/$(ARCH) -Ibpf -c bpf/tokentap.bpf.c -o $@

$(BUILD)/tokentap.skel.h: $(BUILD)/tokentap.bpf.o
	$(BPFTOOL) gen skeleton $< name tokentap_bpf > $@

# vmlinux.h is generated from the running kernel's BTF, never edited.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

# ---- userspace ---------------------------------------------------------
$(BUILD)/obj/%.o: user/%.c $(wildcard user/lib/*.h user/sensor/*.h) $(BPF_HDRS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SENSOR_OBJS): $(BUILD)/tokentap.skel.h

$(BUILD)/tokentap: $(SENSOR_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(SENSOR_LDLIBS)

$(BUILD):
	mkdir -p $(BUILD)

# ---- tests ---------------------------------------------------------------
# Unit tests link the pure libraries built with ASan and UBSan.
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

$(BUILD)/tests/%: tests/unit/%.c $(LIB_SRCS) $(wildcard user/lib/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -O1 $(SAN_FLAGS) -Itests/unit -o $@ $< $(LIB_SRCS) $(LIB_LDLIBS) -lcmocka

unit: $(UNIT_BINS)

FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(wildcard user/lib/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -Iuser/lib -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) $(LIB_LDLIBS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-short: $(FUZZ_BINS)
	tests/fuzz/run.sh 15 $(FUZZ_BINS)

# The README's test command: installs what is missing, builds, runs every suite.
test: deps
	$(MAKE) all unit $(FUZZ_BINS)
	tests/run_all.sh

# ---- run -----------------------------------------------------------------
run: deps
	$(MAKE) all
	scripts/run.sh

deps:
	@scripts/deps.sh

-include tests/bench/bench.mk

clean:
	rm -rf $(BUILD)
