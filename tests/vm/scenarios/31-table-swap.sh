#!/usr/bin/env bash
# dm_table_swap() against the kernel (tests/unit/test-dm.c): a partwrap
# device's table replaced in one step, read back typed, and a table the
# kernel refuses leaving the device as it was. The unit test skips outside
# a VM; here it must run. Built on the host first when missing (run alone,
# not through make check).
if [ -z "${IN_VM:-}" ]; then
        make -s -C "$(dirname "$0")/../../.." build/tests/test-dm >&2 ||
                { echo "cannot build build/tests/test-dm"; exit 1; }
fi
. "$(dirname "$0")/../lib.sh"

bin=$TOP/build/tests/test-dm
if [ ! -x "$bin" ]; then
        echo "Bail out! $bin is not built (make unit)"
        exit 1
fi
out=$(PARTWRAP_TEST_DEBUG=1 CMOCKA_MESSAGE_OUTPUT=STDOUT "$bin" 2>&1)
rc=$?
check_eq "test-dm ran (not skipped) and passed" 0 "$rc"
[ "$rc" -eq 0 ] || while IFS= read -r l; do diag "  $l"; done <<<"$out"
check "no device left behind" dm_absent pw-unit-swap
tap_done
