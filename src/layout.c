/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "dm.h"
#include "layout.h"
#include "size.h"
#include "util.h"

static uint64_t entries_sectors(uint32_t sector_size) {
        return GPT_ENTRIES_BYTES / sector_size;
}

uint64_t layout_min_alignment(enum table_kind table, uint32_t sector_size) {
        if (table == TABLE_MBR)
                return sector_size;
        /* Protective MBR, primary header, entry array (UEFI 2.10 5.3.1). */
        return (2 + entries_sectors(sector_size)) * sector_size;
}

int layout_compute(enum table_kind table, uint64_t volume_bytes, uint32_t sector_size,
                   uint64_t alignment, struct layout *ret) {
        struct layout l = { .table = table, .sector_size = sector_size };

        if (sector_size != 512 && sector_size != 4096)
                return -EINVAL;
        if (volume_bytes == 0 || volume_bytes % sector_size != 0)
                return -EINVAL;
        if (alignment % sector_size != 0 || alignment < layout_min_alignment(table, sector_size) ||
            alignment > ALIGNMENT_MAX)
                return -EDOM;

        l.head_sectors = alignment / sector_size;
        l.volume_sectors = volume_bytes / sector_size;
        if (table == TABLE_GPT) {
                /* Backup entry array, then the backup header in the last LBA. */
                l.entries_sectors = entries_sectors(sector_size);
                l.tail_sectors = l.entries_sectors + 1;
        }

        /* The kernel addresses block devices with a signed 64-bit loff_t:
         * the whole disk in bytes must stay below 2^63. */
        uint64_t tail_bytes = l.tail_sectors * sector_size, total_bytes;
        if (__builtin_add_overflow(volume_bytes, alignment, &total_bytes) ||
            __builtin_add_overflow(total_bytes, tail_bytes, &total_bytes) || total_bytes > INT64_MAX)
                return -EFBIG;
        l.total_sectors = total_bytes / sector_size;

        /* MBR records hold 32-bit LBAs: the partition must end before 2^32. */
        if (table == TABLE_MBR && l.total_sectors > MBR_MAX_SECTORS)
                return -EFBIG;

        l.regions[l.n_regions++] = (struct region) {
                .kind = REGION_HEAD, .start = 0, .length = alignment, .file_offset = 0 };
        l.regions[l.n_regions++] = (struct region) {
                .kind = REGION_VOLUME, .start = alignment, .length = volume_bytes };
        if (tail_bytes > 0)
                l.regions[l.n_regions++] = (struct region) {
                        .kind = REGION_TAIL, .start = alignment + volume_bytes,
                        .length = tail_bytes, .file_offset = alignment };
        l.header_bytes = alignment + tail_bytes;

        assert(l.regions[l.n_regions - 1].start + l.regions[l.n_regions - 1].length == total_bytes);
        *ret = l;
        return 0;
}

void layout_to_dm_table(const struct layout *l, const char *loop, const char *volume, struct dm_table *ret) {
        struct dm_table t = { 0 };

        for (unsigned i = 0; i < l->n_regions; i++) {
                const struct region *r = &l->regions[i];
                struct dm_target *d = &t.t[t.n++];

                d->start = r->start >> SECTOR_SHIFT;
                d->length = r->length >> SECTOR_SHIFT;
                snprintf(d->params, sizeof d->params, "%s %" PRIu64,
                         r->kind == REGION_VOLUME ? volume : loop, r->file_offset >> SECTOR_SHIFT);
        }
        *ret = t;
}
