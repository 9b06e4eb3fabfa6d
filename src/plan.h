/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The desired state of one disk, as a pure function of its configuration
 * and what the volume is: the layout (regions) and the table contents. */

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "layout.h"
#include "table.h"

/* What a probe found on the volume (or what mkheader was told). */
struct volume_facts {
        uint64_t size_bytes;
        uint32_t sector_size;
        const char *fstype; /* NULL: no filesystem detected */
        const char *uuid;   /* filesystem UUID, NULL if none */
        const char *label;  /* filesystem label, NULL if none */
};

struct disk_plan {
        struct layout layout;
        struct table_spec spec;
        struct table_partition *partitions; /* spec.partitions, owned */
};

/* Why a plan cannot be made: a property of the configuration and the
 * volume, never a system error (but for memory). */
enum plan_status {
        PLAN_OK,
        PLAN_SECTOR_SIZE,       /* logical sector size neither 512 nor 4096 */
        PLAN_VOLUME_SIZE,       /* not a positive multiple of the sector */
        PLAN_ALIGNMENT,         /* not a multiple of the sector, too small or too large */
        PLAN_TOO_LARGE,         /* MBR past 2^32 sectors, or past 2^63 bytes */
        PLAN_NO_FILESYSTEM,     /* type = auto and nothing to derive it from */
        PLAN_NO_AUTO_TYPE,      /* the filesystem has no automatic type */
        PLAN_TYPE_NOT_IN_TABLE, /* the type cannot be written in this table */
        PLAN_SECTOR_MISMATCH,   /* the volumes have different logical sector sizes */
        PLAN_NO_MEMORY,
};

struct plan_result {
        enum plan_status status;
        char message[256]; /* a sentence with the numbers that explain it; "" for PLAN_OK */
};

/* Builds the plan of a disk whose partition k+1 is volume v[k], for the
 * c->n_parts partitions. *ret is written only when the status is PLAN_OK,
 * and then released with plan_done(). */
struct plan_result plan_build(const struct disk_config *c, const struct volume_facts *v, struct disk_plan *ret);
void plan_done(struct disk_plan *p);

/* Builds the header bytes for a plan: malloc'ed, l->header_bytes long.
 * Returns NULL on allocation failure. */
uint8_t *plan_header_bytes(const struct disk_plan *p);
