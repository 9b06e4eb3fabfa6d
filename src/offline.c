/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The commands that need no device: validate and mkheader. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "dmtable.h"
#include "header.h"
#include "json.h"
#include "plan.h"
#include "size.h"
#include "util.h"

static const char *table_name(enum table_kind t) {
        return t == TABLE_GPT ? "gpt" : "mbr";
}

int cmd_validate(const struct options *o, char **args, int n_args) {
        struct config cfg = { 0 };
        struct stat st;

        if (n_args == 0)
                config_load_dir(&cfg, o->config_dir);
        for (int i = 0; i < n_args; i++) {
                if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
                        config_load_dir(&cfg, args[i]);
                else
                        config_load_file(&cfg, args[i]);
        }

        if (o->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_string(&j, "command", "validate");
                json_bool(&j, "valid", cfg.n_errors == 0);
                json_uint(&j, "errors", cfg.n_errors);
                json_array_begin(&j, "disks");
                for (size_t i = 0; i < cfg.n_disks; i++) {
                        const struct disk_config *d = &cfg.disks[i];
                        char v[CONFIG_VOLUMES_MAX];
                        json_object_begin(&j, NULL);
                        json_string(&j, "name", d->name);
                        json_string(&j, "file", d->file);
                        json_uint(&j, "line", d->line);
                        json_string(&j, "volume", config_volumes(d, v, sizeof v));
                        json_array_begin(&j, "volumes");
                        for (size_t k = 0; k < d->n_parts; k++)
                                json_string(&j, NULL, d->parts[k].volume);
                        json_array_end(&j);
                        json_string(&j, "table", table_name(d->table));
                        json_string(&j, "header", d->header);
                        json_object_end(&j);
                }
                json_array_end(&j);
                json_object_end(&j);
        } else {
                for (size_t i = 0; i < cfg.n_disks; i++) {
                        char v[CONFIG_VOLUMES_MAX];
                        printf("%s: ok (%s, %s, declared at %s:%u)\n", cfg.disks[i].name,
                               config_volumes(&cfg.disks[i], v, sizeof v), table_name(cfg.disks[i].table),
                               cfg.disks[i].file, cfg.disks[i].line);
                }
                if (cfg.n_errors > 0)
                        log_error("%u configuration error%s", cfg.n_errors, cfg.n_errors == 1 ? "" : "s");
        }
        int r = cfg.n_errors > 0 ? EXIT_USAGE : EXIT_OK;
        config_free(&cfg);
        return r;
}

#define MKHEADER_VOLUMES_MAX GPT_ENTRIES

static void print_table(const struct options *o, const struct disk_config *d, const struct disk_plan *p) {
        const size_t n = p->layout.n_volumes;
        const struct dm_names names = { .layout = &p->layout, .header = "LOOP", .volumes = dmtable_volume_placeholders(n) };
        _cleanup_(dm_table_done) struct dm_table t = {};
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX], line[DM_TARGET_LINE_MAX];

        /* A table on paper: neither the loop nor the volume is known. */
        if (dmtable_build(&p->layout, 0, NULL, &t) < 0)
                log_error("mkheader: out of memory");
        if (o->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_string(&j, "command", "mkheader");
                json_string(&j, "name", d->name);
                json_string(&j, "header", o->output);
                json_uint(&j, "header_bytes", p->layout.header_bytes);
                json_uint(&j, "sector_size", p->layout.sector_size);
                json_uint(&j, "partition_start", layout_head_bytes(&p->layout));
                json_uint(&j, "partition_size", layout_volume(&p->layout, 0)->length);
                json_array_begin(&j, "partitions");
                for (size_t k = 0; k < n; k++) {
                        const struct region *r = layout_volume(&p->layout, k);
                        json_object_begin(&j, NULL);
                        json_uint(&j, "start", r->start);
                        json_uint(&j, "size", r->length);
                        json_object_end(&j);
                }
                json_array_end(&j);
                json_array_begin(&j, "table");
                for (size_t i = 0; i < t.n; i++)
                        json_string(&j, NULL, dmtable_format(&t, i, &names, line, sizeof line));
                json_array_end(&j);
                json_object_end(&j);
                return;
        }
        if (n == 1)
                printf("# %s: header %s (%s head + %s tail = %" PRIu64 " bytes), partition 1 = volume at %s\n"
                       "# device-mapper table of /dev/mapper/%s, in 512-byte units;\n"
                       "# LOOP = %s on a loop device with %" PRIu32 "-byte sectors, VOLUME = the volume\n",
                       d->name, o->output, size_format(layout_head_bytes(&p->layout), a, sizeof a),
                       size_format(layout_tail_bytes(&p->layout), b, sizeof b), p->layout.header_bytes,
                       size_format(layout_head_bytes(&p->layout), a, sizeof a), d->name, o->output, p->layout.sector_size);
        else
                printf("# %s: header %s (head, gaps and tail = %" PRIu64 " bytes), partitions 1..%zu = volumes 1..%zu\n"
                       "# device-mapper table of /dev/mapper/%s, in 512-byte units;\n"
                       "# LOOP = %s on a loop device with %" PRIu32 "-byte sectors, VOLUMEk = volume k\n",
                       d->name, o->output, p->layout.header_bytes, n, n, d->name, o->output, p->layout.sector_size);
        for (size_t i = 0; i < t.n; i++)
                printf("%s\n", dmtable_format(&t, i, &names, line, sizeof line));
}

