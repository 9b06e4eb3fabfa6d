/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* GPT generation and verification (UEFI 2.10, section 5.3).
 *
 *   LBA 0      protective MBR
 *   LBA 1      primary header       (my 1, alternate total-1, entries at 2)
 *   LBA 2      primary entries      (E sectors: 16 KiB = 32 at 512, 4 at 4096)
 *   ...        free up to the alignment
 *   LBA head   partition 1 = the volume, up to head+volume-1 = last usable
 *   total-1-E  backup entries       (the tail starts here)
 *   total-1    backup header        (my total-1, alternate 1, entries at total-1-E)
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

static uint64_t gpt_first_usable(const struct layout *l) {
        return 2 + l->entries_sectors;
}

static uint64_t gpt_last_usable(const struct layout *l) {
        return l->total_sectors - 2 - l->entries_sectors;
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
                .my_lba = htole64(backup ? l->total_sectors - 1 : 1),
                .alternate_lba = htole64(backup ? 1 : l->total_sectors - 1),
                .first_usable_lba = htole64(gpt_first_usable(l)),
                .last_usable_lba = htole64(gpt_last_usable(l)),
                .partition_entries_lba = htole64(backup ? l->total_sectors - 1 - l->entries_sectors : 2),
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
        struct gpt_entry e = {
                .starting_lba = htole64(l->head_sectors),
                .ending_lba = htole64(l->head_sectors + l->volume_sectors - 1),
        };

        assert(l->table == TABLE_GPT && (spec->type.flags & PTYPE_HAS_GPT));
        assert(l->head_sectors >= gpt_first_usable(l));

        guid_to_gpt(&spec->type.gpt, e.partition_type_guid);
        guid_to_gpt(&spec->partition_guid, e.unique_partition_guid);
        uint16_t name[ARRAY_SIZE(e.partition_name)] = { 0 };
        utf8_to_utf16le(spec->partition_name, name, ARRAY_SIZE(name));
        memcpy(e.partition_name, name, sizeof name);
        memcpy(entries, &e, sizeof e);
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

/* Returns true if the copy is valid; fills *ret_p1 with entry 1 and
 * *ret_entries_crc. Every field a guest could have changed is checked
 * against what it must be before it is used to reach other bytes.
 *
 * *ret_used says whether a guest may still use this copy although it is
 * not valid here: firmware and the kernel (UEFI 2.10 5.3.2, Linux
 * block/partitions/efi.c is_gpt_valid()) only reject a copy for its
 * signature, header size, CRCs, my LBA or an entry size or count they
 * cannot read, and take the backup only then. Where partwrap cannot tell
 * (entries elsewhere than expected, an array larger than the space it
 * has), the copy counts as used. *ret_p1_seen: *ret_p1 is the entry 1 a
 * guest sees (the array is where it must be). */
static bool gpt_copy_verify(const struct layout *l, const struct gpt_copy *c, struct gpt_entry *ret_p1,
                            bool *ret_used, bool *ret_p1_seen, uint32_t *ret_entries_crc, guid_t *ret_disk_guid,
                            struct verify_report *r) {
        struct gpt_header h;
        bool ok = true;

        *ret_used = *ret_p1_seen = false;
        memcpy(&h, c->header, sizeof h);
        if (memcmp(h.signature, GPT_SIGNATURE, 8) != 0) {
                verify_report_add(r, "%s GPT header: no \"EFI PART\" signature at LBA %" PRIu64, c->what, c->my_lba);
                return false;
        }
        uint32_t hsize = le32toh(h.header_size);
        if (hsize < GPT_HEADER_BYTES || hsize > l->sector_size) {
                verify_report_add(r, "%s GPT header: header size is %" PRIu32 ", expected %u..%" PRIu32,
                                  c->what, hsize, GPT_HEADER_BYTES, l->sector_size);
                return false;
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
        *ret_used = crc == le32toh(h.header_crc32) && le64toh(h.my_lba) == c->my_lba;
        EXPECT(r, le64toh(h.alternate_lba) == c->alternate_lba,
               "%s GPT header: alternate LBA is %" PRIu64 ", expected %" PRIu64 " (did the volume change size?)",
               c->what, (uint64_t) le64toh(h.alternate_lba), c->alternate_lba);
        EXPECT(r, le64toh(h.partition_entries_lba) == c->entries_lba,
               "%s GPT header: partition entries at LBA %" PRIu64 ", expected %" PRIu64,
               c->what, (uint64_t) le64toh(h.partition_entries_lba), c->entries_lba);

        uint64_t first = le64toh(h.first_usable_lba), last = le64toh(h.last_usable_lba);
        EXPECT(r, first >= gpt_first_usable(l) && first <= l->head_sectors,
               "%s GPT header: first usable LBA is %" PRIu64 ", expected %" PRIu64 "..%" PRIu64,
               c->what, first, gpt_first_usable(l), l->head_sectors);
        EXPECT(r, last == gpt_last_usable(l),
               "%s GPT header: last usable LBA is %" PRIu64 ", expected %" PRIu64 " (did the volume change size?)",
               c->what, last, gpt_last_usable(l));

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
                        *ret_used = false;
                return false;
        }
        uint32_t ecrc = crc32_buf(c->entries_area, (size_t) num * esize);
        EXPECT(r, ecrc == le32toh(h.partition_entries_crc32),
               "%s GPT entries: CRC32 is 0x%08" PRIx32 ", expected 0x%08" PRIx32,
               c->what, le32toh(h.partition_entries_crc32), ecrc);
        if (le64toh(h.partition_entries_lba) == c->entries_lba) {
                *ret_p1_seen = true;
                if (ecrc != le32toh(h.partition_entries_crc32))
                        *ret_used = false;
        }

        memcpy(ret_p1, c->entries_area, sizeof *ret_p1);
        for (uint32_t i = 1; i < num; i++) {
                struct gpt_entry e;
                static const uint8_t zero[16];

                memcpy(&e, c->entries_area + (size_t) i * esize, sizeof e);
                if (memcmp(e.partition_type_guid, zero, 16) == 0)
                        continue;
                uint64_t s = le64toh(e.starting_lba), end = le64toh(e.ending_lba);
                EXPECT(r, s >= first && end <= last && s <= end && (end < l->head_sectors || s > gpt_last_usable(l)),
                       "%s GPT entries: partition %" PRIu32 " (LBA %" PRIu64 "..%" PRIu64
                       ") overlaps partition 1 or leaves the usable area", c->what, i + 1, s, end);
        }
        *ret_entries_crc = ecrc;
        guid_from_gpt(h.disk_guid, ret_disk_guid);
        return ok;
}

static bool gpt_entry_verify(const struct layout *l, const char *what, const struct gpt_entry *e,
                             struct verify_report *r) {
        static const uint8_t zero[16];
        uint64_t s = le64toh(e->starting_lba), end = le64toh(e->ending_lba);
        uint64_t want_end = l->head_sectors + l->volume_sectors - 1;
        bool ok = true;

        if (memcmp(e->partition_type_guid, zero, 16) == 0) {
                verify_report_add(r, "%s GPT entries: partition 1 is unused", what);
                return false;
        }
        EXPECT(r, s == l->head_sectors, "%s GPT entries: partition 1 starts at LBA %" PRIu64 ", expected %" PRIu64,
               what, s, l->head_sectors);
        EXPECT(r, end == want_end,
               "%s GPT entries: partition 1 ends at LBA %" PRIu64 ", expected %" PRIu64 " (the volume has %" PRIu64 " sectors)",
               what, end, want_end, l->volume_sectors);
        return ok;
}

unsigned gpt_verify(const struct layout *l, const uint8_t *head, const uint8_t *tail, struct verify_report *r) {
        const uint64_t entries_bytes = l->entries_sectors * l->sector_size;
        struct gpt_copy copies[2] = {
                { .what = "primary", .header = head + l->sector_size, .my_lba = 1,
                  .alternate_lba = l->total_sectors - 1, .entries_lba = 2,
                  .entries_area = head + 2 * l->sector_size,
                  /* The primary array may extend up to partition 1. */
                  .entries_area_len = (l->head_sectors - 2) * l->sector_size },
                { .what = "backup", .header = tail + entries_bytes, .my_lba = l->total_sectors - 1,
                  .alternate_lba = 1, .entries_lba = l->total_sectors - 1 - l->entries_sectors,
                  .entries_area = tail, .entries_area_len = entries_bytes },
        };
        struct gpt_entry p1[2];
        uint32_t crc[2] = { 0, 0 };
        guid_t disk_guid[2];
        bool valid[2], maps[2], used[2], p1_seen[2];

        assert(l->table == TABLE_GPT);
        bool pmbr = pmbr_verify(head, r);
        for (unsigned i = 0; i < 2; i++) {
                valid[i] = gpt_copy_verify(l, &copies[i], &p1[i], &used[i], &p1_seen[i], &crc[i], &disk_guid[i], r);
                maps[i] = valid[i] && gpt_entry_verify(l, copies[i].what, &p1[i], r);
        }
        /* A guest reads the primary whenever it can: then the backup's
         * partition 1 does not count, whatever it says. */
        if (!valid[0] && used[0]) {
                if (p1_seen[0])
                        gpt_entry_verify(l, "primary", &p1[0], r);
                if (maps[1])
                        verify_report_add(r, "primary GPT: signature and CRCs are intact, so guests use it, not the backup");
        }
        if (valid[0] && valid[1]) {
                if (crc[0] != crc[1])
                        verify_report_add(r, "backup GPT entries differ from the primary entries");
                if (!guid_equal(&disk_guid[0], &disk_guid[1]))
                        verify_report_add(r, "backup GPT header: disk GUID differs from the primary");
        }
        r->primary_ok = valid[0];
        r->backup_ok = valid[1];
        r->maps_volume = pmbr && (maps[0] || (!used[0] && maps[1]));
        return r->n_problems;
}
