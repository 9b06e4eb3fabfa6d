#!/usr/bin/env bash
# apply -n prints the plan and the tables and changes nothing; --json reports
# "changed" truthfully for apply and stop, in one document on stdout.
. "$(dirname "$0")/../lib.sh"

gv=$(make_volume 32 ext4 dry) || exit 1
mv_=$(make_volume 16 vfat DRYM) || exit 1
settle
h_g=$(hash_dev "$gv") h_m=$(hash_dev "$mv_")
disk_conf $conf/28-disks.conf dg "$gv"
disk_conf $conf/28-disks.conf dm-mbr "$mv_" table=mbr
gsec=$(blockdev --getsz "$gv") msec=$(blockdev --getsz "$mv_")
# For json_get: "NAME STATE CHANGED" of each disk of the report.
EACH='*["%s %s %s" % (x["name"], x["state"], x["changed"]) for x in d["disks"]]'
state() { dmsetup ls 2>&1; losetup -a 2>&1; ls -la /tmp/headers 2>&1; }

loops0=$(loops_count) dm0=$(dm_count)
state0=$(state)
out=$(pw apply -n 2>/tmp/err)
check_eq "apply -n exits 0" 0 "$?"
check_eq "apply -n: nothing on stderr" "" "$(cat /tmp/err)"
check_eq "apply -n: both disks would-create" "dg: would-create|dm-mbr: would-create" \
        "$(states <<<"$out")"
check "apply -n: would create the header files" bash -c \
        'grep -q "would create header /tmp/headers/dg.header" <<<"$1" && grep -q "would create header /tmp/headers/dm-mbr.header" <<<"$1"' _ "$out"
check "apply -n: would create /dev/mapper/dg with the table" grep -q "would create /dev/mapper/dg with the table:" <<<"$out"
check_eq "apply -n: dg's table (head, volume, tail)" \
        "0 2048 linear LOOP 0|2048 $gsec linear $gv 0|$((2048 + gsec)) 33 linear LOOP 2048" \
        "$(sed -n '/would create \/dev\/mapper\/dg /,/^[a-z]/p' <<<"$out" | grep -E '^ +[0-9]' | sed 's/^ *//' | tr '\n' '|' | sed 's/|$//')"
check_eq "apply -n: dm-mbr's table (head, volume, no tail)" \
        "0 2048 linear LOOP 0|2048 $msec linear $mv_ 0" \
        "$(sed -n '/would create \/dev\/mapper\/dm-mbr /,$p' <<<"$out" | grep -E '^ +[0-9]' | sed 's/^ *//' | tr '\n' '|' | sed 's/|$//')"
check "no header file, not even the directory" test ! -e /tmp/headers
check_eq "no loop" "$loops0" "$(loops_count)"
check_eq "no dm device" "$dm0" "$(dm_count)"
json=$(pw apply -n --json 2>/dev/null)
check_eq "apply -n --json: dry_run true, would-create, changed false, exit 0" \
        "True dg would-create False dm-mbr would-create False 0" \
        "$(json_get 'd["dry_run"]' "$EACH" 'd["exit_status"]' <<<"$json")"
check_eq "apply -n --json: dg's table has 3 lines, the tail at 2048 + volume" "3 $((2048 + gsec)) 33 linear LOOP 2048" \
        "$(json_get 'len(k["table"])' 'k["table"][2]' <<<"$json")"
check_eq "nothing changed by the dry runs (dm, loops, header dir)" "$state0" "$(state)"

# apply --json: created, changed true; again: unchanged, changed false.
json=$(pw apply --json 2>/tmp/err)
check_eq "apply --json exits 0" 0 "$?"
check_eq "apply --json: one document, created, changed true" "False dg created True dm-mbr created True 0" \
        "$(json_get 'd["dry_run"]' "$EACH" 'd["exit_status"]' <<<"$json")"
lmm=$(lsblk -dn -o MAJ:MIN "$(losetup -n -O NAME -j /tmp/headers/dg.header)" | tr -d ' ')
check_eq "apply --json: dg's table is the live one" "$(dmsetup table dg | tr '\n' '|')" \
        "$(json_get '"|".join(k["table"]) + "|"' <<<"$json")"
check "apply --json: dg's table reads the header's loop ($lmm)" grep -q "linear $lmm 0" <<<"$(json_get 'k["table"][0]' <<<"$json")"
settle
table_dg=$(dmsetup table dg) table_m=$(dmsetup table dm-mbr) loops1=$(loops_count)
hdr1=$(sha256sum /tmp/headers/*.header)
json=$(pw apply --json 2>/dev/null)
check_eq "second apply --json: unchanged, changed false" "dg unchanged False dm-mbr unchanged False 0" \
        "$(json_get "$EACH" 'd["exit_status"]' <<<"$json")"
out=$(pw apply -n 2>&1)
check_eq "apply -n on live disks: unchanged, exit 0" "0 dg: unchanged|dm-mbr: unchanged" \
        "$? $(states <<<"$out")"
check_eq "  no 'would create' line" "" "$(grep 'would' <<<"$out")"
check_eq "nothing changed (tables, loops, headers)" "$table_dg|$table_m|$loops1|$hdr1" \
        "$(dmsetup table dg)|$(dmsetup table dm-mbr)|$(loops_count)|$(sha256sum /tmp/headers/*.header)"

# stop -n and stop --json
out=$(pw stop -n 2>&1)
check_eq "stop -n: would-remove both, exit 0" "0 dg: would-remove|dm-mbr: would-remove" \
        "$? $(states <<<"$out")"
check "  both devices are still there" bash -c 'dmsetup info dg >/dev/null && dmsetup info dm-mbr >/dev/null'
json=$(pw stop -n --json 2>/dev/null)
check_eq "stop -n --json: would-remove, changed false" "True dg would-remove False dm-mbr would-remove False" \
        "$(json_get 'd["dry_run"]' "$EACH" <<<"$json")"
json=$(pw stop --json dg 2>/dev/null)
check_eq "stop --json dg: removed, changed true, only dg reported" "stop 1 dg removed True 0" \
        "$(json_get 'd["command"]' 'len(d["disks"])' "$EACH" 'd["exit_status"]' <<<"$json")"
json=$(pw stop --json 2>/dev/null)
check_eq "stop --json (all): dg absent/false, dm-mbr removed/true" "dg absent False dm-mbr removed True 0" \
        "$(json_get "$EACH" 'd["exit_status"]' <<<"$json")"
json=$(pw stop --json 2>/dev/null)
check_eq "stop --json again: both absent, changed false" "dg absent False dm-mbr absent False 0" \
        "$(json_get "$EACH" 'd["exit_status"]' <<<"$json")"
settle
check_eq "no dm device left" "$dm0" "$(dm_count)"
check_eq "no loop left" "$loops0" "$(loops_count)"

# With headers present, the dry run plans only the dm devices.
out=$(pw apply -n 2>&1)
check_eq "apply -n with kept headers: would-create, exit 0" "0 dg: would-create" "$? $(states dg <<<"$out")"
check_eq "  no 'would create header' line" "" "$(grep 'would create header' <<<"$out")"
check_eq "  headers untouched" "$hdr1" "$(sha256sum /tmp/headers/*.header)"
check_eq "  no loop" "$loops0" "$(loops_count)"

check_eq "GPT volume unchanged" "$h_g" "$(hash_dev "$gv")"
check_eq "MBR volume unchanged" "$h_m" "$(hash_dev "$mv_")"
tap_done
