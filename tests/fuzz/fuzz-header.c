/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the header verifier, table_verify(), over bytes a guest
 * controls. The first 10 bytes choose the layout the header must describe,
 * the rest is the header:
 *
 *   byte 0      bit 0: MBR (else GPT); bit 1: 4096-byte sectors (else 512);
 *               bit 2: patch mode; bits 3 and 4: after patching, recompute
 *               the CRCs of the primary (bit 3) and backup (bit 4) GPT copy,
 *               so that fields behind the CRCs get judged too
 *   byte 1      alignment = the table's minimum + (byte1 % 64) sectors
 *   bytes 2-9   volume size in bytes, little-endian (rounded down to the
 *               sector; layout_compute() refuses what it cannot lay out)
 *   raw mode    the rest is the header file as read (any length)
 *   patch mode  a valid header from table_write(), then the rest as patch
 *               records [offset u16 LE][length u8][bytes], offsets modulo
 *               the header size: deep mutations of an otherwise valid table
 *
 * Checked besides memory safety (ASan, UBSan): a header with no problem maps
 * the volume, every message is a terminated string, an unpatched header
 * verifies clean, and a header said to map the volume does so for Linux's
 * partition parsers too (a model of them below: the protective MBR decides
 * between GPT and MBR, and for GPT the copy it reads decides).
 *
 *   make fuzz  (or build/fuzz/fuzz-header tests/fuzz/corpus-header) */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "layout.h"
#include "table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX_BYTES 10

static void report_check(const struct verify_report *r, enum table_kind t) {
        unsigned n = r->n_problems < VERIFY_MAX_PROBLEMS ? r->n_problems : VERIFY_MAX_PROBLEMS;

        for (unsigned i = 0; i < n; i++)
                if (strnlen(r->problems[i], VERIFY_MSG_MAX) >= VERIFY_MSG_MAX)
                        abort();
        /* No problem found means a table that describes the volume. */
        if (r->n_problems == 0 && (!r->maps_volume || !r->primary_ok || (t == TABLE_GPT && !r->backup_ok)))
                abort();
}

/* An independent model of the consumer that matters most, Linux
 * (block/partitions/efi.c is_gpt_valid()): does it accept the primary GPT
 * copy, and where does its partition 1 start and end? Returns false when
 * the kernel would reject the primary or when the model cannot tell
 * (entries elsewhere than LBA 2). */
static bool kernel_primary(const struct layout *l, const uint8_t *buf, uint64_t *ret_start, uint64_t *ret_end) {
        const uint8_t *h = buf + l->sector_size;
        uint32_t hsize, crc, num, esize;
        uint64_t my, entries_lba;
        uint8_t tmp[4096];

        if (memcmp(h, "EFI PART", 8) != 0)
                return false;
        memcpy(&hsize, h + 12, 4);
        hsize = le32toh(hsize);
        if (hsize < 92 || hsize > l->sector_size)
                return false;
        memcpy(tmp, h, hsize);
        memset(tmp + 16, 0, 4);
        memcpy(&crc, h + 16, 4);
        if ((uint32_t) crc32(0, tmp, hsize) != le32toh(crc))
                return false;
        memcpy(&my, h + 24, 8);
        memcpy(&entries_lba, h + 72, 8);
        memcpy(&num, h + 80, 4);
        memcpy(&esize, h + 84, 4);
        num = le32toh(num);
        if (le64toh(my) != 1 || le32toh(esize) != 128 || num == 0 || le64toh(entries_lba) != 2 ||
            (uint64_t) num * 128 > (l->head_sectors - 2) * l->sector_size)
                return false;
        memcpy(&crc, h + 88, 4);
        if ((uint32_t) crc32(0, buf + 2 * l->sector_size, num * 128) != le32toh(crc))
                return false;
        memcpy(ret_start, buf + 2 * l->sector_size + 32, 8);
        memcpy(ret_end, buf + 2 * l->sector_size + 40, 8);
        *ret_start = le64toh(*ret_start);
        *ret_end = le64toh(*ret_end);
        return true;
}

/* Which table the guest's parser picks from sector 0, as Linux does
 * (block/partitions/check.c runs efi.c before msdos.c) and Windows does:
 * GPT behind a boot signature and a type 0xee record starting at LBA 1 in
 * any slot (efi.c is_pmbr_valid()); no table at all when a 0xee record
 * starts elsewhere or a boot indicator is neither 0x00 nor 0x80 (msdos.c);
 * else the MBR. */
enum guest_reads { READS_NOTHING, READS_GPT, READS_MBR };
static enum guest_reads kernel_table(const uint8_t *sector0) {
        bool ee = false;

        if (sector0[510] != 0x55 || sector0[511] != 0xAA)
                return READS_NOTHING;
        for (unsigned i = 0; i < 4; i++) {
                const uint8_t *rec = sector0 + 446 + 16 * i;
                uint32_t start;
                memcpy(&start, rec + 8, 4);
                if (rec[4] == 0xee && le32toh(start) == 1)
                        return READS_GPT;
                ee = ee || rec[4] == 0xee;
        }
        for (unsigned i = 0; i < 4; i++) {
                uint8_t boot = sector0[446 + 16 * i];
                if (boot != 0x00 && boot != 0x80)
                        return READS_NOTHING;
        }
        return ee ? READS_NOTHING : READS_MBR;
}

/* Whatever partwrap decides, it must not call a disk healthy that Linux
 * would read with partition 1 somewhere else, or as something else, or
 * through the other kind of table. */
