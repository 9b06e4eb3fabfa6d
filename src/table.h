/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Partition tables as bytes: GPT (gpt.c) and MBR (mbr.c) generators, which
 * cannot fail, and verifiers, which read bytes a guest may have written and
 * trust nothing. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guid.h"
#include "layout.h"
#include "ptype.h"

/* One partition: what goes into its entry besides its place. */
struct table_partition {
        struct ptype type;         /* GPT needs PTYPE_HAS_GPT, MBR PTYPE_HAS_MBR */
        guid_t guid;               /* GPT unique partition GUID */
        char name[4 * 36 + 1];     /* UTF-8, GPT; truncated to 36 UTF-16 units */
};

/* What goes into the table besides the layout: one partition per volume
 * of the layout, in its order. */
struct table_spec {
        guid_t disk_guid;          /* GPT */
        uint32_t disk_signature;   /* MBR */
        size_t n_partitions;       /* the layout's n_volumes */
        const struct table_partition *partitions;
};

/* Writes the whole header, as the header file holds it (head, gaps, tail),
 * into buf of l->header_bytes, which must be all zeroes: a calloc'ed
 * buffer stays unresident where nothing is written (the alignment
 * padding). */
void table_write(const struct layout *l, const struct table_spec *spec, uint8_t *buf);
void gpt_write(const struct layout *l, const struct table_spec *spec, uint8_t *head, uint8_t *tail);
void mbr_write(const struct layout *l, const struct table_spec *spec, uint8_t *head);

/* Findings of a verifier, in words: "primary GPT header: CRC32 is
 * 0x12345678, expected 0x9abcdef0". */
#define VERIFY_MAX_PROBLEMS 16
#define VERIFY_MSG_MAX 160
struct verify_report {
        unsigned n_problems;      /* may exceed VERIFY_MAX_PROBLEMS; extra messages dropped */
        char problems[VERIFY_MAX_PROBLEMS][VERIFY_MSG_MAX];
        bool maps_volume;         /* partition k+1 is exactly volume k, for every volume
                                   * (in a valid table) */
        bool primary_ok, backup_ok; /* GPT: each copy valid on its own */
        uint32_t disk_signature;  /* MBR signature found (guest may change it) */
};

void verify_report_add(struct verify_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Verify a header buffer of len bytes (head then tail, as read from the
 * header file) against the layout it must describe. Checks signatures,
 * CRCs, every LBA field, the entry array bounds, and that each volume's
 * partition starts and ends exactly where its region does. Changes a guest
 * may legitimately make (GUIDs, attributes, names, signatures, types) are
 * not problems. Returns the number of problems (0 = healthy). */
unsigned table_verify(const struct layout *l, const uint8_t *buf, size_t len, struct verify_report *ret);
unsigned gpt_verify(const struct layout *l, const uint8_t *head, const uint8_t *tail, struct verify_report *ret);
unsigned mbr_verify(const struct layout *l, const uint8_t *head, struct verify_report *ret);

/* CHS address for an LBA, as MBR partition records want (255 heads, 63
 * sectors per track; 1023/254/63 beyond). */
void mbr_lba_to_chs(uint64_t lba, uint8_t chs[3]);
