/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing a header (src/grow.c): what the guest wrote survives, only the
 * fields the new end moves change, the result verifies against the new
 * layout, and every refusal is a reason, not a crash.
 *
 * With arguments the program is the driver of tests/offline/test-grow.sh:
 *   test-grow grow OLD NEW gpt|mbr SECTOR HEAD_SECTORS OLD_BYTES NEW_BYTES
 * reads the header file OLD, writes the grown one to NEW; exit 0, 1 when
 * refused (the reason on stderr), 2 on a usage or I/O error. */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "gpt-format.h"
#include "grow.h"
#include "guid.h"
#include "layout.h"
#include "table.h"
#include "util.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

static const char BASIC_DATA[] = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
static const char LINUX_FS[] = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/* A header as partwrap creates it: 1 MiB alignment, derived identifiers. */
/* Sectors of partition 1's volume. */
static uint64_t vol_sectors(const struct layout *l) {
        return layout_volume(l, 0)->length / l->sector_size;
}

static uint8_t *make(enum table_kind t, uint64_t volume_bytes, uint32_t ss, struct layout *ret_l) {
        struct table_partition p = { 0 };
        struct table_spec s = { .n_partitions = 1, .partitions = &p };

        p.type.flags = t == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR;
        assert_int_equal(guid_parse(BASIC_DATA, &p.type.gpt), 0);
        p.type.mbr = 0x07;
        guid_derive("disk", "grow", "u", &s.disk_guid);
        guid_derive("partition", "grow", "u", &p.guid);
        s.disk_signature = 0x12345678;
        snprintf(p.name, sizeof p.name, "Data");
        assert_int_equal(layout_compute(t, ss, MiB, (uint64_t[]) { volume_bytes }, 1, ret_l), 0);
        uint8_t *buf = calloc(1, ret_l->header_bytes);
        assert_non_null(buf);
        table_write(ret_l, &s, buf);
        return buf;
}

static struct grow_geometry geometry_of(const struct layout *l) {
        return (struct grow_geometry) {
                .table = l->table, .sector_size = l->sector_size,
                .head_sectors = l->head_sectors, .volume_sectors = vol_sectors(l),
        };
}

static uint8_t *tail_of(const struct layout *l, uint8_t *buf) {
        return buf + layout_head_bytes(l);
}

static void set_crc(uint8_t *sector) {
        struct gpt_header h;

        memcpy(&h, sector, sizeof h);
        h.header_crc32 = 0;
        h.header_crc32 = htole32((uint32_t) crc32(0L, (const Bytef *) &h, sizeof h));
        memcpy(sector, &h, sizeof h);
}

/* What a guest's partitioning tool does after editing the primary
 * entries: the backup entries follow, both headers get the new CRCs. */
static void gpt_reseal(const struct layout *l, uint8_t *buf) {
        uint8_t *entries = buf + 2 * l->sector_size, *tail = tail_of(l, buf);
        uint8_t *hdr[2] = { buf + l->sector_size, tail + l->entries_sectors * l->sector_size };
        uint32_t crc = htole32((uint32_t) crc32(0L, entries, GPT_ENTRIES_BYTES));

        memcpy(tail, entries, GPT_ENTRIES_BYTES);
        for (unsigned i = 0; i < 2; i++) {
                memcpy(hdr[i] + offsetof(struct gpt_header, partition_entries_crc32), &crc, 4);
                set_crc(hdr[i]);
        }
}

static struct gpt_entry entry(const uint8_t *buf, const struct layout *l, unsigned i) {
        struct gpt_entry e;

        memcpy(&e, buf + 2 * l->sector_size + i * GPT_ENTRY_BYTES, sizeof e);
        return e;
}

static void entry_set(uint8_t *buf, const struct layout *l, unsigned i, const struct gpt_entry *e) {
        memcpy(buf + 2 * l->sector_size + i * GPT_ENTRY_BYTES, e, sizeof *e);
}

static struct gpt_header header_at(const uint8_t *p) {
        struct gpt_header h;

        memcpy(&h, p, sizeof h);
        return h;
}

