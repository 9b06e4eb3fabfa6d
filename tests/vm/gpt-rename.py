#!/usr/bin/env python3
"""A guest renaming partition 1 of its GPT disk in a loop, as fast as it can.

gpt-rename.py DEV PREFIX RUNFILE OUTDIR [PAUSE]: while RUNFILE exists, names
partition 1 PREFIX1, PREFIX2, ... through DEV (O_DIRECT, as a guest under
cache=none writes): reads the primary header and entries, sets the name,
writes the backup entries and header where the primary says, then the
primary's, fsync. Stops at the first change of DEV's size. OUTDIR/last: the
last name written wholly before the change; OUTDIR/straddled: a name whose
read and write the change fell between (the guest's view was stale);
OUTDIR/writes: how many were written. PAUSE seconds (0) between two renames:
a grow suspends the disk, and a write issued before the suspension that
waits it out lands on the grown disk with the stale view; the pause makes
that the exception.
"""
import fcntl, mmap, os, struct, sys, time, zlib

BLKGETSIZE64, BLKSSZGET = 0x80081272, 0x1268
dev, prefix, runfile, outdir = sys.argv[1:5]
pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)


def size():
    return struct.unpack("Q", fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8))[0]


ss = struct.unpack("i", fcntl.ioctl(fd, BLKSSZGET, b"\0" * 4))[0]


def read(lba, n):
    buf = mmap.mmap(-1, n)
    os.preadv(fd, [buf], lba * ss)
    return bytearray(buf)


def write(lba, data):
    buf = mmap.mmap(-1, len(data))
    buf[:] = bytes(data)
    os.pwritev(fd, [buf], lba * ss)


def header_crc(h):
    hs = struct.unpack_from("<I", h, 12)[0]
    struct.pack_into("<I", h, 16, 0)
    struct.pack_into("<I", h, 16, zlib.crc32(bytes(h[:hs])))


def put(name, path):
    with open(os.path.join(outdir, path), "w") as f:
        f.write(name + "\n")


s0, i = size(), 0
while os.path.exists(runfile):
    s1 = size()
    h = read(1, ss)
    if size() != s1:
        continue  # the read may have waited out a swap: read again
    i += 1
    name = "%s%d" % (prefix, i)
    assert h[:8] == b"EFI PART", "no GPT on %s" % dev
    alt = struct.unpack_from("<Q", h, 32)[0]
    elba, n, esz = struct.unpack_from("<QII", h, 72)
    esec = (n * esz + ss - 1) // ss
    e = read(elba, esec * ss)
    e[56:128] = name.encode("utf-16-le").ljust(72, b"\0")
    struct.pack_into("<I", h, 88, zlib.crc32(bytes(e[: n * esz])))
    b = bytearray(h)
    struct.pack_into("<QQ", b, 24, alt, 1)
    struct.pack_into("<Q", b, 72, alt - esec)
    header_crc(b)
    header_crc(h)
    write(alt - esec, e)
    write(alt, b)
    write(elba, e)
    write(1, h)
    os.fsync(fd)
    if size() != s1:
        put(name, "straddled")
        break
    put(name, "last")
    time.sleep(pause)
with open(os.path.join(outdir, "writes"), "w") as f:
    f.write("%d\n" % i)
