/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `partwrap show`: the layout of each declared disk as a picture, because
 * administrators would rather look than compute. The picture is drawn from
 * the region list (layout.h), the same list that makes the header file and
 * the device-mapper table:
 *
 *        LBA  +----------------------------------------+
 *          0  | head                             1 MiB |  2048 sectors, from the header file at offset 0
 *             |   0 protective MBR, 1 GPT header,      |
 *             |   2-33 entries, 34-2047 unused         |
 *       2048  +----------------------------------------+
 *             | partition 1 = the volume        64 MiB |  131072 sectors, from /dev/loop0 at offset 0
 *             |   LBA 2048-133119                      |
 *     133120  +----------------------------------------+
 *             | tail                          16.5 KiB |  33 sectors, from the header file at offset 1048576
 *             |   133120-133151 backup entries,        |
 *             |   133152 backup GPT header             |
 *     133153  +----------------------------------------+  end (last LBA 133152)
 *
 * show_render_text() and show_render_json() only format what they are
 * given; cmd_show() observes with observe() (observe.h), the look apply
 * and check take: read-only probe, device-mapper state. */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dmtable.h"
#include "observe.h"
#include "plan.h"
#include "show.h"
#include "size.h"
#include "util.h"

#define BOX_INNER_MIN 40
#define PIC_LINES_MAX 16

static const char *table_name(enum table_kind t) {
        return t == TABLE_GPT ? "gpt" : "mbr";
}

/* The type as written in this table: "basic-data (0x0c)", or the GUID. */
static const char *type_code(enum table_kind table, const struct ptype *t, char *buf, size_t len) {
        char g[GUID_STRING_MAX];

        if (table == TABLE_GPT)
                snprintf(buf, len, "%s", guid_format(&t->gpt, g));
        else
                snprintf(buf, len, "0x%02x", t->mbr);
        return buf;
}

static const char *region_name(enum region_kind k) {
        return k == REGION_HEAD ? "head" : k == REGION_VOLUME ? "partition" : k == REGION_GAP ? "gap" : "tail";
}

/* One line of the picture: a boundary ("+---+", with the LBA or offset it
 * sits at) or a line inside a box (text on the left, a size on the right). */
struct pic_line {
        bool boundary;
        char at[32];
        char left[96];
        char right[SIZE_FORMAT_MAX];
        char note[192];
};

struct picture {
        struct pic_line l[PIC_LINES_MAX];
        unsigned n;
        const char *column; /* "LBA", or "offset" when the sector size is unknown */
};

static struct pic_line *pic_add(struct picture *p, bool boundary) {
        assert(p->n < PIC_LINES_MAX);
        struct pic_line *l = &p->l[p->n++];
        *l = (struct pic_line) { .boundary = boundary };
        return l;
}

static void pic_boundary(struct picture *p, const char *at, const char *note) {
        struct pic_line *l = pic_add(p, true);
        snprintf(l->at, sizeof l->at, "%s", at);
        snprintf(l->note, sizeof l->note, "%s", note ? note : "");
}

static struct pic_line *pic_text(struct picture *p, const char *left, const char *right) {
        struct pic_line *l = pic_add(p, false);
        snprintf(l->left, sizeof l->left, "%s", left);
        snprintf(l->right, sizeof l->right, "%s", right ? right : "");
        return l;
}

static void pic_print(FILE *f, const struct picture *p) {
        size_t atw = strlen(p->column), inner = BOX_INNER_MIN;

        for (unsigned i = 0; i < p->n; i++) {
                const struct pic_line *l = &p->l[i];
                size_t w = strlen(l->left) + (*l->right ? 1 + strlen(l->right) : 0) + 2;
                if (strlen(l->at) > atw)
                        atw = strlen(l->at);
                if (w > inner)
                        inner = w;
        }
        fprintf(f, "  %*s\n", (int) atw, p->column);
        for (unsigned i = 0; i < p->n; i++) {
                const struct pic_line *l = &p->l[i];
                fprintf(f, "  %*s  ", (int) atw, l->at);
                if (l->boundary) {
                        fputc('+', f);
                        for (size_t k = 0; k < inner; k++)
                                fputc('-', f);
                        fputc('+', f);
                } else
                        fprintf(f, "| %-*s%s |", (int) (inner - 2 - strlen(l->right)), l->left, l->right);
                if (*l->note)
                        fprintf(f, "  %s", l->note);
                fputc('\n', f);
        }
}

