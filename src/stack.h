/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which block devices belong to partwrap's disks. A wrapped disk's head and
 * tail are its guest's bytes, and so is whatever a device built on the disk
 * shows (a partition, a kpartx map, a loop device over it): a guest can
 * write a filesystem superblock there with any UUID or label. None of it
 * may decide anything on the host. Through sysfs, and the live table of a
 * partwrap disk to tell its header device from its volume. */

#include <stddef.h>
#include <sys/types.h>

/* Returns 1 and the disk's name in ret_name (len bytes) when devno is one
 * of partwrap's disks (DM UUID PARTWRAP-NAME), the header device (loop)
 * feeding one's head and tail, or a device stacked on one: a partition of
 * it, a device-mapper or md device over it (its slaves), a loop device
 * backed by it; recursively. A disk's volume is none of these. Returns 0
 * otherwise (also for a device sysfs does not know). */
int stack_partwrap_disk(dev_t devno, char *ret_name, size_t len);

/* One volume of one of partwrap's disks that is active: a live table
 * with a head and volumes, as the kernel has it now. */
struct stack_disk {
        char name[128];
        dev_t disk;   /* /dev/mapper/NAME */
        dev_t head;   /* the header device (loop) of the first target */
        dev_t volume; /* a target's device other than the head's */
        unsigned partition; /* which: from 1, in table order */
};

/* Every device-mapper device's state as stack_list_disks() read it, for a
 * caller that would read it again: it may take *s (move it out, leaving
 * it zeroed). */
struct dm_state;
typedef void stack_seen_fn(const char *name, struct dm_state *s, void *userdata);

/* Every volume of every active partwrap disk, one entry each (a disk of
 * several volumes has several); seen (may be NULL) is called with each
 * device's state. Returns the number found, *ret (malloc'ed, NULL when
 * none), or -errno. */
int stack_list_disks(struct stack_disk **ret, stack_seen_fn *seen, void *userdata);

/* The list stack_list_disks() gave (NULL, 0 to forget it), for
 * stack_partwrap_disk() to take a listed disk's head from, rather than
 * asking device-mapper for its table again. The caller keeps it alive and
 * fresh (listed under the disks' locks). */
void stack_use_list(const struct stack_disk *list, size_t n);
