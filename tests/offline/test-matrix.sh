#!/usr/bin/env bash
# Headers made by `partwrap mkheader`, judged by parsers nobody on this
# project wrote (sgdisk -v, sfdisk -J/--verify, blkid -p).
#
# For every case of a matrix (volume size x sector size x table x type, plus
# other alignments and identifiers) the header file is split into head and
# tail and put around a sparse "volume" in an image file:
#
#     [ head = first ALIGNMENT bytes ][ VOLUME bytes, never written ][ tail ]
#
# Images live on a tmpfs (ext4 stops at 16 TiB files); 4096-byte sectors are
# read through a read-only loop device with 4096-byte logical blocks.
# Impossible requests must exit 2 and leave nothing behind.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi
for tool in sgdisk sfdisk blkid python3 truncate dd; do
        if ! command -v "$tool" >/dev/null; then
                echo "$tool is not installed (tests/deps.sh installs it)"
                exit 77
        fi
done

KiB=1024 MiB=$((1024 ** 2)) GiB=$((1024 ** 3)) TiB=$((1024 ** 4))
GUID_BASIC=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
GUID_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4
GUID_LVM=e6d6d379-f507-44c2-a23c-238f2a3df928 # given in lower case on purpose
GPT_ENTRIES=$((128 * 128))
MBR_MAX_SECTORS=$((1 << 32))

# ---------------------------------------------------------------- workspace

source "$(dirname "${BASH_SOURCE[0]}")/../lib/imgdir.sh"
tmp=$(mktemp -d)
LOOPS=()
cleanup() {
        local l
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        imgdir_cleanup
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Images on the disk (no tmpfs) stop at 16 TiB: such cases are skipped.
imgdir_setup matrix 64
IMG_LIMIT=''
[ -n "$NO_TMPFS" ] && IMG_LIMIT=$((16 * TiB))

LOOP_OK=
if command -v losetup >/dev/null && [ -e /dev/loop-control ]; then LOOP_OK=1; fi

# ------------------------------------------------------------------ helpers

# run_mkheader OUT ARGS...: mkheader writing OUT; stdout in $tmp/out, stderr in $tmp/err.
run_mkheader() {
        local out=$1
        shift
        "$PARTWRAP" mkheader "$@" -o "$out" >"$tmp/out" 2>"$tmp/err"
}

# size_of LABEL SECTOR: bytes of a matrix volume size.
size_of() {
        case $1 in
        64MiB) echo $((64 * MiB)) ;;
        1GiB+7s) echo $((GiB + 7 * $2)) ;;
        3TiB) echo $((3 * TiB)) ;;
        30TiB) echo $((30 * TiB)) ;;
        *) echo "size_of: $1?" >&2; return 1 ;;
        esac
}

# header_bytes TABLE SECTOR ALIGN: expected header file size.
header_bytes() {
        if [ "$1" = gpt ]; then echo $(($3 + GPT_ENTRIES + $2)); else echo "$3"; fi
}

# sfdisk_type TABLE TYPE: partition 1's type as sfdisk -J prints it.
sfdisk_type() {
        case $1:$2 in
        gpt:default | gpt:basic-data) echo "$GUID_BASIC" ;;
        gpt:linux) echo "$GUID_LINUX" ;;
        gpt:*) echo "${2^^}" ;;
        mbr:default | mbr:basic-data) echo 7 ;;
        mbr:linux) echo 83 ;;
        mbr:0x*) printf '%x\n' "$2" ;;
        esac
}

# type_args TYPE: the --type option, none for "default".
type_args() { [ "$1" = default ] || printf '%s\n' --type "$1"; }

# dm_table TABLE SECTOR ALIGN VOLUME HEADER_BYTES: the device-mapper table
# mkheader must print, in 512-byte units (SPEC, Layout).
dm_table() {
        local head=$(($3 / 512)) vol=$(($4 / 512)) tail=$((($5 - $3) / 512))
        echo "0 $head linear LOOP 0"
        echo "$head $vol linear VOLUME 0"
        [ "$1" = gpt ] && echo "$((head + vol)) $tail linear LOOP $head"
        return 0
}

