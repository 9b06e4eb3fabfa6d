#!/usr/bin/env bash
# Crash consistency (SPEC invariant 4). The fault build (make
# build/fault/partwrap, src/fault.h) is SIGKILLed at every fault point that
# apply and stop pass (found with PARTWRAP_FAULT_TRACE=1, from a fresh state
# and with the header files already there, each passage of a point once),
# then at random moments (kill -9 after a random delay). After each kill:
# no header file is torn (absent, or byte-identical to the one a clean apply
# writes: the GUIDs are derived, so the bytes are too) and no loop is bound
# to a header without a dm device; then the release binary converges: apply
# exits 0, check passes, exactly one loop per disk is bound to its header,
# no temp file is left next to the headers.
#
# Two disks, so that points pass twice and a kill can fall between disks:
# [gpt] with its header on a tmpfs (O_TMPFILE + linkat) and [mbr] with its
# header on the VM's overlay root, which has no O_TMPFILE: the named temp
# file fallback of header.c.
#
# Environment: TEST_FAULT_PARTWRAP (default build/fault/partwrap, built on
# the host before the VM boots), TEST_CRASH_RANDOM (random kills per
# command, default 10).
. "$(dirname "$0")/../fault.sh"
RANDOM_KILLS=${TEST_CRASH_RANDOM:-5}

conf=/tmp/conf && mkdir -p $conf
mkdir -p /tmp/headers && mount -t tmpfs -o mode=0755 hdrs /tmp/headers
gv=$(make_volume 32 ext4 crashg) || exit 1
mv_=$(make_volume 32 ntfs CRASHM) || exit 1
settle
h_g=$(hash_dev "$gv") h_m=$(hash_dev "$mv_")
HG=/tmp/headers/gpt.header HM=/var/lib/partwrap-crash/mbr.header
cat >$conf/50-disks.conf <<EOC
[gpt]
volume = $gv
header = $HG

[mbr]
volume = $mv_
table = mbr
header = $HM
EOC
chmod 600 $conf/50-disks.conf
pw() { "$PARTWRAP" -c $conf "$@"; }
fpw() { "$FAULT" -c $conf "$@"; }
DISKS="gpt mbr"
hdr_of() { case $1 in gpt) echo $HG ;; mbr) echo $HM ;; esac; }

# loops_for FILE: loop devices bound to FILE, in $LOOPS (snapshot_loops).
snapshot_loops() { LOOPS=$(losetup -n -l -O BACK-FILE); }
loops_for() { sed 's/ *(deleted)$//' <<<"$LOOPS" | grep -cxF -- "$1"; }
# temp files of header.c's fallback: ".NAME.0123456789abcdef"
temps() { find /tmp/headers /var/lib/partwrap-crash -maxdepth 1 -name '.*.header.*' 2>/dev/null; }
# udev cookies (System V semaphores of libdevmapper) in use.
cookies() { dmsetup udevcookies 2>/dev/null | grep -c '^0x'; }

# The reference: a clean apply with the release binary, timed.
t0=$(now_ms)
check "reference apply" pw apply
t_apply=$(($(now_ms) - t0))
settle
check "reference check" pw check
declare -A REF
for d in $DISKS; do REF[$d]=$(sha256sum <"$(hdr_of $d)" | cut -d' ' -f1); done
t0=$(now_ms)
check "reference stop" pw stop
t_stop=$(($(now_ms) - t0))
settle
diag "apply takes $t_apply ms, stop $t_stop ms"
loops0=$(loops_count) cookies0=$(cookies)

failures=0 survived=0 temp_left=0 temps_after_kill=0 cookies_window=0 cookies_random=0
# fail MSG: records one broken invariant (as a failing test).
fail() { not_ok "$CASE: $*"; failures=$((failures + 1)); }

