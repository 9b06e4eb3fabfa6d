/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Loop devices for header files, through the loop ioctls only. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop_dev {
        char path[64]; /* "/dev/loopN" */
        dev_t devno;
        int fd;        /* held open until the caller has built on it, else -EBADF */
        uint32_t block_size; /* logical block size as the kernel reports it */
        bool read_only;      /* LO_FLAGS_READ_ONLY */
        bool autoclear;      /* LO_FLAGS_AUTOCLEAR */
};

/* Finds a loop device to adopt for file: one as loop_attach() makes it,
 * which nothing is built on yet. Its backing file is file (same
 * st_dev/st_ino as LOOP_GET_STATUS64 reports; file itself must not be a
 * symlink), offset 0, no size limit, the given logical block size and
 * read-only state, autoclear and no other flag, and file as its name; no
 * holders.
 * Bound loops are prefiltered through sysfs; candidates are opened
 * read-only for the ioctl, so the lowest-numbered match wins. Beware: the
 * open/close counts as a user, and closing the last opener of an autoclear
 * loop detaches it (the kernel's lo_release), which only matters for a loop
 * nobody holds, i.e. one that is already going away.
 * Returns: 1 and *ret (fd = -EBADF) when found, 0 when none, or -errno. */
int loop_find(const char *file, uint32_t block_size, bool read_only, struct loop_dev *ret);

/* The backing test of loop_find() for one loop device, given its device
 * number (as a device-mapper table names it): 1 and *ret if devno is a loop
 * bound to file with offset 0, no size limit and that block size (flags,
 * read-only state, name and holders do not matter: a live table holds it),
 * 0 if not, or -errno. O(1), where loop_find() reads sysfs for every loop
 * device of the machine. */
int loop_check(dev_t devno, const char *file, uint32_t block_size, struct loop_dev *ret);

/* Attaches file to a free loop device with LO_FLAGS_AUTOCLEAR, the given
 * logical block size and read-only if asked. Uses LOOP_CONFIGURE, falling
 * back to LOOP_SET_FD + LOOP_SET_STATUS64 (+ LOOP_SET_BLOCK_SIZE) on
 * EINVAL/ENOTTY/ENOSYS; retries a bounded number of times when another
 * program takes the free device first; reads the status back to verify.
 * The loop fd stays open in ret->fd: autoclear clears the device when the
 * last opener closes, so the caller closes it (loop_dev_close) once
 * device-mapper holds the loop, or to let it vanish on failure.
 * Returns: 0, or -errno. */
int loop_attach(const char *file, uint32_t block_size, bool read_only, struct loop_dev *ret);

/* The loop device for a header file that a new table will be built on:
 * one to adopt (loop_find()), held open and found again so that it cannot
 * vanish by autoclear meanwhile, else a new one (loop_attach()). fresh:
 * the file was just created, so no loop can be bound to it. ret->fd is
 * open either way; close it (loop_dev_close) once device-mapper holds the
 * loop. Returns: 0, or -errno. */
int loop_acquire(const char *file, uint32_t block_size, bool read_only, bool fresh, struct loop_dev *ret);

/* The backing file of a bound loop device, as LOOP_GET_STATUS64 reports
 * it: its st_dev and st_ino. Returns: 0, -ENXIO if devno is no bound loop,
 * or -errno. */
int loop_backing(dev_t devno, dev_t *ret_dev, ino_t *ret_ino);

void loop_dev_close(struct loop_dev *l);