static const char *dm_state_name(const struct dm_state *dm) {
        if (!dm)
                return "unknown";
        if (!dm->exists)
                return "absent";
        if (!dm->ours)
                return "foreign";
        if (!dm->active)
                return "inactive";
        return dm->suspended ? "suspended" : "active";
}

static bool dm_live(const struct dm_state *dm) {
        return dm && dm->exists && dm->ours && dm->active && dm->table.n > 0;
}

/* Does the live table have the shape of the layout, over the volume? The
 * header's device is taken from the live table itself: which loop holds
 * the header is check's business, not show's. */
static bool dm_live_matches(const struct show_disk *s) {
        _cleanup_(dm_table_done) struct dm_table want = {};

        if (!s->layout || !s->vol)
                return true; /* nothing to compare with */
        if (dmtable_build(s->layout, s->dm->table.t[0].dev, &s->vol->devno, &want) < 0)
                return false;
        return dm_table_equal(&want, &s->dm->table);
}

/* The table on paper: the header's loop and the volume are not known. */

static void print_table(FILE *f, const struct dm_table *t, const struct dm_names *names) {
        char line[DM_TARGET_LINE_MAX];

        for (size_t i = 0; i < t->n; i++)
                fprintf(f, "    %s\n", dmtable_format(t, i, names, line, sizeof line));
}

/* The picture when the sector size and the volume size are known. */
static void picture_layout(struct picture *p, const struct show_disk *s) {
        const struct layout *l = s->layout;
        const uint64_t ss = l->sector_size;
        char a[32], b[96], size[SIZE_FORMAT_MAX];

        p->column = "LBA";
        for (unsigned i = 0; i < l->n_regions; i++) {
                const struct region *r = &l->regions[i];
                uint64_t first = r->start / ss, last = first + r->length / ss - 1;

                snprintf(a, sizeof a, "%" PRIu64, first);
                pic_boundary(p, a, NULL);
                size_format(r->length, size, sizeof size);
                struct pic_line *t;
                switch (r->kind) {
                case REGION_GAP:
                        t = pic_text(p, "gap (alignment)", size);
                        snprintf(t->note, sizeof t->note, "%" PRIu64 " sectors, from the header file at offset %" PRIu64,
                                 r->length / ss, r->file_offset);
                        break;
                case REGION_HEAD:
                        t = pic_text(p, "head", size);
                        if (l->table == TABLE_GPT) {
                                pic_text(p, "  0 protective MBR, 1 GPT header,", NULL);
                                uint64_t e_last = 1 + l->entries_sectors;
                                if (e_last < last)
                                        snprintf(b, sizeof b, "  2-%" PRIu64 " entries, %" PRIu64 "-%" PRIu64 " unused", e_last,
                                                 e_last + 1, last);
                                else
                                        snprintf(b, sizeof b, "  2-%" PRIu64 " entries", e_last);
                        } else if (last > 0)
                                snprintf(b, sizeof b, "  0 MBR, 1-%" PRIu64 " unused", last);
                        else
                                snprintf(b, sizeof b, "  0 MBR");
                        pic_text(p, b, NULL);
                        snprintf(t->note, sizeof t->note, "%" PRIu64 " sectors, from the header file at offset %" PRIu64,
                                 r->length / ss, r->file_offset);
                        break;
                case REGION_VOLUME:
                        snprintf(b, sizeof b, "partition %zu = the volume", r->volume + 1);
                        t = pic_text(p, b, size);
                        snprintf(b, sizeof b, "  LBA %" PRIu64 "-%" PRIu64, first, last);
                        pic_text(p, b, NULL);
                        snprintf(t->note, sizeof t->note, "%" PRIu64 " sectors, from %s at offset 0", r->length / ss,
                                 s->vol ? s->vol[r->volume].devnode : s->cfg->parts[r->volume].volume);
                        break;
                case REGION_TAIL:
                        t = pic_text(p, "tail", size);
                        snprintf(b, sizeof b, "  %" PRIu64 "-%" PRIu64 " backup entries,", first, last - 1);
                        pic_text(p, b, NULL);
                        snprintf(b, sizeof b, "  %" PRIu64 " backup GPT header", last);
                        pic_text(p, b, NULL);
                        snprintf(t->note, sizeof t->note, "%" PRIu64 " sectors, from the header file at offset %" PRIu64,
                                 r->length / ss, r->file_offset);
                        break;
                }
        }
        snprintf(a, sizeof a, "%" PRIu64, l->total_sectors);
        snprintf(b, sizeof b, "end (last LBA %" PRIu64 ")", l->total_sectors - 1);
        pic_boundary(p, a, b);
}

/* The picture when only the configuration is known: offsets in bytes. */
static void picture_config(struct picture *p, const struct show_disk *s) {
        const struct disk_config *c = s->cfg;
        char a[SIZE_FORMAT_MAX];
        struct pic_line *t;

        p->column = "offset";
        pic_boundary(p, "0", NULL);
        t = pic_text(p, "head", size_format(c->alignment, a, sizeof a));
        snprintf(t->note, sizeof t->note, "from the header file at offset 0");
        pic_text(p, c->table == TABLE_GPT ? "  protective MBR, GPT header, entries" : "  MBR", NULL);
        pic_boundary(p, a, NULL);
        for (size_t k = 0; k < c->n_parts; k++) {
                char b[48];
                if (k > 0) {
                        pic_boundary(p, "", NULL);
                        t = pic_text(p, "gap (alignment)", "?");
                        snprintf(t->note, sizeof t->note, "from the header file");
                        pic_boundary(p, "", NULL);
                }
                snprintf(b, sizeof b, "partition %zu = the volume", k + 1);
                t = pic_text(p, b, "?");
                snprintf(t->note, sizeof t->note, "from %s", c->parts[k].volume);
        }
        if (c->table == TABLE_GPT) {
                char t512[SIZE_FORMAT_MAX], t4096[SIZE_FORMAT_MAX];
                pic_boundary(p, "", NULL);
                t = pic_text(p, "tail", "?");
                snprintf(t->note, sizeof t->note, "%s (512-byte sectors) or %s (4096), from the header file",
                         size_format(layout_tail_sectors(TABLE_GPT, 512) * 512, t512, sizeof t512),
                         size_format(layout_tail_sectors(TABLE_GPT, 4096) * 4096, t4096, sizeof t4096));
                pic_text(p, "  backup entries, backup GPT header", NULL);
        }
        pic_boundary(p, "", "end");
}

