# clipapi: build, test, run, bench, install.  `make help` lists the targets.
#
# Sources are found by wildcard: a new core/*.c joins libclipcore, a new tests/unit/test_*.c becomes
# a test binary, a new tests/checks/*.sh a check.  Parts that need more (emulators, benches) add an
# mk/<part>.mk fragment instead of editing this file.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
PORT ?= 8443

PKGS := libcurl json-c openssl expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 \
	-Icore -Ifcgi -Icli -Itests/support $(PKG_CFLAGS) -MMD -MP
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 -g $(SAN_FLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm

REL := $(BUILD)/rel
SAN := $(BUILD)/san

CORE_SRC := $(wildcard core/*.c)
FCGI_SRC := $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
SUPPORT_SRC := $(wildcard tests/support/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)

# Debian packages the build, the tests and `make run` need; fragments may add more.
APT_PKGS := build-essential pkg-config libfcgi-dev libcurl4-openssl-dev libjson-c-dev libssl-dev \
	libexpat1-dev libcunit1-dev nginx clang python3 python3-botocore openssl curl wrk \
	systemd valgrind procps
# Only `make run` needs these (the demo clips are real MP4 files made with ffmpeg).
RUN_APT_PKGS := ffmpeg
# Directories holding a committed package-lock.json that `make deps` installs with `npm ci`:
# NPM_RUN_DIRS also for `make run` (with the system's npm and node, Debian's Node 18 included);
# NPM_DIRS only for the tests and benches, with a Node >= 20 (tools/node/run chooses it, and
# `make deps` installs tools/node's Node 20 from npm first when the system's node is older).
NPM_RUN_DIRS :=
NPM_DIRS :=
# Extra targets `make test` builds before running the tests, and `make bench` runs.
TEST_PREREQS :=
BENCH_TARGETS :=

-include $(sort $(wildcard mk/*.mk))

.PHONY: all deps build san test run bench bench-compare fuzz install uninstall clean help format check-fresh
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/clipapi-fcgi $(BUILD)/clipctl

help:
	@echo "make          build clipapi-fcgi and clipctl into $(BUILD)/"
	@echo "make deps     install missing Debian and npm packages (root)"
	@echo "make run      serve the API locally over TLS on https://127.0.0.1:$(PORT)"
	@echo "make test     sanitizer build + every unit, integration and conformance test"
	@echo "make bench    print the benchmark figures (name: value lines)"
	@echo "make bench-compare [BASE=commit]  the video-info bench before and after, in one run"
	@echo "make fuzz     run the libFuzzer targets longer"
	@echo "make check-fresh  .ci/run and make run in a fresh Debian 12 root (root, not in CI)"
	@echo "make install  PREFIX=$(PREFIX) DESTDIR=..."

# ---- objects -------------------------------------------------------------------------------

$(REL)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

$(REL)/libclipcore.a: $(CORE_SRC:%.c=$(REL)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(SAN)/libclipcore.a: $(CORE_SRC:%.c=$(SAN)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(REL)/libfcgiparts.a: $(FCGI_SRC:%.c=$(REL)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(SAN)/libfcgiparts.a: $(FCGI_SRC:%.c=$(SAN)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(REL)/libcliparts.a: $(CLI_SRC:%.c=$(REL)/%.o)
	@rm -f $@
	ar rcs $@ $^ $(if $(CLI_SRC),,$(REL)/core/err.o)
$(SAN)/libcliparts.a: $(CLI_SRC:%.c=$(SAN)/%.o)
	@rm -f $@
	ar rcs $@ $^ $(if $(CLI_SRC),,$(SAN)/core/err.o)
$(SAN)/libsupport.a: $(SUPPORT_SRC:%.c=$(SAN)/%.o) $(SAN)/core/err.o
	@rm -f $@
	ar rcs $@ $^

# ---- programs ------------------------------------------------------------------------------

$(BUILD)/clipapi-fcgi: $(REL)/fcgi/main.o $(REL)/libfcgiparts.a $(REL)/libclipcore.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_ALL) -lfcgi $(LDFLAGS)
$(BUILD)/clipctl: $(REL)/cli/main.o $(REL)/libcliparts.a $(REL)/libclipcore.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(LDFLAGS)
$(SAN)/clipapi-fcgi: $(SAN)/fcgi/main.o $(SAN)/libfcgiparts.a $(SAN)/libclipcore.a
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS_ALL) -lfcgi
$(SAN)/clipctl: $(SAN)/cli/main.o $(SAN)/libcliparts.a $(SAN)/libclipcore.a
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS_ALL)

build: all
san: $(SAN)/clipapi-fcgi $(SAN)/clipctl

# ---- tests ---------------------------------------------------------------------------------

TEST_LIBS := $(SAN)/libsupport.a $(SAN)/libfcgiparts.a $(SAN)/libcliparts.a $(SAN)/libclipcore.a \
	$(SAN)/libsupport.a
UNIT_BINS := $(UNIT_SRC:%.c=$(SAN)/%)
INTEG_BINS := $(INTEG_SRC:%.c=$(SAN)/%)

$(SAN)/tests/%: $(SAN)/tests/%.o $(TEST_LIBS)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS_ALL) -lfcgi -lcunit

test-build: san $(UNIT_BINS) $(INTEG_BINS) $(BUILD)/clipapi-fcgi $(BUILD)/clipctl $(TEST_PREREQS)

# T=pattern runs only the tests whose name contains it. TEST_LOCK=FILE holds flock(1) on FILE
# while the tests run (not while installing and building), e.g. TEST_LOCK=/work/.test.lock.
test: deps
	@$(MAKE) --no-print-directory test-build
	@BUILD=$(BUILD) $(if $(TEST_LOCK),flock $(TEST_LOCK)) tests/run $(T)

# ---- run, bench, fuzz ------------------------------------------------------------------------

run:
	@$(MAKE) --no-print-directory deps EXTRA_APT_PKGS="$(RUN_APT_PKGS)" DEPS_FOR_RUN=1
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) PORT=$(PORT) tests/stack/run-local

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	@BUILD=$(BUILD) bench/run

# the video-info bench of an older commit (BASE, default the last before issue 15) and of this tree,
# one after the other, the figures side by side
bench-compare: deps
	@$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	@CLIPAPI_BUILD=$(abspath $(BUILD)) BASE=$(BASE) bench/compare

fuzz: deps
	@BUILD=$(BUILD) FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run

# Not part of CI: .ci/run and make run in a fresh Debian 12 root (debootstrap, chroot); see
# tools/check-fresh. PORT= is the port of its make run.
check-fresh:
	@BUILD=$(BUILD) PORT=$(PORT) tools/check-fresh

# ---- dependencies ----------------------------------------------------------------------------

# tools/deps says what it installs while it does; DEPS_FOR_RUN=1 (make run) leaves out NPM_DIRS.
deps:
	@BUILD=$(BUILD) tools/deps --apt "$(APT_PKGS) $(EXTRA_APT_PKGS)" --npm "$(NPM_RUN_DIRS)" \
	  $(if $(DEPS_FOR_RUN),,--npm20 "$(NPM_DIRS)")

# ---- install -------------------------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/clipapi-fcgi $(BUILD)/clipctl $(DESTDIR)$(PREFIX)/bin/
	@$(MAKE) --no-print-directory install-extra

install-extra::
	@:

uninstall::
	rm -f $(DESTDIR)$(PREFIX)/bin/clipapi-fcgi $(DESTDIR)$(PREFIX)/bin/clipctl

format:
	clang-format -i $(wildcard core/*.[ch] fcgi/*.[ch] cli/*.[ch] tests/*/*.[ch])

clean:
	rm -rf $(BUILD) $(BUILD).apt.log

# (build/fresh holds make check-fresh's Debian root: not searched)
-include $(shell find $(BUILD) -path $(BUILD)/fresh -prune -o -name '*.d' -type f -print 2>/dev/null)
