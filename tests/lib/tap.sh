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

# check_fails DESC CMD...: passes when CMD fails the ordinary way: a non-zero
# status below 124. A crash (killed by a signal: 128 + N), a timeout (124) or
# a command that could not run (126, 127) is a failed test too. Where a
# contract fixes the exit status, use check_status.
check_fails() {
        local desc=$1 out rc
        shift
        out=$("$@" 2>&1)
        rc=$?
        if [ "$rc" -eq 0 ]; then
                not_ok "$desc (unexpectedly succeeded)"
        elif [ "$rc" -ge 124 ]; then
                not_ok "$desc (exit $rc: $(_tap_status_name "$rc"))"
        else
                ok "$desc"
                return 0
        fi
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
}

# check_status DESC EXPECTED CMD...: passes when CMD exits with exactly the
# status EXPECTED; its output is shown on failure.
check_status() {
        local desc=$1 want=$2 out rc
        shift 2
        out=$("$@" 2>&1)
        rc=$?
        if [ "$rc" -eq "$want" ]; then
                ok "$desc"
                return 0
        fi
        not_ok "$desc (exit $rc, expected $want$([ "$rc" -ge 124 ] && echo ": $(_tap_status_name "$rc")"))"
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
        return 1
}

# _tap_status_name RC: what an exit status of 124 or more usually means.
_tap_status_name() {
        case $1 in
        124) echo "timed out" ;;
        126) echo "not executable" ;;
        127) echo "command not found" ;;
        *) if [ "$1" -gt 128 ]; then echo "killed by signal $(kill -l "$(($1 - 128))" 2>/dev/null || echo $(($1 - 128)))"; else echo "unusual status"; fi ;;
        esac
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "  expected: $2"; diag "  found:    $3"; fi
}

tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