void show_render_text(FILE *f, const struct show_disk *s) {
        const struct disk_config *c = s->cfg;
        const struct layout *l = s->layout;
        const struct volume_info *v = s->vol;
        char a[SIZE_FORMAT_MAX], b[SIZE_FORMAT_MAX], t[GUID_STRING_MAX], esc[ESCAPE_MAX(256)];
        struct picture p = { 0 };

        /* Summary. */
        fprintf(f, "%s: /dev/mapper/%s, ", c->name, c->name);
        if (!s->dm)
                fputs("device-mapper state unknown\n", f);
        else if (!s->dm->exists)
                fputs("not active\n", f);
        else if (!s->dm->ours)
                fprintf(f, "exists but is not partwrap's (DM UUID \"%s\")\n", s->dm->uuid);
        else if (!s->dm->active)
                fputs("exists without a live table\n", f);
        else
                fprintf(f, "active%s%s\n", s->dm->suspended ? ", suspended" : "", s->dm->read_only ? ", read-only" : "");

        for (size_t k = 0; v && k < c->n_parts; k++) {
                const char *spec = c->parts[k].volume;
                fprintf(f, "  volume   %s", spec);
                if (!streq(spec, v[k].devnode))
                        fprintf(f, " (%s)", v[k].devnode);
                /* Type and label are what the filesystem says: its guest's
                 * words, escaped for the terminal. */
                fprintf(f, ": %s, %" PRIu32 "-byte sectors, %s", size_format(v[k].size_bytes, a, sizeof a), v[k].sector_size,
                        v[k].ambivalent ? "more than one filesystem signature"
                        : v[k].fstype ? str_escape(v[k].fstype, esc, sizeof esc) : "no filesystem");
                if (v[k].label && *v[k].label)
                        fprintf(f, " \"%s\"", str_escape(v[k].label, esc, sizeof esc));
                fprintf(f, "%s\n", v[k].read_only ? ", read-only device" : "");
        }
        if (!v) {
                char list[CONFIG_VOLUMES_MAX];
                fprintf(f, "  volume   %s: %s\n", config_volumes(c, list, sizeof list), s->problem ? s->problem : "volume not present");
        }

        fprintf(f, "  header   %s", c->header);
        if (l) {
                fprintf(f, ": %s head", size_format(layout_head_bytes(l), a, sizeof a));
                if (l->tail_sectors)
                        fprintf(f, " + %s tail", size_format(layout_tail_bytes(l), b, sizeof b));
                fprintf(f, " = %" PRIu64 " bytes", l->header_bytes);
        }
        fprintf(f, "%s\n", s->header_exists > 0 ? "" : s->header_exists == 0 ? " (not created yet)" : "");

        fprintf(f, "  table    %s, partition 1 at %s", table_name(c->table), size_format(c->alignment, a, sizeof a));
        if (c->n_parts > 1)
                fprintf(f, "%s\n", c->read_only ? ", mapped read-only" : "");
        for (size_t k = 0; k < c->n_parts; k++) {
                const struct ptype *type = s->spec ? &s->spec->partitions[k].type
                                         : c->parts[k].type_auto ? NULL : &c->parts[k].type;
                if (c->n_parts > 1)
                        fprintf(f, "           partition %zu", k + 1);
                fputs(", type ", f);
                if (!type)
                        fputs("auto (from the filesystem)", f);
                else if (type->name)
                        fprintf(f, "%s (%s)", type->name, type_code(c->table, type, t, sizeof t));
                else
                        fputs(type_code(c->table, type, t, sizeof t), f);
                if (s->spec && c->table == TABLE_GPT)
                        fprintf(f, ", name \"%s\"", str_escape(s->spec->partitions[k].name, esc, sizeof esc));
                fprintf(f, "%s\n", c->n_parts == 1 && c->read_only ? ", mapped read-only" : "");
        }

        if (l) {
                fprintf(f, "  disk     %s = %" PRIu64 " sectors of %" PRIu32 " bytes", size_format(layout_total_bytes(l), a, sizeof a),
                        l->total_sectors, l->sector_size);
                if (l->table == TABLE_GPT)
                        fprintf(f, ", usable LBAs %" PRIu64 "-%" PRIu64, l->first_usable_lba, l->last_usable_lba);
                fputc('\n', f);
        }
        if (v && s->problem)
                fprintf(f, "  problem  %s\n", s->problem);
        fputc('\n', f);

        /* Picture. */
        if (l)
                picture_layout(&p, s);
        else
                picture_config(&p, s);
        pic_print(f, &p);
        fputc('\n', f);

        /* Table. */
        if (dm_live(s->dm)) {
                fprintf(f, "  device-mapper table of /dev/mapper/%s (live, 512-byte units):\n", c->name);
                print_table(f, &s->dm->table, NULL);
                if (!dm_live_matches(s))
                        fprintf(f, "  It differs from the layout above: 'partwrap check %s' says how.\n", c->name);
        } else if (l) {
                _cleanup_(dm_table_done) struct dm_table dt = {};
                struct dm_names names = { .layout = l, .header = "LOOP", .volumes = dmtable_volume_placeholders(c->n_parts) };
                if (c->n_parts == 1)
                        fprintf(f, "  device-mapper table (512-byte units; LOOP = the header file on a loop device, VOLUME = %s):\n",
                                v ? v->devnode : c->parts[0].volume);
                else
                        fprintf(f, "  device-mapper table (512-byte units; LOOP = the header file on a loop device, VOLUMEk = "
                                "volume k):\n");
                if (dmtable_build(l, 0, NULL, &dt) >= 0)
                        print_table(f, &dt, &names);
        } else {
                /* In 512-byte units: the tail's length depends on the sector size. */
                uint64_t h = c->alignment >> SECTOR_SHIFT;
                uint64_t t512 = layout_tail_sectors(c->table, 512), t4096 = layout_tail_sectors(c->table, 4096) * 8;
                fputs("  device-mapper table once the volume is known (512-byte units; V = the volume's size in them):\n", f);
                fprintf(f, "    0 %" PRIu64 " linear LOOP 0\n", h);
                fprintf(f, "    %" PRIu64 " V linear VOLUME 0\n", h);
                if (c->table == TABLE_GPT)
                        fprintf(f, "    %" PRIu64 "+V %" PRIu64 " linear LOOP %" PRIu64 "    (%" PRIu64 ", not %" PRIu64
                                ", with 4096-byte sectors)\n", h, t512, h, t4096, t512);
        }
}

static void json_uint_or_null(struct json *j, const char *key, bool known, uint64_t v) {
        if (known)
                json_uint(j, key, v);
        else
                json_string(j, key, NULL);
}

