#!/usr/bin/env bash
# Boot and hotplug under the real systemd as PID 1 (tests/vm/init-systemd),
# with partwrap installed by `make install` and partwrap.service enabled.
#
# Setup phase (before systemd): make install DESTDIR=/ PREFIX=/usr, enable
# partwrap.service, declare four disks, attach the volume of one (present at
# boot), install a stand-in storage unit that makes another volume, a dm
# device like an LV, appear 5 s into the boot (unordered with partwrap), and
# a stand-in libvirtd.service that records which disks exist when it starts.
#
# Test phase (a unit after multi-user.target):
#   - partwrap.service ran, under its hardening, successfully; both disks of
#     the boot exist, healthy, and existed when the stand-in libvirtd started;
#   - a declared volume attached after boot gets its disk through the
#     installed udev rule and partwrap@NAME.service (NAME with a '-': escaped),
#     by UUID=, and as a dm device by /dev/mapper path;
#   - an undeclared volume starts nothing;
#   - partwrap@NAME.service waiting for its volume says so (sd_notify STATUS),
#     in the host's network namespace (so that it hears udev);
#   - `systemctl stop partwrap.service` removes the disks, no loop is left
#     behind, the hotplug instances stop with it, and a volume plugged again
#     gets its disk again; `systemctl start` brings everything back.
# shellcheck disable=SC2154  # img_*, hash_*, uuid_*: from $S/vars
if [ -z "${IN_VM:-}" ]; then
        PARTWRAP_VM_INIT=$(cd "$(dirname "$0")/.." && pwd)/init-systemd
        export PARTWRAP_VM_INIT
        export PARTWRAP_VM_SYSTEMD_LOG=${PARTWRAP_VM_SYSTEMD_LOG:-info}
fi
. "$(dirname "$0")/../lib.sh"

S=/var/lib/partwrap-test   # shared by the two phases (the VM's overlay root)
unit() { echo "partwrap@$(systemd-escape "$1").service"; }
# image SIZE_MIB FSTYPE LABEL: an image with a filesystem and the test files,
# not attached, in $S (systemd-tmpfiles empties /tmp at boot). Prints its path.
image() {
        local dev img
        dev=$(make_volume "$@") || return 1
        img=$(losetup -n -O BACK-FILE "$dev") && losetup -d "$dev" && mv "$img" $S/ || return 1
        echo "$S/$(basename "$img")"
}

# ===========================================================================
if [ "${PARTWRAP_VM_PHASE:-}" = setup ]; then
        mkdir -p $S
        [ "$(realpath "$PARTWRAP")" = "$TOP/partwrap" ] || cp "$PARTWRAP" "$TOP/partwrap"
        # -o partwrap: install the binary under test, never rebuild it here
        make -C "$TOP" -o partwrap install DESTDIR=/ PREFIX=/usr >$S/install.log 2>&1
        echo $? >$S/install.rc
        systemctl enable partwrap.service >$S/enable.log 2>&1
        echo $? >$S/enable.rc

        img_a=$(image 32 ntfs BOOTA) && losetup -f "$img_a" &&   # present at boot
                img_b=$(image 32 ext4 lvdata) && img_c=$(image 32 ext4 hotplug) && img_d=$(image 32 ext4 hotlv) &&
                img_e=$(image 32 ext4 slow) && img_u=$(image 32 ext4 stranger) || exit 1
        {
                for v in img_a img_b img_c img_d img_e img_u; do
                        echo "$v=${!v}"
                        echo "hash_${v#img_}=$(sha256sum <"${!v}" | cut -d' ' -f1)"
                        echo "uuid_${v#img_}=$(blkid -p -o value -s UUID "${!v}")"
                done
        } >$S/vars
        # shellcheck disable=SC1090
        . $S/vars
        mkdir -p /etc/partwrap.d
        cat >/etc/partwrap.d/45-test.conf <<EOC
# present at boot (coldplug)
[win-boot]
volume = UUID=$uuid_a

# a dm device that a storage unit makes 5 s into the boot
[lv-data]
volume = /dev/mapper/vg-data
timeout = 60

# plugged after boot
[hot-plug]
volume = UUID=$uuid_c
timeout = 2
nofail = yes

[hot-lv]
volume = /dev/mapper/vg-hot
timeout = 2
nofail = yes
EOC
        cat >/usr/local/sbin/pw-test-storage <<EOS
