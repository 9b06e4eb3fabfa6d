/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Waiting for volumes to appear: all at once, each up to its own timeout,
 * so the total wait is the largest timeout, never the sum. With udevd, a
 * udev monitor wakes us on each block event and a device counts as present
 * once udev has initialised it (and, for device-mapper devices, once it is
 * resumed and udev marks it ready). Without udevd, the paths are polled. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "probe.h"

/* What udev's database said of a found volume when the wait looked at it
 * (its blkid builtin's ID_FS_* and ID_PART_TABLE_TYPE): the warm path's
 * evidence of the volume's identity, trusted only where reconcile.c finds
 * it agrees with everything else (never for a device of partwrap's own
 * disks, nor one stacked on them). known: udev had initialised the device
 * and its record names a filesystem type; the strings are decoded from
 * the *_ENC properties, exact bytes, malloc'ed. */
struct wait_udev {
        bool known;
        bool pttype;          /* ID_PART_TABLE_TYPE set: a table on the volume */
        dev_t devno;
        char *fstype, *uuid, *label;
};

void wait_udev_free(struct wait_udev *u);

struct wait_item {
        const char *name;  /* the disk, for status messages */
        const char *spec;  /* path, UUID=... or LABEL=... */
        const struct probe_exclude *exclude; /* what a tag must not resolve to, or NULL */
        unsigned timeout;  /* seconds; 0 = do not wait */
        char *path;        /* result: the device node, malloc'ed */
        int result;        /* 0 found, -ETIMEDOUT, -ENOENT (not waited), or -errno */
        bool done;         /* settled: found, failed or given up */
        struct wait_udev udev; /* with udevd, once found: free with wait_udev_free() */
};

/* Resolves every item, waiting for the missing ones. Returns the number of
 * items found. */
size_t wait_for_volumes(struct wait_item *items, size_t n);

/* Tells systemd (NOTIFY_SOCKET) a status line; does nothing elsewhere. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
