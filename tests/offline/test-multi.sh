#!/usr/bin/env bash
# Several volumes as partitions of one disk (issue 15), offline: headers made
# by `partwrap mkheader --size A,B,C`, judged by tools nobody on this project
# wrote (sgdisk -v, sfdisk -J/--verify, parted, blkid -p) and by the
# kernel's own partition parser (losetup -P).
#
# Every case builds real small filesystem images (NTFS, ext4, vfat, and swap
# for the fourth MBR partition), each with a known file, then assembles the
# disk image by interpreting the device-mapper table mkheader prints, one
# "START LEN linear DEV OFF" line at a time:
#
#     LOOP     -> the header file's bytes from OFF * 512
#     VOLUMEk  -> volume image k's bytes from OFF * 512
#
# Volume sizes are not multiples of the alignment, so gaps exist between the
# partitions; they must be backed by the header file (head + gaps + tail).
# The volume images must hash the same before and after.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi
for tool in mkntfs ntfscp ntfscat mkfs.ext4 debugfs mkfs.vfat mkswap sgdisk sfdisk parted blkid \
        python3 truncate dd cmp sha256sum; do
        if ! command -v "$tool" >/dev/null; then
                echo "$tool is not installed (tests/deps.sh installs it)"
                exit 77
        fi
done

KiB=1024 MiB=$((1024 ** 2))
GPT_ENTRIES=$((128 * 128))

# Per filesystem: size (multiple of 4096, of no alignment used here), GPT
# type option and how sfdisk prints it, MBR type option and sfdisk's form,
# label, GPT partition name.
declare -A VSIZE=([ntfs]=$((5000 * KiB)) [ext4]=$((3000 * KiB)) [vfat]=$((2000 * KiB)) [swap]=$((1500 * KiB)))
declare -A GPT_TYPE=([ntfs]=basic-data [ext4]=linux [vfat]=esp [swap]=linux-swap)
declare -A GPT_SFDISK=([ntfs]=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 [ext4]=0FC63DAF-8483-4772-8E79-3D69D8477DE4
        [vfat]=C12A7328-F81F-11D2-BA4B-00A0C93EC93B [swap]=0657FD6D-A4AB-43C4-84E5-0933C84B4F4C)
declare -A MBR_TYPE=([ntfs]=basic-data [ext4]=linux [vfat]=0x0c [swap]=linux-swap)
declare -A MBR_SFDISK=([ntfs]=7 [ext4]=83 [vfat]=c [swap]=82)
declare -A LABEL=([ntfs]=MULTINTFS [ext4]=multi-ext4 [vfat]=MULTIVFAT [swap]=multi-swap)
declare -A PNAME=([ntfs]="Windows data" [ext4]=linux-root [vfat]="EFI system" [swap]=swap)
declare -A BLKID_TYPE=([ntfs]=ntfs [ext4]=ext4 [vfat]=vfat [swap]=swap)

# ---------------------------------------------------------------- workspace