static void oracle_check(const struct layout *l, const uint8_t *buf, const struct verify_report *r) {
        uint64_t start, end;

        if (r->maps_volume && kernel_table(buf) != (l->table == TABLE_GPT ? READS_GPT : READS_MBR))
                abort();
        if (l->table == TABLE_MBR && r->maps_volume) {
                /* Record 1: a data type, exactly the volume. */
                uint8_t type = buf[446 + 4];
                uint32_t s32, n32;
                memcpy(&s32, buf + 446 + 8, 4);
                memcpy(&n32, buf + 446 + 12, 4);
                if (type == 0 || type == 0xee || type == 0x05 || type == 0x0f || type == 0x85 ||
                    le32toh(s32) != l->head_sectors || le32toh(n32) != layout_volume(l, 0)->length / l->sector_size)
                        abort();
        }
        if (l->table != TABLE_GPT || !r->maps_volume || !kernel_primary(l, buf, &start, &end))
                return;
        if (start != l->head_sectors || end != l->head_sectors + layout_volume(l, 0)->length / l->sector_size - 1)
                abort();
}

/* Makes the CRCs of one GPT copy right for whatever its fields say: the
 * entry array CRC over num * size bytes at the expected place (when they
 * fit the buffer), then the header CRC over header_size bytes (when sane). */
static void gpt_fix_crcs(uint8_t *h, const uint8_t *entries, size_t room, uint32_t sector_size) {
        uint32_t num, esize, hsize, crc;

        memcpy(&num, h + 80, 4);
        memcpy(&esize, h + 84, 4);
        uint64_t n = (uint64_t) le32toh(num) * le32toh(esize);
        if (n <= room) {
                crc = htole32((uint32_t) crc32(0, entries, (uInt) n));
                memcpy(h + 88, &crc, 4);
        }
        memcpy(&hsize, h + 12, 4);
        hsize = le32toh(hsize);
        if (hsize < 92 || hsize > sector_size)
                hsize = 92;
        memset(h + 16, 0, 4);
        crc = htole32((uint32_t) crc32(0, h, hsize));
        memcpy(h + 16, &crc, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(layout_done) struct layout l = {};
        struct verify_report r;
        uint64_t vol;

        if (size < PREFIX_BYTES)
                return 0;
        enum table_kind t = data[0] & 1 ? TABLE_MBR : TABLE_GPT;
        uint32_t ss = data[0] & 2 ? 4096 : 512;
        bool patch = data[0] & 4;
        unsigned fix = (data[0] >> 3) & 3;
        uint64_t align = layout_min_alignment(t, ss) + (uint64_t) (data[1] % 64) * ss;
        memcpy(&vol, data + 2, sizeof vol);
        vol = le64toh(vol) & ~(uint64_t) (ss - 1);
        if (layout_compute(t, ss, align, &vol, 1, &l) < 0)
                return 0;
        data += PREFIX_BYTES;
        size -= PREFIX_BYTES;

        /* Exactly header_bytes, so that ASan sees any read past the end. */
        uint8_t *buf = malloc(l.header_bytes);
        if (!buf)
                abort();
        if (patch) {
                struct table_partition part = { 0 };
                struct table_spec spec = { .partitions = &part, .n_partitions = 1 };
                part.type.flags = PTYPE_HAS_GPT | PTYPE_HAS_MBR;
                part.type.mbr = 0x07;
                guid_derive("type", "fuzz", NULL, &part.type.gpt);
                guid_derive("disk", "fuzz", NULL, &spec.disk_guid);
                guid_derive("partition", "fuzz", NULL, &part.guid);
                spec.disk_signature = 0x12345678;
                memcpy(part.name, "fuzz", 5);
                memset(buf, 0, l.header_bytes);
                table_write(&l, &spec, buf);
                if (size == 0 && table_verify(&l, buf, l.header_bytes, &r) != 0)
                        abort();
                while (size >= 3) {
                        size_t off = (size_t) (data[0] | data[1] << 8) % l.header_bytes, n = data[2];
                        data += 3;
                        size -= 3;
                        n = n < size ? n : size;
                        n = n < l.header_bytes - off ? n : l.header_bytes - off;
                        memcpy(buf + off, data, n);
                        data += n;
                        size -= n;
                }
                if (t == TABLE_GPT && (fix & 1))
                        gpt_fix_crcs(buf + ss, buf + 2 * ss, (l.head_sectors - 2) * ss, ss);
                if (t == TABLE_GPT && (fix & 2)) {
                        uint8_t *tail = buf + layout_head_bytes(&l);
                        gpt_fix_crcs(tail + l.entries_sectors * ss, tail, l.entries_sectors * ss, ss);
                }
        } else {
                /* The header file as it is, whatever its length... */
                uint8_t *exact = malloc(size ? size : 1);
                if (!exact)
                        abort();
                memcpy(exact, data, size);
                table_verify(&l, exact, size, &r);
                report_check(&r, t);
                if (size != l.header_bytes && r.n_problems == 0)
                        abort();
                free(exact);
                /* ...and padded or cut to the right length, to get past the
                 * length check. */
                memset(buf, 0, l.header_bytes);
                memcpy(buf, data, size < l.header_bytes ? size : l.header_bytes);
        }
        table_verify(&l, buf, l.header_bytes, &r);
        report_check(&r, t);
        oracle_check(&l, buf, &r);
        free(buf);
        return 0;
}
