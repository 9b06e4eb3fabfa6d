#!/usr/bin/env bash
# Hotplug through udev: `partwrap udev-match DEVNODE` and the installed rule.
#   - udev-match prints PARTWRAP_UNITS=partwrap@NAME.service (NAME escaped
#     exactly as systemd-escape does) for a declared volume, matched by path,
#     /dev/disk/by-* link, dm path, UUID= or LABEL= (with the environment udev
#     gives it), and nothing for anything else; it exits 0 always, even with
#     a broken, missing or refused configuration;
#   - `make install DESTDIR=/ PREFIX=/usr` in the VM installs binary, units
#     and rule naming /usr/sbin/partwrap; after `udevadm control --reload`, a
#     declared volume attached gets TAG systemd and SYSTEMD_WANTS with its
#     partwrap@NAME.service, on its first uevent; an undeclared one gets
#     nothing; partwrap's own /dev/mapper/NAME is ignored by the rule even
#     when a declaration names it, and so is a dm device that is not ready
#     (suspended, or marked DM_UDEV_DISABLE_OTHER_RULES_FLAG=1, DM_SUSPENDED=1
#     or SYSTEMD_READY=0), and a loop device without a backing file.
. "$(dirname "$0")/../lib.sh"

prop() { udevadm info -q property --property="$2" --value "$1" 2>/dev/null; }
# marked KEY VALUE: a change event on pw-lv left KEY=VALUE in udev's record.
marked() { udevadm trigger --action=change --settle /dev/mapper/pw-lv && [ "$(prop /dev/mapper/pw-lv "$1")" = "$2" ]; }
unit() { echo "partwrap@$(systemd-escape "$1").service"; }

i_path=$(make_image 16 ext4 pathvol) && i_uuid=$(make_image 16 ext4 uuidvol) && i_label=$(make_image 16 ext4 LBL42) &&
        i_space=$(make_image 16 ntfs "Win Data") && i_link=$(make_image 16 ext4 linkvol) && i_dm=$(make_image 16 ext4 dmvol) &&
        i_none=$(make_image 16 ext4 stranger) || exit 1
declare -A HASH
for i in $i_path $i_uuid $i_label $i_space $i_link $i_dm $i_none; do HASH[$i]=$(sha256sum <"$i"); done
uuid=$(blkid -p -o value -s UUID "$i_uuid")

# Declarations: names that need escaping ('-', '@', a leading '.') and names
# that do not ('.', ':' and '_' inside).
mkdir -p /etc/partwrap.d /tmp/h
cat >/etc/partwrap.d/42.conf <<EOC
[win-data]
volume = /dev/loop40
header = /tmp/h/win-data.header

[by.uuid]
volume = UUID=$uuid
header = /tmp/h/by.uuid.header

[lab_el:x@2]
volume = LABEL=LBL42
header = /tmp/h/label.header

[win@space]
volume = LABEL=Win Data
header = /tmp/h/space.header

[.linked]
volume = /dev/disk/by-label/linkvol
header = /tmp/h/linked.header

[lv-like]
volume = /dev/mapper/pw-lv
header = /tmp/h/lv-like.header

[pair]
volume = /dev/loop41, /dev/loop42
header = /tmp/h/pair.header
EOC
check "the configuration is valid" "$PARTWRAP" validate
pw() { "$PARTWRAP" "$@"; }

attach_all() {
        losetup /dev/loop40 "$i_path" &&
                l_uuid=$(losetup -f --show "$i_uuid") && l_label=$(losetup -f --show "$i_label") &&
                l_space=$(losetup -f --show "$i_space") && l_link=$(losetup -f --show "$i_link") &&
                l_dmlow=$(losetup -f --show "$i_dm") && l_none=$(losetup -f --show "$i_none") &&
                dmsetup create pw-lv --table "0 $(blockdev --getsz "$l_dmlow") linear $l_dmlow 0" || return 1
        settle
        d_dm=$(realpath /dev/mapper/pw-lv)
}
detach_all() {
        dmsetup remove pw-lv
        losetup -d /dev/loop40 "$l_uuid" "$l_label" "$l_space" "$l_link" "$l_dmlow" "$l_none"
        settle
}
attach_all || exit 1

# ---------------------------------------------------------------------------
# udev-match by itself, with the environment udev gives it (ID_FS_* as
# udev's blkid builtin sets them on each device).
# um DEV: runs udev-match for DEV as the rule would; prints its stdout, and
# "exit N" and stderr if it did not exit 0 quietly.
um() {
        local dev=$1 out rc
        out=$(env ID_FS_UUID="$(prop "$dev" ID_FS_UUID)" ID_FS_LABEL="$(prop "$dev" ID_FS_LABEL)" \
                ID_FS_UUID_ENC="$(prop "$dev" ID_FS_UUID_ENC)" ID_FS_LABEL_ENC="$(prop "$dev" ID_FS_LABEL_ENC)" \
                DEVLINKS="$(prop "$dev" DEVLINKS)" "$PARTWRAP" "${@:2}" udev-match "$dev" 2>/tmp/um.err)
        rc=$?
        printf '%s' "$out"
        [ "$rc" = 0 ] || printf ' [exit %s]' "$rc"
        [ -s /tmp/um.err ] && printf ' [stderr: %s]' "$(tr '\n' ' ' </tmp/um.err)"
}
check_eq "path /dev/loop40: win-data, escaped as systemd-escape does" "PARTWRAP_UNITS=$(unit win-data)" "$(um /dev/loop40)"
check_eq "  that is partwrap@win\\x2ddata.service" 'PARTWRAP_UNITS=partwrap@win\x2ddata.service' "$(um /dev/loop40)"
check_eq "UUID= with ID_FS_UUID: by.uuid" "PARTWRAP_UNITS=$(unit by.uuid)" "$(um "$l_uuid")"
check_eq "UUID= without ID_FS_UUID in the environment: nothing" "" "$(env -u ID_FS_UUID "$PARTWRAP" udev-match "$l_uuid" 2>&1)"
check_eq "LABEL= with ID_FS_LABEL: lab_el:x@2" "PARTWRAP_UNITS=$(unit lab_el:x@2)" "$(um "$l_label")"
diag "udev's ID_FS_LABEL of the 'Win Data' volume is '$(prop "$l_space" ID_FS_LABEL)', ID_FS_LABEL_ENC '$(prop "$l_space" ID_FS_LABEL_ENC)'"
check_eq "LABEL= with a space, as udev passes it: win@space" "PARTWRAP_UNITS=$(unit win@space)" "$(um "$l_space")"
check_eq "a /dev/disk/by-label link: .linked" "PARTWRAP_UNITS=$(unit .linked)" "$(um "$l_link")"
check_eq "a dm volume by /dev/mapper path, given its devnode $d_dm: lv-like" "PARTWRAP_UNITS=$(unit lv-like)" "$(um "$d_dm")"
check_eq "the dm volume's lower loop device: nothing" "" "$(um "$l_dmlow")"
check_eq "an undeclared volume: nothing, exit 0" "" "$(um "$l_none")"
check_eq "a character device (/dev/null): nothing, exit 0" "" "$(um /dev/null)"
check_eq "no such device node: nothing, exit 0" "" "$(um /dev/no-such-disk)"
check_eq "escapes: each name as systemd-escape has it ('-', '@', leading '.'; not ':', '_', inner '.')" \
        "$(for n in win-data by.uuid lab_el:x@2 .linked lv-like; do unit "$n"; done | paste -sd' ')" \
        "$(for d in /dev/loop40 "$l_uuid" "$l_label" "$l_link" "$d_dm"; do um "$d"; echo; done | sed 's/^PARTWRAP_UNITS=//' | paste -sd' ')"

# A disk of two volumes: each of them, hotplugged alone, starts the disk's
# unit, which waits for the other.
i_p1=$(make_image 8 ext4 pair1) && i_p2=$(make_image 8 ext4 pair2) && losetup /dev/loop41 "$i_p1" &&
        losetup /dev/loop42 "$i_p2" && settle || exit 1
check_eq "a disk of two volumes: its first volume names it" "PARTWRAP_UNITS=$(unit pair)" "$(um /dev/loop41)"
check_eq "  and so does its second" "PARTWRAP_UNITS=$(unit pair)" "$(um /dev/loop42)"
losetup -d /dev/loop41 /dev/loop42
settle