#!/bin/sh
sleep 5
l=\$(losetup -f --show $img_b) && dmsetup create vg-data --table "0 \$(blockdev --getsz \$l) linear \$l 0"
EOS
        cat >/etc/systemd/system/pw-test-storage.service <<'EOU'
[Unit]
Description=stand-in storage: an LV-like dm device 5 s into the boot
DefaultDependencies=no
Wants=systemd-udevd.service
After=systemd-udevd.service systemd-modules-load.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/pw-test-storage

[Install]
WantedBy=sysinit.target
EOU
        cat >/usr/local/sbin/libvirtd-standin <<'EOS'
#!/bin/sh
{
        for n in win-boot lv-data; do
                if [ -b /dev/mapper/$n ]; then echo "$n present"; else echo "$n absent"; fi
        done
        echo "partwrap.service $(systemctl show -p ActiveState --value partwrap.service)"
} >/run/libvirtd-standin.log
EOS
        cat >/etc/systemd/system/libvirtd.service <<'EOU'
[Unit]
Description=stand-in libvirtd: records which partwrap disks exist when it starts

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/libvirtd-standin

[Install]
WantedBy=multi-user.target
EOU
        # A probe of the sandbox, run inside it after apply.
        mkdir -p /etc/systemd/system/partwrap.service.d
        cat >/etc/systemd/system/partwrap.service.d/50-test-probe.conf <<'EOU'
[Service]
ExecStartPost=/bin/sh -c '{ touch /etc/.pw-probe 2>/dev/null && echo "etc writable" || echo "etc read-only"; mountpoint -q /home && echo "home covered" || echo "home visible"; grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status; } >/run/partwrap/sandbox-probe'
EOU
        chmod 0755 /usr/local/sbin/pw-test-storage /usr/local/sbin/libvirtd-standin
        systemctl enable pw-test-storage.service libvirtd.service >>$S/enable.log 2>&1 || echo 1 >$S/enable.rc
        diag "setup done after $(cut -d' ' -f1 /proc/uptime) s of uptime"
        exit 0
fi

