#!/usr/bin/env bash
# The benchmark's tools (fio, nbdkit, nbd-client, strace, GNU time) on top of
# the build and test dependencies (tests/deps.sh). Only for `make bench`: CI
# and `make check` do not need them.
set -euo pipefail

"$(dirname "$0")/../deps.sh"
packages=(fio nbdkit nbd-client strace time python3)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
        echo "bench deps: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
fi
echo "bench deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
