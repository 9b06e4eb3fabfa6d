#!/usr/bin/env bash
# The commands, on real devices, under the two checkers that work inside
# User-Mode Linux. AddressSanitizer does not: its shadow memory must sit at
# 0x7fff8000..0x10007fff8000 and a UML process ends at 0x7fc0000000
# ("Shadow memory range interleaves with an existing memory mapping"), so:
#   - valgrind memcheck: invalid reads/writes, uninitialised values, and
#     definite leaks are errors (--error-exitcode=99);
#   - the UBSan build (make build/ubsan/partwrap): undefined behaviour aborts.
# Each command runs its success path and a failure path (a config error, a
# corrupt header, a missing header, a disk in use...), because leaks hide in
# error paths.
#
# Environment: TEST_UBSAN_PARTWRAP (default build/ubsan/partwrap, built on
# the host before the VM boots).
if [ -z "${IN_VM:-}" ] && [ -z "${TEST_UBSAN_PARTWRAP:-}" ]; then
        make -s -C "$(dirname "$0")/../../.." build/ubsan/partwrap >&2 ||
                echo "# cannot build build/ubsan/partwrap: the UBSan half is skipped" >&2
fi
. "$(dirname "$0")/../lib.sh"

UBSAN_BIN=${TEST_UBSAN_PARTWRAP:-$TOP/build/ubsan/partwrap}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

conf=/tmp/conf && mkdir -p $conf
vg=$(make_volume 32 ext4 vgdata) || exit 1
vm=$(make_volume 32 ntfs VMDATA) || exit 1
settle
cat >$conf/52-disks.conf <<EOC
[sg]
volume = $vg
header = /tmp/headers/sg.header

[sm]
volume = LABEL=VMDATA
table = mbr
header = /tmp/headers/sm.header
EOC
chmod 600 $conf/52-disks.conf
mkdir -p /tmp/bad && cp $conf/52-disks.conf /tmp/bad/ && printf '[x]\nvolume = rel\nfoo = 1\n' >/tmp/bad/60-bad.conf
chmod 600 /tmp/bad/*.conf
uuid=$(blkid -p -o value -s UUID "$vg")

# The scenario, as "EXPECTED_EXIT ARGS..." lines; SETUP lines run a shell
# command between them.
steps() {
        cat <<EOS
0 validate $conf
2 validate /tmp/bad
0 mkheader --size 32MiB --name m1 -o /tmp/out/gpt.header
0 mkheader --table mbr --sector-size 4096 --size 64MiB --name m2 -o /tmp/out/mbr.header
2 mkheader --table mbr --size 3TiB -o /tmp/out/big.header
0 -c $conf apply -n
0 -c $conf --json apply -n
0 -c $conf apply
0 -c $conf apply
0 -c $conf check
0 -c $conf --json check
0 -c $conf udev-match $vg
SETUP exec 7</dev/mapper/sg
1 -c $conf stop
SETUP exec 7<&-
0 -c $conf stop
0 -c $conf stop
2 -c /tmp/bad apply sg
SETUP cp /tmp/headers/sg.header /tmp/sg.good && printf 'garbage' | dd of=/tmp/headers/sg.header bs=1 seek=520 conv=notrunc status=none
0 -c $conf apply sg
1 -c $conf check sg
0 -c $conf stop sg
SETUP dd if=/dev/zero of=/tmp/headers/sg.header bs=512 seek=\$((\$(stat -c %s /tmp/headers/sg.header) / 512 - 1)) count=1 conv=notrunc status=none
1 -c $conf apply sg
1 -c $conf check sg
1 -c $conf --json check sg
SETUP rm -f /tmp/headers/sg.header
1 -c $conf check sg
SETUP cp /tmp/sg.good /tmp/headers/sg.header
0 -c $conf apply
0 -c $conf stop
2 -c $conf apply nosuchdisk
2 --bogus-option
EOS
}

# run_steps LABEL RUNNER...: every step through RUNNER; each must exit as
# expected (not 99, valgrind's) and leave an empty checker log.
run_steps() {
        local label=$1 expect args out rc n=0 bad=0
        shift
        rm -rf /tmp/out /tmp/headers && mkdir -p /tmp/out
        while read -r expect args; do
                if [ "$expect" = SETUP ]; then
                        eval "$args"
                        continue
                fi
                n=$((n + 1))
                rm -f /tmp/checker.log
                # shellcheck disable=SC2086  # args are words on purpose
                out=$(ID_FS_UUID=$uuid timeout 150 "$@" "$PARTWRAP_UNDER_TEST" $args 2>&1)
                rc=$?
                settle
                # valgrind warns about ioctls it does not know; not errors.
                [ -f /tmp/checker.log ] && grep -o 'unhandled ioctl 0x[0-9a-f]*' /tmp/checker.log >>/tmp/ioctls
                if [ "$rc" -ne "$expect" ] || grep -q 'runtime error' <<<"$out"; then
                        not_ok "$label: partwrap $args (exit $rc, expected $expect)"
                        { grep -E 'runtime error|SUMMARY' <<<"$out"
                          grep -v -e 'unhandled ioctl' -e 'spurious value errors' -e README_MISSING /tmp/checker.log 2>/dev/null
                        } | head -n 40 | sed 's/^/#   /'
                        printf '%s\n' "$out" | tail -n 5 | sed 's/^/#   /'
                        bad=$((bad + 1))
                else
                        ok "$label: partwrap $args (exit $rc)"
                fi
        done < <(steps)
        diag "$label: $n commands, $bad with errors"
        "$PARTWRAP" -c $conf stop >/dev/null 2>&1
        settle
}

PARTWRAP_UNDER_TEST=$PARTWRAP
if command -v valgrind >/dev/null; then
        run_steps valgrind valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                --show-leak-kinds=definite --suppressions="$TOP/tests/vm/valgrind.supp" --log-file=/tmp/checker.log
        [ -s /tmp/ioctls ] && diag "valgrind does not know the ioctls $(sed 's/.* //' /tmp/ioctls | sort -u | tr '\n' ' ')(warnings only)"
else
        skip "valgrind" "valgrind not installed (apt-get install valgrind)"
fi

if [ -x "$UBSAN_BIN" ]; then
        PARTWRAP_UNDER_TEST=$UBSAN_BIN
        run_steps ubsan env
else
        skip "ubsan" "no UBSan build at $UBSAN_BIN (make build/ubsan/partwrap)"
fi
tap_done
