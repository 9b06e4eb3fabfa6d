#!/usr/bin/env bash
# Concurrent runs on the same configuration (the boot unit, the units udev
# starts and an administrator at once): per-disk locks in /run/partwrap.
#   - six concurrent `apply` of 3 disks: one creates each disk, the others
#     find it unchanged; exactly one dm device and one loop per disk, one
#     header file each, all healthy (three rounds);
#   - mixes of concurrent `stop`, `apply` and `check`: every disk ends either
#     fully present and healthy or fully absent, no stray loop; no `check`
#     ever sees a half-built disk (five rounds);
#   - a final apply converges, a final stop leaves nothing.
. "$(dirname "$0")/../lib.sh"

H=/tmp/h41
NAMES="d-one d-two d-three"
declare -A VOL HASH
for n in $NAMES; do
        VOL[$n]=$(make_volume 32 ext4 "$n") || exit 1
        HASH[$n]=$(hash_dev "${VOL[$n]}")
        disk_conf $conf/41.conf "$n" "${VOL[$n]}" "header=$H/$n.header" timeout=10
done
settle
loops0=$(loops_count) dm0=$(dm_count)

# run_all ID:CMD[,ARG...]...: starts every "partwrap CMD ARG..." at once (after a common
# barrier); waits for all; OUT/ID.out, OUT/ID.err, OUT/ID.rc.
OUT=/tmp/runs
run_all() {
        local spec id pids=()
        rm -rf $OUT /tmp/go && mkdir -p $OUT
        for spec in "$@"; do
                id=${spec%%:*}
                spec=${spec//,/ }
                # shellcheck disable=SC2086
                (
                        while [ ! -e /tmp/go ]; do sleep 0.01; done
                        pw ${spec#*:} >$OUT/$id.out 2>$OUT/$id.err
                        echo $? >$OUT/$id.rc
                ) &
                pids+=($!)
        done
        sleep 0.3
        touch /tmp/go
        wait "${pids[@]}"
}

# loops_on NAME: loop devices bound to NAME's header file.
loops_on() { losetup -n -O NAME -j "$H/$1.header" 2>/dev/null | wc -l; }
ours() { dmsetup info -c --noheadings -o uuid 2>/dev/null | grep -c '^PARTWRAP-'; }

# consistent: each disk fully present and healthy, or fully absent; no stray
# loop; nothing but header files in the header directory. Prints the state.
consistent() {
        local n present=0 bad=0 state=""
        for n in $NAMES; do
                if dmsetup info "$n" >/dev/null 2>&1; then
                        present=$((present + 1))
                        state+="$n=present "
                        [ "$(loops_on "$n")" = 1 ] || { echo "$n: present but $(loops_on "$n") loops on its header"; bad=1; }
                        pw check "$n" >/tmp/check.out 2>&1 || { echo "$n: present but check fails:"; cat /tmp/check.out; bad=1; }
                else
                        state+="$n=absent "
                        [ "$(loops_on "$n")" = 0 ] || { echo "$n: absent but $(loops_on "$n") loops on its header"; bad=1; }
                fi
        done
        [ "$(loops_count)" = $((loops0 + present)) ] || { echo "stray loops: $(loops_count) attached, expected $((loops0 + present))"; losetup -a; bad=1; }
        [ "$(dm_count)" = $((dm0 + present)) ] || { echo "stray dm devices: $(dm_count), expected $((dm0 + present))"; bad=1; }
        local extra
        extra=$(find $H -mindepth 1 -maxdepth 1 ! -name 'd-one.header' ! -name 'd-two.header' ! -name 'd-three.header' -printf '%f ')
        [ -z "$extra" ] || { echo "stray files in $H: $extra"; bad=1; }
        echo "$state"
        return $bad
}

# checks_sane ID...: every concurrent `check --json` saw each disk either
# healthy, or absent (only "dm: not active" and "header: missing" failing).
checks_sane() {
        python3 - "$@" <<'PY'
import json, sys
bad = 0
for f in sys.argv[1:]:
    try:
        doc = json.load(open(f))
    except Exception as e:
        print(f"{f}: not JSON: {e}"); bad = 1; continue
    for d in doc["disks"]:
        for c in d["checks"]:
            if c["status"] == "ok":
                continue
            if c["name"] == "dm" and "not active" in c["message"]:
                continue
            if c["name"] == "header" and "missing" in c["message"]:
                continue
            print(f"{f}: {d['name']}: half-built? {c['name']}: {c['message']}"); bad = 1
sys.exit(bad)
PY
}

# ---------------------------------------------------------------------------
# Six concurrent applies, three rounds.
for round in 1 2 3; do
        run_all a1:apply a2:apply a3:apply a4:apply a5:apply a6:apply
        settle
        check_eq "round $round: six concurrent applies all exit 0" "0 0 0 0 0 0" "$(cat $OUT/a{1..6}.rc | xargs)"
        for n in $NAMES; do
                created=$(cat $OUT/a*.out | grep -c "^$n: created")
                unchanged=$(cat $OUT/a*.out | grep -c "^$n: unchanged")
                check_eq "  $n: created by exactly one, unchanged for the five others" "1 5" "$created $unchanged"
                check_eq "  $n: one dm device, one loop on its header" "1 1" \
                        "$(dmsetup info -c --noheadings -o name | grep -cx "$n") $(loops_on "$n")"
        done
        check_eq "  three partwrap dm devices, three more loops" "3 $((loops0 + 3))" "$(ours) $(loops_count)"
        check "  all healthy" pw check
        check_eq "  three header files, nothing else" "d-one.header d-three.header d-two.header" "$(ls -A $H | sort | xargs)"
        if [ "$round" != 3 ]; then
                check "  stop all" pw stop
                settle
                check_eq "  all gone, no loop" "$dm0 $loops0" "$(dm_count) $(loops_count)"
                # round 2 also re-creates the header files
                [ "$round" = 1 ] && rm -f $H/*.header
        fi
done
grep -h . $OUT/*.err | sort | uniq -c | sed 's/^/# stderr: /'

# ---------------------------------------------------------------------------
# Mixes of stop, apply and check, five rounds, starting from all present.
mixes=(
        "s1:stop a1:apply s2:stop a2:apply c1:check,--json"
        "a1:apply s1:stop,d-one a2:apply,d-two s2:stop c1:check,--json a3:apply,d-three s3:stop,d-two,d-three"
        "s1:stop s2:stop a1:apply,d-one c1:check,--json s3:stop,d-one c2:check,--json a2:apply"
        "a1:apply s1:stop a2:apply s2:stop a3:apply s3:stop c1:check,--json c2:check,--json"
        "s1:stop a1:apply,d-three a2:apply,d-one,d-two s2:stop,d-three s3:stop c1:check,--json"
)
round=0
for mix in "${mixes[@]}"; do
        round=$((round + 1))
        # shellcheck disable=SC2086
        run_all $mix
        settle
        rcs="" bad=""
        for f in $OUT/*.rc; do
                id=$(basename "$f" .rc)
                rc=$(cat "$f")
                rcs+="$id=$rc "
                case $id:$rc in
                a*:0 | s*:0 | c*:0 | c*:1) ;;
                *) bad+="$id exited $rc: $(tr '\n' ' ' <$OUT/$id.err) " ;;
                esac
        done
        if [ -z "$bad" ]; then ok "mix $round: stop/apply/check exit as expected ($rcs)"; else not_ok "mix $round: exits ($rcs)"; diag "$bad"; fi
        if state=$(consistent 2>&1); then
                ok "mix $round: consistent: $(tail -n 1 <<<"$state")"
        else
                not_ok "mix $round: consistent"
                sed 's/^/#   /' <<<"$state"
        fi
        check "mix $round: no concurrent check saw a half-built disk" checks_sane $OUT/c*.out
done

# ---------------------------------------------------------------------------
check "final apply" pw apply
settle
check "  all healthy" pw check
check_eq "  one loop per disk" "1 1 1" "$(for n in $NAMES; do loops_on "$n"; done | xargs)"
check "final stop" pw stop
settle
check_eq "  nothing left: no dm device, no loop" "$dm0 $loops0" "$(dm_count) $(loops_count)"
for n in $NAMES; do
        check_eq "volume $n unchanged" "${HASH[$n]}" "$(hash_dev "${VOL[$n]}")"
done
tap_done
