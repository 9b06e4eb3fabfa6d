/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Live grow, the pure part: the header of a disk whose volume became
 * larger, computed from the header the guest has now. Everything the
 * guest wrote stays (disk and partition GUIDs, names, attributes, other
 * entries, boot code, MBR signature); only what the new size moves
 * changes:
 *
 *   GPT  protective MBR size, the last partition's last LBA, last usable LBA,
 *        the primary's alternate LBA, the backup entries and header at the
 *        new end (the tail keeps its place in the header file), every CRC
 *   MBR  the last partition's size and ending CHS
 *
 * No I/O: reconcile reads the header and writes the result. */

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* The disk as it is now: what the live device-mapper table and the
 * header file say, before the volume grew. Only the last partition grows:
 * the partitions before it keep their places. */
struct grow_geometry {
        enum table_kind table;
        uint32_t sector_size;    /* logical, 512 or 4096 */
        uint64_t head_sectors;   /* partition 1's first LBA: the alignment */
        size_t n_before;         /* partitions before the one that grows (0: a disk of one volume) */
        const uint64_t *before_sectors; /* their lengths: their volumes */
        uint64_t volume_sectors; /* the last partition's length: the old volume */
};

/* Why a header cannot grow. Each is a property of the sizes or of what
 * the guest wrote, never a system error. */
enum grow_code {
        GROW_SHRINK = 1,      /* the volume is smaller than partition 1 */
        GROW_SAME_SIZE,       /* nothing to grow */
        GROW_VOLUME_SIZE,     /* the new size is not a multiple of the sector */
        GROW_MBR_LIMIT,       /* MBR: the disk would pass 2^32 sectors */
        GROW_TOO_LARGE,       /* the disk would pass 2^63 bytes */
        GROW_GEOMETRY,        /* the old geometry is not a layout partwrap makes */
        GROW_HEADER_CORRUPT,  /* the header does not verify; message: the first problem */
        GROW_PARTITION_MOVED, /* partition 1 no longer maps the old volume exactly */
        GROW_BLOCKED,         /* the grown table does not verify (a guest's partition in the way) */
};

#define GROW_MSG_MAX 256
struct grow_reason {
        enum grow_code code;
        char message[GROW_MSG_MAX]; /* a sentence with the numbers that explain it */
};

/* Grows the header (len bytes, head then tail, as the header file holds
 * it) of a disk of geometry old to a volume of new_volume_bytes. The old
 * header must verify against the old layout; the new one is verified
 * against the new layout before it is returned. The header file keeps its
 * size: *ret_header is malloc'ed, len bytes, written only on 0.
 * Returns: 0; or a positive enum grow_code, with *ret_why written; or
 * -ENOMEM. */
int grow_header(const struct grow_geometry *old, const uint8_t *header, size_t len, uint64_t new_volume_bytes,
                uint8_t **ret_header, struct grow_reason *ret_why);

/* The layout of the disk of geometry g once its last volume has
 * volume_bytes. Returns 0, or layout_compute()'s -errno. */
int grow_layout(const struct grow_geometry *g, uint64_t volume_bytes, struct layout *ret);

/* Partition 1's length in sectors as a header (len bytes, head first)
 * says it, when partition 1 starts at head_sectors: what a grow finished
 * by a later run had before (the header it replaces). Reads the primary
 * GPT's first entry or the MBR's first record, trusting nothing else.
 * Returns 0 when the header does not say. */
uint64_t grow_partition1_sectors(enum table_kind table, uint32_t sector_size, uint64_t head_sectors,
                                 const uint8_t *header, size_t len);
