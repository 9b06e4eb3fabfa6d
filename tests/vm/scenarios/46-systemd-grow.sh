#!/usr/bin/env bash
# Live grow end to end under the real systemd as PID 1 (issue 14): lvextend
# of a declared LV, and the disk grows with no command typed.
#
# Setup phase (before systemd): make install DESTDIR=/ PREFIX=/usr (the udev
# rule, partwrap@.service), nothing enabled.
#
# Test phase (a unit after multi-user.target): two LVs made after boot
# (make_lv: a VG on a loop PV) and deactivated; two disks declared on them,
# growlv (grow = yes) and keeplv (grow = no); vgchange -ay, and each LV's
# appearance starts its partwrap@NAME.service through the installed udev
# rule. Then:
#   - growlv: the guest names partition 1; lvextend -L +16M, and nothing
#     else: the LV's change event reloads the unit (ExecReload= apply), and
#     /dev/mapper/growlv grows by 16 MiB within 30 s; the unit's journal
#     has "grown"; sgdisk -v clean; the guest's name survived; the kernel's
#     parser (losetup -P -r) shows partition 1 of 80 MiB; check healthy;
#     the LV's old 64 MiB hash the same;
#   - keeplv (grow = no): lvextend -L +16M; the reload runs (the unit's
#     journal says "growable") and the disk keeps its size; check: healthy,
#     growable, both sizes;
#   - systemctl stop of the units removes both disks, no loop left on a
#     header file.
# shellcheck disable=SC2154
if [ -z "${IN_VM:-}" ]; then
        PARTWRAP_VM_INIT=$(cd "$(dirname "$0")/.." && pwd)/init-systemd
        export PARTWRAP_VM_INIT
        export PARTWRAP_VM_SYSTEMD_LOG=${PARTWRAP_VM_SYSTEMD_LOG:-info}
fi
. "$(dirname "$0")/../lib.sh"

S=/var/lib/partwrap-test
unit() { echo "partwrap@$(systemd-escape "$1").service"; }

# ===========================================================================
if [ "${PARTWRAP_VM_PHASE:-}" = setup ]; then
        mkdir -p $S
        [ "$(realpath "$PARTWRAP")" = "$TOP/partwrap" ] || cp "$PARTWRAP" "$TOP/partwrap"
        # -o partwrap: install the binary under test, never rebuild it here
        make -C "$TOP" -o partwrap install DESTDIR=/ PREFIX=/usr >$S/install.log 2>&1
        echo $? >$S/install.rc
        diag "setup done after $(cut -d' ' -f1 /proc/uptime) s of uptime"
        exit 0
fi

