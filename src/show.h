/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `partwrap show`: a picture of each declared disk's layout. The renderers
 * are pure (what is known in, text or JSON out); cmd_show (in cli.h) does
 * the observing. */

#include <stdio.h>

#include "config.h"
#include "dm.h"
#include "json.h"
#include "layout.h"
#include "probe.h"
#include "table.h"

/* What is known about one disk. Every pointer but cfg may be NULL. */
struct show_disk {
        const struct disk_config *cfg;
        const struct volume_info *vol; /* one per partition (cfg->n_parts), or NULL: a volume is not
                                        * present (or could not be probed) */
        const struct layout *layout;   /* NULL: not computable without the volume, or refused */
        const struct table_spec *spec; /* NULL: the partition type is not known yet */
        const char *problem;           /* one sentence on what is missing or wrong */
        const struct dm_state *dm;     /* NULL: the device-mapper state could not be read */
        int header_exists;             /* 1: the header file exists, 0: not created yet, -1: unknown */
};

/* Writes the picture of one disk: a summary, the regions as boxes with
 * their first LBA, size in human units and sectors, where each region's
 * bytes come from, and the device-mapper table (the live one if partwrap's
 * device exists, else with LOOP and VOLUME placeholders). */
void show_render_text(FILE *f, const struct show_disk *s);

/* The same as one JSON object (an element of "disks"). */
void show_render_json(struct json *j, const struct show_disk *s);
