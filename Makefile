# partwrap — see README.md.  `make`, `make check`, `make demo`, `make clean`.

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/partwrap
SYSCONFDIR ?= /etc
UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
UDEVRULESDIR ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)/rules.d
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),$(DATADIR)/bash-completion/completions)
# What the udev rule runs to reload partwrap@NAME.service on a change event.
SYSTEMCTL ?= /usr/bin/systemctl

CC ?= cc
PKGS := devmapper blkid inih libudev uuid zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wmissing-prototypes -Wno-missing-field-initializers \
	-DPARTWRAP_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS += -Wl,--as-needed $(PKG_LIBS)

B := build
SRC := $(sort $(wildcard src/*.c))
LIB_OBJ := $(patsubst src/%.c,$(B)/%.o,$(filter-out src/main.c,$(SRC)))
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

all: partwrap

partwrap: $(B)/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: src/%.c $(wildcard src/*.h) | $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ) $(wildcard tests/unit/*.h) | $(B)/tests
	$(CC) $(CFLAGS) -Isrc $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $< $(LIB_OBJ) \
		$(LDLIBS) $(shell pkg-config --libs cmocka)

$(B) $(B)/tests:
	mkdir -p $@

unit: $(UNIT_BIN)

# The same program with fault-injection points live (src/fault.h), for the
# crash-consistency tests. Never installed.
$(B)/fault/%.o: src/%.c $(wildcard src/*.h) | $(B)/fault
	$(CC) $(CFLAGS) -DPARTWRAP_FAULT_INJECTION -c -o $@ $<
$(B)/fault/partwrap: $(patsubst src/%.c,$(B)/fault/%.o,$(SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/fault:
	mkdir -p $@

# The library and the unit tests again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer; `make check` runs them next to the plain ones.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_OBJ := $(patsubst src/%.c,$(B)/asan/%.o,$(filter-out src/main.c,$(SRC)))
ASAN_UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/asan/tests/%,$(UNIT_SRC))
$(B)/asan/%.o: src/%.c $(wildcard src/*.h) | $(B)/asan/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<
$(B)/asan/tests/%: tests/unit/%.c $(ASAN_OBJ) $(wildcard tests/unit/*.h) | $(B)/asan/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Isrc $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $< $(ASAN_OBJ) \
		$(LDLIBS) $(shell pkg-config --libs cmocka)
# The whole program sanitized: tests/vm/scenarios/52-sanitizers.sh runs it
# under QEMU (under User-Mode Linux, where ASan cannot run, valgrind instead).
$(B)/asan/partwrap: $(B)/asan/main.o $(ASAN_OBJ)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/asan/tests:
	mkdir -p $@
# ASan cannot run inside User-Mode Linux (its shadow memory needs more
# address space than a UML process has), UBSan alone can: the device
# scenarios run this build (tests/vm/scenarios/52-sanitizers.sh).
UBSAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
$(B)/ubsan/%.o: src/%.c $(wildcard src/*.h) | $(B)/ubsan
	$(CC) $(CFLAGS) $(UBSAN_FLAGS) -c -o $@ $<
$(B)/ubsan/partwrap: $(patsubst src/%.c,$(B)/ubsan/%.o,$(SRC))
	$(CC) $(CFLAGS) $(UBSAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/ubsan:
	mkdir -p $@
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

# libFuzzer targets (tests/fuzz/): the configuration parser and the header
# verifier, built with clang. `make fuzz` runs each for FUZZ_SECONDS;
# `make check` runs them through tests/offline/test-fuzz.sh.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_MODULES := config gpt mbr table layout size ptype guid util
FUZZ_OBJ := $(patsubst %,$(B)/fuzz/%.o,$(FUZZ_MODULES))
FUZZ_BIN := $(B)/fuzz/fuzz-config $(B)/fuzz/fuzz-header
$(B)/fuzz/%.o: src/%.c $(wildcard src/*.h) | $(B)/fuzz
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(B)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Isrc $(LDFLAGS) -o $@ $< $(FUZZ_OBJ) $(LDLIBS)
$(B)/fuzz:
	mkdir -p $@
fuzz-build: $(FUZZ_BIN)
# Objects of pattern-built programs: keep them between builds.
.SECONDARY: $(FUZZ_OBJ) $(ASAN_OBJ)
fuzz: $(FUZZ_BIN)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/offline/test-fuzz.sh

# Every test: unit tests on the host (plain and sanitized), offline checks
# with independent partitioning tools, the fuzzers for a bounded time, and
# device scenarios inside User-Mode Linux (the crash tests use the fault
# build).
# CHECK_VM=no leaves the UML scenarios out (tests/offline/test-install.sh
# checks an unpacked `make dist` that way); under CI=true tests/run-tests
# then fails, as it does when a scenario skips.
CHECK_VM ?= yes
# test-dm needs device-mapper: tests/vm/scenarios/31-table-swap.sh runs it.
HOST_UNIT_BIN := $(filter-out %/test-dm,$(UNIT_BIN) $(ASAN_UNIT_BIN))
check: partwrap $(UNIT_BIN) $(ASAN_UNIT_BIN) $(B)/fault/partwrap $(B)/ubsan/partwrap $(B)/asan/partwrap $(GENERATED)
	tests/run-tests $(HOST_UNIT_BIN) tests/offline/*.sh $(if $(filter no,$(CHECK_VM)),,tests/vm/scenarios/*.sh)

demo:
	@tests/demo/demo.sh

# Benchmarks in User-Mode Linux (tests/bench/README.md): a Markdown table on
# stdout, build/bench.json. Not part of check; never fails on a time.
bench: partwrap
	tests/bench/bench.sh

# Units and the rule name the installed binary; the units share one
# hardening block. The stamp holds the SBINDIR (and the rule's SYSTEMCTL)
# they were made for, so that `make install SBINDIR=...` after a plain
# `make` makes them again.
$(B)/sbindir.stamp: FORCE | $(B)
	@echo '$(SBINDIR) $(SYSTEMCTL)' | cmp -s - $@ || echo '$(SBINDIR) $(SYSTEMCTL)' >$@
$(B)/%: systemd/%.in systemd/hardening.conf $(B)/sbindir.stamp | $(B)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e '/@HARDENING@/{r systemd/hardening.conf' -e 'd}' $< >$@
$(B)/70-partwrap.rules: udev/70-partwrap.rules $(B)/sbindir.stamp | $(B)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSTEMCTL@|$(SYSTEMCTL)|g' $< >$@

GENERATED := $(B)/partwrap.service $(B)/partwrap@.service $(B)/70-partwrap.rules

install: partwrap $(GENERATED)
	install -D -m 0755 partwrap $(DESTDIR)$(SBINDIR)/partwrap
	install -D -m 0644 $(B)/partwrap.service $(DESTDIR)$(UNITDIR)/partwrap.service
	install -D -m 0644 $(B)/partwrap@.service $(DESTDIR)$(UNITDIR)/partwrap@.service
	install -D -m 0644 $(B)/70-partwrap.rules $(DESTDIR)$(UDEVRULESDIR)/70-partwrap.rules
	install -D -m 0644 conf/partwrap.conf $(DESTDIR)$(DOCDIR)/partwrap.conf.example
	install -D -m 0644 docs/json-schema.json $(DESTDIR)$(DOCDIR)/json-schema.json
	install -D -m 0644 man/partwrap.8 $(DESTDIR)$(MANDIR)/man8/partwrap.8
	install -D -m 0644 man/partwrap.conf.5 $(DESTDIR)$(MANDIR)/man5/partwrap.conf.5
	install -D -m 0644 completion/partwrap $(DESTDIR)$(BASHCOMPDIR)/partwrap
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/partwrap.d

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/partwrap $(DESTDIR)$(UNITDIR)/partwrap.service \
		$(DESTDIR)$(UNITDIR)/partwrap@.service $(DESTDIR)$(UDEVRULESDIR)/70-partwrap.rules \
		$(DESTDIR)$(DOCDIR)/partwrap.conf.example $(DESTDIR)$(DOCDIR)/json-schema.json \
		$(DESTDIR)$(MANDIR)/man8/partwrap.8 $(DESTDIR)$(MANDIR)/man5/partwrap.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/partwrap
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/partwrap.d 2>/dev/null

# partwrap-VERSION.tar.gz of the files git tracks (their working-tree
# content), reproducible: fixed owner, order and mtime (the last commit's).
DIST := partwrap-$(VERSION)
dist:
	@[ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ] || \
		{ echo "make dist: needs a git checkout (git ls-files names the files)" >&2; exit 1; }
	rm -f $(DIST).tar $(DIST).tar.gz
	git ls-files -z | tar --null -T - --transform 'flags=r;s|^|$(DIST)/|' --sort=name \
		--owner=0 --group=0 --numeric-owner --mtime="$$(git log -1 --format=%cI 2>/dev/null || date -u -Is)" \
		-cf $(DIST).tar
	gzip -n -9 $(DIST).tar

clean:
	rm -rf $(B) partwrap

.PHONY: all unit check demo bench clean install uninstall dist fuzz fuzz-build FORCE
.DELETE_ON_ERROR:
