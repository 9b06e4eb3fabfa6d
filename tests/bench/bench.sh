#!/usr/bin/env bash
# tests/bench/bench.sh — partwrap's benchmarks (`make bench`; see README.md here).
#
# On the host: installs the bench's own tools if missing (tests/bench/deps.sh),
# then boots a VM (tests/vm/run, any backend) and runs this same script inside.
# Inside: provisioning (partwrap apply vs N bare `dmsetup create` vs the
# hand-made recipe), warm apply and check, I/O (fio) through the disk vs the
# volume vs nbdkit, scale (64 MiB vs 30 TiB). Prints a Markdown table and
# writes build/bench.json (and build/bench.md). Never fails on a time: the
# exit status is 0 unless the benchmark itself could not run.
#
# Environment (TEST_* is passed into the VM):
#   TEST_BENCH_NS       disk counts (default "1 8 32 128")
#   TEST_BENCH_ROUNDS   runs of each contender (default 2, interleaved)
#   TEST_BENCH_ROUNDS_LARGE  runs at N > 32 (default 1: N=128 costs ~3 min a round)
#   TEST_BENCH_RECIPE_MAX  largest N the recipe runs at (default 32: ~2 s a disk)
#   TEST_BENCH_IO_MIB   I/O volume size (default 256)
#   TEST_BENCH_IO_RUNTIME  seconds per fio run (default 2)
#   TEST_BENCH_SECTIONS sections to run (default "prov sys io scale")
set -u

if [ -z "${IN_VM:-}" ]; then
        TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
        "$TOP/tests/bench/deps.sh" || exit 1
        [ -x "${PARTWRAP:-$TOP/partwrap}" ] || { echo "bench: build partwrap first (make)" >&2; exit 1; }
        mkdir -p "$TOP/build/bench" || exit 1
        ${CC:-cc} -O2 -Wall -Wextra -o "$TOP/build/bench/run" "$TOP/tests/bench/run.c" || exit 1
        rm -f "$TOP/build/bench.json" "$TOP/build/bench.md"
        # A copy: the VM sees the host's files live, and a rebuild during
        # the run must not change the program under test.
        cp "${PARTWRAP:-$TOP/partwrap}" "$TOP/build/bench/partwrap" || exit 1
        export PARTWRAP=$TOP/build/bench/partwrap
        TEST_BENCH_REV="$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown), sha256 $(sha256sum <"$PARTWRAP" | cut -c1-12)"
        export TEST_BENCH_REV
        export TEST_BENCH_OUT=$TOP/build PARTWRAP_VM_RESULTS=$TOP/build
        TEST_BENCH_HOST="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), host kernel $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
        export TEST_BENCH_HOST
        export PARTWRAP_VM_TIMEOUT=${PARTWRAP_VM_TIMEOUT:-1200}
        export PARTWRAP_VM_MEM=${PARTWRAP_VM_MEM:-1536M}
        start=$SECONDS
        "$TOP/tests/vm/run" "${BASH_SOURCE[0]}" "$@"
        rc=$?
        echo "# bench: $((SECONDS - start)) s in all; load average at the end $(cut -d' ' -f1-3 /proc/loadavg); JSON in build/bench.json"
        if [ "$rc" != 0 ] || [ ! -s "$TOP/build/bench.json" ]; then
                echo "bench: failed (exit $rc)" >&2
                exit 1
        fi
        exit 0
fi

# ---------------------------------------------------------------- inside the VM
export LC_ALL=C
PW=${PARTWRAP:?}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY="/usr/bin/python3 $HERE/bench.py"
RUNNER=${TEST_BENCH_OUT:-$HERE/../../build}/bench/run
NS=${TEST_BENCH_NS:-1 8 32 128}
ROUNDS=${TEST_BENCH_ROUNDS:-2}
ROUNDS_LARGE=${TEST_BENCH_ROUNDS_LARGE:-1}
RECIPE_MAX=${TEST_BENCH_RECIPE_MAX:-32}
IO_MIB=${TEST_BENCH_IO_MIB:-256}
IO_RT=${TEST_BENCH_IO_RUNTIME:-2}
SECTIONS=${TEST_BENCH_SECTIONS:-prov sys io scale}
VOL_MIB=16
W=/tmp/bench
S=$W/samples

