/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* GPT generation and verification (UEFI 2.10, section 5.3).
 *
 *   LBA 0      protective MBR
 *   LBA 1      primary header       (my 1, alternate total-1, entries at 2)
 *   LBA 2      primary entries      (E sectors: 16 KiB = 32 at 512, 4 at 4096)
 *   ...        free up to the alignment
 *   LBA head   partition 1 = volume 0, then (after any gap) partition 2 =
 *              volume 1, ...; the last ends at last usable = total-2-E
 *   total-1-E  backup entries       (the tail starts here)
 *   total-1    backup header        (my total-1, alternate 1, entries at total-1-E)
 *
 * Every LBA comes from the layout (layout.h), which owns the geometry.
 */

#include <assert.h>
#include <endian.h>
#include <inttypes.h>
#include <string.h>
#include <zlib.h>

#include "gpt-format.h"
#include "table.h"
#include "util.h"

static uint32_t crc32_buf(const void *p, size_t len) {
        return (uint32_t) crc32(0L, p, (uInt) len);
}

/* Converts UTF-8 to at most max UTF-16LE code units; invalid sequences
 * become U+FFFD and a surrogate pair is never split. */
static void utf8_to_utf16le(const char *s, uint16_t *out, unsigned max) {
        unsigned n = 0;

        while (*s && n < max) {
                uint32_t c;
                unsigned len = utf8_decode(s, &c);
                if (len == 0) {
                        c = 0xFFFD;
                        len = 1;
                }
                s += len;
                if (c >= 0x10000) {
                        if (n + 2 > max)
                                break;
                        c -= 0x10000;
                        out[n++] = htole16((uint16_t) (0xD800 | c >> 10));
                        out[n++] = htole16((uint16_t) (0xDC00 | (c & 0x3FF)));
                } else
                        out[n++] = htole16((uint16_t) c);
        }
}

static void gpt_write_pmbr(const struct layout *l, uint8_t *sector) {
        struct mbr_sector *m = (struct mbr_sector *) sector;
        uint64_t size = l->total_sectors - 1;

        /* UEFI 5.2.3: one 0xEE record from LBA 1 over the disk, capped at
         * 0xFFFFFFFF; ending CHS 0xFFFFFF when the disk is past CHS range. */
        m->partitions[0].start_chs[1] = 0x02;
        m->partitions[0].os_type = MBR_TYPE_GPT_PROTECTIVE;
        mbr_lba_to_chs(size, m->partitions[0].end_chs);
        if (size >= 1024ull * 255 * 63)
                memset(m->partitions[0].end_chs, 0xFF, 3);
        m->partitions[0].starting_lba = htole32(1);
        m->partitions[0].size_in_lba = htole32(size > UINT32_MAX ? UINT32_MAX : (uint32_t) size);
        m->signature[0] = 0x55;
        m->signature[1] = 0xAA;
}

static void gpt_write_header(const struct layout *l, const struct table_spec *spec, uint8_t *sector,
                             bool backup, uint32_t entries_crc) {
        struct gpt_header h = {
                .signature = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' },
                .revision = htole32(GPT_REVISION),
                .header_size = htole32(GPT_HEADER_BYTES),
                .my_lba = htole64(backup ? l->backup_header_lba : 1),
                .alternate_lba = htole64(backup ? 1 : l->backup_header_lba),
                .first_usable_lba = htole64(l->first_usable_lba),
                .last_usable_lba = htole64(l->last_usable_lba),
                .partition_entries_lba = htole64(backup ? l->backup_entries_lba : 2),
                .num_partition_entries = htole32(GPT_ENTRIES),
                .sizeof_partition_entry = htole32(GPT_ENTRY_BYTES),
                .partition_entries_crc32 = htole32(entries_crc),
        };

        guid_to_gpt(&spec->disk_guid, h.disk_guid);
        h.header_crc32 = htole32(crc32_buf(&h, sizeof h));
        memcpy(sector, &h, sizeof h);
}