# after_kill: what must hold right after a kill, before anything repairs it.
after_kill() {
        local d h n dms
        settle
        snapshot_loops
        dms=$(dmsetup ls 2>/dev/null)
        for d in $DISKS; do
                h=$(hdr_of $d)
                if [ -L "$h" ] || { [ -e "$h" ] && [ ! -f "$h" ]; }; then
                        fail "$h is not a regular file"
                elif [ -f "$h" ] && [ "$(sha256sum <"$h" | cut -d' ' -f1)" != "${REF[$d]}" ]; then
                        fail "$h is torn ($(stat -c %s "$h") bytes, differs from the reference)"
                fi
                n=$(loops_for "$h")
                if [ "$n" -gt 1 ]; then
                        fail "$n loops bound to $h"
                elif [ "$n" -eq 1 ] && ! grep -q "^$d[[:space:]]" <<<"$dms"; then
                        # A device-mapper removal the kill did not stop lets
                        # go of the loop; the kernel detaches it (autoclear)
                        # from a work item since Linux 5.17: give it 2 s.
                        for _ in $(seq 20); do
                                sleep 0.1
                                snapshot_loops
                                n=$(loops_for "$h")
                                [ "$n" -eq 0 ] && break
                        done
                        [ "$n" -eq 0 ] || fail "a loop is bound to $h without /dev/mapper/$d (leaked)"
                fi
        done
}

# converge: the release binary brings the machine to the declared state.
converge() {
        local out d h n t
        out=$(pw apply 2>&1) || { fail "apply after the kill exits $?: $(tr '\n' ' ' <<<"$out")"; return 1; }
        settle
        out=$(pw check 2>&1) || { fail "check after apply: $(grep -E 'FAIL|error' <<<"$out" | tr '\n' ' ')"; return 1; }
        snapshot_loops
        for d in $DISKS; do
                h=$(hdr_of $d)
                n=$(loops_for "$h")
                [ "$n" -eq 1 ] || fail "$n loops bound to $h after apply, expected 1"
                [ "$(sha256sum <"$h" | cut -d' ' -f1)" = "${REF[$d]}" ] || fail "$h differs from the reference after apply"
        done
        # A temp file a kill left next to a header must be gone once apply
        # has converged (header.c removes stale ones). Recorded, then removed
        # so that the following cases start clean.
        t=$(temps)
        if [ -n "$t" ]; then
                fail "temp files left after apply converged: $(tr '\n' ' ' <<<"$t")"
                temp_left=$((temp_left + $(grep -c . <<<"$t")))
                rm -f $t
        fi
        return 0
}

# reset fresh|headers|applied: the state the next kill starts from.
reset() {
        if [ "$1" = applied ]; then
                # converge() left the disks applied.
                dmsetup info gpt >/dev/null 2>&1 && dmsetup info mbr >/dev/null 2>&1 ||
                        { pw apply >/dev/null 2>&1; settle; }
                return
        fi
        pw stop >/dev/null 2>&1
        settle
        [ "$1" = fresh ] && rm -f $HG $HM
}

# kill_at STATE COMMAND POINT N: SIGKILL at the Nth passage of POINT.
kill_at() {
        local state=$1 cmd=$2 point=$3 n=$4 rc before=$failures
        CASE="$cmd killed at $point #$n ($state)"
        reset "$state"
        local c0 c1
        c0=$(cookies)
        PARTWRAP_KILL_AT=$point PARTWRAP_KILL_COUNT=$n fpw "$cmd" >/dev/null 2>&1
        rc=$?
        if [ "$rc" -ne 137 ]; then
                fail "the point was not reached (exit $rc, expected 137 = SIGKILL)"
                return
        fi
        after_kill
        temps_after_kill=$((temps_after_kill + $(temps | grep -c .)))
        # A process killed between creating dm devices under a udev cookie
        # and waiting on it cannot destroy the cookie's semaphore: only
        # those points may leave one behind.
        c1=$(cookies)
        case $point in
        apply-dm-created | apply-before-udev-wait) cookies_window=$((cookies_window + c1 - c0)) ;;
        *) [ "$c1" -eq "$c0" ] || fail "$((c1 - c0)) udev cookie(s) left (dmsetup udevcookies), outside the create/wait window" ;;
        esac
        [ "$cmd" = stop ] && { pw stop >/dev/null 2>&1 || fail "stop after the kill exits $?"; settle; }
        converge
        [ "$failures" -eq "$before" ] && { ok "$CASE: converged"; survived=$((survived + 1)); }
}

