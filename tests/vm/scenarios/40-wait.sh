#!/usr/bin/env bash
# Waiting for volumes (src/wait.c). Runs twice, in two VMs: with udevd (a
# udev monitor wakes apply) and without (PARTWRAP_VM_UDEV=0: the paths are
# polled). In each:
#   - volumes attached 4 s after apply started (a path, UUID=, LABEL=) are
#     created promptly, well before their timeout;
#   - a volume that never appears fails after its timeout, naming it, exit 1;
#     with nofail = yes, exit 0 and "missing"; timeout = 0 does not wait;
#   - one late and one absent volume take the largest timeout, not the sum;
#   - a device that exists but is not ready is not a volume yet: an unbound
#     loop (size 0), a dm device without a table until it is loaded and
#     resumed, a suspended dm device until it is resumed (and apply is not
#     blocked in D state on it meanwhile); an absent UUID= volume while an
#     unrelated dm device is suspended fails after its timeout, not never.
if [ -z "${IN_VM:-}" ]; then
        vm=$(dirname "$0")/../run
        log=$(mktemp) || exit 1
        TEST_WAIT_MODE=udev "$vm" "$0" "$@" | tee "$log"
        rc1=${PIPESTATUS[0]}
        n1=$(grep -cE '^(not )?ok [0-9]+' "$log")
        if [ "$rc1" = 77 ] && [ "$n1" = 0 ]; then rm -f "$log"; exit 77; fi
        if [ "$n1" = 0 ]; then
                echo "not ok 1 - the first VM (udev) booted and ran the scenario (exit $rc1, not a single result)"
                n1=1 rc1=1
        fi
        TEST_WAIT_MODE=poll TEST_TAP_OFFSET=$n1 PARTWRAP_VM_UDEV=0 "$vm" "$0" "$@" | tee "$log"
        rc2=${PIPESTATUS[0]}
        n2=$(grep -cE '^(not )?ok [0-9]+' "$log")
        rm -f "$log"
        if [ "$n2" = 0 ]; then
                echo "not ok $((n1 + 1)) - the second VM (poll) booted and ran the scenario (exit $rc2, not a single result)"
                n2=1 rc2=1
        fi
        echo "1..$((n1 + n2))"
        [ "$rc1" = 0 ] && [ "$rc2" = 0 ]
        exit
fi

. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2034  # (tap.sh's counter: the second VM goes on numbering)
TAP_N=${TEST_TAP_OFFSET:-0}
mode=${TEST_WAIT_MODE:-udev}
[ "${PARTWRAP_VM_UDEV:-1}" = 0 ] && mode=poll
if [ "$mode" = udev ]; then how="udev events"; else how="no udevd: polling the device paths"; fi
diag "mode: $mode ($how)"


# bg_apply CONF [NAME...]: partwrap -v apply in the background; sets PID, T0.
bg_apply() {
        local conf=$1
        shift
        T0=$(now_ms)
        "$PARTWRAP" -v -c "$conf" apply "$@" >/tmp/apply.out 2>/tmp/apply.err &
        PID=$!
}
# end_apply [LIMIT_S [DM_TO_RESUME]]: waits for the background apply (at most
# LIMIT_S seconds; then resumes DM_TO_RESUME to unblock it and returns 1);
# sets RC and T_END.
end_apply() {
        local limit=${1:-120} dm=${2:-} i=0 r=0
        while kill -0 "$PID" 2>/dev/null && [ $i -lt $((limit * 10)) ]; do
                sleep 0.1
                i=$((i + 1))
        done
        T_END=$(now_ms)
        if kill -0 "$PID" 2>/dev/null; then
                diag "apply still running after $limit s, state $(proc_state "$PID"); unblocking it"
                r=1
                [ -n "$dm" ] && dmsetup resume "$dm"
                kill "$PID" 2>/dev/null
        fi
        wait "$PID"
        RC=$?
        return $r
}
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
# waiting_ok: the background apply is still running and waits: over half a
# second it uses next to no CPU (a spinning wait would use all of it; one
# look at its state can catch a sleeping process on its way between two
# polls, in R, when the host is busy), and is not stuck in D (blocked on a
# device) at the end.
waiting_ok() {
        local t0 t1 s
        t0=$(cpu_ticks "$PID")
        sleep 0.5
        t1=$(cpu_ticks "$PID")
        s=$(proc_state "$PID")
        [ -n "$t0" ] && [ -n "$t1" ] && [ "$s" != gone ] || { echo "apply is gone"; return 1; }
        [ "$s" != D ] || { echo "apply is in state D: blocked on a device"; return 1; }
        [ $((t1 - t0)) -le $((10 * VM_SLOWDOWN)) ] || { echo "apply used $((t1 - t0)) CPU ticks in 0.5 s: not waiting"; return 1; }
}
show_apply() { diag "apply exit $RC after $((T_END - T0))ms: $(tr '\n' ' ' </tmp/apply.out) | $(tr '\n' ' ' </tmp/apply.err)"; }
ms_between() { # DESC MS MIN MAX (the slack MAX - MIN grows with VM_SLOWDOWN)
        local max=$(($3 + ($4 - $3) * VM_SLOWDOWN))
        if [ "$2" -ge "$3" ] && [ "$2" -le "$max" ]; then ok "$1 ($2 ms)"; else not_ok "$1 ($2 ms, expected $3..$max)"; fi
}

