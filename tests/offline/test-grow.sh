#!/usr/bin/env bash
# Grown headers (src/grow.c) judged by tools nobody on this project wrote.
#
# `partwrap mkheader` makes the header of a volume of 64 MiB; it is laid
# around a sparse volume in an image file, [ head ][ volume ][ tail ], and
# the guest's part is played by sgdisk/sfdisk on that image (disk GUID,
# partition GUID, attribute, name; MBR disk id and boot flag). The header is
# cut back out of the image, grown by 64 MiB with the grow_header() driver
# (build/tests/test-grow with arguments), and laid around a volume of
# 128 MiB. Then sgdisk -v and sfdisk decide: a clean table, partition 1
# exactly the new volume, the guest's identifiers kept. 4096-byte sectors
# are read through loop devices with 4096-byte logical blocks.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

GROW=${GROW:-$TOP/build/tests/test-grow}
for prog in "$PARTWRAP" "$GROW"; do
        if [ ! -x "$prog" ]; then
                echo "$prog is not built (run make partwrap build/tests/test-grow)"
                exit 77
        fi
done
for tool in sgdisk sfdisk python3 truncate; do
        if ! command -v "$tool" >/dev/null; then
                echo "$tool is not installed (tests/deps.sh installs it)"
                exit 77
        fi
done

MiB=$((1024 ** 2))
ALIGN=$MiB OLD=$((64 * MiB)) NEW=$((128 * MiB))
DISK_GUID=0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0
PART_GUID=11223344-5566-7788-99AA-BBCCDDEEFF00
NAME='Guest name'

