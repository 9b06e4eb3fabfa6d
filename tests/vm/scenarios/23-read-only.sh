#!/usr/bin/env bash
# read-only = yes: the dm device, and the loop under its head, are read-only;
# writes through /dev/mapper/NAME fail and reach neither the volume nor the
# header; the data still reads through partition 1; check is healthy.
. "$(dirname "$0")/../lib.sh"

vol=$(make_volume 32 ext4 rodata) || exit 1
settle
before=$(hash_dev "$vol")
hdr=/tmp/headers/ro.header
disk_conf $conf/23-ro.conf ro "$vol" read-only=yes

loops0=$(loops_count)
check "apply creates the read-only disk" pw apply
settle
check "/dev/mapper/ro exists" test -b /dev/mapper/ro
check_eq "blockdev --getro = 1" 1 "$(blockdev --getro /dev/mapper/ro 2>&1)"
check "dmsetup info: readonly" bash -c "dmsetup info ro | grep -Eq '^State: +ACTIVE \(READ-ONLY\)'"
check_eq "dmsetup info -c: attr r (read-only)" r "$(dmsetup info -c --noheadings -o attr ro | cut -c4)"
check_eq "sysfs ro = 1" 1 "$(cat /sys/block/"$(basename "$(readlink -f /dev/mapper/ro)")"/ro)"
check_eq "one loop device attached" $((loops0 + 1)) "$(loops_count)"
check_eq "the header's loop is read-only" 1 "$(losetup -n -l -O RO -j $hdr | tr -d ' ')"
check_eq "the header's loop has autoclear" 1 "$(losetup -n -l -O AUTOCLEAR -j $hdr | tr -d ' ')"
hdr_before=$(hash_dev $hdr)
disk_before=$(hash_dev /dev/mapper/ro)

# Writes, the way a guest or a careless admin would try them.
check_fails "a write into the head through /dev/mapper/ro fails" \
        dd if=/dev/zero of=/dev/mapper/ro bs=512 count=1 seek=1 conv=notrunc,fsync status=none
check_fails "an O_DIRECT write into partition 1 fails" \
        dd if=/dev/zero of=/dev/mapper/ro bs=4096 count=1 seek=256 oflag=direct conv=notrunc status=none
sgdisk -Z /dev/mapper/ro >/dev/null 2>&1   # sgdisk exits 0 even when its writes fail: judge the bytes
check_fails "a write to the header's loop device fails" \
        dd if=/dev/zero of="$(losetup -n -O NAME -j $hdr)" bs=512 count=1 conv=notrunc,fsync status=none
check_eq "header file unchanged" "$hdr_before" "$(hash_dev $hdr)"
check_eq "disk content unchanged (dd, sgdisk -Z)" "$disk_before" "$(hash_dev /dev/mapper/ro)"

# Still a working disk, read-only.
check "sgdisk -v: no problems" bash -c "sgdisk -v /dev/mapper/ro | grep -q 'No problems found'"
lp=$(kernel_parts /dev/mapper/ro)
check "kernel parsed partition 1" test -b "${lp}p1"
check_part_files "files read back through partition 1" "${lp}p1" ro,noload
detach_parts "$lp"

out=$(pw check 2>&1)
check_eq "check exits 0" 0 "$?"
check_eq "check: healthy" "ro: healthy" "$(grep '^ro:' <<<"$out")"
out=$(pw apply 2>&1)
check_eq "second apply exits 0" 0 "$?"
check_eq "second apply: unchanged (read-only matches)" "ro: unchanged" "$(states ro <<<"$out")"

# The declaration flips to read-write: apply must not call the read-only
# device as declared; check must say so.
sed -i 's/^read-only = yes/read-only = no/' $conf/23-ro.conf
out=$(pw apply 2>&1)
check_eq "read-only device, declared read-write: apply exits 1" 1 "$?"
diag "apply said: $(tr '\n' ' ' <<<"$out")"
check "  the message says the device is read-only" grep -q "ro: .*read-only" <<<"$out"
out=$(pw check 2>&1)
check_eq "  check exits 1" 1 "$?"
diag "check said: $(tr '\n' ' ' <<<"$out")"
check "  check says the device is read-only" grep -q "read-only" <<<"$out"
check_eq "  the device is still read-only" 1 "$(blockdev --getro /dev/mapper/ro 2>&1)"
check "stop" pw stop
settle
check_eq "loop detached" "$loops0" "$(loops_count)"
check "apply read-write" pw apply
settle
check_eq "  now blockdev --getro = 0" 0 "$(blockdev --getro /dev/mapper/ro 2>&1)"
check_eq "  and the header's loop is read-write" 0 "$(losetup -n -l -O RO -j $hdr | tr -d ' ')"
check "  check healthy" pw check
# And the other way: a read-write device, now declared read-only.
sed -i 's/^read-only = no/read-only = yes/' $conf/23-ro.conf
out=$(pw apply 2>&1)
check_eq "read-write device, declared read-only: apply exits 1" 1 "$?"
check "  the message says the device is read-write" grep -q "ro: .*read-write" <<<"$out"
check_eq "  the device stays read-write" 0 "$(blockdev --getro /dev/mapper/ro 2>&1)"
pw stop >/dev/null 2>&1
settle
check_eq "header file unchanged throughout" "$hdr_before" "$(hash_dev $hdr)"

check_eq "volume unchanged" "$before" "$(hash_dev "$vol")"
tap_done