void show_render_json(struct json *j, const struct show_disk *s) {
        const struct disk_config *c = s->cfg;
        const struct layout *l = s->layout;
        const struct volume_info *v = s->vol;
        char dev[DM_NAME_MAX + 16], t[GUID_STRING_MAX], line[DM_TARGET_LINE_MAX];
        _cleanup_(dm_table_done) struct dm_table dt = {};
        struct dm_names placeholders = { .layout = l, .header = "LOOP", .volumes = dmtable_volume_placeholders(c->n_parts) };
        const struct dm_names *names = NULL;

        snprintf(dev, sizeof dev, "/dev/mapper/%s", c->name);
        json_object_begin(j, NULL);
        json_string(j, "name", c->name);
        json_string(j, "device", dev);
        json_string(j, "dm_state", dm_state_name(s->dm));
        char list[CONFIG_VOLUMES_MAX];
        json_string(j, "volume_spec", config_volumes(c, list, sizeof list));
        json_string(j, "volume", v ? v->devnode : NULL);
        json_string(j, "fstype", v ? v->fstype : NULL);
        json_string(j, "label", v ? v->label : NULL);
        json_string(j, "header", c->header);
        if (s->header_exists < 0)
                json_string(j, "header_exists", NULL);
        else
                json_bool(j, "header_exists", s->header_exists > 0);
        json_string(j, "table_type", table_name(c->table));
        const struct ptype *type = s->spec ? &s->spec->partitions[0].type : c->parts[0].type_auto ? NULL : &c->parts[0].type;
        json_string(j, "partition_type", type ? ptype_describe(type, t, sizeof t) : "auto");
        json_string(j, "partition_type_code", type ? type_code(c->table, type, t, sizeof t) : NULL);
        json_bool(j, "read_only", c->read_only);
        json_uint_or_null(j, "sector_size", l, l ? l->sector_size : 0);
        json_uint(j, "partition_start", c->alignment);
        json_uint_or_null(j, "partition_size", l, l ? layout_volume(l, 0)->length : 0);
        json_uint_or_null(j, "disk_size", l, l ? layout_total_bytes(l) : 0);
        json_uint_or_null(j, "header_bytes", l, l ? l->header_bytes : 0);

        json_array_begin(j, "regions");
        for (unsigned i = 0; l && i < l->n_regions; i++) {
                const struct region *r = &l->regions[i];
                json_object_begin(j, NULL);
                json_string(j, "kind", region_name(r->kind));
                json_uint(j, "start", r->start);
                json_uint(j, "length", r->length);
                json_uint(j, "first_lba", r->start / l->sector_size);
                json_uint(j, "last_lba", (r->start + r->length) / l->sector_size - 1);
                json_uint(j, "sectors", r->length / l->sector_size);
                json_string(j, "source", r->kind == REGION_VOLUME ? "volume" : "header");
                json_uint(j, "source_offset", r->kind == REGION_VOLUME ? 0 : r->file_offset);
                json_object_end(j);
        }
        json_array_end(j);

        bool live = dm_live(s->dm);
        const struct dm_table *table = &dt;
        if (live)
                table = &s->dm->table;
        else if (l && dmtable_build(l, 0, NULL, &dt) >= 0)
                names = &placeholders;
        json_array_begin(j, "table");
        for (size_t i = 0; i < table->n; i++)
                json_string(j, NULL, dmtable_format(table, i, names, line, sizeof line));
        json_array_end(j);
        json_bool(j, "table_live", live);
        if (live)
                json_bool(j, "table_matches", dm_live_matches(s));
        else
                json_string(j, "table_matches", NULL);
        json_string(j, "problem", s->problem);
        json_object_end(j);
}

/* Observing ---------------------------------------------------------------- */

/* What is wrong with the volumes, in show's words: they follow "volume
 * SPEC:" when one could not be probed, else they are the problem line.
 * Returns NULL when nothing is. */
