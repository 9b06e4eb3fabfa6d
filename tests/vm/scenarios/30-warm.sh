#!/usr/bin/env bash
# The warm path: apply on a live disk of ours knows its volumes from udev's
# record (no libblkid probe) only while that record agrees with everything
# else; where only the cheap evidence differs from the volume's bytes, apply
# probes and its verdict is the probe's. A fake udev record (a rule that
# overrides ID_FS_UUID, ID_FS_TYPE, ID_PART_TABLE_TYPE after udev's blkid)
# stands for a stale or lying one: apply probes, stays "unchanged", exit 0;
# check (which always probes) reports the superblock's UUID. A UUID changed
# by a guest is found, not taken from udev.
. "$(dirname "$0")/../lib.sh"

gv=$(make_volume 32 ext4 warmg) || exit 1
mv_=$(make_volume 32 ntfs WARMM) || exit 1
settle
uuid_g=$(blkid -p -o value -s UUID "$gv")
uuid_m=$(blkid -p -o value -s UUID "$mv_")
disk_conf $conf/30-disks.conf g "$gv"
disk_conf $conf/30-disks.conf m "UUID=$uuid_m" table=mbr
RULES=/run/udev/rules.d/99-partwrap-test-fake.rules
# fake DEV KEY=VALUE...: udev's record of DEV says otherwise from now on.
fake() {
        local dev=$1
        shift
        mkdir -p /run/udev/rules.d
        printf 'ACTION=="add|change", SUBSYSTEM=="block", KERNEL=="%s"' "${dev#/dev/}" >"$RULES"
        for kv; do printf ', ENV{%s}="%s"' "${kv%%=*}" "${kv#*=}"; done >>"$RULES"
        echo >>"$RULES"
        udevadm control --reload && udevadm trigger -c change "$dev" && settle
}
unfake() { rm -f "$RULES"; udevadm control --reload; udevadm trigger -c change "$gv" "$mv_"; settle; }
both() { echo "$(states g <<<"$1")|$(states m <<<"$1")"; }
udev_prop() { udevadm info -q property --property="$2" --value "$1"; }

check "apply creates both disks" pw apply
settle
out=$(pw -v -v apply 2>&1)
check_eq "warm apply: both unchanged, exit 0" "0 g: unchanged|m: unchanged" "$? $(both "$out")"
check_eq "  both volumes known from udev's record, not probed" 2 "$(grep -c "known from udev's record, not probed" <<<"$out")"
check_eq "  nothing probed" 0 "$(grep -c "probing them" <<<"$out")"

# --- udev says another UUID than the superblock
fake "$gv" ID_FS_UUID=0badc0de-0000-4000-8000-000000000001 ID_FS_UUID_ENC=0badc0de-0000-4000-8000-000000000001
check_eq "setup: udev's record says the fake UUID" 0badc0de-0000-4000-8000-000000000001 "$(udev_prop "$gv" ID_FS_UUID_ENC)"
check_eq "setup: the superblock says the real one" "$uuid_g" "$(blkid -p -o value -s UUID "$gv")"
out=$(pw -v -v apply 2>&1)
check_eq "fake UUID: apply unchanged, exit 0" "0 g: unchanged|m: unchanged" "$? $(both "$out")"
check "  g disagrees with its header: probed" grep -q "g: udev's record of the volumes does not agree with /tmp/headers/g.header: probing them" <<<"$out"
check_eq "  m still known from udev" 1 "$(grep -c "m: volume UUID=.*known from udev's record" <<<"$out")"
out=$(pw check g 2>&1)
check_eq "  check: healthy" "0 g: healthy" "$? $(states g <<<"$out")"
check "  check names the superblock's UUID, not udev's" grep -q "ext4 $uuid_g" <<<"$out"

# --- udev says a type with no automatic partition type (cheap facts alone
# would refuse: "filesystem type 'iso9660' has no automatic partition type")
fake "$gv" ID_FS_TYPE=iso9660
out=$(pw -v -v apply 2>&1)
check_eq "fake type: apply unchanged, exit 0 (the probe's verdict)" "0 g: unchanged|m: unchanged" "$? $(both "$out")"
check "  g probed" grep -q "g: udev's record of the volumes does not agree" <<<"$out"

# --- udev says the volume carries a partition table
fake "$mv_" ID_PART_TABLE_TYPE=dos
out=$(pw -v -v apply 2>&1)
check_eq "fake table on m: apply unchanged, exit 0 (the probe finds none)" "0 g: unchanged|m: unchanged" "$? $(both "$out")"
check_eq "  m probed, not known from udev" 0 "$(grep -c "m: volume .*known from udev's record" <<<"$out")"

unfake
out=$(pw -v -v apply 2>&1)
check_eq "true record again: both known from udev" "0 2" "$? $(grep -c "known from udev's record, not probed" <<<"$out")"

# --- the filesystem got a new UUID while the disk was stopped: the header
# records the old one, so the next warm apply probes g.
check "stop g" pw stop g
settle
e2fsck -fy "$gv" >/dev/null 2>&1
check "setup: a new filesystem UUID on g" tune2fs -U 0badc0de-0000-4000-8000-000000000002 "$gv"
udevadm trigger -c change "$gv" && settle
check_eq "setup: udev sees it" 0badc0de-0000-4000-8000-000000000002 "$(udev_prop "$gv" ID_FS_UUID_ENC)"
check "apply builds g again over its header" pw apply g
settle
out=$(pw -v -v apply g 2>&1)
check_eq "new UUID: warm apply of g unchanged, exit 0" "0 g: unchanged" "$? $(states g <<<"$out")"
check "  g probed (its header records the old UUID)" grep -q "g: udev's record of the volumes does not agree" <<<"$out"
# A UUID= volume whose UUID changed is not found (resolution by udev's record).
check "stop m" pw stop m
settle
check "setup: a new NTFS serial on m" ntfslabel --new-serial=0123456789ABCDEF "$mv_"
udevadm trigger -c change "$mv_" && settle
out=$(pw apply m 2>&1)
check_eq "new serial: m's UUID= is not found, exit 1" "1 m: failed" "$? $(states m <<<"$out")"

check "stop g" pw stop g
settle
tap_done
