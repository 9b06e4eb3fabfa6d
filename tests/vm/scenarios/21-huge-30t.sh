#!/usr/bin/env bash
# A 30 TiB (sparse) volume under GPT: sizes past every 32-bit limit, sgdisk
# on the live device, check. Then MBR's 2^32-sector limit: 3 TiB refused with
# no partial state, and the exact boundary (a disk of 2^32 sectors) accepted
# while one sector more is refused.
. "$(dirname "$0")/../lib.sh"

# hash_sparse DEV: sha256 over the data extents (offset, length, bytes) of a
# loop device's sparse backing file, and its size. A 30 TiB volume cannot be
# read whole (hash_dev), but any write through the loop device either changes
# an allocated extent or allocates a new one (tmpfs does not detect zeroes),
# so this sees every write. sync first: a write left in the loop device's page
# cache must reach the file.
hash_sparse() {
        sync
        blockdev --flushbufs "$1" 2>/dev/null
        "$PY" - "$(losetup -n -O BACK-FILE "$1")" <<'EOF'
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h = hashlib.sha256()
off = 0
while off < size:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(fd, d, os.SEEK_HOLE)
    h.update(b"%d-%d;" % (d, e))
    os.lseek(fd, d, os.SEEK_SET)
    n = e - d
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            break
        h.update(b)
        n -= len(b)
    off = e
print(h.hexdigest(), size)
EOF
}

# --- 30 TiB under GPT
big=$(make_sparse_volume 30T) || exit 1
settle
big_before=$(hash_sparse "$big")
loops0=$(loops_count)
disk_conf $conf/21-big.conf big "$big"
check "apply creates a disk over 30 TiB" pw apply big
settle
check "/dev/mapper/big exists" test -b /dev/mapper/big
check_eq "dm size = 1 MiB + 30 TiB + 16.5 KiB" $((1048576 + (30 << 40) + 16896)) \
        "$(blockdev --getsize64 /dev/mapper/big 2>&1)"
vsec=$(((30 << 40) / 512))
check_eq "dm table: tail starts at 2048 + volume sectors" "$((2048 + vsec)) 33" \
        "$(dmsetup table big | sed -n 3p | cut -d' ' -f1-2)"
check_eq "header file = 1 MiB + 16.5 KiB" $((1048576 + 16896)) "$(stat -c %s /tmp/headers/big.header)"
sg=$(sgdisk -v /dev/mapper/big 2>&1)
check "sgdisk -v on the live 30 TiB device: no problems" grep -q "No problems found" <<<"$sg"
check_eq "sgdisk -v: no warnings" "" "$(grep -iE 'warning|problem:|caution' <<<"$sg")"
parts=$(sfdisk -J /dev/mapper/big | json_get 't["label"]' 'len(p)' 'p[0]["start"]' 'p[0]["size"]' 't["lastlba"]')
check_eq "sfdisk: gpt, partition 1 = 2048 + 30 TiB, last usable LBA before the tail" \
        "gpt 1 2048 $vsec $((2048 + vsec - 1))" "$parts"
# The backup header sits in the very last LBA of the 30 TiB + disk.
last=$(( (1048576 + (30 << 40) + 16896) / 512 - 1 ))
check_eq "backup GPT header (EFI PART) at the last LBA ($last)" "EFI PART" \
        "$(dd if=/dev/mapper/big bs=512 skip=$last count=1 status=none | head -c 8)"
lp=$(kernel_parts /dev/mapper/big)
check_eq "kernel: partition 1 is 30 TiB" $((30 << 40)) "$(blockdev --getsize64 "${lp}p1" 2>&1)"
check_eq "kernel: blkid finds ext4 on partition 1" ext4 "$(blkid -p -o value -s TYPE "${lp}p1" 2>&1)"
detach_parts "$lp"
out=$(pw check big 2>&1)
rc=$?
check_eq "check exits 0" 0 "$rc"
check_eq "check: healthy" "big: healthy" "$(grep '^big:' <<<"$out")"
check "stop" pw stop big
settle
check_eq "loop gone with the dm device" "$loops0" "$(loops_count)"
check_eq "30 TiB volume unchanged" "$big_before" "$(hash_sparse "$big")"

