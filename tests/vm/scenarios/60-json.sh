#!/usr/bin/env bash
# --json of apply, check, stop and show on real devices, each document
# validated against docs/json-schema.json (tests/lib/json-check.py, with
# python3-jsonschema) and its facts checked: created, unchanged, would-create,
# failed, missing (nofail), healthy, unhealthy, removed, absent,
# would-remove; "changed" tells configuration management what happened; a
# configuration error gives exit status 2 and still serves the good disks;
# the tables are the live ones.
. "$(dirname "$0")/../lib.sh"

# shellcheck source=../../lib/json-schema.sh
. "$(dirname "$0")/../../lib/json-schema.sh"

vol=$(make_volume 64 ext4 data) || exit 1
nvol=$(make_volume 32 ntfs WINDATA) || exit 1
blank=$(make_volume 16 none) || exit 1
settle
before=$(hash_dev "$vol") nbefore=$(hash_dev "$nvol")
nuuid=$(blkid -p -o value -s UUID "$nvol")
disk_conf $conf/60-json.conf good "$vol"
disk_conf $conf/60-json.conf win "UUID=$nuuid" table=mbr
disk_conf $conf/60-json.conf blank "$blank"     # no filesystem and type = auto: apply fails
disk_conf $conf/60-json.conf later LABEL=NOT-HERE timeout=0 nofail=yes

# jv DESC RC EXPR... -- ARGS...: `partwrap ARGS` exits RC, prints one
# document that the schema accepts, whose exit_status is RC, and each
# EXPR (Python over d and disk(NAME)) holds. The document is kept in $doc.
doc=/tmp/doc.json
jv() {
        local desc=$1 want_rc=$2 rc out
        shift 2
        local -a exprs=()
        while [ "$1" != -- ]; do exprs+=("$1"); shift; done
        shift
        pw "$@" >$doc 2>/tmp/doc.err
        rc=$?
        if [ "$rc" != "$want_rc" ]; then
                not_ok "$desc (exit $rc, expected $want_rc)"
                sed 's/^/#   /' $doc /tmp/doc.err
                return
        fi
        if out=$("$PY" "$JCHECK" "$SCHEMA" "d.get('exit_status', $rc) == $rc" "${exprs[@]}" <$doc); then
                ok "$desc"
        else
                not_ok "$desc"
                printf '%s\n' "$out" | sed 's/^/#   /'
                sed 's/^/#   stderr: /' /tmp/doc.err
        fi
}
# changed: what an Ansible changed_when would compute from the document.
CHANGED="any(x['changed'] for x in d['disks'])"

dm0=$(dm_count) loops0=$(loops_count)
jv "apply -n --json: would-create, failed, missing" 1 \
        "d['dry_run']" "not $CHANGED" \
        "disk('good')['state'] == 'would-create'" "disk('win')['state'] == 'would-create'" \
        "disk('good')['table'][1].endswith(' linear $vol 0')" \
        "disk('blank')['state'] == 'failed'" "'no filesystem' in disk('blank')['error']" \
        "disk('later')['state'] == 'missing'" "'not found' in disk('later')['error']" \
        -- apply -n --json
check_eq "dry run created no dm device" "$dm0" "$(dm_count)"
check "dry run created no header file" test ! -e /tmp/headers/good.header

jv "apply --json: created (changed), failed, missing" 1 \
        "$CHANGED" "not d['dry_run']" \
        "disk('good')['state'] == 'created' and disk('good')['changed']" \
        "disk('win')['state'] == 'created' and disk('win')['table_type'] == 'mbr'" \
        "disk('win')['volume'] == '$nvol'" \
        "disk('good')['partition_start'] == 1048576 and disk('good')['partition_size'] == 64 << 20" \
        "disk('good')['sector_size'] == 512 and len(disk('good')['table']) == 3 and len(disk('win')['table']) == 2" \
        "disk('blank')['state'] == 'failed' and not disk('blank')['changed']" \
        "disk('later')['state'] == 'missing' and not disk('later')['changed']" \
        -- apply --json
settle
check "/dev/mapper/good exists" test -b /dev/mapper/good
check_eq "the report's table is the live one" "$(dmsetup table good)" \
        "$(json_get '"\n".join(k["table"])' <$doc)"

