#!/usr/bin/env bash
# The keys that shape a disk's identity, in a real apply, judged by sfdisk,
# sgdisk, blkid and the kernel on /dev/mapper/NAME: alignment,
# partition-name, disk-guid, partition-guid (GPT) and disk-signature (MBR)
# as declared; left to their defaults, the GUIDs and the signature are the
# UUID v5 values partwrap.conf(5) documents (computed here with Python's
# uuid.uuid5, from the filesystem UUID blkid reads, an NTFS serial in upper
# case included) and the partition name is the filesystem label. Then the
# aliases status and remove on live disks, and stop's exit status 2.
. "$(dirname "$0")/../lib.sh"

NAMESPACE=6f1c2b9e-553d-4c71-9a0e-8d3721b4e65a    # partwrap.conf(5)
DISK_GUID=0C1DD0A5-6A5E-4E4B-9C1B-2E3F40516273
PART_GUID=7E57AB1E-0000-4000-8000-0000000000A1
vg=$(make_volume 32 ext4 keysg) && vm=$(make_volume 32 ntfs KEYSM) &&
        vd=$(make_volume 32 ext4 derived) && vn=$(make_volume 32 ntfs DERIVEDN) || exit 1
settle
declare -A HASH
for v in $vg $vm $vd $vn; do HASH[$v]=$(hash_dev "$v"); done
sectors=$(blockdev --getsz "$vg")     # all four have the same size

disk_conf $conf/29.conf pinned "$vg" alignment=4MiB "partition-name=Données 1" \
        disk-guid="${DISK_GUID,,}" partition-guid="$PART_GUID"
disk_conf $conf/29.conf pinned-mbr "$vm" table=mbr alignment=2MiB disk-signature=0x5eed1e55
disk_conf $conf/29.conf derived "$vd"
disk_conf $conf/29.conf derived-mbr "$vn" table=mbr
loops0=$(loops_count)
check_status "apply creates the four disks: exit 0" 0 pw apply
settle

# sf NAME EXPR...: json_get over sfdisk -J of /dev/mapper/NAME.
sf() { sfdisk -J "/dev/mapper/$1" 2>&1 | json_get "${@:2}"; }
# uuid5 PURPOSE NAME FS_UUID: the derivation of partwrap.conf(5).
uuid5() {
        "$PY" -c 'import sys, uuid
ns = uuid.UUID(sys.argv[1])
u = uuid.uuid5(ns, sys.argv[2] + "\n" + sys.argv[3] + "\n" + sys.argv[4].lower())
print(str(u).upper() if sys.argv[2] != "mbr" else "0x%08x" % (int.from_bytes(u.bytes[:4], "big") or 1))' \
                "$NAMESPACE" "$@"
}

# --- GPT, every key set
check_eq "pinned: dm table starts with a 4 MiB head" "0 8192 linear" "$(dmsetup table pinned | head -n 1 | cut -d' ' -f1-3)"
check_eq "pinned: disk size = 4 MiB + volume + 16.5 KiB" $(((8192 + sectors + 33) * 512)) "$(blockdev --getsize64 /dev/mapper/pinned)"
check "pinned: sgdisk -v finds no problems" bash -c "sgdisk -v /dev/mapper/pinned | grep -q '^No problems found'"
check_eq "pinned: sfdisk: disk GUID, partition 1 at 8192 over the volume, its GUID and name" \
        "$DISK_GUID 8192 $sectors $PART_GUID Données 1" \
        "$(sf pinned 't["id"]' 'p[0]["start"]' 'p[0]["size"]' 'p[0]["uuid"]' 'p[0]["name"]')"
check "pinned: sgdisk -p shows the disk GUID" bash -c "sgdisk -p /dev/mapper/pinned | grep -qx 'Disk identifier (GUID): $DISK_GUID'"
check_eq "pinned: sgdisk -i 1: partition GUID and name" "$PART_GUID|'Données 1'" \
        "$(sgdisk -i 1 /dev/mapper/pinned | sed -n 's/^Partition unique GUID: //p; s/^Partition name: //p' | paste -sd'|')"
