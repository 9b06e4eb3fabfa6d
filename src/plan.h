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
};

/* Returns: 0, or -errno from layout_compute (-EINVAL, -EDOM, -EFBIG), or
 * -ENOMEDIUM when type = auto and no filesystem was found, -ENOENT when the
 * filesystem has no automatic type, -EPROTOTYPE when the type cannot be
 * written in this table. plan_strerror() words them. */
int plan_build(const struct disk_config *c, const struct volume_facts *v, struct disk_plan *ret);

/* A sentence for a plan_build() error, with the numbers that explain it. */
const char *plan_strerror(int r, const struct disk_config *c, const struct volume_facts *v, char *buf, size_t len);

/* Builds the header bytes for a plan: malloc'ed, l->header_bytes long.
 * Returns NULL on allocation failure. */
uint8_t *plan_header_bytes(const struct disk_plan *p);
