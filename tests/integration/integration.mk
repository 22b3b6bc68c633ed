# tests/integration/: pytest (Debian's /usr/bin/python3) against real nginx
# and redis-server on loopback.  PYTEST_ARGS narrows a run (-k, -x).

PYTEST_ARGS ?=

.PHONY: test-integration
test-integration: all
	RBAC_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/integration $(PYTEST_ARGS)
