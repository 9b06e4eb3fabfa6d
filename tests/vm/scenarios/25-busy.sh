#!/usr/bin/env bash
# Busy devices. A mounted volume: apply refuses it (in use, mounted at ...)
# and leaves no dm device, no loop and no header file (the in-use check comes
# before the header is created in apply_prepare). An open disk: stop refuses
# it, says who holds it, and leaves it working; once closed, stop works.
. "$(dirname "$0")/../lib.sh"

vol=$(make_volume 32 ext4 busy) || exit 1
vol2=$(make_volume 32 ext4 open) || exit 1
settle
h1=$(hash_dev "$vol") h2=$(hash_dev "$vol2")
disk_conf $conf/25-disks.conf mounted "$vol"
disk_conf $conf/25-disks.conf opened "$vol2"

# --- a mounted volume (read-only mount, so the volume's hash stays valid)
mkdir -p /tmp/inuse
mount -o ro,noload "$vol" /tmp/inuse || exit 1
loops0=$(loops_count) dm0=$(dm_count)
out=$(pw apply mounted 2>&1)
check_eq "apply of a mounted volume exits 1" 1 "$?"
check "message: in use (mounted at /tmp/inuse)" grep -qF "mounted: $vol: in use (mounted at /tmp/inuse)" <<<"$out"
diag "apply said: $(tr '\n' ' ' <<<"$out")"
check_no_disk mounted "$loops0" "$dm0"
check "no header file (refused before it is created)" test ! -e /tmp/headers/mounted.header
check "no temp file in the header directory" test -z "$(ls -A /tmp/headers 2>/dev/null)"
check_status "dry run refuses it too: exit 1" 1 "$PARTWRAP" -c $conf apply -n mounted
check_eq "the mount is intact" "$vol" "$(findmnt -n -o SOURCE /tmp/inuse)"
umount /tmp/inuse
check "after umount: apply works" pw apply mounted
settle
check "  check healthy" pw check mounted
# The dm device now holds the volume: a mount attempt of the raw volume
# fails, and apply is still unchanged (no false 'in use').
check_fails "the volume under a live disk cannot be mounted (dm holds it)" mount -o ro,noload "$vol" /tmp/inuse
out=$(pw apply mounted 2>&1)
check_eq "  second apply: unchanged, not 'in use'" "mounted: unchanged" "$(states mounted <<<"$out")"
check "stop mounted" pw stop mounted
settle

# --- a disk held open by a process
check "apply opened" pw apply opened
settle
loops1=$(loops_count)
exec 3</dev/mapper/opened
out=$(pw stop opened 2>&1)
check_eq "stop of an open disk exits 1" 1 "$?"
check "  message: /dev/mapper/opened: in use (open 1 time)" grep -qF "/dev/mapper/opened: in use (open 1 time)" <<<"$out"
diag "stop said: $(tr '\n' ' ' <<<"$out")"
check "  the device stays" test -b /dev/mapper/opened
check_eq "  its loop stays" "$loops1" "$(loops_count)"
check "  and still reads" bash -c 'dd if=/dev/mapper/opened bs=512 skip=1 count=1 status=none | head -c 8 | grep -q "EFI PART"'
check "  check still healthy" pw check opened
exec 3<&-
check "after close: stop works" pw stop opened
settle
check_no_disk opened "$((loops1 - 1))"

# --- a disk whose partition is mounted through a partitioned loop
check "apply opened again" pw apply opened
settle
lp=$(kernel_parts /dev/mapper/opened)
mkdir -p /tmp/p1
mount -o ro,noload "${lp}p1" /tmp/p1 || not_ok "mount ${lp}p1"
out=$(pw stop 2>&1)
check_eq "stop with a partition mounted exits 1" 1 "$?"
check "  message: /dev/mapper/opened: in use" grep -qF "opened: /dev/mapper/opened: in use (" <<<"$out"
# A loop device over a block device is no sysfs holder of it: partwrap cannot
# name ${lp#/dev/} from /sys/.../holders, so only "in use (open 1 time)" is
# asserted; the message is shown for the report.
diag "stop said: $(tr '\n' ' ' <<<"$out")"
check "  the device stays" test -b /dev/mapper/opened
check "  the files still read" check_files /tmp/p1
check "  the other disk is reported absent (not affected)" grep -q "^mounted: absent" <<<"$out"
umount /tmp/p1
detach_parts "$lp"
check "after umount and losetup -d: stop works" pw stop
settle
check_no_disk opened "$loops0" "$dm0"

check_eq "volume (mounted) unchanged" "$h1" "$(hash_dev "$vol")"
check_eq "volume (opened) unchanged" "$h2" "$(hash_dev "$vol2")"
tap_done
