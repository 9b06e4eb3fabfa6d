#!/usr/bin/env bash
# make demo: installs what is missing, builds partwrap, then shows it at work:
# an NTFS volume without a partition table becomes partition 1 of a GPT disk.
#
# Where this kernel has device-mapper and loop devices (a real server or
# desktop, as root) the demo runs right here: its own loop-backed volume, a
# dm name of its own (partwrap-demo-PID), every file under one temporary
# directory, all of it removed on exit and on Ctrl-C; /etc/partwrap.d and
# /var/lib/partwrap are not touched. Elsewhere (a kernel without
# device-mapper, as on the build machines) it boots a throw-away VM through
# tests/vm/run and runs there, natively. The first line says which, and why.
set -euo pipefail
cd "$(dirname "$0")/../.."

# native_why: succeeds, printing why, when the demo can run on this kernel;
# fails, printing why not.
native_why() {
        [ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
        [ -c /dev/mapper/control ] || modprobe -q dm-mod 2>/dev/null
        [ -c /dev/mapper/control ] || { echo "this kernel has no device-mapper (no /dev/mapper/control)"; return 1; }
        [ -c /dev/loop-control ] || modprobe -q loop 2>/dev/null
        [ -c /dev/loop-control ] || { echo "this kernel has no loop devices"; return 1; }
        echo "this kernel has device-mapper and loop devices"
}

if ! why=$(native_why); then
        echo "demo: in a VM: $why"
        tests/deps.sh
        make -s partwrap
        PARTWRAP=$PWD/partwrap exec tests/vm/run "$0"
fi
echo "demo: native: $why"
tests/deps.sh
make -s partwrap
PARTWRAP=${PARTWRAP:-$PWD/partwrap}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/partwrap-demo.XXXXXX")
name=partwrap-demo-$$
vol='' view=''

# Undoes whatever was done, in reverse; runs on every exit, Ctrl-C included.
cleanup() {
        trap - EXIT INT TERM
        set +e
        local m
        for m in "$tmp/p1" "$tmp/m"; do mountpoint -q "$m" && umount "$m"; done
        [ -n "$view" ] && losetup -d "$view"
        [ -b "/dev/mapper/$name" ] && "$PARTWRAP" -q -c "$tmp/conf" stop "$name"
        [ -n "$vol" ] && losetup -d "$vol"
        command -v udevadm >/dev/null && udevadm settle --timeout=10 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
settle() { ! command -v udevadm >/dev/null || udevadm settle --timeout=10 2>/dev/null || true; }

say "1. A 256 MiB volume with an NTFS filesystem directly on it, no partition table"
truncate -s 256M "$tmp/data.img"
vol=$(losetup -f --show "$tmp/data.img")
out=$(mkfs.ntfs -Q -F -q -L WinData "$vol" 2>&1) || { echo "$out"; exit 1; }
modprobe -q fuse 2>/dev/null || true
mkdir "$tmp/m" && ntfs-3g "$vol" "$tmp/m"
echo "Hello from the volume, written on the host" >"$tmp/m/hello.txt"
umount "$tmp/m"
run blkid "$vol"
sum=$(sha256sum <"$vol")

say "2. Declare the disk (here in $tmp/conf; normally /etc/partwrap.d)"
mkdir "$tmp/conf"
cat >"$tmp/conf/demo.conf" <<EOC
[$name]
volume = $vol
table = gpt
header = $tmp/headers/$name.header
EOC
run cat "$tmp/conf/demo.conf"
run "$PARTWRAP" -c "$tmp/conf" validate

say "3. What apply would do (--dry-run)"
run "$PARTWRAP" -c "$tmp/conf" apply --dry-run

say "4. partwrap apply"
run "$PARTWRAP" -c "$tmp/conf" apply
run "$PARTWRAP" -c "$tmp/conf" apply   # again: idempotent

say "5. partwrap check"
run "$PARTWRAP" -c "$tmp/conf" check

say "6. The partition table a VM sees on /dev/mapper/$name"
run sfdisk -l "/dev/mapper/$name"
run dmsetup table "$name"

say "7. The kernel parses that table; partition 1 is the NTFS volume"
view=$(losetup -f --show -r -P "/dev/mapper/$name")
settle
run lsblk -o NAME,SIZE,TYPE,FSTYPE,LABEL "$view"
mkdir "$tmp/p1" && ntfs-3g -o ro "${view}p1" "$tmp/p1"
run cat "$tmp/p1/hello.txt"
umount "$tmp/p1"
losetup -d "$view"
view=''
settle

say "8. Stop: the disk and its loop device go away; the header file stays"
run "$PARTWRAP" -c "$tmp/conf" stop
run ls -l "$tmp/headers/"

say "9. The volume was never written"
if [ "$(sha256sum <"$vol")" = "$sum" ]; then
        echo "sha256 of $vol before and after: identical"
else
        echo "VOLUME CHANGED"
        exit 1
fi
echo
echo "Done. With a real volume, declare it in /etc/partwrap.d and give"
echo "/dev/mapper/NAME to a VM as a disk (see README.md, libvirt)."
