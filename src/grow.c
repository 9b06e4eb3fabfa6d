/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Growing a header in place (grow.h). The header file keeps its size and
 * its two slices; only the LBAs the disk's end implies move:
 *
 *   before   | PMBR | GPT | entries | .. | volume      | entries | GPT |
 *   after    | PMBR | GPT | entries | .. | volume  + more  | entries | GPT |
 *                                                          ^ total-1-E  ^ total-1
 *
 * The old header is judged by the verifier first and the new one after,
 * so every byte this file reaches through a guest-written field has been
 * bounded there. */

#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <zlib.h>

#include "gpt-format.h"
#include "grow.h"
#include "table.h"
#include "util.h"

static int refuse(struct grow_reason *ret_why, enum grow_code code, const char *fmt, ...) _printf_(3, 4);
static int refuse(struct grow_reason *ret_why, enum grow_code code, const char *fmt, ...) {
        va_list ap;

        ret_why->code = code;
        va_start(ap, fmt);
        vsnprintf(ret_why->message, sizeof ret_why->message, fmt, ap);
        va_end(ap);
        return (int) code;
}

/* The one call into layout.h: the old partitions, then the last volume at
 * volume_bytes, at the old alignment. */
int grow_layout(const struct grow_geometry *g, uint64_t volume_bytes, struct layout *ret) {
        uint64_t sizes[GPT_ENTRIES];

        if (g->n_before >= GPT_ENTRIES)
                return -E2BIG;
        for (size_t k = 0; k < g->n_before; k++) {
                if (g->before_sectors[k] > INT64_MAX / g->sector_size)
                        return -EFBIG;
                sizes[k] = g->before_sectors[k] * g->sector_size;
        }
        sizes[g->n_before] = volume_bytes;
        return layout_compute(g->table, g->sector_size, g->head_sectors * g->sector_size, sizes, g->n_before + 1, ret);
}

/* The last partition's first LBA in layout l. */
static uint64_t last_start(const struct layout *l) {
        return layout_volume(l, l->n_volumes - 1)->start / l->sector_size;
}

/* The CRC covers header_size bytes with its own field zeroed (UEFI 2.10
 * 5.3.2). */
static void gpt_header_crc_set(uint8_t *sector, uint32_t header_size) {
        uint32_t crc;

        memset(sector + offsetof(struct gpt_header, header_crc32), 0, sizeof crc);
        crc = htole32((uint32_t) crc32(0L, sector, header_size));
        memcpy(sector + offsetof(struct gpt_header, header_crc32), &crc, sizeof crc);
}

/* The protective record covers the disk from LBA 1, capped at 0xFFFFFFFF,
 * ending CHS 0xFFFFFF past CHS range (UEFI 2.10 5.2.3), as gpt_write()
 * makes it. Boot code, signature and any other record are the guest's. */
static void pmbr_grow(const struct layout *l, uint8_t *sector) {
        struct mbr_sector m;
        uint64_t last = l->total_sectors - 1;

        memcpy(&m, sector, sizeof m);
        for (unsigned i = 0; i < 4; i++) {
                struct mbr_partition *p = &m.partitions[i];

                if (p->os_type != MBR_TYPE_GPT_PROTECTIVE || le32toh(p->starting_lba) != 1)
                        continue;
                p->size_in_lba = htole32(last > UINT32_MAX ? UINT32_MAX : (uint32_t) last);
                mbr_lba_to_chs(last, p->end_chs);
                if (last >= 1024ull * 255 * 63)
                        memset(p->end_chs, 0xFF, 3);
        }
        memcpy(sector, &m, sizeof m);
}

/* Bytes of the primary GPT's entry array, as its header says. */
static uint64_t gpt_entries_len(const struct layout *l, const uint8_t *buf) {
        struct gpt_header h;

        memcpy(&h, buf + l->sector_size, sizeof h);
        return (uint64_t) le32toh(h.num_partition_entries) * le32toh(h.sizeof_partition_entry);
}

static void gpt_grow(const struct layout *l, uint64_t volume_sectors, uint8_t *buf) {
        const uint32_t ss = l->sector_size;
        const uint64_t backup_header_lba = l->total_sectors - 1;
        const uint64_t backup_entries_lba = backup_header_lba - l->entries_sectors;
        uint8_t *primary = buf + ss, *entries = buf + 2 * ss;
        uint8_t *tail = buf + l->header_bytes - layout_tail_bytes(l);
        uint8_t *backup = tail + l->entries_sectors * ss;
        const size_t k = l->n_volumes - 1;
        struct gpt_header h;
        struct gpt_entry e;

        /* The old primary verified (its entries are at LBA 2), and
         * grow_header() checked that its array fits the tail. */
        memcpy(&h, primary, sizeof h);
        size_t entries_len = (size_t) gpt_entries_len(l, buf);
        uint32_t header_size = le32toh(h.header_size);

        memcpy(&e, entries + k * sizeof e, sizeof e);
        e.ending_lba = htole64(last_start(l) + volume_sectors - 1);
        memcpy(entries + k * sizeof e, &e, sizeof e);
        memcpy(tail, entries, entries_len);

        h.alternate_lba = htole64(backup_header_lba);
        h.last_usable_lba = htole64(backup_entries_lba - 1);
        h.partition_entries_crc32 = htole32((uint32_t) crc32(0L, entries, (uInt) entries_len));
        memcpy(primary, &h, sizeof h);
        gpt_header_crc_set(primary, header_size);

        /* The backup is the primary with my and alternate LBA swapped and
         * its own entries LBA: four fields public image tools got wrong
         * (pitfalls: GPT). The whole sector is copied so that the two also
         * agree past header_size. */
        memcpy(backup, primary, ss);
        h.my_lba = htole64(backup_header_lba);
        h.alternate_lba = htole64(1);
        h.partition_entries_lba = htole64(backup_entries_lba);
        memcpy(backup, &h, sizeof h);
        gpt_header_crc_set(backup, header_size);

        pmbr_grow(l, buf);
}

