#!/usr/bin/env bash
# make install / uninstall into a scratch DESTDIR: the exact file list, with
# explicit directories and with the defaults (pkg-config's systemd, udev and
# bash-completion directories); modes; SBINDIR in the units and the rule;
# uninstall leaves no file of ours and keeps the administrator's.
# Then make dist: the tarball holds exactly `git ls-files`, is reproducible,
# and, unpacked in a temporary directory, builds and passes
# `make check CHECK_VM=no` (bounded by PARTWRAP_DIST_TIMEOUT seconds,
# default 1200). Skipped parts say why.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
cd "$TOP" || exit 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
VERSION=$(sed -n 's/^VERSION := *//p' Makefile)
DIST=partwrap-$VERSION

# files DIR: every file and symlink below DIR, relative, sorted.
files() { (cd "$1" && find . \( -type f -o -type l \) -printf '/%P\n' | sort); }

# --- install with explicit directories ---------------------------------------
root=$tmp/root1
dirs=(PREFIX=/usr SBINDIR=/usr/sbin SYSCONFDIR=/etc UNITDIR=/usr/lib/systemd/system
        UDEVRULESDIR=/usr/lib/udev/rules.d BASHCOMPDIR=/usr/share/bash-completion/completions)
if out=$(make -s install DESTDIR="$root" "${dirs[@]}" 2>&1); then
        ok "make install DESTDIR=... PREFIX=/usr SBINDIR=/usr/sbin ..."
else
        not_ok "make install"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
fi
check_eq "installed files, explicit directories" "/usr/lib/systemd/system/partwrap.service
/usr/lib/systemd/system/partwrap@.service
/usr/lib/udev/rules.d/70-partwrap.rules
/usr/sbin/partwrap
/usr/share/bash-completion/completions/partwrap
/usr/share/doc/partwrap/json-schema.json
/usr/share/doc/partwrap/partwrap.conf.example
/usr/share/man/man5/partwrap.conf.5
/usr/share/man/man8/partwrap.8" "$(files "$root")"
check "the configuration directory exists, empty" bash -c "[ -d '$root/etc/partwrap.d' ] && [ -z \"\$(ls -A '$root/etc/partwrap.d')\" ]"
check_eq "modes" "755 /usr/sbin/partwrap
644 /usr/share/man/man8/partwrap.8
644 /usr/share/bash-completion/completions/partwrap
644 /usr/lib/systemd/system/partwrap.service" \
        "$(cd "$root" && stat -c '%a /%n' usr/sbin/partwrap usr/share/man/man8/partwrap.8 \
                usr/share/bash-completion/completions/partwrap usr/lib/systemd/system/partwrap.service)"
check "partwrap.service runs /usr/sbin/partwrap" grep -qx 'ExecStart=/usr/sbin/partwrap apply' \
        "$root/usr/lib/systemd/system/partwrap.service"
check "partwrap@.service runs /usr/sbin/partwrap" grep -qx 'ExecStart=/usr/sbin/partwrap apply -- %I' \
        "$root/usr/lib/systemd/system/partwrap@.service"
check "the udev rule runs /usr/sbin/partwrap" grep -qF 'IMPORT{program}="/usr/sbin/partwrap udev-match' \
        "$root/usr/lib/udev/rules.d/70-partwrap.rules"
check "the udev rule reloads partwrap@NAME.service on a change event" grep -qxF \
        'ACTION=="change", ENV{PARTWRAP_UNITS}=="?*", RUN+="/usr/bin/systemctl --no-block reload-or-restart $env{PARTWRAP_UNITS}"' \
        "$root/usr/lib/udev/rules.d/70-partwrap.rules"
check "partwrap@.service reloads by applying again" grep -qx 'ExecReload=/usr/sbin/partwrap apply -- %I' \
        "$root/usr/lib/systemd/system/partwrap@.service"
check "no @PLACEHOLDER@ left in the installed text files" bash -c "! grep -rlI '@[A-Z][A-Z_]*@' '$root'"
check "the installed binary runs" "$root/usr/sbin/partwrap" --version
check "the installed man page renders" bash -c "man -l '$root/usr/share/man/man8/partwrap.8' 2>/dev/null | grep -q partwrap"
check "the installed completion loads" bash -c "source '$root/usr/share/bash-completion/completions/partwrap' && complete -p partwrap"

# The administrator's configuration survives uninstall.
echo '[mine]' >"$root/etc/partwrap.d/mine.conf"
make -s uninstall DESTDIR="$root" "${dirs[@]}" >/dev/null 2>&1
check_eq "uninstall leaves only the administrator's file" "/etc/partwrap.d/mine.conf" "$(files "$root")"
check "uninstall removed the documentation directory" test ! -e "$root/usr/share/doc/partwrap"
rm "$root/etc/partwrap.d/mine.conf"
make -s uninstall DESTDIR="$root" "${dirs[@]}" >/dev/null 2>&1
check "a second uninstall removes the empty configuration directory" test ! -e "$root/etc/partwrap.d"

