/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "dmtable.h"
#include "size.h"
#include "util.h"

int dmtable_build(const struct layout *l, dev_t header, const dev_t *volumes, struct dm_table *ret) {
        struct dm_target *t = calloc(l->n_regions, sizeof *t);

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_regions; i++) {
                const struct region *r = &l->regions[i];
                bool volume = r->kind == REGION_VOLUME;

                t[i] = (struct dm_target) {
                        .start = r->start >> SECTOR_SHIFT,
                        .length = r->length >> SECTOR_SHIFT,
                        .dev = volume ? (volumes ? volumes[r->volume] : 0) : header,
                        .offset = volume ? 0 : r->file_offset >> SECTOR_SHIFT,
                };
        }
        *ret = (struct dm_table) { .n = l->n_regions, .t = t };
        return 0;
}

const char *dmtable_format(const struct dm_table *t, size_t i, const struct dm_names *names, char *buf, size_t len) {
        const struct dm_target *x = &t->t[i];
        const char *name = NULL;
        char dev[32];

        if (names && names->layout && i < names->layout->n_regions) {
                const struct region *r = &names->layout->regions[i];
                name = r->kind == REGION_VOLUME ? (names->volumes ? names->volumes[r->volume] : NULL) : names->header;
        }
        if (!name) {
                snprintf(dev, sizeof dev, "%u:%u", major(x->dev), minor(x->dev));
                name = dev;
        }
        snprintf(buf, len, "%" PRIu64 " %" PRIu64 " linear %s %" PRIu64, x->start, x->length, name, x->offset);
        return buf;
}

const char *const *dmtable_volume_placeholders(size_t n) {
        static const char *const one[] = { "VOLUME" };
        static char numbered[GPT_ENTRIES][16];
        static const char *names[GPT_ENTRIES];

        if (n <= 1)
                return one;
        for (size_t k = 0; k < n && k < GPT_ENTRIES; k++) {
                snprintf(numbered[k], sizeof numbered[k], "VOLUME%zu", k + 1);
                names[k] = numbered[k];
        }
        return names;
}
