/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Volumes, through libblkid (and udev's database for tags), always opened
 * read-only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct volume_info {
        char *devnode;        /* the path probed (symlinks resolved) */
        dev_t devno;          /* st_rdev */
        uint64_t size_bytes;  /* BLKGETSIZE64 */
        uint32_t sector_size; /* logical sector size, BLKSSZGET */
        bool read_only;       /* BLKROGET: the kernel refuses writes to it. Linux 6.1
                               * still accepts a read-write dm table over such a
                               * device; the guest's writes then fail with EIO */
        char *fstype;         /* libblkid TYPE, NULL if none */
        char *uuid;           /* filesystem UUID, NULL if none */
        char *label;          /* filesystem LABEL, NULL if none */
        char *pttype;         /* a partition table already on the volume, NULL if none */
        bool ambivalent;      /* more than one filesystem signature: libblkid will not
                               * choose, so fstype/uuid/label/pttype are all NULL
                               * (wipefs -n DEV lists them) */
};

/* Other disks' volumes, which a UUID= or LABEL= resolves to only when
 * nothing else carries it (paths stat'ed at each resolution, since they
 * may appear meanwhile, and device numbers). */
struct probe_exclude {
        const char *const *paths;
        size_t n_paths;
        const dev_t *devs;
        size_t n_devs;
};

/* Turns "UUID=...", "LABEL=..." or a path into a device node path. A tag
 * resolves to the one block device that carries it, ignoring every device
 * that is part of one of partwrap's disks (stack.h), and not counting
 * those in exclude (may be NULL) unless nothing else carries it. With
 * udevd, udev's database says which devices carry it (the values its
 * /dev/disk/by-uuid and by-label links are made of); without, every block
 * device is probed read-only, skipping suspended dm devices and empty ones
 * (reading those could block).
 * Returns: 0 and *ret_path (malloc'ed, symlinks resolved), -ENOENT if
 * nothing matches, -ENOTUNIQ if two devices carry the tag,
 * -EINVAL for another spec, or -errno. */
int probe_resolve(const char *spec, const struct probe_exclude *exclude, char **ret_path);

/* Probes a block device read-only (O_RDONLY, never O_EXCL, so a mounted
 * volume can be probed): size, logical sector size, superblock, and a
 * partition table already on it. Its first 4 KiB are read from the device
 * itself (O_DIRECT), so that a volume whose I/O fails is an error even
 * where the page cache still holds what a probe reads. An ambivalent probe
 * is not an error (see ambivalent). Returns: 0, -ENOTBLK if path is not a
 * block device, -ENOENT, or -errno. */
int probe_volume(const char *path, struct volume_info *ret);

/* The warm path's look at a volume (reconcile.c): probe_volume() without
 * libblkid. What the kernel says of it (number, size, logical sector size,
 * read-only) and the read of its first 4 KiB; fstype, uuid, label and
 * pttype stay NULL, for the caller to fill from evidence it trusts. path
 * must be canonical (as wait resolved it).
 * Returns: 0, -ENOTBLK, or -errno (-EIO from that read). */
int probe_volume_geometry(const char *path, struct volume_info *ret);

/* Whether udev's evidence that devno is what spec names agrees: for a
 * path, always; for UUID= or LABEL=, the value udev recorded (uuid or
 * label, may be NULL) is the spec's and its /dev/disk/by-uuid or by-label
 * link names devno. Returns 1, 0, or -ENOMEM. */
int probe_tag_agrees(const char *spec, dev_t devno, const char *uuid, const char *label);

void volume_info_free(struct volume_info *v);