void gpt_write(const struct layout *l, const struct table_spec *spec, uint8_t *head, uint8_t *tail) {
        uint8_t *entries = head + 2 * l->sector_size;

        assert(l->table == TABLE_GPT && spec->n_partitions == l->n_volumes);
        assert(l->head_sectors >= l->first_usable_lba);

        for (size_t k = 0; k < l->n_volumes; k++) {
                const struct region *v = layout_volume(l, k);
                const struct table_partition *p = &spec->partitions[k];
                struct gpt_entry e = {
                        .starting_lba = htole64(v->start / l->sector_size),
                        .ending_lba = htole64((v->start + v->length) / l->sector_size - 1),
                };
                uint16_t name[ARRAY_SIZE(e.partition_name)] = { 0 };

                assert(p->type.flags & PTYPE_HAS_GPT);
                guid_to_gpt(&p->type.gpt, e.partition_type_guid);
                guid_to_gpt(&p->guid, e.unique_partition_guid);
                utf8_to_utf16le(p->name, name, ARRAY_SIZE(name));
                memcpy(e.partition_name, name, sizeof name);
                memcpy(entries + k * GPT_ENTRY_BYTES, &e, sizeof e);
        }
        uint32_t entries_crc = crc32_buf(entries, GPT_ENTRIES_BYTES);

        gpt_write_pmbr(l, head);
        gpt_write_header(l, spec, head + l->sector_size, false, entries_crc);
        memcpy(tail, entries, GPT_ENTRIES_BYTES);
        gpt_write_header(l, spec, tail + l->entries_sectors * l->sector_size, true, entries_crc);
}

/* Whether a guest reads the GPT at all. Linux (block/partitions/efi.c,
 * is_pmbr_valid()) reads a GPT only behind a boot signature and a type 0xee
 * record starting at LBA 1, in any of the four slots, and otherwise falls
 * back to the MBR (msdos.c); Windows reads a disk as GPT only with a 0xee
 * record. Without a protective MBR, whatever the GPT says about partition
 * 1 is not what the guest sees. */
static bool pmbr_verify(const uint8_t *sector, struct verify_report *r) {
        const struct mbr_sector *m = (const struct mbr_sector *) sector;

        if (m->signature[0] != 0x55 || m->signature[1] != 0xAA) {
                verify_report_add(r, "protective MBR: boot signature is %02x%02x, expected 55aa, so guests do not read the GPT",
                                  m->signature[0], m->signature[1]);
                return false;
        }
        for (unsigned i = 0; i < 4; i++)
                if (m->partitions[i].os_type == MBR_TYPE_GPT_PROTECTIVE && le32toh(m->partitions[i].starting_lba) == 1)
                        return true;
        verify_report_add(r, "protective MBR: no type 0xee record starting at LBA 1, so guests read the MBR, not the GPT");
        return false;
}

/* One GPT copy: its header at my_lba, its entries in buf at the offset
 * its (checked) partition_entries_lba implies. entries_area/entries_len
 * is where this copy's entry array may live within the header file. */
struct gpt_copy {
        const char *what;            /* "primary" or "backup" */
        const uint8_t *header;       /* the sector holding the header */
        uint64_t my_lba, alternate_lba, entries_lba;
        const uint8_t *entries_area; /* bytes at entries_lba */
        uint64_t entries_area_len;
};

#define EXPECT(r, cond, ...)                             \
        do {                                             \
                if (!(cond)) {                           \
                        verify_report_add(r, __VA_ARGS__); \
                        ok = false;                      \
                }                                        \
        } while (0)

/* What gpt_copy_verify() found in one copy. */
struct gpt_copy_result {
        bool valid;            /* every field as it must be */
        /* Whether a guest may still use this copy although it is not valid
         * here: firmware and the kernel (UEFI 2.10 5.3.2, Linux
         * block/partitions/efi.c is_gpt_valid()) only reject a copy for
         * its signature, header size, CRCs, my LBA or an entry size or
         * count they cannot read, and take the backup only then. Where
         * partwrap cannot tell (entries elsewhere than expected, an array
         * larger than the space it has), the copy counts as used. */
        bool used;
        bool entries_seen;     /* the entries are the ones a guest sees (where they must be) */
        const uint8_t *entries; /* NULL unless the array fits its space */
        uint32_t n_entries, entry_size;
        uint32_t entries_crc;
        guid_t disk_guid;
};

/* Checks one copy. Every field a guest could have changed is checked
 * against what it must be before it is used to reach other bytes. */
static struct gpt_copy_result gpt_copy_verify(const struct layout *l, const struct gpt_copy *c, struct verify_report *r) {
        struct gpt_copy_result res = {};
        struct gpt_header h;
        bool ok = true;

        memcpy(&h, c->header, sizeof h);
        if (memcmp(h.signature, GPT_SIGNATURE, 8) != 0) {
                verify_report_add(r, "%s GPT header: no \"EFI PART\" signature at LBA %" PRIu64, c->what, c->my_lba);
                return res;
        }
        uint32_t hsize = le32toh(h.header_size);
        if (hsize < GPT_HEADER_BYTES || hsize > l->sector_size) {
                verify_report_add(r, "%s GPT header: header size is %" PRIu32 ", expected %u..%" PRIu32,
                                  c->what, hsize, GPT_HEADER_BYTES, l->sector_size);
                return res;
        }

