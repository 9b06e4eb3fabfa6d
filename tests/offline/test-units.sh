#!/usr/bin/env bash
# The systemd units as `make` generates them, checked on the host without
# partwrap installed: `systemd-analyze verify` (in a scratch --root holding
# the units and an executable where their ExecStart= points) must pass
# without a single warning, and `systemd-analyze security --offline=true`
# must rate partwrap.service and partwrap@.service at an exposure of at most
# 3.0 (printed as a diag line). The @PLACEHOLDERS@ are all substituted and
# both units carry the shared hardening block.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
cd "$TOP" || exit 1

MAX_EXPOSURE=3.0
if ! command -v systemd-analyze >/dev/null; then
        echo "systemd-analyze is not installed (apt-get install systemd)"
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

units="build/partwrap.service build/partwrap@.service"
# shellcheck disable=SC2086
if out=$(make -s $units 2>&1); then
        ok "make $units"
else
        not_ok "make $units"
        printf '%s\n' "$out" | sed 's/^/#   /'
        tap_done
        exit
fi
sbin=$(sed -n 's|^ExecStart=\(/[^ ]*\)/partwrap apply$|\1|p' build/partwrap.service)
check "ExecStart= names \$SBINDIR/partwrap (${sbin:-none})" test -n "$sbin"
check "no @PLACEHOLDER@ left" bash -c '! grep -n "@[A-Z_]*@" "$@"' _ $units
for u in $units; do
        check "$(basename "$u"): the hardening block is in" grep -qx 'ProtectSystem=strict' "$u"
done

# Ordering (SPEC, "Boot and hotplug"): before libvirt, so that no guest
# starts without its disk, and after the local file systems (the header
# files) and udev. deps UNIT KEY: the units of every KEY= line, sorted.
deps() { sed -n "s/^$2=//p" "$1" | tr ' ' '\n' | grep . | sort -u | paste -sd' '; }
# has_deps UNIT KEY UNIT...: KEY= names each UNIT.
has_deps() {
        local unit=$1 key=$2 have missing=
        shift 2
        have=" $(deps "$unit" "$key") "
        for u; do [[ $have == *" $u "* ]] || missing+=" $u"; done
        [ -z "$missing" ] || { echo "$key=$have lacks$missing"; return 1; }
}
for u in $units; do
        n=$(basename "$u")
        check "$n: Before=libvirtd.service virtqemud.service libvirt-guests.service" \
                has_deps "$u" Before libvirtd.service virtqemud.service libvirt-guests.service
        check "$n: After=local-fs.target systemd-udevd.service" has_deps "$u" After local-fs.target systemd-udevd.service
        check "$n: not Before= and After= one unit" bash -c '[ -z "$(comm -12 <(tr " " "\n" <<<"$1") <(tr " " "\n" <<<"$2"))" ]' _ \
                "$(deps "$u" Before | tr ' ' '\n' | sort | paste -sd' ')" "$(deps "$u" After | tr ' ' '\n' | sort | paste -sd' ')"
done
check "partwrap@.service: After=partwrap.service (the boot run first)" has_deps build/partwrap@.service After partwrap.service
check "partwrap.service: ExecStop= runs stop" grep -qx "ExecStop=$sbin/partwrap stop" build/partwrap.service

# A root with the units and, where they point, an executable: verify checks
# that ExecStart= binaries exist, and partwrap need not be installed here.
root=$tmp/root
unitdir=$root/etc/systemd/system
mkdir -p "$unitdir" "$root$sbin"
cp $units "$unitdir/"
if [ -x partwrap ]; then cp partwrap "$root$sbin/partwrap"; else printf '#!/bin/sh\n' >"$root$sbin/partwrap"; fi
chmod 0755 "$root$sbin/partwrap"
ln -s 'partwrap@.service' "$unitdir/partwrap@win\\x2ddata.service"

# verify DESC UNIT...: exit 0 and not a line of output (systemd-analyze
# verify warns about unknown keys and bad values but still exits 0).
verify() {
        local desc=$1 out rc
        shift
        out=$(cd "$root" && systemd-analyze verify --root="$root" --man=no "$@" 2>&1)
        rc=$?
        if [ "$rc" = 0 ] && [ -z "$out" ]; then
                ok "$desc"
        else
                not_ok "$desc (exit $rc)"
                printf '%s\n' "$out" | sed 's/^/#   /'
        fi
}
verify "systemd-analyze verify partwrap.service" "$unitdir/partwrap.service"
verify "systemd-analyze verify partwrap@.service" "$unitdir/partwrap@.service"
verify "systemd-analyze verify partwrap@win\\x2ddata.service (an instance)" "$unitdir/partwrap@win\\x2ddata.service"

# The check itself: a unit with a mistake must not pass.
sed 's/^NoNewPrivileges=yes$/NoNewPrivileges=yes\nProtectSytem=strict/' build/partwrap.service >"$unitdir/broken.service"
out=$(cd "$root" && systemd-analyze verify --root="$root" --man=no "$unitdir/broken.service" 2>&1)
check "  (a misspelt key is reported: the check can fail)" grep -q "Unknown key 'ProtectSytem'" <<<"$out"
rm -f "$unitdir/broken.service"

# security DESC UNIT-FILE NAME: overall exposure at most MAX_EXPOSURE.
security() {
        local desc=$1 file=$2 name=$3 out e
        out=$(systemd-analyze security --offline=true "$file" 2>&1)
        e=$(sed -n "s/.*Overall exposure level for ${name//\\/\\\\}: \([0-9.]*\).*/\1/p" <<<"$out")
        if [ -z "$e" ]; then
                not_ok "$desc: no exposure level"
                printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
                return
        fi
        diag "systemd-analyze security --offline=true $name: exposure $e (at most $MAX_EXPOSURE)"
        if awk -v e="$e" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
                ok "$desc: exposure $e <= $MAX_EXPOSURE"
        else
                not_ok "$desc: exposure $e > $MAX_EXPOSURE"
                grep '^✗' <<<"$out" | sed 's/^/#   /'
        fi
}
security "partwrap.service" "$unitdir/partwrap.service" partwrap.service
security "partwrap@.service (an instance)" "$unitdir/partwrap@win\\x2ddata.service" 'partwrap@win\x2ddata.service'
tap_done
