#!/usr/bin/env bash
# MBR over an NTFS volume named by UUID=: apply, independent parsers (sfdisk,
# the kernel), ntfs-3g through partition 1, check (text and JSON), and the
# volume is never written.
. "$(dirname "$0")/../lib.sh"

vol=$(make_volume 64 ntfs WINDATA) || exit 1
settle
before=$(hash_dev "$vol")
uuid=$(blkid -p -o value -s UUID "$vol")
check "the NTFS volume has a UUID" test -n "$uuid"
check "udev knows the volume by UUID" test -e "/dev/disk/by-uuid/$uuid"
hdr=/tmp/headers/win.header
disk_conf $conf/20-win.conf win "UUID=$uuid" table=mbr

loops0=$(loops_count)
out=$(pw apply 2>&1)
rc=$?
check_eq "apply exits 0" 0 "$rc"
check_eq "apply reports created" "win: created" "$(states win <<<"$out")"
settle
check "/dev/mapper/win exists" test -b /dev/mapper/win
check_eq "dm uuid is PARTWRAP-win" "PARTWRAP-win" "$(dmsetup info -c --noheadings -o uuid win)"
check_eq "one loop device attached" $((loops0 + 1)) "$(loops_count)"
# The UUID resolved to the volume: the dm table's middle segment is the volume.
vmm=$(lsblk -dn -o MAJ:MIN "$vol" | tr -d ' ')
vsec=$(blockdev --getsz "$vol")
check_eq "dm table: segment 2 maps the volume at offset 0" "2048 $vsec linear $vmm 0" \
        "$(dmsetup table win | sed -n 2p)"
check_eq "dm table has no tail (MBR)" 2 "$(dmsetup table win | wc -l)"
size=$(blockdev --getsize64 "$vol")
check_eq "disk size = 1 MiB + volume (no tail)" $((1048576 + size)) "$(blockdev --getsize64 /dev/mapper/win)"
check_eq "header file is exactly 1 MiB" 1048576 "$(stat -c %s $hdr)"

sf=$(sfdisk -J /dev/mapper/win 2>&1)
parts=$(json_get 't["label"]' 'len(p)' 'p[0]["start"]' 'p[0]["size"]' 'p[0]["type"]' <<<"$sf")
check_eq "sfdisk -J: dos label, one partition, start 2048, volume size, type 7" "dos 1 2048 $vsec 7" "$parts"
check_eq "blkid -p: PTTYPE dos" dos "$(blkid -p -o value -s PTTYPE /dev/mapper/win)"
check "sfdisk --verify on the live device" sfdisk --verify /dev/mapper/win
sig=$(od -An -tx1 -j 510 -N 2 /dev/mapper/win | tr -d ' ')
check_eq "boot signature 55aa at offset 510" 55aa "$sig"
dsig=$(od -An -tx4 -j 440 -N 4 /dev/mapper/win | tr -d ' ')
check "disk signature is not zero" test "$dsig" != 00000000

# The kernel's msdos parser, then NTFS through partition 1.
lp=$(kernel_parts /dev/mapper/win)
check "kernel parsed partition 1 (${lp}p1)" test -b "${lp}p1"
check "kernel parsed no partition 2" test ! -e "${lp}p2"
check_eq "kernel: partition 1 starts at sector 2048" 2048 "$(cat /sys/class/block/"${lp#/dev/}p1"/start 2>&1)"
check_eq "kernel: partition 1 has the volume's size" "$vsec" "$(blockdev --getsz "${lp}p1" 2>&1)"
check_eq "partition 1 is the volume, byte for byte" "$before" "$(hash_dev "${lp}p1")"
check_eq "blkid -p sees ntfs with the volume's UUID on p1" "ntfs $uuid" \
        "$(blkid -p -o value -s TYPE "${lp}p1") $(blkid -p -o value -s UUID "${lp}p1")"
check_part_files "ntfs-3g: files read back through partition 1" "${lp}p1"
detach_parts "$lp"

# check, text and JSON
out=$(pw check 2>&1)
rc=$?
check_eq "check exits 0" 0 "$rc"
check_eq "check reports healthy" "win: healthy" "$(echo "$out" | grep '^win:')"
check_eq "check: no FAIL line" "" "$(grep FAIL <<<"$out")"
json=$(pw check --json 2>/dev/null)
check_eq "check --json parses, state healthy, exit_status 0, mbr" "healthy 0 mbr" "$(json_get 'k["state"]' 'd["exit_status"]' 'k["table_type"]' <<<"$json")"
check_eq "check --json: every check ok" "" "$(json_get '"\n".join("%s %s" % (c["name"], c["message"]) for c in k["checks"] if c["status"] != "ok")' <<<"$json")"
check_eq "check --json: volume resolved to $vol" "$(realpath "$vol")" \
        "$(json_get 'k["volume"]' <<<"$json")"

# Idempotent second apply, then stop.
hdr1=$(hash_dev $hdr)
out=$(pw apply 2>&1)
check_eq "second apply: unchanged" "win: unchanged" "$(states win <<<"$out")"
check_eq "header bytes unchanged by the second apply" "$hdr1" "$(hash_dev $hdr)"
check "stop" pw stop
settle
check_no_disk win "$loops0"

check_eq "volume unchanged" "$before" "$(hash_dev "$vol")"
tap_done
