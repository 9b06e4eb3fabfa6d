/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layout arithmetic, GPT/MBR generation and verification, GUID derivation. */
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

#include <sys/sysmacros.h>

#include "dmtable.h"
#include "gpt-format.h"
#include "guid.h"
#include "layout.h"
#include "plan.h"
#include "table.h"
#include "util.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

static const char BASIC_DATA[] = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";

static struct table_partition partition;

static struct table_spec spec_for(enum table_kind t) {
        struct table_spec s = { .partitions = &partition, .n_partitions = 1 };

        partition = (struct table_partition) {};
        partition.type.flags = t == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR;
        assert_int_equal(guid_parse(BASIC_DATA, &partition.type.gpt), 0);
        partition.type.mbr = 0x07;
        guid_derive("disk", "t", "u", &s.disk_guid);
        guid_derive("partition", "t", "u", &partition.guid);
        s.disk_signature = 0x12345678;
        snprintf(partition.name, sizeof partition.name, "Data");
        return s;
}

/* The layout of a disk of one volume into l, releasing what l held. */
static int layout1(enum table_kind t, uint64_t vol, uint32_t ss, uint64_t alignment, struct layout *l) {
        layout_done(l);
        return layout_compute(t, ss, alignment, &vol, 1, l);
}

static uint64_t volume_sectors(const struct layout *l) {
        return layout_volume(l, 0)->length / l->sector_size;
}

static uint8_t *make(enum table_kind t, uint64_t vol, uint32_t ss, struct layout *l) {
        struct table_spec s = spec_for(t);

        assert_int_equal(layout1(t, vol, ss, MiB, l), 0);
        uint8_t *buf = calloc(1, l->header_bytes);
        assert_non_null(buf);
        table_write(l, &s, buf);
        return buf;
}

static unsigned verify(const struct layout *l, const uint8_t *buf, struct verify_report *r) {
        return table_verify(l, buf, l->header_bytes, r);
}

static void test_layout_gpt_512(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};

        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 512, MiB, &l), 0);
        assert_int_equal(l.head_sectors, 2048);
        assert_int_equal(volume_sectors(&l), 131072);
        assert_int_equal(l.tail_sectors, 33);
        assert_int_equal(l.total_sectors, 2048 + 131072 + 33);
        /* 1 MiB plus 16.5 KiB, as the contract promises. */
        assert_int_equal(l.header_bytes, MiB + 16896);
        assert_int_equal(l.n_regions, 3);
        assert_int_equal(l.regions[2].file_offset, MiB);
        assert_int_equal(l.regions[2].start, MiB + 64 * MiB);
}

static void test_layout_gpt_4096(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};

        assert_int_equal(layout1(TABLE_GPT, GiB + 7 * 4096, 4096, MiB, &l), 0);
        assert_int_equal(l.head_sectors, 256);
        assert_int_equal(l.tail_sectors, 5);
        assert_int_equal(l.entries_sectors, 4);
        assert_int_equal(volume_sectors(&l), GiB / 4096 + 7);
        assert_int_equal(l.header_bytes, MiB + 5 * 4096);
        assert_int_equal(layout_min_alignment(TABLE_GPT, 4096), 6 * 4096);
        assert_int_equal(layout_min_alignment(TABLE_GPT, 512), 34 * 512);
        assert_int_equal(layout_min_alignment(TABLE_MBR, 4096), 4096);
}

static void test_layout_odd_and_huge(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};

        assert_int_equal(layout1(TABLE_GPT, GiB + 7 * 512, 512, MiB, &l), 0);
        assert_int_equal(volume_sectors(&l), 2097159);
        assert_int_equal(layout1(TABLE_GPT, 30 * TiB, 512, MiB, &l), 0);
        assert_int_equal(l.total_sectors, 30 * TiB / 512 + 2048 + 33);
        assert_int_equal(layout1(TABLE_GPT, 30 * TiB, 4096, MiB, &l), 0);
        assert_int_equal(l.total_sectors, 30 * TiB / 4096 + 256 + 5);
        /* 64-bit overflow of the disk in bytes. */
        assert_int_equal(layout1(TABLE_GPT, UINT64_MAX - 4095, 4096, MiB, &l), -EFBIG);
        /* Past the kernel's signed 64-bit offsets. */
        assert_int_equal(layout1(TABLE_GPT, UINT64_C(1) << 63, 512, MiB, &l), -EFBIG);
}