#define GUEST_DISK_GUID "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
#define GUEST_PART_GUID "11223344-5566-7788-99AA-BBCCDDEEFF00"
#define GUEST_ATTRS (UINT64_C(1) << 63 | UINT64_C(1) << 0)

/* What Windows and a partitioning tool do to a disk: new disk and
 * partition GUIDs, attributes, a name, a second partition in the free
 * space before partition 1, boot code and a signature in the PMBR. */
static void gpt_guest_edit(const struct layout *l, uint8_t *buf) {
        guid_t g;
        uint8_t raw[16];
        struct gpt_entry p1 = entry(buf, l, 0), p2 = { 0 };
        static const uint16_t name[] = { 'G', 'u', 'e', 's', 't', ' ', 0xE9 };

        assert_int_equal(guid_parse(GUEST_DISK_GUID, &g), 0);
        guid_to_gpt(&g, raw);
        memcpy(buf + l->sector_size + offsetof(struct gpt_header, disk_guid), raw, 16);
        memcpy(tail_of(l, buf) + l->entries_sectors * l->sector_size + offsetof(struct gpt_header, disk_guid), raw, 16);

        assert_int_equal(guid_parse(GUEST_PART_GUID, &g), 0);
        guid_to_gpt(&g, p1.unique_partition_guid);
        p1.attributes = htole64(GUEST_ATTRS);
        memset(p1.partition_name, 0, sizeof p1.partition_name);
        for (unsigned i = 0; i < ARRAY_SIZE(name); i++)
                p1.partition_name[i] = htole16(name[i]);
        entry_set(buf, l, 0, &p1);

        assert_int_equal(guid_parse(LINUX_FS, &g), 0);
        guid_to_gpt(&g, p2.partition_type_guid);
        p2.unique_partition_guid[0] = 0x42;
        p2.starting_lba = htole64(2 + l->entries_sectors);
        p2.ending_lba = htole64(l->head_sectors - 1);
        entry_set(buf, l, 1, &p2);

        memset(buf, 0xCC, 440);                /* boot code */
        memcpy(buf + 440, "\x78\x56\x34\x12", 4); /* signature Windows may write */
        gpt_reseal(l, buf);
}

/* Whether a byte of a grown GPT header may differ from the old one: the
 * fields the new end moves, nothing else. */
