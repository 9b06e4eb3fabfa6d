#!/usr/bin/env python3
"""Writes a hostile variant of a good partwrap header file, for
tests/vm/scenarios/51-hostile.sh (and by hand):

    hostile-header.py GOOD OUT CASE [SECTOR_SIZE]

GOOD is a header written by partwrap (head then tail; GPT with the default
1 MiB alignment, or MBR). CASE is one of the names in CASES below. Where a
case says "crc fixed", both CRCs of the copy are recomputed, so that the
verifier has to judge the field itself, not just the checksum."""

import struct
import sys
import zlib

HDR = struct.Struct("<8sIIIIQQQQ16sQIII")  # the 92-byte GPT header


def gpt_offsets(buf, ss):
    """(primary header, primary entries, backup header, backup entries) offsets."""
    entries_bytes = 128 * 128
    tail = entries_bytes + ss
    head = len(buf) - tail
    return ss, 2 * ss, head + entries_bytes, head


def get(buf, off):
    return list(HDR.unpack_from(buf, off))


def put(buf, off, h, entries_off=None, fix=True):
    """Writes header fields h at off; with fix, recomputes the entries CRC
    (over num * size bytes at entries_off, bounded by the buffer) and the
    header CRC."""
    if fix and entries_off is not None:
        n = min(h[11] * h[12], len(buf) - entries_off)
        h[13] = zlib.crc32(bytes(buf[entries_off:entries_off + n])) & 0xFFFFFFFF
    h[3] = 0
    HDR.pack_into(buf, off, *h)
    if fix:
        size = h[2] if 92 <= h[2] <= 512 else 92
        h[3] = zlib.crc32(bytes(buf[off:off + size])) & 0xFFFFFFFF
        HDR.pack_into(buf, off, *h)


def both(buf, ss, fn, fix=True):
    """Applies fn(header fields, entries offset) to both GPT copies."""
    ph, pe, bh, be = gpt_offsets(buf, ss)
    for hoff, eoff in ((ph, pe), (bh, be)):
        h = get(buf, hoff)
        fn(h, eoff)
        put(buf, hoff, h, eoff, fix)


def entry(buf, eoff, i, start=None, end=None, type_guid=None):
    off = eoff + 128 * i
    if type_guid is not None:
        buf[off:off + 16] = type_guid
    if start is not None:
        struct.pack_into("<Q", buf, off + 32, start)
    if end is not None:
        struct.pack_into("<Q", buf, off + 40, end)


LINUX = bytes.fromhex("af3dc60f838472478e793d69d8477de4")  # 0FC63DAF-..., GPT byte order


def set_field(idx, value):
    def fn(h, eoff):
        h[idx] = value
    return fn