lp=$(kernel_parts /dev/mapper/pinned)
check_eq "pinned: the kernel's partition 1 starts at 4 MiB" 8192 "$(cat "/sys/class/block/${lp#/dev/}/${lp#/dev/}p1/start" 2>&1)"
check_eq "pinned: partition 1 is the volume, byte for byte" "${HASH[$vg]}" "$(hash_dev "${lp}p1")"
detach_parts "$lp"

# --- MBR, every key set
check_eq "pinned-mbr: dm table starts with a 2 MiB head" "0 4096 linear" "$(dmsetup table pinned-mbr | head -n 1 | cut -d' ' -f1-3)"
check_eq "pinned-mbr: sfdisk: dos, disk signature 0x5eed1e55, partition 1 at 4096 over the volume" \
        "dos 0x5eed1e55 4096 $sectors" "$(sf pinned-mbr 't["label"]' 't["id"]' 'p[0]["start"]' 'p[0]["size"]')"
check_eq "pinned-mbr: blkid -p: PTUUID 5eed1e55" 5eed1e55 "$(blkid -p -o value -s PTUUID /dev/mapper/pinned-mbr)"
check "pinned-mbr: sfdisk --verify" sfdisk --verify /dev/mapper/pinned-mbr
lp=$(kernel_parts /dev/mapper/pinned-mbr)
check_eq "pinned-mbr: partition 1 is the volume, byte for byte" "${HASH[$vm]}" "$(hash_dev "${lp}p1")"
detach_parts "$lp"

# --- defaults: derived identifiers, the label as partition name
ud=$(blkid -p -o value -s UUID "$vd") un=$(blkid -p -o value -s UUID "$vn")
diag "filesystem UUIDs: derived $ud, derived-mbr $un"
check_eq "derived: disk GUID, partition GUID = uuid5 of (name, fs UUID), partition name = the label" \
        "$(uuid5 disk derived "$ud") $(uuid5 partition derived "$ud") derived 2048" \
        "$(sf derived 't["id"]' 'p[0]["uuid"]' 'p[0]["name"]' 'p[0]["start"]')"
check "derived-mbr: the NTFS serial is in upper case (so folding is tested)" test "$un" = "${un^^}"
check_eq "derived-mbr: disk signature = uuid5 of (name, fs UUID in lower case)" \
        "$(uuid5 mbr derived-mbr "$un") 2048" "$(sf derived-mbr 't["id"]' 'p[0]["start"]')"

# --- status (alias of check) and remove (alias of stop) on live disks
out=$(pw status 2>&1)
check_eq "status: exit 0" 0 "$?"
check_eq "status: every disk healthy" "pinned: healthy|pinned-mbr: healthy|derived: healthy|derived-mbr: healthy" \
        "$(states <<<"$out")"
check_status "stop of a disk not declared: exit 2" 2 pw stop no-such-disk
check_eq "  nothing removed" "$((loops0 + 4))" "$(loops_count)"
check_status "remove pinned (alias of stop): exit 0" 0 pw remove pinned
settle
check "  /dev/mapper/pinned is gone" dm_absent pinned
out=$(pw status pinned 2>&1)
check_eq "status of the removed disk: exit 1" 1 "$?"
# A broken file next to the good one: stop still serves the declared disks.
printf '[broken]\nvolume = relative\n' >$conf/30-broken.conf
out=$(pw stop 2>&1)
check_eq "stop with a configuration error: exit 2" 2 "$?"
check "  names the file and line" grep -qF "$conf/30-broken.conf:2:" <<<"$out"
settle
check "  the declared disks are removed all the same" bash -c 'for d in pinned-mbr derived derived-mbr; do ! dmsetup info $d >/dev/null 2>&1 || exit 1; done'
rm $conf/30-broken.conf
check_eq "no loop left" "$loops0" "$(loops_count)"

for v in $vg $vm $vd $vn; do
        check_eq "volume $v unchanged" "${HASH[$v]}" "$(hash_dev "$v")"
done
tap_done