mkdir -p /tmp/h
loops0=$(loops_count) dm0=$(dm_count)

# ---------------------------------------------------------------------------
# 1. Three volumes attached 4 s after apply started: by path, UUID=, LABEL=.
img1=$(make_image 32 ext4 late-path) || exit 1
img2=$(make_image 32 ext4 late-uuid) || exit 1
img3=$(make_image 32 ntfs LATELABEL) || exit 1
h1=$(sha256sum <"$img1") h2=$(sha256sum <"$img2") h3=$(sha256sum <"$img3")
uuid2=$(blkid -p -o value -s UUID "$img2")
settle
c1=/tmp/c1
disk_conf $c1/late.conf late-path /dev/loop40 timeout=60 header=/tmp/h/late-path.header
disk_conf $c1/late.conf late-uuid "UUID=$uuid2" timeout=60 header=/tmp/h/late-uuid.header
disk_conf $c1/late.conf late-label LABEL=LATELABEL timeout=60 header=/tmp/h/late-label.header
bg_apply $c1
sleep 4
check "apply is still waiting after 4 s, asleep" waiting_ok
losetup /dev/loop40 "$img1" && lu=$(losetup -f --show "$img2") && ll=$(losetup -f --show "$img3")
t_attach=$(now_ms)
end_apply 80
show_apply
check_eq "apply exits 0" 0 "$RC"
check_eq "all three created" "late-path: created|late-uuid: created|late-label: created" \
        "$(cut -d' ' -f1,2 /tmp/apply.out | paste -sd'|')"
check "-v says how it waits: 'waiting for 3 volumes ($how)'" grep -qF "waiting for 3 volumes ($how)" /tmp/apply.err
ms_between "it waited for the attach" $((T_END - T0)) 4000 30000
ms_between "created promptly, long before the 60 s timeout" $((T_END - t_attach)) 0 12000
settle
check "all three healthy" "$PARTWRAP" -c $c1 check
check "stop" "$PARTWRAP" -c $c1 stop
settle
losetup -d /dev/loop40 "$lu" "$ll"
settle

# ---------------------------------------------------------------------------
# 2. A volume that never appears: fails after its timeout, naming it.
c2=/tmp/c2
disk_conf $c2/ghost.conf ghost /dev/disk/by-label/no-such-volume timeout=3 header=/tmp/h/ghost.header
bg_apply $c2
end_apply 20
show_apply
check_eq "absent volume, timeout 3: exit 1" 1 "$RC"
ms_between "  after its timeout" $((T_END - T0)) 3000 6000
check "  names it: 'ghost: /dev/disk/by-label/no-such-volume: volume not found after waiting 3 s'" \
        grep -qF "ghost: /dev/disk/by-label/no-such-volume: volume not found after waiting 3 s" /tmp/apply.err
check_eq "  reported failed" "ghost: failed" "$(cat /tmp/apply.out)"
check "  no header file" test ! -e /tmp/h/ghost.header
check_eq "  no dm device, no loop" "$dm0 $loops0" "$(dm_count) $(loops_count)"

# The same with nofail = yes: reported missing, exit 0.
sed -i 's/^timeout = 3$/timeout = 3\nnofail = yes/' $c2/ghost.conf
bg_apply $c2
end_apply 20
show_apply
check_eq "nofail = yes: exit 0" 0 "$RC"
ms_between "  after its timeout" $((T_END - T0)) 3000 6000
check_eq "  reported missing" "ghost: missing" "$(cat /tmp/apply.out)"
check "  warning names it, '(nofail: ignored)'" \
        grep -qF "ghost: /dev/disk/by-label/no-such-volume: volume not found after waiting 3 s (nofail: ignored)" /tmp/apply.err

# timeout = 0: no wait at all.
sed -i -e 's/^timeout = 3$/timeout = 0/' -e '/^nofail/d' $c2/ghost.conf
bg_apply $c2
end_apply 20
show_apply
check_eq "timeout = 0: exit 1" 1 "$RC"
ms_between "  at once" $((T_END - T0)) 0 3000
check "  'volume not found', no 'after waiting'" grep -qxF "partwrap: ghost: /dev/disk/by-label/no-such-volume: volume not found" /tmp/apply.err

# An unbound loop device has a node but no volume (size 0): not there yet.
free=$(losetup -f)
c2b=/tmp/c2b
disk_conf $c2b/u.conf unbound "$free" timeout=2 header=/tmp/h/unbound.header
check "an unbound loop ($free) exists as a node" test -b "$free"
bg_apply $c2b
end_apply 20
show_apply
check "  is waited for and not found: 'volume not found after waiting 2 s'" \
        grep -qF "unbound: $free: volume not found after waiting 2 s" /tmp/apply.err

