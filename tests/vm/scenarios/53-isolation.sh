#!/usr/bin/env bash
# Guest isolation (issue 11): nothing a guest writes, and no alias in the
# configuration, makes partwrap build or break another disk.
#  - Guest A forges a btrfs superblock with LABEL=victim in the unused part
#    of its head (byte 64 KiB of /dev/mapper/a). Disk B, volume =
#    LABEL=victim: with the victim volume absent, B is not built on A; with
#    it present, B is built on it (no "more than one device").
#  - One device named by path, by /dev/mapper path and by UUID= in three
#    disks: one disk, two refusals naming it. One header file under two
#    spellings of its directory: refused.
#  - [-v] is refused by validate; a FIFO *.conf does not block udev-match.
#  - A guest-replaced protective MBR: check unhealthy, naming the reason.
#  - show of a label with ESC and invalid UTF-8: escaped text, valid JSON.
#  - Every volume unchanged.
. "$(dirname "$0")/../lib.sh"

va=$(make_volume 32 ext4 guesta) || exit 1
victim_img=$(make_image 32 ext4 victim) || exit 1
vl=$(make_volume 16 ext4 lbl) || exit 1
# An LV's stand-in: a dm-linear device 1 MiB into a blank loop, so that, as
# with LVM, only the dm device carries the filesystem.
raw=$(mktemp /tmp/raw.XXXXXX) && truncate -s 33M "$raw" && rawdev=$(losetup -f --show "$raw") &&
        dmsetup create vg-x --table "0 65536 linear $rawdev 2048" || exit 1
vx=/dev/mapper/vg-x
_mkfs "$vx" ext4 shared && _populate "$vx" ext4 || exit 1
settle
h_a=$(hash_dev "$va") h_victim=$(hash_dev "$victim_img") h_x=$(hash_dev "$vx")

# expect DESC RC TEXT CMD...: CMD exits RC within 60 s and its output
# (stdout and stderr) contains TEXT.
expect() {
        local desc=$1 rc=$2 text=$3 out r
        shift 3
        [ "$1" = pw ] && set -- "$PARTWRAP" -c "$conf" "${@:2}"
        out=$(timeout 60 "$@" 2>&1)
        r=$?
        if [ "$r" -ne "$rc" ]; then
                not_ok "$desc: exit $r, expected $rc"
        elif ! grep -qF -- "$text" <<<"$out"; then
                not_ok "$desc: no '$text' in the output"
        else
                ok "$desc: exit $rc, says '$text'"
                return 0
        fi
        printf '%s\n' "$out" | head -n 15 | sed 's/^/#   /'
        return 1
}