        /* The CRC covers header_size bytes with the CRC field zeroed. */
        uint8_t tmp[4096];
        memcpy(tmp, c->header, hsize);
        memset(tmp + offsetof(struct gpt_header, header_crc32), 0, 4);
        uint32_t crc = crc32_buf(tmp, hsize);
        EXPECT(r, crc == le32toh(h.header_crc32), "%s GPT header: CRC32 is 0x%08" PRIx32 ", expected 0x%08" PRIx32,
               c->what, le32toh(h.header_crc32), crc);
        EXPECT(r, le32toh(h.revision) == GPT_REVISION, "%s GPT header: revision is 0x%08" PRIx32 ", expected 0x%08x",
               c->what, le32toh(h.revision), GPT_REVISION);
        EXPECT(r, le64toh(h.my_lba) == c->my_lba, "%s GPT header: my LBA is %" PRIu64 ", expected %" PRIu64,
               c->what, (uint64_t) le64toh(h.my_lba), c->my_lba);
        res.used = crc == le32toh(h.header_crc32) && le64toh(h.my_lba) == c->my_lba;
        EXPECT(r, le64toh(h.alternate_lba) == c->alternate_lba,
               "%s GPT header: alternate LBA is %" PRIu64 ", expected %" PRIu64 " (did the volume change size?)",
               c->what, (uint64_t) le64toh(h.alternate_lba), c->alternate_lba);
        EXPECT(r, le64toh(h.partition_entries_lba) == c->entries_lba,
               "%s GPT header: partition entries at LBA %" PRIu64 ", expected %" PRIu64,
               c->what, (uint64_t) le64toh(h.partition_entries_lba), c->entries_lba);

        uint64_t first = le64toh(h.first_usable_lba), last = le64toh(h.last_usable_lba);
        EXPECT(r, first >= l->first_usable_lba && first <= l->head_sectors,
               "%s GPT header: first usable LBA is %" PRIu64 ", expected %" PRIu64 "..%" PRIu64,
               c->what, first, l->first_usable_lba, l->head_sectors);
        EXPECT(r, last == l->last_usable_lba,
               "%s GPT header: last usable LBA is %" PRIu64 ", expected %" PRIu64 " (did the volume change size?)",
               c->what, last, l->last_usable_lba);

        /* Bound the entry array before touching it: num * size must fit in
         * the space this copy has, whatever the header claims. */
        uint32_t num = le32toh(h.num_partition_entries), esize = le32toh(h.sizeof_partition_entry);
        if (esize < sizeof(struct gpt_entry) || esize % 8 != 0 || esize > 4096 || num == 0 ||
            (uint64_t) num * esize > c->entries_area_len) {
                verify_report_add(r, "%s GPT header: %" PRIu32 " entries of %" PRIu32
                                  " bytes do not fit the %" PRIu64 "-byte entry array",
                                  c->what, num, esize, c->entries_area_len);
                /* No entries, or entries of a size nobody reads (UEFI:
                 * 128 * 2^n): every consumer rejects the copy. */
                if (num == 0 || esize < sizeof(struct gpt_entry) || (esize & (esize - 1)) != 0)
                        res.used = false;
                return res;
        }
        uint32_t ecrc = crc32_buf(c->entries_area, (size_t) num * esize);
        EXPECT(r, ecrc == le32toh(h.partition_entries_crc32),
               "%s GPT entries: CRC32 is 0x%08" PRIx32 ", expected 0x%08" PRIx32,
               c->what, le32toh(h.partition_entries_crc32), ecrc);
        if (le64toh(h.partition_entries_lba) == c->entries_lba) {
                res.entries_seen = true;
                if (ecrc != le32toh(h.partition_entries_crc32))
                        res.used = false;
        }
        res.entries = c->entries_area;
        res.n_entries = num;
        res.entry_size = esize;