static void test_layout_mbr_limit(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        const uint64_t max512 = (MBR_MAX_SECTORS - 2048) * 512;

        assert_int_equal(layout1(TABLE_MBR, max512, 512, MiB, &l), 0);
        assert_int_equal(l.total_sectors, MBR_MAX_SECTORS);
        assert_int_equal(l.tail_sectors, 0);
        assert_int_equal(l.n_regions, 2);
        assert_int_equal(l.header_bytes, MiB);
        assert_int_equal(layout1(TABLE_MBR, max512 + 512, 512, MiB, &l), -EFBIG);
        assert_int_equal(layout1(TABLE_MBR, 3 * TiB, 512, MiB, &l), -EFBIG);
        /* With 4096-byte sectors the limit is 16 TiB. */
        assert_int_equal(layout1(TABLE_MBR, (MBR_MAX_SECTORS - 256) * 4096, 4096, MiB, &l), 0);
        assert_int_equal(layout1(TABLE_MBR, (MBR_MAX_SECTORS - 255) * 4096, 4096, MiB, &l), -EFBIG);
}

static void test_layout_invalid(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};

        assert_int_equal(layout1(TABLE_GPT, 0, 512, MiB, &l), -EINVAL);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB + 1, 512, MiB, &l), -EINVAL);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB + 512, 4096, MiB, &l), -EINVAL);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 1024, MiB, &l), -EINVAL);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 512, 17408 - 512, &l), -EDOM);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 512, 17408, &l), 0);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 4096, 17408, &l), -EDOM);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 4096, 6 * 4096, &l), 0);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 512, MiB + 100, &l), -EDOM);
        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 512, 2 * GiB, &l), -EDOM);
        assert_int_equal(layout1(TABLE_MBR, 64 * MiB, 512, 512, &l), 0);
}

static void test_dm_table(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        _cleanup_(dm_table_done) struct dm_table t = {};
        char line[DM_TARGET_LINE_MAX];

        assert_int_equal(layout1(TABLE_GPT, 64 * MiB, 4096, MiB, &l), 0);
        assert_int_equal(dmtable_build(&l, makedev(7, 0), (const dev_t[]) { makedev(254, 3) }, &t), 0);
        assert_int_equal(t.n, 3);
        assert_int_equal(t.t[0].start, 0);
        assert_int_equal(t.t[0].length, 2048);
        assert_string_equal(dmtable_format(&t, 0, NULL, line, sizeof line), "0 2048 linear 7:0 0");
        assert_int_equal(t.t[1].start, 2048);
        assert_int_equal(t.t[1].length, 131072);
        assert_string_equal(dmtable_format(&t, 1, NULL, line, sizeof line), "2048 131072 linear 254:3 0");
        assert_int_equal(t.t[2].start, 2048 + 131072);
        assert_int_equal(t.t[2].length, 40);
        assert_string_equal(dmtable_format(&t, 2, NULL, line, sizeof line), "133120 40 linear 7:0 2048");

        dm_table_done(&t);
        assert_int_equal(layout1(TABLE_MBR, 64 * MiB, 512, MiB, &l), 0);
        assert_int_equal(dmtable_build(&l, 0, NULL, &t), 0);
        assert_int_equal(t.n, 2);
}