source "$(dirname "${BASH_SOURCE[0]}")/../lib/imgdir.sh"
tmp=$(mktemp -d)
LOOPS=() MOUNTS=()
cleanup() {
        local m l
        for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
        for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
        imgdir_cleanup
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

imgdir_setup multi 128

LOOP_OK=
if command -v losetup >/dev/null && [ -e /dev/loop-control ] && [ -d /sys/block ]; then LOOP_OK=1; fi
MOUNT_OK=
if [ -n "$LOOP_OK" ] && [ "$(id -u)" = 0 ] && grep -qw ext4 /proc/filesystems; then MOUNT_OK=1; fi

# ------------------------------------------------------------------ volumes

# make_volume FS SECTOR DIR: DIR/FS.img, a real filesystem of VSIZE[FS]
# bytes made for SECTOR-byte sectors, holding DIR/FS.txt as hello.txt
# (swap holds no file: its label is what blkid finds).
make_volume() {
        local fs=$1 ss=$2 dir=$3 img=$3/$1.img
        printf 'partwrap multi %s %s %s\n' "$fs" "$ss" "$RANDOM$RANDOM" >"$dir/$fs.txt"
        truncate -s "${VSIZE[$fs]}" "$img" || return 1
        case $fs in
        ntfs)
                mkntfs -Q -F -q -s "$ss" -L "${LABEL[$fs]}" "$img" >/dev/null 2>&1 || { echo "mkntfs failed"; return 1; }
                ntfscp -f "$img" "$dir/$fs.txt" hello.txt >/dev/null || return 1
                ;;
        ext4)
                mkfs.ext4 -F -q -b 4096 -L "${LABEL[$fs]}" "$img" || return 1
                debugfs -w -R "write $dir/$fs.txt hello.txt" "$img" 2>&1 | grep -q 'Allocated inode' || return 1
                ;;
        vfat)
                mkfs.vfat -S "$ss" -n "${LABEL[$fs]}" "$img" >/dev/null || return 1
                # No mtools here: the file is only checked as bytes.
                ;;
        swap) mkswap -L "${LABEL[$fs]}" "$img" >/dev/null || return 1 ;;
        esac
}

# The volumes of each sector size, hashed once here and again at the end.
declare -A HASH=()
for ss in 512 4096; do
        mkdir -p "$IMGDIR/vol$ss"
        for fs in ntfs ext4 vfat swap; do
                if check "volume $fs for $ss-byte sectors" make_volume "$fs" "$ss" "$IMGDIR/vol$ss"; then
                        HASH[$ss/$fs]=$(sha256sum <"$IMGDIR/vol$ss/$fs.img")
                fi
        done
done

# ------------------------------------------------------------------ helpers

# expected_layout TABLE SECTOR ALIGN SIZE...: the partitions as "START SIZE"
# lines in bytes, computed here: partition 1 at ALIGN, partition i at the
# first multiple of ALIGN after partition i-1 ends; then "HEADER BYTES"
# (head + gaps + tail).
expected_layout() {
        local table=$1 ss=$2 align=$3 start end=0 size gaps=0 tail=0
        shift 3
        start=$align
        for size in "$@"; do
                if [ "$end" -gt 0 ]; then
                        start=$(((end + align - 1) / align * align))
                        gaps=$((gaps + start - end))
                fi
                echo "$start $size"
                end=$((start + size))
        done
        [ "$table" = gpt ] && tail=$((GPT_ENTRIES + ss))
        echo "HEADER $((align + gaps + tail))"
}

# table_sane TABLE_FILE HDR N VOLSIZE...: the dm table is contiguous from 0,
# VOLUMEk appear in order each whole from offset 0, LOOP segments consume
# the header file in order and all of it.
table_sane() {
        local file=$1 hdr=$2 n=$3 next=0 loop_off=0 k=0 start len tgt dev off want
        shift 3
        local -a sizes=("$@")
        while read -r start len tgt dev off; do
                [ "$tgt" = linear ] || { echo "target '$tgt'"; return 1; }
                [ "$start" -eq "$next" ] || { echo "segment at $start, expected $next"; return 1; }
                case $dev in
                LOOP)
                        [ "$off" -eq "$loop_off" ] || { echo "LOOP at offset $off, expected $loop_off"; return 1; }
                        loop_off=$((loop_off + len))
                        ;;
                VOLUME | VOLUME[0-9]*)
                        k=$((k + 1))
                        want=VOLUME$k
                        [ "$n" -eq 1 ] && want=VOLUME
                        [ "$dev" = "$want" ] || { echo "$dev, expected $want"; return 1; }
                        [ "$off" -eq 0 ] || { echo "$dev from offset $off"; return 1; }
                        [ $((len * 512)) -eq "${sizes[k - 1]}" ] || { echo "$dev: $len sectors, expected $((sizes[k - 1] / 512))"; return 1; }
                        ;;
                *) echo "unknown device '$dev'"; return 1 ;;
                esac
                next=$((start + len))
        done <"$file"
        [ "$k" -eq "$n" ] || { echo "$k volumes in the table, expected $n"; return 1; }
        [ $((loop_off * 512)) -eq "$(stat -c %s "$hdr")" ] ||
                { echo "LOOP segments cover $((loop_off * 512)) bytes, header is $(stat -c %s "$hdr")"; return 1; }
}