# make_header HDR ARGS...: mkheader succeeds, and its directory then holds
# the header (mode 0600) and nothing else.
make_header() {
        local hdr=$1 dir rc
        shift
        dir=$(dirname "$hdr")
        mkdir -p "$dir"
        run_mkheader "$hdr" "$@"
        rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 0 ] || { echo "exit status $rc"; return 1; }
        [ "$(ls -A "$dir")" = "$(basename "$hdr")" ] || { echo "directory holds: $(ls -A "$dir")"; return 1; }
        [ "$(stat -c %a "$hdr")" = 600 ] || { echo "mode $(stat -c %a "$hdr"), expected 600"; return 1; }
}

# require DESC CMD...: like check, but returns CMD's status, for tests the
# following ones depend on.
require() {
        local desc=$1
        shift
        if "$@" >"$tmp/require" 2>&1; then
                ok "$desc"
        else
                not_ok "$desc"
                sed 's/^/#   /' "$tmp/require"
                return 1
        fi
}

# file_size_is FILE BYTES
file_size_is() {
        local got
        got=$(stat -c %s "$1")
        [ "$got" -eq "$2" ] || { echo "$1 is $got bytes, expected $2"; return 1; }
}

# same_lines EXPECTED ACTUAL: multi-line strings, shown on failure.
same_lines() {
        [ "$1" = "$2" ] && return 0
        printf 'expected:\n%s\nfound:\n%s\n' "$1" "$2"
        return 1
}

# assemble HDR ALIGN VOLUME IMG: IMG = head | sparse volume | tail, with the
# volume never written; fails if the image is not sparse.
assemble() {
        local hdr=$1 align=$2 vol=$3 img=$4 hsize alloc
        hsize=$(stat -c %s "$hdr")
        rm -f "$img"
        truncate -s $((hsize + vol)) "$img" || return 1
        dd if="$hdr" of="$img" bs=64K count="$align" iflag=count_bytes conv=notrunc status=none || return 1
        if [ "$hsize" -gt "$align" ]; then
                dd if="$hdr" of="$img" bs=64K skip="$align" seek=$((align + vol)) \
                        iflag=skip_bytes oflag=seek_bytes conv=notrunc status=none || return 1
        fi
        alloc=$(($(stat -c '%b * %B' "$img")))
        [ "$alloc" -le $((hsize + 64 * KiB)) ] || { echo "image not sparse: $alloc bytes allocated"; return 1; }
}

# open_disk HDR SECTOR ALIGN VOLUME: assembles the image and sets DEV to it
# (512) or to a read-only loop device with 4096-byte sectors over it.
# Prints why and fails when the image cannot be judged here.
open_disk() {
        local hdr=$1 ss=$2 align=$3 vol=$4 out
        DEV='' IMG=$IMGDIR/disk.img
        if [ -n "$IMG_LIMIT" ] && [ $((align + vol)) -ge "$IMG_LIMIT" ]; then
                echo "$NO_TMPFS"
                return 1
        fi
        if [ "$ss" -ne 512 ] && [ -z "$LOOP_OK" ]; then
                echo "no loop devices for $ss-byte sectors"
                return 1
        fi
        out=$(assemble "$hdr" "$align" "$vol" "$IMG") || { echo "cannot assemble the image: $out"; return 1; }
        if [ "$ss" -eq 512 ]; then
                DEV=$IMG
                return 0
        fi
        DEV=$(losetup --sector-size "$ss" -f --show -r "$IMG" 2>&1) || { echo "losetup: $DEV"; DEV=; return 1; }
        LOOPS+=("$DEV")
}

close_disk() {
        if [ -n "${DEV:-}" ] && [ "$DEV" != "$IMG" ]; then
                losetup -d "$DEV"
                local l kept=()
                for l in "${LOOPS[@]}"; do [ "$l" = "$DEV" ] || kept+=("$l"); done
                LOOPS=("${kept[@]}")
        fi
        rm -f "$IMG"
        DEV=
}

