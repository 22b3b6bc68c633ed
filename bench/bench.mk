# bench/: benchmarks, printed as ratios against a baseline of the same run.
.PHONY: bench bench-engine bench-http bench-instr bench-scale
bench: bench-engine bench-http

# The decision engine alone, -O2 over the plain core.  The malloc family is
# wrapped at link time so that the benchmark can count every allocation
# made by the core (and itself) during the timed loops.
BENCH_ENGINE := $(BUILD)/bench/bench_engine
BENCH_WRAP   := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

$(BENCH_ENGINE): bench/bench_engine.c $(CORE_PLAIN) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -O2 -o $@ bench/bench_engine.c $(CORE_PLAIN) \
	    $(CORE_LIBS) $(BENCH_WRAP)

bench-engine: $(BENCH_ENGINE)
	$(BENCH_ENGINE)

# Requests through nginx (wrk, loopback): bare, the module warm and cold
# (with Redis in clear text and over TLS), auth_request; invalidation
# propagation; cache memory.  BENCH_ARGS passes
# options, e.g. BENCH_ARGS="--seconds 10 --write bench/RESULTS.md".
bench-http: all
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/bench_http.py $(BENCH_ARGS)


# Instructions per request, counted by valgrind (exact, unlike time): one
# nginx with master_process off, N1 then N2 keep-alive requests per row;
# then the Redis commands and round trips of a cold request, clear and TLS.
bench-instr: all
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/bench_instr.py $(BENCH_ARGS)

# rbacctl's admin plane at 10k, 100k and 1M records: apply from empty,
# no-op, 1% change, export, feed; time, records/s, peak RSS, slowest Redis
# command.  BENCH_ADMIN_ARGS="--sizes 10000,100000" for a shorter run.
.PHONY: bench-admin
bench-admin: $(BUILD)/rbacctl
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/bench_admin.py \
	    $(BENCH_ADMIN_ARGS)

# At scale: 100,000 users and 1,000,000 workspaces in Redis, Zipf(1.1)
# requests, a 64 MB zone against a fully warm one, and an invalidation burst.
bench-scale: all
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/bench_scale.py $(BENCH_ARGS)