static void test_gpt_fields(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        struct gpt_header h;
        struct gpt_entry e;

        memcpy(&h, buf + 512, sizeof h);
        assert_memory_equal(h.signature, "EFI PART", 8);
        assert_int_equal(le64toh(h.my_lba), 1);
        assert_int_equal(le64toh(h.alternate_lba), l.total_sectors - 1);
        assert_int_equal(le64toh(h.first_usable_lba), 34);
        assert_int_equal(le64toh(h.last_usable_lba), l.total_sectors - 34);
        assert_int_equal(le64toh(h.partition_entries_lba), 2);
        memcpy(&e, buf + 1024, sizeof e);
        /* Mixed-endian type GUID as UEFI stores it. */
        static const uint8_t basic_data_on_disk[16] = { 0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44,
                                                         0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7 };
        assert_memory_equal(e.partition_type_guid, basic_data_on_disk, 16);
        assert_int_equal(le64toh(e.starting_lba), 2048);
        assert_int_equal(le64toh(e.ending_lba), 2048 + 131072 - 1);
        assert_int_equal(le16toh(e.partition_name[0]), 'D');
        assert_int_equal(le16toh(e.partition_name[3]), 'a');
        assert_int_equal(e.partition_name[4], 0);

        /* Backup header: last LBA, swapped my/alternate, entries in the tail. */
        const uint8_t *tail = buf + MiB;
        memcpy(&h, tail + 32 * 512, sizeof h);
        assert_int_equal(le64toh(h.my_lba), l.total_sectors - 1);
        assert_int_equal(le64toh(h.alternate_lba), 1);
        assert_int_equal(le64toh(h.partition_entries_lba), l.total_sectors - 33);
        assert_memory_equal(tail, buf + 1024, GPT_ENTRIES_BYTES);

        /* Protective MBR. */
        const struct mbr_sector *m = (const void *) buf;
        assert_int_equal(m->partitions[0].os_type, 0xEE);
        assert_int_equal(le32toh(m->partitions[0].starting_lba), 1);
        assert_int_equal(le32toh(m->partitions[0].size_in_lba), l.total_sectors - 1);
        assert_int_equal(m->signature[0], 0x55);
        free(buf);
}

static void test_gpt_pmbr_capped(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 3 * TiB, 512, &l);
        const struct mbr_sector *m = (const void *) buf;
        struct verify_report r;

        assert_int_equal(le32toh(m->partitions[0].size_in_lba), 0xFFFFFFFF);
        assert_int_equal(verify(&l, buf, &r), 0);
        free(buf);
}

static void test_round_trip(void **state) {
        (void) state;
        static const uint64_t sizes[] = { 64 * MiB, GiB + 7 * 4096, 3 * TiB, 30 * TiB };
        struct verify_report r;

        for (unsigned i = 0; i < 4; i++)
                for (uint32_t ss = 512; ss <= 4096; ss *= 8)
                        for (int t = TABLE_GPT; t <= TABLE_MBR; t++) {
                                _cleanup_(layout_done) struct layout l = {};
                                if (t == TABLE_MBR && sizes[i] / ss >= MBR_MAX_SECTORS - 2048)
                                        continue;
                                uint8_t *buf = make(t, sizes[i], ss, &l);
                                assert_int_equal(verify(&l, buf, &r), 0);
                                assert_true(r.maps_volume);
                                free(buf);
                        }
}

/* Several volumes with gaps between them: the tail follows the gaps in the
 * header file, and the verifier must find it there. */
static void test_round_trip_gaps(void **state) {
        (void) state;
        static const uint64_t sizes[] = { 22 * MiB + 4096, 17 * MiB + 8192, 9 * MiB + 4096, 5 * MiB };
        struct table_partition parts[4] = {};
        struct verify_report r;

        for (uint32_t ss = 512; ss <= 4096; ss *= 8)
                for (int t = TABLE_GPT; t <= TABLE_MBR; t++) {
                        _cleanup_(layout_done) struct layout l = {};
                        struct table_spec s = spec_for(t);
                        for (size_t k = 0; k < 4; k++) {
                                parts[k] = s.partitions[0];
                                guid_derive_partition((unsigned) k + 1, "t", "u", &parts[k].guid);
                        }
                        s.partitions = parts;
                        s.n_partitions = 4;
                        assert_int_equal(layout_compute(t, ss, 4 * MiB, sizes, 4, &l), 0);
                        assert_int_equal(l.n_regions, t == TABLE_GPT ? 9 : 8); /* head, 4 volumes, 3 gaps, GPT tail */
                        _cleanup_free_ uint8_t *buf = calloc(1, l.header_bytes);
                        assert_non_null(buf);
                        table_write(&l, &s, buf);
                        assert_int_equal(verify(&l, buf, &r), 0);
                        assert_true(r.maps_volume);
                }
}