# sgdisk_clean DEV: "No problems found", and no caution or warning: sgdisk
# rebuilds a corrupt primary header from the backup before verifying, and
# then says "No problems found" too. Allowed: the caution that partition 1
# does not end on an aligned sector (the volume's size is what it is).
sgdisk_clean() {
        local out
        out=$(sgdisk -v "$1" 2>&1)
        if ! grep -q '^No problems found' <<<"$out" ||
                grep -v "Partition 1 doesn't end on a [0-9]*-sector boundary" <<<"$out" |
                grep -Eqi 'caution|warning|corrupt|invalid|error'; then
                echo "$out"
                return 1
        fi
}

blkid_pttype() {
        local out
        out=$(blkid -p -o export "$1" 2>&1)
        grep -qx "PTTYPE=$2" <<<"$out" || { echo "$out"; return 1; }
}

# Reads sfdisk -J on stdin; arguments: label sector start size type [name].
read -r -d '' SFDISK_JUDGE <<'EOF'
import json, sys
label, ss, start, size, ptype = sys.argv[1:6]
ss, start, size = int(ss), int(start), int(size)
t = json.load(sys.stdin)["partitiontable"]
parts = t.get("partitions", [])
p = parts[0] if parts else {}
checks = [("label", label, t.get("label")), ("sectorsize", ss, t.get("sectorsize")),
          ("partitions", 1, len(parts)), ("node", "1", p.get("node", "")[-1:]),
          ("start", start, p.get("start")), ("size", size, p.get("size")),
          ("type", ptype, p.get("type"))]
if label == "gpt":
    entries_end = 2 + 128 * 128 // ss   # MBR, header, entries
    first = t.get("firstlba", -1)
    checks += [("name", sys.argv[6], p.get("name")),
               ("lastlba", start + size - 1, t.get("lastlba")),
               ("firstlba in [%d, %d]" % (entries_end, start), True, entries_end <= first <= start)]
bad = [(k, w, g) for k, w, g in checks if w != g]
for k, w, g in bad:
    print("%s: expected %r, found %r" % (k, w, g))
sys.exit(1 if bad else 0)
EOF

# sfdisk_partition DEV LABEL SECTOR START SIZE TYPE [NAME]: partition 1 as
# expected, and nothing on stderr (sfdisk falls back to the backup GPT with
# only a warning there). Allowed: util-linux's warning that a DOS disk of
# exactly 2^32 sectors is "larger than" (2^32 - 1) sectors; the contract
# allows 2^32, and every MBR field still fits in 32 bits.
sfdisk_partition() {
        local dev=$1 json warnings
        shift
        json=$(sfdisk -J "$dev" 2>"$tmp/sfdisk.err") || { cat "$tmp/sfdisk.err"; return 1; }
        warnings=$(grep -v 'DOS partition table format cannot be used on drives for volumes larger than' "$tmp/sfdisk.err")
        if ! python3 -c "$SFDISK_JUDGE" "$@" <<<"$json" || [ -n "$warnings" ]; then
                echo "$json"
                cat "$tmp/sfdisk.err"
                return 1
        fi
}

# ---------------------------------------------------------- judged headers

JUDGED=0 CASE=0

# header_case TABLE SECTOR VOLUME TYPE ALIGN LABEL [MKHEADER ARGS...]: one
# header, made and judged by every tool. LABEL names the volume size.
header_case() {
        local table=$1 ss=$2 vol=$3 type=$4 align=$5 label=$6
        shift 6
        CASE=$((CASE + 1))
        local name=matrix-$CASE what="$table/$ss $label $type @$align"
        local hdr=$tmp/case$CASE/disk.hdr hsize
        local -a args
        mapfile -t args < <(type_args "$type")
        args+=(--table "$table" --size "$vol" --sector-size "$ss" --alignment "$align" --name "$name" "$@")
        hsize=$(header_bytes "$table" "$ss" "$align")

        require "$what: mkheader ${args[*]}" make_header "$hdr" "${args[@]}" || return
        check "$what: header file is $hsize bytes" file_size_is "$hdr" "$hsize"
        check "$what: dm table" same_lines "$(dm_table "$table" "$ss" "$align" "$vol" "$hsize")" "$(grep -v '^#' "$tmp/out")"
        if ! open_disk "$hdr" "$ss" "$align" "$vol" >"$tmp/why"; then
                skip "$what: judged by sgdisk, sfdisk, blkid" "$(paste -sd ' ' "$tmp/why")"
                close_disk
                return
        fi
        local pt=dos
        if [ "$table" = gpt ]; then
                pt=gpt
                check "$what: sgdisk -v finds no problems" sgdisk_clean "$DEV"
        fi
        check "$what: sfdisk -J: partition 1 = the volume" \
                sfdisk_partition "$DEV" "$pt" "$ss" $((align / ss)) $((vol / ss)) "$(sfdisk_type "$table" "$type")" "$name"
        check "$what: blkid -p: PTTYPE=$pt" blkid_pttype "$DEV" "$pt"
        [ "$table" = mbr ] && check "$what: sfdisk --verify" sfdisk --verify "$DEV"
        close_disk
        JUDGED=$((JUDGED + 1))
}

