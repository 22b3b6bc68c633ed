# ngx_rbac_module/: the nginx module, built against Debian's nginx sources
# (nginx-dev: headers + configure, no .c files, so only the module builds).
#
#   build/ngx_http_rbac_module.so        plain, loaded by the stock nginx
#   build/asan/ngx_http_rbac_module.so   ASan + UBSan (LD_PRELOAD libasan)
#
# configure (~15 s) runs again only when `config` or the set of source files
# changes; otherwise `make -f objs/Makefile modules` rebuilds what changed.

NGX_SRC      ?= /usr/share/nginx/src
MODULE_SRCS  := $(sort $(wildcard ngx_rbac_module/*.c))
MODULE_HDRS  := $(wildcard ngx_rbac_module/*.h)
MODULE_SO    := $(BUILD)/ngx_http_rbac_module.so
MODULE_ASAN  := $(BUILD)/asan/ngx_http_rbac_module.so
MODULE_DEPS  := config $(MODULE_SRCS) $(MODULE_HDRS) $(CORE_SRCS) \
                $(CORE_HDRS) $(CATALOG_C)

NGX_ASAN_CC  := -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1
NGX_ASAN_LD  := -fsanitize=address,undefined

# The list of sources `config` globbed: rewritten only when it changes.
$(BUILD)/module-srcs.txt: FORCE
	@mkdir -p $(dir $@)
	@echo "$(MODULE_SRCS) $(CORE_SRCS)" | cmp -s - $@ \
	    || echo "$(MODULE_SRCS) $(CORE_SRCS)" > $@

.PHONY: FORCE
FORCE:

# $(call ngx_configure,DIR,CC-OPT,LD-OPT)
define ngx_configure
	@test -d $(1) || cp -r $(NGX_SRC) $(1)
	cd $(1) && RBAC_GEN_DIR=$(abspath $(BUILD))/gen bash -c \
	    'source ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	        $(if $(2),--with-cc-opt="$(2)" --with-ld-opt="$(3)") \
	        --add-dynamic-module=$(CURDIR)' > configure.log 2>&1 \
	    || { tail -20 $(1)/configure.log; exit 1; }
endef

$(BUILD)/nginx-src/objs/Makefile: config $(BUILD)/module-srcs.txt $(CATALOG_C)
	$(call ngx_configure,$(BUILD)/nginx-src)

$(BUILD)/nginx-src-asan/objs/Makefile: config $(BUILD)/module-srcs.txt \
                                       $(CATALOG_C)
	$(call ngx_configure,$(BUILD)/nginx-src-asan,$(NGX_ASAN_CC),$(NGX_ASAN_LD))

$(MODULE_SO): $(BUILD)/nginx-src/objs/Makefile $(MODULE_DEPS)
	$(MAKE) -C $(BUILD)/nginx-src -f objs/Makefile modules
	cp $(BUILD)/nginx-src/objs/ngx_http_rbac_module.so $@

$(MODULE_ASAN): $(BUILD)/nginx-src-asan/objs/Makefile $(MODULE_DEPS)
	@mkdir -p $(dir $@)
	$(MAKE) -C $(BUILD)/nginx-src-asan -f objs/Makefile modules
	cp $(BUILD)/nginx-src-asan/objs/ngx_http_rbac_module.so $@

.PHONY: module module-asan test-asan test-valgrind
module: $(MODULE_SO)
module-asan: $(MODULE_ASAN)

all: $(MODULE_SO)

# The integration suite again, with the sanitized module LD_PRELOADed into
# the stock nginx (conftest.py reads RBAC_SANITIZE), or under valgrind with
# master_process off (multi-worker tests are skipped there).
test-asan: all $(MODULE_ASAN)
	RBAC_BUILD=$(abspath $(BUILD)) RBAC_SANITIZE=asan \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration \
	    $(PYTEST_ARGS)

test-valgrind: all
	RBAC_BUILD=$(abspath $(BUILD)) RBAC_SANITIZE=valgrind \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration \
	    $(PYTEST_ARGS)

# The shape of the code (scripts/check-layers.py): no call cycle between the
# module's files (read from the objects with nm), no function defined and
# never called, no function over 150 lines in ngx_rbac_module/ and cli/.
.PHONY: test-layers
test-layers: $(MODULE_SO)
	$(PYTHON) scripts/check-layers.py \
	    --objs $(BUILD)/nginx-src/objs/addon/ngx_rbac_module