# trace STATE COMMAND: "POINT N" for each passage of each point.
trace() {
        reset "$1"
        PARTWRAP_FAULT_TRACE=1 fpw "$2" 2>&1 >/dev/null | sed -n 's/^fault-point: //p' |
                awk '{ n[$0]++; print $0, n[$0] }'
}

points=0 all_traced=
for spec in "fresh apply" "headers apply" "applied stop"; do
        read -r state cmd <<<"$spec"
        list=$(trace "$state" "$cmd")
        diag "$cmd from the $state state passes: $(awk '{ printf "%s#%s ", $1, $2 }' <<<"$list")"
        [ -n "$list" ] || { not_ok "$cmd ($state): no fault point traced (not a fault build?)"; continue; }
        all_traced+=$(cut -d' ' -f1 <<<"$list")$'\n'
        while read -r point n; do
                kill_at "$state" "$cmd" "$point" "$n"
                points=$((points + 1))
        done <<<"$list"
done
# Every point declared in src/ was passed, so every one was killed at; but
# a grow's (grow-*, swap-*), which only a grown volume passes: those are
# 57-grow-crash.sh's.
declared=$(grep -rhoE 'fault_point\("[a-z0-9-]+"\)' "$TOP/src" | sed 's/fault_point("\(.*\)")/\1/' |
        grep -vE '^(grow|swap)-' | sort -u)
missing=$(comm -23 <(echo "$declared") <(grep . <<<"$all_traced" | sort -u) | tr '\n' ' ')
check_eq "every declared fault point ($(wc -w <<<"$declared")) was killed at" "" "$missing"

# Random moments: kill -9 after a delay of 0 to 1.2 times the command's
# usual duration (some kills land after it finished: those must be clean too).
random_kill() {
        local state=$1 cmd=$2 span=$3 i delay pid before
        for i in $(seq "$RANDOM_KILLS"); do
                before=$failures
                delay=$((RANDOM % (span * 12 / 10 + 1)))
                CASE="$cmd killed after $delay ms ($state, random $i)"
                reset "$state"
                local c0
                c0=$(cookies)
                fpw "$cmd" >/dev/null 2>&1 &
                pid=$!
                sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
                kill -9 "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                after_kill
                temps_after_kill=$((temps_after_kill + $(temps | grep -c .)))
                cookies_random=$((cookies_random + $(cookies) - c0))
                [ "$cmd" = stop ] && { pw stop >/dev/null 2>&1 || fail "stop after the kill exits $?"; settle; }
                converge
                [ "$failures" -eq "$before" ] && { ok "$CASE: converged"; survived=$((survived + 1)); }
                points=$((points + 1))
        done
}
random_kill fresh apply "$t_apply"
random_kill applied stop "$t_stop"

diag "$survived of $points kills survived ($(wc -w <<<"$declared") fault points, $RANDOM_KILLS random kills per command)"
diag "temp files right after the kills: $temps_after_kill (each one removed by the apply that followed, or a failure above)"
check "the kills left temp files (header-written, on the overlay): the check above had something to see" \
        test "$temps_after_kill" -gt 0
check_eq "no temp file left next to a header after any converging apply" 0 "$temp_left"
pw stop >/dev/null 2>&1
settle
check_eq "no loop left after the final stop" "$loops0" "$(loops_count)"
diag "udev cookies (SysV semaphores) left by SIGKILL: $cookies_window at the create/wait points, $cookies_random by random kills;" \
        "libdevmapper cannot release them for a killed process ('dmsetup udevcomplete_all' does)"
check_eq "udev cookies: none left except by those kills" "$((cookies0 + cookies_window + cookies_random))" "$(cookies)"
check_eq "volume gpt unchanged" "$h_g" "$(hash_dev "$gv")"
check_eq "volume mbr unchanged" "$h_m" "$(hash_dev "$mv_")"
tap_done
