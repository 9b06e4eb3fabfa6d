/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "guid.h"
#include "util.h"

/* partwrap's UUID v5 namespace. Changing it changes every derived GUID and
 * so every header partwrap would create: never change it. The derivation is
 * documented in partwrap.conf(5), DERIVED IDENTIFIERS, and checked against
 * Python's uuid.uuid5 and pinned header files by tests/offline/test-golden.sh. */
static const uuid_t PARTWRAP_NAMESPACE = {
        0x6f, 0x1c, 0x2b, 0x9e, 0x55, 0x3d, 0x4c, 0x71,
        0x9a, 0x0e, 0x8d, 0x37, 0x21, 0xb4, 0xe6, 0x5a,
};

int guid_parse(const char *s, guid_t *ret) {
        uuid_t u;

        /* uuid_parse() accepts exactly the 36-character form. */
        if (!s || strlen(s) != 36 || uuid_parse(s, u) < 0)
                return -EINVAL;
        memcpy(ret->b, u, 16);
        return 0;
}

char *guid_format(const guid_t *g, char buf[static GUID_STRING_MAX]) {
        uuid_unparse_upper(g->b, buf);
        return buf;
}

bool guid_is_null(const guid_t *g) {
        return uuid_is_null(g->b);
}

bool guid_equal(const guid_t *a, const guid_t *b) {
        return memcmp(a->b, b->b, 16) == 0;
}

/* UEFI stores time_low, time_mid and time_hi_and_version little-endian and
 * the last eight bytes as they are; swapping is its own inverse. */
static void guid_swap(const uint8_t in[static 16], uint8_t out[static 16]) {
        static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        uint8_t tmp[16];

        for (unsigned i = 0; i < 16; i++)
                tmp[i] = in[order[i]];
        memcpy(out, tmp, 16);
}

void guid_to_gpt(const guid_t *g, uint8_t out[static 16]) {
        guid_swap(g->b, out);
}

void guid_from_gpt(const uint8_t in[static 16], guid_t *ret) {
        guid_swap(in, ret->b);
}

void guid_derive(const char *purpose, const char *name, const char *fs_uuid, guid_t *ret) {
        char key[512];
        uuid_t u;

        /* The fields are separated by a byte that cannot occur in a dm name.
         * The filesystem UUID is folded to lower case: libblkid prints NTFS
         * serials in upper case, an administrator may type either. */
        int n = snprintf(key, sizeof key, "%s\n%s\n%s", purpose, name, fs_uuid ? fs_uuid : "");
        if (n < 0 || (size_t) n >= sizeof key)
                n = sizeof key - 1;
        for (char *p = key + strlen(purpose) + strlen(name) + 2; p < key + n; p++)
                *p = (char) tolower((unsigned char) *p);
        uuid_generate_sha1(u, PARTWRAP_NAMESPACE, key, (size_t) n);
        memcpy(ret->b, u, 16);
}

void guid_derive_partition(unsigned n, const char *name, const char *fs_uuid, guid_t *ret) {
        char purpose[32];

        if (n <= 1)
                snprintf(purpose, sizeof purpose, "partition");
        else
                snprintf(purpose, sizeof purpose, "partition %u", n);
        guid_derive(purpose, name, fs_uuid, ret);
}

uint32_t guid_derive_mbr_signature(const char *name, const char *fs_uuid) {
        guid_t g;

        guid_derive("mbr", name, fs_uuid, &g);
        uint32_t sig = (uint32_t) g.b[0] << 24 | (uint32_t) g.b[1] << 16 | (uint32_t) g.b[2] << 8 | g.b[3];
        /* Windows treats signature 0 as "no signature" and writes its own. */
        return sig ? sig : 1;
}
