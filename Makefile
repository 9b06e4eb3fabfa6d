# partwrap — see README.md.  `make`, `make check`, `make demo`, `make clean`.

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/partwrap
SYSCONFDIR ?= /etc
UNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
UDEVRULESDIR ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)/rules.d

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

# Every test: unit tests on the host, offline checks with independent
# partitioning tools, and device scenarios inside User-Mode Linux.
check: partwrap $(UNIT_BIN) $(GENERATED)
	tests/run-tests $(UNIT_BIN) tests/offline/*.sh tests/uml/scenarios/*.sh

demo:
	tests/demo/demo.sh

# Units and the rule name the installed binary; the units share one
# hardening block.
$(B)/%: systemd/%.in systemd/hardening.conf | $(B)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e '/@HARDENING@/{r systemd/hardening.conf' -e 'd}' $< >$@
$(B)/70-partwrap.rules: udev/70-partwrap.rules | $(B)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' $< >$@

GENERATED := $(B)/partwrap.service $(B)/partwrap@.service $(B)/70-partwrap.rules

install: partwrap $(GENERATED)
	install -D -m 0755 partwrap $(DESTDIR)$(SBINDIR)/partwrap
	install -D -m 0644 $(B)/partwrap.service $(DESTDIR)$(UNITDIR)/partwrap.service
	install -D -m 0644 $(B)/partwrap@.service $(DESTDIR)$(UNITDIR)/partwrap@.service
	install -D -m 0644 $(B)/70-partwrap.rules $(DESTDIR)$(UDEVRULESDIR)/70-partwrap.rules
	install -D -m 0644 conf/partwrap.conf $(DESTDIR)$(DOCDIR)/partwrap.conf.example
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/partwrap.d

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/partwrap $(DESTDIR)$(UNITDIR)/partwrap.service \
		$(DESTDIR)$(UNITDIR)/partwrap@.service $(DESTDIR)$(UDEVRULESDIR)/70-partwrap.rules \
		$(DESTDIR)$(DOCDIR)/partwrap.conf.example
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/partwrap.d 2>/dev/null

clean:
	rm -rf $(B) partwrap

.PHONY: all unit check demo clean install uninstall
.DELETE_ON_ERROR:
