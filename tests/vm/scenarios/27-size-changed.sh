#!/usr/bin/env bash
# A volume that changed size after its header was made. Grown while the disk
# was stopped (GPT): apply refuses the stale header with a message about the
# size, exit 1, no dm device, no loop leaked, header untouched. Grown while
# live (MBR): check reports it growable (healthy), apply -n would grow it
# (the growth itself is 56-grow.sh's); after stop, apply refuses. Moving the
# stale header away lets apply build a correct disk again.
. "$(dirname "$0")/../lib.sh"

gv=$(make_volume 32 ext4 grow) || exit 1
mv_=$(make_volume 32 ntfs MGROW) || exit 1
settle
h_g32=$(hash_dev "$gv") h_m32=$(hash_dev "$mv_")
disk_conf $conf/27-disks.conf grow "$gv"
disk_conf $conf/27-disks.conf mgrow "$mv_" table=mbr
# grow DEV: one more MiB at the end of the image, and the loop told so.
grow() { truncate -s +1M "$(losetup -n -O BACK-FILE "$1")" && losetup -c "$1"; }
first32() { head -c 33554432 "$1" | sha256sum | cut -d' ' -f1; }

loops0=$(loops_count)
check "apply creates both disks" pw apply
settle
hg=$(hash_dev /tmp/headers/grow.header) hm=$(hash_dev /tmp/headers/mgrow.header)

# --- GPT, grown while stopped
check "stop grow" pw stop grow
settle
grow "$gv"
check_eq "the volume is now 33 MiB" $((33 << 20)) "$(blockdev --getsize64 "$gv")"
h_g33=$(hash_dev "$gv")
loops1=$(loops_count) dm1=$(dm_count)
out=$(pw apply grow 2>&1)
check_eq "apply over a grown volume exits 1" 1 "$?"
check "the message: header does not describe the volume" \
        grep -q "grow: header /tmp/headers/grow.header does not describe $gv" <<<"$out"
check "the message points at the size" grep -q "did the volume change size" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_no_disk grow "$loops1" "$dm1"
check_eq "header untouched" "$hg" "$(hash_dev /tmp/headers/grow.header)"
out=$(pw apply -n grow 2>&1)
check_eq "apply -n refuses it too (exit 1)" 1 "$?"
out=$(pw check grow 2>&1)
check_eq "check exits 1" 1 "$?"
check "check: partition 1 does NOT map the volume" grep -q "partition 1 does NOT map the volume" <<<"$out"
check "check: the volume is reported as 33 MiB" grep -q "volume ok .*33 MiB" <<<"$out"

# --- MBR, grown while live
mloop=$(losetup -n -O NAME -j /tmp/headers/mgrow.header)
grow "$mv_"
check_eq "the live MBR volume is now 33 MiB" $((33 << 20)) "$(blockdev --getsize64 "$mv_")"
h_m33=$(hash_dev "$mv_")
out=$(pw check mgrow 2>&1)
check_eq "check on the live disk exits 0" 0 "$?"
check "  header: valid for the live disk" grep -qE "header +ok .*MBR valid" <<<"$out"
check "  dm: growable, both sizes" grep -qE "dm +ok .*growable: partition 1 has 33554432 bytes, the volume 34603008" <<<"$out"
out=$(pw apply -n mgrow 2>&1)
check_eq "apply -n on the live disk exits 0" 0 "$?"
check "  and would grow it" grep -q "^mgrow: would-grow /dev/mapper/mgrow (partition 1 = .*, 32 MiB → 33 MiB)" <<<"$out"
check_eq "  the live table is left alone (still 2048 + 65536)" "2048 65536" \
        "$(dmsetup table mgrow | sed -n 2p | cut -d' ' -f1-2)"
check_eq "  its loop is still there" "$mloop" "$(losetup -n -O NAME -j /tmp/headers/mgrow.header)"
check "stop mgrow" pw stop mgrow
settle
loops2=$(loops_count)
out=$(pw apply mgrow 2>&1)
check_eq "apply after stop exits 1" 1 "$?"
check "  the message names the MBR size mismatch" grep -q "mgrow: header /tmp/headers/mgrow.header does not describe .*MBR: partition 1 has 65536 sectors" <<<"$out"
check_no_disk mgrow "$loops2"
check_eq "  header untouched" "$hm" "$(hash_dev /tmp/headers/mgrow.header)"

# --- recovery: move the stale header away, apply builds a new one
mv /tmp/headers/grow.header /tmp/grow.header.old
check "after moving the stale header away, apply works" pw apply grow
settle
check_eq "  the new disk is 1 MiB + 33 MiB + 16.5 KiB" $((1048576 + (33 << 20) + 16896)) "$(blockdev --getsize64 /dev/mapper/grow 2>&1)"
check "  sgdisk -v clean" bash -c "sgdisk -v /dev/mapper/grow | grep -q 'No problems found'"
check "  check healthy" pw check grow
pw stop >/dev/null 2>&1
settle
check_eq "no loop left" "$loops0" "$(loops_count)"

# The volumes: never written by partwrap (the test grew them, with zeros).
check_eq "GPT volume unchanged since it grew" "$h_g33" "$(hash_dev "$gv")"
check_eq "  its first 32 MiB are the original" "$h_g32" "$(first32 "$gv")"
check_eq "MBR volume unchanged since it grew" "$h_m33" "$(hash_dev "$mv_")"
check_eq "  its first 32 MiB are the original" "$h_m32" "$(first32 "$mv_")"
tap_done
