/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The virtual disk as a list of contiguous regions. Each region is one
 * line of the device-mapper table; head and tail are also slices of the
 * header file (head first, then tail).
 *
 *   LBA 0            head                head+volume        total
 *   | PMBR | GPT | entries | (free) | volume = partition 1 | entries | GPT |
 *   '----------- head ------------'                       '--- tail ----'
 *
 * All offsets are in bytes here; gpt/mbr convert to logical sectors and
 * dm to 512-byte units. */
enum region_kind { REGION_HEAD, REGION_VOLUME, REGION_TAIL };

struct region {
        enum region_kind kind;
        uint64_t start;       /* byte offset in the virtual disk */
        uint64_t length;      /* bytes */
        uint64_t file_offset; /* head/tail: offset in the header file */
};

#define GPT_ENTRIES 128u
#define GPT_ENTRY_BYTES 128u
#define GPT_ENTRIES_BYTES (GPT_ENTRIES * GPT_ENTRY_BYTES)
#define MBR_MAX_SECTORS (UINT64_C(1) << 32)

struct layout {
        enum table_kind table;
        uint32_t sector_size;    /* logical sector size, 512 or 4096 */
        uint64_t head_sectors, volume_sectors, tail_sectors, total_sectors;
        uint64_t entries_sectors; /* GPT: sectors of one entry array */
        struct region regions[3];
        unsigned n_regions;
        uint64_t header_bytes;    /* size of the header file: head + tail */
};

/* Computes the layout of a disk whose partition 1 is a volume of
 * volume_bytes. Pure.
 * Returns: 0, or
 *   -EINVAL  sector size not 512/4096, or volume size zero or not a
 *            multiple of the sector size;
 *   -EDOM    alignment not a multiple of the sector size, too small to hold
 *            the table, or above ALIGNMENT_MAX;
 *   -EFBIG   MBR and the disk would exceed 2^32 sectors (or GPT past 2^64). */
int layout_compute(enum table_kind table, uint64_t volume_bytes, uint32_t sector_size,
                   uint64_t alignment, struct layout *ret);

/* The smallest alignment in bytes that holds the table at this sector size. */
uint64_t layout_min_alignment(enum table_kind table, uint32_t sector_size);

/* Convenience accessors. */
static inline const struct region *layout_region(const struct layout *l, enum region_kind k) {
        for (unsigned i = 0; i < l->n_regions; i++)
                if (l->regions[i].kind == k)
                        return &l->regions[i];
        return NULL;
}
static inline uint64_t layout_head_bytes(const struct layout *l) {
        return l->head_sectors * l->sector_size;
}
static inline uint64_t layout_tail_bytes(const struct layout *l) {
        return l->tail_sectors * l->sector_size;
}
static inline uint64_t layout_total_bytes(const struct layout *l) {
        return l->total_sectors * l->sector_size;
}

struct dm_table;
/* The device-mapper table of the disk: one linear target per region, the
 * head and tail on the loop device, the volume on itself. loop and volume
 * are the device parameters ("7:0" or placeholders such as "LOOP"). */
void layout_to_dm_table(const struct layout *l, const char *loop, const char *volume, struct dm_table *ret);
