# shellcheck shell=bash
# Sourced first thing by every tests/vm/scenarios/NN-name.sh:
#
#       #!/usr/bin/env bash
#       . "$(dirname "$0")/../lib.sh"
#
# On the host (IN_VM unset) this re-runs the scenario inside a fresh
# User-Mode Linux VM through tests/vm/run and never returns.  Inside the VM
# (root, cwd = repo top, a throw-away root: no cleanup needed) it sources
# tests/lib/tap.sh and provides the helpers below.  When the scenario exits
# non-zero (tap_done does that on any "not ok"), the device state is printed
# as TAP comments.

if [ -z "${IN_VM:-}" ]; then
        # The scenario: the outermost file (fault.sh may stand between).
        exec "$(dirname "${BASH_SOURCE[0]}")/run" "${BASH_SOURCE[-1]}" "$@"
fi

# The system's tools first: a python3 shim from pyenv on the host's PATH
# costs seconds per call in the VM.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# How much slower than User-Mode Linux or KVM this VM runs programs: QEMU's
# software emulation takes about 2.5 times as long. Scenarios that bound how
# late something may happen widen the slack, never the lower bound, by it.
VM_SLOWDOWN=1
[ "${PARTWRAP_VM_BACKEND:-}" = qemu-tcg ] && VM_SLOWDOWN=3

# shellcheck source=../lib/tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

# Without udevd (PARTWRAP_VM_UDEV=0) libdevmapper must create /dev/mapper
# nodes itself instead of waiting for udev.
[ "${PARTWRAP_VM_UDEV:-1}" = 0 ] && export DM_DISABLE_UDEV=1

# The files make_volume writes, and their content (checked by check_files).
VOLUME_FILES="hello.txt numbers.txt sub/deep.txt"
_volume_file() {
        case $1 in
        hello.txt) echo "partwrap test volume" ;;
        numbers.txt) seq 1 100000 ;;            # 574 KiB
        sub/deep.txt) printf 'line %s\n' a b c ;;
        esac
}

# settle: wait for udev to finish processing events (no-op without udevd).
settle() {
        [ "${PARTWRAP_VM_UDEV:-1}" = 0 ] || udevadm settle --timeout=60
}

# _mkfs DEV FSTYPE [LABEL]: ext2/3/4, ntfs, vfat, swap, none (no filesystem), or
# any type with an installed mkfs.TYPE.  FSTYPE ext4-huge: ext4 with 1 MiB
# clusters, quick and small even on a 30 TiB sparse device.
_mkfs() {
        local dev=$1 fs=$2 label=${3:-} out
        out=$(case $fs in
        ext2 | ext3 | ext4) mkfs."$fs" -F -q -E nodiscard ${label:+-L "$label"} "$dev" ;;
        ext4-huge) mkfs.ext4 -F -q -O bigalloc -C 1048576 \
                -E lazy_itable_init=1,lazy_journal_init=1,nodiscard ${label:+-L "$label"} "$dev" ;;
        ntfs) mkfs.ntfs -Q -F -q ${label:+-L "$label"} "$dev" ;;
        ntfs-huge) mkfs.ntfs -Q -F -q -c 1048576 ${label:+-L "$label"} "$dev" ;;
        vfat) mkfs.vfat ${label:+-n "$label"} "$dev" ;;
        swap) mkswap -q ${label:+-L "$label"} "$dev" ;;
        none) ;;
        *) mkfs."$fs" ${label:+-L "$label"} "$dev" ;;
        esac 2>&1) || { printf 'mkfs %s on %s failed:\n%s\n' "$fs" "$dev" "$out" >&2; return 1; }
}

# mount_fs DEV DIR [OPTIONS]: mounts a filesystem (ntfs through ntfs-3g).
mount_fs() {
        local type
        type=$(blkid -p -o value -s TYPE "$1") || { echo "no filesystem on $1" >&2; return 1; }
        mkdir -p "$2"
        case $type in
        ntfs) modprobe fuse && ntfs-3g ${3:+-o "$3"} "$1" "$2" ;;
        *) mount -t "$type" ${3:+-o "$3"} "$1" "$2" ;;
        esac
}

