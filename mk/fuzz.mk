# libFuzzer targets (clang, ASan+UBSan): tests/fuzz/fuzz_<parser>.c, each linked with every core/ and
# fcgi/ object built by clang into build/fuzz/. `make test` runs each briefly (tests/checks/fuzz-smoke.sh),
# `make fuzz` longer (FUZZ_SECONDS per target).
APT_PKGS += libclang-rt-14-dev
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-Icore -Ifcgi -Icli -Itests/support $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ := $(CORE_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FCGI_SRC:%.c=$(FUZZ_DIR)/obj/%.o)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/libfuzzparts.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libfuzzparts.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL) -lfcgi

fuzz-build: $(FUZZ_BINS)
TEST_PREREQS += fuzz-build
.PHONY: fuzz-build