static void test_same_input_same_bytes(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *a = make(TABLE_GPT, GiB, 512, &l), *b = make(TABLE_GPT, GiB, 512, &l);

        assert_memory_equal(a, b, l.header_bytes);
        free(a);
        free(b);
}

/* Flipping any byte of either header or either entry array is noticed. */
static void test_gpt_flip_every_byte(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        const size_t ranges[4][2] = {
                { 512, GPT_HEADER_BYTES },                    /* primary header */
                { 1024, GPT_ENTRIES_BYTES },                  /* primary entries */
                { MiB, GPT_ENTRIES_BYTES },                   /* backup entries */
                { MiB + 32 * 512, GPT_HEADER_BYTES },         /* backup header */
        };
        struct verify_report r;

        for (unsigned k = 0; k < 4; k++)
                for (size_t i = ranges[k][0]; i < ranges[k][0] + ranges[k][1]; i++) {
                        buf[i] ^= 0x01;
                        if (verify(&l, buf, &r) == 0)
                                fail_msg("flipping byte %zu went unnoticed", i);
                        /* One copy stays valid and still maps the volume. */
                        assert_true(r.primary_ok != r.backup_ok);
                        assert_true(r.maps_volume);
                        buf[i] ^= 0x01;
                }
        assert_int_equal(verify(&l, buf, &r), 0);
        free(buf);
}

static void fix_crcs(const struct layout *l, uint8_t *hdr, const uint8_t *entries, size_t entries_len) {
        struct gpt_header h;

        (void) l;
        memcpy(&h, hdr, sizeof h);
        h.partition_entries_crc32 = htole32((uint32_t) crc32(0, entries, (uInt) entries_len));
        h.header_crc32 = 0;
        h.header_crc32 = htole32((uint32_t) crc32(0, (const void *) &h, sizeof h));
        memcpy(hdr, &h, sizeof h);
}

static void test_gpt_guest_changes_are_healthy(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        uint8_t *ph = buf + 512, *bh = buf + MiB + 32 * 512;
        struct verify_report r;

        /* A guest sets a new disk GUID and attributes on partition 1 in both copies. */
        for (int k = 0; k < 2; k++) {
                uint8_t *hdr = k ? bh : ph, *ent = k ? buf + MiB : buf + 1024;
                memset(hdr + offsetof(struct gpt_header, disk_guid), 0x5A, 16);
                ent[offsetof(struct gpt_entry, attributes) + 7] = 0x80;
                fix_crcs(&l, hdr, ent, GPT_ENTRIES_BYTES);
        }
        assert_int_equal(verify(&l, buf, &r), 0);
        assert_true(r.maps_volume);

        /* But moving partition 1 is not. */
        for (int k = 0; k < 2; k++) {
                uint8_t *hdr = k ? bh : ph, *ent = k ? buf + MiB : buf + 1024;
                ent[offsetof(struct gpt_entry, starting_lba)] += 1;
                fix_crcs(&l, hdr, ent, GPT_ENTRIES_BYTES);
        }
        assert_int_not_equal(verify(&l, buf, &r), 0);
        assert_false(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "partition 1 starts at LBA 2049, expected 2048"));
        free(buf);
}

static void test_gpt_hostile_entry_counts(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        uint8_t *ph = buf + 512;
        static const uint32_t nums[] = { 0, 129, 2048, 0x01000000, 0xFFFFFFFF };
        static const uint32_t sizes[] = { 0, 1, 127, 130, 0x80000000, 0xFFFFFFFF };
        struct verify_report r;

        for (unsigned i = 0; i < ARRAY_SIZE(nums); i++) {
                struct gpt_header h;
                memcpy(&h, ph, sizeof h);
                h.num_partition_entries = htole32(nums[i]);
                memcpy(ph, &h, sizeof h);
                fix_crcs(&l, ph, buf + 1024, 0);
                assert_int_not_equal(verify(&l, buf, &r), 0);
                assert_false(r.primary_ok);
                assert_true(r.backup_ok);
        }
        free(buf);
        buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        ph = buf + 512;
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
                struct gpt_header h;
                memcpy(&h, ph, sizeof h);
                h.sizeof_partition_entry = htole32(sizes[i]);
                memcpy(ph, &h, sizeof h);
                fix_crcs(&l, ph, buf + 1024, 0);
                assert_int_not_equal(verify(&l, buf, &r), 0);
                assert_false(r.primary_ok);
        }
        /* A header size beyond the sector must not make the CRC read past it. */
        struct gpt_header h;
        memcpy(&h, ph, sizeof h);
        h.header_size = htole32(0xFFFFFFFF);
        memcpy(ph, &h, sizeof h);
        assert_int_not_equal(verify(&l, buf, &r), 0);
        free(buf);
}

