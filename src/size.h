/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SECTOR_SHIFT 9
#define SECTOR_BYTES 512u

/* Parses "512", "2048K", "1MiB", "1M", "1 MiB" (binary units: K/KiB,
 * M/MiB, G/GiB, T/TiB, P/PiB, E/EiB; a bare "B" suffix is allowed; one space
 * may separate number and unit, as size_format() prints). Decimal digits
 * only, no sign, no fraction, no overflow.
 * Returns: 0, or -EINVAL (syntax) / -ERANGE (overflow). */
int size_parse(const char *s, uint64_t *ret);

/* Parses a comma-separated list of at most max sizes ("1MiB, 2G,512"),
 * blanks around each item allowed, into sizes[0..*n). An empty item
 * ("1M,,2M", a leading or trailing comma), an item size_parse() refuses, or
 * more than max items is -EINVAL (-ERANGE for an overflowing item).
 * Returns: 0, or a negative errno. */
int size_list_parse(const char *list, uint64_t *sizes, size_t max, size_t *n);

/* Formats bytes as "1 MiB", "30 TiB", "16.5 KiB" (at most one decimal,
 * exact values print without one). Returns buf. */
char *size_format(uint64_t bytes, char *buf, size_t len);
#define SIZE_FORMAT_MAX 32