static void mbr_grow(const struct layout *l, uint64_t volume_sectors, uint8_t *sector) {
        struct mbr_sector m;
        struct mbr_partition *p = &m.partitions[l->n_volumes - 1];

        /* layout_compute() refused a disk past 2^32 sectors: it fits. */
        memcpy(&m, sector, sizeof m);
        p->size_in_lba = htole32((uint32_t) volume_sectors);
        mbr_lba_to_chs(last_start(l) + volume_sectors - 1, p->end_chs);
        memcpy(sector, &m, sizeof m);
}

/* The last partition as the guest's table has it, where the rest of the
 * table can be trusted: a valid primary GPT, or an MBR data record.
 * Returns false when the table is not readable that far. */
static bool last_extent(const struct layout *l, const uint8_t *header, size_t len,
                        const struct verify_report *r, bool *ret_used, uint64_t *ret_first, uint64_t *ret_last) {
        static const uint8_t zero[16];
        const size_t k = l->n_volumes - 1;

        if (len != l->header_bytes)
                return false;
        if (l->table == TABLE_GPT) {
                struct gpt_entry e;

                if (!r->primary_ok)
                        return false;
                memcpy(&e, header + 2 * l->sector_size + k * sizeof e, sizeof e);
                *ret_used = memcmp(e.partition_type_guid, zero, sizeof zero) != 0;
                *ret_first = le64toh(e.starting_lba);
                *ret_last = le64toh(e.ending_lba);
                return true;
        }

        struct mbr_sector m;
        memcpy(&m, header, sizeof m);
        const struct mbr_partition *p = &m.partitions[k];
        if (m.signature[0] != 0x55 || m.signature[1] != 0xAA || p->os_type == MBR_TYPE_GPT_PROTECTIVE ||
            p->os_type == 0x05 || p->os_type == 0x0F || p->os_type == 0x85)
                return false;
        *ret_used = p->os_type != 0 && le32toh(p->size_in_lba) != 0;
        *ret_first = le32toh(p->starting_lba);
        *ret_last = *ret_first + le32toh(p->size_in_lba) - 1;
        return true;
}

/* Why an old header that did not verify cannot grow: the guest moved the
 * partition that grows, or the table is damaged. */
static int refuse_old(const struct layout *l, const struct grow_geometry *g, const uint8_t *header, size_t len,
                      const struct verify_report *r, struct grow_reason *ret_why) {
        const uint64_t want_first = last_start(l), want_last = want_first + g->volume_sectors - 1;
        const size_t n = l->n_volumes;
        uint64_t first, last;
        bool used;

        if (last_extent(l, header, len, r, &used, &first, &last)) {
                if (!used)
                        return refuse(ret_why, GROW_PARTITION_MOVED,
                                      "partition %zu is unused (the guest deleted it): it no longer maps the volume", n);
                if (first != want_first || last != want_last)
                        return refuse(ret_why, GROW_PARTITION_MOVED,
                                      "partition %zu is LBA %" PRIu64 "..%" PRIu64 ", but the volume is LBA %" PRIu64
                                      "..%" PRIu64 ": the guest moved or resized it",
                                      n, first, last, want_first, want_last);
        }
        if (r->n_problems > 1)
                return refuse(ret_why, GROW_HEADER_CORRUPT, "the header does not verify: %s (and %u more)",
                              r->problems[0], r->n_problems - 1);
        return refuse(ret_why, GROW_HEADER_CORRUPT, "the header does not verify: %s", r->problems[0]);
}

