/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The virtual disk as a list of contiguous regions: the bottom of
 * partwrap, pure, and the one home of its geometry. Each region is one
 * line of the device-mapper table; the head, the gaps and the tail are
 * also slices of the header file, in that order.
 *
 *   LBA 0        head                                            total
 *   | PMBR | GPT | entries | (free) | volume 0 | gap | volume 1 | entries | GPT |
 *   '----------- head ------------'                             '--- tail ----'
 *
 * Volume k is partition k+1 and starts at the first multiple of the
 * alignment after volume k-1 ends; the padding between them is a gap,
 * backed by the header file so that a guest's writes there persist. The
 * GPT tail (backup entries, backup header in the last LBA) follows the
 * last volume directly. All offsets are in bytes here; gpt/mbr convert to
 * logical sectors and dm to 512-byte units.
 *
 * Includes nothing of partwrap but util.h: config, gpt, mbr, dm, show and
 * reconcile build on it, never the other way round. */

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum table_kind { TABLE_GPT, TABLE_MBR };

#define GPT_ENTRIES 128u
#define GPT_ENTRY_BYTES 128u
#define GPT_ENTRIES_BYTES (GPT_ENTRIES * GPT_ENTRY_BYTES)
#define MBR_PARTITIONS 4u
#define MBR_MAX_SECTORS (UINT64_C(1) << 32)
#define ALIGNMENT_MAX (UINT64_C(1) << 30)

enum region_kind { REGION_HEAD, REGION_VOLUME, REGION_GAP, REGION_TAIL };

struct region {
        enum region_kind kind;
        size_t volume;        /* REGION_VOLUME: which volume, from 0 */
        uint64_t start;       /* byte offset in the virtual disk */
        uint64_t length;      /* bytes, never 0 */
        uint64_t file_offset; /* head, gaps, tail: offset in the header file */
};

struct layout {
        enum table_kind table;
        uint32_t sector_size;      /* logical sector size, 512 or 4096 */
        uint64_t head_sectors, tail_sectors, total_sectors;
        uint64_t header_bytes;     /* size of the header file: head + gaps + tail */
        /* GPT (UEFI 2.10 5.3.2), all 0 for MBR: the sectors of one entry
         * array, the usable range, where the backup copy lives. The primary
         * header is at LBA 1, its entries at LBA 2. */
        uint64_t entries_sectors;
        uint64_t first_usable_lba, last_usable_lba;
        uint64_t backup_entries_lba, backup_header_lba;
        size_t n_volumes;
        size_t n_regions;
        struct region *regions;    /* malloc'ed, in disk order */
};

/* Computes the layout of a disk whose partitions 1..n are volumes of the
 * given sizes, in that order. Pure. *ret is written only on success and
 * released with layout_done().
 * Returns: 0, or
 *   -EINVAL  sector size not 512/4096, no volume, or a volume size zero or
 *            not a multiple of the sector size;
 *   -EDOM    alignment not a multiple of the sector size, too small to hold
 *            the table, or above ALIGNMENT_MAX;
 *   -E2BIG   more volumes than the table has partitions (4 MBR, 128 GPT);
 *   -EFBIG   MBR and the disk would exceed 2^32 sectors (or past 2^63 bytes);
 *   -ENOMEM. */
int layout_compute(enum table_kind table, uint32_t sector_size, uint64_t alignment, const uint64_t *volume_bytes,
                   size_t n_volumes, struct layout *ret);
void layout_done(struct layout *l);

/* The smallest alignment in bytes that holds the table at this sector size. */
uint64_t layout_min_alignment(enum table_kind table, uint32_t sector_size);
/* Sectors of the GPT tail at this sector size (0 for MBR): what the tail
 * will be before the volume is known. */
uint64_t layout_tail_sectors(enum table_kind table, uint32_t sector_size);

/* The region of volume k (partition k+1), or NULL past the last. */
const struct region *layout_volume(const struct layout *l, size_t k);

static inline uint64_t layout_head_bytes(const struct layout *l) {
        return l->head_sectors * l->sector_size;
}
static inline uint64_t layout_tail_bytes(const struct layout *l) {
        return l->tail_sectors * l->sector_size;
}
static inline uint64_t layout_total_bytes(const struct layout *l) {
        return l->total_sectors * l->sector_size;
}
