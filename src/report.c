/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "json.h"
#include "report.h"
#include "size.h"
#include "util.h"

static const char *const state_names[] = {
        [DISK_UNCHANGED] = "unchanged", [DISK_CREATED] = "created",
        [DISK_WOULD_CREATE] = "would-create", [DISK_REMOVED] = "removed",
        [DISK_WOULD_REMOVE] = "would-remove", [DISK_ABSENT] = "absent",
        [DISK_HEALTHY] = "healthy", [DISK_UNHEALTHY] = "unhealthy",
        [DISK_MISSING] = "missing", [DISK_FAILED] = "failed",
        [DISK_GROWABLE] = "growable", [DISK_GROWN] = "grown",
        [DISK_WOULD_GROW] = "would-grow",
};

/* The wanted table when there is one, else the live one. */
static void disk_table(const struct disk *d, const struct dm_table **ret_table, const struct dm_names **ret_names) {
        if (d->want.n > 0) {
                *ret_table = &d->want;
                *ret_names = &d->want_names;
        } else {
                *ret_table = &d->obs.dm.table;
                *ret_names = NULL;
        }
}

static void report_disk_json(struct json *j, const struct disk *d) {
        char dev[DM_NAME_MAX + 16], line[DM_TARGET_LINE_MAX];
        const struct dm_table *t;
        const struct dm_names *names;

        snprintf(dev, sizeof dev, "/dev/mapper/%s", d->cfg->name);
        json_object_begin(j, NULL);
        json_string(j, "name", d->cfg->name);
        json_string(j, "state", state_names[d->state]);
        json_bool(j, "changed", d->state == DISK_CREATED || d->state == DISK_REMOVED || d->state == DISK_GROWN);
        json_string(j, "device", dev);
        json_string(j, "volume", d->vols[0].devnode);
        json_string(j, "header", d->cfg->header);
        json_string(j, "table_type", d->cfg->table == TABLE_GPT ? "gpt" : "mbr");
        /* Every disk object has the same keys; null where the volume was not probed. */
        if (disk_planned(d)) {
                json_uint(j, "sector_size", d->plan.layout.sector_size);
                json_uint(j, "partition_start", layout_head_bytes(&d->plan.layout));
                json_uint(j, "partition_size", d->vols[0].size_bytes);
        } else {
                json_null(j, "sector_size");
                json_null(j, "partition_start");
                json_null(j, "partition_size");
        }
        /* Every partition, once planned: partition k+1 is volume k. */
        json_array_begin(j, "partitions");
        for (size_t k = 0; disk_planned(d) && k < d->n_vols; k++) {
                const struct region *r = layout_volume(&d->plan.layout, k);
                json_object_begin(j, NULL);
                json_string(j, "volume", d->vols[k].devnode);
                json_uint(j, "start", r->start);
                json_uint(j, "size", r->length);
                json_object_end(j);
        }
        json_array_end(j);
        /* The size partition 1 has (had, once grown) on the live disk,
         * when the volume has another size now; or had before a grow an
         * earlier run left unfinished, when its header said. */
        if (d->obs.volume_resized)
                json_uint(j, "old_partition_size", d->obs.live_volume_bytes);
        else if (d->state == DISK_GROWN && d->grow_finished && d->grown_from_bytes > 0)
                json_uint(j, "old_partition_size", d->grown_from_bytes);
        else
                json_null(j, "old_partition_size");
        json_array_begin(j, "table");
        disk_table(d, &t, &names);
        for (size_t i = 0; i < t->n; i++)
                json_string(j, NULL, dmtable_format(t, i, names, line, sizeof line));
        json_array_end(j);
        json_array_begin(j, "checks");
        for (unsigned i = 0; i < d->n_checks; i++) {
                json_object_begin(j, NULL);
                json_string(j, "name", d->checks[i].name);
                json_string(j, "status", d->checks[i].ok ? "ok" : "fail");
                json_string(j, "message", d->checks[i].msg);
                json_object_end(j);
        }
        json_array_end(j);
        json_string(j, "error", *d->error ? d->error : NULL);
        json_object_end(j);
}

