/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "size.h"
#include "util.h"

int plan_build(const struct disk_config *c, const struct volume_facts *v, struct disk_plan *ret) {
        struct disk_plan p = { 0 };
        int r;

        r = layout_compute(c->table, v->size_bytes, v->sector_size, c->alignment, &p.layout);
        if (r < 0)
                return r;

        if (!c->type_auto)
                p.spec.type = c->type;
        else if (!v->fstype)
                return -ENOMEDIUM;
        else if (ptype_from_fstype(v->fstype, &p.spec.type) < 0)
                return -ENOENT;
        if (!(p.spec.type.flags & (c->table == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR)))
                return -EPROTOTYPE;

        /* Derived from the name and the filesystem UUID, so a header
         * created again for the same volume is byte-identical. */
        if (c->has_disk_guid)
                p.spec.disk_guid = c->disk_guid;
        else
                guid_derive("disk", c->name, v->uuid, &p.spec.disk_guid);
        if (c->has_partition_guid)
                p.spec.partition_guid = c->partition_guid;
        else
                guid_derive("partition", c->name, v->uuid, &p.spec.partition_guid);
        p.spec.disk_signature = c->has_disk_signature ? c->disk_signature
                                                      : guid_derive_mbr_signature(c->name, v->uuid);

        const char *pname = c->partition_name ? c->partition_name
                          : v->label && *v->label ? v->label : c->name;
        snprintf(p.spec.partition_name, sizeof p.spec.partition_name, "%s", pname);

        *ret = p;
        return 0;
}

const char *plan_strerror(int r, const struct disk_config *c, const struct volume_facts *v, char *buf, size_t len) {
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];

        switch (r) {
        case -EINVAL:
                if (v->sector_size != 512 && v->sector_size != 4096)
                        snprintf(buf, len, "logical sector size %" PRIu32 " is not supported (512 or 4096)", v->sector_size);
                else
                        snprintf(buf, len, "volume size %" PRIu64 " bytes is not a positive multiple of the %" PRIu32 "-byte sector",
                                 v->size_bytes, v->sector_size);
                break;
        case -EDOM:
                snprintf(buf, len, "alignment %" PRIu64 " bytes must be a multiple of the %" PRIu32 "-byte sector, at least %s for %s, at most %s",
                         c->alignment, v->sector_size,
                         size_format(layout_min_alignment(c->table, v->sector_size), b, sizeof b),
                         c->table == TABLE_GPT ? "GPT" : "MBR", "1 GiB");
                break;
        case -EFBIG:
                if (c->table == TABLE_MBR)
                        snprintf(buf, len, "volume of %s is too large for an MBR: the disk would need %" PRIu64
                                 " sectors, an MBR describes at most 2^32 (use table = gpt)",
                                 size_format(v->size_bytes, a, sizeof a),
                                 (v->size_bytes + c->alignment) / v->sector_size);
                else
                        snprintf(buf, len, "volume of %" PRIu64 " bytes is too large", v->size_bytes);
                break;
        case -ENOMEDIUM:
                snprintf(buf, len, "no filesystem found on the volume, so the partition type cannot be chosen (set type = ...)");
                break;
        case -ENOENT:
                snprintf(buf, len, "filesystem type '%s' has no automatic partition type (set type = ...)", v->fstype);
                break;
        case -EPROTOTYPE:
                snprintf(buf, len, "partition type cannot be written in an %s table", c->table == TABLE_GPT ? "GPT" : "MBR");
                break;
        default:
                snprintf(buf, len, "%s", strerror(-r));
        }
        return buf;
}

uint8_t *plan_header_bytes(const struct disk_plan *p) {
        /* calloc: fresh zero pages (mmap'd at this size) that stay
         * unresident where nothing is written (the alignment padding). */
        uint8_t *buf = calloc(1, p->layout.header_bytes);

        if (buf)
                table_write_zeroed(&p->layout, &p->spec, buf);
        return buf;
}