int grow_header(const struct grow_geometry *old, const uint8_t *header, size_t len, uint64_t new_volume_bytes,
                uint8_t **ret_header, struct grow_reason *ret_why) {
        const uint32_t ss = old->sector_size;
        _cleanup_(layout_done) struct layout ol = { 0 }, nl = { 0 };
        struct verify_report r;
        int k;

        /* Bound the products before layout_compute() forms them. */
        if ((ss != 512 && ss != 4096) || old->head_sectors > ALIGNMENT_MAX / ss || old->volume_sectors == 0 ||
            old->volume_sectors > INT64_MAX / ss || grow_layout(old, old->volume_sectors * ss, &ol) < 0)
                return refuse(ret_why, GROW_GEOMETRY,
                              "no %s disk has partition 1 at LBA %" PRIu64 " and its last partition of %" PRIu64
                              " sectors of %" PRIu32 " bytes", old->table == TABLE_GPT ? "GPT" : "MBR", old->head_sectors,
                              old->volume_sectors, ss);

        if (new_volume_bytes % ss != 0)
                return refuse(ret_why, GROW_VOLUME_SIZE,
                              "the volume has %" PRIu64 " bytes, not a multiple of its %" PRIu32 "-byte sectors",
                              new_volume_bytes, ss);
        uint64_t new_sectors = new_volume_bytes / ss;
        if (new_sectors < old->volume_sectors)
                return refuse(ret_why, GROW_SHRINK,
                              "the volume shrank from %" PRIu64 " to %" PRIu64 " sectors: partition %zu would pass its "
                              "end, and partwrap never shrinks a disk", old->volume_sectors, new_sectors, old->n_before + 1);
        if (new_sectors == old->volume_sectors)
                return refuse(ret_why, GROW_SAME_SIZE, "the volume still has %" PRIu64 " sectors: nothing to grow",
                              new_sectors);
        k = grow_layout(old, new_volume_bytes, &nl);
        if (k == -EFBIG && old->table == TABLE_MBR)
                return refuse(ret_why, GROW_MBR_LIMIT,
                              "an MBR describes at most %" PRIu64 " sectors, and the disk would have %" PRIu64
                              " (%" PRIu64 " + a volume of %" PRIu64 "): use table = gpt",
                              MBR_MAX_SECTORS, last_start(&ol) + new_sectors, last_start(&ol), new_sectors);
        if (k < 0)
                return refuse(ret_why, GROW_TOO_LARGE, "a volume of %" PRIu64 " bytes makes a disk past 2^63 bytes",
                              new_volume_bytes);

        if (table_verify(&ol, header, len, &r) > 0)
                return refuse_old(&ol, old, header, len, &r, ret_why);
        /* The primary's array may reach up to partition 1, the backup's
         * only fills the tail; the verifier compared their CRCs, each over
         * its own length, which a guest can make equal. The tail is where
         * the primary's array is copied to. */
        if (old->table == TABLE_GPT && gpt_entries_len(&ol, header) > ol.entries_sectors * ss)
                return refuse(ret_why, GROW_HEADER_CORRUPT,
                              "the primary GPT's entry array has %" PRIu64 " bytes, more than the backup's %" PRIu64,
                              gpt_entries_len(&ol, header), ol.entries_sectors * ss);

        _cleanup_free_ uint8_t *buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, header, len);
        if (old->table == TABLE_GPT)
                gpt_grow(&nl, new_sectors, buf);
        else
                mbr_grow(&nl, new_sectors, buf);

        /* The guest's other partitions may stand where partition 1 grows
         * (an MBR record may point past the old end). */
        if (table_verify(&nl, buf, len, &r) > 0)
                return refuse(ret_why, GROW_BLOCKED, "the grown table would not verify: %s", r.problems[0]);

        *ret_header = TAKE_PTR(buf);
        return 0;
}

uint64_t grow_partition1_sectors(enum table_kind table, uint32_t sector_size, uint64_t head_sectors,
                                 const uint8_t *header, size_t len) {
        static const uint8_t zero[16];
        uint64_t first, last;

        if (sector_size != 512 && sector_size != 4096)
                return 0;
        if (table == TABLE_GPT) {
                struct gpt_header h;
                struct gpt_entry e;

                if (len < 2 * (size_t) sector_size + sizeof e)
                        return 0;
                memcpy(&h, header + sector_size, sizeof h);
                if (memcmp(h.signature, GPT_SIGNATURE, sizeof h.signature) != 0 ||
                    le64toh(h.partition_entries_lba) != 2 || le32toh(h.sizeof_partition_entry) < sizeof e)
                        return 0;
                memcpy(&e, header + 2 * sector_size, sizeof e);
                if (memcmp(e.partition_type_guid, zero, sizeof zero) == 0)
                        return 0;
                first = le64toh(e.starting_lba);
                last = le64toh(e.ending_lba);
        } else {
                struct mbr_sector m;

                if (len < sizeof m)
                        return 0;
                memcpy(&m, header, sizeof m);
                const struct mbr_partition *p = &m.partitions[0];
                if (m.signature[0] != 0x55 || m.signature[1] != 0xAA || p->os_type == 0 ||
                    p->os_type == MBR_TYPE_GPT_PROTECTIVE || le32toh(p->size_in_lba) == 0)
                        return 0;
                first = le32toh(p->starting_lba);
                last = first + le32toh(p->size_in_lba) - 1;
        }
        if (first != head_sectors || last < first)
                return 0;
        return last - first + 1;
}