# A broken configuration: a bad file next to the good one, a duplicate
# declaration, a missing directory, a file instead of a directory, a
# world-writable file. udev-match says nothing about them (apply does) and
# still serves what is declared correctly.
bad=/tmp/bad && mkdir -p $bad && cp /etc/partwrap.d/42.conf $bad/
printf '[broken\nvolume = /dev/sdz\n' >$bad/10-broken.conf
printf '[win-data]\nvolume = /dev/sdy\n' >$bad/99-dup.conf
printf 'this is not ini\n[x]\nbogus-key = 1\n' >$bad/50-junk.conf
check "broken config dir: validate exits 2" bash -c '"$1" validate "$2" >/dev/null 2>&1; [ $? = 2 ]' _ "$PARTWRAP" $bad
check_eq "  udev-match still serves the good declarations, exit 0, silent" "PARTWRAP_UNITS=$(unit lab_el:x@2)" "$(um "$l_label" -c $bad)"
check_eq "  and nothing for an undeclared device" "" "$(um "$l_none" -c $bad)"
check_eq "missing config dir: nothing, exit 0" "" "$(um /dev/loop40 -c /tmp/no-such-dir)"
check_eq "config dir is a file: nothing, exit 0" "" "$(um /dev/loop40 -c /etc/hostname)"
ww=/tmp/ww && mkdir -p $ww && cp /etc/partwrap.d/42.conf $ww/ && chmod 0666 $ww/42.conf
check_eq "world-writable config file (refused): nothing, exit 0" "" "$(um /dev/loop40 -c $ww)"
detach_all

# ---------------------------------------------------------------------------
# make install in the VM (a throw-away overlay of the repo and of /), then
# the installed rule in the running udevd.
[ "$(realpath "$PARTWRAP")" = "$TOP/partwrap" ] || cp "$PARTWRAP" "$TOP/partwrap"
# -o partwrap: install the binary under test, never rebuild it here
check "make install DESTDIR=/ PREFIX=/usr" make -C "$TOP" -o partwrap install DESTDIR=/ PREFIX=/usr
read -r unitdir rulesdir < <(printf 'print-dirs:\n\t@echo $(UNITDIR) $(UDEVRULESDIR)\n' |
        make -s --no-print-directory -C "$TOP" -f Makefile -f - print-dirs PREFIX=/usr)
: "${unitdir:=/lib/systemd/system}" "${rulesdir:=/lib/udev/rules.d}"
diag "installed to /usr/sbin, $unitdir, $rulesdir"
check "  /usr/sbin/partwrap runs" /usr/sbin/partwrap --version
check "  the units run /usr/sbin/partwrap" grep -q '^ExecStart=/usr/sbin/partwrap apply' "$unitdir/partwrap.service" "$unitdir/partwrap@.service"
check "  the rule runs /usr/sbin/partwrap" grep -qF 'IMPORT{program}="/usr/sbin/partwrap udev-match $devnode"' "$rulesdir/70-partwrap.rules"
check "  no @PLACEHOLDER@ left" bash -c '! grep -n "@[A-Z]*@" "$@"' _ "$unitdir/partwrap.service" "$unitdir/partwrap@.service" "$rulesdir/70-partwrap.rules"
check "  hardening block in both units" bash -c 'grep -q ^ProtectSystem=strict "$1" && grep -q ^ProtectSystem=strict "$2"' _ "$unitdir/partwrap.service" "$unitdir/partwrap@.service"
check "udevadm control --reload" udevadm control --reload

attach_all || exit 1
wants() { prop "$1" SYSTEMD_WANTS; }
has_unit() { # DEV NAME: the device's SYSTEMD_WANTS holds NAME's unit and TAGS has systemd
        local w t
        w=$(wants "$1") t=$(prop "$1" TAGS)
        grep -qwF -- "$(unit "$2")" <<<"$w" && grep -qF :systemd: <<<"$t" ||
                { echo "SYSTEMD_WANTS='$w' TAGS='$t' PARTWRAP_UNITS='$(prop "$1" PARTWRAP_UNITS)'"; return 1; }
}
no_unit() { # DEV: udev knows DEV, and wants no partwrap unit for it
        local w info
        info=$(udevadm info -q property "$1" 2>&1) || { echo "udevadm info $1 failed: $info"; return 1; }
        w=$(wants "$1")
        ! grep -q partwrap <<<"$w$(prop "$1" PARTWRAP_UNITS)" || { echo "SYSTEMD_WANTS='$w'"; return 1; }
}
check "  (no_unit fails for a device udev does not know)" bash -c "$(declare -f prop wants no_unit); ! no_unit /dev/no-such-disk"
check "hotplug, path /dev/loop40: SYSTEMD_WANTS has $(unit win-data), TAG systemd" has_unit /dev/loop40 win-data
check "hotplug, UUID=: $(unit by.uuid)" has_unit "$l_uuid" by.uuid
check "hotplug, LABEL=: $(unit lab_el:x@2)" has_unit "$l_label" lab_el:x@2
check "hotplug, LABEL= with a space: $(unit win@space)" has_unit "$l_space" win@space
check "hotplug, a /dev/disk/by-label link, on its first uevent: $(unit .linked)" has_unit "$l_link" .linked
check "hotplug, a dm volume by /dev/mapper path, on its first uevent: $(unit lv-like)" has_unit /dev/mapper/pw-lv lv-like
check "hotplug, an undeclared volume: no partwrap unit" no_unit "$l_none"
check "  nor the dm volume's lower loop device" no_unit "$l_dmlow"
# Once udev has made the links, a second uevent matches them.
udevadm trigger --action=change --settle "$l_link" /dev/mapper/pw-lv
check "  (after a second change event: .linked)" has_unit "$l_link" .linked
check "  (after a second change event: lv-like)" has_unit /dev/mapper/pw-lv lv-like