        /* Entries past the volumes' may exist (a guest's business) but must
         * stay in the usable area and clear of every volume. */
        for (uint32_t i = (uint32_t) l->n_volumes; i < num; i++) {
                struct gpt_entry e;
                static const uint8_t zero[16];

                memcpy(&e, c->entries_area + (size_t) i * esize, sizeof e);
                if (memcmp(e.partition_type_guid, zero, 16) == 0)
                        continue;
                uint64_t s = le64toh(e.starting_lba), end = le64toh(e.ending_lba);
                bool clear = s >= first && end <= last && s <= end;
                for (size_t k = 0; clear && k < l->n_volumes; k++) {
                        const struct region *v = layout_volume(l, k);
                        uint64_t vs = v->start / l->sector_size, ve = (v->start + v->length) / l->sector_size - 1;
                        clear = end < vs || s > ve;
                }
                EXPECT(r, clear,
                       "%s GPT entries: partition %" PRIu32 " (LBA %" PRIu64 "..%" PRIu64
                       ") overlaps %s or leaves the usable area", c->what, i + 1, s, end,
                       l->n_volumes == 1 ? "partition 1" : "a volume's partition");
        }
        res.entries_crc = ecrc;
        guid_from_gpt(h.disk_guid, &res.disk_guid);
        res.valid = ok;
        return res;
}

/* Whether partition k+1 of a copy is exactly volume k, for every volume. */
static bool gpt_partitions_verify(const struct layout *l, const char *what, const struct gpt_copy_result *c,
                                  struct verify_report *r) {
        static const uint8_t zero[16];
        bool ok = true;

        for (size_t k = 0; k < l->n_volumes; k++) {
                const struct region *v = layout_volume(l, k);
                uint64_t want_start = v->start / l->sector_size, sectors = v->length / l->sector_size;
                uint64_t want_end = want_start + sectors - 1;
                struct gpt_entry e = {};

                if (k < c->n_entries)
                        memcpy(&e, c->entries + k * c->entry_size, sizeof e);
                uint64_t s = le64toh(e.starting_lba), end = le64toh(e.ending_lba);
                if (memcmp(e.partition_type_guid, zero, 16) == 0) {
                        verify_report_add(r, "%s GPT entries: partition %zu is unused", what, k + 1);
                        ok = false;
                        continue;
                }
                EXPECT(r, s == want_start, "%s GPT entries: partition %zu starts at LBA %" PRIu64 ", expected %" PRIu64,
                       what, k + 1, s, want_start);
                EXPECT(r, end == want_end,
                       "%s GPT entries: partition %zu ends at LBA %" PRIu64 ", expected %" PRIu64
                       " (the volume has %" PRIu64 " sectors)", what, k + 1, end, want_end, sectors);
        }
        return ok;
}

unsigned gpt_verify(const struct layout *l, const uint8_t *head, const uint8_t *tail, struct verify_report *r) {
        const uint64_t entries_bytes = l->entries_sectors * l->sector_size;
        struct gpt_copy copies[2] = {
                { .what = "primary", .header = head + l->sector_size, .my_lba = 1,
                  .alternate_lba = l->backup_header_lba, .entries_lba = 2,
                  .entries_area = head + 2 * l->sector_size,
                  /* The primary array may extend up to partition 1. */
                  .entries_area_len = (l->head_sectors - 2) * l->sector_size },
                { .what = "backup", .header = tail + entries_bytes, .my_lba = l->backup_header_lba,
                  .alternate_lba = 1, .entries_lba = l->backup_entries_lba,
                  .entries_area = tail, .entries_area_len = entries_bytes },
        };
        struct gpt_copy_result c[2];
        bool maps[2];

        assert(l->table == TABLE_GPT);
        bool pmbr = pmbr_verify(head, r);
        for (unsigned i = 0; i < 2; i++) {
                c[i] = gpt_copy_verify(l, &copies[i], r);
                maps[i] = c[i].valid && gpt_partitions_verify(l, copies[i].what, &c[i], r);
        }
        /* A guest reads the primary whenever it can: then the backup's
         * partitions do not count, whatever they say. */
        if (!c[0].valid && c[0].used) {
                if (c[0].entries_seen)
                        gpt_partitions_verify(l, "primary", &c[0], r);
                if (maps[1])
                        verify_report_add(r, "primary GPT: signature and CRCs are intact, so guests use it, not the backup");
        }
        if (c[0].valid && c[1].valid) {
                if (c[0].entries_crc != c[1].entries_crc)
                        verify_report_add(r, "backup GPT entries differ from the primary entries");
                if (!guid_equal(&c[0].disk_guid, &c[1].disk_guid))
                        verify_report_add(r, "backup GPT header: disk GUID differs from the primary");
        }
        r->primary_ok = c[0].valid;
        r->backup_ok = c[1].valid;
        r->maps_volume = pmbr && (maps[0] || (!c[0].used && maps[1]));
        return r->n_problems;
}
