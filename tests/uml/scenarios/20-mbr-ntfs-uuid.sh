#!/usr/bin/env bash
# MBR over an NTFS volume named by UUID=: apply, independent parsers (sfdisk,
# the kernel), ntfs-3g through partition 1, check (text and JSON), and the
# volume is never written.
. "$(dirname "$0")/../lib.sh"
# The system python: a pyenv shim in PATH costs ~3 s per call in the VM.
PY=python3 && [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

conf=/tmp/conf && mkdir -p $conf
vol=$(make_volume 64 ntfs WINDATA) || exit 1
settle
before=$(hash_dev "$vol")
uuid=$(blkid -p -o value -s UUID "$vol")
check "the NTFS volume has a UUID" test -n "$uuid"
check "udev knows the volume by UUID" test -e "/dev/disk/by-uuid/$uuid"
hdr=/tmp/headers/win.header
cat >$conf/20-win.conf <<EOC
[win]
volume = UUID=$uuid
table = mbr
header = $hdr
EOC
pw() { "$PARTWRAP" -c $conf "$@"; }

loops0=$(loops_count)
out=$(pw apply 2>&1)
rc=$?
check_eq "apply exits 0" 0 "$rc"
check_eq "apply reports created" "win: created" "$(echo "$out" | grep '^win:' | cut -d' ' -f1-2)"
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
parts=$(echo "$sf" | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
p = t["partitions"]
print(t["label"], len(p), p[0]["start"], p[0]["size"], p[0]["type"])' 2>&1)
check_eq "sfdisk -J: dos label, one partition, start 2048, volume size, type 7" "dos 1 2048 $vsec 7" "$parts"
check_eq "blkid -p: PTTYPE dos" dos "$(blkid -p -o value -s PTTYPE /dev/mapper/win)"
check "sfdisk --verify on the live device" sfdisk --verify /dev/mapper/win
sig=$(od -An -tx1 -j 510 -N 2 /dev/mapper/win | tr -d ' ')
check_eq "boot signature 55aa at offset 510" 55aa "$sig"
dsig=$(od -An -tx4 -j 440 -N 4 /dev/mapper/win | tr -d ' ')
check "disk signature is not zero" test "$dsig" != 00000000

# The kernel's msdos parser, then NTFS through partition 1.
lp=$(losetup -f --show -r -P /dev/mapper/win)
settle
check "kernel parsed partition 1 (${lp}p1)" test -b "${lp}p1"
check "kernel parsed no partition 2" test ! -e "${lp}p2"
check_eq "kernel: partition 1 starts at sector 2048" 2048 "$(cat /sys/class/block/"${lp#/dev/}p1"/start 2>&1)"
check_eq "kernel: partition 1 has the volume's size" "$vsec" "$(blockdev --getsz "${lp}p1" 2>&1)"
check_eq "partition 1 is the volume, byte for byte" "$before" "$(hash_dev "${lp}p1")"
check_eq "blkid -p sees ntfs with the volume's UUID on p1" "ntfs $uuid" \
        "$(blkid -p -o value -s TYPE "${lp}p1") $(blkid -p -o value -s UUID "${lp}p1")"
if mount_fs "${lp}p1" /tmp/p1 ro; then
        check "ntfs-3g: files read back through partition 1" check_files /tmp/p1
        umount /tmp/p1
else
        not_ok "ntfs-3g mount of ${lp}p1"
fi
losetup -d "$lp"
settle

# check, text and JSON
out=$(pw check 2>&1)
rc=$?
check_eq "check exits 0" 0 "$rc"
check_eq "check reports healthy" "win: healthy" "$(echo "$out" | grep '^win:')"
check_eq "check: no FAIL line" "" "$(grep FAIL <<<"$out")"
json=$(pw check --json 2>/dev/null)
check_eq "check --json parses, state healthy, exit_status 0, mbr" "healthy 0 mbr" "$(echo "$json" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
k = d["disks"][0]
print(k["state"], d["exit_status"], k["table_type"])' 2>&1)"
check_eq "check --json: every check ok" "" "$(echo "$json" | "$PY" -c '
import json, sys
for c in json.load(sys.stdin)["disks"][0]["checks"]:
    if c["status"] != "ok": print(c["name"], c["message"])' 2>&1)"
check_eq "check --json: volume resolved to $vol" "$(realpath "$vol")" \
        "$(echo "$json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["disks"][0]["volume"])' 2>&1)"

# Idempotent second apply, then stop.
hdr1=$(sha256sum <$hdr)
out=$(pw apply 2>&1)
check_eq "second apply: unchanged" "win: unchanged" "$(echo "$out" | grep '^win:' | cut -d' ' -f1-2)"
check_eq "header bytes unchanged by the second apply" "$hdr1" "$(sha256sum <$hdr)"
check "stop" pw stop
settle
check "dm device removed" bash -c "! dmsetup info win >/dev/null 2>&1"
check_eq "loop detached" "$loops0" "$(loops_count)"

check_eq "volume unchanged" "$before" "$(hash_dev "$vol")"
tap_done
