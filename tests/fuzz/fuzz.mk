# tests/fuzz/: libFuzzer targets (clang), one per tests/fuzz/fuzz_*.c, each
# linked with core/ compiled again as the `fuzz` flavour (build/fuzz/core).
# Seeds of target fuzz_<name> live in tests/fuzz/corpus/<name>/; what
# fuzzing finds goes to build/fuzz/corpus/<target>/, crashes to
# build/fuzz/artifacts/.
#
#   make fuzz              each target for FUZZ_SECONDS (default 60)
#   make test-fuzz-smoke   build all, replay the seeds, fuzz each for
#                          FUZZ_SMOKE_SECONDS (default 5); fails on a crash

FUZZ_CC            ?= clang-14
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SAN           := -fsanitize=address,undefined -fno-sanitize-recover=all \
                      -fno-omit-frame-pointer
FUZZ_CFLAGS        := $(CSTD) $(WARN) -g -O1 -Icore -I$(BUILD)/gen \
                      -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_OPTS          := -timeout=10 -rss_limit_mb=2048

FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))
CORE_FUZZ    := $(call core_objs,fuzz)

$(BUILD)/fuzz/core/%.o: core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/core/rbac_catalog_data.o: $(CATALOG_C)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(CORE_FUZZ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) -g -O1 -Icore -I$(BUILD)/gen \
	    -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(CORE_FUZZ) $(CORE_LIBS)

.PHONY: fuzz test-fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; mkdir -p $(BUILD)/fuzz/artifacts; \
	for t in $(FUZZ_TARGETS); do \
	    echo "== $$t ($(FUZZ_SECONDS)s)"; \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t; \
	    $(BUILD)/fuzz/$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- \
	        $(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$${t#fuzz_}; \
	done

test-fuzz-smoke: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "== $$t: seeds"; \
	    $(BUILD)/fuzz/$$t $(FUZZ_OPTS) -runs=0 tests/fuzz/corpus/$${t#fuzz_} \
	        2>$(BUILD)/fuzz/$$t.replay.log \
	        || { cat $(BUILD)/fuzz/$$t.replay.log; exit 1; }; \
	    echo "== $$t: $(FUZZ_SMOKE_SECONDS)s"; \
	    rm -rf $(BUILD)/fuzz/smoke/$$t; mkdir -p $(BUILD)/fuzz/smoke/$$t \
	        $(BUILD)/fuzz/artifacts; \
	    $(BUILD)/fuzz/$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
	        -artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- \
	        $(BUILD)/fuzz/smoke/$$t tests/fuzz/corpus/$${t#fuzz_} \
	        2>$(BUILD)/fuzz/$$t.smoke.log \
	        || { tail -60 $(BUILD)/fuzz/$$t.smoke.log; exit 1; }; \
	done; echo "fuzz smoke: $(words $(FUZZ_TARGETS)) targets clean"
