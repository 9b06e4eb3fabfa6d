#!/usr/bin/env bash
# The commands, on real devices, under memory and undefined-behaviour
# checkers:
#   - AddressSanitizer with LeakSanitizer (make build/asan/partwrap) where it
#     can run: under QEMU. Not under User-Mode Linux: its shadow memory must
#     sit at 0x7fff8000..0x10007fff8000 and a UML process ends at
#     0x7fc0000000 ("Shadow memory range interleaves with an existing memory
#     mapping"). There, valgrind memcheck takes its place: invalid
#     reads/writes, uninitialised values, and definite leaks are errors
#     (--error-exitcode=99). (valgrind under QEMU's software emulation would
#     take a quarter of an hour.)
#   - the UBSan build (make build/ubsan/partwrap): undefined behaviour aborts.
# Each command runs its success path and a failure path (a config error, a
# corrupt header, a missing header, a disk in use...), because leaks hide in
# error paths.
#
# Environment: TEST_UBSAN_PARTWRAP, TEST_ASAN_PARTWRAP (default
# build/ubsan/partwrap, build/asan/partwrap, built on the host before the VM
# boots).
if [ -z "${IN_VM:-}" ]; then
        top=$(dirname "$0")/../../..
        [ -n "${TEST_UBSAN_PARTWRAP:-}" ] || make -s -C "$top" build/ubsan/partwrap >&2 ||
                echo "# cannot build build/ubsan/partwrap" >&2
        [ -n "${TEST_ASAN_PARTWRAP:-}" ] || make -s -C "$top" build/asan/partwrap >&2 ||
                echo "# cannot build build/asan/partwrap" >&2
fi
. "$(dirname "$0")/../lib.sh"

UBSAN_BIN=${TEST_UBSAN_PARTWRAP:-$TOP/build/ubsan/partwrap}
ASAN_BIN=${TEST_ASAN_PARTWRAP:-$TOP/build/asan/partwrap}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# An ASan or LSan report exits 99, which no step expects.
export ASAN_OPTIONS=detect_leaks=1:exitcode=99:abort_on_error=0

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
                if [ "$rc" -ne "$expect" ] || grep -qE 'runtime error|ERROR: (Address|Leak)Sanitizer' <<<"$out"; then
                        not_ok "$label: partwrap $args (exit $rc, expected $expect)"
                        { grep -E 'runtime error|ERROR: |SUMMARY|^    #[0-9]' <<<"$out"
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

if [ "$PARTWRAP_VM_BACKEND" = uml ]; then
        PARTWRAP_UNDER_TEST=$PARTWRAP
        if command -v valgrind >/dev/null; then
                run_steps valgrind valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
                        --show-leak-kinds=definite --suppressions="$TOP/tests/vm/valgrind.supp" --log-file=/tmp/checker.log
                [ -s /tmp/ioctls ] && diag "valgrind does not know the ioctls $(sed 's/.* //' /tmp/ioctls | sort -u | tr '\n' ' ')(warnings only)"
        else
                not_ok "valgrind: not installed (apt-get install valgrind)"
        fi
elif [ -x "$ASAN_BIN" ]; then
        PARTWRAP_UNDER_TEST=$ASAN_BIN
        run_steps asan env
else
        not_ok "asan: no ASan build at $ASAN_BIN (make build/asan/partwrap)"
fi

if [ -x "$UBSAN_BIN" ]; then
        PARTWRAP_UNDER_TEST=$UBSAN_BIN
        run_steps ubsan env
else
        not_ok "ubsan: no UBSan build at $UBSAN_BIN (make build/ubsan/partwrap)"
fi
tap_done
