#!/usr/bin/env bash
# Hostile input (SPEC invariant 6): header files a guest or an accident made
# (truncated, oversized, wrong CRCs, entries outside the disk, entry counts
# and sizes that overflow a naive allocation), header paths that are a
# symlink, a directory, a FIFO or on a read-only filesystem, volumes with
# I/O errors (dm-error, dm-flakey) or a changed size, configuration files
# and directories writable by others, a UUID= or LABEL= that two volumes
# carry (SPEC amendments: refused). Each one: the exit status the SPEC
# gives, a message that names what is wrong (asserted), no crash, no hang
# (every command runs under a 60 s timeout), and no partial device (no dm
# device of that name, no loop device more than before). Header files are
# never rewritten. The count of bad inputs is printed.
. "$(dirname "$0")/../lib.sh"

MUTATE="python3 $TOP/tests/vm/hostile-header.py"
vg=$(make_volume 32 ext4 hostg) || exit 1
vm=$(make_volume 32 ext4 hostm) || exit 1
settle
h_g=$(hash_dev "$vg") h_m=$(hash_dev "$vm")
bad=0

# conf DIR: a configuration directory with one file, 0600, from stdin.
conf() { mkdir -p "$1" && chmod 755 "$1" && cat >"$1/disks.conf" && chmod 600 "$1/disks.conf"; }

