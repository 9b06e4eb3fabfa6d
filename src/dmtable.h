/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A disk's device-mapper table as data: built from the layout's regions
 * and the devices behind them, compared field by field (dm.h), and turned
 * into text in one place. Pure; dm.c alone talks to the kernel. */

#include <stddef.h>
#include <sys/types.h>

#include "dm.h"
#include "layout.h"

/* One linear target per region of l, in order: the head, the gaps and the
 * tail on the header's device at their header file offsets, volume k on
 * volumes[k] at 0 (volumes NULL: none known yet). A device not known yet
 * is 0 (a table on paper; dm.c
 * refuses to load it). *ret is written only on success and released with
 * dm_table_done(). Returns: 0, or -ENOMEM. */
int dmtable_build(const struct layout *l, dev_t header, const dev_t *volumes, struct dm_table *ret);

/* Names to print instead of MAJ:MIN, for a table built from layout: the
 * header's targets as header, volume k's as volumes[k] (NULL entries, or
 * no names at all: MAJ:MIN). Placeholders such as LOOP and VOLUME for a
 * table on paper, or a device node for the volume of a dry run. */
struct dm_names {
        const struct layout *layout;
        const char *header;
        const char *const *volumes;
};

/* The placeholder names of n volumes on paper: VOLUME for one, else
 * VOLUME1..VOLUMEn (n at most GPT_ENTRIES). */
const char *const *dmtable_volume_placeholders(size_t n);

#define DM_TARGET_LINE_MAX 160
/* Target i as "START LENGTH linear DEVICE OFFSET", the way partwrap prints
 * a target everywhere (apply, --dry-run, check, show, mkheader; text and
 * JSON), and the way dmsetup prints it. Returns buf. */
const char *dmtable_format(const struct dm_table *t, size_t i, const struct dm_names *names, char *buf, size_t len);
