/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Device-mapper, through libdevmapper only. libdevmapper's 1/0 returns
 * become 0/-errno here. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DM_UUID_PREFIX "PARTWRAP-"
/* Longest disk name: the kernel's uuid field holds 128 bytes (DM_UUID_LEN
 * 129 with the NUL) and ours is DM_UUID_PREFIX + name, so 128 - 9, not the
 * 127 a bare dm name could have. The one definition of the limit;
 * config.h's CONFIG_NAME_MAX is this. */
#define DM_PARTWRAP_NAME_MAX 119

/* One line of a table: always a "linear" target, in 512-byte units. */
struct dm_target {
        uint64_t start, length;
        dev_t dev;       /* 0: not known yet (a table on paper) */
        uint64_t offset; /* into dev */
};

struct dm_table {
        size_t n;
        struct dm_target *t; /* malloc'ed */
};

/* Frees the targets; usable with _cleanup_(). */
void dm_table_done(struct dm_table *t);
/* Field by field. */
bool dm_table_equal(const struct dm_table *a, const struct dm_table *b);

struct dm_state {
        bool exists;
        char uuid[130];
        bool ours;          /* uuid is DM_UUID_PREFIX followed by the name */
        bool active;        /* has a live table */
        bool suspended;
        bool read_only;
        int open_count;
        dev_t devno;
        bool foreign_target; /* live table has a target other than linear: not our shape */
        struct dm_table table; /* live table (linear targets), when active */
};

/* Frees the live table; usable with _cleanup_(). */
void dm_state_done(struct dm_state *s);

/* Reads a device's state and live table (DM_DEVICE_INFO, DM_DEVICE_TABLE).
 * A missing device is not an error: exists = false; so is a kernel without
 * the device-mapper driver (nothing can exist). A device with no live table
 * (a create interrupted between load and resume) has exists && !active.
 * The kernel's "MAJ:MIN OFFSET" parameters are parsed here, once, into
 * the typed table. Release *ret with dm_state_done().
 * Returns: 0, -ENAMETOOLONG, or -errno. */
int dm_get_state(const char *name, struct dm_state *ret);

/* Every device-mapper device: its name and number, in one ioctl
 * (DM_LIST_DEVICES). */
struct dm_listed {
        char name[128];
        dev_t devno;
};
/* Returns the number of devices and *ret (malloc'ed, NULL when none; none
 * either without the driver), or -errno. */
int dm_list(struct dm_listed **ret);

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

/* Replaces the live table of a device we own in one step: the new table
 * is loaded into the inactive slot (read-only if asked), the device
 * suspended (the kernel flushes and holds new I/O) and resumed, which
 * swaps the tables; all under one udev cookie, with one wait. The guest
 * sees the old table or the new one, never a mix. When the kernel refuses
 * the new table, at load or at resume, the device goes on with the old
 * one (the inactive table is cleared, the device resumed).
 * suspended, if not NULL, is called while the device is suspended with the
 * new table loaded: 0 goes on to resume with it; anything else resumes the
 * old table and is returned (a caller that must see something unchanged
 * before the swap looks here).
 * Returns: 0; suspended()'s refusal; -EINVAL (bad table, a segment past its device's end); -EBUSY
 * (a target device held exclusively); -ENXIO (no such device); or -errno. */
int dm_table_swap(const char *name, const struct dm_table *table, bool read_only, int (*suspended)(void *userdata),
                  void *userdata);

/* Resumes a device of ours with its live table, dropping an inactive one:
 * what a dm_table_swap() killed while suspended left. Returns: 0, or -errno. */
int dm_resume_old(const char *name);

/* The number of dm_udev_wait calls made so far (benchmarks report it). */
extern unsigned dm_udev_waits;
