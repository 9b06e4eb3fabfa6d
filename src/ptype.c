/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ptype.h"
#include "util.h"

/* GPT type GUIDs from the UEFI specification and the Discoverable
 * Partitions Specification; MBR bytes as fdisk and Windows use them. LUKS
 * has no MBR type of its own: 0x83 is what cryptsetup's docs recommend. */
static const struct {
        const char *name, *gpt;
        uint8_t mbr;
} named[] = {
        { "basic-data", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", 0x07 },
        { "linux", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", 0x83 },
        { "linux-swap", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", 0x82 },
        { "linux-lvm", "E6D6D379-F507-44C2-A23C-238F2A3DF928", 0x8e },
        { "linux-luks", "CA7D7CCB-63ED-4C53-861C-1742536059CC", 0x83 },
        { "esp", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", 0xef },
};

/* libblkid filesystem type → named type, with the MBR byte where it
 * differs from the name's: FAT32 volumes want 0x0c (FAT32 LBA), not the
 * NTFS/exFAT byte 0x07. */
static const struct {
        const char *fstype, *name;
        uint8_t mbr; /* 0: the name's byte */
} automatic[] = {
        { "ntfs", "basic-data", 0 },     { "exfat", "basic-data", 0 },
        { "refs", "basic-data", 0 },     { "vfat", "basic-data", 0x0c },
        { "ext2", "linux", 0 },          { "ext3", "linux", 0 },
        { "ext4", "linux", 0 },          { "xfs", "linux", 0 },
        { "btrfs", "linux", 0 },         { "f2fs", "linux", 0 },
        { "swap", "linux-swap", 0 },     { "LVM2_member", "linux-lvm", 0 },
        { "crypto_LUKS", "linux-luks", 0 },
};

static int ptype_from_name(const char *s, struct ptype *ret) {
        for (size_t i = 0; i < ARRAY_SIZE(named); i++)
                if (streq(s, named[i].name)) {
                        struct ptype t = { .flags = PTYPE_HAS_GPT | PTYPE_HAS_MBR, .mbr = named[i].mbr, .name = named[i].name };
                        int r = guid_parse(named[i].gpt, &t.gpt);
                        assert(r == 0);
                        (void) r;
                        *ret = t;
                        return 0;
                }
        return -ENOENT;
}

/* Bytes a partition of ours must never carry: 0x00 marks an unused entry,
 * 0xee claims the disk is GPT (a protective MBR), and the extended types
 * would make every reader look for a chain of EBRs inside the volume. */
static bool mbr_byte_is_reserved(unsigned b) {
        return b == 0x00 || b == 0xee || b == 0x05 || b == 0x0f || b == 0x85;
}

int ptype_parse(const char *s, struct ptype *ret) {
        struct ptype t = {};

        if (!s)
                return -EINVAL;
        if (ptype_from_name(s, ret) == 0)
                return 0;
        if (strlen(s) == 36) {
                if (guid_parse(s, &t.gpt) < 0)
                        return -EINVAL;
                if (guid_is_null(&t.gpt)) /* the "unused entry" type */
                        return -EDOM;
                t.flags = PTYPE_HAS_GPT;
                *ret = t;
                return 0;
        }
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
                size_t n = strspn(s + 2, "0123456789abcdefABCDEF");
                if (n > 2 || s[2 + n])
                        return -EINVAL;
                unsigned b = (unsigned) strtoul(s + 2, NULL, 16);
                if (mbr_byte_is_reserved(b))
                        return -EDOM;
                t.flags = PTYPE_HAS_MBR;
                t.mbr = (uint8_t) b;
                *ret = t;
                return 0;
        }
        return -EINVAL;
}

int ptype_from_fstype(const char *fstype, struct ptype *ret) {
        for (size_t i = 0; i < ARRAY_SIZE(automatic); i++)
                if (streq(fstype, automatic[i].fstype)) {
                        struct ptype t;
                        int r = ptype_from_name(automatic[i].name, &t);
                        assert(r == 0);
                        (void) r;
                        if (automatic[i].mbr)
                                t.mbr = automatic[i].mbr;
                        *ret = t;
                        return 0;
                }
        return -ENOENT;
}

const char *ptype_describe(const struct ptype *t, char *buf, unsigned len) {
        char g[GUID_STRING_MAX];

        if (t->name)
                snprintf(buf, len, "%s", t->name);
        else if (t->flags & PTYPE_HAS_GPT)
                snprintf(buf, len, "%s", guid_format(&t->gpt, g));
        else
                snprintf(buf, len, "0x%02x", t->mbr);
        return buf;
}
