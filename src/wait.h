/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Waiting for volumes to appear: all at once, each up to its own timeout,
 * so the total wait is the largest timeout, never the sum. */

#include <stddef.h>

struct wait_item {
        const char *spec;  /* path, UUID=... or LABEL=... */
        unsigned timeout;  /* seconds; 0 = do not wait */
        char *path;        /* result: the device node, malloc'ed */
        int result;        /* 0 found, -ETIMEDOUT, -ENOENT (not waited), or -errno */
};

/* Resolves every item, waiting for the missing ones. Returns the number of
 * items found. */
size_t wait_for_volumes(struct wait_item *items, size_t n);
