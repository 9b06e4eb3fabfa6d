/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* On-disk formats of the MBR and GPT (UEFI 2.10, section 5). All integers
 * are little-endian on disk; code reads and writes them through le*toh and
 * htole*. */

#include <assert.h>
#include <stdint.h>

struct mbr_partition {
        uint8_t boot_indicator;
        uint8_t start_chs[3];
        uint8_t os_type;
        uint8_t end_chs[3];
        uint32_t starting_lba;
        uint32_t size_in_lba;
} __attribute__((packed));
static_assert(sizeof(struct mbr_partition) == 16, "MBR partition record is 16 bytes");

struct mbr_sector {
        uint8_t boot_code[440];
        uint32_t disk_signature;
        uint16_t unknown;
        struct mbr_partition partitions[4];
        uint8_t signature[2]; /* 0x55 0xAA */
} __attribute__((packed));
static_assert(sizeof(struct mbr_sector) == 512, "MBR is 512 bytes");

#define MBR_TYPE_GPT_PROTECTIVE 0xEE

#define GPT_SIGNATURE "EFI PART"
#define GPT_REVISION 0x00010000u
#define GPT_HEADER_BYTES 92u

struct gpt_header {
        char signature[8];
        uint32_t revision;
        uint32_t header_size;
        uint32_t header_crc32;
        uint32_t reserved;
        uint64_t my_lba;
        uint64_t alternate_lba;
        uint64_t first_usable_lba;
        uint64_t last_usable_lba;
        uint8_t disk_guid[16];
        uint64_t partition_entries_lba;
        uint32_t num_partition_entries;
        uint32_t sizeof_partition_entry;
        uint32_t partition_entries_crc32;
} __attribute__((packed));
static_assert(sizeof(struct gpt_header) == GPT_HEADER_BYTES, "GPT header is 92 bytes");

struct gpt_entry {
        uint8_t partition_type_guid[16];
        uint8_t unique_partition_guid[16];
        uint64_t starting_lba;
        uint64_t ending_lba;
        uint64_t attributes;
        uint16_t partition_name[36]; /* UTF-16LE */
} __attribute__((packed));
static_assert(sizeof(struct gpt_entry) == 128, "GPT entry is 128 bytes");
