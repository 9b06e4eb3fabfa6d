#!/usr/bin/env bash
# `partwrap validate` on a corpus of broken configurations: each file in
# bad-configs/ starts with "# expect: LINE" (and maybe "# expect-msg: TEXT");
# validate must exit 2 and name FILE:LINE: on stderr. The annotated example
# conf/partwrap.conf must validate cleanly.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi

CORPUS=$TOP/tests/offline/bad-configs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# validate_bad FILE: exit status 2, and FILE:LINE: (with TEXT) on stderr.
validate_bad() {
        local file=$1 line msg rc
        line=$(sed -n '1s/^# expect: *\([0-9][0-9]*\)$/\1/p' "$file")
        msg=$(sed -n '2s/^# expect-msg: *//p' "$file")
        if [ -z "$line" ]; then
                echo "no '# expect: LINE' on the first line"
                return 1
        fi
        "$PARTWRAP" validate "$file" >/dev/null 2>"$tmp/err"
        rc=$?
        cat "$tmp/err"
        if [ "$rc" -ne 2 ]; then
                echo "exit status $rc, expected 2"
                return 1
        fi
        if ! grep -F -- "$file:$line:" "$tmp/err" | grep -qF -- "$msg"; then
                echo "expected '$file:$line: ...$msg' on stderr"
                return 1
        fi
}

n=0
for f in "$CORPUS"/*.conf; do
        check "rejects $(basename "$f")" validate_bad "$f"
        n=$((n + 1))
done
diag "$n bad configurations tried"

check "conf/partwrap.conf is valid" "$PARTWRAP" validate "$TOP/conf/partwrap.conf"

# All bad files at once, after the good example: parsing goes on past each
# one, so every file gets its message. (Not necessarily at the expected
# line: most files declare [bad], a duplicate of the first file's.)
all_reported() {
        "$PARTWRAP" validate "$TOP/conf/partwrap.conf" "$CORPUS"/*.conf >/dev/null 2>"$tmp/all"
        local rc=$? missing=0 f
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        for f in "$CORPUS"/*.conf; do
                grep -qF -- "$f:" "$tmp/all" || { echo "nothing for $f"; missing=1; }
        done
        return $missing
}
check "every file is reported in one run" all_reported

# A directory: *.conf only, in order; one bad file makes the exit status 2.
mkdir "$tmp/d"
cp "$TOP/conf/partwrap.conf" "$tmp/d/10-example.conf"
check "a directory with the example is valid" "$PARTWRAP" validate "$tmp/d"
cp "$CORPUS/02-unknown-key.conf" "$tmp/d/20-bad.conf"
chmod 644 "$tmp/d"/*.conf
check_status "a directory with a bad file is not: exit 2" 2 "$PARTWRAP" validate "$tmp/d"

# StrictModes: a world-writable file is refused.
cp "$TOP/conf/partwrap.conf" "$tmp/open.conf"
chmod 666 "$tmp/open.conf"
refused() {
        "$PARTWRAP" validate "$tmp/open.conf" >/dev/null 2>"$tmp/err"
        local rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 2 ] && grep -F "$tmp/open.conf" "$tmp/err" | grep -q "writable by everyone"
}
check "a world-writable file is refused" refused

tap_done
