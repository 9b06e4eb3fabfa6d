#!/usr/bin/env bash
# Live grow (issue 14): lvextend of a wrapped LV, then apply grows its disk
# online, keeping what the guest wrote.
#   - two LVs (ext4, NTFS) on a loop PV, wrapped; the guest's part: its own
#     disk GUID and attribute 63 on partition 1 (sgdisk on /dev/mapper/NAME);
#   - lvextend -L +64M each; check: growable, healthy (exit 0), both sizes;
#   - apply, while a reader re-reads a region of partition 1 in a loop
#     (O_DIRECT, through the live disk): grown, both sizes printed; the disk
#     is larger by exactly 64 MiB, sgdisk -v is clean, the kernel's
#     partition 1 has the new size, the guest's GUID and attribute survived,
#     the header file is what the disk's head and tail read, partition 1 is
#     the LV byte for byte (its first 64 MiB what the LV was before), the
#     reader never failed nor saw other bytes;
#   - a second apply: unchanged, no loop added;
#   - resize2fs / ntfsresize through the kernel's partition 1, fsck clean,
#     the files read back;
#   - refusals, nothing changed: a shrunk volume (a loop volume, losetup -c),
#     a partition 1 the guest moved; stop leaves no loop.
. "$(dirname "$0")/../lib.sh"

GUEST_GUID=0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0
MiB=$((1 << 20))

ext=$(make_lv 64 ext4 gext) || exit 1
ntfs=$(make_lv 64 ntfs GNTFS) || exit 1
disk_conf $conf/56.conf gext "$ext"
disk_conf $conf/56.conf gntfs "$ntfs"

loops0=$(loops_count)
check "apply wraps both LVs" pw apply
settle
for n in gext gntfs; do
        check "$n: the guest sets its disk GUID and attribute 63 of partition 1" \
                sgdisk --disk-guid="$GUEST_GUID" -A 1:set:63 /dev/mapper/$n
done
settle
declare -A size0 hlv
for n in gext gntfs; do size0[$n]=$(blockdev --getsize64 /dev/mapper/$n); done
hlv[gext]=$(hash_dev "$ext") hlv[gntfs]=$(hash_dev "$ntfs")

check "lvextend -L +64M both LVs" bash -c "timeout 60 lvextend -q -L +64M pwvg/lv1 && timeout 60 lvextend -q -L +64M pwvg/lv2"
settle
out=$(pw check 2>&1)
check_eq "check after lvextend: healthy (exit 0)" 0 "$?"
check "  gext: growable, both sizes" grep -qE "dm +ok +/dev/mapper/gext active, growable: partition 1 has 67108864 bytes, the volume 134217728" <<<"$out"
diag "check said: $(tr '\n' '|' <<<"$out")"
out=$(pw apply -n 2>&1)
check_eq "apply -n: would-grow both" "gext: would-grow|gntfs: would-grow" "$(states <<<"$out")"
loops1=$(loops_count)

# A reader on the live disk throughout the grow: 8 MiB of partition 1.
region() { dd if=/dev/mapper/gext bs=1M skip=2 count=8 iflag=direct status=none | sha256sum | cut -d' ' -f1; }
want=$(region)
rm -f /tmp/read-errors && touch /tmp/reading
(
        n=0
        while [ -e /tmp/reading ]; do
                got=$(region) || echo "read error" >>/tmp/read-errors
                [ "$got" = "$want" ] || echo "read $n: other bytes" >>/tmp/read-errors
                n=$((n + 1))
        done
        echo "$n" >/tmp/reads
) &
reader=$!
sleep 0.5
out=$(pw apply 2>&1)
check_eq "apply grows both (exit 0)" 0 "$?"
sleep 0.5
rm /tmp/reading && wait $reader
check "  gext: grown, both sizes" grep -qF "gext: grown /dev/mapper/gext (partition 1 = $(realpath "$ext"), 64 MiB → 128 MiB)" <<<"$out"
check_eq "  the states" "gext: grown|gntfs: grown" "$(states <<<"$out")"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  the reader read $(cat /tmp/reads) times, never an error nor other bytes" "" "$(cat /tmp/read-errors 2>/dev/null)"
check_eq "  no loop added (one new per disk, the old ones gone)" "$loops1" "$(loops_count)"
check_eq "  no temp header left" "" "$(ls -A /tmp/headers | grep -v '\.header$')"

