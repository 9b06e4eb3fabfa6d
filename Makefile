# partwrap — see README.md.  `make`, `make check`, `make demo`, `make clean`.

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin

CC ?= cc
PKGS := devmapper blkid inih uuid zlib
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

# Every test: unit tests on the host, offline checks with independent
# partitioning tools, and device scenarios inside User-Mode Linux.
check: partwrap $(UNIT_BIN)
	tests/run-tests $(UNIT_BIN) tests/offline/*.sh tests/uml/scenarios/*.sh

demo:
	tests/demo/demo.sh

clean:
	rm -rf $(B) partwrap

.PHONY: all unit check demo clean
.DELETE_ON_ERROR:
