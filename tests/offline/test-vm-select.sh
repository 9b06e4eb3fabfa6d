#!/usr/bin/env bash
# How tests/vm/run picks its backend, with stand-ins for what varies between
# hosts: a UML kernel that panics at init (as Debian 12's does on hosts with
# AMX), a /dev/kvm that opens but whose guests hang (nested KVM), a missing
# QEMU. Both bad cases must end on qemu-tcg with the reason printed; the
# verdict is cached; a forced backend is obeyed; no backend at all is a skip,
# and a failure under CI=true. Nothing here boots a real VM.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
cd "$TOP" || exit 1

if [ "$(id -u)" != 0 ]; then
        echo "tests/vm/run needs root"
        exit 77
fi
tmp=$(mktemp -d)
trap 'pkill -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT

# A UML kernel that dies at init the way Debian 12's does on AMX hosts.
cat >"$tmp/uml-panics" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { /usr/bin/linux --version 2>/dev/null || echo 6.1.0; exit 0; }
echo run >>"$tmp/uml-runs"
echo "userspace - ptrace set fp regs failed, errno = 14"
echo "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b"
exit 1
EOF
# A QEMU whose KVM guest hangs at start (what nested KVM does here).
cat >"$tmp/qemu-hangs" <<EOF
#!/bin/sh
exec sleep 600
EOF
chmod +x "$tmp/uml-panics" "$tmp/qemu-hangs"
: >"$tmp/kvm"                   # opens read-write, like a working /dev/kvm
# A complete mkqemu output, so that nothing is downloaded or built.
mkdir -p "$tmp/qemu"
echo 6.1.0 >"$tmp/qemu/version"
: >"$tmp/qemu/initrd.gz"

# which ENV...: runs `tests/vm/run --which` with the stand-ins and ENV;
# sets out, rc and secs.
which() {
        local t0=$SECONDS
        out=$(env -u PARTWRAP_VM_BACKEND CI= PARTWRAP_VM_QEMU_DIR="$tmp/qemu" PARTWRAP_VM_KVM_PROBE_TIMEOUT=3 \
                "$@" tests/vm/run --which 2>&1)
        rc=$? secs=$((SECONDS - t0))
}

