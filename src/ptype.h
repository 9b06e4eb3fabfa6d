/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "guid.h"

/* A partition type: the GPT type GUID, the MBR type byte, or both.
 * Named types have both; a GUID from the config has only GPT, a byte only
 * MBR. PTYPE_AUTO means "derive from the filesystem when probed". */
enum ptype_flags {
        PTYPE_HAS_GPT = 1 << 0,
        PTYPE_HAS_MBR = 1 << 1,
};

struct ptype {
        unsigned flags;
        guid_t gpt;
        uint8_t mbr;
        const char *name; /* static, NULL when given as a GUID or byte */
};

/* Parses "basic-data", "linux", ..., a type GUID (any case; GPT only), or
 * an MBR byte "0x07" (MBR only). ("auto" is handled by the caller.)
 * Returns: 0, -EINVAL (not a type), or -EDOM (a type a partition must not
 * have: the all-zero GUID, 0x00, 0xee protective, 0x05/0x0f/0x85 extended). */
int ptype_parse(const char *s, struct ptype *ret);

/* The automatic type for a filesystem type as libblkid names it (ntfs,
 * vfat, ext4, swap, LVM2_member, crypto_LUKS, ...). Returns: 0, or
 * -ENOENT when the filesystem type has no automatic partition type. */
int ptype_from_fstype(const char *fstype, struct ptype *ret);

/* A short human name for reports ("basic-data", or the GUID/byte). */
const char *ptype_describe(const struct ptype *t, char *buf, unsigned len);