# --- 3 TiB under MBR: refused, nothing left behind
mid=$(make_sparse_volume 3T) || exit 1
settle
mid_before=$(hash_sparse "$mid")
disk_conf $conf/22-mid.conf mid "$mid" table=mbr
loops1=$(loops_count) dm1=$(dm_count)
out=$(pw apply mid 2>&1)
rc=$?
check_eq "apply of 3 TiB under MBR exits 1" 1 "$rc"
check "the message names the disk and MBR" grep -q "mid:.*MBR" <<<"$out"
check "the message mentions the 2^32-sector limit" grep -qF "2^32" <<<"$out"
check "the message suggests table = gpt" grep -qF "table = gpt" <<<"$out"
diag "apply said: $(tr '\n' ' ' <<<"$out")"
check_no_disk mid "$loops1" "$dm1"
check "no header file created" test ! -e /tmp/headers/mid.header
check_eq "no temp file left in the header directory" "big.header" "$(ls -A /tmp/headers | tr '\n' ' ' | sed 's/ $//')"
out=$(pw check mid 2>&1)
check_eq "check of the 3 TiB MBR disk exits 1" 1 "$?"
check "check explains the MBR limit too" grep -qF "2^32" <<<"$out"
check_eq "3 TiB volume unchanged" "$mid_before" "$(hash_sparse "$mid")"
losetup -d "$mid"
rm $conf/22-mid.conf   # its loop device number is free for the next volumes

# --- the MBR boundary: head 2048 + volume = 2^32 sectors is the largest disk
# an MBR describes (last LBA 2^32-1); one sector more is refused.
edge=$((4294967296 - 2048))
e1=$(make_sparse_volume $((edge * 512)) none) || exit 1
e2=$(make_sparse_volume $(((edge + 1) * 512)) none) || exit 1
settle
e1_before=$(hash_sparse "$e1") e2_before=$(hash_sparse "$e2")
disk_conf $conf/23-edge.conf edge-fit "$e1" table=mbr type=linux
disk_conf $conf/23-edge.conf edge-over "$e2" table=mbr type=linux
check "MBR disk of exactly 2^32 sectors: apply works" pw apply edge-fit
settle
check_eq "  its size is 2^32 sectors" 4294967296 "$(blockdev --getsz /dev/mapper/edge-fit 2>&1)"
parts=$(sfdisk -J /dev/mapper/edge-fit 2>/dev/null | json_get 'p[0]["start"]' 'p[0]["size"]' 'p[0]["type"]')
check_eq "  sfdisk: partition 1 = 2048 + (2^32 - 2048) sectors, type 83" "2048 $edge 83" "$parts"
check "  check healthy" pw check edge-fit
pw stop edge-fit >/dev/null 2>&1
settle
out=$(pw apply edge-over 2>&1)
check_eq "MBR disk of 2^32 + 1 sectors: apply exits 1" 1 "$?"
check "  the message mentions 2^32" grep -qF "2^32" <<<"$out"
check "  no header file" test ! -e /tmp/headers/edge-over.header
check "  no dm device" dm_absent edge-over
# mkheader agrees with apply on both sides of the boundary.
check "mkheader accepts the 2^32-sector MBR disk" "$PARTWRAP" mkheader --table mbr --type linux \
        --size $((edge * 512)) --sector-size 512 -o /tmp/mk-fit.header
out=$("$PARTWRAP" mkheader --table mbr --type linux --size $(((edge + 1) * 512)) --sector-size 512 -o /tmp/mk-over.header 2>&1)
check_eq "mkheader refuses one sector more with exit 2" 2 "$?"
check "  and writes nothing" test ! -e /tmp/mk-over.header
check_eq "boundary volumes unchanged" "$e1_before $e2_before" "$(hash_sparse "$e1") $(hash_sparse "$e2")"
check_eq "no loop device left at the end" "$((loops0 + 2))" "$(loops_count)"   # e1 and e2 themselves
tap_done