jv "apply --json again: unchanged, not changed" 0 \
        "not $CHANGED" "disk('good')['state'] == 'unchanged'" "disk('win')['state'] == 'unchanged'" \
        "disk('good')['error'] is None" \
        -- apply --json good win
jv "apply --json of every disk: still exit 1 for blank" 1 \
        "not $CHANGED" "disk('blank')['state'] == 'failed'" -- apply --json

jv "check --json: healthy, every check ok, read-through done" 0 \
        "all(x['state'] == 'healthy' for x in d['disks'])" \
        "[c['name'] for c in disk('good')['checks']] == ['config', 'volume', 'header', 'loop', 'dm', 'read']" \
        -- check --json good win
jv "check --json: unhealthy, missing" 1 \
        "disk('blank')['state'] == 'unhealthy'" "disk('later')['state'] == 'missing'" \
        "any(c['status'] == 'fail' for c in disk('blank')['checks'])" \
        -- check --json

jv "show --json: the live table, matching the layout" 0 \
        "disk('good')['dm_state'] == 'active' and disk('good')['table_live'] and disk('good')['table_matches']" \
        "[r['kind'] for r in disk('good')['regions']] == ['head', 'partition', 'tail']" \
        "disk('good')['regions'][1]['length'] == 64 << 20 and disk('good')['header_exists']" \
        "disk('later')['volume'] is None and disk('later')['problem'] == 'volume not present'" \
        "disk('win')['partition_type_code'] == '0x07'" \
        -- show --json
out=$(pw show good)
printf '%s\n' "$out" | sed 's/^/#   /'
check "show draws partition 1 over the volume" grep -qE '^ +\| partition 1 = the volume +64 MiB \|' <<<"$out"
check "show prints the live table" grep -qF "device-mapper table of /dev/mapper/good (live" <<<"$out"

# A configuration error elsewhere: exit status 2, the good disks still served.
printf '[broken]\nvolume = relative/path\n' >$conf/61-broken.conf
jv "apply --json with a configuration error: exit 2, good disks served" 2 \
        "d['config_errors'] == 1" "disk('good')['state'] == 'unchanged'" \
        -- apply --json good
rm $conf/61-broken.conf
jv "an undeclared name is a usage error" 2 "d['disks'] == []" -- check --json nosuchdisk

# stop: refused while open, dry run, then removed.
exec 3</dev/mapper/good
jv "stop --json of an open disk: failed, says in use" 1 \
        "disk('good')['state'] == 'failed' and 'in use' in disk('good')['error']" "not $CHANGED" \
        -- stop --json good
exec 3<&-
settle
jv "stop -n --json: would-remove" 0 \
        "disk('good')['state'] == 'would-remove' and d['dry_run']" "not $CHANGED" \
        -- stop -n --json good
check "dry run removed nothing" test -b /dev/mapper/good
jv "stop --json: removed (changed), absent" 0 \
        "$CHANGED" "disk('good')['state'] == 'removed'" "disk('win')['state'] == 'removed'" \
        "disk('blank')['state'] == 'absent'" "disk('later')['state'] == 'absent'" \
        "len(disk('good')['table']) == 3" \
        -- stop --json
jv "stop --json again: all absent, nothing changed" 0 \
        "not $CHANGED" "all(x['state'] == 'absent' for x in d['disks'])" \
        -- stop --json
jv "check --json after stop: unhealthy, dm not active" 1 \
        "disk('good')['state'] == 'unhealthy'" \
        "[c['status'] for c in disk('good')['checks'] if c['name'] == 'dm'] == ['fail']" \
        -- check --json good
jv "show --json after stop: absent, placeholders" 0 \
        "disk('good')['dm_state'] == 'absent' and not disk('good')['table_live']" \
        "disk('good')['table'][0] == '0 2048 linear LOOP 0'" \
        -- show --json good
settle
check_eq "no dm device left" "$dm0" "$(dm_count)"
check_eq "no loop left" "$loops0" "$(loops_count)"

check_eq "ext4 volume unchanged" "$before" "$(hash_dev "$vol")"
check_eq "ntfs volume unchanged" "$nbefore" "$(hash_dev "$nvol")"
tap_done