/* A primary copy that the kernel and UEFI firmware accept (signature, CRCs
 * and my LBA are right) is the one a guest uses, even when partwrap finds
 * a field it dislikes: its partition 1 decides, and the backup must not be
 * taken instead. Found by review while fuzzing the verifier: a moved
 * partition 1 plus an out-of-range first usable LBA in the primary was
 * judged "partition 1 still maps the volume" from the intact backup. */
static void test_gpt_usable_primary_is_not_overruled_by_backup(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        struct verify_report r;
        struct { size_t field; uint64_t value; } bad[] = {
                { offsetof(struct gpt_header, first_usable_lba), 33 },
                { offsetof(struct gpt_header, revision), 0x00010001 },
                { offsetof(struct gpt_header, alternate_lba), 12345 },
        };

        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
                uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
                uint8_t *ph = buf + 512, *pe = buf + 1024;
                struct gpt_entry *e = (struct gpt_entry *) pe;

                /* Partition 1 moved by one sector, in the primary only. */
                e->starting_lba = htole64(le64toh(e->starting_lba) + 1);
                if (bad[i].field == offsetof(struct gpt_header, revision))
                        memcpy(ph + bad[i].field, &(uint32_t) { htole32((uint32_t) bad[i].value) }, 4);
                else
                        memcpy(ph + bad[i].field, &(uint64_t) { htole64(bad[i].value) }, 8);
                fix_crcs(&l, ph, pe, GPT_ENTRIES_BYTES);

                assert_int_not_equal(verify(&l, buf, &r), 0);
                assert_false(r.primary_ok);
                assert_true(r.backup_ok);
                assert_false(r.maps_volume);
                bool named = false;
                for (unsigned k = 0; k < r.n_problems && k < VERIFY_MAX_PROBLEMS; k++)
                        named = named || strstr(r.problems[k], "primary GPT entries: partition 1 starts at LBA 2049, expected 2048");
                assert_true(named);
                free(buf);
        }

        /* A field problem alone, partition 1 in place: the backup cannot
         * vouch for a primary the guest uses, so the verdict stays on the
         * safe side, and says why. */
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        memcpy(buf + 512 + offsetof(struct gpt_header, first_usable_lba), &(uint64_t) { htole64(33) }, 8);
        fix_crcs(&l, buf + 512, buf + 1024, GPT_ENTRIES_BYTES);
        assert_int_not_equal(verify(&l, buf, &r), 0);
        assert_false(r.primary_ok);
        assert_false(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "primary GPT header: first usable LBA is 33, expected 34..2048"));
        assert_non_null(strstr(r.problems[1], "guests use it, not the backup"));
        free(buf);

        /* A primary no consumer can read (no entries) still hands over to
         * the backup. */
        buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        memset(buf + 512 + offsetof(struct gpt_header, num_partition_entries), 0, 4);
        fix_crcs(&l, buf + 512, buf + 1024, 0);
        assert_int_not_equal(verify(&l, buf, &r), 0);
        assert_false(r.primary_ok);
        assert_true(r.maps_volume);
        free(buf);
}

static void test_gpt_corrupt_primary_and_backup(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 4096, &l);
        struct verify_report r;

        memset(buf + 4096, 0, 4096); /* primary header gone */
        assert_int_not_equal(verify(&l, buf, &r), 0);
        assert_false(r.primary_ok);
        assert_true(r.backup_ok);
        assert_true(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "primary GPT header"));
        free(buf);

        buf = make(TABLE_GPT, 64 * MiB, 4096, &l);
        memset(buf + MiB + 4 * 4096, 0xFF, 4096); /* backup header garbage */
        assert_int_not_equal(verify(&l, buf, &r), 0);
        assert_true(r.primary_ok);
        assert_false(r.backup_ok);
        assert_true(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "backup GPT header"));
        free(buf);
}

