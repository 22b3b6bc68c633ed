# tests/integration/: pytest (Debian's /usr/bin/python3) against real nginx
# and redis-server on loopback.  PYTEST_ARGS narrows a run (-k, -x).

PYTEST_ARGS ?=

.PHONY: test-integration
test-integration: all
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/integration $(PYTEST_ARGS)

# The go-chi stand-in for Coder that test_coder_replay.py drives, built
# offline from Debian's golang-go, golang-github-go-chi-chi-dev and
# golang-github-google-uuid-dev (GOPATH mode, /usr/share/gocode).
$(BUILD)/coder-upstream: tests/coder/upstream/main.go
	@mkdir -p $(BUILD)
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
	    GOCACHE=$(abspath $(BUILD))/gocache \
	    go build -o $@ ./tests/coder/upstream

test-integration: $(BUILD)/coder-upstream