# --- a forged superblock in A's head ----------------------------------------
disk_conf $conf/10-a.conf a "$va"
disk_conf $conf/20-b.conf b LABEL=victim timeout=2
chmod 600 $conf/*.conf
expect "apply a" 0 "a: created" pw apply a
settle
hloop=/dev/block/$(dmsetup table a | sed -n 1p | cut -d' ' -f4)

# btrfs's superblock at 64 KiB: magic at 64, label at 299, crc32c over bytes
# 32..4095 in the first four (libblkid checks it).
"$PY" - /dev/mapper/a <<'EOF'
import os, struct, sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF
sb = bytearray(4096)
sb[32:48] = bytes(range(1, 17))                      # fsid: the UUID blkid reports
struct.pack_into("<Q", sb, 48, 65536)                # bytenr
sb[64:72] = b"_BHRfS_M"
struct.pack_into("<Q", sb, 72, 1)                    # generation
struct.pack_into("<QQ", sb, 112, 32 << 20, 1 << 20)  # total and used bytes
struct.pack_into("<Q", sb, 136, 1)                   # devices
struct.pack_into("<IIII", sb, 144, 4096, 16384, 16384, 4096)
sb[299:305] = b"victim"
struct.pack_into("<I", sb, 0, crc32c(bytes(sb[32:])))
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, bytes(sb), 65536)
os.fsync(fd)
os.close(fd)
EOF
blockdev --flushbufs /dev/mapper/a
check_eq "setup: host blkid -p sees LABEL=victim on /dev/mapper/a" victim "$(blkid -p -o value -s LABEL /dev/mapper/a)"
diag "host blkid -p on the header loop $hloop: $(blkid -p "$hloop" 2>&1)"
expect "the forged superblock is in the unused head: check a stays healthy" 0 "a: healthy" pw check a
# udev looks again, as after any change event.
udevadm trigger --action=change /dev/mapper/a "$hloop"
settle
check_eq "udev did not probe /dev/mapper/a (dm DISK/OTHER rules flags)" "" \
        "$(udevadm info -q property /dev/mapper/a | grep -E '^ID_FS_(LABEL|UUID)=')"
check "udev still made /dev/mapper/a" test -b /dev/mapper/a
diag "after the trigger, /dev/disk/by-label/victim -> $(readlink -f /dev/disk/by-label/victim 2>/dev/null || echo none)"

expect "victim absent: apply b finds no volume (not A's head)" 1 "b: LABEL=victim: volume not found" pw apply b
check "  no /dev/mapper/b" dm_absent b
expect "  nor does check" 1 "LABEL=victim: volume not found" pw check b

vv=$(losetup -f --show "$victim_img") && settle
expect "victim present: apply b builds it, no 'more than one device'" 0 "b: created" pw apply b
check_eq "  b's partition 1 is the victim volume" "$(cat /sys/class/block/"${vv#/dev/}"/dev) 0" \
        "$(dmsetup table b | sed -n 2p | cut -d' ' -f4-5)"
expect "  check b healthy" 0 "b: healthy" pw check b
expect "  apply again: unchanged" 0 "b: unchanged" pw apply
pw stop b >/dev/null

# --- A's guest gives its own filesystem the victim's label --------------------
# A's volume is declared by path: it is A's, whatever its label says.
pw stop a >/dev/null && settle
e2fsck -fy "$va" >/dev/null 2>&1
check "setup: guest A labels its filesystem 'victim'" e2label "$va" victim
udevadm trigger --action=change "$va" && settle
expect "A's volume labelled victim, victim present: b is built on the victim" 0 "b: created" pw apply
check_eq "  b's partition 1 is still the victim volume" "$(cat /sys/class/block/"${vv#/dev/}"/dev) 0" \
        "$(dmsetup table b | sed -n 2p | cut -d' ' -f4-5)"
pw stop b >/dev/null
losetup -d "$vv" && settle
expect "A's volume labelled victim, victim absent: b refused, naming a" 1 \
        "b: volume LABEL=victim ($va) is already partition 1 of /dev/mapper/a; one block device can be one disk only" pw apply
check "  a is built" test -b /dev/mapper/a
check "  no /dev/mapper/b" dm_absent b
pw stop >/dev/null && settle
expect "  b alone, a stopped: refused, a declares it by path" 1 \
        "b: volume LABEL=victim ($va) is [a]'s volume $va ($conf/10-a.conf:1); one block device can be one disk only" pw apply b
check "  no /dev/mapper/b" dm_absent b
e2label "$va" guesta
settle
h_a=$(hash_dev "$va") # what the guest wrote; partwrap writes nothing from here on either

# --- one device, three names -----------------------------------------------
C=/tmp/c-three
mkdir -p $C /dev/vg
ln -sf ../mapper/vg-x /dev/vg/x
ux=$(blkid -p -o value -s UUID /dev/mapper/vg-x)
disk_conf $C/d.conf p1 /dev/vg/x
disk_conf $C/d.conf p2 /dev/mapper/vg-x
disk_conf $C/d.conf p3 "UUID=$ux"
chmod 600 $C/d.conf
out=$(timeout 60 "$PARTWRAP" -c $C apply 2>/tmp/err)
check_eq "three names, one device: apply exits 1" 1 "$?"
out+=$'\n'$(cat /tmp/err)
check_eq "  p1 created, p2 and p3 failed" "p1: created|p2: failed|p3: failed" "$(grep -v "^partwrap: " <<<"$out" | states '[ph][0-9]')"
check "  p2 refused, naming p1" grep -qF "p2: volume /dev/mapper/vg-x (/dev/dm-" <<<"$out"
check "  p2: 'is also the volume of [p1]'" grep -qE "^partwrap: p2: .* is also the volume of \[p1\] \($C/d.conf:1\); one block device can be one disk only" <<<"$out"
check "  p3 refused, naming p1" grep -qE "^partwrap: p3: volume UUID=$ux \(/dev/dm-[0-9]+\) is also the volume of \[p1\]" <<<"$out"
check "  no /dev/mapper/p2" dm_absent p2
check "  no /dev/mapper/p3" dm_absent p3
printf '%s\n' "$out" | sed 's/^/#   /'
expect "apply p3 alone: refused, p1 has it" 1 "p3: volume UUID=$ux (/dev/dm-" "$PARTWRAP" -c $C apply p3
expect "  'already partition 1 of /dev/mapper/p1'" 1 "is already partition 1 of /dev/mapper/p1; one block device can be one disk only" \
        "$PARTWRAP" -c $C apply p2
expect "check: p3 unhealthy, naming p1" 1 "already partition 1 of /dev/mapper/p1" "$PARTWRAP" -c $C check p3
"$PARTWRAP" -c $C stop >/dev/null

# One header file under two directory spellings (a symlinked directory).
C=/tmp/c-hdr
mkdir -p $C /tmp/hh && ln -sfn /tmp/hh /tmp/hh-link
printf '[h1]\nvolume = %s\nheader = /tmp/hh/x.header\n\n[h2]\nvolume = %s\nheader = /tmp/hh-link/x.header\n' \
        "$va" "$vl" >$C/d.conf && chmod 600 $C/d.conf
out=$(timeout 60 "$PARTWRAP" -c $C apply 2>/tmp/err)
check_eq "one header file, two paths: apply exits 1" 1 "$?"
out+=$'\n'$(cat /tmp/err)
check_eq "  h1 created, h2 failed" "h1: created|h2: failed" "$(grep -v "^partwrap: " <<<"$out" | states '[ph][0-9]')"
check "  h2: 'is the file of [h1]'s header'" grep -qF "h2: header /tmp/hh-link/x.header is the file of [h1]'s header /tmp/hh/x.header" <<<"$out"
check "  no /dev/mapper/h2" dm_absent h2
expect "h2 alone, h1 active: refused" 1 "h2: header /tmp/hh-link/x.header is the header of /dev/mapper/h1" \
        "$PARTWRAP" -c $C apply h2
"$PARTWRAP" -c $C stop >/dev/null

# --- names and configuration files -------------------------------------------
C=/tmp/c-names
mkdir -p $C && printf '[-v]\nvolume = %s\n' "$va" >$C/d.conf && chmod 600 $C/d.conf
expect "[-v]: validate refuses it" 2 "$C/d.conf:1: invalid disk name [-v]" "$PARTWRAP" -c $C validate
expect "  apply too" 2 "not starting with '-'" "$PARTWRAP" -c $C apply
check "  and builds nothing" test ! -e /dev/mapper/-v

C=/tmp/c-fifo
mkdir -p $C && cp $conf/10-a.conf $C/ && mkfifo -m 600 $C/zz.conf
# The same run without the FIFO is the yardstick: a loaded VM is slow, but
# a FIFO must cost no extra wait (opened blocking, it hangs until udev's
# timeout).
mkdir -p $C-base && cp $conf/10-a.conf $C-base/
start=$(date +%s%N)
timeout 5 "$PARTWRAP" -c $C-base udev-match "$va" >/dev/null 2>&1
base=$((($(date +%s%N) - start) / 1000000))
start=$(date +%s%N)
out=$(timeout 5 "$PARTWRAP" -c $C udev-match "$va" 2>&1)
r=$? ms=$((($(date +%s%N) - start) / 1000000))
check_eq "a FIFO *.conf: udev-match exits 0" 0 "$r"
check "  within 1 s of a run without it (took $ms ms, $base ms without)" test "$ms" -lt $((base + 1000))
check_eq "  and still names a's unit" "PARTWRAP_UNITS=partwrap@a.service" "$out"
expect "  apply refuses the FIFO, builds a" 2 "$C/zz.conf: not a regular file" "$PARTWRAP" -c $C apply
check "  a built" test -b /dev/mapper/a
"$PARTWRAP" -c $C stop >/dev/null

# --- a guest replaces the protective MBR ---------------------------------------
expect "apply a" 0 "a: created" pw apply a
"$PY" - /dev/mapper/a <<'EOF'
import os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
mbr = bytearray(os.pread(fd, 512, 0))
mbr[446:510] = bytes(64)
# A plain record where the protective one was: guests read the MBR now.
struct.pack_into("<B3sB3sII", mbr, 446, 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 4096)
os.pwrite(fd, bytes(mbr), 0)
os.fsync(fd)
os.close(fd)
EOF
out=$(pw check a 2>&1)
check_eq "protective MBR replaced: check exits 1" 1 "$?"
check "  names the reason" grep -qF "protective MBR: no type 0xee record starting at LBA 1, so guests read the MBR, not the GPT" <<<"$out"
check "  partition 1 does NOT map the volume" grep -qF "partition 1 does NOT map the volume" <<<"$out"
check_eq "  the kernel agrees: it reads the MBR's partition" "dos" "$(blkid -p -o value -s PTTYPE /dev/mapper/a)"
pw stop a >/dev/null && settle
expect "  apply refuses the header" 1 "does not describe" pw apply a
check "  no /dev/mapper/a" dm_absent a

# --- a hostile label in show ---------------------------------------------------
e2fsck -fy "$vl" >/dev/null 2>&1
check "setup: label with ESC and invalid UTF-8" tune2fs -L $'\e[2Ja\xed\xa0\x80b' "$vl"
h_l=$(hash_dev "$vl")
C=/tmp/c-show
mkdir -p $C && printf '[l]\nvolume = %s\nheader = /tmp/h/l.header\n' "$vl" >$C/d.conf && chmod 600 $C/d.conf
text=$("$PARTWRAP" -c $C show l)
check_eq "show exits 0" 0 "$?"
check "  no ESC in the text" bash -c '! grep -q $'"'"'\e'"'"' <<<"$1"' _ "$text"
check "  the label escaped" grep -qF '"\x1b[2Ja\xed\xa0\x80b"' <<<"$text"
label=$("$PARTWRAP" -c $C show --json l | json_get 'ascii(k["label"])')
check_eq "  show --json parses, the bad bytes become U+FFFD" "'\x1b[2Ja\ufffd\ufffd\ufffdb'" "$label"
check "  check --json parses" bash -c "\"$PARTWRAP\" -c $C check --json | \"$PY\" -c 'import json,sys; json.load(sys.stdin)'"

# --- nothing written to a volume ------------------------------------------------
vv=$(losetup -f --show "$victim_img")
check_eq "volume a unchanged" "$h_a" "$(hash_dev "$va")"
check_eq "victim volume unchanged" "$h_victim" "$(hash_dev "$vv")"
check_eq "shared volume unchanged" "$h_x" "$(hash_dev "$vx")"
check_eq "labelled volume unchanged" "$h_l" "$(hash_dev "$vl")"
tap_done
