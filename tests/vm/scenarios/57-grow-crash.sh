#!/usr/bin/env bash
# Crash consistency of live grow (issue 14): the fault build (make
# build/fault/partwrap, src/fault.h) is SIGKILLed at each point a grow
# passes, one point a round: a disk is made, its volume grows by 1 MiB
# (losetup -c), the fault build's apply dies at the point; then the release
# build's apply converges: exit 0, the disk grown, check healthy, sgdisk -v
# clean on the live disk, no temp header, no loop leaked, the volume
# unchanged; stop leaves no loop. grow-suspended dies with the disk
# suspended (the next apply resumes it); grow-swapped between the swap and
# the rename (the next apply finishes the rename and reports the disk
# grown, with the size its old header had: in text, and, in the round
# grow-swapped/json, in --json's old_partition_size); grow-renamed after
# the rename (the grow is whole: the next apply has nothing to do). Every
# other point: the next apply grows the disk (grown, old → new size).
# grow-regrown is passed only when the guest wrote its table between the
# grow's read and its swap: the fault build stalls after writing the grown
# header (PARTWRAP_STALL_AT=grow-header-written), the guest renames
# partition 1 meanwhile (sgdisk -c), the guard sees it under suspend and
# grows again from it, and dies there, the disk suspended; the next apply
# resumes the old table and grows, and the guest's name survives.
. "$(dirname "$0")/../fault.sh"
fpw() { "$FAULT" -c $conf "$@"; }

gv=$(make_volume 32 ext4 crashgrow) || exit 1
settle
disk_conf $conf/57.conf cg "$gv"
hdr=/tmp/headers/cg.header
grow() { truncate -s +1M "$(losetup -n -O BACK-FILE "$1")" && losetup -c "$1"; }
loops0=$(loops_count)

# name DEV: partition 1's name as sgdisk reads it.
name() { sgdisk -i 1 "$1" 2>/dev/null | sed -n "s/^Partition name: '\(.*\)'$/\1/p"; }
MiB=$((1 << 20))

for round in header-written grow-header-written grow-loop-attached swap-loaded grow-suspended grow-regrown \
        grow-swapped grow-swapped/json grow-renamed; do
        point=${round%/json}
        check "$round: apply" pw apply cg
        settle
        grow "$gv"
        h_v=$(hash_dev "$gv") size=$(blockdev --getsize64 /dev/mapper/cg) vsize=$(blockdev --getsize64 "$gv")
        old=$((vsize - MiB))
        if [ "$point" = grow-regrown ]; then
                rm -f /tmp/stall
                PARTWRAP_FAULT_TRACE=1 PARTWRAP_STALL_AT=grow-header-written PARTWRAP_STALL_FILE=/tmp/stall \
                        PARTWRAP_KILL_AT=$point fpw apply cg >/dev/null 2>/tmp/apply.err &
                apply=$!
                for _ in $(seq 600); do [ -e /tmp/stall ] && break; sleep 0.05; done
                check "  the grow stalls before its swap" test -e /tmp/stall
                check "  the guest renames partition 1 'regrown' meanwhile" sgdisk -c 1:regrown /dev/mapper/cg
                rm -f /tmp/stall
                wait $apply
                check_eq "  killed at $point" 137 "$?"
                check_eq "  the guard grew again from the guest's write" 1 \
                        "$(grep -c '^fault-point: grow-regrown$' /tmp/apply.err)"
                check_eq "  the disk is left suspended" Suspended "$(dmsetup info -C --noheadings -o suspended cg)"
        else
                PARTWRAP_KILL_AT=$point fpw apply cg >/dev/null 2>&1
                check_eq "  killed at $point" 137 "$?"
        fi
        if [ "$round" = grow-swapped/json ]; then
                out=$(pw --json apply cg 2>/tmp/apply.err)
                check_eq "  apply converges (exit 0)" 0 "$?"
                check_eq "  --json: grown, changed, old and new partition size" "grown True $old $vsize" \
                        "$(json_get "k['state']" "k['changed']" "k['old_partition_size']" "k['partition_size']" <<<"$out")"
        else
                out=$(pw apply cg 2>&1)
                check_eq "  apply converges (exit 0)" 0 "$?"
        fi
        diag "apply said: $(tr '\n' '|' <<<"$out")"
        case $round in
        grow-swapped)
                check_eq "  apply reports the grow it finished, with the old size" \
                        "cg: grown /dev/mapper/cg (partition 1 = $gv, $((old / MiB)) MiB → $((vsize / MiB)) MiB; finished an interrupted grow)" \
                        "$(grep "^cg: " <<<"$out")" ;;
        grow-swapped/json) ;;
        grow-renamed)
                check_eq "  apply: unchanged (the grow was whole)" "cg: unchanged" "$(states <<<"$out")" ;;
        *)
                check_eq "  apply reports the grow, old → new size" \
                        "cg: grown /dev/mapper/cg (partition 1 = $gv, $((old / MiB)) MiB → $((vsize / MiB)) MiB)" \
                        "$(grep "^cg: " <<<"$out")" ;;
        esac
        settle
        [ "$point" != grow-regrown ] ||
                check_eq "  the guest's name survived" regrown "$(name /dev/mapper/cg)"
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