log() { echo "# [$(cut -d' ' -f1 /proc/uptime)] $*"; }
die() { echo "Bail out! bench: $*"; exit 1; }
settle() { udevadm settle --timeout=180 || log "udevadm settle timed out"; }
sample() { echo "sample $1 $2" >>"$S"; }
fact() { echo "fact $1 $2" >>"$S"; }
maxn() { local m=0 n; for n in $NS; do [ "$n" -gt "$m" ] && m=$n; done; echo "$m"; }
# seconds from a $EPOCHREALTIME-without-dot stamp to now, 3 decimals
since() { local now=${EPOCHREALTIME/./}; printf '%d.%06d' $(((now - $1) / 1000000)) $(((now - $1) % 1000000)); }
have_section() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

# Removes every device-mapper device (the VM has only the bench's), waits for
# udev, and insists: a device still held by udev's blkid is retried.
dm_clear() {
        local i
        settle
        for i in 1 2 3 4 5; do
                dmsetup remove_all >/dev/null 2>&1
                settle
                dmsetup ls 2>/dev/null | grep -qv '^No devices' || return 0
                sleep 0.5
        done
        die "cannot remove dm devices: $(dmsetup ls)"
}

mkdir -p $W/vol $W/hdr $W/floor $W/rhdr $W/out || die "mkdir"
: >"$S"
# tests/vm/run copies what is left here to the host's PARTWRAP_VM_RESULTS.
OUT=${PARTWRAP_VM_RESULTS_DIR:-$W/out}
for t in fio nbdkit nbd-client sgdisk strace "$RUNNER"; do
        command -v "$t" >/dev/null || die "$t is missing (tests/bench/deps.sh)"
done
fact date "\"$(date -u +%Y-%m-%dT%H:%MZ)\""
fact machine "$(printf '{"host": "%s", "vm": "'"${PARTWRAP_VM_BACKEND:-?}"' %s, %s CPU, %s MiB, /tmp on tmpfs", "partwrap": "%s (%s)"}' \
        "${TEST_BENCH_HOST:-?}" "$(uname -r)" "$(nproc)" "$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))" \
        "$("$PW" -V 2>&1 | head -n 1)" "${TEST_BENCH_REV:-?}")"
fact rounds "$ROUNDS"
fact rounds_large "$ROUNDS_LARGE"
log "partwrap $("$PW" -V 2>&1 | head -n 1), NS='$NS', rounds $ROUNDS, sections '$SECTIONS'"

# ------------------------------------------------------------- provisioning
NMAX=$(maxn)
SEQ=/sys/kernel/uevent_seqnum   # +1 per kernel uevent: counts them at no cost
prov_setup() {
        local i conf n
        log "setup: $NMAX NTFS volumes of $VOL_MIB MiB on loop devices"
        { truncate -s ${VOL_MIB}M $W/template.img && mkfs.ntfs -Q -F -q $W/template.img >/dev/null 2>&1; } ||
                die "mkfs.ntfs"
        $PY volumes $W/template.img $W/vol "$NMAX" >/dev/null || die "volumes"
        mapfile -t VOLS < <($PY attach $W/vol/v*.img) || die "attach volumes"
        [ "${#VOLS[@]}" = "$NMAX" ] || die "attached ${#VOLS[@]} volumes of $NMAX"
        settle   # partwrap takes a volume once udev has initialised it
        for n in $NS; do
                conf=$W/conf-$n && mkdir -p "$conf"
                for ((i = 1; i <= n; i++)); do
                        printf '[pw%03d]\nvolume = %s\nheader = %s/pw%03d.header\ntimeout = 0\n\n' \
                                "$i" "${VOLS[i - 1]}" $W/hdr "$i"
                done >"$conf/bench.conf"
        done
        # The floor: partwrap's own planned tables, a header as partwrap writes it.
        "$PW" -c $W/conf-"$NMAX" -n --json apply >$W/plan.json 2>$W/plan.err ||
                die "apply -n: $(tail -n 3 $W/plan.err)"
        $PY floor-templates $W/plan.json $W/floor || die "floor templates"
        "$PW" mkheader --size ${VOL_MIB}MiB --sector-size 512 --name floor -o $W/floor/template.header >/dev/null ||
                die "mkheader"
        settle
}

# The contenders. Each leaves its N disks in place; prov_teardown removes them.
run_floor() {
        local i
        for ((i = 1; i <= $1; i++)); do
                dmsetup create "f$(printf %03d "$i")" -u "BENCH-f$i" $W/floor/f"$(printf %03d "$i")".table
        done
}
# The hand-made recipe, as an administrator scripts it for each disk: the
# volume's size, a zeroed header file, a loop device, the three-segment
# table, sgdisk for the partition.
run_recipe() {
        local i n h l vs
        for ((i = 1; i <= $1; i++)); do
                n=r$(printf %03d "$i") h=$W/rhdr/r$(printf %03d "$i").header
                vs=$(blockdev --getsz "${VOLS[i - 1]}")
                dd if=/dev/zero of="$h" bs=512 count=2081 status=none
                l=$(losetup -f --show "$h")
                printf '0 2048 linear %s 0\n2048 %s linear %s 0\n%s 33 linear %s 2048\n' \
                        "$l" "$vs" "${VOLS[i - 1]}" $((2048 + vs)) "$l" | dmsetup create "$n"
                sgdisk -n "1:2048:$((2048 + vs - 1))" -t 1:0700 "/dev/mapper/$n" >/dev/null
        done
}

prov_teardown() {
        local loops
        dm_clear
        loops=$(losetup -n -l -O NAME,BACK-FILE | awk '$2 ~ /\/(floor|rhdr|hdr)\// {print $1}')
        # shellcheck disable=SC2086
        [ -n "$loops" ] && $PY detach $loops
        rm -f $W/hdr/* $W/rhdr/* $W/floor/f*.header
        settle
}

# record KEY N T0 RETURNED SEQ0: the samples of one timed run, after which
# the caller has not settled yet: returned, settled (udev idle again), and
# the kernel uevents it caused.
record() {
        local key=$1 n=$2 t0=$3 ret=$4 seq0=$5 set
        settle
        set=$(since "$t0")
        sample "$key.returned" "$ret"
        sample "$key.settled" "$set"
        sample "$key.uevents_per_disk" "$(awk -v a="$(($(cat $SEQ) - seq0))" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"
        log "$key: returned $ret s, settled $set s, $(($(cat $SEQ) - seq0)) uevents"
}

# time_shell KEY N CMD...: one timed run of a shell function, from a settled machine.
time_shell() {
        local key=$1 n=$2 t0 ret seq0
        shift 2
        settle
        seq0=$(cat $SEQ)
        t0=${EPOCHREALTIME/./}
        "$@"
        ret=$(since "$t0")
        record "$key" "$n" "$t0" "$ret" "$seq0"
}

# time_pw KEY N ARGS...: one timed run of partwrap ARGS (through bench-run,
# which also reports its peak RSS), from a settled machine.
time_pw() {
        local key=$1 n=$2 t0 ret rss st seq0
        shift 2
        settle
        seq0=$(cat $SEQ)
        read -r t0 ret rss st < <("$RUNNER" $W/pw.err "$PW" "$@")
        [ "$st" = 0 ] || { log "partwrap $* exited $st:"; sed 's/^/#   /' $W/pw.err | tail -n 20; }
        sample "$key.rss_kib" "$rss"
        record "$key" "$n" "$t0" "$ret" "$seq0"
}

# Untimed, once: what a warm apply asks of the kernel (strace: every ioctl).
warm_ioctls() {
        local n=$1 names bad re
        strace -f -qq -e trace=ioctl -o $W/warm.strace "$PW" -c $W/conf-"$n" apply >/dev/null 2>&1
        re='^(DM_DEV_CREATE|DM_DEV_REMOVE|DM_DEV_RENAME|DM_DEV_SUSPEND|DM_TABLE_LOAD|DM_TABLE_CLEAR|DM_REMOVE_ALL'
        re+='|LOOP_(SET_FD|CLR_FD|CONFIGURE|SET_STATUS64|SET_STATUS|SET_CAPACITY|SET_BLOCK_SIZE|SET_DIRECT_IO|CHANGE_FD)'
        re+='|LOOP_CTL_(ADD|REMOVE|GET_FREE)|BLKRRPART|BLKPG)$'
        sed -n 's/^[0-9]* *ioctl([0-9]*, \([A-Z0-9_]*\).*/\1/p' $W/warm.strace | sort | uniq -c >$W/warm.ioctls
        names=$(awk '{printf "%s\"%s\": %s", (NR > 1 ? ", " : ""), $2, $1}' $W/warm.ioctls)
        bad=$(awk '{print $2}' $W/warm.ioctls | grep -E "$re" | awk '{printf "%s\"%s\"", (NR > 1 ? ", " : ""), $1}')
        fact warm_ioctls_n "$n"
        fact warm_ioctls "{$names}"
        fact warm_state_ioctls "[$bad]"
        log "warm apply of $n disks, ioctls: $names; state-changing: ${bad:-none}"
}

prov_bench() {
        local r n c order w
        for ((r = 1; r <= ROUNDS; r++)); do
                # Interleaved, and the order turned round every other round.
                order="apply floor recipe"
                [ $((r % 2)) = 0 ] && order="recipe floor apply"
                for n in $NS; do
                        [ "$n" -gt 32 ] && [ "$r" -gt "$ROUNDS_LARGE" ] && continue
                        for c in $order; do
                                case $c in
                                apply)
                                        # -v -v: the debug line with the number of udev waits
                                        time_pw "prov.$n.apply" "$n" -c $W/conf-"$n" -v -v apply
                                        w=$(sed -n 's/.*udev waits: \([0-9]*\).*/\1/p' $W/pw.err | tail -n 1)
                                        sample "prov.$n.apply.udev_waits" "${w:--1}"
                                        time_pw "prov.$n.warm" "$n" -c $W/conf-"$n" apply
                                        time_pw "prov.$n.check" "$n" -c $W/conf-"$n" check
                                        [ "$r" = 1 ] && [ "$n" = "$WARM_STRACE_N" ] && warm_ioctls "$n"
                                        prov_teardown
                                        ;;
                                floor)
                                        $PY floor-prep $W/floor "$n" >/dev/null || die "floor-prep"
                                        time_shell "prov.$n.floor" "$n" run_floor "$n"
                                        prov_teardown
                                        ;;
                                recipe)
                                        [ "$n" -le "$RECIPE_MAX" ] || continue
                                        time_shell "prov.$n.recipe" "$n" run_recipe "$n"
                                        prov_teardown
                                        ;;
                                esac
                        done
                done
        done
}

