#!/usr/bin/env bash
# A real LVM2 logical volume (lib.sh make_lv: a volume group on a loop PV)
# wrapped by apply as any volume is, then grown with lvextend while its disk
# is live: the starting point of live grow (issue 14).
#   - the LV with ext4 is wrapped: disk of 1 MiB + 64 MiB + 16.5 KiB,
#     the kernel's partition 1 is the filesystem, check healthy;
#   - the guest writes its own disk GUID (sgdisk on /dev/mapper/NAME);
#   - the installed udev rule, for a change event of the declared LV, queues
#     `systemctl --no-block reload-or-restart partwrap@NAME.service`; an
#     undeclared LV gets nothing (udevadm test: the rules, not systemd);
#   - lvextend -L +64M with grow = no: check reports the disk growable
#     (healthy, exit 0, both sizes), apply reports it growable (exit 0) and
#     changes nothing: dm table, header (the guest's GUID in it), loop; once
#     stopped, apply refuses the header with the sizes (exit 1: a stopped
#     disk is not grown); the LV's bytes are what they were.
# The growth itself (grow = yes, the default) is 56-grow.sh's.
. "$(dirname "$0")/../lib.sh"

GUEST_GUID=0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0
MiB=$((1 << 20))

lv=$(make_lv 64 ext4 lvdata) || exit 1
other=$(make_lv 16 ext4 stranger) || exit 1
check_eq "the LV is LVM's: DM_UUID LVM-*" LVM- "$(udevadm info -q property --property=DM_UUID --value "$lv" | cut -c1-4)"
check_eq "the LV has 64 MiB" $((64 * MiB)) "$(blockdev --getsize64 "$lv")"
disk_conf $conf/55.conf lvdisk "$lv" grow=no
hdr=/tmp/headers/lvdisk.header

loops0=$(loops_count)
check "apply wraps the LV" pw apply
settle
check_eq "  the disk is 1 MiB + 64 MiB + 16.5 KiB" $((MiB + 64 * MiB + 16896)) "$(blockdev --getsize64 /dev/mapper/lvdisk 2>&1)"
lp=$(kernel_parts /dev/mapper/lvdisk)
check_part_files "  the kernel's partition 1 is the LV's ext4" "${lp}p1"
detach_parts "$lp"
check "  check: healthy" pw check lvdisk

# The guest's part: its own disk GUID, written through the disk into the
# header (sgdisk rewrites both GPT copies, never partition 1).
check "the guest sets its disk GUID (sgdisk on /dev/mapper/lvdisk)" sgdisk --disk-guid="$GUEST_GUID" /dev/mapper/lvdisk
settle
check "  check: still healthy" pw check lvdisk

# The udev rule, installed as make install installs it: a change event of
# the declared LV reloads its unit; of an undeclared LV, nothing.
[ "$(realpath "$PARTWRAP")" = "$TOP/partwrap" ] || cp "$PARTWRAP" "$TOP/partwrap"
make -C "$TOP" -o partwrap install DESTDIR=/ PREFIX=/usr >/tmp/install.log 2>&1 || diag "make install: $(tail -n 3 /tmp/install.log)"
udevadm control --reload
mkdir -p /etc/partwrap.d && cp "$conf/55.conf" /etc/partwrap.d/
# runs ACTION DEV: what udev would run for the event, after the rules saw
# the LV (its DM_NAME) at all.
runs() {
        local out
        out=$(udevadm test --action="$1" "/sys/class/block/$(basename "$(realpath "$2")")" 2>&1)
        grep -q "DM_NAME=pwvg-" <<<"$out" || { echo "udevadm test did not process $2"; return; }
        grep -F "reload-or-restart" <<<"$out"
}
check "udev, change of the declared LV: reload-or-restart partwrap@lvdisk.service" \
        grep -qF "/usr/bin/systemctl --no-block reload-or-restart partwrap@lvdisk.service" <(runs change "$lv")
check_eq "udev, change of an undeclared LV: no reload" "" "$(runs change "$other")"
check_eq "udev, add of the declared LV: no reload (SYSTEMD_WANTS starts it)" "" "$(runs add "$lv")"
rm /etc/partwrap.d/55.conf

h_hdr=$(hash_dev "$hdr") h_lv=$(hash_dev "$lv") table0=$(dmsetup table lvdisk) loop0=$(losetup -n -O NAME -j "$hdr")
loops1=$(loops_count)

check "lvextend -L +64M pwvg/lv1 (the disk live)" timeout 60 lvextend -q -L +64M pwvg/lv1
settle
check_eq "  the LV has 128 MiB" $((128 * MiB)) "$(blockdev --getsize64 "$lv")"
first64() { head -c $((64 * MiB)) "$1" | sha256sum | cut -d' ' -f1; }
check_eq "  its first 64 MiB are what they were" "$h_lv" "$(first64 "$lv")"
h_lv128=$(hash_dev "$lv")

out=$(pw check lvdisk 2>&1)
check_eq "check after lvextend exits 0" 0 "$?"
check "  growable, with both sizes" grep -qE "dm +ok +/dev/mapper/lvdisk active, growable: partition 1 has 67108864 bytes, the volume 134217728 \(grow = no\)" <<<"$out"
check "  the volume is reported as 128 MiB" grep -q "volume ok .*128 MiB" <<<"$out"
check "  the header is judged against the live disk" grep -q "header ok .*GPT valid" <<<"$out"
diag "check said: $(tr '\n' '|' <<<"$out")"
out=$(pw apply lvdisk 2>&1)
check_eq "apply with grow = no on the live disk after lvextend exits 0" 0 "$?"
check "  growable, both sizes" grep -qF "lvdisk: growable /dev/mapper/lvdisk (partition 1 = $(realpath "$lv"), 64 MiB → 128 MiB)" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_eq "  the dm table is unchanged" "$table0" "$(dmsetup table lvdisk)"
check_eq "  the header is unchanged (the guest's GUID in it)" "$h_hdr" "$(hash_dev "$hdr")"
check_eq "  the loop is the same" "$loop0" "$(losetup -n -O NAME -j "$hdr")"
check_eq "  no loop added" "$loops1" "$(loops_count)"
check "  the guest's disk GUID is still there" bash -c "sgdisk -p /dev/mapper/lvdisk | grep -qi 'Disk identifier (GUID): $GUEST_GUID'"

check "stop" pw stop lvdisk
settle
check_no_disk lvdisk "$loops0"
out=$(pw apply lvdisk 2>&1)
check_eq "apply of the stopped disk exits 1" 1 "$?"
check "  the header does not describe the LV: the sizes" \
        grep -q "lvdisk: header $hdr does not describe $(realpath "$lv"): .*LBA is 133152, expected 264224 (did the volume change size?)" <<<"$out"
diag "apply said: $(tr '\n' '|' <<<"$out")"
check_no_disk lvdisk "$loops0"
check_eq "  the header is unchanged" "$h_hdr" "$(hash_dev "$hdr")"
check_eq "the LV: unchanged since lvextend" "$h_lv128" "$(hash_dev "$lv")"
tap_done
