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