if have_section prov; then
        WARM_STRACE_N=$(for n in $NS; do [ "$n" -ge 8 ] && echo "$n"; done | head -n 1)
        WARM_STRACE_N=${WARM_STRACE_N:-$NMAX}
        fact recipe_max "$RECIPE_MAX"
        prov_setup
        prov_bench
        # shellcheck disable=SC2068
        $PY detach ${VOLS[@]}
        rm -f $W/vol/*
        settle
fi

# ----------------------------------------------------------- system calls
# The work of a command, free of timing noise: `strace -c -f` totals at N = 1
# and N = 33 disks; (total(33) - total(1)) / 32 is what each disk costs, the
# rest is the program's start and its once-a-run work. Also the breakdown by
# system call at N = 33, for the README's account of what is left.
sc_total() { awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {n += $4} END {print n + 0}' "$1"; }
sc_top() {
        awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {print $4, $NF}' "$1" | sort -rn | head -n 12 |
                awk '{printf "%s\"%s\": %s", (NR > 1 ? ", " : ""), $2, $1}'
}
if have_section sys; then
        SYS_NS="1 33"
        log "system calls: apply (cold), apply (warm), check at N = $SYS_NS"
        { truncate -s ${VOL_MIB}M $W/template.img && mkfs.ntfs -Q -F -q $W/template.img >/dev/null 2>&1; } ||
                die "mkfs.ntfs"
        $PY volumes $W/template.img $W/vol 33 >/dev/null || die "volumes"
        mapfile -t SVOLS < <($PY attach $W/vol/v*.img) || die "attach volumes"
        settle
        for n in $SYS_NS; do
                conf=$W/conf-sys-$n && mkdir -p "$conf"
                for ((i = 1; i <= n; i++)); do
                        printf '[pw%03d]\nvolume = %s\nheader = %s/pw%03d.header\ntimeout = 0\n\n' \
                                "$i" "${SVOLS[i - 1]}" $W/hdr "$i"
                done >"$conf/bench.conf"
                for c in apply warm check; do
                        [ $c = warm ] && cmd=apply || cmd=$c
                        settle
                        strace -f -c -o "$W/sc.sys.$n.$c" "$PW" -c "$conf" "$cmd" >/dev/null 2>$W/pw.err ||
                                { log "partwrap $cmd ($n disks) under strace failed:"; sed 's/^/#   /' $W/pw.err | tail -n 5; }
                        fact "sys_${n}_$c" "$(sc_total "$W/sc.sys.$n.$c")"
                        [ "$n" = 33 ] && fact "sys_top_$c" "{$(sc_top "$W/sc.sys.$n.$c")}"
                        log "$c of $n disks: $(sc_total "$W/sc.sys.$n.$c") system calls"
                done
                prov_teardown
        done
        # shellcheck disable=SC2068
        $PY detach ${SVOLS[@]}
        rm -f $W/vol/*
        settle
fi

# ---------------------------------------------------------------------- I/O
# fio_run PATTERN DEVICE OFFSET_BYTES: prints MB/s (sequential) or IOPS (random).
# Always from a settled machine: closing a device opened for writing makes
# udev (OPTIONS+="watch") probe it again, on the VM's only CPU.
fio_run() {
        local p=$1 dev=$2 off=$3 rw bs
        case $p in
        seqread) rw=read bs=1M ;;
        seqwrite) rw=write bs=1M ;;
        randread) rw=randread bs=4k ;;
        esac
        settle
        fio --name=b --filename="$dev" --offset="$off" --size="${IO_MIB}M" --direct=1 --ioengine=psync \
                --rw=$rw --bs=$bs --randrepeat=1 --randseed=42 --norandommap --time_based --runtime="$IO_RT" \
                --output-format=json 2>/dev/null >$W/fio.json || { echo 0; return; }
        /usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[2]))["jobs"][0]
side = j["write"] if sys.argv[1] == "seqwrite" else j["read"]
print("%.1f" % (side["iops"] if sys.argv[1] == "randread" else side["bw_bytes"] / 1e6))' "$p" $W/fio.json
}

if have_section io; then
        log "I/O: a $IO_MIB MiB NTFS volume, its disk, nbdkit partitioning over nbd"
        mkdir -p $W/io
        { fallocate -l "${IO_MIB}M" $W/io/vol.img && mkfs.ntfs -Q -F -q $W/io/vol.img >/dev/null 2>&1; } ||
                die "io volume"
        IOV=$($PY attach $W/io/vol.img) || die "attach io volume"
        mkdir -p $W/conf-io
        printf '[bio]\nvolume = %s\nheader = %s/bio.header\ntimeout = 0\n' "$IOV" $W/io >$W/conf-io/io.conf
        "$PW" -c $W/conf-io apply >/dev/null || die "apply of the I/O disk"
        settle
        # Partition 1 as the kernel's partition parser sees it: a loop device
        # over the disk with partition scanning, in direct I/O (no second page
        # cache). And the disk itself at partition 1's offset, which is what
        # a VM's disk I/O goes through.
        PL=$(losetup -f --show -P --direct-io=on /dev/mapper/bio) || die "losetup -P over /dev/mapper/bio"
        settle
        fact io_part_loop_dio "$(cat /sys/block/"${PL#/dev/}"/loop/dio 2>/dev/null || echo null)"
        modprobe nbd nbds_max=2 max_part=4 || die "modprobe nbd"
        nbdkit -U $W/io/nbd.sock -P $W/io/nbdkit.pid partitioning $W/io/vol.img partition-type=gpt ||
                die "nbdkit partitioning"
        for _ in $(seq 50); do [ -S $W/io/nbd.sock ] && break; sleep 0.1; done
        nbd-client -unix $W/io/nbd.sock /dev/nbd0 -b 512 >/dev/null 2>&1 || die "nbd-client"
        settle
        for _ in $(seq 50); do [ -b /dev/nbd0p1 ] && break; sleep 0.1; done
        { [ -b "${PL}p1" ] && [ -b /dev/nbd0p1 ]; } || die "no partition 1 on ${PL} or nbd0"
        sz_raw=$(blockdev --getsize64 "$IOV") sz_part=$(blockdev --getsize64 "${PL}p1")
        sz_nbd=$(blockdev --getsize64 /dev/nbd0p1)
        log "sizes: raw $sz_raw, partition $sz_part, nbd partition $sz_nbd"
        { [ "$sz_raw" = "$sz_part" ] && [ "$sz_raw" = "$sz_nbd" ]; } ||
                die "partition sizes differ from the volume"
        fact io_mib "$IO_MIB"
        fact io_runtime "$IO_RT"
        fact rounds_io "$ROUNDS"
        for ((r = 1; r <= ROUNDS; r++)); do
                targets="raw part dm nbd"
                [ $((r % 2)) = 0 ] && targets="nbd dm part raw"
                for p in seqwrite seqread randread; do
                        for t in $targets; do
                                case $t in
                                raw) v=$(fio_run $p "$IOV" 0) ;;
                                part) v=$(fio_run $p "${PL}p1" 0) ;;
                                dm) v=$(fio_run $p /dev/mapper/bio 1048576) ;;
                                nbd) v=$(fio_run $p /dev/nbd0p1 0) ;;
                                esac
                                sample "io.$p.$t" "$v"
                                log "io $p $t: $v"
                        done
                done
        done
        nbd-client -d /dev/nbd0 >/dev/null 2>&1
        kill "$(cat $W/io/nbdkit.pid)" 2>/dev/null
        losetup -d "$PL"
        settle
        "$PW" -c $W/conf-io stop >/dev/null 2>&1
        $PY detach "$IOV"
        rm -f $W/io/vol.img
        settle
fi

# -------------------------------------------------------------------- scale
if have_section scale; then
        SR=$((ROUNDS < 10 ? 10 : ROUNDS))   # ~1.5 s a round: cheap, and the noise is large
        fact rounds_scale "$SR"
        log "scale: 64 MiB vs 30 TiB (sparse) volumes, ext4"
        { truncate -s 64M $W/s64.img && mkfs.ext4 -F -q -E nodiscard $W/s64.img; } || die "mkfs 64M"
        { truncate -s 30T $W/s30.img && mkfs.ext4 -F -q -O bigalloc -C 1048576 \
                -E lazy_itable_init=1,lazy_journal_init=1,nodiscard $W/s30.img; } || die "mkfs 30T"
        mapfile -t SV < <($PY attach $W/s64.img $W/s30.img)
        mkdir -p $W/conf-64M $W/conf-30T $W/shdr
        printf '[s64m]\nvolume = %s\nheader = %s/s64m.header\ntimeout = 0\n' "${SV[0]}" $W/shdr >$W/conf-64M/s.conf
        printf '[s30t]\nvolume = %s\nheader = %s/s30t.header\ntimeout = 0\n' "${SV[1]}" $W/shdr >$W/conf-30T/s.conf
        settle
        for ((r = 1; r <= SR; r++)); do
                order="64M 30T"
                [ $((r % 2)) = 0 ] && order="30T 64M"
                for v in $order; do
                        time_pw "scale.$v.apply" 1 -c "$W/conf-$v" apply
                        [ "$r" = 1 ] && fact "header_bytes_$v" "$(stat -c %s $W/shdr/s"${v,,}".header)"
                        time_pw "scale.$v.warm" 1 -c "$W/conf-$v" apply
                        time_pw "scale.$v.check" 1 -c "$W/conf-$v" check
                        "$PW" -c "$W/conf-$v" stop >/dev/null 2>&1
                        rm -f $W/shdr/*
                        settle
                done
        done
        # The work itself, free of timing noise: system calls of each command.
        for v in 64M 30T; do
                for c in apply warm check; do
                        [ $c = warm ] && cmd=apply || cmd=$c
                        strace -f -c -o $W/sc.$v.$c "$PW" -c "$W/conf-$v" "$cmd" >/dev/null 2>&1
                        # per-syscall lines: % time, seconds, usecs/call, calls, [errors,] name
                        fact "syscalls_${v}_$c" "$(awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {n += $4} END {print n + 0}' $W/sc.$v.$c)"
                        [ $c = check ] && { "$PW" -c "$W/conf-$v" stop >/dev/null 2>&1; rm -f $W/shdr/*; settle; }
                done
        done
fi

cp "$S" $OUT/bench.samples 2>/dev/null
$PY report "$S" $OUT/bench.json $OUT/bench.md || die "report"
