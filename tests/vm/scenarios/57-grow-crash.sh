#!/usr/bin/env bash
# Crash consistency of live grow (issue 14): the fault build (make
# build/fault/partwrap, src/fault.h) is SIGKILLed at each point a grow
# passes, one point a round: a disk is made, its volume grows by 1 MiB
# (losetup -c), the fault build's apply dies at the point; then the release
# build's apply converges: exit 0, the disk grown, check healthy, sgdisk -v
# clean on the live disk, no temp header, no loop leaked, the volume
# unchanged; stop leaves no loop. grow-suspended dies with the disk
# suspended (the next apply resumes it); grow-swapped between the swap and
# the rename (the next apply finishes the rename).
. "$(dirname "$0")/../fault.sh"
fpw() { "$FAULT" -c $conf "$@"; }

gv=$(make_volume 32 ext4 crashgrow) || exit 1
settle
disk_conf $conf/57.conf cg "$gv"
hdr=/tmp/headers/cg.header
grow() { truncate -s +1M "$(losetup -n -O BACK-FILE "$1")" && losetup -c "$1"; }
loops0=$(loops_count)

for point in header-written grow-header-written grow-loop-attached swap-loaded grow-suspended grow-swapped grow-renamed; do
        check "$point: apply" pw apply cg
        settle
        grow "$gv"
        h_v=$(hash_dev "$gv") size=$(blockdev --getsize64 /dev/mapper/cg) vsize=$(blockdev --getsize64 "$gv")
        PARTWRAP_KILL_AT=$point fpw apply cg >/dev/null 2>&1
        check_eq "  killed at $point" 137 "$?"
        out=$(pw apply cg 2>&1)
        check_eq "  apply converges (exit 0)" 0 "$?"
        diag "apply said: $(tr '\n' '|' <<<"$out")"
        settle
        check_eq "  the disk is larger by 1 MiB" $((size + 1048576)) "$(blockdev --getsize64 /dev/mapper/cg)"
        check_eq "  the live table maps the whole volume" $((vsize / 512)) "$(dmsetup table cg | sed -n 2p | cut -d' ' -f2)"
        check "  check healthy" pw check cg
        check "  sgdisk -v clean" bash -c "sgdisk -v /dev/mapper/cg | grep -q 'No problems found'"
        check_eq "  no temp header left" "" "$(ls -A /tmp/headers | grep -v '\.header$')"
        check_eq "  one loop for the disk" $((loops0 + 1)) "$(loops_count)"
        check_eq "  the volume is unchanged" "$h_v" "$(hash_dev "$gv")"
        check_eq "  a second apply: unchanged" "cg: unchanged" "$(pw apply cg 2>&1 | states)"
        check "  stop" pw stop cg
        settle
        check_no_disk cg "$loops0"
done
tap_done
