/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The region list for 1 to 4 volumes, GPT and MBR, 512- and 4096-byte
 * sectors: regions contiguous over the disk, every volume on an aligned
 * start, the gaps between them and the head and tail slices of the header
 * file in order and without holes; one volume exactly as partwrap has
 * always laid it out; GPT geometry; and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "layout.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)

/* Sizes that end on and off the alignment. */
static const uint64_t sizes[] = { 64 * MiB, 3 * MiB + 4096, 7 * 4096, 2 * MiB };

static void check_regions(const struct layout *l, uint64_t alignment, const uint64_t *vols, size_t n) {
        uint64_t at = 0, file_at = 0;
        size_t next_volume = 0;

        assert_int_equal(l->n_volumes, n);
        assert_true(l->n_regions >= n + 1);
        assert_int_equal(l->regions[0].kind, REGION_HEAD);
        assert_int_equal(l->regions[0].length, alignment);
        for (size_t i = 0; i < l->n_regions; i++) {
                const struct region *r = &l->regions[i];

                /* Contiguous over the disk, nothing empty. */
                assert_int_equal(r->start, at);
                assert_true(r->length > 0);
                assert_int_equal(r->start % l->sector_size, 0);
                assert_int_equal(r->length % l->sector_size, 0);
                at += r->length;
                if (r->kind == REGION_VOLUME) {
                        /* In order, each at an aligned start, exactly its size. */
                        assert_int_equal(r->volume, next_volume);
                        assert_int_equal(r->start % alignment, 0);
                        assert_int_equal(r->length, vols[next_volume]);
                        assert_ptr_equal(layout_volume(l, next_volume), r);
                        next_volume++;
                        continue;
                }
                /* Head, gaps and tail follow each other in the header file. */
                assert_int_equal(r->file_offset, file_at);
                file_at += r->length;
                if (r->kind == REGION_GAP) {
                        assert_true(i > 0 && l->regions[i - 1].kind == REGION_VOLUME);
                        assert_true(r->length < alignment);
                        assert_int_equal((r->start + r->length) % alignment, 0);
                }
                if (r->kind == REGION_TAIL)
                        assert_int_equal(i, l->n_regions - 1);
        }
        assert_int_equal(next_volume, n);
        assert_null(layout_volume(l, n));
        assert_int_equal(at, layout_total_bytes(l));
        assert_int_equal(file_at, l->header_bytes);
        assert_int_equal(l->tail_sectors, layout_tail_sectors(l->table, l->sector_size));
}

static void test_n_volumes(void **state _unused_) {
        static const uint64_t alignments[] = { MiB, 64 * KiB };

        for (int t = TABLE_GPT; t <= TABLE_MBR; t++)
                for (uint32_t ss = 512; ss <= 4096; ss *= 8)
                        for (size_t a = 0; a < ARRAY_SIZE(alignments); a++)
                                for (size_t n = 1; n <= 4; n++) {
                                        _cleanup_(layout_done) struct layout l = {};

                                        assert_int_equal(layout_compute(t, ss, alignments[a], sizes, n, &l), 0);
                                        assert_int_equal(l.table, t);
                                        check_regions(&l, alignments[a], sizes, n);
                                }
}

/* One volume: head, volume, tail, as before volumes came in lists. */
static void test_one_volume_as_always(void **state _unused_) {
        _cleanup_(layout_done) struct layout g = {}, m = {};
        const uint64_t v = 64 * MiB;

        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, &v, 1, &g), 0);
        assert_int_equal(g.n_regions, 3);
        assert_int_equal(g.regions[0].kind, REGION_HEAD);
        assert_int_equal(g.regions[1].kind, REGION_VOLUME);
        assert_int_equal(g.regions[1].start, MiB);
        assert_int_equal(g.regions[2].kind, REGION_TAIL);
        assert_int_equal(g.regions[2].start, MiB + v);
        assert_int_equal(g.regions[2].file_offset, MiB);
        assert_int_equal(g.header_bytes, MiB + 33 * 512);
        assert_int_equal(g.total_sectors, 2048 + 131072 + 33);
        /* UEFI 2.10 5.3.2: usable range and the backup copy. */
        assert_int_equal(g.first_usable_lba, 34);
        assert_int_equal(g.last_usable_lba, 2048 + 131072 - 1);
        assert_int_equal(g.backup_entries_lba, 2048 + 131072);
        assert_int_equal(g.backup_header_lba, 2048 + 131072 + 32);

        assert_int_equal(layout_compute(TABLE_MBR, 4096, MiB, &v, 1, &m), 0);
        assert_int_equal(m.n_regions, 2);
        assert_int_equal(m.header_bytes, MiB);
        assert_int_equal(m.tail_sectors, 0);
        assert_int_equal(m.first_usable_lba, 0);
}

/* Two volumes whose first ends off the alignment: one gap, in the header
 * file between head and tail. */
static void test_gap(void **state _unused_) {
        _cleanup_(layout_done) struct layout l = {};
        const uint64_t v[] = { MiB + 4096, 2 * MiB };

        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, v, 2, &l), 0);
        assert_int_equal(l.n_regions, 5);
        assert_int_equal(l.regions[2].kind, REGION_GAP);
        assert_int_equal(l.regions[2].start, 2 * MiB + 4096);
        assert_int_equal(l.regions[2].length, MiB - 4096);
        assert_int_equal(l.regions[2].file_offset, MiB);
        assert_int_equal(l.regions[3].start, 3 * MiB);
        assert_int_equal(l.regions[4].file_offset, 2 * MiB - 4096);
        assert_int_equal(l.header_bytes, 2 * MiB - 4096 + 33 * 512);
        assert_int_equal(l.last_usable_lba, (5 * MiB) / 512 - 1);
}

static void test_refused(void **state _unused_) {
        struct layout l = {};
        const uint64_t v[129] = { [0 ... 128] = MiB };
        const uint64_t odd[] = { MiB, MiB + 1 };

        assert_int_equal(layout_compute(TABLE_MBR, 512, MiB, v, 5, &l), -E2BIG);
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, v, 129, &l), -E2BIG);
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, v, 0, &l), -EINVAL);
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, odd, 2, &l), -EINVAL);
        /* The MBR's 2^32 sectors count the gaps too: these two volumes
         * would end at 2^32 back to back, but the second starts aligned. */
        const uint64_t big[] = { MiB + 512, (MBR_MAX_SECTORS - 4097) * 512 };
        assert_int_equal(layout_compute(TABLE_MBR, 512, MiB, big, 2, &l), -EFBIG);
        const uint64_t fits[] = { MiB, (MBR_MAX_SECTORS - 4096) * 512 };
        _cleanup_(layout_done) struct layout m = {};
        assert_int_equal(layout_compute(TABLE_MBR, 512, MiB, fits, 2, &m), 0);
        assert_int_equal(m.total_sectors, MBR_MAX_SECTORS);
        /* Nothing written on refusal. */
        assert_null(l.regions);
        assert_int_equal(l.n_regions, 0);
        _cleanup_(layout_done) struct layout g = {};
        assert_int_equal(layout_compute(TABLE_GPT, 512, MiB, v, 128, &g), 0);
        assert_int_equal(g.n_volumes, 128);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_n_volumes),
                cmocka_unit_test(test_one_volume_as_always),
                cmocka_unit_test(test_gap),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