tmp=$(mktemp -d)
LOOPS=()
cleanup() {
        local l
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOOP_OK=
if command -v losetup >/dev/null && [ -e /dev/loop-control ] && [ "$(id -u)" -eq 0 ]; then LOOP_OK=1; fi

# image HEADER VOLUME_BYTES IMG: the header around a sparse volume.
image() {
        rm -f "$3"
        head -c "$ALIGN" "$1" >"$3"
        truncate -s $((ALIGN + $2)) "$3"
        tail -c +$((ALIGN + 1)) "$1" >>"$3"
}

# header_of IMG VOLUME_BYTES OUT: the header file back out of an image.
header_of() {
        head -c "$ALIGN" "$1" >"$3"
        tail -c +$((ALIGN + $2 + 1)) "$1" >>"$3"
}

# device IMG SECTOR: the image as a block device of that sector size (the
# file itself at 512). Prints the path.
DEV=
device() {
        if [ "$2" -eq 512 ]; then
                DEV=$1
                return 0
        fi
        DEV=$(losetup --sector-size "$2" -f --show "$1") || return 1
        LOOPS+=("$DEV")
}
undevice() {
        [ "$DEV" = "$1" ] || losetup -d "$DEV"
        DEV=
}

# field JSON EXPR: a value of sfdisk -J output, by a Python expression on t
# (the partition table) and p (partition 1).
field() {
        python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["partitiontable"]
p = t["partitions"][0]
print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_eq DESC GOT WANT
expect_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', expected '$3')"; fi
}

gpt_case() {
        local ss=$1 d=$tmp/gpt-$1 head
        head=$((ALIGN / ss))
        mkdir -p "$d"
        if [ "$ss" -ne 512 ] && [ -z "$LOOP_OK" ]; then
                skip "gpt/$ss grow" "needs root and loop devices for $ss-byte sectors"
                return
        fi
        check "gpt/$ss: mkheader for 64 MiB" "$PARTWRAP" mkheader --size "$OLD" --sector-size "$ss" --name grow -o "$d/old.hdr"
        image "$d/old.hdr" "$OLD" "$d/old.img"
        device "$d/old.img" "$ss" || { not_ok "gpt/$ss: loop device"; return; }
        check "gpt/$ss: the guest changes disk GUID, partition GUID, attribute 63 and name (sgdisk)" \
                sgdisk --disk-guid="$DISK_GUID" --partition-guid=1:"$PART_GUID" --attributes=1:set:63 \
                --change-name=1:"$NAME" "$DEV"
        undevice "$d/old.img"
        header_of "$d/old.img" "$OLD" "$d/guest.hdr"

        check "gpt/$ss: grow by 64 MiB" "$GROW" grow "$d/guest.hdr" "$d/new.hdr" gpt "$ss" "$head" "$OLD" "$NEW"
        [ -f "$d/new.hdr" ] || return
        expect_eq "gpt/$ss: the header file keeps its size" "$(stat -c %s "$d/new.hdr")" "$(stat -c %s "$d/old.hdr")"
        image "$d/new.hdr" "$NEW" "$d/new.img"
        device "$d/new.img" "$ss" || { not_ok "gpt/$ss: loop device"; return; }
        local v
        v=$(sgdisk -v "$DEV" 2>&1)
        if grep -q '^No problems found' <<<"$v"; then ok "gpt/$ss: sgdisk -v finds no problem"; else
                not_ok "gpt/$ss: sgdisk -v finds no problem"
                sed 's/^/#   /' <<<"$v"
        fi
        check "gpt/$ss: sfdisk --verify is clean" sfdisk --verify "$DEV"
        sfdisk -J "$DEV" >"$d/new.json" 2>"$d/err" || { not_ok "gpt/$ss: sfdisk -J: $(cat "$d/err")"; undevice "$d/new.img"; return; }
        expect_eq "gpt/$ss: sfdisk sees sectors of $ss bytes" "$(field "$d/new.json" 't.get("sectorsize", 512)')" "$ss"
        expect_eq "gpt/$ss: partition 1 starts at the head" "$(field "$d/new.json" 'p["start"]')" "$head"
        expect_eq "gpt/$ss: partition 1 is the new volume" "$(field "$d/new.json" 'p["size"]')" $((NEW / ss))
        expect_eq "gpt/$ss: the last usable LBA is right before the backup entries" \
                "$(field "$d/new.json" 't["lastlba"]')" $(((ALIGN + NEW) / ss - 1))
        expect_eq "gpt/$ss: the disk GUID survived" "$(field "$d/new.json" 't["id"]')" "$DISK_GUID"
        expect_eq "gpt/$ss: the partition GUID survived" "$(field "$d/new.json" 'p["uuid"]')" "$PART_GUID"
        expect_eq "gpt/$ss: the name survived" "$(field "$d/new.json" 'p["name"]')" "$NAME"
        expect_eq "gpt/$ss: attribute 63 survived" "$(field "$d/new.json" 'p.get("attrs", "")')" "GUID:63"
        undevice "$d/new.img"

        # The guest resized partition 1 itself: refused, nothing written.
        cp "$d/old.img" "$d/moved.img"
        device "$d/moved.img" "$ss" || { not_ok "gpt/$ss: loop device"; return; }
        sgdisk --delete=1 --new=1:"$head":+32M "$DEV" >/dev/null 2>&1
        undevice "$d/moved.img"
        header_of "$d/moved.img" "$OLD" "$d/moved.hdr"
        check_status "gpt/$ss: a partition 1 the guest resized is refused" 1 \
                "$GROW" grow "$d/moved.hdr" "$d/moved-new.hdr" gpt "$ss" "$head" "$OLD" "$NEW"
        check "gpt/$ss: and the reason says so" grep -q 'moved or resized' <("$GROW" grow "$d/moved.hdr" \
                "$d/moved-new.hdr" gpt "$ss" "$head" "$OLD" "$NEW" 2>&1)
        check_fails "gpt/$ss: and nothing is written" test -e "$d/moved-new.hdr"
        check_status "gpt/$ss: a shrink is refused" 1 \
                "$GROW" grow "$d/guest.hdr" "$d/shrink.hdr" gpt "$ss" "$head" "$OLD" $((OLD - MiB))
}

mbr_case() {
        local d=$tmp/mbr
        mkdir -p "$d"
        check "mbr/512: mkheader for 64 MiB" "$PARTWRAP" mkheader --table mbr --size "$OLD" --name grow -o "$d/old.hdr"
        image "$d/old.hdr" "$OLD" "$d/old.img"
        check "mbr/512: the guest changes the disk id (sfdisk --disk-id)" sfdisk --disk-id "$d/old.img" 0xdeadbeef
        check "mbr/512: the guest sets the boot flag (sfdisk --activate)" sfdisk --activate "$d/old.img" 1
        header_of "$d/old.img" "$OLD" "$d/guest.hdr"

        check "mbr/512: grow by 64 MiB" "$GROW" grow "$d/guest.hdr" "$d/new.hdr" mbr 512 $((ALIGN / 512)) "$OLD" "$NEW"
        [ -f "$d/new.hdr" ] || return
        image "$d/new.hdr" "$NEW" "$d/new.img"
        check "mbr/512: sfdisk --verify is clean" sfdisk --verify "$d/new.img"
        sfdisk -J "$d/new.img" >"$d/new.json" 2>"$d/err" || { not_ok "mbr/512: sfdisk -J: $(cat "$d/err")"; return; }
        expect_eq "mbr/512: partition 1 starts at the head" "$(field "$d/new.json" 'p["start"]')" $((ALIGN / 512))
        expect_eq "mbr/512: partition 1 is the new volume" "$(field "$d/new.json" 'p["size"]')" $((NEW / 512))
        expect_eq "mbr/512: the disk id survived" "$(field "$d/new.json" 't["id"]')" 0xdeadbeef
        expect_eq "mbr/512: the boot flag survived" "$(field "$d/new.json" 'p.get("bootable", False)')" True
        check_status "mbr/512: growing past 2^32 sectors is refused" 1 \
                "$GROW" grow "$d/guest.hdr" "$d/huge.hdr" mbr 512 $((ALIGN / 512)) "$OLD" $(((1 << 32) * 512))
}

gpt_case 512
gpt_case 4096
mbr_case
tap_done
