#!/usr/bin/env bash
# GPT over an ext4 volume named by path: apply, the kernel's own parser,
# idempotence, check, stop and apply again.
. "$(dirname "$0")/../lib.sh"

vol=$(make_volume 64 ext4 data) || exit 1
before=$(hash_dev "$vol")
disk_conf $conf/10-disk.conf vm-disk "$vol"

loops0=$(loops_count)
check "apply creates the disk" pw apply
check "/dev/mapper/vm-disk exists" test -b /dev/mapper/vm-disk
check_eq "dm uuid is PARTWRAP-vm-disk" "PARTWRAP-vm-disk" "$(dmsetup info -c --noheadings -o uuid vm-disk)"
check_eq "one loop device attached" $((loops0 + 1)) "$(loops_count)"
check_eq "header file mode 0600" 600 "$(stat -c %a /tmp/headers/vm-disk.header)"
check_eq "header directory mode 0700" 700 "$(stat -c %a /tmp/headers)"
size=$(blockdev --getsize64 "$vol")
check_eq "disk size = 1 MiB + volume + 16.5 KiB" $((1048576 + size + 16896)) "$(blockdev --getsize64 /dev/mapper/vm-disk)"
check "sgdisk -v on the live device" bash -c "sgdisk -v /dev/mapper/vm-disk | grep -q 'No problems found'"
check "sfdisk --verify on the live device" sfdisk --verify /dev/mapper/vm-disk
check_eq "blkid -p: PTTYPE gpt" gpt "$(blkid -p -o value -s PTTYPE /dev/mapper/vm-disk)"
start=$(sfdisk -J /dev/mapper/vm-disk | json_get 'p[0]["start"]' 'p[0]["size"]' 'p[0]["type"]')
check_eq "sfdisk: partition 1 = 2048 + volume, Linux filesystem" "2048 $((size / 512)) 0FC63DAF-8483-4772-8E79-3D69D8477DE4" "$start"

# The kernel's own partition parser, then the filesystem through it.
lp=$(kernel_parts /dev/mapper/vm-disk)
check "kernel parsed partition 1" test -b "${lp}p1"
check_eq "partition 1 is the volume, byte for byte" "$before" "$(hash_dev "${lp}p1")"
mkdir -p /tmp/mnt
check "mount partition 1 read-only" mount -o ro "${lp}p1" /tmp/mnt
check "files read back through the partition" check_files /tmp/mnt
umount /tmp/mnt
detach_parts "$lp"

# Idempotence: nothing changes, no new loop, header untouched.
table1=$(dmsetup table vm-disk)
hdr1=$(hash_dev /tmp/headers/vm-disk.header)
mtime1=$(stat -c %Y.%Z /tmp/headers/vm-disk.header)
loops1=$(loops_count)
out=$(pw apply)
check_eq "second apply exits 0" 0 "$?"
check_eq "second apply reports unchanged" "vm-disk: unchanged" "$(echo "$out" | cut -d' ' -f1-2)"
check_eq "same dm table" "$table1" "$(dmsetup table vm-disk)"
check_eq "no new loop" "$loops1" "$(loops_count)"
check_eq "header bytes unchanged" "$hdr1" "$(hash_dev /tmp/headers/vm-disk.header)"
check_eq "header mtime unchanged" "$mtime1" "$(stat -c %Y.%Z /tmp/headers/vm-disk.header)"
check "check passes" pw check
check "check --json is valid JSON" bash -c "$PARTWRAP -c $conf check --json | python3 -m json.tool >/dev/null"

# stop: dm gone, loop gone by autoclear, header kept; apply again: same bytes.
check "stop" pw stop
settle
check_no_disk vm-disk "$loops0"       # the loop detached by autoclear
check "header kept" test -f /tmp/headers/vm-disk.header
check "stop again is fine (absent)" pw stop
check "apply again" pw apply
check_eq "same header bytes after re-apply" "$hdr1" "$(hash_dev /tmp/headers/vm-disk.header)"
check "check passes again" pw check
pw stop >/dev/null

check_eq "volume unchanged" "$before" "$(hash_dev "$vol")"
tap_done
