#!/usr/bin/env bash
# Installs the build and test dependencies from Debian's packages, only
# those missing, and any further packages named as arguments. Used by
# .ci/run, `make demo` and tests/bench/deps.sh.
set -euo pipefail

packages=(
        build-essential pkg-config
        libdevmapper-dev libblkid-dev libinih-dev libudev-dev uuid-dev zlib1g-dev
        libcmocka-dev
        gdisk fdisk parted util-linux e2fsprogs ntfs-3g dosfstools
        user-mode-linux udev dmsetup lvm2 kmod
        qemu-system-x86 busybox-static cpio xz-utils
        clang libclang-rt-14-dev valgrind python3
        mandoc man-db bash-completion python3-jsonschema
        "$@"
)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