# check_files DIR: the files make_volume wrote are in DIR, intact.
check_files() {
        local f
        for f in $VOLUME_FILES; do
                cmp -s "$1/$f" <(_volume_file "$f") || { echo "$1/$f: missing or changed" >&2; return 1; }
        done
}

# _populate DEV FSTYPE: writes $VOLUME_FILES through a temporary mount.
_populate() {
        local mnt f
        case $2 in swap | none) return 0 ;; esac
        mnt=$(mktemp -d /tmp/mnt.XXXXXX)
        mount_fs "$1" "$mnt" || return 1
        for f in $VOLUME_FILES; do
                mkdir -p "$(dirname "$mnt/$f")"
                _volume_file "$f" >"$mnt/$f"
        done
        umount "$mnt" && rmdir "$mnt" && sync
}

# make_volume SIZE_MIB FSTYPE [LABEL]: a volume of SIZE_MIB MiB on a loop
# device over an image in /tmp, with a filesystem and $VOLUME_FILES.
# Prints the loop device.
make_volume() {
        local img dev
        img=$(mktemp /tmp/volume.XXXXXX) && truncate -s "$1M" "$img" &&
                dev=$(losetup -f --show "$img") || return 1
        _mkfs "$dev" "$2" "${3:-}" && _populate "$dev" "$2" || return 1
        echo "$dev"
}

# make_image SIZE_MIB FSTYPE [LABEL]: make_volume's image, detached (a volume
# to attach later).  Prints its path.
make_image() {
        local dev img
        dev=$(make_volume "$@") || return 1
        img=$(losetup -n -O BACK-FILE "$dev") && losetup -d "$dev" || return 1
        echo "$img"
}

# make_sparse_volume SIZE [FSTYPE [LABEL]]: a huge volume (SIZE as truncate
# takes it: 30T) on a sparse image in /tmp, with a filesystem that blkid
# finds but no files.  FSTYPE ext4-huge (default: 0.2 s, 1.3 MiB of tmpfs for
# 30T), ntfs-huge (2 s, 80 MiB), or swap.  Never hash_dev one of these.
make_sparse_volume() {
        local img dev
        img=$(mktemp /tmp/sparse.XXXXXX) && truncate -s "$1" "$img" &&
                dev=$(losetup -f --show "$img") || return 1
        _mkfs "$dev" "${2:-ext4-huge}" "${3:-}" || return 1
        echo "$dev"
}

# make_4k_volume SIZE_MIB FSTYPE [LABEL]: a disk with 4096-byte logical
# sectors (scsi_debug, in VM memory), with a filesystem and $VOLUME_FILES.
# Every call adds a disk of its own; all of them must have the same size.
make_4k_volume() {
        local d=/sys/bus/pseudo/drivers/scsi_debug before dev
        before=$(ls /sys/block)
        if [ ! -d "$d" ]; then
                modprobe sd_mod &&
                        modprobe scsi_debug sector_size=4096 dev_size_mb="$1" per_host_store=1 || return 1
        elif [ "$(cat "$d/dev_size_mb")" != "$1" ]; then
                echo "make_4k_volume: all 4k volumes must have one size ($(cat "$d/dev_size_mb") MiB)" >&2
                return 1
        else
                echo 1 >"$d/add_host" || return 1
        fi
        for _ in $(seq 50); do
                dev=$(ls /sys/block | grep -Fxv "$before" | grep '^sd' | head -n 1)
                [ -n "$dev" ] && [ -b "/dev/$dev" ] && break
                dev=
                sleep 0.1
        done
        [ -n "$dev" ] || { echo "make_4k_volume: no new scsi_debug disk" >&2; return 1; }
        settle
        _mkfs "/dev/$dev" "$2" "${3:-}" && _populate "/dev/$dev" "$2" || return 1
        echo "/dev/$dev"
}