# --- install with the defaults -------------------------------------------------
# The directories as the Makefile derives them: pkg-config, else fallbacks.
pc() { pkg-config --variable="$1" "$2" 2>/dev/null; }
unitdir=$(pc systemdsystemunitdir systemd) && [ -n "$unitdir" ] || unitdir=/lib/systemd/system
udevdir=$(pc udevdir udev) && [ -n "$udevdir" ] || udevdir=/lib/udev
compdir=$(pc completionsdir bash-completion) && [ -n "$compdir" ] || compdir=/usr/local/share/bash-completion/completions
root=$tmp/root2
make -s install DESTDIR="$root" >/dev/null 2>&1
check_eq "installed files, default directories (PREFIX=/usr/local)" "$(sort <<EOF
$unitdir/partwrap.service
$unitdir/partwrap@.service
$udevdir/rules.d/70-partwrap.rules
/usr/local/sbin/partwrap
$compdir/partwrap
/usr/local/share/doc/partwrap/json-schema.json
/usr/local/share/doc/partwrap/partwrap.conf.example
/usr/local/share/man/man5/partwrap.conf.5
/usr/local/share/man/man8/partwrap.8
EOF
)" "$(files "$root")"
check "partwrap.service runs /usr/local/sbin/partwrap" grep -qx 'ExecStart=/usr/local/sbin/partwrap apply' \
        "$root$unitdir/partwrap.service"
make -s uninstall DESTDIR="$root" >/dev/null 2>&1
check_eq "uninstall leaves no file" "" "$(files "$root")"
# Leave the tree's generated units as a plain `make` makes them.
make -s "$(sed -n 's/^B := *//p' Makefile)/partwrap.service" >/dev/null 2>&1

# --- make dist ----------------------------------------------------------------
if [ -n "${PARTWRAP_IN_DIST_TEST:-}" ]; then
        skip "make dist" "running inside the unpacked tarball of another make dist test"
        tap_done
        exit
fi
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" != "$(pwd -P)" ]; then
        check_fails "make dist outside a git checkout fails" make -s dist
        skip "make dist" "not a git checkout (git ls-files names the files)"
        tap_done
        exit
fi
if ! out=$(make -s dist 2>&1) || [ ! -f "$DIST.tar.gz" ]; then
        not_ok "make dist"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
        tap_done
        exit
fi
mv "$DIST.tar.gz" "$tmp/"
ok "make dist makes $DIST.tar.gz"
check_eq "the tarball holds exactly git ls-files" "$(git ls-files | sed "s|^|$DIST/|" | sort)" \
        "$(tar tzf "$tmp/$DIST.tar.gz" | sort)"
make -s dist >/dev/null 2>&1 && mv "$DIST.tar.gz" "$tmp/again.tar.gz"
check "make dist is reproducible" cmp "$tmp/$DIST.tar.gz" "$tmp/again.tar.gz"

untracked=$(git ls-files --others --exclude-standard | grep -v "^$DIST\.tar" | head -n 10)
if [ -n "$untracked" ]; then
        # They are not in the tarball: its build would say nothing about this tree.
        skip "the unpacked tarball builds and passes make check" \
                "untracked files would be missing from it (commit them): $(echo $untracked)"
        tap_done
        exit
fi
mkdir "$tmp/u"
tar -C "$tmp/u" -xzf "$tmp/$DIST.tar.gz"
src=$tmp/u/$DIST
limit=${PARTWRAP_DIST_TIMEOUT:-1200}
start=$SECONDS
if out=$(timeout "$limit" make -C "$src" -j"$(nproc)" 2>&1); then
        ok "the unpacked tarball builds"
else
        not_ok "the unpacked tarball builds"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
        tap_done
        exit
fi
check "the unpacked tarball's partwrap runs" "$src/partwrap" --version
left=$((limit - (SECONDS - start)))
# CI=false: CHECK_VM=no leaves the device scenarios out on purpose, which
# run-tests refuses under CI=true.
out=$(CI=false PARTWRAP_IN_DIST_TEST=1 FUZZ_SECONDS=${FUZZ_SECONDS:-2} TEST_LOG_DIR="$src/build/test-logs" \
        timeout "$left" make -C "$src" check CHECK_VM=no 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
if [ "$rc" -eq 124 ]; then
        not_ok "make check CHECK_VM=no in the unpacked tarball (timed out after $limit s)"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
elif [ "$rc" -ne 0 ] || ! [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
        not_ok "make check CHECK_VM=no in the unpacked tarball (exit $rc)"
        printf '%s\n' "$out" | grep -E '^(==|   )' | grep -B1 -E 'not ok|FAILED' | head -n 40 | sed 's/^/#   /'
        diag "$summary"
else
        ok "make check CHECK_VM=no in the unpacked tarball: $summary"
        if grep -q '^== tests/vm/' <<<"$out"; then
                not_ok "CHECK_VM=no ran no UML scenario"
        else
                ok "CHECK_VM=no ran no UML scenario"
        fi
fi
diag "dist build and check took $((SECONDS - start)) s"

tap_done
