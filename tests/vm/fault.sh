# Sourced by the scenarios that kill or stall partwrap at its fault points,
# in place of lib.sh: builds the fault-injection binary on the host before
# the VM boots (it is compiled out of release builds), then sets FAULT to it.
# Environment: TEST_FAULT_PARTWRAP, a fault build to use instead.
if [ -z "${IN_VM:-}" ] && [ -z "${TEST_FAULT_PARTWRAP:-}" ]; then
        make -s -C "$(dirname "${BASH_SOURCE[0]}")/../.." build/fault/partwrap >&2 ||
                { echo "cannot build build/fault/partwrap"; exit 77; }
fi
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAULT=${TEST_FAULT_PARTWRAP:-$TOP/build/fault/partwrap}
[ -x "$FAULT" ] || { echo "no fault build at $FAULT (make build/fault/partwrap)"; exit 77; }
