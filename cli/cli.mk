# cli/: rbacctl, over core/ and synchronous hiredis.

CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_HDRS := $(wildcard cli/*.h)

$(BUILD)/plain/cli/%.o: cli/%.c $(CLI_HDRS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Icli -c $< -o $@

$(BUILD)/rbacctl: $(patsubst cli/%.c,$(BUILD)/plain/cli/%.o,$(CLI_SRCS)) \
                  $(CORE_PLAIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) -lhiredis -lssl

all: $(BUILD)/rbacctl