# expect DESC RC TEXT CMD...: CMD exits RC within 60 s and its output
# (stdout and stderr) contains TEXT.
expect() {
        local desc=$1 rc=$2 text=$3 out r
        shift 3
        # pw (a function, which timeout cannot run) is partwrap -c $C
        [ "$1" = pw ] && set -- "$PARTWRAP" -c "$C" "${@:2}"
        out=$(timeout 60 "$@" 2>&1)
        r=$?
        if [ "$r" -eq 124 ]; then
                not_ok "$desc: hung, killed after 60 s"
        elif [ "$r" -ge 128 ]; then
                not_ok "$desc: died of signal $((r - 128))"
        elif [ "$r" -ne "$rc" ]; then
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

# nothing_left NAME: no dm device NAME, no more dm devices or loops than
# before the case ($dm0, $loops0).
nothing_left() {
        settle
        local why=
        dmsetup info "$1" >/dev/null 2>&1 && why+="/dev/mapper/$1 exists; "
        [ "$(dm_count)" -eq "$dm0" ] || why+="$(($(dm_count) - dm0)) dm devices more; "
        [ "$(loops_count)" -eq "$loops0" ] || why+="$(($(loops_count) - loops0)) loops more; "
        if [ -n "$why" ]; then
                not_ok "  $1: no partial device ($why)"
                vm_diagnostics
        else
                ok "  $1: no partial device"
        fi
}
start_case() { bad=$((bad + 1)); settle; dm0=$(dm_count) loops0=$(loops_count); }

# --- hostile header files ----------------------------------------------------
C=/tmp/c-hdr
conf $C <<EOC
[g]
volume = $vg
header = /tmp/h/g.header
timeout = 5

[m]
volume = $vm
table = mbr
header = /tmp/h/m.header
timeout = 5
EOC
pw() { "$PARTWRAP" -c "$C" "$@"; }
check "apply makes good headers" pw apply
check "stop" pw stop
settle
cp /tmp/h/g.header /tmp/good-g && cp /tmp/h/m.header /tmp/good-m
size=$(stat -c %s /tmp/good-g)

# header_case DISK CASE TEXT [CHECK_TEXT]: apply refuses the header with
# TEXT (exit 1), check reports CHECK_TEXT (default TEXT, exit 1), no
# partial device, and the header file is left as it was.
header_case() {
        local disk=$1 c=$2 text=$3 ctext=${4:-$3} h=/tmp/h/$1.header sum
        start_case
        $MUTATE "/tmp/good-$disk" "$h" "$c" && chmod 600 "$h" || { not_ok "hostile-header.py $c"; return; }
        sum=$(sha256sum <"$h")
        expect "header $c: apply refuses it" 1 "$text" pw apply "$disk"
        nothing_left "$disk"
        expect "header $c: check reports it" 1 "$ctext" pw check "$disk"
        check_eq "  header $c: file not rewritten" "$sum" "$(sha256sum <"$h")"
}
header_case g truncated "header is 1000 bytes, expected $size"
header_case g truncated-head "header is $((size - 16896)) bytes, expected $size (head 1048576 + tail 16896)"
header_case g empty "header is 0 bytes, expected $size"
header_case g oversized "header is $((size + 4096)) bytes, expected $size"
header_case g garbage "protective MBR: boot signature is" "primary GPT header: no \"EFI PART\" signature at LBA 1"
header_case g zeroes "protective MBR: boot signature is 0000, expected 55aa" "backup GPT header: no \"EFI PART\" signature"
header_case g both-crc "primary GPT header: CRC32 is" "backup GPT header: CRC32 is"
header_case g entries-crc "primary GPT entries: CRC32 is" "backup GPT entries: CRC32 is"
header_case g p1-past-end "primary GPT entries: partition 1 ends at LBA 9223372036854788153, expected 67583"
header_case g p1-start-zero "primary GPT entries: partition 1 starts at LBA 0, expected 2048"
header_case g p2-outside "partition 2 (LBA 1099511627776..1099511627876) overlaps partition 1 or leaves the usable area"
header_case g p2-overlaps "partition 2 (LBA 4096..8191) overlaps partition 1"
header_case g entries-overflow "primary GPT header: 33554432 entries of 128 bytes do not fit the 1047552-byte entry array"
header_case g entry-size-wrap "primary GPT header: 2 entries of 2147483648 bytes do not fit"
header_case g entry-size-small "primary GPT header: 128 entries of 16 bytes do not fit"
header_case g num-entries-max "primary GPT header: 4294967295 entries of 128 bytes do not fit"
header_case g num-entries-zero "primary GPT header: 0 entries of 128 bytes do not fit"
header_case g header-size-huge "primary GPT header: header size is 4294967295, expected 92..512"
header_case g entries-lba-far "primary GPT header: partition entries at LBA 4611686018427387904, expected 2"
header_case g my-lba-swapped "primary GPT header: my LBA is 67616, expected 1"
header_case g last-usable-past-end "primary GPT header: last usable LBA is 1125899906842624, expected 67583 (did the volume change size?)"
header_case g primary-lax-p1-moved "primary GPT header: first usable LBA is 33, expected 34..2048" \
        "primary GPT entries: partition 1 starts at LBA 2049, expected 2048"
header_case m mbr-no-signature "MBR: boot signature is 0000, expected 55aa"
header_case m mbr-p1-past-end "MBR: partition 1 has 4294967295 sectors, expected 65536 (did the volume change size?)"
header_case m mbr-p1-empty "MBR: partition 1 is unused"
header_case m mbr-p2-overlaps "MBR: partition 2 (LBA 4096+100) overlaps partition 1"
header_case m mbr-extended "MBR: partition 1 is an extended partition (type 0x05), not data"
header_case m mbr-protective "MBR: partition 1 is a GPT protective record (type 0xee)"

# A primary copy with a bad CRC and an intact backup: the disk still maps
# the volume (the guest's firmware repairs the primary from the backup), so
# apply builds it with a warning, and check names the field.
start_case
$MUTATE /tmp/good-g /tmp/h/g.header primary-crc && chmod 600 /tmp/h/g.header
expect "header primary-crc: apply builds the disk, warns" 0 "header /tmp/h/g.header: primary GPT header: CRC32 is" pw apply g
expect "header primary-crc: check names the field, exit 1" 1 "primary GPT header: CRC32 is" pw check g
expect "  check: partition 1 still maps the volume" 1 "partition 1 still maps the volume exactly" pw check g
check "  stop" pw stop g
nothing_left g
rm -f /tmp/h/g.header /tmp/h/m.header

# --- header paths ------------------------------------------------------------
C=/tmp/c-path
conf $C <<EOC
[p]
volume = $vg
header = /tmp/paths/p.header
timeout = 5
EOC
mkdir -p /tmp/paths /tmp/elsewhere && chmod 700 /tmp/paths
path_case() { # DESC TEXT: apply and check refuse with TEXT
        expect "header path $1: apply refuses it" 1 "$2" pw apply p
        nothing_left p
        expect "header path $1: check reports it" 1 "$2" pw check p
}
start_case
cp /tmp/good-g /tmp/elsewhere/real.header
ln -s /tmp/elsewhere/real.header /tmp/paths/p.header
path_case "a symlink to a valid header" "header /tmp/paths/p.header: is a symbolic link, refusing to follow it"
check "  the symlink is still a symlink" test -L /tmp/paths/p.header
rm /tmp/paths/p.header
start_case
ln -s /tmp/elsewhere/nothing.header /tmp/paths/p.header
path_case "a dangling symlink" "header /tmp/paths/p.header: is a symbolic link, refusing to follow it"
check "  nothing created through the symlink" test ! -e /tmp/elsewhere/nothing.header
rm /tmp/paths/p.header
start_case
mkdir /tmp/paths/p.header
path_case "a directory" "header /tmp/paths/p.header: is a directory"
rmdir /tmp/paths/p.header
start_case
mkfifo -m 600 /tmp/paths/p.header
path_case "a FIFO (must not block)" "header /tmp/paths/p.header: is not a regular file"
rm /tmp/paths/p.header
start_case
ln -s /tmp/elsewhere /tmp/paths/dirlink
C2=/tmp/c-path2
conf $C2 <<EOC
[q]
volume = $vg
header = /tmp/missing/dir/q.header
timeout = 5
EOC
expect "header path: a missing grandparent directory" 1 "q: header /tmp/missing/dir/q.header: cannot create: No such file or directory" "$PARTWRAP" -c $C2 apply
nothing_left q

# A read-only filesystem: no header yet (cannot be created), then a valid
# header already there (the loop must be writable unless read-only = yes).
mkdir -p /tmp/rofs && mount -t tmpfs -o size=4m,mode=0700 rofs /tmp/rofs && mount -o remount,ro /tmp/rofs
C3=/tmp/c-ro
conf $C3 <<EOC
[r]
volume = $vg
header = /tmp/rofs/r.header
timeout = 5
EOC
start_case
expect "header on a read-only filesystem: apply cannot create it" 1 \
        "r: header /tmp/rofs/r.header: cannot create: Read-only file system" "$PARTWRAP" -c $C3 apply
nothing_left r
check "  no file appeared" test -z "$(ls -A /tmp/rofs)"
mount -o remount,rw /tmp/rofs && cp /tmp/good-g /tmp/rofs/r.header && chmod 600 /tmp/rofs/r.header &&
        mount -o remount,ro /tmp/rofs
start_case
expect "valid header on a read-only filesystem: apply cannot attach it read-write" 1 \
        "r: header /tmp/rofs/r.header: cannot attach a loop device: Read-only file system" "$PARTWRAP" -c $C3 apply
nothing_left r

# --- volumes with I/O errors -------------------------------------------------
# dm-error: every read fails. blkid cannot probe it.
sectors=$(blockdev --getsz "$vg")
dmsetup create pw-errvol --table "0 $sectors error" && settle
C=/tmp/c-io
conf $C <<EOC
[e]
volume = /dev/mapper/pw-errvol
header = /tmp/io/e.header
timeout = 5

[t]
volume = /dev/mapper/pw-errvol2
header = /tmp/io/t.header
type = linux
timeout = 5
EOC
start_case
expect "dm-error volume: apply fails cleanly" 1 "e: volume /dev/mapper/pw-errvol (/dev/dm-0): cannot probe: Input/output error" pw apply e
nothing_left e
check "  no header created for an unreadable volume" test ! -e /tmp/io/e.header
expect "dm-error volume: check reports it" 1 "volume FAIL volume /dev/mapper/pw-errvol (/dev/dm-0): cannot probe: Input/output error" pw check e

# Readable start (the filesystem probes), I/O errors from 1 MiB on, with an
# explicit type: libblkid reads the end of the device too (RAID superblocks
# live there), so apply cannot probe the volume and refuses it cleanly,
# naming the device, within the timeout; check says the same.
dmsetup create pw-errvol2 --table "0 2048 linear $vg 0
2048 $((sectors - 2048)) error" && settle
e2=$(realpath /dev/mapper/pw-errvol2)
start_case
expect "volume failing after 1 MiB: apply refuses it cleanly" 1 \
        "t: volume /dev/mapper/pw-errvol2 ($e2): cannot probe: Input/output error" pw apply t
check "  no header created" test ! -e /tmp/io/t.header
expect "  check reports it" 1 "volume FAIL volume /dev/mapper/pw-errvol2 ($e2): cannot probe: Input/output error" pw check t
nothing_left t
dmsetup remove pw-errvol2 && dmsetup remove pw-errvol && settle

# dm-flakey under a live disk: the volume works at apply, then every I/O
# fails: check reports the read failure (exit 1) without hanging, stop works.
modprobe dm-flakey 2>/dev/null
if dmsetup create pw-flaky --table "0 $sectors flakey $vg 0 3600 0" 2>/dev/null; then
        settle
        C=/tmp/c-flaky
        conf $C <<EOC
[f]
volume = /dev/mapper/pw-flaky
header = /tmp/io/f.header
timeout = 5
EOC
        start_case
        check "dm-flakey volume (up): apply" "$PARTWRAP" -c $C apply
        settle
        check "  check healthy while it works" "$PARTWRAP" -c $C check
        # The volume's first page stays in the page cache across the
        # failure: what apply reads to know the volume works must come from
        # the device (the warm path, udev's record of a dm device being
        # kept as it was across the reload).
        dd if=/dev/mapper/pw-flaky of=/dev/null bs=4096 count=1 status=none
        dmsetup suspend pw-flaky && dmsetup load pw-flaky --table "0 $sectors flakey $vg 0 0 3600" &&
                dmsetup resume pw-flaky
        settle
        expect "dm-flakey volume (down): apply on the failing volume fails cleanly, naming the device" 1 \
                "f: volume /dev/mapper/pw-flaky ($(realpath /dev/mapper/pw-flaky)): cannot probe: Input/output error" \
                "$PARTWRAP" -c $C apply
        echo 3 >/proc/sys/vm/drop_caches
        expect "  check reports the read failure" 1 "cannot probe: Input/output error" "$PARTWRAP" -c $C check
        check_eq "  the live disk is left alone (still there)" "PARTWRAP-f" "$(dmsetup info -c --noheadings -o uuid f 2>&1)"
        check "  stop" "$PARTWRAP" -c $C stop
        dm0=$((dm0 - 0))
        nothing_left f
        dmsetup remove pw-flaky && settle
else
        skip "dm-flakey volume" "no dm-flakey target in this kernel"
fi

# --- a volume that shrank or grew since its header was made -------------------
# The volume is a dm-linear device over $vm, reloaded shorter (24 MiB) or
# longer (40 MiB, a zero target after it), so nothing is destroyed.
msz=$(blockdev --getsz "$vm")
dmsetup create pw-sizevol --table "0 $msz linear $vm 0" && settle
C=/tmp/c-size
conf $C <<EOC
[s]
volume = /dev/mapper/pw-sizevol
table = mbr
header = /tmp/size/s.header
timeout = 5
EOC
check "apply before the size change" "$PARTWRAP" -c $C apply
check "stop" "$PARTWRAP" -c $C stop
settle
resize_vol() { dmsetup suspend pw-sizevol && dmsetup load pw-sizevol --table "$1" && dmsetup resume pw-sizevol && settle; }
for change in "shrank:0 49152 linear $vm 0" "grew:0 $msz linear $vm 0
$msz 16384 zero"; do
        start_case
        resize_vol "${change#*:}"
        expect "volume ${change%%:*} ($(blockdev --getsz /dev/mapper/pw-sizevol) sectors): apply refuses the header" 1 \
                "(did the volume change size?)" "$PARTWRAP" -c $C apply
        nothing_left s
        expect "  check says so" 1 "MBR: partition 1 has $msz sectors, expected" "$PARTWRAP" -c $C check
done
resize_vol "0 $msz linear $vm 0"
check "the same size again: apply works" "$PARTWRAP" -c $C apply
check "stop" "$PARTWRAP" -c $C stop
settle
dmsetup remove pw-sizevol && settle

# --- configuration writable by others (sshd StrictModes) ---------------------
C=/tmp/c-perm
mkdir -p $C && chmod 755 $C
printf '[ok]\nvolume = %s\nheader = /tmp/perm/ok.header\ntimeout = 5\n' "$vg" >$C/10-ok.conf
printf '[open]\nvolume = %s\nheader = /tmp/perm/open.header\ntimeout = 5\n' "$vm" >$C/20-open.conf
chmod 600 $C/10-ok.conf && chmod 666 $C/20-open.conf
start_case
expect "world-writable config file: refused, exit 2" 2 "$C/20-open.conf: refusing it: writable by everyone" \
        "$PARTWRAP" -c $C apply
check "  the disk declared in it is not built" bash -c '! dmsetup info open >/dev/null 2>&1'
check "  the disk of the good file is built all the same" test -b /dev/mapper/ok
"$PARTWRAP" -c $C stop >/dev/null 2>&1
chmod 620 $C/20-open.conf
settle
expect "group-writable config file: a warning, still used" 0 "writable by group" "$PARTWRAP" -c $C apply
"$PARTWRAP" -c $C stop >/dev/null 2>&1
chmod 600 $C/20-open.conf && chmod 777 $C
start_case
expect "world-writable config directory: refused, exit 2" 2 "$C: refusing it: writable by everyone" \
        "$PARTWRAP" -c $C apply
nothing_left ok
chmod 755 $C

# --- a volume that claims another's filesystem UUID ----------------------------
# The content of a volume is its guest's: a guest can give its filesystem
# the UUID (or label) of another guest's volume. A disk declared by UUID=
# must then not be built over whichever of the two udev linked last.
va=$(make_volume 16 ext4 victim) && vb=$(make_volume 16 ext4 impostor) || exit 1
ua=$(blkid -p -o value -s UUID "$va")
# tune2fs -U refuses a filesystem mounted since its last check (make_volume
# mounted it to write files): check it first, and make a failed setup visible.
e2fsck -fy "$vb" >/dev/null 2>&1
check "setup: the impostor takes the victim's UUID" tune2fs -U "$ua" "$vb"
udevadm trigger --action=change "$vb" && settle
C=/tmp/c-dup
conf $C <<EOC
[victim]
volume = UUID=$ua
header = /tmp/dup/victim.header
timeout = 5
EOC
start_case
expect "two volumes with UUID=$ua: apply refuses to guess" 1 \
        "victim: UUID=$ua: more than one device carries it; name the volume by path" pw apply
nothing_left victim
check "  no header created" test ! -e /tmp/dup/victim.header
expect "  check reports it too" 1 "UUID=$ua: more than one device carries it" pw check

# The same with LABEL=: two filesystems labelled alike.
vc=$(make_volume 16 ext4 twinlabel) && vd=$(make_volume 16 ext4 twinlabel) || exit 1
# partwrap counts the carriers in udev's database: make sure udev has
# probed both (a reused loop number can keep udev's older record for a while).
udevadm trigger --action=change "$vc" "$vd" && settle
check_eq "setup: udev sees the label on both" "twinlabel twinlabel" \
        "$(udevadm info -q property --property=ID_FS_LABEL --value "$vc") $(udevadm info -q property --property=ID_FS_LABEL --value "$vd")"
C=/tmp/c-duplabel
conf $C <<EOC
[twin]
volume = LABEL=twinlabel
header = /tmp/dup/twin.header
timeout = 5
EOC
start_case
expect "two volumes with LABEL=twinlabel: apply refuses to guess" 1 \
        "twin: LABEL=twinlabel: more than one device carries it; name the volume by path" pw apply
nothing_left twin
check "  no header created" test ! -e /tmp/dup/twin.header
# One of them detached: the label is unique again, and the disk is built.
h_c=$(hash_dev "$vc")
losetup -d "$vd" && settle
check_status "  one of the two detached: apply builds the disk over the other" 0 "$PARTWRAP" -c $C apply
check_eq "  over $vc" "$(cat /sys/class/block/"${vc#/dev/}"/dev)" \
        "$(dmsetup table twin 2>/dev/null | sed -n 2p | cut -d' ' -f4)"
check_status "  stop" 0 "$PARTWRAP" -c $C stop
settle
check_eq "  volume $vc unchanged" "$h_c" "$(hash_dev "$vc")"

diag "$bad bad inputs tried"
check_eq "volume g unchanged" "$h_g" "$(hash_dev "$vg")"
check_eq "volume m unchanged" "$h_m" "$(hash_dev "$vm")"
tap_done