static void test_volume_changed_size(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {}, grown = {}, shrunk = {};
        uint8_t *buf = make(TABLE_GPT, GiB, 512, &l);
        struct verify_report r;

        assert_int_equal(layout1(TABLE_GPT, GiB + 512, 512, MiB, &grown), 0);
        assert_int_equal(layout1(TABLE_GPT, GiB - 4096, 512, MiB, &shrunk), 0);
        assert_int_not_equal(verify(&grown, buf, &r), 0);
        assert_false(r.maps_volume);
        assert_int_not_equal(verify(&shrunk, buf, &r), 0);
        assert_false(r.maps_volume);
        free(buf);

        buf = make(TABLE_MBR, GiB, 512, &l);
        assert_int_equal(layout1(TABLE_MBR, GiB + 512, 512, MiB, &grown), 0);
        assert_int_not_equal(verify(&grown, buf, &r), 0);
        assert_non_null(strstr(r.problems[0], "did the volume change size?"));
        free(buf);
}

static void test_truncated_header(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, GiB, 512, &l);
        struct verify_report r;

        assert_int_not_equal(table_verify(&l, buf, l.header_bytes - 1, &r), 0);
        assert_false(r.maps_volume);
        assert_int_not_equal(table_verify(&l, buf, 0, &r), 0);
        free(buf);
}

static void test_mbr(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_MBR, GiB + 7 * 512, 512, &l);
        struct mbr_sector *m = (void *) buf;
        struct verify_report r;

        assert_int_equal(l.header_bytes, MiB);
        assert_int_equal(le32toh(m->disk_signature), 0x12345678);
        assert_int_equal(m->partitions[0].os_type, 0x07);
        assert_int_equal(le32toh(m->partitions[0].starting_lba), 2048);
        assert_int_equal(le32toh(m->partitions[0].size_in_lba), 2097159);
        assert_int_equal(verify(&l, buf, &r), 0);
        assert_int_equal(r.disk_signature, 0x12345678);

        /* Windows writes its own disk signature: healthy. */
        m->disk_signature = htole32(0xCAFEF00D);
        assert_int_equal(verify(&l, buf, &r), 0);
        assert_int_equal(r.disk_signature, 0xCAFEF00D);

        /* Each byte of the partition 1 record's geometry matters. */
        for (size_t i = offsetof(struct mbr_partition, starting_lba); i < 16; i++) {
                uint8_t *p = buf + 446 + i;
                *p ^= 0x10;
                assert_int_not_equal(verify(&l, buf, &r), 0);
                assert_false(r.maps_volume);
                *p ^= 0x10;
        }

        /* A guest may change the type, but not into an extended partition:
         * readers would parse the volume as a chain of EBRs. */
        static const uint8_t extended[] = { 0x05, 0x0f, 0x85 };
        for (unsigned i = 0; i < ARRAY_SIZE(extended); i++) {
                m->partitions[0].os_type = extended[i];
                assert_int_not_equal(verify(&l, buf, &r), 0);
                assert_false(r.maps_volume);
                assert_non_null(strstr(r.problems[0], "MBR: partition 1 is an extended partition"));
        }
        m->partitions[0].os_type = 0x83;
        assert_int_equal(verify(&l, buf, &r), 0);

        buf[510] = 0;
        assert_int_not_equal(verify(&l, buf, &r), 0);
        free(buf);
}

/* The guest's parser decides between GPT and MBR (Linux efi.c and
 * msdos.c, Windows): a GPT counts only behind a protective MBR. */