# ===========================================================================
# Test phase.
journal() { journalctl -b -u "$(unit "$1")" -o cat --no-pager 2>&1; }
# said NAME STATE: the unit's journal has apply's line "NAME: STATE ...".
said() { journal "$1" | grep -q "^$1: $2"; }
header_loops() { local f; for f in /var/lib/partwrap/*.header; do losetup -n -O NAME -j "$f"; done | wc -l; }
name() { sgdisk -i 1 "$1" 2>/dev/null | sed -n "s/^Partition name: '\(.*\)'$/\1/p"; }
MiB=$((1 << 20))

check_eq "make install DESTDIR=/ PREFIX=/usr in the VM: exit 0" 0 "$(cat $S/install.rc)"
[ "$(cat $S/install.rc)" = 0 ] || sed 's/^/#   /' $S/install.log
check "the udev rule reloads the unit on a change event" \
        grep -q 'ACTION=="change".*reload-or-restart' /usr/lib/udev/rules.d/70-partwrap.rules

# The LVs with their filesystems first, then deactivated: a disk declared
# on an active LV is built as soon as the LV appears, before any mkfs.
lv1=$(make_lv 64 ext4 growme) && lv2=$(make_lv 64 ntfs KEEPME) || { not_ok "make_lv: two LVs"; tap_done; exit 1; }
check "vgchange -an pwvg" timeout 60 vgchange -q -an pwvg
settle
mkdir -p /etc/partwrap.d
cat >/etc/partwrap.d/46-test.conf <<'EOC'
[growlv]
volume = /dev/mapper/pwvg-lv1
grow = yes

[keeplv]
volume = /dev/mapper/pwvg-lv2
grow = no
EOC
check "vgchange -ay pwvg (the LVs appear)" timeout 60 vgchange -q -ay pwvg
for n in growlv keeplv; do
        ms=$(wait_for 30 test -b /dev/mapper/$n)
        check "$n: the LV's appearance makes /dev/mapper/$n (${ms} ms after vgchange)" test "$ms" != timeout
        check_eq "  through $(unit $n), active" active "$(systemctl is-active "$(unit $n)" 2>&1)"
done
settle
check "both healthy" partwrap check growlv keeplv

# --- grow = yes: lvextend, and nothing else
check "growlv: the guest names partition 1 'guest'" sgdisk -c 1:guest /dev/mapper/growlv
settle
h_lv=$(hash_dev "$lv1")
sz0=$(blockdev --getsz /dev/mapper/growlv)
check "growlv: lvextend -L +16M pwvg/lv1" timeout 60 lvextend -q -L +16M pwvg/lv1
larger() { [ "$(blockdev --getsz /dev/mapper/growlv)" -gt "$sz0" ]; }
ms=$(wait_for 30 larger)
check "  /dev/mapper/growlv grows, with no command typed (${ms} ms after lvextend)" test "$ms" != timeout
diag "  $(unit growlv): $(journal growlv | tr '\n' '|')"
check_eq "  by exactly 16 MiB" $((sz0 + 16 * MiB / 512)) "$(blockdev --getsz /dev/mapper/growlv)"
ms=$(wait_for 10 said growlv "grown /dev/mapper/growlv (partition 1 = [^,]*, 64 MiB → 80 MiB)")
check "  the unit's reload said 'grown', 64 MiB → 80 MiB" test "$ms" != timeout
check_eq "  the unit is active" active "$(systemctl is-active "$(unit growlv)" 2>&1)"
settle
check "  sgdisk -v clean" bash -c "sgdisk -v /dev/mapper/growlv | grep -q 'No problems found'"
check_eq "  the guest's partition name survived" guest "$(name /dev/mapper/growlv)"
lp=$(kernel_parts /dev/mapper/growlv)
check_eq "  the kernel's parser: partition 1 has 80 MiB" $((80 * MiB)) "$(blockdev --getsize64 "${lp}p1" 2>&1)"
check_eq "  the kernel's partition 1 is the LV's filesystem" growme "$(blkid -p -o value -s LABEL "${lp}p1" 2>&1)"
detach_parts "$lp"
out=$(partwrap check growlv 2>&1)
check_eq "  partwrap check: healthy (exit 0)" 0 "$?"
check_eq "  check: healthy" "growlv: healthy" "$(states <<<"$out")"
check_eq "  the LV's old 64 MiB are unchanged" "$h_lv" "$(head -c $((64 * MiB)) "$lv1" | sha256sum | cut -d' ' -f1)"

# --- grow = no: the reload runs, and the disk keeps its size
h_lv=$(hash_dev "$lv2")
sz0=$(blockdev --getsz /dev/mapper/keeplv)
check "keeplv (grow = no): lvextend -L +16M pwvg/lv2" timeout 60 lvextend -q -L +16M pwvg/lv2
ms=$(wait_for 30 said keeplv growable)
check "  the unit's reload ran and said 'growable' (${ms} ms after lvextend)" test "$ms" != timeout
diag "  $(unit keeplv): $(journal keeplv | tr '\n' '|')"
settle
check_eq "  the disk keeps its size" "$sz0" "$(blockdev --getsz /dev/mapper/keeplv)"
check_eq "  the unit is active" active "$(systemctl is-active "$(unit keeplv)" 2>&1)"
out=$(partwrap check keeplv 2>&1)
check_eq "  partwrap check: exit 0" 0 "$?"
check "  check: growable, both sizes" \
        grep -qE "dm +ok +/dev/mapper/keeplv active, growable: partition 1 has $((64 * MiB)) bytes, the volume $((80 * MiB))" <<<"$out"
diag "  check said: $(tr '\n' '|' <<<"$out")"
check "  sgdisk -v clean" bash -c "sgdisk -v /dev/mapper/keeplv | grep -q 'No problems found'"
check_eq "  the LV's old 64 MiB are unchanged" "$h_lv" "$(head -c $((64 * MiB)) "$lv2" | sha256sum | cut -d' ' -f1)"

# --- the units stop: their disks go
check "systemctl stop both units" systemctl stop "$(unit growlv)" "$(unit keeplv)"
settle
check "  both disks removed" bash -c '! dmsetup info growlv 2>/dev/null && ! dmsetup info keeplv 2>/dev/null'
check_eq "  no loop device left on a header file" 0 "$(header_loops)"
tap_done
