# tests/fuzz/: libFuzzer targets (clang), one per tests/fuzz/fuzz_*.c.
.PHONY: fuzz test-fuzz-smoke
fuzz:
test-fuzz-smoke:
