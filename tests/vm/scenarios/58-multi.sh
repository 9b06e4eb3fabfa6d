#!/usr/bin/env bash
# Several volumes as partitions 1..N of one disk (volume = a, b, c):
#   - GPT with NTFS, ext4 and vfat volumes (by path, UUID= and LABEL=), with
#     gaps between them (alignment 4 MiB): sgdisk, sfdisk, parted and blkid
#     accept it; the kernel's parser finds each partition byte-identical to
#     its volume, and each mounts with its files;
#   - a guest's write into a gap persists in the header file, across stop
#     and apply; check reads every gap and partition back;
#   - GPT over three 4096-byte-sector volumes; mixed sector sizes refused;
#   - MBR with 4 volumes; 5 refused at validate, as is a volume in two disks;
#   - one volume late by 4 s still gives the disk; one never appearing fails
#     the disk naming it, and nothing is created;
#   - udev-match names the disk for each of its volumes;
#   - live grow: the last volume grows the disk, another is refused;
#   - every volume hashes the same at the end.
. "$(dirname "$0")/../lib.sh"

MiB=1048576
v1=$(make_volume 22 ntfs SYS) || exit 1
v2=$(make_volume 17 ext4 DATA2) || exit 1
v3=$(make_volume 9 vfat DATA3) || exit 1
h1=$(hash_dev "$v1") h2=$(hash_dev "$v2") h3=$(hash_dev "$v3")
uuid2=$(blkid -p -o value -s UUID "$v2")
# udev learns a filesystem written after the loop was attached only from a
# change event; UUID= and LABEL= resolve through its database.
udevadm trigger --action=change "$v1" "$v2" "$v3"
settle
loops0=$(loops_count) dm0=$(dm_count)

disk_conf $conf/multi.conf win "$v1, UUID=$uuid2, LABEL=DATA3" alignment=4MiB partition-name="System, Data, Extra"
check "validate accepts a list of three volumes" pw validate
check "apply creates the disk" pw apply
settle
d=/dev/mapper/win
check "$d exists" test -b $d
# 4 MiB head; 22 MiB volume, 2 MiB gap; 17 MiB, 3 MiB gap; 9 MiB; GPT tail.
check_eq "disk size: head, volumes, gaps and tail" $(((4 + 22 + 2 + 17 + 3 + 9) * MiB + 16896)) "$(blockdev --getsize64 $d)"
majmin() { printf '%d:%d' "0x$(stat -L -c %t "$1")" "0x$(stat -L -c %T "$1")"; }
lo=$(dmsetup table win | awk 'NR == 1 { print $4 }')
check_eq "dm table: head, volume 1, gap, volume 2, gap, volume 3, tail" \
        "$lo $(majmin "$v1") $lo $(majmin "$v2") $lo $(majmin "$v3") $lo" "$(dmsetup table win | awk '{ print $4 }' | paste -sd' ')"
check "sgdisk -v: no problems" bash -c "sgdisk -v $d | grep -q 'No problems found'"
check "sfdisk --verify" sfdisk --verify $d
check_eq "sfdisk -J: three partitions, starts and sizes" \
        "3 $((4 * 2048)) $((22 * 2048)) $((28 * 2048)) $((17 * 2048)) $((48 * 2048)) $((9 * 2048))" \
        "$(sfdisk -J $d | json_get 'len(p)' 'p[0]["start"]' 'p[0]["size"]' 'p[1]["start"]' 'p[1]["size"]' 'p[2]["start"]' 'p[2]["size"]' | tr -d ',()')"
check_eq "sfdisk -J: names" "System Data Extra" "$(sfdisk -J $d | json_get 'p[0]["name"]' 'p[1]["name"]' 'p[2]["name"]' | tr -d ",()'")"
check "parted agrees: 3 partitions" bash -c "[ \"\$(parted -s -m $d unit s print | grep -c '^[0-9]:')\" = 3 ]"
check_eq "blkid -p: PTTYPE gpt" gpt "$(blkid -p -o value -s PTTYPE $d)"

lp=$(kernel_parts $d)
for k in 1 2 3; do
        eval "want=\$h$k"
        check_eq "kernel: partition $k is volume $k, byte for byte" "$want" "$(hash_dev "${lp}p$k")"
        check_part_files "partition $k mounts and its files read back" "${lp}p$k"
done
detach_parts "$lp"

check "check: healthy" pw check
check "check reads back the gaps and every partition" bash -c "$PARTWRAP -c $conf check | grep -qF 'head, gaps, tail and the start of partitions 1-3 read back'"
check_eq "apply again: unchanged" "win: unchanged" "$(pw apply | cut -d' ' -f1-2)"
# (udev-match reads what udev's blkid import put in its environment)
check_eq "udev-match names the disk for volume 1 (by path)" "PARTWRAP_UNITS=partwrap@win.service" "$(pw udev-match "$v1")"
check_eq "udev-match names the disk for volume 2 (UUID=)" "PARTWRAP_UNITS=partwrap@win.service" \
        "$(ID_FS_UUID_ENC=$uuid2 pw udev-match "$v2")"
check_eq "udev-match names the disk for volume 3 (LABEL=)" "PARTWRAP_UNITS=partwrap@win.service" \
        "$(ID_FS_LABEL_ENC=DATA3 pw udev-match "$v3")"

# A guest write into the gap after partition 1 (disk offset 26 MiB) lands
# in the header file and survives stop + apply.
printf 'guest-gap-marker' | dd of=$d bs=512 seek=$((26 * 2048)) conv=notrunc oflag=direct status=none 2>/dev/null ||
        printf 'guest-gap-marker' | dd of=$d bs=512 seek=$((26 * 2048)) conv=notrunc status=none
sync
check "the gap write is in the header file" grep -qF guest-gap-marker /tmp/headers/win.header
check "check: still healthy (gap bytes = header bytes)" pw check
check "stop" pw stop
settle
check_no_disk win "$loops0"
check "apply again" pw apply
settle
check_eq "the guest's gap bytes read back after stop + apply" guest-gap-marker \
        "$(dd if=$d bs=512 skip=$((26 * 2048)) count=1 status=none | head -c 16)"
pw stop >/dev/null
settle

# One volume late by 4 s: apply waits for all, then builds the disk.
img3=$(losetup -n -O BACK-FILE "$v3")
losetup -d "$v3"
settle
sed -i 's/^alignment = 4MiB$/alignment = 4MiB\ntimeout = 30/' $conf/multi.conf
"$PARTWRAP" -c $conf apply >/tmp/late.out 2>/tmp/late.err &
pid=$!
sleep 4
check "apply still waits for volume 3 after 4 s" kill -0 $pid
v3=$(losetup -f --show "$img3")
wait $pid
check_eq "volume 3 late by 4 s: created" "win: created" "$(cut -d' ' -f1-2 /tmp/late.out)"
settle
check "healthy" pw check
pw stop >/dev/null
settle

# One never appears: the disk fails naming it; nothing is created.
losetup -d "$v3"
settle
sed -i 's/^timeout = 30$/timeout = 2/' $conf/multi.conf
hdr=$(hash_dev /tmp/headers/win.header)
loops1=$(loops_count)
out=$(pw apply 2>&1)
check_eq "a volume never appearing: exit 1" 1 "$?"
check "the error names it: 'LABEL=DATA3: volume not found after waiting 2 s'" \
        grep -qF "LABEL=DATA3: volume not found after waiting 2 s" <<<"$out"
check_no_disk win "$loops1" "$dm0"
check_eq "header file untouched" "$hdr" "$(hash_dev /tmp/headers/win.header)"
v3=$(losetup -f --show "$img3")
settle
rm -f $conf/multi.conf

# Validation: a volume in two disks, five volumes with MBR.
disk_conf /tmp/c-dup/a.conf a "$v1, $v2"
disk_conf /tmp/c-dup/a.conf b "$v3, $v2"
out=$("$PARTWRAP" -c /tmp/c-dup validate 2>&1)
check_eq "a volume in two disks: validate exit 2" 2 "$?"
check "  names it" grep -qF "volume $v2 is already used by [a]" <<<"$out"
disk_conf /tmp/c-5/a.conf five "/dev/loop50, /dev/loop51, /dev/loop52, /dev/loop53, /dev/loop54" table=mbr
out=$("$PARTWRAP" -c /tmp/c-5 validate 2>&1)
check_eq "five volumes with MBR: validate exit 2" 2 "$?"
check "  says why" grep -qF "5 volumes, but an MBR table holds at most 4 partitions" <<<"$out"

# MBR with four volumes (the fourth a small ext4).
v4=$(make_volume 5 ext4 FOUR) || exit 1
h4=$(hash_dev "$v4")
disk_conf $conf/mbr.conf quad "$v1, $v2, $v3, $v4" table=mbr
check "MBR with four volumes: apply" pw apply
settle
check "sfdisk --verify" sfdisk --verify /dev/mapper/quad
check_eq "sfdisk -J: dos, 4 partitions" "dos 4" "$(sfdisk -J /dev/mapper/quad | json_get 't["label"]' 'len(p)' | tr -d ",()'")"
lp=$(kernel_parts /dev/mapper/quad)
for k in 1 2 3 4; do
        eval "want=\$h$k"
        check_eq "kernel: MBR partition $k is volume $k" "$want" "$(hash_dev "${lp}p$k")"
