#!/usr/bin/env bash
# make demo: installs what is missing, builds partwrap, then shows it at work
# inside User-Mode Linux (this machine's kernel has no device-mapper): an
# NTFS volume without a partition table becomes partition 1 of a GPT disk.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${IN_VM:-}" ]; then
        tests/deps.sh
        make -s partwrap
        echo "== Booting a throw-away User-Mode Linux VM (a few seconds)..."
        PARTWRAP=$PWD/partwrap exec tests/vm/run "$0"
fi

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "1. A 256 MiB volume with an NTFS filesystem directly on it, no partition table"
img=/tmp/data.img
truncate -s 256M $img
vol=$(losetup -f --show $img)
mkfs.ntfs -Q -F -q -L WinData "$vol" >/dev/null
mkdir -p /tmp/m && ntfs-3g "$vol" /tmp/m
echo "Hello from the volume, written on the host" >/tmp/m/hello.txt
umount /tmp/m
run blkid "$vol"
sum=$(sha256sum <"$vol")

say "2. Declare the disk in /etc/partwrap.d/win-data.conf"
mkdir -p /etc/partwrap.d
cat >/etc/partwrap.d/win-data.conf <<EOC
[win-data]
volume = $vol
table = gpt
EOC
run cat /etc/partwrap.d/win-data.conf
run "$PARTWRAP" validate

say "3. What apply would do (--dry-run)"
run "$PARTWRAP" apply --dry-run

say "4. partwrap apply"
run "$PARTWRAP" apply
run "$PARTWRAP" apply   # again: idempotent

say "5. partwrap check"
run "$PARTWRAP" check

say "6. The partition table a VM sees on /dev/mapper/win-data"
run sfdisk -l /dev/mapper/win-data
run dmsetup table win-data

say "7. The kernel parses that table; partition 1 is the NTFS volume"
disk=$(losetup -f --show -r -P /dev/mapper/win-data)
udevadm settle
run lsblk -o NAME,SIZE,TYPE,FSTYPE,LABEL "$disk"
mkdir -p /tmp/p1 && ntfs-3g -o ro "${disk}p1" /tmp/p1
run cat /tmp/p1/hello.txt
umount /tmp/p1
losetup -d "$disk"
udevadm settle

say "8. Stop: the disk and its loop device go away; the header file stays"
run "$PARTWRAP" stop
run ls -l /var/lib/partwrap/

say "9. The volume was never written"
if [ "$(sha256sum <"$vol")" = "$sum" ]; then
        echo "sha256 of $vol before and after: identical"
else
        echo "VOLUME CHANGED" && exit 1
fi
echo
echo "Done. Give /dev/mapper/win-data to a VM as a disk (see README.md, libvirt)."
