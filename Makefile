# orc build: `make` builds build/orcd and build/orctl; see README.md for the rest.
# Sources are discovered per folder, so adding a file needs no Makefile edit.

BUILD   ?= build
SAN     ?= 0
O       := $(BUILD)
ifeq ($(SAN),1)
O       := $(BUILD)-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# FUZZ=1 (set by `make fuzz` and `make test` themselves): liborc and the
# libFuzzer targets tests/fuzz/fuzz_*.c, built with clang into build-fuzz/.
FUZZ    ?= 0
FUZZ_O  := $(BUILD)-fuzz
ifeq ($(FUZZ),1)
O       := $(FUZZ_O)
CC      := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
endif

CC      ?= cc
PKGS    := libuv raft sqlite3 jansson yaml-0.1 openssl ldns zlib
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
OPT     ?= -O2
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Werror -I. -I$(LLHTTP_INC) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SANFLAGS) $(EXTRA_CFLAGS)
# libwslay: WebSocket framing for exec/attach (Debian's libwslay-dev ships no
# .pc file, so plain -lwslay unless one is found).
WSLAY_LIBS := $(shell pkg-config --libs libwslay 2>/dev/null || echo -lwslay)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(WSLAY_LIBS) -lutil -lm -lpthread
LDFLAGS := $(SANFLAGS)

LIB_DIRS := lib store apiserver client dns proxy netpol ingress agent scheduler controllers
# The fuzz targets parse what reaches the API, the store and orctl; the node
# agent (netlink, containers) is left out of their build.
ifeq ($(FUZZ),1)
LIB_DIRS := lib store apiserver client dns
endif
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)
LLHTTP_OBJS := $(O)/obj/llhttp/api.o $(O)/obj/llhttp/http.o $(O)/obj/llhttp/llhttp.o
ORCD_OBJS := $(filter-out $(O)/obj/orcd/shim_main.o,$(patsubst %.c,$(O)/obj/%.o,$(wildcard orcd/*.c)))
# orc-shim links statically (only libc and jansson), except under the
# sanitizers, which need their shared runtimes.
SHIM_STATIC := $(if $(filter 1,$(SAN)),,-static)
ORCTL_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(wildcard cli/*.c))
# orctl's pieces without its main(), for the cli tests.
CLI_LIB_OBJS := $(filter-out $(O)/obj/cli/main.o,$(ORCTL_OBJS))

# Each tests/<dir>/*.c is one test program, linked with the harness and liborc.
HARNESS_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(wildcard tests/harness/*.c))
TEST_SRCS := $(filter-out tests/harness/% tests/bench/% tests/fuzz/%,$(wildcard tests/*/*.c))
BENCH_BINS := $(patsubst tests/%.c,$(O)/tests/%,$(wildcard tests/bench/*.c))
TEST_BINS := $(patsubst tests/%.c,$(O)/tests/%,$(TEST_SRCS))
# Each tests/fuzz/fuzz_<name>.c is a libFuzzer target, linked with liborc only.
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_O)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

.PHONY: all deps test bench dev clean tests fuzz fuzz-build fuzz-bins
all: $(O)/orcd $(O)/orctl $(O)/orc-shim

$(O)/liborc.a: $(LIB_OBJS) $(LLHTTP_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/orcd: $(ORCD_OBJS) $(O)/liborc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/orc-shim: $(O)/obj/orcd/shim_main.o $(O)/liborc.a
	$(CC) $(LDFLAGS) $(SHIM_STATIC) -o $@ $^ -ljansson -lpthread -lm

$(O)/orctl: $(ORCTL_OBJS) $(O)/liborc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Benchmark tools have their own main; they link only liborc.
$(O)/tests/bench/%: $(O)/obj/tests/bench/%.o $(O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Benchmarks written as test cases (pods: the node agent's; limits: the API
# port's) use the harness:
# its runner, cleanups, cluster and registry.
$(O)/tests/bench/pods $(O)/tests/bench/limits $(O)/tests/bench/sched $(O)/tests/bench/deploy \
$(O)/tests/bench/nodefail $(O)/tests/bench/netbed $(O)/tests/bench/services \
$(O)/tests/bench/podnet $(O)/tests/bench/ingress $(O)/tests/bench/kubectl \
$(O)/tests/bench/ssa $(O)/tests/bench/tables $(O)/tests/bench/metrics $(O)/tests/bench/hpa \
$(O)/tests/bench/agentmetrics: $(O)/tests/bench/%: $(O)/obj/tests/bench/%.o $(HARNESS_OBJS) $(O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fault benchmark (kill -9 of the leader, orc beside etcd) too.
$(O)/tests/bench/fault: $(O)/obj/tests/bench/fault.o $(HARNESS_OBJS) $(O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/cli/%: $(O)/obj/tests/cli/%.o $(HARNESS_OBJS) $(CLI_LIB_OBJS) $(O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/obj/tests/%.o $(HARNESS_OBJS) $(O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_O)/fuzz/%: $(FUZZ_O)/obj/tests/fuzz/%.o $(FUZZ_O)/liborc.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(O)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -w -I$(LLHTTP_INC) $(SANFLAGS) -c -o $@ $<

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

tests: all $(TEST_BINS)

deps:
	./scripts/deps.sh

# Built with every core (CI's machine has 2); the tests themselves run one
# program at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(JOBS) tests
	$(MAKE) -j$(JOBS) fuzz-build
	O=$(O) FUZZ_O=$(FUZZ_O) ./tests/run.sh $(T)

# The fuzz targets, built with clang (see FUZZ above).
fuzz-build:
	$(MAKE) FUZZ=1 fuzz-bins
fuzz-bins: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS with its corpus; crashes are saved as
# regression inputs in tests/fuzz/regress/<name>/ (see tests/fuzz/fuzz.sh).
fuzz: deps
	$(MAKE) fuzz-build
	FUZZ_O=$(FUZZ_O) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SAVE=1 ./tests/fuzz/fuzz.sh

bench: deps
	$(MAKE) all $(BENCH_BINS)
	O=$(O) ./tests/bench/run.sh

# make dev ARGS='--registries FILE ...': ARGS go to `orcd server`.
dev: deps
	$(MAKE) all
	./scripts/dev.sh $(ARGS)

clean:
	rm -rf build build-*

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