# ===========================================================================
# Test phase.
# shellcheck disable=SC1090
. $S/vars
mono() { systemctl show -p "$2" --value "$1"; }           # UNIT PROPERTY
secs() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1e6 }'; }   # µs -> s
wants() { udevadm info -q property --property=SYSTEMD_WANTS --value "$1" 2>/dev/null; }
# Loops on header files, on volume images: by inode (a loop attached inside
# partwrap's sandbox shows its backing file relative to the sandbox's bind
# mount of /var/lib/partwrap).
header_loops() { local f; for f in /var/lib/partwrap/*.header; do losetup -n -O NAME -j "$f"; done | wc -l; }
image_loops() { local f; for f in $img_a $img_b $img_c $img_d $img_e $img_u; do losetup -n -O NAME -j "$f"; done | wc -l; }
pw_units() { systemctl list-units --all --plain --no-legend 'partwrap@*' | awk '$3 == "active" || $3 == "activating" {print $1}' | sort | paste -sd' '; }

# --- the boot
mu=$(mono multi-user.target ActiveEnterTimestampMonotonic)
sd=$(grep -o 'systemd starts after [0-9.]* s' /run/partwrap-vm/init.log | head -n 1 | grep -o '[0-9.]*')
diag "boot: systemd started ${sd:-?} s after the kernel, multi-user.target reached at $(secs "$mu") s ($(awk -v a="$(secs "$mu")" -v b="${sd:-0}" 'BEGIN { printf "%.1f", a - b }') s of systemd)"
check_eq "make install DESTDIR=/ PREFIX=/usr in the VM: exit 0" 0 "$(cat $S/install.rc)"
[ "$(cat $S/install.rc)" = 0 ] || sed 's/^/#   /' $S/install.log
check_eq "systemctl enable partwrap.service (and the stand-ins): exit 0" 0 "$(cat $S/enable.rc)"
check_eq "partwrap.service is enabled" enabled "$(systemctl is-enabled partwrap.service 2>&1)"
check_eq "the unit runs the installed binary" "/usr/sbin/partwrap" \
        "$(systemctl show -p ExecStart --value partwrap.service | grep -o 'path=[^ ;]*' | head -n 1 | cut -d= -f2)"

# --- partwrap.service at boot
check_eq "partwrap.service: active (exited), Result=success, status 0" "active exited success 0" \
        "$(mono partwrap.service ActiveState) $(mono partwrap.service SubState) $(mono partwrap.service Result) $(mono partwrap.service ExecMainStatus)"
diag "systemctl status partwrap.service:"
systemctl status --no-pager --lines=20 partwrap.service 2>&1 | sed 's/^/#   /'
log=$(journalctl -b -u partwrap.service -o cat --no-pager 2>&1)
check "it created win-boot (present at boot)" grep -q '^win-boot: created' <<<"$log"
check "it created lv-data (its volume appeared 5 s into the boot)" grep -q '^lv-data: created' <<<"$log"
check "it reported hot-plug and hot-lv missing (nofail)" bash -c 'grep -q "^hot-plug: missing" <<<"$1" && grep -q "^hot-lv: missing" <<<"$1"' _ "$log"
check "no sandbox failure in the journal or on the console" bash -c '! { journalctl -b -u partwrap.service -o cat; cat /run/partwrap-vm/console; } 2>/dev/null |
        grep -E "partwrap.*(Failed at step|status=2[0-9][0-9]/|Failed to set up|Failed to (apply|install) .*(seccomp|filter)|SECCOMP|NAMESPACE)"'
probe=$(cat /run/partwrap/sandbox-probe 2>&1)
diag "sandbox probe (inside partwrap.service): $(tr '\n' ' ' <<<"$probe")"
check "  the sandbox was in force: /etc read-only, /home covered, capabilities bounded, no new privileges, seccomp" \
        bash -c 'grep -qx "etc read-only" <<<"$1" && grep -qx "home covered" <<<"$1" && ! grep -q "CapBnd:.*1ffffffffff" <<<"$1" &&
                grep -q "NoNewPrivs:.*1" <<<"$1" && grep -q "Seccomp:.*2" <<<"$1"' _ "$probe"
sec=$(systemd-analyze security partwrap.service 2>/dev/null | sed -n 's/.*Overall exposure level for partwrap.service: \([0-9.]*\).*/\1/p')
diag "systemd-analyze security partwrap.service (live, in the VM): exposure ${sec:-?}"
check "  exposure at most 3.0" awk -v e="${sec:-99}" 'BEGIN { exit !(e <= 3.0) }'
check "header files in /var/lib/partwrap (StateDirectory), mode 0600" \
        bash -c '[ "$(stat -c %a /var/lib/partwrap/win-boot.header /var/lib/partwrap/lv-data.header | sort -u)" = 600 ]'
check "both disks healthy" partwrap check win-boot lv-data
t_pw=$(mono partwrap.service ActiveEnterTimestampMonotonic)
t_pw0=$(mono partwrap.service InactiveExitTimestampMonotonic)
t_st=$(mono pw-test-storage.service ActiveEnterTimestampMonotonic)
t_lv=$(mono libvirtd.service ExecMainStartTimestampMonotonic)
diag "partwrap.service ran from $(secs "$t_pw0") s to $(secs "$t_pw") s; the storage stand-in made vg-data at $(secs "$t_st") s; the libvirtd stand-in started at $(secs "$t_lv") s"
check_eq "partwrap.service's status, once done waiting" "Found 2 of 4 volumes; not found: hot-plug, hot-lv" \
        "$(mono partwrap.service StatusText)"
check "partwrap.service waited for the late volume (finished after the storage unit)" test "$t_pw" -ge "$t_st"
check "the libvirtd stand-in started after partwrap.service was done" test "$t_lv" -ge "$t_pw"
check_eq "  and saw both disks, partwrap.service active" "win-boot present|lv-data present|partwrap.service active" \
        "$(paste -sd'|' /run/libvirtd-standin.log 2>&1)"
check "  partwrap.service is ordered Before=libvirtd.service" bash -c 'systemctl show -p Before --value partwrap.service | grep -qw libvirtd.service'

# --- hotplug
units0=$(pw_units)
diag "partwrap@ instances after boot: ${units0:-none}"
l_c=$(losetup -f --show "$img_c")
ms=$(wait_for 30 test -b /dev/mapper/hot-plug)
check "hotplug by UUID=: /dev/mapper/hot-plug appears (${ms} ms after losetup)" test "$ms" != timeout
check_eq "  through $(unit hot-plug), active" active "$(systemctl is-active "$(unit hot-plug)" 2>&1)"
check "  udev: SYSTEMD_WANTS has $(unit hot-plug)" bash -c 'grep -qwF -- "$1" <<<"$2"' _ "$(unit hot-plug)" "$(wants "$l_c")"
settle
check "  healthy" partwrap check hot-plug

l_d=$(losetup -f --show "$img_d") &&
        dmsetup create vg-hot --table "0 $(blockdev --getsz "$l_d") linear $l_d 0"
ms=$(wait_for 20 test -b /dev/mapper/hot-lv)
check "hotplug of a dm device by /dev/mapper path: /dev/mapper/hot-lv appears (${ms} ms after dmsetup create)" test "$ms" != timeout
diag "  vg-hot: SYSTEMD_WANTS='$(wants /dev/mapper/vg-hot)' PARTWRAP_UNITS='$(udevadm info -q property --property=PARTWRAP_UNITS --value /dev/mapper/vg-hot)'; $(unit hot-lv): $(systemctl is-active "$(unit hot-lv)")"

before=$(pw_units)
l_u=$(losetup -f --show "$img_u")
settle
sleep 3
check_eq "an undeclared volume starts no partwrap unit" "$before" "$(pw_units)"
check "  udev: no partwrap unit in its SYSTEMD_WANTS" bash -c '! grep -q partwrap <<<"$1"' _ "$(wants "$l_u")"

# --- a hotplug instance waiting for its volume: STATUS, network namespace
printf '[slow]\nvolume = UUID=%s\ntimeout = 60\n' "$uuid_e" >/etc/partwrap.d/50-slow.conf
systemctl start --no-block "$(unit slow)"
status_is_waiting() { systemctl show -p StatusText --value "$(unit slow)" | grep -q "^Waiting for 1 volume: slow (UUID=$uuid_e)"; }
ms=$(wait_for 10 status_is_waiting)
check "$(unit slow) waiting: STATUS 'Waiting for 1 volume: slow (UUID=...)'" test "$ms" != timeout
diag "  StatusText: $(systemctl show -p StatusText --value "$(unit slow)")"
check_eq "  activating" activating "$(systemctl is-active "$(unit slow)")"
pid=$(systemctl show -p MainPID --value "$(unit slow)")
check_eq "  in the host's network namespace (udev's events reach it)" "$(readlink /proc/1/ns/net)" "$(readlink "/proc/$pid/ns/net" 2>&1)"
check_eq "  its udev monitor is subscribed (netlink group 2)" 1 \
        "$(awk -v p="$pid" '$3 == p && $4 == "00000002" { n++ } END { print n + 0 }' "/proc/$pid/net/netlink" 2>/dev/null)"
t0=$(now_ms)
losetup -f "$img_e"
is_active() { [ "$(systemctl is-active "$1")" = active ]; }
ms=$(wait_for 30 is_active "$(unit slow)")
check "  volume attached: active, /dev/mapper/slow (${ms} ms after losetup)" test "$ms" != timeout -a -b /dev/mapper/slow

# --- systemctl stop partwrap.service
disks="win-boot lv-data hot-plug slow"
check "systemctl stop partwrap.service" systemctl stop partwrap.service
settle
check_eq "  partwrap.service inactive" inactive "$(systemctl is-active partwrap.service)"
gone=""
for n in $disks hot-lv; do dmsetup info "$n" >/dev/null 2>&1 && gone+="$n "; done
check_eq "  the disks are removed (all, including hotplugged ones)" "" "$gone"
check_eq "  no loop device left on a header file" 0 "$(header_loops)"
check_eq "  loops left: the volumes' only" "$(image_loops)" "$(losetup -n -O NAME | wc -l)"
check_eq "  the hotplug instances stopped with it" "" "$(pw_units)"
check "  header files kept" test -f /var/lib/partwrap/win-boot.header

# plugged again after the stop: udev starts the instance again
losetup -d "$l_c"
settle
l_c=$(losetup -f --show "$img_c")
ms=$(wait_for 30 test -b /dev/mapper/hot-plug)
check "hot-plug plugged again after the stop: its disk again (${ms} ms)" test "$ms" != timeout

disks="win-boot lv-data hot-plug hot-lv slow"
check "systemctl start partwrap.service" systemctl start partwrap.service
settle
missing=""
for n in $disks; do [ -b "/dev/mapper/$n" ] || missing+="$n "; done
check_eq "  every disk whose volume is there is back" "" "$missing"
check "  all healthy" partwrap check $disks
check_eq "  one loop per disk" 5 "$(header_loops)"
systemctl stop partwrap.service
settle
check_eq "stopped again: no loop device left on a header file" 0 "$(header_loops)"

for v in a b c d e u; do
        h=hash_$v i=img_$v
        check_eq "volume $v unchanged" "${!h}" "$(sha256sum <"${!i}" | cut -d' ' -f1)"
done
tap_done