static const char *show_problem(const struct disk *d, const struct plan_result *p, char *buf, size_t len) {
        const size_t k = d->probe_k;
        const struct wait_item *w = &d->waits[k];
        const struct volume_info *v = &d->vols[k];
        const char *path = w->path, *spec = d->cfg->parts[k].volume;
        int r = path ? d->probe_result : w->result;
        char which[32] = "";

        /* Which volume, when there are several. */
        if (d->n_vols > 1)
                snprintf(which, sizeof which, "volume %zu: ", k + 1);
        if (r == -ENOENT) {
                snprintf(buf, len, "%svolume not present", which);
                return buf;
        }
        if (r < 0) {
                /* The volume line names the spec already; add the node it
                 * resolved to only when that says more. */
                bool more = path && !streq(path, spec);
                snprintf(buf, len, "%s%s%s%s", which, more ? path : "", more ? ": " : "",
                         r == -ENOTBLK ? "not a block device" : r == -EACCES ? "cannot open it (Permission denied; run as root)"
                         : strerror(-r));
                return buf;
        }
        if (!v->devnode)
                return d->obs.volume_problem.message; /* refused before probing */
        if (v->ambivalent) {
                snprintf(buf, len, "%smore than one filesystem signature on the volume (see wipefs -n); apply refuses it", which);
                return buf;
        }
        if (v->pttype) {
                snprintf(buf, len, "%sthe volume carries a partition table (%s); apply refuses it", which, v->pttype);
                return buf;
        }
        if (p->status != PLAN_OK)
                return p->message;
        /* Another disk's volume, say. */
        return d->obs.volume == VOLUME_SEEN_OK ? NULL : d->obs.volume_problem.message;
}

/* Draws one disk as observe() saw it. A volume apply refuses before it
 * plans (or cannot plan) is drawn all the same: its layout and plan are
 * pure functions of the configuration and what the probe found. */
static void show_one(const struct options *o, struct json *j, const struct disk *d) {
        const struct disk_config *c = d->cfg;
        _cleanup_(plan_done) struct disk_plan plan = {};
        _cleanup_(layout_done) struct layout layout = {};
        struct plan_result p = { .status = PLAN_OK };
        const struct disk_plan *planned = disk_planned(d) ? &d->plan : NULL;
        const struct layout *l = planned ? &planned->layout : NULL;
        char problem[320];
        bool all = true;

        for (size_t k = 0; k < d->n_vols; k++)
                all = all && d->vols[k].devnode;
        if (all && !planned) {
                _cleanup_free_ struct volume_facts *f = calloc(d->n_vols, sizeof *f);
                _cleanup_free_ uint64_t *sizes = calloc(d->n_vols, sizeof *sizes);
                for (size_t k = 0; f && sizes && k < d->n_vols; k++) {
                        f[k] = volume_facts_of(&d->vols[k]);
                        sizes[k] = f[k].size_bytes;
                }
                if (f && sizes) {
                        p = plan_build(c, f, &plan);
                        if (p.status == PLAN_OK) {
                                planned = &plan;
                                l = &plan.layout;
                        } else if (layout_compute(c->table, f[0].sector_size, c->alignment, sizes, d->n_vols, &layout) >= 0)
                                l = &layout;
                }
        }
        if (!d->obs.dm_known)
                log_debug("%s", d->obs.dm_problem.message);
        struct show_disk s = {
                .cfg = c,
                .vol = all ? d->vols : NULL,
                .layout = l,
                .spec = planned ? &planned->spec : NULL,
                .problem = show_problem(d, &p, problem, sizeof problem),
                .dm = d->obs.dm_known ? &d->obs.dm : NULL,
                .header_exists = d->header_seen ? 1 : d->obs.header == HEADER_SEEN_BAD ? -1 : 0,
        };
        if (o->json)
                show_render_json(j, &s);
        else
                show_render_text(stdout, &s);
}

int cmd_show(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        struct json j;
        int r;

        /* Without a lock: show only reads, and needs no privilege. */
        if ((r = run_init(&run, o, args, n_args, OBSERVE_SHOW)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        int status = run.cfg.n_errors > 0 || run.usage_error ? EXIT_USAGE : EXIT_OK;

        if (o->json) {
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_string(&j, "command", "show");
                json_uint(&j, "config_errors", run.cfg.n_errors);
                json_uint(&j, "exit_status", (uint64_t) status);
                json_array_begin(&j, "disks");
        }
        for (size_t i = 0; i < run.n; i++) {
                struct disk *d = &run.disks[i];
                observe_resolve_now(d);
                observe(&run, d, OBSERVE_SHOW);
                if (i > 0 && !o->json)
                        putchar('\n');
                show_one(o, &j, d);
        }
        if (o->json) {
                json_array_end(&j);
                json_object_end(&j);
        } else if (run.n == 0 && run.cfg.n_errors == 0 && !run.usage_error)
                log_info("no disks declared in %s", o->config_dir);
        return status;
}