static bool gpt_may_change(const struct layout *l, size_t off) {
        const size_t ss = l->sector_size, rec = offsetof(struct mbr_sector, partitions);
        const size_t tail = layout_head_bytes(l), backup = tail + l->entries_sectors * ss;
        struct span { size_t at, len; } spans[] = {
                { rec + offsetof(struct mbr_partition, end_chs), 3 },
                { rec + offsetof(struct mbr_partition, size_in_lba), 4 },
                { 2 * ss + offsetof(struct gpt_entry, ending_lba), 8 },
                { tail + offsetof(struct gpt_entry, ending_lba), 8 },
                { ss + offsetof(struct gpt_header, header_crc32), 4 },
                { ss + offsetof(struct gpt_header, alternate_lba), 8 },
                { ss + offsetof(struct gpt_header, last_usable_lba), 8 },
                { ss + offsetof(struct gpt_header, partition_entries_crc32), 4 },
                { backup + offsetof(struct gpt_header, header_crc32), 4 },
                { backup + offsetof(struct gpt_header, my_lba), 8 },
                { backup + offsetof(struct gpt_header, alternate_lba), 8 },
                { backup + offsetof(struct gpt_header, last_usable_lba), 8 },
                { backup + offsetof(struct gpt_header, partition_entries_lba), 8 },
                { backup + offsetof(struct gpt_header, partition_entries_crc32), 4 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(spans); i++)
                if (off >= spans[i].at && off < spans[i].at + spans[i].len)
                        return true;
        return false;
}

static uint8_t *grow_ok(const struct layout *l, const uint8_t *buf, uint64_t new_bytes) {
        struct grow_geometry g = geometry_of(l);
        struct grow_reason why = { 0 };
        uint8_t *out = NULL;

        int r = grow_header(&g, buf, l->header_bytes, new_bytes, &out, &why);
        if (r != 0)
                fail_msg("grow_header: %d: %s", r, why.message);
        assert_non_null(out);
        return out;
}

static void expect_refused(const struct layout *l, const uint8_t *buf, size_t len, uint64_t new_bytes,
                           enum grow_code code, const char *phrase) {
        struct grow_geometry g = geometry_of(l);
        struct grow_reason why = { 0 };
        uint8_t *out = (uint8_t *) &why; /* a sentinel: must stay as it is */

        int r = grow_header(&g, buf, len, new_bytes, &out, &why);
        if (r != (int) code)
                fail_msg("expected refusal %d, got %d: %s", code, r, why.message);
        assert_int_equal(why.code, code);
        assert_ptr_equal(out, (uint8_t *) &why);
        if (!strstr(why.message, phrase))
                fail_msg("\"%s\" does not say \"%s\"", why.message, phrase);
}

static void expect_verifies(const struct layout *l, const uint8_t *buf) {
        struct verify_report r;

        if (table_verify(l, buf, l->header_bytes, &r) != 0)
                fail_msg("grown header: %s", r.problems[0]);
        assert_true(r.maps_volume);
}

/* A header partwrap made, grown, is byte for byte the header partwrap
 * makes for the new size. */
static void grow_fresh(enum table_kind t, uint32_t ss, uint64_t from, uint64_t to) {
        _cleanup_(layout_done) struct layout ol = { 0 }, nl = { 0 };
        uint8_t *old = make(t, from, ss, &ol), *want = make(t, to, ss, &nl);
        uint8_t *got = grow_ok(&ol, old, to);

        assert_int_equal(ol.header_bytes, nl.header_bytes);
        assert_memory_equal(got, want, nl.header_bytes);
        expect_verifies(&nl, got);
        free(old);
        free(want);
        free(got);
}

static void test_fresh_equals_mkheader(void **state) {
        (void) state;
        grow_fresh(TABLE_GPT, 512, 64 * MiB, 128 * MiB);
        grow_fresh(TABLE_GPT, 4096, 64 * MiB, 64 * MiB + 4096);
        grow_fresh(TABLE_GPT, 512, 64 * MiB, 3 * TiB); /* PMBR capped at 0xFFFFFFFF */
        grow_fresh(TABLE_GPT, 4096, GiB, 17 * TiB);
        grow_fresh(TABLE_MBR, 512, 64 * MiB, 64 * MiB + 512);
        grow_fresh(TABLE_MBR, 4096, GiB, 15 * TiB);
}

static void gpt_guest(uint32_t ss) {
        _cleanup_(layout_done) struct layout ol = { 0 }, nl = { 0 };
        uint8_t *old = make(TABLE_GPT, 64 * MiB, ss, &ol);
        const uint64_t new_bytes = 128 * MiB;

        gpt_guest_edit(&ol, old);
        expect_verifies(&ol, old);
        uint8_t *got = grow_ok(&ol, old, new_bytes);
        assert_int_equal(layout_compute(TABLE_GPT, ss, MiB, (uint64_t[]) { new_bytes }, 1, &nl), 0);
        expect_verifies(&nl, got);

        for (size_t off = 0; off < ol.header_bytes; off++)
                if (old[off] != got[off] && !gpt_may_change(&ol, off))
                        fail_msg("byte %zu changed (%02x -> %02x) and is not a field growing moves", off, old[off], got[off]);

        /* Both copies: the guest's identifiers, the new end. */
        const uint8_t *copies[2] = { got + ss, tail_of(&nl, got) + nl.entries_sectors * ss };
        const uint8_t *arrays[2] = { got + 2 * ss, tail_of(&nl, got) };
        guid_t disk, part;
        assert_int_equal(guid_parse(GUEST_DISK_GUID, &disk), 0);
        assert_int_equal(guid_parse(GUEST_PART_GUID, &part), 0);
        for (unsigned i = 0; i < 2; i++) {
                struct gpt_header h = header_at(copies[i]);
                struct gpt_entry p1, p2;
                guid_t g;

                memcpy(&p1, arrays[i], sizeof p1);
                memcpy(&p2, arrays[i] + GPT_ENTRY_BYTES, sizeof p2);
                guid_from_gpt(h.disk_guid, &g);
                assert_true(guid_equal(&g, &disk));
                guid_from_gpt(p1.unique_partition_guid, &g);
                assert_true(guid_equal(&g, &part));
                assert_int_equal(le64toh(p1.attributes), GUEST_ATTRS);
                assert_int_equal(le16toh(p1.partition_name[6]), 0xE9);
                assert_int_equal(le64toh(p1.starting_lba), nl.head_sectors);
                assert_int_equal(le64toh(p1.ending_lba), nl.head_sectors + vol_sectors(&nl) - 1);
                assert_int_equal(le64toh(p2.ending_lba), nl.head_sectors - 1);
                assert_int_equal(le64toh(h.my_lba), i == 0 ? 1 : nl.total_sectors - 1);
                assert_int_equal(le64toh(h.alternate_lba), i == 0 ? nl.total_sectors - 1 : 1);
                assert_int_equal(le64toh(h.partition_entries_lba), i == 0 ? 2 : nl.total_sectors - 1 - nl.entries_sectors);
                assert_int_equal(le64toh(h.last_usable_lba), nl.total_sectors - 2 - nl.entries_sectors);
        }
        struct mbr_sector m;
        memcpy(&m, got, sizeof m);
        assert_int_equal(le32toh(m.disk_signature), 0x12345678);
        assert_int_equal(m.boot_code[0], 0xCC);
        assert_int_equal(le32toh(m.partitions[0].size_in_lba), nl.total_sectors - 1);
        free(old);
        free(got);
}

static void test_gpt_512_guest_changes_survive(void **state) {
        (void) state;
        gpt_guest(512);
}

static void test_gpt_4096_guest_changes_survive(void **state) {
        (void) state;
        gpt_guest(4096);
}

/* The primary header may be longer than 92 bytes (UEFI: up to the
 * sector); its CRC covers all of it, before and after. */
static void test_gpt_long_header(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout ol = { 0 }, nl = { 0 };
        uint8_t *old = make(TABLE_GPT, 64 * MiB, 512, &ol);
        uint8_t *hdr[2] = { old + 512, tail_of(&ol, old) + ol.entries_sectors * 512 };
        const uint32_t size = htole32(96);

        for (unsigned i = 0; i < 2; i++) {
                memcpy(hdr[i] + offsetof(struct gpt_header, header_size), &size, 4);
                memset(hdr[i] + offsetof(struct gpt_header, header_crc32), 0, 4);
                uint32_t crc = htole32((uint32_t) crc32(0L, hdr[i], 96));
                memcpy(hdr[i] + offsetof(struct gpt_header, header_crc32), &crc, 4);
        }
        expect_verifies(&ol, old);
        uint8_t *got = grow_ok(&ol, old, 65 * MiB);
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, (uint64_t[]) { 65 * MiB }, 1, &nl), 0);
        expect_verifies(&nl, got);
        free(old);
        free(got);
}