done
detach_parts "$lp"
check "check: healthy" pw check
pw stop >/dev/null
settle
rm -f $conf/mbr.conf

# 4096-byte logical sectors: three volumes; and a mix refused.
k1=$(make_4k_volume 16 ext4 K1) && k2=$(make_4k_volume 16 vfat K2) && k3=$(make_4k_volume 16 ext4 K3) || exit 1
hk1=$(hash_dev "$k1") hk2=$(hash_dev "$k2") hk3=$(hash_dev "$k3")
disk_conf $conf/4k.conf k4 "$k1, $k2, $k3" alignment=64K
check "4096-byte sectors, three volumes: apply" pw apply
settle
check "sgdisk -v" bash -c "sgdisk -v /dev/mapper/k4 | grep -q 'No problems found'"
lp=$(kernel_parts /dev/mapper/k4 --sector-size 4096)
for k in 1 2 3; do
        eval "want=\$hk$k"
        check_eq "kernel (4096): partition $k is volume $k" "$want" "$(hash_dev "${lp}p$k")"
done
detach_parts "$lp"
check "check: healthy" pw check
pw stop >/dev/null
settle
rm -f $conf/4k.conf
disk_conf $conf/mix.conf mix "$v4, $k1"
loops1=$(loops_count)
out=$(pw apply 2>&1)
check_eq "512- and 4096-byte volumes in one disk: exit 1" 1 "$?"
check "  says why" grep -qF "the volumes of one disk must have the same sector size" <<<"$out"
check_no_disk mix "$loops1"
rm -f $conf/mix.conf

check_eq "volume 1 (NTFS) unchanged" "$h1" "$(hash_dev "$v1")"
check_eq "volume 2 (ext4) unchanged" "$h2" "$(hash_dev "$v2")"
check_eq "volume 3 (vfat) unchanged" "$h3" "$(hash_dev "$v3")"
check_eq "volume 4 (ext4) unchanged" "$h4" "$(hash_dev "$v4")"
check_eq "4096 volumes unchanged" "$hk1 $hk2 $hk3" "$(hash_dev "$k1") $(hash_dev "$k2") $(hash_dev "$k3")"

# Live grow: only the last partition grows in place. Volume 3 (the last)
# grows by 8 MiB: apply grows the disk; volume 1 grows: refused, saying so.
disk_conf $conf/multi.conf win "$v1, UUID=$uuid2, LABEL=DATA3" alignment=4MiB
check "apply (again, for the grow)" pw apply
settle
img3=$(losetup -n -O BACK-FILE "$v3")
size0=$(blockdev --getsize64 $d)
truncate -s +8M "$img3" && losetup -c "$v3"
settle
out=$(pw apply)
check_eq "the last volume grew: apply grows the disk" "win: grown" "$(cut -d' ' -f1-2 <<<"$out")"
check_eq "  by 8 MiB" $((size0 + 8 * MiB)) "$(blockdev --getsize64 $d)"
check "  sgdisk -v: no problems" bash -c "sgdisk -v $d | grep -q 'No problems found'"
lp=$(kernel_parts $d)
check_eq "  kernel: partition 3 has 17 MiB" $((17 * MiB)) "$(blockdev --getsize64 "${lp}p3")"
check_eq "  kernel: partition 1 is still volume 1" "$h1" "$(hash_dev "${lp}p1")"
detach_parts "$lp"
check "  check: healthy" pw check
check_eq "  volume 3's old extent unchanged" "$h3" "$(head -c $((9 * MiB)) "$v3" | sha256sum | cut -d' ' -f1)"
img1=$(losetup -n -O BACK-FILE "$v1")
truncate -s +4M "$img1" && losetup -c "$v1"
settle
out=$(pw apply 2>&1)
check_eq "volume 1 grew: apply exit 1" 1 "$?"
check "  says only the last partition grows in place" grep -qF "only the last partition of a disk grows in place" <<<"$out"
check_eq "  the disk keeps its size" $((size0 + 8 * MiB)) "$(blockdev --getsize64 $d)"
check_eq "  volume 1's old extent unchanged" "$h1" "$(head -c $((22 * MiB)) "$v1" | sha256sum | cut -d' ' -f1)"
pw stop >/dev/null
settle
tap_done
