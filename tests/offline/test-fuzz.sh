#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (configuration parser, header
# verifier), built with clang and ASan+UBSan: each replays its seed corpus
# and its regression inputs (tests/fuzz/regress-NAME/, inputs that once
# crashed), then fuzzes for FUZZ_SECONDS (default 60 under CI=true, else 10).
# The working corpus grows in build/fuzz/work-NAME across runs; a crashing
# input lands in build/fuzz/artifacts/. Skipped (77) without clang/libFuzzer.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
cd "$TOP" || exit 1

if [ -z "${FUZZ_SECONDS:-}" ]; then
        [ "${CI:-}" = true ] && FUZZ_SECONDS=60 || FUZZ_SECONDS=10
fi
FUZZ_CC=${FUZZ_CC:-clang}
case $FUZZ_SECONDS in '' | *[!0-9]*) echo "FUZZ_SECONDS must be a number"; exit 2 ;; esac

command -v "$FUZZ_CC" >/dev/null || { echo "$FUZZ_CC not installed (apt-get install clang)"; exit 77; }
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }\n' >"$probe/p.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >"$probe/log" 2>&1; then
        echo "$FUZZ_CC cannot build libFuzzer targets: $(head -n 1 "$probe/log")"
        exit 77
fi

if ! out=$(make -s fuzz-build FUZZ_CC="$FUZZ_CC" 2>&1); then
        not_ok "fuzzers build"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
        tap_done
        exit
fi
ok "fuzzers build with $FUZZ_CC -fsanitize=fuzzer,address,undefined"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p build/fuzz/artifacts

# fuzz NAME MAX_LEN
fuzz() {
        local name=$1 max_len=$2 bin=build/fuzz/fuzz-$1 seeds=tests/fuzz/corpus-$1 work=build/fuzz/work-$1
        local regress=tests/fuzz/regress-$1 log=build/fuzz/$1.log inputs rc

        inputs=("$seeds")
        [ -d "$regress" ] && inputs+=("$regress")
        if "$bin" -runs=0 -max_len="$max_len" "${inputs[@]}" >"$log" 2>&1; then
                ok "$name: seed corpus$([ -d "$regress" ] && echo " and regression inputs") replay clean ($(find "${inputs[@]}" -type f | wc -l) inputs)"
        else
                not_ok "$name: seed corpus replay"
                grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10 | sed 's/^/#   /'
        fi

        mkdir -p "$work"
        "$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1 -artifact_prefix="build/fuzz/artifacts/$name-" "$work" "$seeds" >"$log" 2>&1
        rc=$?
        local execs cov
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
        if [ "$rc" -eq 0 ]; then
                ok "$name: ${FUZZ_SECONDS} s of fuzzing, no crash (${execs:-?} inputs, $cov, corpus $(find "$work" -type f | wc -l) files)"
        else
                not_ok "$name: fuzzing found a problem (exit $rc; log $log)"
                grep -E 'ERROR|SUMMARY|runtime error|Test unit written|#[0-9]+ 0x' "$log" | head -n 25 | sed 's/^/#   /'
        fi
}

fuzz config 4096
fuzz header 65536
tap_done