static void test_mbr_guest_changes_survive(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout ol = { 0 }, nl = { 0 };
        uint8_t *old = make(TABLE_MBR, 64 * MiB, 512, &ol);
        struct mbr_sector m;

        memcpy(&m, old, sizeof m);
        m.disk_signature = htole32(0xCAFEF00D);
        memset(m.boot_code, 0xAB, sizeof m.boot_code);
        m.partitions[0].boot_indicator = 0x80;
        m.partitions[0].os_type = 0x83;
        m.partitions[1] = (struct mbr_partition) { .os_type = 0x0c, .starting_lba = htole32(63),
                                                   .size_in_lba = htole32(1000) };
        memcpy(old, &m, sizeof m);
        expect_verifies(&ol, old);

        uint8_t *got = grow_ok(&ol, old, 128 * MiB);
        assert_int_equal(layout_compute(TABLE_MBR, 512, MiB, (uint64_t[]) { 128 * MiB }, 1, &nl), 0);
        expect_verifies(&nl, got);
        struct mbr_sector g;
        memcpy(&g, got, sizeof g);
        assert_int_equal(le32toh(g.disk_signature), 0xCAFEF00D);
        assert_int_equal(g.boot_code[439], 0xAB);
        assert_int_equal(g.partitions[0].boot_indicator, 0x80);
        assert_int_equal(g.partitions[0].os_type, 0x83);
        assert_int_equal(le32toh(g.partitions[0].starting_lba), 2048);
        assert_int_equal(le32toh(g.partitions[0].size_in_lba), 128 * MiB / 512);
        assert_memory_equal(&g.partitions[1], &m.partitions[1], sizeof m.partitions[1]);
        /* Only partition 1's size and ending CHS moved. */
        const size_t rec = offsetof(struct mbr_sector, partitions);
        for (size_t off = 0; off < ol.header_bytes; off++) {
                bool field = (off >= rec + 5 && off < rec + 8) || (off >= rec + 12 && off < rec + 16);
                if (old[off] != got[off] && !field)
                        fail_msg("byte %zu changed", off);
        }
        free(old);
        free(got);
}

