# bench/: benchmarks, printed as ratios against a baseline of the same run.
.PHONY: bench
bench:
