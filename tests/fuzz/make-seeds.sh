#!/usr/bin/env bash
# Regenerates the seed corpora of the fuzzers (committed; run after a change
# of the configuration format or of the header layout):
#   corpus-config/  conf/*.conf and the bad configurations of tests/offline
#   corpus-header/  headers written by `partwrap mkheader` at the smallest
#                   alignments, each behind the 10-byte layout prefix that
#                   fuzz-header.c reads, and a few patch-mode inputs
# Usage: tests/fuzz/make-seeds.sh [PARTWRAP]
set -euo pipefail
cd "$(dirname "$0")/../.."
pw=${1:-./partwrap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf tests/fuzz/corpus-config tests/fuzz/corpus-header
mkdir -p tests/fuzz/corpus-config tests/fuzz/corpus-header
cp conf/*.conf tests/offline/bad-configs/*.conf tests/fuzz/corpus-config/

# Disks of several volumes (issue 15): the per-partition lists, right and
# wrong (counts, empty items, a volume twice, MBR past 4, GPT past 128,
# which no line inih reads can hold).
seed() { printf '%b' "$2" >"tests/fuzz/corpus-config/list-$1.conf"; }
seed two-volumes '[win]\nvolume = /dev/vg/sys, /dev/vg/data\ntype = esp, basic-data\npartition-name = EFI, Data\n'
seed three-uuid-label '[three]\nvolume = UUID=2f0d5c4e-8c1b-4c55-9a57-3b1f0e6b7a11, LABEL=data, /dev/vg/c\ntype = linux\nalignment = 64KiB\npartition-guid = 11111111-2222-3333-4444-555555555551, 11111111-2222-3333-4444-555555555552,11111111-2222-3333-4444-555555555553\n'
seed mbr-four '[m4]\ntable = mbr\nvolume = /dev/a, /dev/b, /dev/c, /dev/d\ntype = 0x07, linux, 0x0c, linux-swap\n'
seed mbr-five '[m5]\ntable = mbr\nvolume = /dev/a, /dev/b, /dev/c, /dev/d, /dev/e\n'
seed mbr-partition-name '[mp]\ntable = mbr\nvolume = /dev/a, /dev/b\npartition-name = A, B\n'
seed mbr-guid-type '[mg]\ntable = mbr\nvolume = /dev/a, /dev/b\ntype = linux, EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n'
seed type-count '[tc]\nvolume = /dev/a, /dev/b, /dev/c\ntype = linux, esp\n'
seed name-count '[nc]\nvolume = /dev/a, /dev/b\npartition-name = A, B, C\n'
seed guid-count '[gc]\nvolume = /dev/a, /dev/b\npartition-guid = 11111111-2222-3333-4444-555555555551\n'
seed guid-twice '[gt]\nvolume = /dev/a, /dev/b\npartition-guid = 11111111-2222-3333-4444-555555555551, 11111111-2222-3333-4444-555555555551\n'
seed empty-item '[ei]\nvolume = /dev/a,, /dev/b\n'
seed blank-item '[bi]\nvolume = /dev/a, ,/dev/b\ntype = linux, , esp\n'
seed trailing-comma '[tr]\nvolume = /dev/a, /dev/b,\n'
seed only-comma '[oc]\nvolume = ,\n'
seed volume-twice '[vt]\nvolume = /dev/a, /dev/b, /dev/a\n'
seed shared-volume '[one]\nvolume = /dev/a, /dev/b\n[two]\nvolume = /dev/c, /dev/b\n'
seed gpt-16 "[g16]\nvolume = $(seq -s, -f /dev/v%g 0 15)\n"
seed gpt-129 "[g129]\nvolume = $(seq -s, -f /dev/v%g 0 128)\n"

# prefix FLAGS ALIGN_EXTRA VOLUME_BYTES: the layout prefix of fuzz-header.c.
prefix() {
        python3 -c 'import struct,sys; sys.stdout.buffer.write(bytes([int(sys.argv[1]), int(sys.argv[2])]) + struct.pack("<Q", int(sys.argv[3])))' "$@"
}

vol=$((64 << 20))
# table sector-size flags alignment(bytes) extra-sectors
while read -r table ss flags align extra; do
        out=tests/fuzz/corpus-header/$table-$ss-$align
        "$pw" mkheader --table "$table" --sector-size "$ss" --alignment "$align" --size "$vol" \
                --name seed -o "$tmp/h" >/dev/null
        { prefix "$flags" "$extra" "$vol"; cat "$tmp/h"; } >"$out"
        rm -f "$tmp/h"
done <<'EOT'
gpt 512 0 17408 0
gpt 4096 2 24576 0
mbr 512 1 512 0
mbr 4096 3 4096 0
mbr 512 1 1024 1
EOT

# Patch mode (flag 4): a valid table, then [offset u16][len u8][bytes].
{ prefix 4 0 "$vol"; } >tests/fuzz/corpus-header/patch-gpt-512-none
{ prefix 6 0 "$vol"; } >tests/fuzz/corpus-header/patch-gpt-4096-none
{ prefix 5 0 "$vol"; } >tests/fuzz/corpus-header/patch-mbr-512-none
# num_partition_entries (header offset 80) of the primary header at LBA 1 = 0xffffffff
{ prefix 4 0 "$vol"; printf '\x50\x02\x04\xff\xff\xff\xff'; } >tests/fuzz/corpus-header/patch-gpt-num-entries
# sizeof_partition_entry (offset 84) = 0x80000000
{ prefix 4 0 "$vol"; printf '\x54\x02\x04\x00\x00\x00\x80'; } >tests/fuzz/corpus-header/patch-gpt-entry-size
# The same with the CRCs recomputed after patching (flags 8: primary, 16: backup).
{ prefix 28 0 "$vol"; } >tests/fuzz/corpus-header/patch-gpt-fixcrc-none
{ prefix 12 0 "$vol"; printf '\x50\x02\x04\x00\x01\x00\x00'; } >tests/fuzz/corpus-header/patch-gpt-fixcrc-num-entries
# first usable LBA (offset 40) = 33 and partition 1 (entries at 1024, start at +32) one sector late
{ prefix 12 0 "$vol"; printf '\x28\x02\x01\x21\x20\x04\x01\x01'; } >tests/fuzz/corpus-header/patch-gpt-fixcrc-first-usable
# a volume at the top of the 64-bit range
{ prefix 4 0 $(((1 << 62) - 4096)); } >tests/fuzz/corpus-header/patch-gpt-huge
ls tests/fuzz/corpus-config | wc -l
ls -l tests/fuzz/corpus-header
