#!/usr/bin/env bash
# docs/json-schema.json: a valid draft 2020-12 schema that accepts what
# partwrap prints without devices (validate, mkheader, show, and apply -n,
# check and stop over disks that do not exist) and rejects documents that
# break its rules. tests/vm/scenarios/60-json.sh validates the reports of
# real devices: created, unchanged, removed, failed, missing.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"

if [ ! -x "$PARTWRAP" ]; then
        echo "$PARTWRAP is not built (run make)"
        exit 77
fi
# shellcheck source=../lib/json-schema.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/json-schema.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "the schema is a valid draft 2020-12 schema" "$PY" -c "
import json, jsonschema
jsonschema.Draft202012Validator.check_schema(json.load(open('$SCHEMA')))"

# valid DESC RC EXPR... -- CMD...: CMD exits RC exactly, its stdout
# validates, each EXPR holds, and the document's exit_status (where it has
# one) is RC too.
valid() {
        local desc=$1 want=$2 out rc
        shift 2
        local -a exprs=()
        while [ "$1" != -- ]; do exprs+=("$1"); shift; done
        shift
        "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ "$rc" -ne "$want" ]; then
                not_ok "$desc (exit $rc, expected $want)"
                printf '%s\n' "stdout:" "$(cat "$tmp/out")" "stderr:" "$(cat "$tmp/err")" | sed 's/^/#   /'
        elif out=$("$PY" "$JCHECK" "$SCHEMA" "${exprs[@]}" "d.get('exit_status', $rc) == $rc" <"$tmp/out"); then
                ok "$desc"
        else
                not_ok "$desc"
                printf '%s\n' "$out" "stderr:" "$(cat "$tmp/err")" | sed 's/^/#   /'
        fi
}
# invalid DESC JSON: the schema rejects the document.
invalid() {
        if printf '%s' "$2" | "$PY" "$JCHECK" "$SCHEMA" >"$tmp/out"; then
                not_ok "rejects $1"
                sed 's/^/#   /' "$tmp/out"
        else
                ok "rejects $1"
        fi
}

valid "validate --json of the example configuration" 0 'd["valid"] and len(d["disks"]) == 2' -- \
        "$PARTWRAP" validate --json "$TOP/conf/partwrap.conf"
valid "validate --json of a broken one" 2 'not d["valid"] and d["errors"] > 0' -- \
        "$PARTWRAP" validate --json "$TOP/tests/offline/bad-configs/05-key-twice.conf"
valid "mkheader --json, GPT" 0 'd["table"][2] == "133120 33 linear LOOP 2048"' -- \
        "$PARTWRAP" mkheader --json --size 64MiB -o "$tmp/a.header"
valid "mkheader --json, MBR at 4096-byte sectors" 0 'len(d["table"]) == 2 and d["sector_size"] == 4096' -- \
        "$PARTWRAP" mkheader --json --table mbr --sector-size 4096 --size 1GiB -o "$tmp/b.header"

# Disks whose volumes do not exist: names no machine has.
conf=$tmp/conf
mkdir -p "$conf"
n=pwjson$$
cat >"$conf/a.conf" <<EOF
[$n-gone]
volume = UUID=00000000-dead-beef-0000-$(printf '%012d' $$)
header = $tmp/h/gone.header
timeout = 0

[$n-gone-nofail]
volume = LABEL=$n-NOWHERE
header = $tmp/h/nofail.header
table = mbr
timeout = 0
nofail = yes
EOF
pw() { "$PARTWRAP" -c "$conf" "$@"; }
valid "show --json, volumes not present" 0 \
        "all(x['volume'] is None and x['regions'] == [] and x['problem'] == 'volume not present' for x in d['disks'])" -- \
        pw show --json
valid "apply -n --json: failed, and missing (nofail)" 1 \
        "disk('$n-gone')['state'] == 'failed'" "disk('$n-gone-nofail')['state'] == 'missing'" "d['dry_run']" -- \
        pw apply -n --json
valid "check --json: unhealthy, and missing (nofail)" 1 \
        "disk('$n-gone')['state'] == 'unhealthy'" "disk('$n-gone-nofail')['state'] == 'missing'" -- \
        pw check --json
valid "stop --json: absent" 0 "all(x['state'] == 'absent' and not x['changed'] for x in d['disks'])" -- \
        pw stop --json
printf '[%s-bad]\nvolume = relative\n' "$n" >"$conf/b.conf"
valid "check --json with a configuration error: exit status 2" 2 "d['config_errors'] == 1" -- pw check --json