static void test_sizes_refused(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 4096, &l);

        expect_refused(&l, buf, l.header_bytes, 64 * MiB - 4096, GROW_SHRINK, "shrank from 16384 to 16383 sectors");
        expect_refused(&l, buf, l.header_bytes, 64 * MiB, GROW_SAME_SIZE, "nothing to grow");
        expect_refused(&l, buf, l.header_bytes, 64 * MiB + 512, GROW_VOLUME_SIZE, "4096-byte sectors");
        expect_refused(&l, buf, l.header_bytes, UINT64_C(1) << 63, GROW_TOO_LARGE, "2^63");
        free(buf);
}

/* MBR: exactly 2^32 sectors still fits (the contract's amendment), one
 * sector more is refused with the numbers. */
static void test_mbr_limit(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 }, nl = { 0 };
        uint8_t *buf = make(TABLE_MBR, TiB, 512, &l);
        const uint64_t fits = ((UINT64_C(1) << 32) - 2048) * 512;

        uint8_t *got = grow_ok(&l, buf, fits);
        assert_int_equal(layout_compute(TABLE_MBR, 512, MiB, (uint64_t[]) { fits }, 1, &nl), 0);
        expect_verifies(&nl, got);
        free(got);
        expect_refused(&l, buf, l.header_bytes, fits + 512, GROW_MBR_LIMIT, "at most 4294967296 sectors");
        free(buf);
}

static void test_gpt_partition_moved(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        struct gpt_entry p1 = entry(buf, &l, 0), e = p1;

        /* The guest shrank partition 1 (a resize tool inside the guest). */
        e.ending_lba = htole64(le64toh(p1.ending_lba) - 2048);
        entry_set(buf, &l, 0, &e);
        gpt_reseal(&l, buf);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_PARTITION_MOVED, "LBA 2048..131071");

        /* Moved by a sector. */
        e = p1;
        e.starting_lba = htole64(2049);
        entry_set(buf, &l, 0, &e);
        gpt_reseal(&l, buf);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_PARTITION_MOVED, "moved or resized");

        /* Deleted. */
        memset(&e, 0, sizeof e);
        entry_set(buf, &l, 0, &e);
        gpt_reseal(&l, buf);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_PARTITION_MOVED, "deleted");
        free(buf);
}

static void test_mbr_partition_moved(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_MBR, 64 * MiB, 512, &l);
        struct mbr_sector m;

        memcpy(&m, buf, sizeof m);
        m.partitions[0].starting_lba = htole32(63);
        memcpy(buf, &m, sizeof m);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_PARTITION_MOVED, "LBA 63..131134");
        free(buf);
}

static void test_corrupt_refused(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);

        /* A flipped byte in the primary header: a guest would fall back
         * to the backup, partwrap does not guess. */
        buf[512 + 40] ^= 1;
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_HEADER_CORRUPT, "primary GPT header: CRC32");
        buf[512 + 40] ^= 1;
        /* The backup damaged, the primary intact. */
        tail_of(&l, buf)[l.entries_sectors * 512] ^= 1;
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_HEADER_CORRUPT, "backup GPT header");
        tail_of(&l, buf)[l.entries_sectors * 512] ^= 1;
        /* A header file of the wrong length is never read past its end. */
        expect_refused(&l, buf, 4096, 128 * MiB, GROW_HEADER_CORRUPT, "header is 4096 bytes");
        /* No boot signature. */
        buf[510] = 0;
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_HEADER_CORRUPT, "protective MBR");
        free(buf);
        layout_done(&l);

        uint8_t *mbr = make(TABLE_MBR, 64 * MiB, 512, &l);
        mbr[511] = 0;
        expect_refused(&l, mbr, l.header_bytes, 128 * MiB, GROW_HEADER_CORRUPT, "boot signature");
        free(mbr);
}