# partwrap's own device, even when a declaration names it as a volume: the
# rule skips DM_UUID=PARTWRAP-*, and udev-match skips partwrap's disks too.
printf '[nested]\nvolume = /dev/mapper/win-data\nheader = /tmp/h/nested.header\n' >/etc/partwrap.d/43-nested.conf
check "apply win-data" pw apply win-data
settle
udevadm trigger --action=change --settle /dev/mapper/win-data
check_eq "udev-match itself names nothing for partwrap's /dev/mapper/win-data either" "" "$(um "$(realpath /dev/mapper/win-data)")"
check_eq "  the dm device is partwrap's" "PARTWRAP-win-data" "$(prop /dev/mapper/win-data DM_UUID)"
check "  but the rule ignores it: no partwrap unit wanted" no_unit /dev/mapper/win-data
check "stop win-data" pw stop win-data
settle
rm /etc/partwrap.d/43-nested.conf

# Device-mapper devices that are not ready are ignored by the rule. A real
# suspend first: the dm rules say DM_SUSPENDED=1 (and set
# DM_UDEV_DISABLE_OTHER_RULES_FLAG=1 with it); resumed, it is matched.
dmsetup suspend pw-lv
udevadm trigger --action=change --settle /dev/mapper/pw-lv
check_eq "suspended pw-lv: udev says DM_SUSPENDED=1 (setup)" 1 "$(prop /dev/mapper/pw-lv DM_SUSPENDED)"
check "  the rule ignores it: no partwrap unit wanted" no_unit /dev/mapper/pw-lv
dmsetup resume pw-lv
settle
check "a dm volume resumed after a suspend: $(unit lv-like)" has_unit /dev/mapper/pw-lv lv-like
# Then each "not ready" mark alone, set by a rule that runs just before
# partwrap's (the dm and LVM rules set them together, which would hide a
# missing line of the rule): each one on its own keeps the unit away. The
# dm rules carry DM_UDEV_DISABLE_OTHER_RULES_FLAG over synthetic events
# (IMPORT{db}); a resume, a genuine dm event, clears the marks in between.
notready=/etc/udev/rules.d/69-partwrap-test-notready.rules
mkdir -p /etc/udev/rules.d
for kv in DM_UDEV_DISABLE_OTHER_RULES_FLAG=1 DM_SUSPENDED=1 SYSTEMD_READY=0; do
        printf 'SUBSYSTEM=="block", ENV{DM_NAME}=="pw-lv", ENV{%s}="%s"\n' "${kv%%=*}" "${kv#*=}" >$notready
        udevadm control --reload
        # An event udevd took before it read the new rule goes without the
        # mark (seen once on a busy host): trigger until one carries it.
        wait_for 10 marked "${kv%%=*}" "${kv#*=}" >/dev/null
        check_eq "pw-lv marked $kv by udev (setup)" "${kv#*=}" "$(prop /dev/mapper/pw-lv "${kv%%=*}")"
        check "  the rule ignores it: no partwrap unit wanted" no_unit /dev/mapper/pw-lv
        rm -f $notready
        udevadm control --reload
        dmsetup suspend pw-lv && dmsetup resume pw-lv
        settle
        check "  unmarked (suspend, resume): $(unit lv-like) again" has_unit /dev/mapper/pw-lv lv-like
done
detach_all
check "a declared loop device detached (size 0): no partwrap unit wanted" no_unit /dev/loop40

for i in $i_path $i_uuid $i_label $i_space $i_link $i_dm $i_none; do
        check_eq "volume $(basename "$i") unchanged" "${HASH[$i]}" "$(sha256sum <"$i")"
done
tap_done
