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
};

/* Finds a loop device whose backing file is file (same st_dev/st_ino,
 * from sysfs loop/backing_file and LOOP_GET_STATUS64), offset 0, with the
 * given logical block size. Returns: 1 and *ret (fd = -EBADF) when found,
 * 0 when none, or -errno. */
int loop_find(const char *file, struct loop_dev *ret);

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

void loop_dev_close(struct loop_dev *l);

/* Logical block size of a loop (or any block) device. Returns >0 or -errno. */
int loop_block_size(const char *devpath);