/* The 4 bytes that, appended to data whose zlib CRC32 is crc, make it
 * target: the table's top bytes are all distinct, so each step of the CRC
 * can be undone from the end. */
static void crc32_forge(uint32_t crc, uint32_t target, uint8_t out[4]) {
        uint32_t table[256], reg = ~target;

        for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? 0xEDB88320u ^ c >> 1 : c >> 1;
                table[i] = c;
        }
        for (int n = 0; n < 4; n++) {
                uint32_t j = 0;
                while (table[j] >> 24 != reg >> 24)
                        j++;
                reg = (reg ^ table[j]) << 8 | j;
        }
        reg ^= ~crc;
        for (int n = 0; n < 4; n++)
                out[n] = (uint8_t) (reg >> 8 * n);
}

/* A guest makes the primary's array twice as long as the backup's, with the
 * same CRC over each one's own length: the verifier cannot tell, the tail
 * cannot hold it. Refused, never copied past the tail (ASan watches). */
static void test_gpt_primary_array_too_long(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        uint8_t *entries = buf + 2 * 512, *primary = buf + 512;
        const uint32_t num = htole32(2 * GPT_ENTRIES);
        uint32_t crc = (uint32_t) crc32(0L, entries, GPT_ENTRIES_BYTES);

        /* Entries 129..256 unused (zero type), but for the last 4 bytes. */
        uint32_t part = (uint32_t) crc32(crc, entries + GPT_ENTRIES_BYTES, GPT_ENTRIES_BYTES - 4);
        crc32_forge(part, crc, entries + 2 * GPT_ENTRIES_BYTES - 4);
        assert_int_equal((uint32_t) crc32(0L, entries, 2 * GPT_ENTRIES_BYTES), crc);
        memcpy(primary + offsetof(struct gpt_header, num_partition_entries), &num, 4);
        set_crc(primary);
        expect_verifies(&l, buf);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_HEADER_CORRUPT, "32768 bytes, more than the backup's 16384");
        free(buf);
}

/* An MBR record past the old end, where partition 1 would grow. */
static void test_mbr_blocked(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_MBR, 64 * MiB, 512, &l);
        struct mbr_sector m;

        memcpy(&m, buf, sizeof m);
        m.partitions[1] = (struct mbr_partition) { .os_type = 0x83,
                                                   .starting_lba = htole32((uint32_t) l.total_sectors + 100),
                                                   .size_in_lba = htole32(1000) };
        memcpy(buf, &m, sizeof m);
        expect_verifies(&l, buf);
        expect_refused(&l, buf, l.header_bytes, 128 * MiB, GROW_BLOCKED, "overlaps partition 1");
        /* Short of the record, the grow goes ahead. */
        free(grow_ok(&l, buf, 64 * MiB + 100 * 512));
        free(buf);
}

static void test_bad_geometry(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 };
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        struct grow_reason why;
        uint8_t *out = NULL;
        struct grow_geometry bad[] = {
                { TABLE_GPT, 1024, 2048, 131072 },
                { TABLE_GPT, 512, 2048, 0 },
                { TABLE_GPT, 512, 3, 131072 },          /* no room for the table */
                { TABLE_GPT, 512, UINT64_MAX, 131072 }, /* would overflow */
                { TABLE_GPT, 512, 2048, UINT64_MAX },
        };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_int_equal(grow_header(&bad[i], buf, l.header_bytes, 128 * MiB, &out, &why), GROW_GEOMETRY);
                assert_null(out);
        }
        free(buf);
}