# refused DESC MKHEADER ARGS...: exit status 2, a message, and nothing in
# the (empty) output directory afterwards.
refuse() {
        local desc=$1
        shift
        check "refuses $desc" refused "$@"
}
refused() {
        local dir rc
        dir=$(mktemp -d "$tmp/refused.XXXXXX")
        run_mkheader "$dir/disk.hdr" "$@"
        rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        [ -s "$tmp/err" ] || { echo "no message on stderr"; return 1; }
        [ -z "$(ls -A "$dir")" ] || { echo "left behind: $(ls -A "$dir")"; return 1; }
}

# The matrix. Types rotate per table; MBR only where the disk fits 2^32
# sectors, refused elsewhere.
GPT_TYPES=(default linux "$GUID_LVM")
MBR_TYPES=(default linux 0x83)
n_gpt=0 n_mbr=0
for label in 64MiB 1GiB+7s 3TiB 30TiB; do
        for ss in 512 4096; do
                vol=$(size_of "$label" "$ss")
                header_case gpt "$ss" "$vol" "${GPT_TYPES[n_gpt++ % 3]}" $MiB "$label"
                if [ $(((MiB + vol) / ss)) -le $MBR_MAX_SECTORS ]; then
                        header_case mbr "$ss" "$vol" "${MBR_TYPES[n_mbr++ % 3]}" $MiB "$label"
                else
                        refuse "mbr/$ss $label (past 2^32 sectors)" --table mbr --size "$vol" --sector-size "$ss"
                fi
        done
done

# Other alignments: 4 MiB, and the smallest head that holds a GPT.
header_case gpt 512 $((64 * MiB)) linux $((4 * MiB)) 64MiB
header_case gpt 4096 $((64 * MiB)) default $((4 * MiB)) 64MiB
header_case mbr 4096 $((64 * MiB)) 0x83 $((4 * MiB)) 64MiB
header_case gpt 512 $((64 * MiB)) default $((2 * 512 + GPT_ENTRIES)) 64MiB
header_case gpt 4096 $((64 * MiB)) default $((2 * 4096 + GPT_ENTRIES)) 64MiB
header_case mbr 512 $((64 * MiB)) default 512 64MiB

# The largest MBR disk, 2^32 sectors with the 1 MiB head; one sector more is refused.
for ss in 512 4096; do
        vol=$(((MBR_MAX_SECTORS - MiB / ss) * ss))
        header_case mbr "$ss" "$vol" linux $MiB "largest-mbr"
        refuse "mbr/$ss one sector past 2^32" --table mbr --size $((vol + ss)) --sector-size "$ss"
done

# A filesystem UUID seeds the GUIDs as apply would.
FS_UUID=2f0d5c4e-8c1b-4c55-9a57-3b1f0e6b7a11
header_case gpt 512 $((64 * MiB)) default $MiB 64MiB --fs-uuid "$FS_UUID"
header_case mbr 512 $((64 * MiB)) default $MiB 64MiB --fs-uuid "$FS_UUID"

diag "$JUDGED headers judged by sgdisk/sfdisk/blkid"

# -------------------------------------------------------------- identifiers

