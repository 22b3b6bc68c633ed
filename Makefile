# ngx_rbac: `make` builds everything into build/, `make test` runs every test.
# Each part keeps its rules in its own fragment, included below.

BUILD      ?= build
CC         ?= cc
PYTHON     ?= /usr/bin/python3

# nginx's own warning flags: core/ must build clean under them.
WARN       := -W -Wall -Wpointer-arith -Wno-unused-parameter -Werror
CSTD       := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
CFLAGS     ?= -O2 -g
CORE_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Icore -I$(BUILD)/gen
CORE_LIBS  := -lcjson -ljwt -lcrypto -lpcre2-8

.PHONY: all test clean run
all:

# Keep intermediate objects (sanitized core, fuzz flavour) between builds.
.SECONDARY:

include core/core.mk
include cli/cli.mk
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk
include ngx_rbac_module/module.mk
include tests/integration/integration.mk
include bench/bench.mk
include packaging/deb.mk

# The README's test command: every suite, in order of cost.
test: test-unit test-layers test-conformance test-fuzz-smoke test-integration

# The quickstart: redis + nginx + demo upstreams on loopback (scripts/run.sh).
run:
	bash scripts/run.sh

clean:
	rm -rf $(BUILD)
