#!/usr/bin/env bash
# What a guest writes into its own partition table, through the live device.
# GPT: a valid rewrite (attributes, as Windows does) stays healthy; a corrupt
# primary header is reported by check, which says partition 1 still maps the
# volume (through the backup); apply never repairs or rewrites the header; a
# table that no longer maps the volume is refused. MBR: a new disk signature
# (and active flag) written by the guest is healthy and survives stop + apply.
. "$(dirname "$0")/../lib.sh"

gv=$(make_volume 32 ext4 gdata) || exit 1
mv_=$(make_volume 32 ntfs MDATA) || exit 1
settle
h_g=$(hash_dev "$gv") h_m=$(hash_dev "$mv_")
disk_conf $conf/26-disks.conf g "$gv"
disk_conf $conf/26-disks.conf m "$mv_" table=mbr
# poke DEV OFFSET HEXBYTES: what a guest writes, through the page cache, flushed.
poke() { printf "$(sed 's/../\\x&/g' <<<"$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc,fsync status=none; }
peek() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

loops0=$(loops_count)
check "apply creates both disks" pw apply
settle
vsec=$(blockdev --getsz "$gv")
last=$((2048 + vsec + 32))    # the backup GPT header's LBA

# --- GPT: a valid rewrite by the guest
check "guest: sgdisk sets a partition attribute (both tables rewritten)" sgdisk -A 1:set:63 /dev/mapper/g
settle
check_eq "  the attribute is in the header file (the loop wrote it)" 80 "$(peek /tmp/headers/g.header $((1024 + 55)) 1)"
out=$(pw check g 2>&1)
check_eq "  check: healthy, exit 0" "0 g: healthy" "$? $(grep '^g:' <<<"$out")"
[ "$(grep -c FAIL <<<"$out")" = 0 ] || diag "$out"

# --- GPT: the primary header corrupted (one byte of its disk GUID)
byte=$(peek /dev/mapper/g $((512 + 56)) 1)
poke /dev/mapper/g $((512 + 56)) "$(printf '%02x' $((0x$byte ^ 0xff)))"
settle
hdr_corrupt=$(hash_dev /tmp/headers/g.header)
check_eq "the guest's write reached the header file" "$(printf '%02x' $((0x$byte ^ 0xff)))" \
        "$(peek /tmp/headers/g.header $((512 + 56)) 1)"
out=$(pw check g 2>&1)
check_eq "check exits 1" 1 "$?"
check "check names the primary GPT header's problem" grep -q "header.*FAIL.*primary GPT header: CRC32" <<<"$out"
check "check says partition 1 still maps the volume" grep -q "header.*ok.*partition 1 still maps the volume exactly" <<<"$out"
check "check: dm and data path still fine" bash -c 'grep -q "dm .*ok" <<<"$1" && grep -q "read .*ok" <<<"$1"' _ "$out"
diag "check said: $(tr '\n' '|' <<<"$out")"
json=$(pw check g --json 2>/dev/null)
check_eq "check --json: unhealthy, a failed header check naming the primary" "unhealthy True" \
        "$(json_get 'k["state"]' \
                'any(c["name"] == "header" and c["status"] == "fail" and "primary GPT header" in c["message"] for c in k["checks"])' <<<"$json")"
# libfdisk falls back to the backup (the kernel would only with the "gpt"
# boot option, so it is not asked here).
check_eq "sfdisk still finds partition 1 = the volume (from the backup)" "2048 $vsec" \
        "$(sfdisk -J /dev/mapper/g 2>/dev/null | json_get 'p[0]["start"]' 'p[0]["size"]')"
out=$(pw apply g 2>&1)
check_eq "apply on the live disk: unchanged, exit 0" "0 g: unchanged" "$? $(states g <<<"$out")"
check_eq "  header not repaired" "$hdr_corrupt" "$(hash_dev /tmp/headers/g.header)"
check "stop g" pw stop g
settle
out=$(pw apply g 2>&1)
check_eq "apply over the guest-corrupted header: created, exit 0" "0 g: created" "$? $(states g <<<"$out")"
check "  with a warning naming the primary header" grep -q "g: header /tmp/headers/g.header: primary GPT header.*still maps the volume" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  header not rewritten (the guest's bytes stay)" "$hdr_corrupt" "$(hash_dev /tmp/headers/g.header)"

# --- GPT: a primary header with many bad fields; check must still report
# the device-mapper and read-back checks, not drop them.
poke /dev/mapper/g $((512 + 8)) efbeadde                  # revision
poke /dev/mapper/g $((512 + 24)) 0700000000000000         # my LBA
poke /dev/mapper/g $((512 + 32)) 0500000000000000         # alternate LBA
poke /dev/mapper/g $((512 + 72)) 0300000000000000         # entries LBA
settle
out=$(pw check g 2>&1)
check_eq "check with 5 primary header problems exits 1" 1 "$?"
check "  still says partition 1 maps the volume (backup)" grep -q "partition 1 still maps the volume exactly" <<<"$out"
check "  lists all five (apply's warning promises 'check lists all')" \
        grep -q "primary GPT header: partition entries at LBA 3, expected 2" <<<"$out"
check "  still reports the loop check" grep -qE "^  loop +ok" <<<"$out"
check "  still reports the dm check" grep -qE "^  dm +ok" <<<"$out"
check "  still reports the read-back check" grep -qE "^  read +ok" <<<"$out"
diag "check said: $(tr '\n' '|' <<<"$out")"

# --- GPT: both headers destroyed: partition 1 no longer maps the volume.
dd if=/dev/zero of=/dev/mapper/g bs=512 seek=1 count=1 conv=notrunc,fsync status=none
dd if=/dev/zero of=/dev/mapper/g bs=512 seek=$last count=1 conv=notrunc,fsync status=none
settle
hdr_dead=$(hash_dev /tmp/headers/g.header)
out=$(pw check g 2>&1)
check_eq "both GPT headers zeroed: check exits 1" 1 "$?"
check "  check says partition 1 does NOT map the volume" grep -q "partition 1 does NOT map the volume" <<<"$out"
check "stop g" pw stop g
settle
loops1=$(loops_count)
out=$(pw apply g 2>&1)
check_eq "  apply refuses the header, exit 1" 1 "$?"
check "  the message says the header does not describe the volume" grep -q "g: header /tmp/headers/g.header does not describe" <<<"$out"
check_no_disk g "$loops1"
check_eq "  header untouched" "$hdr_dead" "$(hash_dev /tmp/headers/g.header)"

# --- MBR: the guest writes a new disk signature and marks partition 1 active.
sig0=$(peek /dev/mapper/m 440 4)
poke /dev/mapper/m 440 deadbeef
poke /dev/mapper/m 446 80
settle
check_eq "guest's disk signature in the header file" deadbeef "$(peek /tmp/headers/m.header 440 4)"
hdr_m=$(hash_dev /tmp/headers/m.header)
check "  (it differs from the derived one: $sig0)" test "$sig0" != deadbeef
out=$(pw check m 2>&1)
check_eq "check: healthy, exit 0" "0 m: healthy" "$? $(grep '^m:' <<<"$out")"
check "stop m" pw stop m
settle
check "apply m" pw apply m
settle
check_eq "header file not rewritten (bytes equal what the guest wrote)" "$hdr_m" "$(hash_dev /tmp/headers/m.header)"
check_eq "the live disk shows the guest's signature" deadbeef "$(peek /dev/mapper/m 440 4)"
check_eq "  and its active flag" 80 "$(peek /dev/mapper/m 446 1)"
out=$(pw check m 2>&1)
check_eq "check still healthy" "0 m: healthy" "$? $(grep '^m:' <<<"$out")"
lp=$(kernel_parts /dev/mapper/m)
check_eq "kernel: partition 1 is still the volume" "$h_m" "$(hash_dev "${lp}p1" 2>&1)"
detach_parts "$lp"
pw stop >/dev/null 2>&1
settle
check_eq "no loop left" "$loops0" "$(loops_count)"

check_eq "GPT volume unchanged" "$h_g" "$(hash_dev "$gv")"
check_eq "MBR volume unchanged" "$h_m" "$(hash_dev "$mv_")"
tap_done
