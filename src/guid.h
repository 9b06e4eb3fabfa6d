/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* GUIDs are kept in RFC 4122 byte order (as printed, as libuuid holds
 * them). GPT stores the first three fields little-endian ("mixed endian",
 * UEFI 2.10 Appendix A); guid_to_gpt()/guid_from_gpt() convert. */
typedef struct guid {
        uint8_t b[16];
} guid_t;

#define GUID_STRING_MAX 37

/* Returns: 0, or -EINVAL if s is not a canonical 36-character GUID. */
int guid_parse(const char *s, guid_t *ret);
/* Upper-case canonical form, as sgdisk and Windows print GUIDs. */
char *guid_format(const guid_t *g, char buf[static GUID_STRING_MAX]);
bool guid_is_null(const guid_t *g);
bool guid_equal(const guid_t *a, const guid_t *b);
void guid_to_gpt(const guid_t *g, uint8_t out[static 16]);
void guid_from_gpt(const uint8_t in[static 16], guid_t *ret);

/* Deterministic name-based GUID (UUID version 5, SHA-1) in partwrap's
 * namespace, from a purpose ("disk", "partition", "mbr"), the disk name
 * and the filesystem UUID (may be NULL or empty). Same input, same GUID. */
void guid_derive(const char *purpose, const char *name, const char *fs_uuid, guid_t *ret);
/* The GUID of partition n (from 1) derived the same way: purpose
 * "partition" for partition 1, so that its GUID is what it always was, and
 * "partition N" for partition N > 1. */
void guid_derive_partition(unsigned n, const char *name, const char *fs_uuid, guid_t *ret);
/* MBR disk signature derived the same way; never zero. */
uint32_t guid_derive_mbr_signature(const char *name, const char *fs_uuid);