declare -A vol=([gext]=$ext [gntfs]=$ntfs)
for n in gext gntfs; do
        dev=/dev/mapper/$n hdr=/tmp/headers/$n.header
        check_eq "$n: larger by exactly 64 MiB" $((size0[$n] + 64 * MiB)) "$(blockdev --getsize64 $dev)"
        check "  sgdisk -v clean" bash -c "sgdisk -v $dev | grep -q 'No problems found'"
        check "  the guest's disk GUID survived" bash -c "sgdisk -p $dev | grep -qi 'Disk identifier (GUID): $GUEST_GUID'"
        check "  the guest's attribute survived" bash -c "sgdisk -i 1 $dev | grep -q 'Attribute flags: 8000000000000000'"
        check "  the header file is the disk's head" cmp -n $MiB "$hdr" $dev
        check "  the header file's tail is the disk's tail" \
                cmp <(tail -c 16896 "$hdr") <(tail -c 16896 $dev)
        check "  check: healthy" pw check $n
        lp=$(losetup -f --show -P $dev) && settle
        check_eq "  the kernel's partition 1 has 128 MiB" $((128 * MiB)) "$(blockdev --getsize64 "${lp}p1" 2>&1)"
        check "  partition 1 is the LV, byte for byte" cmp "${lp}p1" "${vol[$n]}"
        check_eq "  its first 64 MiB are the LV before the grow" "${hlv[$n]}" \
                "$(head -c $((64 * MiB)) "${lp}p1" | sha256sum | cut -d' ' -f1)"
        if [ $n = gext ]; then
                check "  resize2fs through partition 1" bash -c "e2fsck -f -y ${lp}p1 >/dev/null 2>&1; resize2fs ${lp}p1 >/dev/null 2>&1"
                check "  e2fsck clean" e2fsck -f -n "${lp}p1"
        else
                check "  ntfsresize -f through partition 1" bash -c "ntfsresize -f -f ${lp}p1 >/dev/null"
                check "  ntfsfix -n clean" ntfsfix -n "${lp}p1"
        fi
        check_part_files "  the files read back" "${lp}p1"
        detach_parts "$lp"
done
out=$(pw apply 2>&1)
check_eq "a second apply: unchanged" "gext: unchanged|gntfs: unchanged" "$(states <<<"$out")"
check_eq "  no loop added" "$loops1" "$(loops_count)"

# --- refusals: nothing changes
sv=$(make_volume 32 ext4 shrink) || exit 1
mvv=$(make_volume 32 ext4 moved) || exit 1
loops0=$((loops0 + 2)) # the two loop volumes
disk_conf $conf/56.conf shrink "$sv"
disk_conf $conf/56.conf moved "$mvv"
check "apply wraps two loop volumes" pw apply shrink moved
settle
truncate -s 31M "$(losetup -n -O BACK-FILE "$sv")" && losetup -c "$sv"
t_s=$(dmsetup table shrink) h_s=$(hash_dev /tmp/headers/shrink.header)
out=$(pw apply shrink 2>&1)
check_eq "a shrunk volume: apply exits 1" 1 "$?"
check "  with both sizes" grep -q "shrink: /dev/mapper/shrink has partition 1 of 33554432 bytes, but its volume has 32505856 bytes now" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  the table is unchanged" "$t_s" "$(dmsetup table shrink)"
check_eq "  the header is unchanged" "$h_s" "$(hash_dev /tmp/headers/shrink.header)"
out=$(pw check shrink 2>&1)
check_eq "  check exits 1" 1 "$?"

check "the guest moves partition 1 (sgdisk on the live disk)" \
        bash -c "sgdisk -d 1 -n 1:4096:+16M /dev/mapper/moved >/dev/null"
settle
truncate -s +8M "$(losetup -n -O BACK-FILE "$mvv")" && losetup -c "$mvv"
t_m=$(dmsetup table moved) h_m=$(hash_dev /tmp/headers/moved.header)
out=$(pw apply moved 2>&1)
check_eq "a moved partition 1: apply exits 1" 1 "$?"
check "  and says why" grep -q "moved: /dev/mapper/moved cannot grow: " <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  the table is unchanged" "$t_m" "$(dmsetup table moved)"
check_eq "  the header is unchanged" "$h_m" "$(hash_dev /tmp/headers/moved.header)"
check_eq "  no temp header left" "" "$(ls -A /tmp/headers | grep -v '\.header$')"

# MBR stops at 2^32 sectors: a disk just below it (a sparse 2047 GiB
# volume) whose volume grows to 2 TiB is refused, and keeps its table.
big=$(make_sparse_volume 2047G) || exit 1
disk_conf $conf/56-mbr.conf mbrbig "$big" table=mbr
check "an MBR disk of a 2047 GiB volume: apply" pw apply mbrbig
settle
t_b=$(dmsetup table mbrbig) h_b=$(hash_dev /tmp/headers/mbrbig.header)
truncate -s 2T "$(losetup -n -O BACK-FILE "$big")" && losetup -c "$big"
settle
out=$(pw apply mbrbig 2>&1)
check_eq "grown to 2 TiB, past 2^32 sectors with its head: apply exits 1" 1 "$?"
check "  and says an MBR stops at 2^32 sectors" grep -qE "2\^32|at most 4294967296 sectors" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  the table is unchanged" "$t_b" "$(dmsetup table mbrbig)"
check_eq "  the header is unchanged" "$h_b" "$(hash_dev /tmp/headers/mbrbig.header)"
losetup -d "$big" 2>/dev/null # (autoclear once the disk is gone)

check "stop" pw stop
settle
check_no_disk gext "$loops0"
tap_done