static void report_disk_text(const struct disk *d) {
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX], line[DM_TARGET_LINE_MAX];

        printf("%s: %s", d->cfg->name, state_names[d->state]);
        if (d->state == DISK_GROWN && d->grow_finished && !d->obs.volume_resized && disk_planned(d)) {
                /* Nothing to grow now: the grow an earlier run left between its swap and its rename. */
                const struct volume_info *v = &d->vols[d->n_vols - 1];
                if (d->grown_from_bytes > 0)
                        printf(" /dev/mapper/%s (partition %zu = %s, %s → %s; finished an interrupted grow)", d->cfg->name,
                               d->n_vols, v->devnode, size_format(d->grown_from_bytes, a, sizeof a),
                               size_format(v->size_bytes, b, sizeof b));
                else
                        printf(" /dev/mapper/%s (partition %zu = %s, %s; finished an interrupted grow)", d->cfg->name,
                               d->n_vols, v->devnode, size_format(v->size_bytes, b, sizeof b));
        } else if ((d->state == DISK_GROWN || d->state == DISK_GROWABLE || d->state == DISK_WOULD_GROW) && disk_planned(d))
                printf(" /dev/mapper/%s (partition %zu = %s, %s → %s)", d->cfg->name, d->n_vols, d->vols[d->n_vols - 1].devnode,
                       size_format(d->obs.live_volume_bytes, a, sizeof a),
                       size_format(d->vols[d->n_vols - 1].size_bytes, b, sizeof b));
        else if ((d->state == DISK_CREATED || d->state == DISK_UNCHANGED || d->state == DISK_WOULD_CREATE) && disk_planned(d)) {
                if (d->n_vols == 1)
                        printf(" /dev/mapper/%s (partition 1 = %s, %s, %s)", d->cfg->name, d->vols[0].devnode,
                               size_format(d->vols[0].size_bytes, a, sizeof a), d->cfg->table == TABLE_GPT ? "GPT" : "MBR");
                else {
                        printf(" /dev/mapper/%s (partitions 1-%zu = ", d->cfg->name, d->n_vols);
                        for (size_t k = 0; k < d->n_vols; k++)
                                printf("%s%s %s", k ? ", " : "", d->vols[k].devnode,
                                       size_format(d->vols[k].size_bytes, a, sizeof a));
                        printf("; %s)", d->cfg->table == TABLE_GPT ? "GPT" : "MBR");
                }
        }
        putchar('\n');
        for (unsigned k = 0; k < d->n_checks; k++)
                printf("  %-6s %-4s %s\n", d->checks[k].name, d->checks[k].ok ? "ok" : "FAIL", d->checks[k].msg);
        if (d->state == DISK_WOULD_CREATE) {
                if (d->obs.header == HEADER_SEEN_ABSENT)
                        printf("  would create header %s (%s)\n", d->cfg->header,
                               size_format(d->plan.layout.header_bytes, a, sizeof a));
                printf("  would create /dev/mapper/%s with the table:\n", d->cfg->name);
                for (size_t i = 0; i < d->want.n; i++)
                        printf("    %s\n", dmtable_format(&d->want, i, &d->want_names, line, sizeof line));
        }
        if (d->state == DISK_WOULD_REMOVE)
                printf("  would remove /dev/mapper/%s\n", d->cfg->name);
}

int report_run(const struct run *run, const char *command) {
        bool failed = false;
        int status;

        for (size_t i = 0; i < run->n; i++) {
                const struct disk *d = &run->disks[i];
                if (d->state == DISK_FAILED || d->state == DISK_UNHEALTHY)
                        failed = true;
                /* The one message for a failure, with the disk's name. */
                if (*d->error)
                        log_msg(d->state == DISK_MISSING ? LOG_WARN : LOG_ERR, "%s: %s%s", d->cfg->name, d->error,
                                d->state == DISK_MISSING ? " (nofail: ignored)" : "");
        }
        status = run->cfg.n_errors > 0 || run->usage_error ? EXIT_USAGE : failed ? EXIT_FAILED : EXIT_OK;

        if (run->o->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_string(&j, "command", command);
                json_bool(&j, "dry_run", run->o->dry_run);
                json_uint(&j, "config_errors", run->cfg.n_errors);
                json_uint(&j, "exit_status", (uint64_t) status);
                json_array_begin(&j, "disks");
                for (size_t i = 0; i < run->n; i++)
                        report_disk_json(&j, &run->disks[i]);
                json_array_end(&j);
                json_object_end(&j);
                return status;
        }
        for (size_t i = 0; i < run->n; i++)
                report_disk_text(&run->disks[i]);
        return status;
}
