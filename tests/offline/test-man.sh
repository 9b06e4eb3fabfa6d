#!/usr/bin/env bash
# The manual pages: mandoc's linter and man-db's groff find nothing to warn
# about, and the pages keep up with the code: every command and option of
# `partwrap --help` is in partwrap(8), every key of the configuration
# parser (src/config.c's key table) is in partwrap.conf(5).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

PAGES=("$TOP/man/partwrap.8" "$TOP/man/partwrap.conf.5")
if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi

# lint PAGE: mandoc's warnings and errors (style suggestions are not failures).
lint() { mandoc -T lint -W warning "$1" 2>&1; }
# groff_warnings PAGE: what man-db's groff says with all its warnings on.
groff_warnings() {
        local err
        err=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null)
        [ -z "$err" ] || { printf '%s\n' "$err"; return 1; }
}

for page in "${PAGES[@]}"; do
        name=$(basename "$page")
        if command -v mandoc >/dev/null; then
                check "$name: mandoc -T lint -W warning is clean" lint "$page"
        else
                skip "$name: mandoc -T lint" "mandoc not installed (apt-get install mandoc)"
        fi
        if command -v man >/dev/null; then
                check "$name: man --warnings -l shows no warnings" groff_warnings "$page"
                check "$name: renders to text" bash -c "MANWIDTH=80 man -l '$page' 2>/dev/null | grep -q NAME"
        else
                skip "$name: man --warnings" "man-db not installed"
        fi
done

# mentioned PAGE MACRO WORD: the page has WORD as an argument of MACRO
# (".Cm apply", ".It Cm volume Ns = ...", ".Fl -config-dir").
mentioned() {
        grep -qE "^\.(It |Op |Fl |Cm |Sy )*$2 ([^ ]+ )*\\\\?$3( |$)" "$1" ||
                grep -qE "(^| )$2 $3( |$)" "$1"
}

# Commands and global options from --help.
help=$("$PARTWRAP" --help)
commands=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || not_ok "commands found in partwrap --help"
for c in $commands; do
        check "partwrap.8 documents the command '$c'" mentioned "${PAGES[0]}" Cm "$c"
done
# Long options of --help and of mkheader --help.
options=$( { printf '%s\n' "$help"; "$PARTWRAP" mkheader --help; } | grep -oE -- '--[a-z][a-z-]*' | sort -u)
for o in $options; do
        check "partwrap.8 documents the option '$o'" mentioned "${PAGES[0]}" Fl "-${o#--}"
done

# Configuration keys from the parser's key table: [KEY_X] = "name",
keys=$(sed -n 's/^[[:space:]]*\[KEY_[A-Z_]*\] = "\([a-z-]*\)",$/\1/p' "$TOP/src/config.c")
[ "$(printf '%s\n' "$keys" | wc -l)" -ge 10 ] || not_ok "key table found in src/config.c"
for k in $keys; do
        check "partwrap.conf.5 documents the key '$k'" mentioned "${PAGES[1]}" Cm "$k"
        # and says what its default is, in the paragraph of the key
        check "partwrap.conf.5 gives the default (or 'Required') of '$k'" bash -c \
                "awk '/^\.It Cm /{on = index(\$0, \" $k \") > 0 || index(\$0, \" $k\") == length(\$0) - length(\"$k\")} on' '${PAGES[1]}' | grep -qE '^(Default|Required)'"
done

tap_done
