# core/: the engine, compiled once per flavour (plain, sanitized, fuzz).

CORE_SRCS := $(sort $(wildcard core/*.c))
CORE_HDRS := $(wildcard core/*.h)
CATALOG   := conf-examples/roles/coder.json
CATALOG_C := $(BUILD)/gen/rbac_catalog_data.c

$(CATALOG_C): $(CATALOG) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $(CATALOG) $@ rbac_builtin_catalog

# $(call core_objs,FLAVOUR): object files of core/ for one flavour.
core_objs = $(patsubst core/%.c,$(BUILD)/$(1)/core/%.o,$(CORE_SRCS)) \
            $(BUILD)/$(1)/core/rbac_catalog_data.o

$(BUILD)/plain/core/%.o: core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/plain/core/rbac_catalog_data.o: $(CATALOG_C)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all

$(BUILD)/san/core/%.o: core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -O1 $(SAN_FLAGS) -c $< -o $@

$(BUILD)/san/core/rbac_catalog_data.o: $(CATALOG_C)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(SAN_FLAGS) -c $< -o $@

CORE_PLAIN := $(call core_objs,plain)
CORE_SAN   := $(call core_objs,san)