# A volume that exists: a loop device, if this machine lets us make one.
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null &&
        truncate -s 8M "$tmp/vol.img" && mkfs.ext4 -q -F -L "$n" "$tmp/vol.img" 2>/dev/null &&
        loop=$(losetup -f --show "$tmp/vol.img" 2>/dev/null); then
        trap 'losetup -d "$loop"; rm -rf "$tmp"' EXIT
        rm "$conf/b.conf"
        printf '[%s-loop]\nvolume = %s\nheader = %s/h/loop.header\n' "$n" "$loop" "$tmp" >"$conf/c.conf"
        valid "show --json of a loop device" 0 \
                "disk('$n-loop')['regions'][1]['length'] == 8 << 20" "disk('$n-loop')['label'] == '$n'" -- \
                pw show --json "$n-loop"
        valid "apply -n --json of a loop device: would-create" 0 \
                "disk('$n-loop')['state'] == 'would-create'" "disk('$n-loop')['partition_size'] == 8 << 20" -- \
                pw apply -n --json "$n-loop"
        check "apply -n created nothing" test ! -e "$tmp/h/loop.header"
else
        skip "show and apply -n --json of a loop device" "needs root, losetup and mkfs.ext4"
fi

# What the schema must refuse.
disk='"name":"a","device":"/dev/mapper/a","volume":"/dev/dm-1","header":"/h","table_type":"gpt","partitions":[],"old_partition_size":null,"checks":[],"error":null'
layout='"sector_size":512,"partition_start":1048576,"partition_size":67108864,"table":["0 2048 linear 7:0 0","2048 131072 linear 253:1 0","133120 33 linear 7:0 2048"]'
report() { printf '{"command":"%s","dry_run":false,"config_errors":%s,"exit_status":%s,"disks":[%s]}' "$@"; }
check "the reference document is valid" bash -c "printf '%s' '$(report apply 0 0 "{$disk,$layout,\"state\":\"created\",\"changed\":true}")' | '$PY' '$JCHECK' '$SCHEMA'"
invalid "created but not changed" "$(report apply 0 0 "{$disk,$layout,\"state\":\"created\",\"changed\":false}")"
invalid "unchanged but changed" "$(report apply 0 0 "{$disk,$layout,\"state\":\"unchanged\",\"changed\":true}")"
invalid "a stop state in apply" "$(report apply 0 0 "{$disk,$layout,\"state\":\"removed\",\"changed\":true}")"
invalid "an unknown state" "$(report check 0 0 "{$disk,$layout,\"state\":\"fine\",\"changed\":false}")"
invalid "created without its layout" "$(report apply 0 0 "{$disk,\"table\":[],\"state\":\"created\",\"changed\":true}")"
invalid "failed without an error" "$(report apply 0 1 "{$disk,\"table\":[],\"state\":\"failed\",\"changed\":false}")"
invalid "failed with exit status 0" "$(report stop 0 0 "{${disk/\"error\":null/\"error\":\"busy\"},\"table\":[],\"state\":\"failed\",\"changed\":false}")"
invalid "config errors with exit status 1" "$(report apply 1 1 "")"
invalid "an unknown field" "$(report apply 0 0 "{$disk,$layout,\"state\":\"created\",\"changed\":true,\"extra\":1}")"
invalid "a table line that is not linear" "$(report apply 0 0 "{$disk,${layout/linear 7:0 0/zero},\"state\":\"created\",\"changed\":true}")"
invalid "a 1024-byte sector" "$(report apply 0 0 "{$disk,${layout/512,/1024,},\"state\":\"created\",\"changed\":true}")"
check "a grown disk is valid" bash -c "printf '%s' '$(report apply 0 0 "{${disk/\"old_partition_size\":null/\"old_partition_size\":33554432},$layout,\"state\":\"grown\",\"changed\":true}")' | '$PY' '$JCHECK' '$SCHEMA'"
invalid "grown but not changed" "$(report apply 0 0 "{${disk/\"old_partition_size\":null/\"old_partition_size\":33554432},$layout,\"state\":\"grown\",\"changed\":false}")"
invalid "grown without the old size" "$(report apply 0 0 "{$disk,$layout,\"state\":\"grown\",\"changed\":true}")"
invalid "growable in stop" "$(report stop 0 0 "{${disk/\"old_partition_size\":null/\"old_partition_size\":33554432},$layout,\"state\":\"growable\",\"changed\":false}")"
invalid "without old_partition_size" "$(report apply 0 0 "{${disk/,\"old_partition_size\":null/},$layout,\"state\":\"created\",\"changed\":true}")"
invalid "two documents" "$(report apply 0 0 "")$(report apply 0 0 "")"

tap_done
