#!/usr/bin/env bash
# Every exit status of the contract (SPEC, "Command line"), exactly, for
# every command, where no device is needed: apply 0/1/2, stop (alias
# remove) 0/2, check (alias status) 0/1/2, validate 0/2, mkheader 0/1/2,
# udev-match 0, and the options. Disks whose volumes no machine has
# (timeout = 0); the statuses that need devices (apply and stop of live
# disks, stop 1 of a disk in use) are asserted in tests/vm/scenarios/.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi
tmp=$(mktemp -d)
MNT=
cleanup() {
        [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
        rm -f /run/partwrap/pwtest-exit-*.lock 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
pw() { "$PARTWRAP" "$@"; }

# status_says DESC EXPECTED TEXT CMD...: exit status EXPECTED exactly and
# TEXT in the output (stdout and stderr).
status_says() {
        local desc=$1 want=$2 text=$3 out rc
        shift 3
        out=$("$@" 2>&1)
        rc=$?
        if [ "$rc" -eq "$want" ] && grep -qF -- "$text" <<<"$out"; then
                ok "$desc"
        else
                not_ok "$desc (exit $rc, expected $want, and '$text')"
                printf '%s\n' "$out" | head -n 15 | sed 's/^/#   /'
        fi
}

# Configurations: a disk whose volume is absent, one that may be absent
# (nofail), a broken file.
gone=$tmp/gone nofail=$tmp/nofail broken=$tmp/broken both=$tmp/both
mkdir -p "$gone" "$nofail" "$broken" "$both"
g_conf='[pwtest-exit-gone]
volume = UUID=00000000-dead-beef-0000-00000000e812
header = '$tmp'/h/gone.header
timeout = 0
'
n_conf='[pwtest-exit-nofail]
volume = LABEL=pwtest-exit-NOWHERE
header = '$tmp'/h/nofail.header
timeout = 0
nofail = yes
'
printf '%s' "$g_conf" >"$gone/a.conf"
printf '%s' "$n_conf" >"$nofail/a.conf"
printf '%s\n%s' "$g_conf" "$n_conf" >"$both/a.conf"
printf '%s' "$n_conf" >"$broken/a.conf"
printf '[pwtest-exit-bad]\nvolume = relative/path\n' >"$broken/b.conf"
chmod 600 "$tmp"/*/*.conf

# --- options and commands
check_status "--help: exit 0" 0 pw --help
check_status "--version: exit 0" 0 pw --version
check_status "no command: exit 2" 2 pw
check_status "an unknown command: exit 2" 2 pw frobnicate
check_status "an unknown option: exit 2" 2 pw --frobnicate check

# --- validate
check_status "validate a good file: exit 0" 0 pw validate "$nofail/a.conf"
check_status "validate a good directory: exit 0" 0 pw validate "$both"
check_status "validate a broken directory: exit 2" 2 pw validate "$broken"
check_status "validate a missing file: exit 2" 2 pw validate "$tmp/no-such.conf"

# --- check (alias status): no lock needed
status_says "check, only a nofail volume absent: exit 0, 'missing'" 0 "pwtest-exit-nofail: missing" pw -c "$nofail" check
status_says "status (alias of check), the same: exit 0, 'missing'" 0 "pwtest-exit-nofail: missing" pw -c "$nofail" status
status_says "check, a volume absent: exit 1" 1 "pwtest-exit-gone: unhealthy" pw -c "$gone" check
status_says "check, both: exit 1 (the absent one), nofail still 'missing'" 1 "pwtest-exit-nofail: missing" pw -c "$both" check
check_status "status (alias), a volume absent: exit 1" 1 pw -c "$gone" status
status_says "check with a configuration error: exit 2, the good disk still checked" 2 "pwtest-exit-nofail: missing" pw -c "$broken" check
check_status "check NAME not declared: exit 2" 2 pw -c "$nofail" check no-such-disk
check_status "check with an unknown option: exit 2" 2 pw -c "$nofail" check --frobnicate

# --- apply -n: plans only, no lock
status_says "apply -n, only a nofail volume absent: exit 0, 'missing'" 0 "pwtest-exit-nofail: missing" pw -c "$nofail" apply -n
status_says "apply -n, a volume absent: exit 1, 'failed'" 1 "pwtest-exit-gone: failed" pw -c "$gone" apply -n
check_status "apply -n with a configuration error: exit 2" 2 pw -c "$broken" apply -n

# --- apply and stop (alias remove): they take locks in /run/partwrap
if [ "$(id -u)" = 0 ]; then
        status_says "apply, only a nofail volume absent: exit 0, 'missing'" 0 "pwtest-exit-nofail: missing" pw -c "$nofail" apply
        status_says "apply, a volume absent: exit 1, 'failed'" 1 "pwtest-exit-gone: failed" pw -c "$gone" apply
        status_says "apply, both: exit 1" 1 "pwtest-exit-gone: failed" pw -c "$both" apply
        status_says "apply with a configuration error: exit 2, the good disk still served" 2 "pwtest-exit-nofail: missing" pw -c "$broken" apply
        check_status "apply NAME not declared: exit 2" 2 pw -c "$nofail" apply no-such-disk
        check_status "apply with an unknown option: exit 2" 2 pw -c "$nofail" apply --frobnicate
        status_says "stop, nothing to remove: exit 0, 'absent'" 0 "pwtest-exit-gone: absent" pw -c "$both" stop
        status_says "remove (alias of stop): exit 0, 'absent'" 0 "pwtest-exit-gone: absent" pw -c "$both" remove
        status_says "stop with a configuration error: exit 2" 2 "$broken/b.conf" pw -c "$broken" stop
        check_status "remove with a configuration error: exit 2" 2 pw -c "$broken" remove
        check_status "stop NAME not declared: exit 2" 2 pw -c "$both" stop no-such-disk
        check_status "stop with an unknown option: exit 2" 2 pw -c "$both" stop --frobnicate
        check "no header file was made for an absent volume" test ! -e "$tmp/h"
else
        skip "apply and stop exit statuses" "they lock in /run/partwrap: run as root"
fi

# --- udev-match: 0, always
check_status "udev-match of /dev/null: exit 0" 0 pw -c "$both" udev-match /dev/null
check_status "udev-match of a missing node: exit 0" 0 pw -c "$both" udev-match /dev/no-such-disk
check_status "udev-match with a configuration error: exit 0" 0 pw -c "$broken" udev-match /dev/null
check_status "udev-match with a missing configuration directory: exit 0" 0 pw -c "$tmp/no-such-dir" udev-match /dev/null

# --- mkheader
mk=$tmp/mk
mkdir -p "$mk"
check_status "mkheader: exit 0" 0 pw mkheader --size 64MiB -o "$mk/a.header"
check_status "mkheader, -o exists: exit 2" 2 pw mkheader --size 64MiB -o "$mk/a.header"
check_status "mkheader, --size missing: exit 2" 2 pw mkheader -o "$mk/b.header"
check_status "mkheader, MBR past 2^32 sectors: exit 2" 2 pw mkheader --table mbr --size 3TiB -o "$mk/b.header"
check_status "mkheader, an unexpected argument: exit 2" 2 pw mkheader --size 64MiB -o "$mk/b.header" extra
check_eq "  the refusals wrote nothing" "a.header" "$(ls -A "$mk")"

# An I/O error while writing: exit 1, and nothing left. A file size limit
# (write fails with EFBIG; SIGXFSZ ignored, as the shell passes it on) works
# anywhere; a full tmpfs (ENOSPC) where this user can mount one.
io_dir=$tmp/io
mkdir -p "$io_dir"
status_says "mkheader, a write that fails (file size limit, EFBIG): exit 1" 1 "File too large" \
        bash -c 'trap "" XFSZ; ulimit -f 64; exec "$@"' _ "$PARTWRAP" mkheader --size 64MiB -o "$io_dir/a.header"
check_eq "  nothing left in the directory" "" "$(ls -A "$io_dir")"
MNT=$tmp/full
mkdir -p "$MNT"
if mount -t tmpfs -o size=256k,mode=0700 pwtest-full "$MNT" 2>/dev/null; then
        status_says "mkheader on a full filesystem (ENOSPC): exit 1" 1 "No space left on device" \
                pw mkheader --size 64MiB -o "$MNT/a.header"
        check_eq "  nothing left on it" "" "$(ls -A "$MNT")"
        umount "$MNT"
else
        skip "mkheader on a full filesystem" "cannot mount a tmpfs here (not root?)"
fi
MNT=
tap_done
