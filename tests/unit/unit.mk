# tests/unit/: one cmocka binary per tests/unit/test_*.c, linked with the
# sanitized core (ASan + UBSan).  tests/unit/*.h are shared helpers.

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_HELPERS) $(wildcard tests/unit/*.h) \
                 $(CORE_SAN)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -O1 $(SAN_FLAGS) -Itests/unit -o $@ \
	    $< $(UNIT_HELPERS) $(CORE_SAN) $(CORE_LIBS) -lcmocka

.PHONY: test-unit test-conformance
test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
	    echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; \
	done

# Every conformance case through the offline evaluator.
test-conformance: $(BUILD)/rbacctl
	$(BUILD)/rbacctl eval --check tests/conformance/sample.jsonl > /dev/null
	@echo "conformance: $$(wc -l < tests/conformance/sample.jsonl) cases agree"