# LVM2 (make_vg, make_lv): a volume group on a loop PV over a sparse image
# in /tmp, with the host's lvm2 (Debian 12: 2.03, no lvmetad any more).
# LVM reads an lvm.conf of the scenario's own ($LVM_SYSTEM_DIR, exported, so
# that a scenario's lvextend reads it too): no dmeventd runs in the VM
# (monitoring = 0); udevd does, and creates /dev/VG/LV as LVM expects with
# udev_sync and udev_rules on (LVM waits for it on a cookie, as partwrap
# does); no devices file and no PVs on LVs, whatever the host's lvm.conf
# says. The udev rules of lvm2 run the system's lvm with its own
# configuration; without systemd as PID 1 their autoactivation (systemd-run)
# fails, harmlessly: lvcreate activates.
export LVM_SYSTEM_DIR=/tmp/lvm LVM_SUPPRESS_FD_WARNINGS=1
_lvm_conf() {
        [ -f $LVM_SYSTEM_DIR/lvm.conf ] && return 0
        mkdir -p $LVM_SYSTEM_DIR && cat >$LVM_SYSTEM_DIR/lvm.conf <<'EOC'
devices {
        use_devicesfile = 0
        scan_lvs = 0
}
activation {
        monitoring = 0
        udev_sync = 1
        udev_rules = 1
}
backup {
        backup = 0
        archive = 0
}
EOC
}

# make_vg [SIZE_MIB [NAME]]: the volume group NAME (pwvg) of SIZE_MIB (1024)
# MiB on a loop PV over a sparse image. Prints NAME.
make_vg() {
        local size=${1:-1024} name=${2:-pwvg} img pv out
        _lvm_conf && img=$(mktemp /tmp/pv.XXXXXX) && truncate -s "${size}M" "$img" &&
                pv=$(losetup -f --show "$img") || return 1
        out=$(timeout 60 vgcreate -q -y "$name" "$pv" 2>&1) || { printf 'vgcreate %s %s failed:\n%s\n' "$name" "$pv" "$out" >&2; return 1; }
        settle
        echo "$name"
}

# make_lv SIZE_MIB FSTYPE [LABEL]: a logical volume of SIZE_MIB MiB in pwvg
# (made by make_vg on first use), named lv1, lv2, ..., with a filesystem and
# $VOLUME_FILES, as make_volume makes them. Prints /dev/pwvg/lvN.
make_lv() {
        local vg=pwvg n out lv
        _lvm_conf || return 1
        vgs "$vg" >/dev/null 2>&1 || make_vg >/dev/null || return 1
        n=$(($(lvs --noheadings "$vg" 2>/dev/null | wc -l) + 1))
        out=$(timeout 60 lvcreate -q -y -W y -Z y -L "$1M" -n "lv$n" "$vg" 2>&1) ||
                { printf 'lvcreate %s/lv%s failed:\n%s\n' "$vg" "$n" "$out" >&2; return 1; }
        settle
        lv=/dev/$vg/lv$n
        [ -b "$lv" ] || { echo "make_lv: $lv did not appear" >&2; return 1; }
        _mkfs "$lv" "$2" "${3:-}" && _populate "$lv" "$2" || return 1
        settle
        echo "$lv"
}

# hash_dev DEV: sha256 of the whole device (or file).
hash_dev() { sha256sum <"$1" | cut -d' ' -f1; }

# loops_count, dm_count: attached loop devices, device-mapper devices.
loops_count() { losetup -n -l -O NAME | wc -l; }
dm_count() { find /sys/block -maxdepth 1 -name 'dm-*' | wc -l; }

