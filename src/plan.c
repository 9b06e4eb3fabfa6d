/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "size.h"
#include "util.h"

static struct plan_result plan_error(enum plan_status status, const char *fmt, ...) _printf_(2, 3);
static struct plan_result plan_error(enum plan_status status, const char *fmt, ...) {
        struct plan_result res = { .status = status };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(res.message, sizeof res.message, fmt, ap);
        va_end(ap);
        return res;
}

/* layout_compute()'s refusals, in words. */
static struct plan_result plan_layout_error(int r, const struct disk_config *c, const struct volume_facts *v) {
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

        switch (r) {
        case -EINVAL:
                if (v->sector_size != 512 && v->sector_size != 4096)
                        return plan_error(PLAN_SECTOR_SIZE, "logical sector size %" PRIu32 " is not supported (512 or 4096)",
                                          v->sector_size);
                return plan_error(PLAN_VOLUME_SIZE,
                                  "volume size %" PRIu64 " bytes is not a positive multiple of the %" PRIu32 "-byte sector",
                                  v->size_bytes, v->sector_size);
        case -EDOM:
                return plan_error(PLAN_ALIGNMENT,
                                  "alignment %" PRIu64 " bytes must be a multiple of the %" PRIu32 "-byte sector, at least %s for %s, at most %s",
                                  c->alignment, v->sector_size,
                                  size_format(layout_min_alignment(c->table, v->sector_size), b, sizeof b),
                                  c->table == TABLE_GPT ? "GPT" : "MBR", "1 GiB");
        case -EFBIG:
                if (c->table == TABLE_MBR)
                        return plan_error(PLAN_TOO_LARGE,
                                          "volume of %s is too large for an MBR: the disk would need %" PRIu64
                                          " sectors, an MBR describes at most 2^32 (use table = gpt)",
                                          size_format(v->size_bytes, a, sizeof a),
                                          (v->size_bytes + c->alignment) / v->sector_size);
                return plan_error(PLAN_TOO_LARGE, "volume of %" PRIu64 " bytes is too large", v->size_bytes);
        default:
                return plan_error(PLAN_NO_MEMORY, "%s", strerror(-r));
        }
}

struct plan_result plan_build(const struct disk_config *c, const struct volume_facts *v, struct disk_plan *ret) {
        _cleanup_(plan_done) struct disk_plan p = {};
        struct table_partition *part;
        int r;

        r = layout_compute(c->table, v->sector_size, c->alignment, &v->size_bytes, 1, &p.layout);
        if (r < 0)
                return plan_layout_error(r, c, v);

        p.partitions = part = calloc(1, sizeof *part);
        if (!part)
                return plan_error(PLAN_NO_MEMORY, "out of memory");
        p.spec.partitions = part;
        p.spec.n_partitions = 1;

        if (!c->type_auto)
                part->type = c->type;
        else if (!v->fstype)
                return plan_error(PLAN_NO_FILESYSTEM,
                                  "no filesystem found on the volume, so the partition type cannot be chosen (set type = ...)");
        else if (ptype_from_fstype(v->fstype, &part->type) < 0)
                return plan_error(PLAN_NO_AUTO_TYPE, "filesystem type '%s' has no automatic partition type (set type = ...)",
                                  v->fstype);
        if (!(part->type.flags & (c->table == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR)))
                return plan_error(PLAN_TYPE_NOT_IN_TABLE, "partition type cannot be written in an %s table",
                                  c->table == TABLE_GPT ? "GPT" : "MBR");

        /* Derived from the name and the filesystem UUID, so a header
         * created again for the same volume is byte-identical. */
        if (c->has_disk_guid)
                p.spec.disk_guid = c->disk_guid;
        else
                guid_derive("disk", c->name, v->uuid, &p.spec.disk_guid);
        if (c->has_partition_guid)
                part->guid = c->partition_guid;
        else
                guid_derive_partition(1, c->name, v->uuid, &part->guid);
        p.spec.disk_signature = c->has_disk_signature ? c->disk_signature
                                                      : guid_derive_mbr_signature(c->name, v->uuid);

        const char *pname = c->partition_name ? c->partition_name
                          : v->label && *v->label ? v->label : c->name;
        snprintf(part->name, sizeof part->name, "%s", pname);

        *ret = p;
        p = (struct disk_plan) {};
        return (struct plan_result) { .status = PLAN_OK };
}

void plan_done(struct disk_plan *p) {
        layout_done(&p->layout);
        free(p->partitions);
        *p = (struct disk_plan) {};
}

uint8_t *plan_header_bytes(const struct disk_plan *p) {
        /* calloc: fresh zero pages (mmap'd at this size) that stay
         * unresident where nothing is written (the alignment padding). */
        uint8_t *buf = calloc(1, p->layout.header_bytes);

        if (buf)
                table_write(&p->layout, &p->spec, buf);
        return buf;
}