static void test_gpt_needs_protective_mbr(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        struct mbr_sector *m = (void *) buf;
        struct verify_report r;

        /* The guest replaces the protective record with a plain one: both
         * GPT copies are intact, yet guests read the MBR. */
        m->partitions[0] = (struct mbr_partition) {
                .os_type = 0x83, .starting_lba = htole32(4096), .size_in_lba = htole32(100),
        };
        assert_int_equal(verify(&l, buf, &r), 1);
        assert_true(r.primary_ok && r.backup_ok);
        assert_false(r.maps_volume);
        assert_string_equal(r.problems[0],
                            "protective MBR: no type 0xee record starting at LBA 1, so guests read the MBR, not the GPT");

        /* A 0xee record in another slot, starting at LBA 1, is protective
         * for Linux: hybrid MBRs stay healthy. */
        m->partitions[2] = (struct mbr_partition) {
                .os_type = 0xee, .starting_lba = htole32(1), .size_in_lba = htole32(UINT32_MAX),
        };
        assert_int_equal(verify(&l, buf, &r), 0);
        assert_true(r.maps_volume);

        /* One that starts elsewhere is not (efi.c pmbr_part_valid()). */
        m->partitions[2].starting_lba = htole32(2);
        assert_int_equal(verify(&l, buf, &r), 1);
        assert_false(r.maps_volume);

        /* No boot signature: no protective MBR. */
        free(buf);
        buf = make(TABLE_GPT, 64 * MiB, 512, &l);
        buf[511] = 0;
        assert_int_equal(verify(&l, buf, &r), 1);
        assert_false(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "boot signature is 5500, expected 55aa, so guests do not read the GPT"));
        free(buf);
}

/* An MBR with a 0xee record anywhere is a GPT disk to Linux and Windows;
 * a bad boot indicator makes Linux ignore the table. */
static void test_mbr_read_as_gpt(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        uint8_t *buf = make(TABLE_MBR, GiB, 512, &l);
        struct mbr_sector *m = (void *) buf;
        struct verify_report r;

        for (unsigned slot = 1; slot < 4; slot++) {
                m->partitions[slot] = (struct mbr_partition) { .os_type = 0xee, .starting_lba = htole32(1), .size_in_lba = htole32(1) };
                assert_int_equal(verify(&l, buf, &r), 1);
                assert_false(r.maps_volume);
                char want[128];
                snprintf(want, sizeof want, "MBR: record %u is a GPT protective record (type 0xee), so guests read a GPT", slot + 1);
                assert_non_null(strstr(r.problems[0], want));
                m->partitions[slot] = (struct mbr_partition) {};
        }
        assert_int_equal(verify(&l, buf, &r), 0);

        m->partitions[3].boot_indicator = 0x01;
        assert_int_equal(verify(&l, buf, &r), 1);
        assert_false(r.maps_volume);
        assert_non_null(strstr(r.problems[0], "MBR: record 4 has boot indicator 0x01, not 0x00 or 0x80"));
        m->partitions[3].boot_indicator = 0;
        m->partitions[0].boot_indicator = 0x80; /* bootable: fine */
        assert_int_equal(verify(&l, buf, &r), 0);
        free(buf);
}

static void test_chs(void **state) {
        (void) state;
        uint8_t chs[3];

        mbr_lba_to_chs(2048, chs);
        /* 2048 = cylinder 0, head 32, sector 33 */
        assert_int_equal(chs[0], 32);
        assert_int_equal(chs[1], 33);
        assert_int_equal(chs[2], 0);
        mbr_lba_to_chs(UINT64_C(1) << 31, chs);
        assert_int_equal(chs[0], 254);
        assert_int_equal(chs[1], 0xFF);
        assert_int_equal(chs[2], 0xFF);
}

