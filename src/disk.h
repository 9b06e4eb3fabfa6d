/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One declared disk as a command walks it (reconcile.c), and the run of
 * disks a command works on; report.c prints them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "config.h"
#include "decide.h"
#include "dmtable.h"
#include "loop.h"
#include "plan.h"
#include "probe.h"
#include "stack.h"
#include "table.h"
#include "wait.h"

/* What the report says of a disk. */
enum disk_state {
        DISK_UNCHANGED,
        DISK_CREATED,
        DISK_WOULD_CREATE,
        DISK_REMOVED,
        DISK_WOULD_REMOVE,
        DISK_ABSENT,
        DISK_HEALTHY,
        DISK_UNHEALTHY,
        DISK_MISSING, /* nofail volume that did not appear: reported, not failed */
        DISK_FAILED,
        DISK_GROWABLE,   /* apply, grow = no: the volume grew, the disk did not */
        DISK_GROWN,
        DISK_WOULD_GROW,
};

/* The fixed checks (config, volume, loop, dm, read, the header verdict)
 * and every problem the header verifier can word. */
#define CHECK_VOLUMES_SHOWN 4 /* then one line for the rest */
#define MAX_CHECKS (VERIFY_MAX_PROBLEMS + 8 + CHECK_VOLUMES_SHOWN)
struct check_item {
        const char *name;
        bool ok;
        char msg[VERIFY_MSG_MAX + 96];
};

struct disk {
        const struct disk_config *cfg;
        size_t n_vols;                /* cfg->n_parts: volume k is partition k+1 */
        struct wait_item *waits;      /* one per volume */
        bool by_tag;                  /* a volume is declared by UUID= or LABEL= */
        struct probe_exclude exclude; /* for by_tag, other disks' volumes: a tag names them only as a last resort */
        int lock_fd;

        /* observe: what is there */
        struct observation obs;
        bool dm_listed;             /* obs.dm read by the listing under the locks, not yet taken */
        struct volume_info *vols;   /* one per volume; devnode set once probed */
        dev_t *devnos;              /* the volumes' devices, as dmtable_build() takes them */
        const char **vol_names;     /* their nodes, for a table on paper */
        int probe_result;           /* probe_volume()'s for volume probe_k: 0, or -errno for show to word */
        size_t probe_k;
        struct disk_plan plan;      /* layout and table contents; layout.n_regions > 0 once planned */
        uint8_t *header;            /* the header file's bytes, while needed */
        size_t header_len;
        struct verify_report *verify; /* once a header was verified (header_verify()) */
        struct loop_dev live_loop;  /* obs.loop == LOOP_SEEN_RIGHT: the loop under the live table */
        struct layout live_layout;  /* obs.volume_resized: the layout the live table maps */
        bool claimed;               /* resolved, probed, and the volume is this disk's */
        bool header_seen;           /* the header file exists: header_dev/ino are its */
        dev_t header_dev;
        ino_t header_ino;

        /* decide: what is wanted, what to do */
        struct dm_table want;       /* the table as declared, over the live or new loop */
        struct dm_names want_names; /* how to print want's devices that are not known yet */
        struct decision dec;

        /* act */
        struct loop_dev loop;       /* held open until device-mapper holds it */
        bool header_created;
        bool grow_finished;         /* apply renamed the new header of an earlier run's grow */
        uint64_t grown_from_bytes;  /* grow_finished: partition 1's size before that grow; 0: not known */

        /* report */
        enum disk_state state;
        char error[512];
        struct check_item *checks;  /* check's findings: MAX_CHECKS, made by the first */
        unsigned n_checks;
};

/* What a plan needs of a probed volume. */
static inline struct volume_facts volume_facts_of(const struct volume_info *v) {
        return (struct volume_facts) {
                .size_bytes = v->size_bytes, .sector_size = v->sector_size,
                .fstype = v->fstype, .uuid = v->uuid, .label = v->label,
        };
}

static inline bool disk_planned(const struct disk *d) {
        return d->plan.layout.n_regions > 0;
}

/* The file behind an active disk's head loop (loop_backing()). */
struct head_file {
        bool read;
        int r;
        dev_t dev;
        ino_t ino;
};

struct run {
        const struct options *o;
        struct config cfg;
        struct disk *disks;
        size_t n;
        bool usage_error;
        struct stack_disk *active; /* partwrap's active disks, configured or not */
        size_t n_active;
        struct head_file *active_heads; /* one per active entry, read when first needed */
};
