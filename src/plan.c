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
static struct plan_result plan_layout_error(int r, const struct disk_config *c, const struct volume_facts *v,
                                            const uint64_t *sizes) {
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX];
        uint64_t total = c->alignment;

        for (size_t k = 0; k < c->n_parts; k++)
                total += sizes[k];
        switch (r) {
        case -EINVAL:
                if (v->sector_size != 512 && v->sector_size != 4096)
                        return plan_error(PLAN_SECTOR_SIZE, "logical sector size %" PRIu32 " is not supported (512 or 4096)",
                                          v->sector_size);
                for (size_t k = 0; k < c->n_parts; k++) {
                        char which[32] = ""; /* which volume, when there are several */
                        if (sizes[k] != 0 && sizes[k] % v->sector_size == 0)
                                continue;
                        if (c->n_parts > 1)
                                snprintf(which, sizeof which, "%zu ", k + 1);
                        return plan_error(PLAN_VOLUME_SIZE,
                                          "volume %ssize %" PRIu64 " bytes is not a positive multiple of the %" PRIu32
                                          "-byte sector", which, sizes[k], v->sector_size);
                }
                return plan_error(PLAN_VOLUME_SIZE, "no volume");
        case -EDOM:
                return plan_error(PLAN_ALIGNMENT,
                                  "alignment %" PRIu64 " bytes must be a multiple of the %" PRIu32 "-byte sector, at least %s for %s, at most %s",
                                  c->alignment, v->sector_size,
                                  size_format(layout_min_alignment(c->table, v->sector_size), b, sizeof b),
                                  c->table == TABLE_GPT ? "GPT" : "MBR", "1 GiB");
        case -E2BIG:
                return plan_error(PLAN_TOO_LARGE, "%zu volumes, but %s table holds at most %u partitions", c->n_parts,
                                  c->table == TABLE_GPT ? "a GPT" : "an MBR", c->table == TABLE_GPT ? GPT_ENTRIES : MBR_PARTITIONS);
        case -EFBIG:
                if (c->table == TABLE_MBR)
                        return plan_error(PLAN_TOO_LARGE,
                                          "%s of %s %s too large for an MBR: the disk would need %" PRIu64
                                          " sectors, an MBR describes at most 2^32 (use table = gpt)",
                                          c->n_parts > 1 ? "volumes" : "volume", size_format(total - c->alignment, a, sizeof a),
                                          c->n_parts > 1 ? "are" : "is", total / v->sector_size);
                return plan_error(PLAN_TOO_LARGE, "%s of %" PRIu64 " bytes %s too large", c->n_parts > 1 ? "volumes" : "volume",
                                  total - c->alignment, c->n_parts > 1 ? "are" : "is");
        default:
                return plan_error(PLAN_NO_MEMORY, "%s", strerror(-r));
        }
}

/* Partition k's type, GUID and name: declared, else from its filesystem. */
static struct plan_result plan_partition(const struct disk_config *c, size_t k, const struct volume_facts *v,
                                         struct table_partition *part) {
        const struct part_config *pc = &c->parts[k];

        if (!pc->type_auto)
                part->type = pc->type;
        else if (!v->fstype)
                return plan_error(PLAN_NO_FILESYSTEM, "no filesystem found on volume %zu, so its partition type cannot be chosen "
                                  "(set type = ...)", k + 1);
        else if (ptype_from_fstype(v->fstype, &part->type) < 0)
                return plan_error(PLAN_NO_AUTO_TYPE, "filesystem type '%s' has no automatic partition type (set type = ...)",
                                  v->fstype);
        if (!(part->type.flags & (c->table == TABLE_GPT ? PTYPE_HAS_GPT : PTYPE_HAS_MBR)))
                return plan_error(PLAN_TYPE_NOT_IN_TABLE, "partition type cannot be written in an %s table",
                                  c->table == TABLE_GPT ? "GPT" : "MBR");
        if (pc->has_guid)
                part->guid = pc->guid;
        else
                guid_derive_partition((unsigned) k + 1, c->name, v->uuid, &part->guid);
        /* Partition 1 keeps the name it has always had; the others get
         * theirs numbered. */
        if (pc->name)
                snprintf(part->name, sizeof part->name, "%s", pc->name);
        else if (v->label && *v->label)
                snprintf(part->name, sizeof part->name, "%s", v->label);
        else if (k == 0)
                snprintf(part->name, sizeof part->name, "%s", c->name);
        else
                snprintf(part->name, sizeof part->name, "%s-%zu", c->name, k + 1);
        return (struct plan_result) { .status = PLAN_OK };
}

struct plan_result plan_build(const struct disk_config *c, const struct volume_facts *v, struct disk_plan *ret) {
        _cleanup_(plan_done) struct disk_plan p = {};
        _cleanup_free_ uint64_t *sizes = calloc(c->n_parts + 1, sizeof *sizes);
        struct plan_result res;
        int r;

        if (!sizes)
                return plan_error(PLAN_NO_MEMORY, "out of memory");
        for (size_t k = 0; k < c->n_parts; k++) {
                if (v[k].sector_size != v[0].sector_size)
                        return plan_error(PLAN_SECTOR_MISMATCH, "volume %zu has %" PRIu32 "-byte logical sectors, volume 1 has %"
                                          PRIu32 ": the volumes of one disk must have the same sector size",
                                          k + 1, v[k].sector_size, v[0].sector_size);
                sizes[k] = v[k].size_bytes;
        }
        r = layout_compute(c->table, v[0].sector_size, c->alignment, sizes, c->n_parts, &p.layout);
        if (r < 0)
                return plan_layout_error(r, c, v, sizes);

        p.partitions = calloc(c->n_parts, sizeof *p.partitions);
        if (!p.partitions)
                return plan_error(PLAN_NO_MEMORY, "out of memory");
        p.spec.partitions = p.partitions;
        p.spec.n_partitions = c->n_parts;
        for (size_t k = 0; k < c->n_parts; k++) {
                res = plan_partition(c, k, &v[k], &p.partitions[k]);
                if (res.status != PLAN_OK)
                        return res;
        }

        /* Derived from the name and the first filesystem's UUID, so a
         * header created again for the same volumes is byte-identical. */
        if (c->has_disk_guid)
                p.spec.disk_guid = c->disk_guid;
        else
                guid_derive("disk", c->name, v[0].uuid, &p.spec.disk_guid);
        p.spec.disk_signature = c->has_disk_signature ? c->disk_signature
                                                      : guid_derive_mbr_signature(c->name, v[0].uuid);

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
