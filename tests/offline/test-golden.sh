#!/usr/bin/env bash
# Golden values, from outside partwrap: "a re-created header is
# byte-identical" must hold across versions, not only between two runs of
# one binary.
#   - The disk GUID, partition GUID and MBR disk signature that mkheader
#     derives for a few (name, filesystem UUID) pairs equal what Python's
#     uuid.uuid5 computes from the derivation partwrap.conf(5) documents
#     (DERIVED IDENTIFIERS), read back from the header by sfdisk.
#   - The sha256 of whole header files (GPT and MBR, 512- and 4096-byte
#     sectors) equals the one pinned in tests/offline/golden/headers.sha256.
# A header format that changes on purpose breaks the contract for every
# existing disk; only then update the pinned sums (the command is in that
# file).
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi
for tool in python3 sfdisk sha256sum truncate dd; do
        command -v "$tool" >/dev/null || { echo "$tool is not installed (tests/deps.sh installs it)"; exit 77; }
done
GOLDEN=$TOP/tests/offline/golden/headers.sha256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The namespace as the manual documents it.
NAMESPACE=6f1c2b9e-553d-4c71-9a0e-8d3721b4e65a
check "partwrap.conf(5) documents the namespace $NAMESPACE" grep -qxF ".Dl $NAMESPACE" "$TOP/man/partwrap.conf.5"

# derive NAME [FS_UUID]: "DISK-GUID PARTITION-GUID 0xSIGNATURE", computed
# from partwrap.conf(5) alone.
derive() {
        python3 - "$NAMESPACE" "$@" <<'EOF'
import sys, uuid
ns = uuid.UUID(sys.argv[1])
key = sys.argv[2] + "\n" + (sys.argv[3] if len(sys.argv) > 3 else "").lower()
def u(purpose):
    return uuid.uuid5(ns, purpose + "\n" + key)
signature = int.from_bytes(u("mbr").bytes[:4], "big") or 1
print(str(u("disk")).upper(), str(u("partition")).upper(), "0x%08x" % signature)
EOF
}

# image HDR ALIGN VOLUME: HDR's head, a sparse volume, HDR's tail, in
# $tmp/disk.img (sfdisk wants the backup GPT at the end of the disk).
image() {
        local hdr=$1 align=$2 vol=$3 img=$tmp/disk.img hsize
        hsize=$(stat -c %s "$hdr")
        rm -f "$img"
        truncate -s $((hsize + vol)) "$img" &&
                dd if="$hdr" of="$img" bs=64K count="$align" iflag=count_bytes conv=notrunc status=none || return 1
        if [ "$hsize" -gt "$align" ]; then
                dd if="$hdr" of="$img" bs=64K skip="$align" seek=$((align + vol)) \
                        iflag=skip_bytes oflag=seek_bytes conv=notrunc status=none || return 1
        fi
        echo "$img"
}

# read_ids TABLE ARGS...: what sfdisk reads from a fresh 64 MiB header made
# with ARGS: "DISK-GUID PARTITION-GUID" (gpt) or "0xSIGNATURE" (mbr).
read_ids() {
        local table=$1 hdr img
        shift
        hdr=$(mktemp -u "$tmp/ids.XXXXXX")
        "$PARTWRAP" mkheader --table "$table" --size 64MiB "$@" -o "$hdr" >/dev/null 2>"$tmp/err" ||
                { echo "mkheader failed: $(cat "$tmp/err")"; return; }
        img=$(image "$hdr" $((1 << 20)) $((64 << 20))) || { echo "cannot assemble the image"; return; }
        if [ "$table" = gpt ]; then
                echo "$(sfdisk --disk-id "$img" 2>&1) $(sfdisk --part-uuid "$img" 1 2>&1)"
        else
                sfdisk --disk-id "$img" 2>&1
        fi
        rm -f "$hdr" "$img"
}

# The pairs: an ordinary UUID, the same in upper case (folded: the same
# identifiers), an NTFS serial as libblkid prints it, a name with ':' '@'
# '_' '.', and no filesystem UUID at all (mkheader's default name "disk").
while read -r name fs; do
        args=()
        [ "$name" = - ] || args+=(--name "$name")
        [ "$fs" = - ] || args+=(--fs-uuid "$fs")
        [ "$name" = - ] && name=disk
        [ "$fs" = - ] && fs=
        read -r disk part sig <<<"$(derive "$name" ${fs:+"$fs"})"
        what="name '$name', fs UUID '${fs:-none}'"
        check_eq "$what: GPT disk and partition GUID = uuid5" "$disk $part" "$(read_ids gpt "${args[@]}")"
        check_eq "$what: MBR disk signature = uuid5" "$sig" "$(read_ids mbr "${args[@]}")"
done <<'EOF'
win-data 2f0d5c4e-8c1b-4c55-9a57-3b1f0e6b7a11
win-data 2F0D5C4E-8C1B-4C55-9A57-3B1F0E6B7A11
win-ntfs 0123456789ABCDEF
lab_el:x@2.v 7d9a4c1e-0b55-4f3a-8e21-5c6b7a8d9e0f
- -
EOF
check_eq "the manual's example: win-data over 2F0D5C4E-...: the same as in lower case" \
        "$(derive win-data 2f0d5c4e-8c1b-4c55-9a57-3b1f0e6b7a11)" "$(derive win-data 2F0D5C4E-8C1B-4C55-9A57-3B1F0E6B7A11)"

# Whole header files, pinned. FILE ARGS... (each also given -o FILE).
mkdir "$tmp/golden"
while read -r file args; do
        # shellcheck disable=SC2086  # (ARGS are words)
        if ! "$PARTWRAP" mkheader $args -o "$tmp/golden/$file" >/dev/null 2>"$tmp/err"; then
                not_ok "mkheader $args"
                sed 's/^/#   /' "$tmp/err"
        fi
done <<'EOF'
gpt-512.header --name win-data --fs-uuid 2f0d5c4e-8c1b-4c55-9a57-3b1f0e6b7a11 --size 64MiB
gpt-4096.header --name big --fs-uuid 7d9a4c1e-0b55-4f3a-8e21-5c6b7a8d9e0f --size 3TiB --sector-size 4096 --type linux
gpt-512-pinned.header --name pinned --size 1GiB --alignment 4MiB --partition-name Data --disk-guid 11111111-2222-3333-4444-555555555555 --partition-guid aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
mbr-512.header --table mbr --name win-ntfs --fs-uuid 0123456789ABCDEF --size 64MiB --type 0x07
mbr-4096.header --table mbr --name m4k --size 1GiB --sector-size 4096 --type 0x83
EOF
n=0
while read -r sum file; do
        case $sum in '#'* | '') continue ;; esac
        n=$((n + 1))
        if [ -f "$tmp/golden/$file" ]; then
                check_eq "$file: sha256 as pinned" "$sum" "$(sha256sum <"$tmp/golden/$file" | cut -d' ' -f1)"
        else
                not_ok "$file: sha256 as pinned (not made)"
        fi
done <"$GOLDEN"
check_eq "every header made is pinned" "$(ls "$tmp/golden" | wc -l)" "$n"
tap_done