# assemble TABLE_FILE HDR IMG VOLUME...: IMG = the disk the table describes.
assemble() {
        local file=$1 hdr=$2 img=$3 start len tgt dev off src end=0
        shift 3
        local -a vols=("$@")
        rm -f "$img"
        while read -r start len tgt dev off; do
                case $dev in
                LOOP) src=$hdr ;;
                VOLUME) src=${vols[0]} ;;
                VOLUME[0-9]*) src=${vols[${dev#VOLUME} - 1]} ;;
                *) echo "unknown device '$dev'"; return 1 ;;
                esac
                [ $(((off + len) * 512)) -le "$(stat -c %s "$src")" ] ||
                        { echo "$dev: $((off + len)) sectors past the end of $src"; return 1; }
                dd if="$src" of="$img" bs=64K skip=$((off * 512)) seek=$((start * 512)) count=$((len * 512)) \
                        iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc status=none || return 1
                end=$(((start + len) * 512))
        done <"$file"
        [ "$(stat -c %s "$img")" -eq "$end" ] || { echo "image is $(stat -c %s "$img") bytes, expected $end"; return 1; }
}

# sgdisk_clean DEV: "No problems found" and no caution or warning, but for
# a partition (a volume) that does not end on an aligned sector.
sgdisk_clean() {
        local out
        out=$(sgdisk -v "$1" 2>&1)
        if ! grep -q '^No problems found' <<<"$out" ||
                grep -v "Partition [0-9]* doesn't end on a [0-9]*-sector boundary" <<<"$out" |
                grep -Eqi 'caution|warning|corrupt|invalid|error'; then
                echo "$out"
                return 1
        fi
}

# Reads sfdisk -J on stdin; argv: label sector expected-json, where
# expected is [{start, size, type, name?, uuid?}] in sectors.
read -r -d '' SFDISK_JUDGE <<'EOF'
import json, sys
label, ss, want = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
t = json.load(sys.stdin)["partitiontable"]
parts = t.get("partitions", [])
bad = []
def expect(what, w, g):
    if w != g:
        bad.append("%s: expected %r, found %r" % (what, w, g))
expect("label", label, t.get("label"))
expect("sectorsize", ss, t.get("sectorsize"))
expect("partitions", len(want), len(parts))
for i, (w, p) in enumerate(zip(want, parts), 1):
    expect("p%d node" % i, str(i), p.get("node", "").rsplit("p", 1)[-1][-len(str(i)):])
    for k in w:
        expect("p%d %s" % (i, k), w[k], p.get(k))
if label == "gpt" and want:
    entries_end = 2 + 128 * 128 // ss
    last = want[-1]["start"] + want[-1]["size"] - 1
    expect("lastlba", last, t.get("lastlba"))
    first = t.get("firstlba", -1)
    expect("firstlba in [%d, %d]" % (entries_end, want[0]["start"]), True, entries_end <= first <= want[0]["start"])
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF

sfdisk_judge() {
        local dev=$1 json
        shift
        json=$(sfdisk -J "$dev" 2>"$tmp/sfdisk.err") || { cat "$tmp/sfdisk.err"; return 1; }
        if ! python3 -c "$SFDISK_JUDGE" "$@" <<<"$json" || [ -s "$tmp/sfdisk.err" ]; then
                echo "$json"
                cat "$tmp/sfdisk.err"
                return 1
        fi
}

# parted_judge DEV PTTYPE SECTOR "START SIZE NAME"...: parted -m, in
# sectors, agrees (NAME checked for gpt only).
parted_judge() {
        local dev=$1 pt=$2 ss=$3 out i=0 line want num pstart pend psize name
        shift 3
        out=$(parted -s -m "$dev" unit s print 2>&1) || { echo "$out"; return 1; }
        line=$(sed -n 2p <<<"$out")
        IFS=: read -r _ _ _ lss _ ptt _ <<<"$line"
        [ "$lss" = "$ss" ] && [ "$ptt" = "$pt" ] || { echo "$out"; echo "disk line: sector $lss, table $ptt"; return 1; }
        [ "$(sed -n '3,$p' <<<"$out" | grep -c .)" -eq $# ] || { echo "$out"; echo "expected $# partitions"; return 1; }
        for want in "$@"; do
                i=$((i + 1))
                read -r wstart wsize wname <<<"$want"
                line=$(sed -n "$((i + 2))p" <<<"$out")
                IFS=: read -r num pstart pend psize _ name _ <<<"${line%;}"
                if [ "$num" != "$i" ] || [ "$pstart" != "${wstart}s" ] || [ "$psize" != "${wsize}s" ] ||
                        [ "$pend" != "$((wstart + wsize - 1))s" ] || { [ "$pt" = gpt ] && [ "$name" != "$wname" ]; }; then
                        echo "$out"
                        echo "partition $i: expected start ${wstart}s size ${wsize}s name '$wname'"
                        return 1
                fi
        done
}

# blkid_at IMG OFFSET SIZE TYPE LABEL: blkid -p finds that filesystem there.
blkid_at() {
        local out
        out=$(blkid -p -o export -O "$2" -S "$3" "$1" 2>&1)
        grep -qx "TYPE=$4" <<<"$out" && grep -qx "LABEL=$5" <<<"$out" || { echo "$out"; return 1; }
}

# sys_part LOOPDEV K START SIZE: the kernel's partition K, in 512-byte units.
sys_part() {
        local b=${1#/dev/} s z
        local d=/sys/block/$b/${b}p$2
        [ -d "$d" ] || { echo "no $d; the kernel found: $(ls -d /sys/block/"$b"/"$b"p* 2>/dev/null)"; return 1; }
        s=$(cat "$d/start") z=$(cat "$d/size")
        [ "$s" = "$3" ] && [ "$z" = "$4" ] || { echo "start $s size $z, expected $3 $4"; return 1; }
}

# kernel_lacks_parser TABLE: why the running kernel cannot parse TABLE
# (its configuration, where /proc/config.gz tells); nothing when it can or
# when nobody can tell.
kernel_lacks_parser() {
        local opt=CONFIG_EFI_PARTITION
        [ "$1" = mbr ] && opt=CONFIG_MSDOS_PARTITION
        [ -r /proc/config.gz ] && command -v zcat >/dev/null || return 0
        zcat /proc/config.gz 2>/dev/null | grep -qx "$opt=y" ||
                echo "this kernel ($(uname -r)) is built without $opt"
}

# wait_node NODE: up to 3 s for devtmpfs/udev to show the partition node.
wait_node() {
        local i
        for i in $(seq 30); do
                [ -b "$1" ] && return 0
                sleep 0.1
        done
        return 1
}

# mount_reads NODE WANT: mounts ext4 read-only, hello.txt = WANT's bytes.
mount_reads() {
        local m rc
        m=$(mktemp -d "$tmp/mnt.XXXXXX")
        mount -t ext4 -o ro,noload "$1" "$m" || { rmdir "$m"; return 1; }
        MOUNTS+=("$m")
        cmp "$m/hello.txt" "$2"
        rc=$?
        umount "$m" && MOUNTS=("${MOUNTS[@]:0:${#MOUNTS[@]}-1}")
        rmdir "$m" 2>/dev/null
        return "$rc"
}

# ntfs_reads NODE WANT: ntfscat through the kernel's partition reads the file.
ntfs_reads() { cmp <(ntfscat "$1" hello.txt 2>/dev/null) "$2"; }

detach() {
        local l=$1 kept=() x
        losetup -d "$l"
        for x in "${LOOPS[@]}"; do [ "$x" = "$l" ] || kept+=("$x"); done
        LOOPS=("${kept[@]}")
}

# gap_from_header TABLE_FILE HDR IMG VOLUME...: writes a marker into the
# header's bytes of the first gap (the LOOP segment between VOLUME1 and
# VOLUME2), re-assembles the disk from that copy and reads the marker back
# at the gap's disk offset, which lies between partition 1 and 2.
gap_from_header() {
        local file=$1 hdr=$2 img=$3 copy=$tmp/gap.hdr line start len off p1end p2start
        shift 3
        line=$(awk '$4 == "VOLUME1" { seen = 1; next } seen && $4 == "LOOP" { print; exit } $4 == "VOLUME2" { exit }' "$file")
        [ -n "$line" ] || { echo "no LOOP segment between VOLUME1 and VOLUME2:"; cat "$file"; return 1; }
        read -r start len _ _ off <<<"$line"
        p1end=$(awk '$4 == "VOLUME1" { print $1 + $2 }' "$file")
        p2start=$(awk '$4 == "VOLUME2" { print $1 }' "$file")
        [ "$start" -eq "$p1end" ] && [ $((start + len)) -eq "$p2start" ] ||
                { echo "gap $start+$len is not between partitions 1 and 2 ($p1end..$p2start)"; return 1; }
        # a fresh header's gap reads as zeros, like unused space on a new disk
        cmp -s -n $((len * 512)) -i "$((off * 512)):0" "$hdr" /dev/zero ||
                { echo "the header's gap bytes at $((off * 512)) are not zero"; return 1; }
        cp "$hdr" "$copy"
        printf 'GAP-HEAD' | dd of="$copy" bs=1 seek=$((off * 512)) conv=notrunc status=none
        printf 'GAP-TAIL' | dd of="$copy" bs=1 seek=$(((off + len) * 512 - 8)) conv=notrunc status=none
        assemble "$file" "$copy" "$img" "$@" || return 1
        [ "$(dd if="$img" bs=1 skip=$((start * 512)) count=8 status=none)" = GAP-HEAD ] ||
                { echo "no GAP-HEAD at disk byte $((start * 512))"; return 1; }
        [ "$(dd if="$img" bs=1 skip=$(((start + len) * 512 - 8)) count=8 status=none)" = GAP-TAIL ] ||
                { echo "no GAP-TAIL at disk byte $(((start + len) * 512 - 8))"; return 1; }
        # and nothing else moved: the partitions are still the volumes
        local k=0 v
        for v in "$@"; do
                k=$((k + 1))
                start=$(awk -v d="VOLUME$k" '$4 == d { print $1 }' "$file")
                cmp -n "$(stat -c %s "$v")" -i "$((start * 512)):0" "$img" "$v" || return 1
        done
}

# ---------------------------------------------------------------- the cases

CASE=0

# multi_case TABLE SECTOR ALIGN PIN FS...: one disk with partitions 1..N =
# volumes FS... of SECTOR-byte sectors; PIN=pin gives --partition-guid.
multi_case() {
        local table=$1 ss=$2 align=$3 pin=$4
        shift 4
        local -a fss=("$@") vols=() sizes=() types=() names=() guids=()
        local n=$# fs i what hdr dir doc img want_hdr pt=dos
        CASE=$((CASE + 1))
        what="$table/$ss @$align ${fss[*]}"
        dir=$tmp/case$CASE
        mkdir -p "$dir"
        hdr=$dir/disk.hdr img=$IMGDIR/disk$CASE.img
        for fs in "${fss[@]}"; do
                vols+=("$IMGDIR/vol$ss/$fs.img")
                sizes+=("${VSIZE[$fs]}")
                if [ "$table" = gpt ]; then types+=("${GPT_TYPE[$fs]}"); else types+=("${MBR_TYPE[$fs]}"); fi
                names+=("${PNAME[$fs]}")
                guids+=("$(printf '%08X-0000-4000-8000-%012X' "$CASE" "${#guids[@]}")")
        done
        local -a args=(--table "$table" --sector-size "$ss" --alignment "$align" --name "multi-$CASE"
                --size "$(IFS=,; echo "${sizes[*]}")" --type "$(IFS=,; echo "${types[*]}")")
        if [ "$table" = gpt ]; then
                pt=gpt
                args+=(--partition-name "$(IFS=,; echo "${names[*]}")")
                [ "$pin" = pin ] && args+=(--partition-guid "$(IFS=,; echo "${guids[*]}")")
        fi

        # mkheader, text and JSON: same bytes, same table
        if ! "$PARTWRAP" mkheader "${args[@]}" -o "$hdr" >"$dir/out" 2>"$dir/err"; then
                not_ok "$what: mkheader ${args[*]}"
                sed 's/^/#   /' "$dir/err"
                return
        fi
        ok "$what: mkheader ${args[*]}"
        grep -v '^#' "$dir/out" >"$dir/table"
        if doc=$("$PARTWRAP" --json mkheader "${args[@]}" -o "$dir/json.hdr" 2>"$dir/err"); then
                check "$what: --json gives the same bytes" cmp "$hdr" "$dir/json.hdr"
                check_eq "$what: --json gives the same table" "$(cat "$dir/table")" \
                        "$(python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["table"]))' <<<"$doc")"
        else
                not_ok "$what: --json mkheader"
                sed 's/^/#   /' "$dir/err"
                return
        fi
        check_eq "$what: header mode 0600" 600 "$(stat -c %a "$hdr")"

        # the layout, computed here, against JSON "partitions" and the header size
        local layout starts=() psizes=()
        layout=$(expected_layout "$table" "$ss" "$align" "${sizes[@]}")
        want_hdr=$(sed -n 's/^HEADER //p' <<<"$layout")
        while read -r a b; do starts+=("$a"); psizes+=("$b"); done < <(grep -v HEADER <<<"$layout")
        check_eq "$what: JSON partitions = the first aligned start after each one" \
                "$(grep -v HEADER <<<"$layout" | tr '\n' ' ')" \
                "$(python3 -c 'import json, sys; print(" ".join("%d %d" % (p["start"], p["size"]) for p in json.load(sys.stdin)["partitions"]), end=" ")' <<<"$doc")"
        check_eq "$what: header = head + gaps + tail bytes" "$want_hdr" "$(stat -c %s "$hdr")"
        local gaps=0
        for ((i = 1; i < n; i++)); do [ "${starts[i]}" -gt $((starts[i - 1] + psizes[i - 1])) ] && gaps=$((gaps + 1)); done
        check_eq "$what: volume sizes leave a gap after each partition but the last" $((n - 1)) "$gaps"
        check "$what: dm table is contiguous, every volume whole, the header all used" \
                table_sane "$dir/table" "$hdr" "$n" "${sizes[@]}"

        if ! check "$what: assemble the disk from the dm table" assemble "$dir/table" "$hdr" "$img" "${vols[@]}"; then
                return
        fi

        # user-space parsers; 4096-byte sectors through a read-only loop device
        local dev=$img loopdev=''
        if [ "$ss" -ne 512 ]; then
                if [ -z "$LOOP_OK" ] || ! loopdev=$(losetup --sector-size "$ss" -f --show -r "$img" 2>"$dir/err"); then
                        skip "$what: sgdisk, sfdisk, parted" "no loop device with $ss-byte sectors: $(cat "$dir/err" 2>/dev/null)"
                        loopdev=''
                        dev=''
                else
                        LOOPS+=("$loopdev")
                        dev=$loopdev
                fi
        fi
        if [ -n "$dev" ]; then
                local want_json parted_want=()
                want_json=$(
                        for ((i = 0; i < n; i++)); do
                                fs=${fss[i]}
                                if [ "$table" = gpt ]; then
                                        printf '{"start":%d,"size":%d,"type":"%s","name":"%s"%s}\n' \
                                                $((starts[i] / ss)) $((psizes[i] / ss)) "${GPT_SFDISK[$fs]}" "${names[i]}" \
                                                "$([ "$pin" = pin ] && printf ',"uuid":"%s"' "${guids[i]}")"
                                else
                                        printf '{"start":%d,"size":%d,"type":"%s"}\n' $((starts[i] / ss)) $((psizes[i] / ss)) "${MBR_SFDISK[$fs]}"
                                fi
                        done | paste -sd, | sed 's/^/[/; s/$/]/'
                )
                for ((i = 0; i < n; i++)); do parted_want+=("$((starts[i] / ss)) $((psizes[i] / ss)) ${names[i]}"); done
                [ "$table" = gpt ] && check "$what: sgdisk -v finds no problems" sgdisk_clean "$dev"
                check "$what: sfdisk -J: $n partitions, starts, sizes, types${pt/dos/}${pt/gpt/, names}" \
                        sfdisk_judge "$dev" "$pt" "$ss" "$want_json"
                check "$what: sfdisk --verify" sfdisk --verify "$dev"
                local ptn=$pt
                [ "$pt" = dos ] && ptn=msdos
                check "$what: parted agrees" parted_judge "$dev" "$ptn" "$ss" "${parted_want[@]}"
                if [ "$table" = gpt ] && [ "$pin" != pin ]; then
                        local u
                        u=$(for ((i = 1; i <= n; i++)); do sfdisk --part-uuid "$dev" "$i" 2>/dev/null; done | sort -u | grep -vc '^00000000-0000-0000-0000-000000000000$')
                        check_eq "$what: derived partition GUIDs are distinct and set" "$n" "$u"
                fi
                [ -n "$loopdev" ] && detach "$loopdev"
        fi
        for ((i = 0; i < n; i++)); do
                fs=${fss[i]}
                check "$what: blkid -p finds $fs '${LABEL[$fs]}' at partition $((i + 1))" \
                        blkid_at "$img" "${starts[i]}" "${psizes[i]}" "${BLKID_TYPE[$fs]}" "${LABEL[$fs]}"
        done

        # the kernel's own partition parser; where the kernel has none for
        # this table, partx (libblkid's parser, told to the kernel with BLKPG)
        # adds the partitions, so they are still read through the kernel
        local noparser
        noparser=$(kernel_lacks_parser "$table")
        if [ -z "$LOOP_OK" ]; then
                skip "$what: the kernel's partition parser" "no loop devices here"
        elif ! loopdev=$(losetup -P -r --sector-size "$ss" -f --show "$img" 2>"$dir/err"); then
                skip "$what: the kernel's partition parser" "losetup -P: $(cat "$dir/err")"
        else
                LOOPS+=("$loopdev")
                local by=kernel
                if [ -n "$noparser" ]; then
                        skip "$what: kernel: partitions 1..$n start/size" "$noparser"
                        by=partx
                        if command -v partx >/dev/null; then
                                check "$what: partx -a adds the partitions instead" partx -a "$loopdev"
                        fi
                fi
                for ((i = 0; i < n; i++)); do
                        check "$what: $by: ${loopdev#/dev/}p$((i + 1)) start/size" \
                                sys_part "$loopdev" $((i + 1)) $((starts[i] / 512)) $((psizes[i] / 512))
                done
                check "$what: $by: no partition $((n + 1))" test ! -e "/sys/block/${loopdev#/dev/}/${loopdev#/dev/}p$((n + 1))"
                for ((i = 0; i < n; i++)); do
                        local node=${loopdev}p$((i + 1))
                        fs=${fss[i]}
                        if ! wait_node "$node"; then
                                skip "$what: $by: $node reads back as volume $((i + 1))" "no partition node $node"
                                continue
                        fi
                        check "$what: $by: $node is byte-identical to the $fs volume" cmp "$node" "${vols[i]}"
                        case $fs in
                        ext4)
                                if [ -n "$MOUNT_OK" ]; then
                                        check "$what: $by: $node mounts read-only, hello.txt reads back" \
                                                mount_reads "$node" "$IMGDIR/vol$ss/ext4.txt"
                                else
                                        skip "$what: $by: $node mounts" "cannot mount ext4 here"
                                fi
                                ;;
                        ntfs) check "$what: ntfscat reads hello.txt through $node" ntfs_reads "$node" "$IMGDIR/vol$ss/ntfs.txt" ;;
                        esac
                done
                detach "$loopdev"
        fi

        check "$what: a gap's bytes come from the header file" gap_from_header "$dir/table" "$hdr" "$img" "${vols[@]}"
        for ((i = 0; i < n; i++)); do
                fs=${fss[i]}
                check_eq "$what: the $fs volume hashes the same" "${HASH[$ss/$fs]:-unhashed}" "$(sha256sum <"${vols[i]}")"
        done
        rm -f "$img"
}

for ss in 512 4096; do
        multi_case gpt "$ss" $MiB derive ntfs ext4 vfat
        multi_case gpt "$ss" $((64 * KiB)) pin ntfs ext4 vfat
done
multi_case mbr 512 $MiB - ntfs ext4 vfat swap
multi_case mbr 512 $((64 * KiB)) - ntfs ext4 vfat swap

# ----------------------------------------------------------------- refusals

# refused DESC MKHEADER ARGS...: exit status 2, a message, nothing written.
refused() {
        local dir rc
        dir=$(mktemp -d "$tmp/refused.XXXXXX")
        "$PARTWRAP" mkheader "$@" -o "$dir/disk.hdr" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        cat "$tmp/err"
        [ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
        [ -s "$tmp/err" ] || { echo "no message on stderr"; return 1; }
        [ -z "$(ls -A "$dir")" ] || { echo "left behind: $(ls -A "$dir")"; return 1; }
}
list() { local s=$1 n=$2 out=$1; for ((i = 1; i < n; i++)); do out+=",$s"; done; echo "$out"; }

check "refuses mbr with 5 volumes" refused --table mbr --size "$(list 1MiB 5)"
check "refuses gpt with 129 volumes" refused --size "$(list 64KiB 129)"
check "refuses --type with 2 values for 3 sizes" refused --size 1MiB,2MiB,3MiB --type linux,esp
check "refuses --type with 4 values for 3 sizes" refused --size 1MiB,2MiB,3MiB --type linux,esp,linux,linux
check "refuses --partition-name with 2 values for 3 sizes" refused --size 1MiB,2MiB,3MiB --partition-name a,b
check "refuses --partition-guid with 2 values for 3 sizes" refused --size 1MiB,2MiB,3MiB \
        --partition-guid 11111111-2222-3333-4444-555555555555,11111111-2222-3333-4444-555555555556
check "refuses an empty item in --size" refused --size 1MiB,,3MiB
check "refuses mbr with 4 volumes past 2^32 sectors" refused --table mbr --size 1TiB,1TiB,1TiB,1TiB

# The limits themselves are accepted: 4 on MBR, 128 on GPT.
limit() {
        local dir=$tmp/limit-$1 n
        mkdir -p "$dir"
        "$PARTWRAP" --json mkheader --table "$1" --size "$(list 64KiB "$2")" --alignment 64KiB -o "$dir/h" >"$dir/doc" || return 1
        n=$(python3 -c 'import json, sys; print(len(json.load(sys.stdin)["partitions"]))' <"$dir/doc")
        [ "$n" -eq "$2" ] || { echo "$n partitions in the JSON"; return 1; }
}
check "accepts mbr with 4 volumes" limit mbr 4
check "accepts gpt with 128 volumes" limit gpt 128

tap_done
