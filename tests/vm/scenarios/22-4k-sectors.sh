#!/usr/bin/env bash
# GPT over a volume with 4096-byte logical sectors (scsi_debug): the dm device
# and the header's loop use 4096-byte sectors, the head is 256 sectors and the
# tail 5, and sgdisk, sfdisk and the kernel find partition 1 at LBA 256.
. "$(dirname "$0")/../lib.sh"

vol=$(make_4k_volume 64 ext4 data4k) || exit 1
settle
before=$(hash_dev "$vol")
check_eq "the volume has 4096-byte logical sectors" 4096 "$(blockdev --getss "$vol")"
hdr=/tmp/headers/k4.header
disk_conf $conf/22-k4.conf k4 "$vol"

loops0=$(loops_count)
check "apply creates the disk" pw apply
settle
check "/dev/mapper/k4 exists" test -b /dev/mapper/k4
check_eq "dm device: logical sector size 4096" 4096 "$(blockdev --getss /dev/mapper/k4 2>&1)"
check_eq "one loop device attached" $((loops0 + 1)) "$(loops_count)"
check_eq "header loop: logical sector size 4096" 4096 "$(losetup -n -l -O LOG-SEC -j $hdr | tr -d ' ')"
check_eq "header loop: sysfs logical_block_size 4096" 4096 \
        "$(cat /sys/block/"$(basename "$(losetup -n -O NAME -j $hdr)")"/queue/logical_block_size 2>&1)"
vbytes=$(blockdev --getsize64 "$vol")
vsec=$((vbytes / 4096))
check_eq "header file = 256 + 5 sectors of 4096" $(((256 + 5) * 4096)) "$(stat -c %s $hdr)"
check_eq "disk size = (256 + volume + 5) x 4096" $(((256 + vsec + 5) * 4096)) "$(blockdev --getsize64 /dev/mapper/k4)"
lmm=$(lsblk -dn -o MAJ:MIN "$(losetup -n -O NAME -j $hdr)" | tr -d ' ')
vmm=$(lsblk -dn -o MAJ:MIN "$vol" | tr -d ' ')
check_eq "dm table (512-byte units): head 2048, volume, tail 40 from loop offset 2048" \
        "0 2048 linear $lmm 0|2048 $((vsec * 8)) linear $vmm 0|$((2048 + vsec * 8)) 40 linear $lmm 2048" \
        "$(dmsetup table k4 | tr '\n' '|' | sed 's/|$//')"

# On-disk positions in 4096-byte sectors.
check_eq "primary GPT header at byte 4096 (LBA 1)" "EFI PART" \
        "$(dd if=/dev/mapper/k4 bs=4096 skip=1 count=1 status=none | head -c 8)"
check_eq "nothing GPT-like at byte 512 (a 512-byte layout would put it there)" "" \
        "$(dd if=/dev/mapper/k4 bs=512 skip=1 count=1 status=none | head -c 8 | tr -d '\0')"
check_eq "backup GPT header in the last 4096-byte sector" "EFI PART" \
        "$(dd if=/dev/mapper/k4 bs=4096 skip=$((256 + vsec + 4)) count=1 status=none | head -c 8)"
# Fields of the primary header, read as little-endian 64-bit: my LBA,
# alternate LBA, first usable, last usable; partition entries LBA.
fields=$(dd if=/dev/mapper/k4 bs=4096 skip=1 count=1 status=none | od -An -tu8 -j 24 -N 32 | xargs)
check_eq "primary header: my 1, alternate last LBA, first usable <= 256, last usable before the tail" \
        "1 $((256 + vsec + 4)) ok $((256 + vsec - 1))" \
        "$(set -- $fields; echo "$1 $2 $([ "$3" -le 256 ] && [ "$3" -ge 6 ] && echo ok || echo "$3") $4")"
check_eq "primary header: entries at LBA 2" 2 \
        "$(dd if=/dev/mapper/k4 bs=4096 skip=1 count=1 status=none | od -An -tu8 -j 72 -N 8 | tr -d ' ')"

sg=$(sgdisk -p /dev/mapper/k4 2>&1)
check "sgdisk: logical sector size 4096" grep -Eq "Sector size \(logical[^)]*\): 4096" <<<"$sg"
check_eq "sgdisk: partition 1 at 256..256+volume-1" "1 256 $((256 + vsec - 1))" \
        "$(awk '$1 == 1 { print $1, $2, $3 }' <<<"$sg")"
check "sgdisk -v: no problems" bash -c "sgdisk -v /dev/mapper/k4 | grep -q 'No problems found'"
parts=$(sfdisk -J /dev/mapper/k4 | json_get 't["label"]' 't["sectorsize"]' 'len(p)' 'p[0]["start"]' 'p[0]["size"]' \
        't["firstlba"] <= 256' 't["lastlba"]')
check_eq "sfdisk: gpt, sector 4096, one partition at 256 with the volume's size" \
        "gpt 4096 1 256 $vsec True $((256 + vsec - 1))" "$parts"
check "sfdisk --verify" sfdisk --verify /dev/mapper/k4

# The kernel's GPT parser with 4096-byte sectors, then the filesystem.
lp=$(kernel_parts /dev/mapper/k4 --sector-size 4096)
check "kernel parsed partition 1" test -b "${lp}p1"
check_eq "kernel: partition 1 starts at 1 MiB (2048 x 512)" 2048 "$(cat /sys/class/block/"${lp#/dev/}p1"/start 2>&1)"
check_eq "kernel: partition 1 has the volume's size" "$vbytes" "$(blockdev --getsize64 "${lp}p1" 2>&1)"
check_eq "partition 1 is the volume, byte for byte" "$before" "$(hash_dev "${lp}p1")"
check_part_files "files read back through partition 1" "${lp}p1"
detach_parts "$lp"

out=$(pw check 2>&1)
check_eq "check exits 0" 0 "$?"
check_eq "check: healthy" "k4: healthy" "$(grep '^k4:' <<<"$out")"
check "check names 4096-byte sectors" grep -q "4096-byte sectors" <<<"$out"
check_eq "check --json: sector_size 4096, partition_start 1 MiB" "4096 1048576 $vbytes" \
        "$(pw check --json 2>/dev/null | json_get 'k["sector_size"]' 'k["partition_start"]' 'k["partition_size"]')"
out=$(pw apply 2>&1)
check_eq "second apply: unchanged" "k4: unchanged" "$(states k4 <<<"$out")"
check "stop" pw stop
settle
check_eq "loop detached" "$loops0" "$(loops_count)"
check "apply again over the kept header" pw apply
settle
check_eq "  the loop is 4096-byte again" 4096 "$(losetup -n -l -O LOG-SEC -j $hdr | tr -d ' ')"
check "  check healthy" pw check
pw stop >/dev/null 2>&1
settle

check_eq "volume unchanged" "$before" "$(hash_dev "$vol")"
tap_done
