#!/usr/bin/env bash
# Smoke test of the VM harness itself: a writable root that never reaches
# the host, modules, udev + device-mapper, the kernel's GPT parser, and the
# volume helpers of tests/vm/lib.sh.

# On the host: run the VM part, then check from the host that the files the
# VM wrote to / and to the repo do not exist here (the VM part leaves the
# plan line to us).
if [ -z "${IN_VM:-}" ]; then
        TEST_MARKER=partwrap-vm-marker.$$.$RANDOM
        export TEST_MARKER
        top=$(cd "$(dirname "$0")/../../.." && pwd)
        log=$(mktemp)
        "$(dirname "$0")/../run" "$0" "$@" | tee "$log"
        rc=${PIPESTATUS[0]}
        n=$(grep -cE '^(not )?ok [0-9]+' "$log")
        rm -f "$log"
        [ "$rc" = 77 ] && [ "$n" = 0 ] && exit 77
        if [ "$n" = 0 ]; then
                # Nothing ran in the VM: a clean host says nothing then.
                echo "not ok 1 - the VM booted and ran the scenario (exit $rc, not a single result)"
                echo "1..1"
                rm -f "/$TEST_MARKER" "$top/$TEST_MARKER"
                exit 1
        fi
        n=$((n + 1))
        if [ -e "/$TEST_MARKER" ] || [ -e "$top/$TEST_MARKER" ]; then
                echo "not ok $n - host: the VM's writes stayed in the VM"
                rm -f "/$TEST_MARKER" "$top/$TEST_MARKER"
                rc=1
        else
                echo "ok $n - host: the VM's writes stayed in the VM"
        fi
        echo "1..$n"
        exit "$rc"
fi

. "$(dirname "$0")/../lib.sh"

# --- the root: writable, but only in the VM
check "the root is writable (overlay)" touch "/$TEST_MARKER" "$TOP/$TEST_MARKER"
check_fails "the host's root underneath is read-only" touch "/run/hostroot/$TEST_MARKER"
# /run/hostroot: the host's root as the VM's kernel sees it underneath (hostfs
# or 9p), not through the overlay.
check_fails "the host does not see a file written to / in the VM" test -e "/run/hostroot/$TEST_MARKER"
check_fails "the host does not see a file written to the repo" test -e "/run/hostroot$TOP/$TEST_MARKER"
check_eq "/tmp is a tmpfs" tmpfs "$(findmnt -n -o FSTYPE /tmp)"
check "a 30 TiB sparse file fits in /tmp" truncate -s 30T /tmp/sparse-check
rm -f /tmp/sparse-check
check_eq "cwd is the repo top" "$TOP" "$(pwd)"

# --- modules
check "loop and dm-mod are loaded" grep -qw dm_mod /proc/modules
check "/dev/mapper/control exists" test -c /dev/mapper/control
check "modprobe dm-flakey dm-delay dm-zero nbd" modprobe -a dm-flakey dm-delay dm-zero nbd
check "dmsetup targets lists flakey" sh -c 'dmsetup targets | grep -qw flakey'

# --- two-segment linear device over two loop devices
seq 1 1000000 | head -c 4M >/tmp/a.img
seq 1000001 2000000 | head -c 4M >/tmp/b.img
loops0=$(loops_count) dm0=$(dm_count)
la=$(losetup -f --show /tmp/a.img) && lb=$(losetup -f --show /tmp/b.img)
check_eq "loops_count counts two more loop devices" $((loops0 + 2)) "$(loops_count)"
check "dmsetup create a two-segment linear device" dmsetup create pw-smoke <<TABLE
0 8192 linear $la 0
8192 8192 linear $lb 0
TABLE
settle
check "/dev/mapper/pw-smoke appears" test -b /dev/mapper/pw-smoke
check_eq "dm_count counts it" $((dm0 + 1)) "$(dm_count)"
check_eq "it reads as the two images" "$(cat /tmp/a.img /tmp/b.img | sha256sum | cut -d' ' -f1)" \
        "$(hash_dev /dev/mapper/pw-smoke)"
if [ "${PARTWRAP_VM_UDEV:-1}" != 0 ]; then
        check "udev made /dev/disk/by-id/dm-name-pw-smoke" test -L /dev/disk/by-id/dm-name-pw-smoke
else
        skip "udev symlinks" "PARTWRAP_VM_UDEV=0"
fi
check "dmsetup remove" dmsetup remove pw-smoke
check_eq "dm_count is back" "$dm0" "$(dm_count)"
losetup -d "$la" "$lb"

# --- partwrap's layout by hand: [head][volume][tail], GPT by sgdisk, kernel parse
vol=$(make_volume 16 ext4 SMOKE)
check "make_volume made an ext4 volume" test "$(blkid -p -o value -s TYPE "$vol")" = ext4
vhash=$(hash_dev "$vol")
vsec=$(blockdev --getsz "$vol")
truncate -s $(((2048 + 33) * 512)) /tmp/head.img
hl=$(losetup -f --show /tmp/head.img)
check "dmsetup create head/volume/tail" dmsetup create pw-gpt <<TABLE
0 2048 linear $hl 0
2048 $vsec linear $vol 0
$((2048 + vsec)) 33 linear $hl 2048
TABLE
settle
check "sgdisk writes a GPT on it" sgdisk -o -n "1:2048:$((2048 + vsec - 1))" -t 1:8300 /dev/mapper/pw-gpt
check "sgdisk -v finds no problems" sh -c 'sgdisk -v /dev/mapper/pw-gpt | grep -q "No problems found"'
check_eq "blkid sees the GPT" gpt "$(blkid -p -o value -s PTTYPE /dev/mapper/pw-gpt)"
pl=$(kernel_parts /dev/mapper/pw-gpt)
check "losetup -P -r: the kernel exposes ${pl}p1" test -b "${pl}p1"
check_eq "partition 1 has the volume's size" "$vsec" "$(blockdev --getsz "${pl}p1" 2>&1)"
check_part_files "partition 1 mounts and has the volume's files" "${pl}p1"
detach_parts "$pl"
dmsetup remove pw-gpt
check_eq "the volume is unchanged" "$vhash" "$(hash_dev "$vol")"

# --- the other volume helpers
nt=$(make_volume 16 ntfs NTVOL)
check_eq "make_volume ntfs: label" NTVOL "$(blkid -p -o value -s LABEL "$nt")"
check_part_files "ntfs volume has the files" "$nt"
big=$(make_sparse_volume 30T)
check_eq "make_sparse_volume 30T: size" $((30 << 40)) "$(blockdev --getsize64 "$big")"
check_eq "make_sparse_volume 30T: blkid finds ext4" ext4 "$(blkid -p -o value -s TYPE "$big")"
k4=$(make_4k_volume 32 ext4)
check_eq "make_4k_volume: 4096-byte logical sectors" 4096 "$(blockdev --getss "$k4")"
check_part_files "4k volume has the files" "$k4"
k4b=$(make_4k_volume 32 ntfs)
check "make_4k_volume twice: two disks, each its own" test "$k4" != "$k4b" -a "$(hash_dev "$k4")" != "$(hash_dev "$k4b")"

diag "booted in $(cut -d' ' -f1 /proc/uptime) s of uptime by now"
if [ -n "${TEST_MARKER:-}" ]; then
        [ "$TAP_FAILED" -eq 0 ]     # the host part adds its test and the plan
else
        tap_done
fi
