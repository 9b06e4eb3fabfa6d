#!/usr/bin/env bash
# Device-mapper devices partwrap does not own (made by hand with dmsetup,
# under the names of declared disks): apply, check and stop refuse them by
# name and leave them exactly as they were, attach no loop for them, create
# no header for them, and still serve the disk that is declared correctly.
. "$(dirname "$0")/../lib.sh"

good=$(make_volume 32 ext4 good) || exit 1
v1=$(make_volume 16 ext4 f1) || exit 1
v2=$(make_volume 16 ext4 f2) || exit 1
settle
h_good=$(hash_dev "$good") h_v1=$(hash_dev "$v1") h_v2=$(hash_dev "$v2")
disk_conf $conf/24-disks.conf alien "$v1"
disk_conf $conf/24-disks.conf good "$good"
disk_conf $conf/24-disks.conf lvm-ish "$v2"

# alien: a zero target, no DM UUID. lvm-ish: a linear map of its own declared
# volume (the table partwrap's middle segment would have, at offset 0) with
# someone else's UUID.
dmsetup create alien --table "0 4096 zero" || exit 1
v2sec=$(blockdev --getsz "$v2")
dmsetup create lvm-ish --uuid LVM-notpartwrap0123 --table "0 $v2sec linear $v2 0" || exit 1
settle
t_alien=$(dmsetup table alien) t_lvm=$(dmsetup table lvm-ish)
i_alien=$(dmsetup info -c --noheadings -o name,uuid,attr,major,minor alien)
i_lvm=$(dmsetup info -c --noheadings -o name,uuid,attr,major,minor lvm-ish)
unchanged() {
        [ "$(dmsetup table alien)" = "$t_alien" ] && [ "$(dmsetup table lvm-ish)" = "$t_lvm" ] &&
                [ "$(dmsetup info -c --noheadings -o name,uuid,attr,major,minor alien)" = "$i_alien" ] &&
                [ "$(dmsetup info -c --noheadings -o name,uuid,attr,major,minor lvm-ish)" = "$i_lvm" ]
}

loops0=$(loops_count) dm0=$(dm_count)
out=$(pw apply 2>/tmp/err)
rc=$? err=$(cat /tmp/err)
check_eq "apply exits 1 (two disks failed)" 1 "$rc"
check "apply names alien as not partwrap's" grep -q "alien:.*/dev/mapper/alien.*not partwrap's" <<<"$err"
check "apply names lvm-ish as not partwrap's, with its UUID" \
        grep -q "lvm-ish:.*not partwrap's.*LVM-notpartwrap0123" <<<"$err"
diag "apply said: $(tr '\n' ' ' <<<"$err")"
check_eq "report: alien failed, good created, lvm-ish failed" "alien: failed|good: created|lvm-ish: failed" \
        "$(states <<<"$out")"
check "the foreign devices are untouched (table, uuid, state, devno)" unchanged
check_eq "exactly one new dm device (good)" $((dm0 + 1)) "$(dm_count)"
check_eq "exactly one new loop (good's header), none for the foreign names" $((loops0 + 1)) "$(loops_count)"
check "no loop bound to a foreign disk's header path" \
        test -z "$(losetup -n -O NAME -j /tmp/headers/alien.header 2>/dev/null)$(losetup -n -O NAME -j /tmp/headers/lvm-ish.header 2>/dev/null)"
check "no header file for alien" test ! -e /tmp/headers/alien.header
check "no header file for lvm-ish" test ! -e /tmp/headers/lvm-ish.header
check_eq "good: PARTWRAP uuid" PARTWRAP-good "$(dmsetup info -c --noheadings -o uuid good 2>&1)"
check "good: sgdisk -v clean" bash -c "sgdisk -v /dev/mapper/good | grep -q 'No problems found'"
check "check good alone: healthy (exit 0)" pw check good

json=$(pw apply --json 2>/dev/null)
check_eq "apply --json: states and changed flags" "alien failed False|good unchanged False|lvm-ish failed False|1" \
        "$(json_get '"|".join("%s %s %s" % (x["name"], x["state"], x["changed"]) for x in d["disks"]) + "|%d" % d["exit_status"]' <<<"$json")"
check "apply --json: the error names the foreign UUID" \
        grep -q "LVM-notpartwrap0123" <<<"$(json_get 'd["disks"][2]["error"]' <<<"$json")"
check "still untouched after a second apply" unchanged

out=$(pw check 2>&1)
check_eq "check exits 1" 1 "$?"
check "check says alien is not partwrap's" grep -q "/dev/mapper/alien is not partwrap's" <<<"$out"
check "check says lvm-ish is not partwrap's" grep -q "/dev/mapper/lvm-ish is not partwrap's" <<<"$out"
check_eq "check: good healthy" "good: healthy" "$(grep '^good:' <<<"$out")"

out=$(pw stop alien 2>&1)
check_eq "stop alien exits 1" 1 "$?"
check "  and says it is not partwrap's" grep -q "alien.*not partwrap's" <<<"$out"
check "  alien still exists" dmsetup info alien
out=$(pw stop 2>&1)
check_eq "stop (all) exits 1" 1 "$?"
check "  refuses both foreign devices" bash -c 'grep -q "alien.*not partwrap" <<<"$1" && grep -q "lvm-ish.*not partwrap" <<<"$1"' _ "$out"
check_eq "  report: good removed" "good: removed" "$(grep '^good:' <<<"$out")"
settle
check_no_disk good "$loops0"
check "the foreign devices are untouched after stop" unchanged
check_eq "the foreign devices still read as before (zero target)" \
        "$(head -c 2097152 /dev/zero | sha256sum | cut -d' ' -f1)" "$(hash_dev /dev/mapper/alien)"

dmsetup remove alien lvm-ish
settle
check_eq "volume good unchanged" "$h_good" "$(hash_dev "$good")"
check_eq "volume of alien unchanged" "$h_v1" "$(hash_dev "$v1")"
check_eq "volume of lvm-ish unchanged" "$h_v2" "$(hash_dev "$v2")"
tap_done
