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

/* What goes into the table besides the layout. */
struct table_spec {
        struct ptype type;         /* GPT needs PTYPE_HAS_GPT, MBR PTYPE_HAS_MBR */
        guid_t disk_guid;          /* GPT */
        guid_t partition_guid;     /* GPT */
        char partition_name[4 * 36 + 1]; /* UTF-8, GPT; truncated to 36 UTF-16 units */
        uint32_t disk_signature;   /* MBR */
};

/* Writes the whole header: head (layout_head_bytes) followed by tail
 * (layout_tail_bytes) into buf of l->header_bytes, zeroed first. */
void table_write(const struct layout *l, const struct table_spec *spec, uint8_t *buf);
/* The same into a buffer that is already all zeroes. */
void table_write_zeroed(const struct layout *l, const struct table_spec *spec, uint8_t *buf);
void gpt_write(const struct layout *l, const struct table_spec *spec, uint8_t *head, uint8_t *tail);
void mbr_write(const struct layout *l, const struct table_spec *spec, uint8_t *head);

/* Findings of a verifier, in words: "primary GPT header: CRC32 is
 * 0x12345678, expected 0x9abcdef0". */
#define VERIFY_MAX_PROBLEMS 16
#define VERIFY_MSG_MAX 160
struct verify_report {
        unsigned n_problems;      /* may exceed VERIFY_MAX_PROBLEMS; extra messages dropped */
        char problems[VERIFY_MAX_PROBLEMS][VERIFY_MSG_MAX];
        bool maps_volume;         /* partition 1 is exactly the volume (in a valid table) */
        bool primary_ok, backup_ok; /* GPT: each copy valid on its own */
        uint32_t disk_signature;  /* MBR signature found (guest may change it) */
};

void verify_report_add(struct verify_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Verify a header buffer of len bytes (head then tail, as read from the
 * header file) against the layout it must describe. Checks signatures,
 * CRCs, every LBA field, the entry array bounds, and that partition 1
 * starts at the head and is exactly as long as the volume. Changes a guest
 * may legitimately make (GUIDs, attributes, names, signatures, types) are
 * not problems. Returns the number of problems (0 = healthy). */
unsigned table_verify(const struct layout *l, const uint8_t *buf, size_t len, struct verify_report *ret);
unsigned gpt_verify(const struct layout *l, const uint8_t *head, const uint8_t *tail, struct verify_report *ret);
unsigned mbr_verify(const struct layout *l, const uint8_t *head, struct verify_report *ret);

/* CHS address for an LBA, as MBR partition records want (255 heads, 63
 * sectors per track; 1023/254/63 beyond). */
void mbr_lba_to_chs(uint64_t lba, uint8_t chs[3]);