# ---------------------------------------------------------------------------
# 3. One late (4 s), one absent (timeout 6, nofail): about 6 s, not 10.
c3=/tmp/c3
disk_conf $c3/two.conf late /dev/loop40 timeout=30 header=/tmp/h/late.header
disk_conf $c3/two.conf absent UUID=00000000-1111-2222-3333-444444444444 timeout=6 nofail=yes header=/tmp/h/absent.header
bg_apply $c3
sleep 4
losetup /dev/loop40 "$img1"
end_apply 30
show_apply
check_eq "late + absent: exit 0 (absent is nofail)" 0 "$RC"
ms_between "  done after the largest timeout, not the sum" $((T_END - T0)) 6000 9500
check_eq "  late created, absent missing" "late: created|absent: missing" "$(cut -d' ' -f1,2 /tmp/apply.out | paste -sd'|')"
settle
check "  late healthy" "$PARTWRAP" -c $c3 check late
"$PARTWRAP" -q -c $c3 stop >/dev/null
settle
losetup -d /dev/loop40
settle

# ---------------------------------------------------------------------------
# 4. Device-mapper volumes count once resumed and ready.
img4=$(make_image 32 ext4 dmvol) || exit 1
h4=$(sha256sum <"$img4")
l4=$(losetup -f --show "$img4")
sz4=$(blockdev --getsz "$l4")
settle
c4=/tmp/c4
disk_conf $c4/dm.conf on-dm /dev/mapper/pw-late timeout=60 header=/tmp/h/on-dm.header
# resumed_created: resumes pw-late; the waiting apply ends promptly, having
# created on-dm, which is healthy; stops it.
resumed_created() {
        t_resume=$(now_ms)
        dmsetup resume pw-late
        end_apply 80 pw-late
        show_apply
        check_eq "  resumed: exit 0" 0 "$RC"
        check_eq "  created" "on-dm: created" "$(cut -d' ' -f1,2 /tmp/apply.out)"
        ms_between "  promptly after the resume, long before the 60 s timeout" $((T_END - t_resume)) 0 12000
        settle
        check "  healthy" "$PARTWRAP" -c $c4 check
        "$PARTWRAP" -q -c $c4 stop >/dev/null
        settle
}

# 4a. created without a table, loaded at 2 s, resumed at 4 s
dmsetup create --notable pw-late
bg_apply $c4
sleep 2
dmsetup load pw-late --table "0 $sz4 linear $l4 0"
sleep 2
check "no table, then a loaded but inactive table: still waiting" waiting_ok
resumed_created

# 4b. a live device, suspended: not a volume until resumed, and apply is not
# stuck reading it meanwhile (suspending sends no uevent: udev still says
# DM_SUSPENDED=0)
dmsetup suspend pw-late
bg_apply $c4
sleep 4
check "suspended dm device: still waiting after 4 s, asleep (not in D state)" waiting_ok
resumed_created

# 4c. suspended for good: fails after its timeout instead of hanging
sed -i 's/^timeout = 60$/timeout = 3/' $c4/dm.conf
dmsetup suspend pw-late
bg_apply $c4
if end_apply 15 pw-late; then
        ok "suspended for good, timeout 3: apply ends"
        ms_between "  after its timeout" $((T_END - T0)) 3000 6000
        check_eq "  exit 1" 1 "$RC"
        check "  'volume not found after waiting 3 s'" grep -qF "on-dm: /dev/mapper/pw-late: volume not found after waiting 3 s" /tmp/apply.err
else
        not_ok "suspended for good, timeout 3: apply ends (hung on the suspended device)"
fi
show_apply

# 4d. an absent UUID= volume while an unrelated dm device is suspended
c4d=/tmp/c4d
disk_conf $c4d/u.conf by-uuid UUID=99999999-8888-7777-6666-555555555555 timeout=3 header=/tmp/h/u.header
bg_apply $c4d
if end_apply 8 pw-late; then
        ok "absent UUID= volume, another dm device suspended: apply ends"
        ms_between "  after its timeout" $((T_END - T0)) 3000 6000
        check_eq "  exit 1" 1 "$RC"
        check "  'volume not found after waiting 3 s'" \
                grep -qF "by-uuid: UUID=99999999-8888-7777-6666-555555555555: volume not found after waiting 3 s" /tmp/apply.err
else
        not_ok "absent UUID= volume, another dm device suspended: apply ends (hung on the suspended device: $((T_END - T0)) ms)"
fi
show_apply
dmsetup resume pw-late
dmsetup remove pw-late
settle
losetup -d "$l4"
settle

# ---------------------------------------------------------------------------
check_eq "no dm device left" "$dm0" "$(dm_count)"
check_eq "no loop left" "$loops0" "$(loops_count)"
check_eq "volume (path) unchanged" "$h1" "$(sha256sum <"$img1")"
check_eq "volume (UUID=) unchanged" "$h2" "$(sha256sum <"$img2")"
check_eq "volume (LABEL=, ntfs) unchanged" "$h3" "$(sha256sum <"$img3")"
check_eq "volume (dm) unchanged" "$h4" "$(sha256sum <"$img4")"
[ "$TAP_FAILED" -eq 0 ]