# The system python: a pyenv shim in PATH costs ~3 s per call in the VM.
PY=python3 && [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# json_get EXPR...: the Python EXPRs, space-separated, over the JSON document on
# stdin: d; t and p, sfdisk -J's partition table and its partitions; k, the
# first disk of a partwrap --json report.  Errors go to stdout, for check_eq.
json_get() {
        "$PY" -c "import json, sys
d = json.load(sys.stdin)
t = d.get('partitiontable', {})
p = t.get('partitions', [])
k = (d.get('disks') or [None])[0]
print($(IFS=,; echo "$*"))" 2>&1
}

# conf, pw ARGS...: the scenario's configuration directory (/tmp/conf unless
# the scenario sets conf), and partwrap -c $conf ARGS.
conf=/tmp/conf
pw() { "$PARTWRAP" -c "$conf" "$@"; }

# disk_conf FILE NAME VOLUME [KEY=VALUE...]: appends the section [NAME] to FILE:
# volume = VOLUME, each KEY = VALUE, and header = /tmp/headers/NAME.header
# unless a header=PATH is given.
disk_conf() {
        local file=$1 name=$2 vol=$3 kv hdr=/tmp/headers/$2.header sep=
        shift 3
        mkdir -p "$(dirname "$file")" || return 1
        [ -s "$file" ] && sep=$'\n'
        {
                printf '%s' "$sep"
                printf '[%s]\nvolume = %s\n' "$name" "$vol"
                for kv; do
                        case $kv in
                        header=*) hdr=${kv#header=} ;;
                        *) printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" ;;
                        esac
                done
                printf 'header = %s\n' "$hdr"
        } >>"$file"
}

# states [NAME]: of a partwrap report on stdin, the "NAME: STATE" of NAME (or
# of every disk), joined by '|'.
# shellcheck disable=SC2120  # (NAME is optional)
states() { grep -E "^${1:-[a-z-]+}:" | cut -d' ' -f1-2 | paste -sd'|'; }

# now_ms: the time in milliseconds.
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# wait_for SECONDS CMD...: polls CMD every 0.2 s, at most SECONDS; prints
# the ms it took, or "timeout" (and fails).
wait_for() {
        local limit=$1 t0 i=0
        shift
        t0=$(now_ms)
        until "$@" >/dev/null 2>&1; do
                i=$((i + 1))
                [ $i -ge $((limit * 5)) ] && { echo "timeout"; return 1; }
                sleep 0.2
        done
        echo $(($(now_ms) - t0))
}

# dm_absent NAME: no device-mapper device NAME exists.
dm_absent() { ! dmsetup info "$1" >/dev/null 2>&1; }

# check_no_disk NAME LOOPS0 [DM0]: tests that no dm device NAME exists, that
# loops_count is LOOPS0 and (given DM0) that dm_count is DM0.
check_no_disk() {
        check "no dm device $1" dm_absent "$1"
        check_eq "no loop left behind" "$2" "$(loops_count)"
        [ $# -lt 3 ] || check_eq "no other dm device left behind" "$3" "$(dm_count)"
}

# kernel_parts DEV [LOSETUP_OPTION...]: a read-only loop device over DEV with
# the kernel's partitions (losetup -P), settled.  Prints the loop device.
kernel_parts() {
        local lp
        lp=$(losetup -f --show -r -P "${@:2}" "$1") || return 1
        settle
        echo "$lp"
}

# detach_parts LOOP: losetup -d LOOP, settled.
detach_parts() { losetup -d "$1"; settle; }

# check_part_files DESC DEV [OPTIONS]: one test: DEV mounts (mount_fs, read-only
# unless OPTIONS say otherwise) and check_files passes in it; unmounts it.
check_part_files() {
        if mount_fs "$2" /tmp/p1 "${3:-ro}"; then
                check "$1" check_files /tmp/p1
                umount /tmp/p1
        else
                not_ok "$1 (mount $2 failed)"
        fi
}

# vm_diagnostics: the device state as TAP comments (runs on a failing exit;
# call it yourself from an EXIT trap of your own).
vm_diagnostics() {
        {
                echo "--- dmsetup table"; dmsetup table
                echo "--- dmsetup info"; dmsetup info -c
                echo "--- losetup -a"; losetup -a
                echo "--- lsblk"; lsblk -e 43 -o NAME,SIZE,LOG-SEC,TYPE,FSTYPE,LABEL,MOUNTPOINT   # not nbd
                echo "--- dmesg (last 30 lines)"; dmesg | tail -n 30
        } 2>&1 | sed 's/^/#   /'
}
_vm_on_exit() {
        local rc=$?
        [ "$rc" -eq 0 ] && return
        diag "scenario exited $rc; device state:"
        vm_diagnostics
}
trap _vm_on_exit EXIT
# The VM's init sends TERM when PARTWRAP_VM_TIMEOUT is about to run out.
trap 'diag "terminated (timeout?)"; exit 143' TERM
