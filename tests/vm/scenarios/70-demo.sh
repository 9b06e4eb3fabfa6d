#!/usr/bin/env bash
# `make demo` on a kernel with device-mapper (the VM's): it must take the
# native path, show the file read back through the kernel's partition 1, and
# leave no dm device, loop device or temporary file behind; the same when it
# is interrupted by SIGINT halfway (Ctrl-C).
. "$(dirname "$0")/../lib.sh"

# leftovers: what a demo could leave behind, one word each.
leftovers() {
        echo "dm=$(dm_count) loops=$(loops_count) tmp=$(find /tmp -maxdepth 1 -name 'partwrap-demo.*' | wc -l)" \
                "conf=$(find /etc/partwrap.d -type f 2>/dev/null | wc -l) headers=$(find /var/lib/partwrap -type f 2>/dev/null | wc -l)"
}
before=$(leftovers)

out=$(make -s demo 2>&1)
rc=$?
check_eq "make demo exits 0" 0 "$rc"
check_eq "its first line says it runs natively, and why" \
        "demo: native: this kernel has device-mapper and loop devices" "$(head -n 1 <<<"$out")"
check "it booted no VM" bash -c '! grep -q "^# vm:" <<<"$1"' _ "$out"
check "the file was read back through the kernel's partition 1" \
        grep -qx 'Hello from the volume, written on the host' <<<"$out"
check "the volume was never written" grep -q 'before and after: identical' <<<"$out"
check_eq "nothing left behind (dm, loop, /tmp, config, headers)" "$before" "$(leftovers)"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -n 30 | sed 's/^/#   /'

# Ctrl-C halfway: SIGINT to the demo's whole process group, once the disk
# exists (step 5). Job control gives the demo a process group of its own and
# leaves SIGINT alone (a plain `&` would start it with SIGINT ignored).
log=$(mktemp /tmp/demo-log.XXXXXX)
set -m
tests/demo/demo.sh >"$log" 2>&1 </dev/null &
pid=$!
set +m
for _ in $(seq 600); do
        grep -q '== 5\. partwrap check' "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
done
check "the demo reached step 5 with its disk made" grep -q '== 5\. partwrap check' "$log"
check "its disk exists then" bash -c 'dmsetup info -c --noheadings -o uuid | grep -q "^PARTWRAP-partwrap-demo-"'
kill -INT -- "-$pid"
wait "$pid"
rc=$?
check_eq "the interrupted demo exits 130" 130 "$rc"
check "it says it cleans up" grep -q 'demo: interrupted, cleaning up' "$log"
settle
check_eq "nothing left behind after Ctrl-C" "$before" "$(leftovers)"
[ "$rc" = 130 ] || tail -n 30 "$log" | sed 's/^/#   /'
rm -f "$log"
tap_done
