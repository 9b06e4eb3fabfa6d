/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* MBR generation and verification.
 *
 *   LBA 0      MBR: disk signature at 0x1B8, record k+1 = volume k
 *   ...        free up to the alignment
 *   LBA head   partition 1 = volume 0, then (after any gap) volume 1, ...;
 *              the disk ends with the last (no tail)
 */

#include <assert.h>
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "gpt-format.h"
#include "table.h"

void mbr_lba_to_chs(uint64_t lba, uint8_t chs[3]) {
        const uint64_t heads = 255, sectors = 63;
        uint64_t cyl = lba / (heads * sectors);
        uint64_t head = lba / sectors % heads, sector = lba % sectors + 1;

        /* Beyond CHS range, records carry 1023/254/63, as fdisk writes. */
        if (cyl > 1023) {
                cyl = 1023;
                head = 254;
                sector = 63;
        }
        chs[0] = (uint8_t) head;
        chs[1] = (uint8_t) (sector | (cyl >> 2 & 0xC0));
        chs[2] = (uint8_t) cyl;
}

void mbr_write(const struct layout *l, const struct table_spec *spec, uint8_t *head) {
        struct mbr_sector *m = (struct mbr_sector *) head;

        assert(l->table == TABLE_MBR && spec->n_partitions == l->n_volumes && l->n_volumes <= MBR_PARTITIONS);
        assert(l->total_sectors <= MBR_MAX_SECTORS);

        m->disk_signature = htole32(spec->disk_signature);
        for (size_t k = 0; k < l->n_volumes; k++) {
                const struct region *v = layout_volume(l, k);
                struct mbr_partition *p = &m->partitions[k];
                uint64_t start = v->start / l->sector_size, sectors = v->length / l->sector_size;

                assert(spec->partitions[k].type.flags & PTYPE_HAS_MBR);
                p->os_type = spec->partitions[k].type.mbr;
                mbr_lba_to_chs(start, p->start_chs);
                mbr_lba_to_chs(start + sectors - 1, p->end_chs);
                p->starting_lba = htole32((uint32_t) start);
                p->size_in_lba = htole32((uint32_t) sectors);
        }
        m->signature[0] = 0x55;
        m->signature[1] = 0xAA;
}

/* Whether record k is exactly volume k, as a data partition. */
static bool mbr_record_verify(const struct layout *l, const struct mbr_sector *m, size_t k, struct verify_report *r) {
        const struct mbr_partition *p = &m->partitions[k];
        const struct region *v = layout_volume(l, k);
        uint64_t start = le32toh(p->starting_lba), size = le32toh(p->size_in_lba);
        uint64_t want_start = v->start / l->sector_size, want_size = v->length / l->sector_size;
        bool ok = true;

        if (p->os_type == 0) {
                verify_report_add(r, "MBR: partition %zu is unused", k + 1);
                return false;
        }
        if (p->os_type == MBR_TYPE_GPT_PROTECTIVE) {
                verify_report_add(r, "MBR: partition %zu is a GPT protective record (type 0xee)", k + 1);
                return false;
        }
        if (p->os_type == 0x05 || p->os_type == 0x0F || p->os_type == 0x85) {
                /* Guests read an extended partition as a chain of further
                 * tables, not as data: the volume would not be partition 1. */
                verify_report_add(r, "MBR: partition %zu is an extended partition (type 0x%02x), not data", k + 1, p->os_type);
                return false;
        }
        if (start != want_start) {
                verify_report_add(r, "MBR: partition %zu starts at LBA %" PRIu64 ", expected %" PRIu64, k + 1, start,
                                  want_start);
                ok = false;
        }
        if (size != want_size) {
                verify_report_add(r, "MBR: partition %zu has %" PRIu64 " sectors, expected %" PRIu64
                                  " (did the volume change size?)", k + 1, size, want_size);
                ok = false;
        }
        return ok;
}

unsigned mbr_verify(const struct layout *l, const uint8_t *head, struct verify_report *r) {
        struct mbr_sector m;
        bool ok = true;

        assert(l->table == TABLE_MBR && l->n_volumes <= MBR_PARTITIONS);
        memcpy(&m, head, sizeof m);
        if (m.signature[0] != 0x55 || m.signature[1] != 0xAA) {
                verify_report_add(r, "MBR: boot signature is %02x%02x, expected 55aa", m.signature[0], m.signature[1]);
                return r->n_problems;
        }
        r->disk_signature = le32toh(m.disk_signature);

        for (size_t k = 0; k < l->n_volumes; k++)
                if (!mbr_record_verify(l, &m, k, r))
                        ok = false;
        /* What the guest's parser makes of the sector as a whole. Linux
         * runs its GPT parser first (block/partitions/check.c), and it and
         * Windows read a disk with a type 0xee record as GPT (efi.c
         * is_pmbr_valid()); msdos.c ignores a table with a 0xee record, or
         * with a boot indicator other than 0x00 or 0x80 in any slot. */
        for (unsigned i = 0; i < 4; i++) {
                const struct mbr_partition *q = &m.partitions[i];
                if (i > 0 && q->os_type == MBR_TYPE_GPT_PROTECTIVE) {
                        verify_report_add(r, "MBR: record %u is a GPT protective record (type 0xee), so guests read a GPT, "
                                          "not this MBR", i + 1);
                        ok = false;
                }
                if (q->boot_indicator != 0x00 && q->boot_indicator != 0x80) {
                        verify_report_add(r, "MBR: record %u has boot indicator 0x%02x, not 0x00 or 0x80, so Linux ignores "
                                          "the table", i + 1, q->boot_indicator);
                        ok = false;
                }
        }
        /* Other records may exist (a guest's business) but must stay clear
         * of every volume. */
        for (unsigned i = (unsigned) l->n_volumes; i < 4; i++) {
                const struct mbr_partition *q = &m.partitions[i];
                uint64_t s = le32toh(q->starting_lba), n = le32toh(q->size_in_lba);
                if (q->os_type == 0 || n == 0)
                        continue;
                for (size_t k = 0; k < l->n_volumes; k++) {
                        const struct region *v = layout_volume(l, k);
                        uint64_t vs = v->start / l->sector_size, ve = vs + v->length / l->sector_size;
                        if (s + n > vs && s < ve) {
                                verify_report_add(r, "MBR: partition %u (LBA %" PRIu64 "+%" PRIu64 ") overlaps partition %zu",
                                                  i + 1, s, n, k + 1);
                                ok = false;
                                break;
                        }
                }
        }
        r->maps_volume = ok;
        r->primary_ok = ok;
        return r->n_problems;
}