/* Two grows in a row are one grow. */
static void test_grow_twice(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = { 0 }, ml = { 0 };
        uint8_t *old = make(TABLE_GPT, 64 * MiB, 512, &l);

        gpt_guest_edit(&l, old);
        uint8_t *mid = grow_ok(&l, old, 100 * MiB);
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, (uint64_t[]) { 100 * MiB }, 1, &ml), 0);
        uint8_t *twice = grow_ok(&ml, mid, 200 * MiB);
        uint8_t *once = grow_ok(&l, old, 200 * MiB);
        assert_memory_equal(twice, once, l.header_bytes);
        free(old);
        free(mid);
        free(twice);
        free(once);
}

/* What a header says partition 1 had: what apply reports when it finishes
 * a grow an earlier run left between its swap and its rename. */
static void test_partition1_sectors(void **state) {
        (void) state;
        static const struct {
                enum table_kind t;
                uint32_t ss;
        } cases[] = { { TABLE_GPT, 512 }, { TABLE_GPT, 4096 }, { TABLE_MBR, 512 }, { TABLE_MBR, 4096 } };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_(layout_done) struct layout l = { 0 };
                uint8_t *old = make(cases[i].t, 64 * MiB, cases[i].ss, &l);
                size_t len = l.header_bytes;

                assert_int_equal(grow_partition1_sectors(l.table, l.sector_size, l.head_sectors, old, len),
                                 vol_sectors(&l));
                uint8_t *grown = grow_ok(&l, old, 100 * MiB);
                assert_int_equal(grow_partition1_sectors(l.table, l.sector_size, l.head_sectors, grown, len),
                                 100 * MiB / cases[i].ss);
                /* Not at the alignment, another sector size, too short, no table. */
                assert_int_equal(grow_partition1_sectors(l.table, l.sector_size, l.head_sectors + 1, old, len), 0);
                assert_int_equal(grow_partition1_sectors(l.table, 1024, l.head_sectors, old, len), 0);
                assert_int_equal(grow_partition1_sectors(l.table, l.sector_size, l.head_sectors, old, 100), 0);
                memset(old, 0, len);
                assert_int_equal(grow_partition1_sectors(l.table, l.sector_size, l.head_sectors, old, len), 0);
                free(old);
                free(grown);
        }
}

/* The driver for tests/offline/test-grow.sh. */
static int tool(int argc, char **argv) {
        struct grow_geometry g;
        unsigned long long ss, head, old_bytes, new_bytes;
        _cleanup_free_ uint8_t *buf = NULL, *out = NULL;
        struct grow_reason why;
        long len;

        if (argc != 9 || !streq(argv[1], "grow") || (!streq(argv[4], "gpt") && !streq(argv[4], "mbr")) ||
            sscanf(argv[5], "%llu", &ss) != 1 || sscanf(argv[6], "%llu", &head) != 1 ||
            sscanf(argv[7], "%llu", &old_bytes) != 1 || sscanf(argv[8], "%llu", &new_bytes) != 1 || ss == 0) {
                fprintf(stderr, "usage: %s grow OLD NEW gpt|mbr SECTOR HEAD_SECTORS OLD_BYTES NEW_BYTES\n", argv[0]);
                return 2;
        }
        g = (struct grow_geometry) { .table = streq(argv[4], "gpt") ? TABLE_GPT : TABLE_MBR, .sector_size = (uint32_t) ss,
                                     .head_sectors = head, .volume_sectors = old_bytes / ss };

        _cleanup_(fclosep) FILE *in = fopen(argv[2], "re");
        if (!in || fseek(in, 0, SEEK_END) < 0 || (len = ftell(in)) < 0 || fseek(in, 0, SEEK_SET) < 0) {
                perror(argv[2]);
                return 2;
        }
        if (len == 0 || !(buf = malloc((size_t) len)) || fread(buf, 1, (size_t) len, in) != (size_t) len) {
                fprintf(stderr, "%s: empty, or cannot be read\n", argv[2]);
                return 2;
        }
        int r = grow_header(&g, buf, (size_t) len, new_bytes, &out, &why);
        if (r < 0) {
                fprintf(stderr, "grow_header: %s\n", strerror(-r));
                return 2;
        }
        if (r > 0) {
                fprintf(stderr, "refused (%d): %s\n", r, why.message);
                return 1;
        }
        FILE *o = fopen(argv[3], "wxe");
        if (!o || fwrite(out, 1, (size_t) len, o) != (size_t) len || fclose(o) != 0) {
                perror(argv[3]);
                return 2;
        }
        return 0;
}