/* --size: one size, or a comma-separated list of one per volume; an empty
 * item is refused, not skipped (the list would count one volume less). */
static int parse_sizes(const char *list, struct volume_facts *v, size_t max, size_t *n) {
        uint64_t sizes[MKHEADER_VOLUMES_MAX];
        int r;

        if (max > ARRAY_SIZE(sizes))
                max = ARRAY_SIZE(sizes);
        r = size_list_parse(list, sizes, max, n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < *n; k++)
                v[k].size_bytes = sizes[k];
        return 0;
}

int cmd_mkheader(const struct options *o, char **args, int n_args) {
        _cleanup_(disk_config_done) struct disk_config d = { 0 };
        struct volume_facts v[MKHEADER_VOLUMES_MAX];
        size_t n_volumes = 0;
        _cleanup_(plan_done) struct disk_plan p = {};
        char err[256];
        int r;

        if (n_args > 0) {
                log_error("mkheader: unexpected argument '%s'", args[0]);
                return EXIT_USAGE;
        }
        if (!o->size || !o->output) {
                log_error("mkheader: --size and --output are required");
                return EXIT_USAGE;
        }
        if (parse_sizes(o->size, v, ARRAY_SIZE(v), &n_volumes) < 0) {
                log_error("mkheader: invalid --size '%s': a size, or a list of at most %u sizes separated by ','", o->size,
                          MKHEADER_VOLUMES_MAX);
                return EXIT_USAGE;
        }
        if (o->sector_size && !streq(o->sector_size, "512") && !streq(o->sector_size, "4096")) {
                log_error("mkheader: --sector-size must be 512 or 4096, not '%s'", o->sector_size);
                return EXIT_USAGE;
        }
        for (size_t k = 0; k < n_volumes; k++) {
                v[k].sector_size = o->sector_size ? (uint32_t) atoi(o->sector_size) : 512;
                v[k].uuid = o->fs_uuid;
                v[k].fstype = v[k].label = NULL;
        }

        /* The options are the configuration keys of the same name, checked
         * by the same code. There is no filesystem to derive a type from. */
        const char *keys[][2] = {
                { "table", o->table }, { "type", o->type ? o->type : "basic-data" },
                { "alignment", o->alignment }, { "partition-name", o->partition_name },
                { "disk-guid", o->disk_guid }, { "partition-guid", o->partition_guid },
                { "disk-signature", o->disk_signature },
        };
        r = config_disk_init(&d, o->name ? o->name : "disk", err, sizeof err);
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(keys); i++)
                if (keys[i][1])
                        r = config_disk_set(&d, keys[i][0], keys[i][1], err, sizeof err);
        if (r >= 0)
                r = config_disk_finish(&d, n_volumes, err, sizeof err);
        if (r < 0) {
                log_error("mkheader: %s", err);
                return EXIT_USAGE;
        }

        struct plan_result res = plan_build(&d, v, &p);
        if (res.status != PLAN_OK) {
                log_error("mkheader: %s", res.message);
                return res.status == PLAN_NO_MEMORY ? EXIT_FAILED : EXIT_USAGE;
        }

        _cleanup_free_ uint8_t *buf = plan_header_bytes(&p);
        if (!buf) {
                log_error("mkheader: out of memory");
                return EXIT_FAILED;
        }
        r = header_create(o->output, buf, p.layout.header_bytes);
        if (r < 0) {
                log_error("mkheader: %s: %s", o->output,
                          r == -EEXIST ? "exists already, not overwriting" : strerror(-r));
                return r == -EEXIST ? EXIT_USAGE : EXIT_FAILED;
        }
        print_table(o, &d, &p);
        return EXIT_OK;
}
