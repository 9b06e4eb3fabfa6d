/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Waiting for volumes to appear: all at once, each up to its own timeout,
 * so the total wait is the largest timeout, never the sum. With udevd, a
 * udev monitor wakes us on each block event and a device counts as present
 * once udev has initialised it (and, for device-mapper devices, once it is
 * resumed and udev marks it ready). Without udevd, the paths are polled. */

#include <stdbool.h>
#include <stddef.h>

#include "probe.h"

struct wait_item {
        const char *name;  /* the disk, for status messages */
        const char *spec;  /* path, UUID=... or LABEL=... */
        const struct probe_exclude *exclude; /* what a tag must not resolve to, or NULL */
        unsigned timeout;  /* seconds; 0 = do not wait */
        char *path;        /* result: the device node, malloc'ed */
        int result;        /* 0 found, -ETIMEDOUT, -ENOENT (not waited), or -errno */
        bool done;         /* settled: found, failed or given up */
};

/* Resolves every item, waiting for the missing ones. Returns the number of
 * items found. */
size_t wait_for_volumes(struct wait_item *items, size_t n);

/* Tells systemd (NOTIFY_SOCKET) a status line; does nothing elsewhere. */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
