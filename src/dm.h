/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Device-mapper, through libdevmapper only. libdevmapper's 1/0 returns
 * become 0/-errno here. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DM_UUID_PREFIX "PARTWRAP-"
#define DM_TABLE_MAX 3
/* Longest disk name: the kernel's uuid field holds 128 bytes (DM_UUID_LEN
 * 129 with the NUL) and ours is DM_UUID_PREFIX + name, so 128 - 9, not the
 * 127 a bare dm name could have. */
#define DM_PARTWRAP_NAME_MAX 119

/* One line of a table: always a "linear" target. */
struct dm_target {
        uint64_t start, length;  /* 512-byte units */
        char params[96];         /* "MAJ:MIN OFFSET" as the kernel prints it */
};

struct dm_table {
        unsigned n;
        struct dm_target t[DM_TABLE_MAX];
};

struct dm_state {
        bool exists;
        char uuid[130];
        bool ours;          /* uuid is DM_UUID_PREFIX followed by the name */
        bool active;        /* has a live table */
        bool suspended;
        bool read_only;
        int open_count;
        dev_t devno;
        bool foreign_target; /* live table has a target other than linear, or
                              * more than DM_TABLE_MAX targets: not our shape */
        struct dm_table table; /* live table (linear targets), when active */
};

/* Reads a device's state and live table (DM_DEVICE_INFO, DM_DEVICE_TABLE).
 * A missing device is not an error: exists = false; so is a kernel without
 * the device-mapper driver (nothing can exist). A device with no live table
 * (a create interrupted between load and resume) has exists && !active.
 * Returns: 0, -ENAMETOOLONG, or -errno. */
int dm_get_state(const char *name, struct dm_state *ret);

/* Batch creation under one udev cookie: dm_batch_begin(), dm_batch_create()
 * for each device, then dm_batch_end() always, which waits once for udev
 * (or, without udev, lets libdevmapper create the nodes). udev sync is used
 * only when udevd runs, the dm rules (95-dm-notify.rules) are installed and
 * we are not inside a udev worker; otherwise it is switched off for the whole
 * process. Never calls libdevmapper when the kernel lacks the driver, so
 * dm-mod is never autoloaded from here. */
struct dm_batch {
        uint32_t cookie;
        bool udev_sync;
        unsigned n_tasks;
};
void dm_batch_begin(struct dm_batch *b);
/* Creates name with uuid DM_UUID_PREFIX+name and the table: CREATE, RELOAD
 * (read-only if asked), RESUME under the batch cookie, removing the device
 * again if a step fails (as libdevmapper's CREATE-with-targets does, but
 * keeping each step's errno). The /dev/mapper node exists only after
 * dm_batch_end(). Returns: 0; -EEXIST (name or uuid in use); -EBUSY (a
 * target device is held exclusively, e.g. mounted); -EINVAL (a segment past
 * its device's end, bad table); -ENAMETOOLONG; -ENODEV (no device-mapper in
 * the kernel); or -errno. */
int dm_batch_create(struct dm_batch *b, const char *name, const struct dm_table *table, bool read_only);
/* Returns: 0, or -errno if the udev wait failed. */
int dm_batch_end(struct dm_batch *b);

/* Removes a device we own (the caller checked ownership), with udev sync
 * (its own one-task batch: one dm_udev_wait). An EBUSY is retried for up to
 * 5 s (dm_task_retry_remove) since udev's blkid may hold a fresh device.
 * Returns: 0, -EBUSY if open, -ENXIO if gone, or -errno. */
int dm_remove(const char *name);

/* "MAJ:MIN" table parameters for a device number and offset (512-byte units). */
void dm_target_set(struct dm_target *t, uint64_t start, uint64_t length, dev_t dev, uint64_t offset);
bool dm_table_equal(const struct dm_table *a, const struct dm_table *b);

/* The number of dm_udev_wait calls made so far (benchmarks report it). */
extern unsigned dm_udev_waits;