# ids ARGS...: "DISK-ID PARTITION-UUID" of a fresh header for a 64 MiB
# volume with 512-byte sectors, as sfdisk reads them (nothing on failure).
ids() {
        local hdr disk part
        hdr=$(mktemp -u "$tmp/ids.XXXXXX")
        run_mkheader "$hdr" --size $((64 * MiB)) "$@" || return 1
        open_disk "$hdr" 512 $MiB $((64 * MiB)) >/dev/null || { close_disk; return 1; }
        disk=$(sfdisk --disk-id "$DEV" 2>/dev/null)
        part=$(sfdisk --part-uuid "$DEV" 1 2>/dev/null) # GPT only
        echo "$disk${part:+ $part}"
        close_disk
        rm -f "$hdr"
}

# deterministic DESC ARGS...: the same arguments twice give the same bytes.
deterministic() {
        local desc=$1
        shift
        check "same bytes twice: $desc" same_bytes "$@"
}
same_bytes() {
        local a=$tmp/same-a/disk.hdr b=$tmp/same-b/disk.hdr
        rm -rf "$tmp/same-a" "$tmp/same-b"
        make_header "$a" "$@" >/dev/null || { echo "first run failed"; return 1; }
        make_header "$b" "$@" >/dev/null || { echo "second run failed"; return 1; }
        cmp "$a" "$b"
}
deterministic "gpt/512" --size 64MiB --name same
deterministic "gpt/4096 30TiB linux" --size 30TiB --sector-size 4096 --type linux --name same
deterministic "mbr/512 0x83" --table mbr --size 64MiB --type 0x83 --name same
deterministic "gpt/512 --fs-uuid" --size 64MiB --name same --fs-uuid "$FS_UUID"

# ids_differ IDS_A IDS_B: other disk identifier, and other partition GUID
# when there is one (GPT).
ids_differ() {
        local a b
        read -r -a a <<<"$1"
        read -r -a b <<<"$2"
        if [ ${#a[@]} -eq 0 ] || [ ${#b[@]} -eq 0 ]; then
                echo "could not read the identifiers ('$1', '$2')"
                return 1
        fi
        [ "${a[0]}" != "${b[0]}" ] || { echo "same disk identifier ${a[0]}"; return 1; }
        [ -z "${a[1]:-}" ] || [ "${a[1]}" != "${b[1]:-}" ] || { echo "same partition GUID ${a[1]}"; return 1; }
}
signature_set() {
        case ${1%% *} in
        0x*[1-9a-f]*) return 0 ;;
        *) echo "disk signature '${1%% *}'"; return 1 ;;
        esac
}
gpt_one=$(ids --name one)
gpt_two=$(ids --name two)
gpt_fs=$(ids --name one --fs-uuid "$FS_UUID")
mbr_one=$(ids --table mbr --name one)
mbr_two=$(ids --table mbr --name two)
check "gpt: another --name, other disk and partition GUIDs" ids_differ "$gpt_one" "$gpt_two"
check "gpt: --fs-uuid changes the GUIDs" ids_differ "$gpt_one" "$gpt_fs"
check "mbr: another --name, another disk signature" ids_differ "$mbr_one" "$mbr_two"
check "mbr: the disk signature is not zero" signature_set "$mbr_one"

# Pinned identifiers are written as given.
check_eq "gpt: --disk-guid and --partition-guid are used" \
        "11111111-2222-3333-4444-555555555555 AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE" \
        "$(ids --disk-guid 11111111-2222-3333-4444-555555555555 --partition-guid aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee)"
check_eq "mbr: --disk-signature is used" "0x12345678" \
        "$(ids --table mbr --disk-signature 0x12345678)"

# ----------------------------------------------------------------- refusals

