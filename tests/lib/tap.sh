# TAP helpers for shell tests, sourced by tests/*/*.sh.
# Each test prints "ok N - what", "not ok N - what" or "ok N - what # SKIP why";
# tests/run-tests adds them up.

TAP_N=0
TAP_FAILED=0
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PARTWRAP=${PARTWRAP:-$TOP/partwrap}

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP ${2:-}"; }
diag() { echo "# $*"; }

# check DESC CMD...: one test, passing when CMD succeeds; its output is shown on failure.
check() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

# check_fails DESC CMD...: passes when CMD exits non-zero.
check_fails() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then not_ok "$desc (unexpectedly succeeded)"; printf '%s\n' "$out" | sed 's/^/#   /'; else ok "$desc"; fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "  expected: $2"; diag "  found:    $3"; fi
}

tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