static void test_guid(void **state) {
        (void) state;
        guid_t a, b, c;
        char s[GUID_STRING_MAX];
        uint8_t raw[16];

        guid_derive("disk", "win-data", "1234-ABCD", &a);
        guid_derive("disk", "win-data", "1234-ABCD", &b);
        assert_true(guid_equal(&a, &b));
        assert_int_equal(a.b[6] >> 4, 5); /* version 5 */
        assert_int_equal(a.b[8] & 0xC0, 0x80); /* RFC 4122 variant */
        guid_derive("partition", "win-data", "1234-ABCD", &c);
        assert_false(guid_equal(&a, &c));
        guid_derive("disk", "win-data", NULL, &c);
        assert_false(guid_equal(&a, &c));
        guid_derive("disk", "win-data", "1234-abcd", &c);
        assert_true(guid_equal(&a, &c)); /* filesystem UUIDs fold case */
        guid_derive("Disk", "win-data", "1234-ABCD", &c);
        assert_false(guid_equal(&a, &c));
        guid_derive("disk", "win-datb", "1234-ABCD", &c);
        assert_false(guid_equal(&a, &c));
        assert_int_not_equal(guid_derive_mbr_signature("x", NULL), 0);
        assert_int_equal(guid_derive_mbr_signature("x", "y"), guid_derive_mbr_signature("x", "y"));

        assert_int_equal(guid_parse("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", &a), 0);
        assert_string_equal(guid_format(&a, s), BASIC_DATA);
        guid_to_gpt(&a, raw);
        assert_int_equal(raw[0], 0xA2);
        assert_int_equal(raw[3], 0xEB);
        assert_int_equal(raw[4], 0xE5);
        assert_int_equal(raw[6], 0x33);
        assert_int_equal(raw[8], 0x87);
        guid_from_gpt(raw, &b);
        assert_true(guid_equal(&a, &b));
        assert_int_equal(guid_parse("ebd0a0a2-b9e5-4433-87c0-68b6b72699c", &a), -EINVAL);
        assert_int_equal(guid_parse("ebd0a0a2b9e5443387c068b6b72699c7", &a), -EINVAL);
        assert_int_equal(guid_parse("xbd0a0a2-b9e5-4433-87c0-68b6b72699c7", &a), -EINVAL);
}

static void test_partition_name_utf16(void **state) {
        (void) state;
        _cleanup_(layout_done) struct layout l = {};
        struct table_spec s = spec_for(TABLE_GPT);
        struct gpt_entry e;

        assert_int_equal(layout1(TABLE_GPT, GiB, 512, MiB, &l), 0);
        /* "Daten-ä-𝄞" then 40 more chars: truncated to 36 units, pair kept whole. */
        snprintf(partition.name, sizeof partition.name, "%s", "D\xc3\xa4\xf0\x9d\x84\x9e" "abcdefghijklmnopqrstuvwxyz0123456789");
        uint8_t *buf = calloc(1, l.header_bytes);
        table_write(&l, &s, buf);
        memcpy(&e, buf + 1024, sizeof e);
        assert_int_equal(le16toh(e.partition_name[0]), 'D');
        assert_int_equal(le16toh(e.partition_name[1]), 0xE4);
        assert_int_equal(le16toh(e.partition_name[2]), 0xD834);
        assert_int_equal(le16toh(e.partition_name[3]), 0xDD1E);
        assert_int_equal(le16toh(e.partition_name[35]), '5');

        /* A surrogate pair that would straddle the end is left out whole. */
        snprintf(partition.name, sizeof partition.name, "%s", "abcdefghijklmnopqrstuvwxyz012345678\xf0\x9d\x84\x9e");
        memset(buf, 0, l.header_bytes);
        table_write(&l, &s, buf);
        memcpy(&e, buf + 1024, sizeof e);
        assert_int_equal(le16toh(e.partition_name[34]), '8');
        assert_int_equal(e.partition_name[35], 0);
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_gpt_512),
                cmocka_unit_test(test_layout_gpt_4096),
                cmocka_unit_test(test_layout_odd_and_huge),
                cmocka_unit_test(test_layout_mbr_limit),
                cmocka_unit_test(test_layout_invalid),
                cmocka_unit_test(test_dm_table),
                cmocka_unit_test(test_gpt_fields),
                cmocka_unit_test(test_gpt_pmbr_capped),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_round_trip_gaps),
                cmocka_unit_test(test_same_input_same_bytes),
                cmocka_unit_test(test_gpt_flip_every_byte),
                cmocka_unit_test(test_gpt_guest_changes_are_healthy),
                cmocka_unit_test(test_gpt_hostile_entry_counts),
                cmocka_unit_test(test_gpt_usable_primary_is_not_overruled_by_backup),
                cmocka_unit_test(test_gpt_corrupt_primary_and_backup),
                cmocka_unit_test(test_volume_changed_size),
                cmocka_unit_test(test_truncated_header),
                cmocka_unit_test(test_mbr),
                cmocka_unit_test(test_chs),
                cmocka_unit_test(test_gpt_needs_protective_mbr),
                cmocka_unit_test(test_mbr_read_as_gpt),
                cmocka_unit_test(test_guid),
                cmocka_unit_test(test_partition_name_utf16),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