refuse "size not a multiple of 512" --size $((64 * MiB + 1))
refuse "size not a multiple of 4096" --size $((64 * MiB + 512)) --sector-size 4096
refuse "gpt/512 alignment 16896 (one sector short)" --size 64MiB --alignment $((2 * 512 + GPT_ENTRIES - 512))
refuse "gpt/4096 alignment 17408" --size 64MiB --sector-size 4096 --alignment $((2 * 512 + GPT_ENTRIES))
refuse "gpt/4096 alignment 20480 (one sector short)" --size 64MiB --sector-size 4096 --alignment $((GPT_ENTRIES + 4096))
refuse "mbr alignment 0" --table mbr --size 64MiB --alignment 0
refuse "alignment not a multiple of 512" --size 64MiB --alignment $((MiB + 1))
refuse "alignment not a multiple of 4096" --size 64MiB --sector-size 4096 --alignment $((MiB + 512))
refuse "mbr alignment not a multiple of 512" --table mbr --size 64MiB --alignment 1000
refuse "sector size 1024" --size 64MiB --sector-size 1024
refuse "sector size 0" --size 64MiB --sector-size 0
refuse "--size 0" --size 0
for garbage in lots 12XB -512 "" 1.5.0GiB 99999999999999999999999; do
        refuse "--size '$garbage'" --size "$garbage"
done
refuse "an MBR type with --table gpt" --table gpt --size 64MiB --type 0x83
refuse "a GUID type with --table mbr" --table mbr --size 64MiB --type "$GUID_LINUX"
refuse "table msdos" --table msdos --size 64MiB

# A refused request does not create a missing output directory either.
refused_no_dir() {
        local dir rc
        dir=$(mktemp -d "$tmp/refused.XXXXXX")
        "$PARTWRAP" mkheader --size 64MiB --sector-size 1024 -o "$dir/sub/disk.hdr" >/dev/null 2>&1
        rc=$?
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        [ -z "$(ls -A "$dir")" ] || { echo "left behind: $(ls -A "$dir")"; return 1; }
}
check "refuses with -o in a missing directory, creating nothing" refused_no_dir

# An existing -o (file, or symlink even dangling) is refused with exit 2
# (an impossible request) and left as it was.
existing_kept() {
        local dir rc
        dir=$(mktemp -d "$tmp/existing.XXXXXX")
        echo precious >"$dir/disk.hdr"
        cp -p "$dir/disk.hdr" "$dir/copy"
        run_mkheader "$dir/disk.hdr" --size 64MiB
        rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        cmp "$dir/copy" "$dir/disk.hdr" || return 1
        [ "$(ls -A "$dir" | sort | tr '\n' ' ')" = "copy disk.hdr " ] || { echo "directory holds: $(ls -A "$dir")"; return 1; }
}
check "an existing -o file is refused (exit 2) and kept" existing_kept
dangling_kept() {
        local dir rc
        dir=$(mktemp -d "$tmp/existing.XXXXXX")
        ln -s "$dir/nowhere" "$dir/disk.hdr"
        run_mkheader "$dir/disk.hdr" --size 64MiB
        rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        [ "$(readlink "$dir/disk.hdr")" = "$dir/nowhere" ] || { echo "symlink changed"; return 1; }
        [ "$(ls -A "$dir")" = disk.hdr ] || { echo "directory holds: $(ls -A "$dir")"; return 1; }
}
check "an existing dangling symlink -o is refused (exit 2) and kept" dangling_kept

# -------------------------------------------------------------------- JSON

# json_case TABLE SECTOR VOLUME: --json prints one document with the dm table.
json_case() {
        local table=$1 ss=$2 vol=$3 dir=$tmp/json-$1-$2 doc want
        mkdir -p "$dir"
        doc=$("$PARTWRAP" --json mkheader --table "$table" --size "$vol" --sector-size "$ss" -o "$dir/disk.hdr" 2>"$tmp/err") ||
                { cat "$tmp/err"; return 1; }
        python3 -m json.tool <<<"$doc" >/dev/null || { echo "stdout: $doc"; return 1; }
        want=$(dm_table "$table" "$ss" $MiB "$vol" "$(header_bytes "$table" "$ss" $MiB)")
        same_lines "$want" "$(python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["table"]))' <<<"$doc")"
}
check "--json: gpt/4096 parses and has the dm table" json_case gpt 4096 $((3 * TiB))
check "--json: mbr/512 parses and has the dm table" json_case mbr 512 $((64 * MiB))

tap_done
