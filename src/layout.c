/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>

#include "layout.h"

static uint64_t entries_sectors(uint32_t sector_size) {
        return GPT_ENTRIES_BYTES / sector_size;
}

uint64_t layout_min_alignment(enum table_kind table, uint32_t sector_size) {
        if (table == TABLE_MBR)
                return sector_size;
        /* Protective MBR, primary header, entry array (UEFI 2.10 5.3.1). */
        return (2 + entries_sectors(sector_size)) * sector_size;
}

uint64_t layout_tail_sectors(enum table_kind table, uint32_t sector_size) {
        /* Backup entry array, then the backup header in the last LBA. */
        return table == TABLE_GPT ? entries_sectors(sector_size) + 1 : 0;
}

const struct region *layout_volume(const struct layout *l, size_t k) {
        for (size_t i = 0; i < l->n_regions; i++)
                if (l->regions[i].kind == REGION_VOLUME && l->regions[i].volume == k)
                        return &l->regions[i];
        return NULL;
}

void layout_done(struct layout *l) {
        free(l->regions);
        *l = (struct layout) {};
}

int layout_compute(enum table_kind table, uint32_t sector_size, uint64_t alignment, const uint64_t *volume_bytes,
                   size_t n_volumes, struct layout *ret) {
        struct layout l = { .table = table, .sector_size = sector_size, .n_volumes = n_volumes };
        uint64_t end, file_end;

        if (sector_size != 512 && sector_size != 4096)
                return -EINVAL;
        if (n_volumes == 0)
                return -EINVAL;
        for (size_t k = 0; k < n_volumes; k++)
                if (volume_bytes[k] == 0 || volume_bytes[k] % sector_size != 0)
                        return -EINVAL;
        if (alignment % sector_size != 0 || alignment < layout_min_alignment(table, sector_size) ||
            alignment > ALIGNMENT_MAX)
                return -EDOM;
        if (n_volumes > (table == TABLE_GPT ? GPT_ENTRIES : MBR_PARTITIONS))
                return -E2BIG;

        l.head_sectors = alignment / sector_size;
        l.tail_sectors = layout_tail_sectors(table, sector_size);
        uint64_t tail_bytes = l.tail_sectors * sector_size;

        /* The kernel addresses block devices with a signed 64-bit loff_t:
         * the whole disk in bytes must stay below 2^63. Checked as the
         * regions are laid out, before anything is allocated. */
        end = alignment;
        for (size_t k = 0; k < n_volumes; k++) {
                if (k > 0 && end % alignment != 0 && __builtin_add_overflow(end, alignment - end % alignment, &end))
                        return -EFBIG;
                if (__builtin_add_overflow(end, volume_bytes[k], &end) || end > INT64_MAX)
                        return -EFBIG;
        }
        if (__builtin_add_overflow(end, tail_bytes, &end) || end > INT64_MAX)
                return -EFBIG;
        l.total_sectors = end / sector_size;

        /* MBR records hold 32-bit LBAs: the partitions must end by 2^32. */
        if (table == TABLE_MBR && l.total_sectors > MBR_MAX_SECTORS)
                return -EFBIG;

        /* Head, then per volume a gap (when it is not aligned already) and
         * the volume, then the tail. */
        l.regions = calloc(2 * n_volumes + 1, sizeof *l.regions);
        if (!l.regions)
                return -ENOMEM;
        l.regions[l.n_regions++] = (struct region) { .kind = REGION_HEAD, .start = 0, .length = alignment };
        end = file_end = alignment;
        for (size_t k = 0; k < n_volumes; k++) {
                if (end % alignment != 0) {
                        uint64_t gap = alignment - end % alignment;
                        l.regions[l.n_regions++] = (struct region) {
                                .kind = REGION_GAP, .start = end, .length = gap, .file_offset = file_end };
                        end += gap;
                        file_end += gap;
                }
                l.regions[l.n_regions++] = (struct region) {
                        .kind = REGION_VOLUME, .volume = k, .start = end, .length = volume_bytes[k] };
                end += volume_bytes[k];
        }
        if (tail_bytes > 0)
                l.regions[l.n_regions++] = (struct region) {
                        .kind = REGION_TAIL, .start = end, .length = tail_bytes, .file_offset = file_end };
        l.header_bytes = file_end + tail_bytes;
        assert(end + tail_bytes == l.total_sectors * sector_size);

        if (table == TABLE_GPT) {
                l.entries_sectors = entries_sectors(sector_size);
                l.first_usable_lba = 2 + l.entries_sectors;
                l.last_usable_lba = l.total_sectors - 2 - l.entries_sectors;
                l.backup_entries_lba = l.total_sectors - 1 - l.entries_sectors;
                l.backup_header_lba = l.total_sectors - 1;
        }
        *ret = l;
        return 0;
}
