/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who uses a block device: mounts, swap, holders in sysfs. Used to turn
 * EBUSY into a sentence an administrator can act on. */

#include <stddef.h>
#include <sys/types.h>

/* Returns 1 and a description ("mounted at /srv", "held by dm-3 (vg-x)")
 * if the device is in use, 0 if not, or -errno. */
int device_users(dev_t devno, char *buf, size_t len);

/* Returns 1 if nothing else holds the device open exclusively (a trial
 * O_RDONLY|O_EXCL open succeeds), 0 if it is busy, or -errno. */
int device_is_free(const char *path);