expect() {      # expect DESC PATTERN: the last `which` exited 0 and printed PATTERN
        if [ "$rc" = 0 ] && grep -qE -- "$2" <<<"$out"; then ok "$1"; else
                not_ok "$1"; diag "exit $rc, output:"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

which PARTWRAP_VM_CACHE="$tmp/c1" PARTWRAP_VM_KERNEL="$tmp/uml-panics" PARTWRAP_VM_KVM_DEVICE="$tmp/no-kvm"
expect "UML panics, no /dev/kvm: qemu-tcg" '^# vm: backend qemu-tcg \('
expect "the reason names UML's panic" 'UML: probe VM failed .*Kernel panic'
expect "the reason names the missing /dev/kvm" "KVM: $tmp/no-kvm does not open"
check_eq "the line is the only output" 1 "$(wc -l <<<"$out")"

which PARTWRAP_VM_CACHE="$tmp/c2" PARTWRAP_VM_KERNEL="$tmp/no-uml" PARTWRAP_VM_KVM_DEVICE="$tmp/kvm" \
        PARTWRAP_VM_QEMU="$tmp/qemu-hangs"
expect "no UML, KVM guest hangs: qemu-tcg" '^# vm: backend qemu-tcg \('
expect "the reason names the missing UML kernel" "UML: no UML kernel at $tmp/no-uml"
expect "the reason names the KVM hang" 'KVM: no userland within 3 s'
check "the KVM probe gave up within 15 s (took ${secs} s)" test "$secs" -lt 15
check_fails "the hanging QEMU was killed" pgrep -f "$tmp/qemu-hangs"

rm -f "$tmp/uml-runs"
which PARTWRAP_VM_CACHE="$tmp/c3" PARTWRAP_VM_KERNEL="$tmp/uml-panics" PARTWRAP_VM_KVM_DEVICE="$tmp/kvm" \
        PARTWRAP_VM_QEMU="$tmp/qemu-hangs"
expect "UML panics and the KVM guest hangs: qemu-tcg" '^# vm: backend qemu-tcg \(UML: .*panic.*; KVM: no userland'
check_eq "the UML probe booted once" 1 "$(wc -l <"$tmp/uml-runs")"
which PARTWRAP_VM_CACHE="$tmp/c3" PARTWRAP_VM_KERNEL="$tmp/uml-panics" PARTWRAP_VM_KVM_DEVICE="$tmp/kvm" \
        PARTWRAP_VM_QEMU="$tmp/qemu-hangs"
expect "a second run takes the cached verdict" "qemu-tcg \(UML: .*\(cached in $tmp/c3\)\)$"
check_eq "... without probing again" 1 "$(wc -l <"$tmp/uml-runs")"
which PARTWRAP_VM_CACHE="$tmp/c3" PARTWRAP_VM_KERNEL="$tmp/no-uml" PARTWRAP_VM_KVM_DEVICE="$tmp/kvm" \
        PARTWRAP_VM_QEMU="$tmp/qemu-hangs"
expect "other stand-ins are probed anew" "UML: no UML kernel at $tmp/no-uml; KVM: no userland within 3 s\)$"

which PARTWRAP_VM_BACKEND=qemu-tcg PARTWRAP_VM_KERNEL="$tmp/uml-panics"
expect "PARTWRAP_VM_BACKEND=qemu-tcg is obeyed" '^# vm: backend qemu-tcg \(forced by PARTWRAP_VM_BACKEND\)$'
which PARTWRAP_VM_BACKEND=uml PARTWRAP_VM_KERNEL="$tmp/uml-panics"
expect "PARTWRAP_VM_BACKEND=uml is obeyed" '^# vm: backend uml \(forced'
which PARTWRAP_VM_BACKEND=vmware
check_eq "an unknown PARTWRAP_VM_BACKEND exits 2" 2 "$rc"
check "... and says which values are known" grep -q 'must be uml, qemu-kvm or qemu-tcg' <<<"$out"

# No backend at all: a skip on a developer's machine, a failure in CI.
which PARTWRAP_VM_CACHE="$tmp/c4" PARTWRAP_VM_KERNEL="$tmp/no-uml" PARTWRAP_VM_QEMU="$tmp/no-qemu"
check_eq "no UML, no QEMU: exit 77 (skip)" 77 "$rc"
check "... naming both" grep -q "skipped: UML: no UML kernel at $tmp/no-uml; and no $tmp/no-qemu" <<<"$out"
out=$(PARTWRAP_VM_CACHE="$tmp/c5" PARTWRAP_VM_KERNEL="$tmp/no-uml" PARTWRAP_VM_QEMU="$tmp/no-qemu" CI=true \
        tests/vm/run --which 2>&1)
rc=$?
check_eq "the same under CI=true: exit 125, not a skip" 125 "$rc"
check "... with a Bail out! line" grep -q '^Bail out! no VM can run on this host' <<<"$out"

# mkqemu's download: apt-get's exit status decides, not what it prints. As
# root in a directory _apt cannot enter, apt-get warns and succeeds; that
# warning once made mkqemu report a failed download on every fresh host.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-cache" <<'EOF'
#!/bin/sh
echo "linux-image-amd64"
echo "  Depends: linux-image-6.1.0-99-amd64"
EOF
cat >"$tmp/bin/apt-get" <<EOF
#!/bin/sh
[ "\$1" = download ] || [ "\$2" = download ] || exit 100
[ -e "$tmp/apt-fails" ] && { echo "E: Unable to locate package" >&2; exit 100; }
: >linux-image-6.1.0-99-amd64_1_amd64.deb
echo "W: Download is performed unsandboxed as root as file 'x.deb' couldn't be accessed by user '_apt'." >&2
EOF
cat >"$tmp/bin/dpkg-deb" <<'EOF'
#!/bin/sh
echo "stand-in dpkg-deb: $*" >&2
exit 2
EOF
chmod +x "$tmp/bin/"*
out=$(PATH="$tmp/bin:$PATH" tests/vm/mkqemu "$tmp/mk1" 2>&1)
check "mkqemu: apt-get's _apt warning is not a failed download" \
        grep -q '^mkqemu: cannot unpack linux-image-6.1.0-99-amd64$' <<<"$out"
check_fails "... and the warning is not shown" grep -q unsandboxed <<<"$out"
: >"$tmp/apt-fails"
out=$(PATH="$tmp/bin:$PATH" tests/vm/mkqemu "$tmp/mk2" 2>&1)
check "a failed download is reported with apt-get's reason" \
        grep -qz 'E: Unable to locate package.*mkqemu: apt-get download linux-image-6.1.0-99-amd64 failed' <<<"$out"
check_eq "... and leaves no download directory" "" "$(ls "$tmp/mk2")"

tap_done