def case(buf, name, ss):
    if name == "truncated":
        return buf[:1000]
    if name == "truncated-head":  # the head only, the tail lost
        return buf[:len(buf) - (128 * 128 + ss)]
    if name == "empty":
        return b""
    if name == "oversized":
        return buf + bytes(4096)
    if name == "garbage":
        return bytes((i * 131 + 7) & 0xFF for i in range(len(buf)))
    if name == "zeroes":
        return bytes(len(buf))
    if name == "primary-crc":  # only the primary header's CRC is wrong
        ph = gpt_offsets(buf, ss)[0]
        buf[ph + 16] ^= 0xFF
        return buf
    if name == "both-crc":  # both header CRCs wrong
        ph, _, bh, _ = gpt_offsets(buf, ss)
        buf[ph + 16] ^= 0xFF
        buf[bh + 16] ^= 0xFF
        return buf
    if name == "entries-crc":  # both entry arrays changed, CRCs not updated
        _, pe, _, be = gpt_offsets(buf, ss)
        buf[pe + 128 * 5] ^= 0x01
        buf[be + 128 * 5] ^= 0x01
        return buf
    if name == "p1-past-end":  # partition 1 ends far outside the disk (crc fixed)
        both(buf, ss, lambda h, eoff: entry(buf, eoff, 0, end=(1 << 63) + 12345))
        return buf
    if name == "p1-start-zero":  # partition 1 starts over the tables (crc fixed)
        both(buf, ss, lambda h, eoff: entry(buf, eoff, 0, start=0))
        return buf
    if name == "p2-outside":  # a second partition beyond the last LBA (crc fixed)
        both(buf, ss, lambda h, eoff: entry(buf, eoff, 1, start=1 << 40, end=(1 << 40) + 100, type_guid=LINUX))
        return buf
    if name == "p2-overlaps":  # a second partition over the volume (crc fixed)
        both(buf, ss, lambda h, eoff: entry(buf, eoff, 1, start=4096, end=8191, type_guid=LINUX))
        return buf
    if name == "entries-overflow":  # 2^25 * 128 = 4 GiB of entries (crc fixed)
        both(buf, ss, set_field(11, 1 << 25))
        return buf
    if name == "entry-size-wrap":  # 2 * 0x80000000 wraps a 32-bit product to 0
        both(buf, ss, lambda h, eoff: (h.__setitem__(11, 2), h.__setitem__(12, 0x80000000)))
        return buf
    if name == "entry-size-small":  # entries of 16 bytes
        both(buf, ss, set_field(12, 16))
        return buf
    if name == "num-entries-max":  # num_partition_entries = 0xffffffff
        both(buf, ss, set_field(11, 0xFFFFFFFF))
        return buf
    if name == "num-entries-zero":
        both(buf, ss, set_field(11, 0))
        return buf
    if name == "header-size-huge":  # header_size = 0xffffffff
        both(buf, ss, set_field(2, 0xFFFFFFFF), fix=False)
        return buf
    if name == "entries-lba-far":  # partition_entries_lba points past the disk (crc fixed)
        both(buf, ss, set_field(10, 1 << 62))
        return buf
    if name == "my-lba-swapped":  # primary and backup my/alternate LBAs swapped (crc fixed)
        both(buf, ss, lambda h, eoff: (h.__setitem__(5, h[6]), h.__setitem__(6, h[5])))
        return buf
    if name == "last-usable-past-end":  # last usable LBA beyond the disk (crc fixed)
        both(buf, ss, set_field(8, 1 << 50))
        return buf
    if name == "primary-lax-p1-moved":
        # The primary, with right CRCs, has partition 1 one sector late and
        # a first usable LBA partwrap rejects (but the kernel accepts); the
        # backup is intact. Guests use the primary: not the volume.
        ph, pe, _, _ = gpt_offsets(buf, ss)
        start = struct.unpack_from("<Q", buf, pe + 32)[0]
        entry(buf, pe, 0, start=start + 1)
        h = get(buf, ph)
        h[7] = 33
        put(buf, ph, h, pe)
        return buf
    if name == "mbr-no-signature":
        buf[510:512] = b"\0\0"
        return buf
    if name == "mbr-p1-past-end":  # partition 1 of 0xffffffff sectors
        struct.pack_into("<I", buf, 446 + 12, 0xFFFFFFFF)
        return buf
    if name == "mbr-p1-empty":
        buf[446 + 4] = 0
        return buf
    if name == "mbr-p2-overlaps":  # a second record over the volume
        struct.pack_into("<B3sB3sII", buf, 462, 0, b"\0\0\0", 0x83, b"\0\0\0", 4096, 100)
        return buf
    if name == "mbr-extended":  # record 1 turned into an extended partition
        buf[446 + 4] = 0x05
        return buf
    if name == "mbr-protective":  # record 1 turned into a GPT protective one
        buf[446 + 4] = 0xEE
        return buf
    raise SystemExit("unknown case " + name)


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    ss = int(sys.argv[4]) if len(sys.argv) == 5 else 512
    with open(sys.argv[1], "rb") as f:
        buf = bytearray(f.read())
    out = case(buf, sys.argv[3], ss)
    with open(sys.argv[2], "wb") as f:
        f.write(out)


main()