/* A disk of three volumes with gaps: the last partition grows, and the
 * result is byte for byte the header partwrap would make for the new
 * sizes; the first two partitions and the gaps stay. */
static uint8_t *make3(enum table_kind t, const uint64_t *sizes, uint32_t ss, struct layout *ret_l) {
        struct table_partition p[3] = { 0 };
        struct table_spec s = { .n_partitions = 3, .partitions = p };

        for (unsigned k = 0; k < 3; k++) {
                p[k].type.flags = t == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR;
                assert_int_equal(guid_parse(k == 1 ? LINUX_FS : BASIC_DATA, &p[k].type.gpt), 0);
                p[k].type.mbr = k == 1 ? 0x83 : 0x07;
                guid_derive_partition(k + 1, "grow", "u", &p[k].guid);
                snprintf(p[k].name, sizeof p[k].name, "Part %u", k + 1);
        }
        guid_derive("disk", "grow", "u", &s.disk_guid);
        s.disk_signature = 0x12345678;
        assert_int_equal(layout_compute(t, ss, MiB, sizes, 3, ret_l), 0);
        uint8_t *buf = calloc(1, ret_l->header_bytes);
        assert_non_null(buf);
        table_write(ret_l, &s, buf);
        return buf;
}

static void test_several_volumes(void **state _unused_) {
        for (int t = TABLE_GPT; t <= TABLE_MBR; t++)
                for (uint32_t ss = 512; ss <= 4096; ss *= 8) {
                        uint64_t before[3] = { 5 * MiB + 4096, 3 * MiB + 8192, 2 * MiB };
                        uint64_t after[3] = { before[0], before[1], 6 * MiB + 4096 };
                        _cleanup_(layout_done) struct layout lo = { 0 }, ln = { 0 };
                        _cleanup_free_ uint8_t *old = make3(t, before, ss, &lo);
                        _cleanup_free_ uint8_t *fresh = make3(t, after, ss, &ln);
                        const uint64_t sectors[2] = { before[0] / ss, before[1] / ss };
                        struct grow_geometry g = {
                                .table = lo.table, .sector_size = ss, .head_sectors = lo.head_sectors,
                                .n_before = 2, .before_sectors = sectors, .volume_sectors = before[2] / ss,
                        };
                        struct grow_reason why = { 0 };
                        _cleanup_free_ uint8_t *out = NULL;

                        assert_int_equal(ln.header_bytes, lo.header_bytes); /* the gaps stay where they are */
                        int r = grow_header(&g, old, lo.header_bytes, after[2], &out, &why);
                        if (r != 0)
                                fail_msg("grow_header (%s, %u): %d: %s", t == TABLE_GPT ? "gpt" : "mbr", ss, r, why.message);
                        assert_memory_equal(out, fresh, ln.header_bytes);

                        /* Told the disk has one volume, the same header is
                         * not a layout to grow. */
                        g.n_before = 0;
                        free(TAKE_PTR(out));
                        assert_int_not_equal(grow_header(&g, old, lo.header_bytes, after[2], &out, &why), 0);
                        assert_null(out);
                }
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fresh_equals_mkheader),
                cmocka_unit_test(test_gpt_512_guest_changes_survive),
                cmocka_unit_test(test_gpt_4096_guest_changes_survive),
                cmocka_unit_test(test_gpt_long_header),
                cmocka_unit_test(test_mbr_guest_changes_survive),
                cmocka_unit_test(test_sizes_refused),
                cmocka_unit_test(test_mbr_limit),
                cmocka_unit_test(test_gpt_partition_moved),
                cmocka_unit_test(test_mbr_partition_moved),
                cmocka_unit_test(test_corrupt_refused),
                cmocka_unit_test(test_gpt_primary_array_too_long),
                cmocka_unit_test(test_mbr_blocked),
                cmocka_unit_test(test_bad_geometry),
                cmocka_unit_test(test_grow_twice),
                cmocka_unit_test(test_several_volumes),
                cmocka_unit_test(test_partition1_sectors),
        };

        if (argc > 1)
                return tool(argc, argv);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
