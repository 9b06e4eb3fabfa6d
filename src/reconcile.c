/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Observe, decide, act. Every command walks the same three steps for each
 * disk it is asked about:
 *
 *   observe   volume (resolved, probed read-only), plan (layout and table
 *             from config + volume), header file (read and verified), dm
 *             device (state and live table), loop under the live table,
 *             and whether the volume changed size under a live disk
 *   decide    decide.c, pure: none, create, swap-table, refuse or remove,
 *             and why
 *   act       apply: create header, acquire loop, create dm devices in one
 *             udev batch; grow a live disk (act_grow); stop: remove; check
 *             and --dry-run: report only
 *
 * An apply with nothing to do only reads: no ioctl that changes state, so
 * no uevent. report.c prints the outcome. */

#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "disk.h"
#include "dm.h"
#include "fault.h"
#include "gpt-format.h"
#include "grow.h"
#include "header.h"
#include "observe.h"
#include "reconcile.h"
#include "report.h"
#include "size.h"
#include "usage.h"
#include "util.h"

#define LOCK_DIR "/run/partwrap"
#define READ_CHECK_BYTES 4096

static void disk_fail(struct disk *d, const char *fmt, ...) _printf_(2, 3);
static void disk_fail(struct disk *d, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->error, sizeof d->error, fmt, ap);
        va_end(ap);
        d->state = DISK_FAILED;
}

static void disk_check(struct disk *d, const char *name, bool ok, const char *fmt, ...) _printf_(4, 5);
static void disk_check(struct disk *d, const char *name, bool ok, const char *fmt, ...) {
        va_list ap;

        if (!d->checks || d->n_checks >= MAX_CHECKS)
                return;
        struct check_item *c = &d->checks[d->n_checks++];
        c->name = name;
        c->ok = ok;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
}

static void set_reason(struct reason *r, enum reason_code code, const char *fmt, ...) _printf_(3, 4);
static void set_reason(struct reason *r, enum reason_code code, const char *fmt, ...) {
        va_list ap;

        r->code = code;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
}

static void disk_done(struct disk *d) {
        free((void *) d->exclude.paths);
        free((void *) d->exclude.devs);
        for (size_t k = 0; k < d->n_vols; k++) {
                if (d->waits) {
                        free(d->waits[k].path);
                        wait_udev_free(&d->waits[k].udev);
                }
                if (d->vols)
                        volume_info_free(&d->vols[k]);
        }
        free(d->waits);
        free(d->vols);
        free(d->devnos);
        free(d->vol_names);
        plan_done(&d->plan);
        free(d->header);
        free(d->checks);
        free(d->verify);
        dm_state_done(&d->obs.dm);
        dm_table_done(&d->want);
        loop_dev_close(&d->loop);
        layout_done(&d->live_layout);
        closep(&d->lock_fd);
}

/* Observe ------------------------------------------------------------------ */

/* One block device, one disk: the kernel lets several dm tables share a
 * device, and two VMs writing one filesystem destroy it. The disk that has
 * the volume already keeps it; else the first in configuration order; and
 * a disk declared by UUID= or LABEL= never gets a volume another disk
 * declares by path. Returns 0, or -EADDRINUSE with the reason set. */
static int claim_volume(const struct run *run, struct disk *d, size_t k, struct reason *why) {
        const struct disk_config *c = d->cfg;
        const char *spec = c->parts[k].volume, *node = d->vols[k].devnode;
        const dev_t devno = d->vols[k].devno;

        for (size_t i = 0; i < k; i++)
                if (d->vols[i].devno == devno) {
                        set_reason(why, REASON_VOLUME, "volumes %s and %s are one device (%s); one block device can be one "
                                   "partition only", c->parts[i].volume, spec, node);
                        return -EADDRINUSE;
                }
        for (size_t i = 0; i < run->n_active; i++)
                if (run->active[i].volume == devno && !streq(run->active[i].name, c->name)) {
                        set_reason(why, REASON_VOLUME, "volume %s (%s) is already partition %u of /dev/mapper/%s; one block "
                                   "device can be one disk only", spec, node, run->active[i].partition, run->active[i].name);
                        return -EADDRINUSE;
                }
        for (const struct disk *e = run->disks; e < d; e++)
                for (size_t i = 0; e->claimed && i < e->n_vols; i++)
                        if (e->vols[i].devno == devno) {
                                set_reason(why, REASON_VOLUME, "volume %s (%s) is also %s volume of [%s] (%s:%u); one block "
                                           "device can be one disk only", spec, node, e->n_vols == 1 ? "the" : "a",
                                           e->cfg->name, e->cfg->file, e->cfg->line);
                                return -EADDRINUSE;
                        }
        /* A volume declared by path is that disk's, whatever UUID or label
         * its guest gives its filesystem: a tag never takes it. */
        for (size_t i = 0; spec[0] != '/' && i < run->cfg.n_disks; i++) {
                const struct disk_config *o = &run->cfg.disks[i];
                for (size_t j = 0; o != c && j < o->n_parts; j++) {
                        const char *path = o->parts[j].volume;
                        struct stat st;
                        if (path[0] == '/' && stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno) {
                                set_reason(why, REASON_VOLUME, "volume %s (%s) is [%s]'s volume %s (%s:%u); one block device "
                                           "can be one disk only", spec, node, o->name, path, o->file, o->line);
                                return -EADDRINUSE;
                        }
                }
        }
        return 0;
}

/* The volumes that did not appear, named, into why. Returns whether any
 * is missing (not an error of another kind). */
static bool volumes_missing(const struct disk *d, struct reason *why) {
        const struct disk_config *c = d->cfg;
        char names[sizeof why->message] = "";
        size_t n = 0, at = 0;
        bool waited = false;

        for (size_t k = 0; k < d->n_vols; k++) {
                const struct wait_item *w = &d->waits[k];
                if (w->path || (w->result != -ETIMEDOUT && w->result != -ENOENT))
                        continue;
                waited = waited || w->result == -ETIMEDOUT;
                int m = snprintf(names + at, sizeof names - at, "%s%s", n ? ", " : "", c->parts[k].volume);
                if (m > 0 && (size_t) m < sizeof names - at)
                        at += (size_t) m;
                n++;
        }
        if (n == 0)
                return false;
        char t[64] = "";
        if (waited)
                snprintf(t, sizeof t, " after waiting %u s", c->timeout);
        set_reason(why, REASON_VOLUME, "%s: %s not found%s", names, n == 1 ? "volume" : "volumes", t);
        return true;
}

/* Whether the live table reads from devno. */
static bool live_table_maps(const struct disk *d, dev_t devno) {
        const struct dm_table *t = &d->obs.dm.table;

        for (size_t i = 0; i < t->n; i++)
                if (t->t[i].dev == devno)
                        return true;
        return false;
}

/* The warm path: volume k of a live disk that reads from it, known by
 * what costs no read of its bytes: the kernel's number, size and sector
 * size (probe_volume_geometry()), and udev's record of its filesystem,
 * which the wait read (wait_udev). Trusted only when that record agrees
 * with the rest: the device udev described is the one the path names now,
 * udev found no partition table on it, a UUID= or LABEL= is the value udev
 * recorded and its /dev/disk link names the device; and, once planned, the
 * header file's entries (header_agrees()). Returns true with v filled and
 * *ret_devno set; else false, and *ret_devno is set when the geometry was
 * read. */
static bool observe_volume_warm(struct disk *d, size_t k, struct volume_info *v, dev_t *ret_devno) {
        const struct wait_item *w = &d->waits[k];
        const struct wait_udev *u = &w->udev;

        *ret_devno = 0;
        if (!u->known || u->pttype || probe_volume_geometry(w->path, v) < 0)
                return false;
        *ret_devno = v->devno;
        if (v->devno == u->devno && live_table_maps(d, v->devno) &&
            probe_tag_agrees(d->cfg->parts[k].volume, v->devno, u->uuid, u->label) > 0 &&
            (v->fstype = strdup(u->fstype)) && (!u->uuid || (v->uuid = strdup(u->uuid))) &&
            (!u->label || (v->label = strdup(u->label))))
                return true;
        return false;
}

/* Volume k as the wait left it: resolved, not a guest's, probed, unpartitioned
 * and claimed. warm: try observe_volume_warm() first; *ret_warm says
 * whether it was taken. Returns 0, or -errno with the reason set. */
static int observe_one_volume(const struct run *run, struct disk *d, size_t k, bool warm, bool *ret_warm,
                              struct reason *why) {
        const char *spec = d->cfg->parts[k].volume;
        const struct wait_item *w = &d->waits[k];
        struct volume_info *v = &d->vols[k];
        char owner[160];
        struct stat st;
        dev_t devno = 0;
        int r;

        if (!w->path) {
                if (w->result == -ENOTUNIQ)
                        set_reason(why, REASON_VOLUME, "%s: more than one device carries it; name the volume by path", spec);
                else
                        set_reason(why, REASON_VOLUME, "%s: cannot resolve: %s", spec, strerror(-w->result));
                return w->result < 0 ? w->result : -ENOENT;
        }
        *ret_warm = warm && observe_volume_warm(d, k, v, &devno);
        if (devno == 0 && stat(w->path, &st) == 0 && S_ISBLK(st.st_mode))
                devno = st.st_rdev;
        /* Before reading a byte, or trusting what udev read: a device that
         * is part of a partwrap disk holds a guest's bytes, whatever it
         * calls itself. */
        if (devno != 0 && stack_partwrap_disk(devno, owner, sizeof owner) > 0) {
                set_reason(why, REASON_VOLUME, "volume %s (%s) is part of /dev/mapper/%s, a guest's disk; refusing it", spec,
                           w->path, owner);
                return -EPERM;
        }
        if (*ret_warm) {
                log_debug("%s: volume %s (%s): known from udev's record, not probed", d->cfg->name, spec, w->path);
                r = 0;
        } else {
                volume_info_free(v);
                r = probe_volume(w->path, v);
        }
        d->probe_result = r;
        d->probe_k = k;
        if (r < 0) {
                set_reason(why, REASON_VOLUME, "volume %s (%s): cannot probe: %s", spec, w->path,
                           r == -ENOTBLK ? "not a block device" : strerror(-r));
                return r;
        }
        d->devnos[k] = v->devno;
        d->vol_names[k] = v->devnode;
        if (v->ambivalent) {
                set_reason(why, REASON_VOLUME, "%s: more than one filesystem signature (see wipefs -n); refusing to guess",
                           v->devnode);
                return -EUCLEAN;
        }
        /* An unpartitioned volume is the contract. One with a table is a
         * disk already (perhaps another partwrap disk), or a guest wrote
         * one: wrapping it would give a guest the host's idea of a disk. */
        if (v->pttype) {
                set_reason(why, REASON_VOLUME, "%s: carries a partition table (%s); partwrap wraps unpartitioned volumes only",
                           v->devnode, v->pttype);
                return -EUCLEAN;
        }
        return claim_volume(run, d, k, why);
}

/* Whether the header file records the identity the warm path took from
 * udev: partwrap derived each partition's type and GUID (GPT; MBR: its
 * type byte and the disk signature) from its volume's filesystem type and
 * UUID when it wrote the header, and derives them again in plan_build().
 * One read of the head's first sectors (the MBR, and the GPT entries at
 * LBA 2), not the file. A guest may change them (its own table): then
 * they disagree, and the volumes are probed. */
static bool header_agrees(const struct disk *d) {
        const struct layout *l = &d->plan.layout;
        const size_t ss = l->sector_size, n = d->n_vols;
        size_t len = l->table == TABLE_GPT ? 2 * ss + n * GPT_ENTRY_BYTES : sizeof(struct mbr_sector);
        _cleanup_free_ uint8_t *buf = len <= l->head_sectors * ss ? malloc(len) : NULL;
        _cleanup_close_ int fd = -EBADF;

        if (!buf || (fd = open(d->cfg->header, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
            pread(fd, buf, len, 0) != (ssize_t) len)
                return false;
        if (l->table == TABLE_MBR) {
                const struct mbr_sector *m = (const struct mbr_sector *) buf;
                if (le32toh(m->disk_signature) != d->plan.spec.disk_signature)
                        return false;
                for (size_t k = 0; k < n; k++)
                        if (m->partitions[k].os_type != d->plan.partitions[k].type.mbr)
                                return false;
                return true;
        }
        for (size_t k = 0; k < n; k++) {
                const struct gpt_entry *e = (const struct gpt_entry *) (buf + 2 * ss + k * GPT_ENTRY_BYTES);
                uint8_t type[16], guid[16];
                guid_to_gpt(&d->plan.partitions[k].type.gpt, type);
                guid_to_gpt(&d->plan.partitions[k].guid, guid);
                if (memcmp(e->partition_type_guid, type, 16) != 0 || memcmp(e->unique_partition_guid, guid, 16) != 0)
                        return false;
        }
        return true;
}

/* One look at the volumes (observe_volume()); *ret_warm: whether any was
 * known by the warm path. */
static int observe_volume_once(const struct run *run, struct disk *d, bool warm, bool *ret_warm) {
        struct reason *why = &d->obs.volume_problem;
        _cleanup_free_ struct volume_facts *f = calloc(d->n_vols + 1, sizeof *f);
        int r;

        *ret_warm = false;
        d->obs.volume = VOLUME_SEEN_BAD;
        if (!f) {
                set_reason(why, REASON_VOLUME, "out of memory");
                return -ENOMEM;
        }
        if (volumes_missing(d, why)) {
                d->obs.volume = VOLUME_SEEN_MISSING;
                return -ENOENT;
        }
        d->obs.volume_read_only = false;
        for (size_t k = 0; k < d->n_vols; k++) {
                bool w = false;
                r = observe_one_volume(run, d, k, warm, &w, why);
                *ret_warm = *ret_warm || w;
                if (r < 0)
                        return r;
                f[k] = volume_facts_of(&d->vols[k]);
                d->obs.volume_read_only = d->obs.volume_read_only || d->vols[k].read_only;
        }
        d->claimed = true;
        struct plan_result p = plan_build(d->cfg, f, &d->plan);
        if (p.status != PLAN_OK) {
                set_reason(why, REASON_VOLUME, "%s: %s", d->n_vols == 1 ? d->vols[0].devnode : d->cfg->name, p.message);
                return -EINVAL;
        }
        d->obs.volume = VOLUME_SEEN_OK;
        return 0;
}

/* The header file's identity (header_seen, its device and inode), when it
 * exists. Returns 0, or lstat()'s -errno. */
static int header_identify(struct disk *d) {
        struct stat st;

        if (lstat(d->cfg->header, &st) < 0)
                return -errno;
        d->header_seen = true;
        d->header_dev = st.st_dev;
        d->header_ino = st.st_ino;
        return 0;
}

/* The volumes as the wait left them: probed, claimed, planned. warm: a
 * live disk of ours, whose volumes the warm path may know without
 * probing; whatever it cannot confirm (a refusal, a plan that fails, a
 * header that records another identity) is looked at again the cold way,
 * by libblkid, so the verdict is the probe's. Returns 0, or -errno with
 * obs.volume_problem set. */
static int observe_volume(const struct run *run, struct disk *d, bool warm) {
        bool used = false;
        int r = observe_volume_once(run, d, warm, &used);

        if (!used || (r == 0 && header_agrees(d)))
                return r;
        log_debug("%s: udev's record of the volumes does not agree with %s: probing them", d->cfg->name,
                  r < 0 ? d->obs.volume_problem.message : d->cfg->header);
        plan_done(&d->plan);
        d->claimed = false;
        d->obs.volume_problem = (struct reason) {};
        for (size_t k = 0; k < d->n_vols; k++) {
                volume_info_free(&d->vols[k]);
                d->devnos[k] = 0;
                d->vol_names[k] = NULL;
        }
        return observe_volume_once(run, d, false, &used);
}

/* The header file of another disk, by inode: two paths (a hard link, a
 * symlinked directory) can name one file, and two disks on one header
 * share their partition table and loop. Returns 0, or -EADDRINUSE with the
 * reason set. */
static int claim_header(const struct run *run, struct disk *d, struct reason *why) {
        const struct disk_config *c = d->cfg;

        if (header_identify(d) < 0)
                return 0; /* header_read() or header_create() words it */
        for (const struct disk *e = run->disks; e < run->disks + run->n; e++)
                if (e != d && e->header_seen && e->header_dev == d->header_dev && e->header_ino == d->header_ino) {
                        set_reason(why, REASON_HEADER, "header %s is the file of [%s]'s header %s (%s:%u); one header file "
                                   "can be one disk's only", c->header, e->cfg->name, e->cfg->header, e->cfg->file,
                                   e->cfg->line);
                        return -EADDRINUSE;
                }
        for (size_t i = 0; i < run->n_active; i++) {
                struct head_file *h = &run->active_heads[i];
                if (streq(run->active[i].name, c->name))
                        continue;
                /* Once a run, not once a disk: n disks would cost n². */
                if (!h->read) {
                        h->r = loop_backing(run->active[i].head, &h->dev, &h->ino);
                        h->read = true;
                }
                if (h->r == 0 && h->dev == d->header_dev && h->ino == d->header_ino) {
                        set_reason(why, REASON_HEADER, "header %s is the header of /dev/mapper/%s; one header file can be "
                                   "one disk's only", c->header, run->active[i].name);
                        return -EADDRINUSE;
                }
        }
        return 0;
}

/* Verifies the header bytes read against a layout. */
static void header_verify(struct disk *d, const struct layout *l) {
        /* Made here: a warm apply verifies nothing, and its disks stay small. */
        if (!d->verify && !(d->verify = malloc(sizeof *d->verify))) {
                d->obs.header = HEADER_SEEN_BAD;
                set_reason(&d->obs.header_problem, REASON_HEADER, "header %s: out of memory", d->cfg->header);
                return;
        }
        table_verify(l, d->header, d->header_len, d->verify);
        if (d->verify->maps_volume)
                d->obs.header = HEADER_SEEN_VALID;
        else {
                d->obs.header = HEADER_SEEN_CORRUPT;
                set_reason(&d->obs.header_problem, REASON_HEADER_CORRUPT, "header %s does not describe %s: %s",
                           d->cfg->header, d->n_vols == 1 ? d->vols[0].devnode : "the volumes",
                           d->verify->n_problems ? d->verify->problems[0]
                           : d->n_vols == 1 ? "partition 1 is not the volume" : "the partitions are not the volumes");
        }
}

/* Reads and verifies the header file, if it exists. */
static void observe_header(const struct run *run, struct disk *d) {
        const char *path = d->cfg->header;
        struct reason *why = &d->obs.header_problem;
        int r;

        d->obs.header = HEADER_SEEN_BAD;
        if (claim_header(run, d, why) < 0)
                return;
        r = header_read(path, &d->header, &d->header_len);
        if (r == -ENOENT) {
                d->obs.header = HEADER_SEEN_ABSENT;
                return;
        }
        if (r < 0) {
                set_reason(why, REASON_HEADER, "header %s: %s", path,
                           r == -ELOOP ? "is a symbolic link, refusing to follow it"
                           : r == -EISDIR ? "is a directory"
                           : r == -EINVAL ? "is not a regular file"
                           : r == -EFBIG ? "is far too large to be a header" : strerror(-r));
                return;
        }
        header_verify(d, &d->plan.layout);
}

static void observe_dm(struct disk *d) {
        /* Read under the locks a moment ago (take_listed()). */
        if (d->dm_listed) {
                d->dm_listed = false;
                d->obs.dm_known = true;
                return;
        }
        int r = dm_get_state(d->cfg->name, &d->obs.dm);

        d->obs.dm_known = r >= 0;
        if (r < 0)
                set_reason(&d->obs.dm_problem, REASON_DM_QUERY, "/dev/mapper/%s: cannot query device-mapper: %s",
                           d->cfg->name, strerror(-r));
}

/* The loop device the live table reads its head from: whether it is
 * bound to our header file. Looks at that one device only, not at every
 * loop of the machine. */
static void observe_loop(struct disk *d) {
        const struct dm_table *live = &d->obs.dm.table;

        d->obs.loop = LOOP_SEEN_NONE;
        if (!d->obs.dm_known || !d->obs.dm.exists || !d->obs.dm.ours || !d->obs.dm.active || !disk_planned(d))
                return;
        d->obs.loop = LOOP_SEEN_WRONG;
        /* The head target reads the loop from offset 0. */
        if (live->n == 0 || live->t[0].offset != 0)
                return;
        if (loop_check(live->t[0].dev, d->cfg->header, d->plan.layout.sector_size, &d->live_loop) > 0) {
                d->obs.loop = LOOP_SEEN_RIGHT;
                return;
        }
        /* A grow killed between its swap and its rename: the head is read
         * from the new header, still under its temporary name. */
        _cleanup_free_ char *tmp = header_grow_temp_path(d->cfg->header);
        struct stat st;
        dev_t dev;
        ino_t ino;
        if (tmp && lstat(tmp, &st) == 0 && S_ISREG(st.st_mode) && loop_backing(live->t[0].dev, &dev, &ino) == 0 &&
            dev == st.st_dev && ino == st.st_ino)
                d->obs.loop = LOOP_SEEN_GROW_TEMP;
}

/* Whether the live table, right in all else, maps volumes of other sizes
 * than they have now: the layout of its volume segments over the live loop
 * and the live head (d->live_layout), which a grow of the last one needs. */
static void observe_resize(struct disk *d) {
        const struct dm_table *live = &d->obs.dm.table;
        const struct layout *l = &d->plan.layout;
        _cleanup_(dm_table_done) struct dm_table old = {};
        _cleanup_free_ uint64_t *live_bytes = calloc(d->n_vols, sizeof *live_bytes);
        size_t n = 0, changed = 0, first_changed = 0;

        d->obs.volume_resized = false;
        layout_done(&d->live_layout);
        if (!live_bytes || d->obs.loop != LOOP_SEEN_RIGHT || d->obs.dm.foreign_target || live->n == 0)
                return;
        /* The volume segments, in order, are the volumes: else this is not
         * a layout of these volumes at all. */
        for (size_t i = 1; i < live->n; i++) {
                if (live->t[i].dev == live->t[0].dev)
                        continue;
                if (n == d->n_vols || live->t[i].dev != d->devnos[n] || live->t[i].offset != 0)
                        return;
                live_bytes[n] = live->t[i].length * 512;
                if (live_bytes[n] != d->vols[n].size_bytes && changed++ == 0)
                        first_changed = n;
                n++;
        }
        if (n != d->n_vols || changed == 0)
                return;
        if (layout_compute(l->table, l->sector_size, live->t[0].length * 512, live_bytes, n, &d->live_layout) < 0)
                return;
        if (dmtable_build(&d->live_layout, d->live_loop.devno, d->devnos, &old) < 0 || !dm_table_equal(&old, live)) {
                layout_done(&d->live_layout);
                return;
        }
        d->obs.volume_resized = true;
        d->obs.resized_partition = first_changed + 1;
        d->obs.resized_not_last = changed > 1 || first_changed != n - 1;
        d->obs.live_volume_bytes = live_bytes[first_changed];
        d->obs.volume_bytes = d->vols[first_changed].size_bytes;
}

/* Whether the volumes are free for a new device: nothing may hold one
 * open exclusively (a mounted filesystem, another dm table). */
static void observe_busy(struct disk *d) {
        d->obs.volume_busy = false;
        for (size_t k = 0; k < d->n_vols && !d->obs.volume_busy; k++) {
                const struct volume_info *v = &d->vols[k];
                int r = device_is_free(v->devnode);
                d->obs.volume_busy = r <= 0;
                if (r == 0) {
                        char users[256] = "held open exclusively";
                        device_users(v->devno, users, sizeof users);
                        set_reason(&d->obs.busy_problem, REASON_VOLUME_BUSY, "%s: in use (%s)", v->devnode, users);
                } else if (r < 0)
                        set_reason(&d->obs.busy_problem, REASON_VOLUME_BUSY, "%s: %s", v->devnode, strerror(-r));
        }
}

/* Whether the header file exists, not what it holds (show's question):
 * header_seen when it does, else obs.header ABSENT, or BAD when lstat()
 * cannot tell. */
static void observe_header_file(struct disk *d) {
        int r = header_identify(d);

        if (r < 0)
                d->obs.header = r == -ENOENT ? HEADER_SEEN_ABSENT : HEADER_SEEN_BAD;
}

void observe_resolve_now(struct disk *d) {
        for (size_t k = 0; k < d->n_vols; k++)
                d->waits[k].result = probe_resolve(d->cfg->parts[k].volume, &d->exclude, &d->waits[k].path);
}

/* Fills d->obs, as deep as the command looks. A volume that cannot be
 * used ends the look: the rest is about a disk that cannot be built. */
void observe(const struct run *run, struct disk *d, enum observe_scope scope) {
        if (scope == OBSERVE_STOP) {
                observe_dm(d);
                return;
        }
        /* show draws a disk apply would refuse as well, so its look goes on
         * past the volume; which loop feeds the head is check's business. */
        if (scope == OBSERVE_SHOW) {
                observe_header_file(d);
                (void) observe_volume(run, d, false);
                observe_dm(d);
                return;
        }
        /* apply looks at the device first: a live disk of ours is the
         * warm path's (observe_volume()). check probes every volume. */
        bool warm = false;
        if (scope == OBSERVE_APPLY) {
                observe_dm(d);
                const struct dm_state *s = &d->obs.dm;
                warm = d->obs.dm_known && s->exists && s->ours && s->active && !s->suspended && !s->foreign_target &&
                       s->table.n >= 2;
        }
        if (observe_volume(run, d, warm) < 0)
                return;
        if (scope == OBSERVE_CHECK) {
                observe_header(run, d);
                observe_dm(d);
        }
        if (!d->obs.dm_known)
                return;
        observe_loop(d);
        observe_resize(d);
        /* A header that grew with nothing else is judged by the disk it
         * describes now, the live one. */
        if (scope == OBSERVE_CHECK && d->obs.volume_resized && d->header)
                header_verify(d, &d->live_layout);
        if (scope == OBSERVE_APPLY && !d->obs.dm.exists) {
                observe_header(run, d);
                if (d->obs.header == HEADER_SEEN_ABSENT || d->obs.header == HEADER_SEEN_VALID)
                        observe_busy(d);
        }
}

/* Decide ------------------------------------------------------------------- */

/* What the declaration wants, with the table over the live loop when
 * there is one (the only loop it could be compared with). */
static struct desired desire(struct disk *d, bool present) {
        struct desired w = { .present = present, .read_only = d->cfg->read_only, .header = d->cfg->header };

        if (present && d->obs.loop == LOOP_SEEN_RIGHT && d->want.n == 0 &&
            dmtable_build(&d->plan.layout, d->live_loop.devno, d->devnos, &d->want) >= 0)
                w.table = &d->want;
        return w;
}

/* Selection and locking --------------------------------------------------- */

void run_done(struct run *run) {
        for (size_t i = 0; i < run->n; i++)
                disk_done(&run->disks[i]);
        free(run->disks);
        stack_use_list(NULL, 0);
        free(run->active);
        free(run->active_heads);
        config_free(&run->cfg);
}

/* The listing's state of a device that is one of the run's disks becomes
 * that disk's observation: observe_dm() need not ask again. */
static void take_listed(const char *name, struct dm_state *s, void *userdata) {
        struct run *run = userdata;

        for (size_t i = 0; i < run->n; i++) {
                struct disk *d = &run->disks[i];
                if (streq(d->cfg->name, name)) {
                        dm_state_done(&d->obs.dm);
                        d->obs.dm = *s;
                        *s = (struct dm_state) {};
                        d->dm_listed = true;
                        return;
                }
        }
}

/* Looks at partwrap's active disks: a volume one of them has is no other
 * disk's (claim_volume()), and does not make another disk's tag ambiguous.
 * take: the run's disks keep the state read (apply, under its locks).
 * Returns 0, or -errno. */
static int run_observe_active(struct run *run, bool take) {
        free(TAKE_PTR(run->active));
        run->n_active = 0;
        stack_use_list(NULL, 0);
        int r = stack_list_disks(&run->active, take ? take_listed : NULL, run);
        if (r < 0)
                return r;
        run->n_active = (size_t) r;
        stack_use_list(run->active, run->n_active);
        free(run->active_heads);
        if (!(run->active_heads = calloc(run->n_active + 1, sizeof *run->active_heads)))
                return -ENOMEM;
        for (size_t i = 0; i < run->n; i++) {
                struct disk *d = &run->disks[i];
                if (!d->by_tag)
                        continue;
                dev_t *devs = calloc(run->n_active + 1, sizeof *devs);
                if (!devs)
                        return -ENOMEM;
                free((void *) d->exclude.devs);
                d->exclude.devs = devs;
                d->exclude.n_devs = 0;
                for (size_t k = 0; k < run->n_active; k++)
                        if (!streq(run->active[k].name, d->cfg->name))
                                devs[d->exclude.n_devs++] = run->active[k].volume;
        }
        return 0;
}

int run_init(struct run *run, const struct options *o, char **args, int n_args, enum observe_scope scope) {
        bool tags = false;

        *run = (struct run) { .o = o };

        config_load_dir(&run->cfg, o->config_dir);
        run->disks = calloc(run->cfg.n_disks + 1, sizeof *run->disks);
        if (!run->disks)
                return -ENOMEM;
        for (int a = 0; a < n_args; a++)
                if (!config_find(&run->cfg, args[a])) {
                        log_error("%s: no such disk in %s", args[a], o->config_dir);
                        run->usage_error = true;
                }
        for (size_t i = 0; i < run->cfg.n_disks; i++) {
                bool wanted = n_args == 0;
                for (int a = 0; a < n_args && !wanted; a++)
                        wanted = streq(args[a], run->cfg.disks[i].name);
                if (!wanted)
                        continue;
                struct disk *d = &run->disks[run->n++];
                d->cfg = &run->cfg.disks[i];
                d->loop.fd = -EBADF;
                d->live_loop.fd = -EBADF;
                d->lock_fd = -EBADF;
                d->n_vols = d->cfg->n_parts;
                d->waits = calloc(d->n_vols, sizeof *d->waits);
                d->vols = calloc(d->n_vols, sizeof *d->vols);
                d->devnos = calloc(d->n_vols, sizeof *d->devnos);
                d->vol_names = calloc(d->n_vols, sizeof *d->vol_names);
                if (!d->waits || !d->vols || !d->devnos || !d->vol_names)
                        return -ENOMEM;
                for (size_t k = 0; k < d->n_vols; k++) {
                        d->by_tag = d->by_tag || d->cfg->parts[k].volume[0] != '/';
                        d->waits[k] = (struct wait_item) {
                                .name = d->cfg->name, .spec = d->cfg->parts[k].volume, .timeout = d->cfg->timeout,
                                .exclude = &d->exclude,
                        };
                }
                tags = tags || d->by_tag;
                if (!d->by_tag)
                        continue;
                /* Every volume path declared elsewhere: a volume declared by
                 * path is that disk's, whatever label its guest gives it, so
                 * it does not make this disk's tag ambiguous. (Only a tag's
                 * resolution reads them: n disks by tag hold n² entries.) */
                size_t n_paths = 0;
                for (size_t k = 0; k < run->cfg.n_disks; k++)
                        n_paths += run->cfg.disks[k].n_parts;
                const char **paths = calloc(n_paths + 1, sizeof *paths);
                if (!paths)
                        return -ENOMEM;
                d->exclude.paths = paths;
                for (size_t k = 0; k < run->cfg.n_disks; k++)
                        for (size_t j = 0; k != i && j < run->cfg.disks[k].n_parts; j++)
                                if (run->cfg.disks[k].parts[j].volume[0] == '/')
                                        paths[d->exclude.n_paths++] = run->cfg.disks[k].parts[j].volume;
        }
        /* apply and check list them under their locks, for the claims;
         * before apply's wait only a UUID= or LABEL= needs them. */
        if (scope == OBSERVE_CHECK || (scope == OBSERVE_APPLY && !tags))
                return 0;
        return run_observe_active(run, false);
}

static int disk_name_compare(const void *a, const void *b) {
        return strcmp((*(struct disk *const *) a)->cfg->name, (*(struct disk *const *) b)->cfg->name);
}

/* One lock per disk serialises apply and stop between the boot unit, the
 * units udev starts and administrators, so two runs never build the same
 * disk twice. Taken after waiting for volumes (waiting needs none), in the
 * order of the names: two runs whose configurations list the disks in
 * different orders still take them in one global order, so neither waits
 * for a lock the other holds while holding one it wants. check takes them
 * shared. Returns 0, or -errno. */
static int run_lock(struct run *run, bool exclusive) {
        _cleanup_free_ struct disk **order = calloc(run->n + 1, sizeof *order);

        if (!order)
                return -ENOMEM;
        if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        for (size_t i = 0; i < run->n; i++)
                order[i] = &run->disks[i];
        qsort(order, run->n, sizeof *order, disk_name_compare);
        for (size_t i = 0; i < run->n; i++) {
                struct disk *d = order[i];
                _cleanup_free_ char *path = strdup_printf(LOCK_DIR "/%s.lock", d->cfg->name);
                if (!path)
                        return -ENOMEM;
                d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (d->lock_fd < 0 || flock(d->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
                        return -errno;
        }
        return 0;
}

/* apply -------------------------------------------------------------------- */

/* The one message for a refused apply, in apply's words. */
static void apply_refused(struct disk *d) {
        const struct reason *r = &d->dec.reason;
        const char *name = d->cfg->name;

        switch (r->code) {
        case REASON_DM_FOREIGN:
                disk_fail(d, "/dev/mapper/%s exists and is not partwrap's (DM UUID \"%s\"); not touching it", name, r->message);
                break;
        case REASON_DM_NO_TABLE:
        case REASON_DM_SUSPENDED:
        case REASON_DM_NOT_LINEAR:
        case REASON_DM_LOOP:
        case REASON_DM_TABLE:
        case REASON_DM_READ_ONLY:
                disk_fail(d, "/dev/mapper/%s %s; 'partwrap stop %s' and apply again to rebuild it", name, r->message, name);
                break;
        case REASON_VOLUME_READ_ONLY:
                for (size_t k = 0; k < d->n_vols; k++)
                        if (d->vols[k].read_only) {
                                disk_fail(d, "%s: the volume is read-only; declare read-only = yes to map it", d->vols[k].devnode);
                                break;
                        }
                break;
        case REASON_VOLUME_SHRUNK:
        case REASON_GROW_UNFINISHED:
        case REASON_GROW_NOT_LAST:
                disk_fail(d, "/dev/mapper/%s %s", name, r->message);
                break;
        default:
                disk_fail(d, "%s", r->message);
        }
        if (r->code == REASON_VOLUME && d->obs.volume == VOLUME_SEEN_MISSING && d->cfg->nofail)
                d->state = DISK_MISSING;
}

/* The new header of a grow takes the header's name. The disk reads it
 * already; a failure here is the next apply's to finish. */
static void grow_finish(struct disk *d, const char *tmp) {
        int r = header_replace(tmp, d->cfg->header);

        if (r < 0)
                disk_fail(d, "header %s: cannot rename the grown header %s over it: %s ('partwrap apply' tries again)",
                          d->cfg->header, tmp, strerror(-r));
}

/* Everything a new device needs but the device: the header file if it is
 * missing, and the loop over it (held open). Returns 0, or -errno with the
 * disk failed. */
static int act_prepare(struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        struct reason why;
        int r;

        if (d->obs.header == HEADER_SEEN_ABSENT) {
                _cleanup_free_ uint8_t *buf = plan_header_bytes(&d->plan);
                if (!buf) {
                        disk_fail(d, "out of memory");
                        return -ENOMEM;
                }
                r = header_create(c->header, buf, d->plan.layout.header_bytes);
                if (r < 0) {
                        disk_fail(d, "header %s: cannot create: %s", c->header,
                                  r == -EEXIST ? "appeared meanwhile (another partwrap?)"
                                  : r == -ELOOP ? "a symbolic link is in the way" : strerror(-r));
                        return r;
                }
                d->header_created = true;
                fault_point("apply-header-created");
                /* For the disks after this one: the file is this disk's now. */
                (void) claim_header(run, d, &why);
        }

        r = loop_acquire(c->header, d->plan.layout.sector_size, c->read_only, d->header_created, &d->loop);
        if (r < 0) {
                disk_fail(d, "header %s: cannot attach a loop device: %s", c->header, strerror(-r));
                return r;
        }
        fault_point("apply-loop-attached");
        r = dmtable_build(&d->plan.layout, d->loop.devno, d->devnos, &d->want);
        if (r < 0) {
                disk_fail(d, "out of memory");
                loop_dev_close(&d->loop);
                return r;
        }
        return 0;
}

/* A grow's guard, called while the disk is suspended: no guest write
 * reaches the header file now. If the guest wrote it since the grow read
 * it, the grow is done again from what it holds now, into the new header
 * file (which only the new, not yet live, table reads): a guest writing
 * all the time cannot starve the grow, and none of its writes is lost. A
 * header caught between two of the guest's writes does not verify: then
 * the old table stays and the grow tries again. */
struct grow_guard {
        const char *path, *tmp;
        const uint8_t *header;
        size_t len;
        const struct grow_geometry *geometry;
        uint64_t volume_bytes;
        struct grow_reason *why;
};

static int grow_guard_check(void *userdata) {
        const struct grow_guard *g = userdata;
        _cleanup_free_ uint8_t *now = NULL, *grown = NULL;
        size_t len;
        int r = header_read(g->path, &now, &len);

        if (r < 0)
                return r;
        fault_point("grow-suspended");
        if (len == g->len && memcmp(now, g->header, len) == 0)
                return 0;
        r = grow_header(g->geometry, now, len, g->volume_bytes, &grown, g->why);
        if (r > 0)
                return -EAGAIN;
        if (r < 0)
                return r;
        if (len != g->len)
                return -EAGAIN;
        r = header_overwrite(g->tmp, grown, len);
        if (r < 0)
                return r;
        fault_point("grow-regrown");
        return 0;
}

/* One try of a grow: the header as it is now, grown, written under the
 * temporary name, a loop over it, and the table swapped while the guard
 * holds. Returns: 0; -EAGAIN (the guest wrote its table meanwhile: try
 * again); or -errno with the disk failed. The old table stays live and
 * the temporary file goes unless 0. */
static int grow_try(struct disk *d, const struct grow_geometry *g, const char *tmp, struct grow_reason *why) {
        const struct disk_config *c = d->cfg;
        _cleanup_free_ uint8_t *old = NULL, *grown = NULL;
        _cleanup_(layout_done) struct layout l = {};
        _cleanup_(dm_table_done) struct dm_table table = {};
        struct loop_dev loop = { .fd = -EBADF };
        size_t len;
        int r;

        r = header_read(c->header, &old, &len);
        if (r < 0) {
                disk_fail(d, "header %s: cannot read: %s", c->header, strerror(-r));
                return r;
        }
        r = grow_header(g, old, len, d->vols[d->n_vols - 1].size_bytes, &grown, why);
        /* What the guest writes can be seen half done (GPT: one copy
         * written, not yet the other): that is worth another look. */
        if (r == GROW_HEADER_CORRUPT || r == GROW_PARTITION_MOVED || r == GROW_BLOCKED)
                return -EAGAIN;
        if (r != 0) {
                if (r > 0)
                        disk_fail(d, "/dev/mapper/%s cannot grow: %s", c->name, why->message);
                else
                        disk_fail(d, "out of memory");
                return r > 0 ? -EINVAL : r;
        }
        why->code = 0;
        uint64_t bytes = d->vols[d->n_vols - 1].size_bytes;
        r = grow_layout(g, bytes, &l);
        if (r < 0) {
                disk_fail(d, "/dev/mapper/%s cannot grow: no layout for %" PRIu64 " bytes: %s", c->name, bytes, strerror(-r));
                return r;
        }
        r = header_write_temp(tmp, grown, len);
        if (r < 0) {
                disk_fail(d, "header %s: cannot write the grown header %s: %s", c->header, tmp, strerror(-r));
                return r;
        }
        fault_point("grow-header-written");
        r = loop_attach(tmp, g->sector_size, c->read_only, &loop);
        if (r < 0) {
                disk_fail(d, "header %s: cannot attach a loop device: %s", tmp, strerror(-r));
                goto fail;
        }
        fault_point("grow-loop-attached");
        r = dmtable_build(&l, loop.devno, d->devnos, &table);
        if (r < 0) {
                disk_fail(d, "out of memory");
                goto fail;
        }
        struct grow_guard guard = {
                .path = c->header, .tmp = tmp, .header = old, .len = len,
                .geometry = g, .volume_bytes = d->vols[d->n_vols - 1].size_bytes, .why = why,
        };
        r = dm_table_swap(c->name, &table, c->read_only, grow_guard_check, &guard);
        if (r == -EAGAIN)
                goto fail;
        if (r < 0) {
                disk_fail(d, "/dev/mapper/%s: cannot swap in the grown table: %s", c->name, strerror(-r));
                goto fail;
        }
        fault_point("grow-swapped");
        /* Device-mapper holds the new loop, and dropped the old table: the
         * old loop goes by autoclear. */
        loop_dev_close(&loop);
        dm_table_done(&d->want);
        d->want = table; /* for the report */
        table = (struct dm_table) {};
        return 0;
fail:
        loop_dev_close(&loop);
        (void) unlink(tmp);
        return r;
}

#define GROW_TRIES 10
#define GROW_PAUSE_MS 100

/* Grows a live disk whose volume grew: a new header and loop, one table
 * swap, then the new header takes the old one's name. */
static void act_grow(struct disk *d) {
        const struct disk_config *c = d->cfg;
        const struct layout *live = &d->live_layout;
        uint64_t before[GPT_ENTRIES];
        for (size_t k = 0; k + 1 < live->n_volumes; k++)
                before[k] = layout_volume(live, k)->length / live->sector_size;
        const struct grow_geometry g = {
                .table = live->table,
                .sector_size = live->sector_size,
                .head_sectors = live->head_sectors,
                .n_before = live->n_volumes - 1,
                .before_sectors = before,
                .volume_sectors = d->obs.live_volume_bytes / live->sector_size,
        };
        _cleanup_free_ char *tmp = header_grow_temp_path(c->header);
        struct grow_reason why = {};
        int r = -EAGAIN;

        if (!tmp) {
                disk_fail(d, "out of memory");
                return;
        }
        for (unsigned i = 0; i < GROW_TRIES && r == -EAGAIN; i++) {
                if (i > 0)
                        nanosleep(&(struct timespec) { .tv_nsec = GROW_PAUSE_MS * 1000 * 1000 }, NULL);
                why.code = 0;
                r = grow_try(d, &g, tmp, &why);
        }
        if (r == -EAGAIN && why.code != 0) {
                disk_fail(d, "/dev/mapper/%s cannot grow: %s", c->name, why.message);
                return;
        }
        if (r == -EAGAIN) {
                disk_fail(d, "/dev/mapper/%s: the guest rewrote its partition table during each of %u tries to grow it; "
                          "apply again", c->name, GROW_TRIES);
                return;
        }
        if (r < 0)
                return;
        d->state = DISK_GROWN;
        grow_finish(d, tmp);
}

/* Observes and decides one disk, and prepares what it needs. */
static void apply_disk(struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;

        observe(run, d, OBSERVE_APPLY);
        /* A grow killed while the disk was suspended: under the disk's lock
         * no other partwrap swaps, so the disk goes on with its old table
         * (the new one may miss a guest's write) and the grow starts over. */
        if (d->obs.dm_known && d->obs.dm.exists && d->obs.dm.ours && d->obs.dm.suspended && !run->o->dry_run) {
                int r = dm_resume_old(c->name);
                if (r < 0) {
                        disk_fail(d, "/dev/mapper/%s is suspended and cannot be resumed: %s", c->name, strerror(-r));
                        return;
                }
                log_warn("%s: /dev/mapper/%s was left suspended (by a partwrap killed while growing it?); resumed",
                         c->name, c->name);
                dm_state_done(&d->obs.dm);
                observe_dm(d);
                if (d->obs.dm_known) {
                        observe_loop(d);
                        observe_resize(d);
                }
        }
        /* A grow killed after its swap: its header takes its name now,
         * and the disk is looked at again. */
        if (d->obs.loop == LOOP_SEEN_GROW_TEMP && !run->o->dry_run) {
                _cleanup_free_ char *tmp = header_grow_temp_path(c->header);
                _cleanup_free_ uint8_t *old = NULL;
                size_t old_len;
                if (!tmp) {
                        disk_fail(d, "out of memory");
                        return;
                }
                /* The header it replaces says the size the grow started
                 * from, for the report (a disk of one volume: the reader
                 * knows where partition 1 starts only). */
                if (d->n_vols == 1 && header_read(c->header, &old, &old_len) == 0) {
                        const struct layout *l = &d->plan.layout;
                        d->grown_from_bytes = grow_partition1_sectors(l->table, l->sector_size, l->head_sectors,
                                                                      old, old_len) * l->sector_size;
                }
                grow_finish(d, tmp);
                if (d->state == DISK_FAILED)
                        return;
                d->grow_finished = true;
                log_debug("%s: finished the grow of an earlier run (renamed %s)", c->name, tmp);
                observe_loop(d);
                observe_resize(d);
        }
        struct desired want = desire(d, true);
        want.grow = c->grow;
        d->dec = decide(&want, &d->obs);
        /* A header a guest changed in ways that still map the volume is
         * worth a word before a device is built on it. */
        if (d->obs.volume == VOLUME_SEEN_OK && d->obs.dm_known && !d->obs.dm.exists &&
            d->obs.header == HEADER_SEEN_VALID && d->verify->n_problems > 0)
                log_warn("%s: header %s: %s (%s; 'partwrap check' lists all)", c->name, c->header, d->verify->problems[0],
                         d->n_vols == 1 ? "partition 1 still maps the volume" : "the partitions still map the volumes");
        /* Verified: apply needs the bytes no more (they are 1 MiB a disk),
         * nor the verifier's report. */
        free(TAKE_PTR(d->header));
        free(TAKE_PTR(d->verify));

        switch (d->dec.action) {
        case ACTION_NONE:
                d->state = d->dec.reason.code == REASON_GROWABLE ? DISK_GROWABLE
                           : d->grow_finished                    ? DISK_GROWN
                                                                 : DISK_UNCHANGED;
                return;
        case ACTION_REFUSE:
                apply_refused(d);
                return;
        case ACTION_SWAP_TABLE:
                if (run->o->dry_run)
                        d->state = DISK_WOULD_GROW;
                else
                        act_grow(d);
                return;
        case ACTION_CREATE:
                if (run->o->dry_run) {
                        /* The table on paper: the loop is not known yet, the
                         * volume is named by its node. */
                        d->want_names = (struct dm_names) {
                                .layout = &d->plan.layout, .header = "LOOP", .volumes = d->vol_names,
                        };
                        if (dmtable_build(&d->plan.layout, 0, d->devnos, &d->want) < 0) {
                                disk_fail(d, "out of memory");
                                return;
                        }
                        d->state = DISK_WOULD_CREATE;
                        return;
                }
                (void) act_prepare(run, d);
                return;
        case ACTION_REMOVE:
                break;
        }
        disk_fail(d, "internal error: apply cannot remove");
}

int cmd_apply(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        struct dm_batch batch;
        int r;

        if ((r = run_init(&run, o, args, n_args, OBSERVE_APPLY)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        /* Every volume of every disk at once. */
        size_t n_items = 0, at = 0;
        for (size_t i = 0; i < run.n; i++)
                n_items += run.disks[i].n_vols;
        struct wait_item *items = calloc(n_items + 1, sizeof *items);
        if (!items)
                return EXIT_FAILED;
        for (size_t i = 0; i < run.n; i++)
                for (size_t k = 0; k < run.disks[i].n_vols; k++)
                        items[at++] = run.disks[i].waits[k];
        wait_for_volumes(items, n_items);
        at = 0;
        for (size_t i = 0; i < run.n; i++)
                for (size_t k = 0; k < run.disks[i].n_vols; k++)
                        run.disks[i].waits[k] = items[at++];
        free(items);

        if (!o->dry_run && (r = run_lock(&run, true)) < 0) {
                log_error("cannot take a lock in %s: %s", LOCK_DIR, strerror(-r));
                return EXIT_FAILED;
        }
        /* Again, under the locks: a disk built meanwhile has its volume. */
        if ((r = run_observe_active(&run, true)) < 0) {
                log_error("cannot list partwrap's disks: %s", strerror(-r));
                return EXIT_FAILED;
        }
        bool any = false;
        for (size_t i = 0; i < run.n; i++) {
                apply_disk(&run, &run.disks[i]);
                any = any || run.disks[i].loop.fd >= 0;
        }

        /* All new devices under one udev cookie, one wait for the batch.
         * A disk is ready for it when it holds its loop. */
        if (any) {
                dm_batch_begin(&batch);
                for (size_t i = 0; i < run.n; i++) {
                        struct disk *d = &run.disks[i];
                        if (d->loop.fd < 0)
                                continue;
                        r = dm_batch_create(&batch, d->cfg->name, &d->want, d->cfg->read_only);
                        if (r == -EBUSY) {
                                /* Opened meanwhile: name the volume that is. */
                                observe_busy(d);
                                disk_fail(d, "%s", d->obs.volume_busy ? d->obs.busy_problem.message
                                                                      : "a volume is in use (held open exclusively)");
                        } else if (r < 0)
                                disk_fail(d, "/dev/mapper/%s: cannot create: %s", d->cfg->name, strerror(-r));
                        else
                                d->state = DISK_CREATED;
                        fault_point("apply-dm-created");
                }
                fault_point("apply-before-udev-wait");
                r = dm_batch_end(&batch);
                if (r < 0)
                        log_warn("waiting for udev to finish: %s", strerror(-r));
        }
        /* Device-mapper holds the loops now; a loop whose creation failed
         * goes away with our descriptor (autoclear). */
        fault_point("apply-before-loop-close");
        for (size_t i = 0; i < run.n; i++)
                loop_dev_close(&run.disks[i].loop);

        log_debug("udev waits: %u", dm_udev_waits);
        return report_run(&run, "apply");
}

/* stop --------------------------------------------------------------------- */

static void stop_disk(const struct run *run, struct disk *d) {
        const char *name = d->cfg->name;
        char users[256] = "";
        int r;

        observe(run, d, OBSERVE_STOP);
        struct desired want = desire(d, false);
        d->dec = decide(&want, &d->obs);
        switch (d->dec.action) {
        case ACTION_NONE:
                d->state = DISK_ABSENT;
                return;
        case ACTION_REFUSE:
                if (d->dec.reason.code == REASON_DM_FOREIGN)
                        disk_fail(d, "/dev/mapper/%s is not partwrap's (DM UUID \"%s\"); not touching it", name,
                                  d->dec.reason.message);
                else if (d->dec.reason.code == REASON_DM_IN_USE) {
                        if (device_users(d->obs.dm.devno, users, sizeof users) <= 0)
                                snprintf(users, sizeof users, "%.200s", d->dec.reason.message);
                        disk_fail(d, "/dev/mapper/%s: in use (%s); stop what uses it first", name, users);
                } else
                        disk_fail(d, "%s", d->dec.reason.message);
                return;
        case ACTION_REMOVE:
                break;
        case ACTION_CREATE:
        case ACTION_SWAP_TABLE:
                disk_fail(d, "internal error: stop cannot build");
                return;
        }
        if (run->o->dry_run) {
                d->state = DISK_WOULD_REMOVE;
                return;
        }
        fault_point("stop-before-remove");
        r = dm_remove(name);
        fault_point("stop-after-remove");
        if (r == -EBUSY) {
                if (device_users(d->obs.dm.devno, users, sizeof users) <= 0)
                        snprintf(users, sizeof users, "opened meanwhile");
                disk_fail(d, "/dev/mapper/%s: in use (%s); stop what uses it first", name, users);
        } else if (r < 0 && r != -ENXIO)
                disk_fail(d, "/dev/mapper/%s: cannot remove: %s", name, strerror(-r));
        else
                d->state = r == -ENXIO ? DISK_ABSENT : DISK_REMOVED;
}

int cmd_stop(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        int r;

        if ((r = run_init(&run, o, args, n_args, OBSERVE_STOP)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        if (!o->dry_run && (r = run_lock(&run, true)) < 0) {
                log_error("cannot take a lock in %s: %s", LOCK_DIR, strerror(-r));
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < run.n; i++)
                stop_disk(&run, &run.disks[i]);
        return report_run(&run, "stop");
}

/* check -------------------------------------------------------------------- */

#define CHECK_CHUNK (64 * 1024)

/* Compares len bytes of the device (O_DIRECT) at dev_off with the header
 * bytes check read and verified (mem, at file_off of the file),
 * CHECK_CHUNK at a time: each byte of the header is read once. A chunk
 * that differs is read again from the file (file_fd), since the guest may
 * have written it since: only then is it a difference. Returns 0 equal, 1
 * different, -errno. */
static int compare_range(int dev_fd, uint64_t dev_off, const uint8_t *mem, int file_fd, uint64_t file_off, size_t len,
                         void *a, void *b) {
        while (len > 0) {
                size_t n = len < CHECK_CHUNK ? len : CHECK_CHUNK;
                ssize_t x = pread(dev_fd, a, n, (off_t) dev_off);
                if (x < 0)
                        return -errno;
                if ((size_t) x != n)
                        return -EIO;
                if (memcmp(a, mem + file_off, n) != 0) {
                        ssize_t y = pread(file_fd, b, n, (off_t) file_off);
                        if (y < 0)
                                return -errno;
                        if ((size_t) y != n)
                                return -EIO;
                        if (memcmp(a, b, n) != 0)
                                return 1;
                }
                dev_off += n, file_off += n, len -= n;
        }
        return 0;
}

static void check_read_through(struct disk *d) {
        const struct layout *l = &d->plan.layout;
        char dev[DM_NAME_MAX + 16];
        void *a = NULL, *b = NULL;
        _cleanup_close_ int dfd = -EBADF, hfd = -EBADF;
        int r;

        snprintf(dev, sizeof dev, "/dev/mapper/%s", d->cfg->name);
        if (posix_memalign(&a, 4096, CHECK_CHUNK) != 0 || posix_memalign(&b, 4096, CHECK_CHUNK) != 0) {
                disk_check(d, "read", false, "out of memory");
                goto out;
        }
        /* O_DIRECT: compare what the devices hold, not two page caches. */
        dfd = open(dev, O_RDONLY | O_CLOEXEC | O_DIRECT);
        hfd = open(d->cfg->header, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0 || hfd < 0) {
                disk_check(d, "read", false, "%s: %m", dfd < 0 ? dev : d->cfg->header);
                goto out;
        }
        /* Head, gaps and tail read through the dm device equal the header
         * file; the first 4 KiB of each partition are its volume's. */
        for (size_t i = 0; i < l->n_regions; i++) {
                const struct region *g = &l->regions[i];
                char what[64];
                if (g->kind == REGION_VOLUME)
                        continue;
                r = compare_range(dfd, g->start, d->header, hfd, g->file_offset, g->length, a, b);
                if (r == 0)
                        continue;
                if (g->kind == REGION_GAP)
                        snprintf(what, sizeof what, "the gap after partition %zu", l->regions[i - 1].volume + 1);
                else
                        snprintf(what, sizeof what, "%s", g->kind == REGION_HEAD ? "head" : "tail");
                disk_check(d, "read", false, "%s: %s %s", dev, what, r < 0 ? strerror(-r) : "differs from the header file");
                goto out;
        }
        for (size_t k = 0; k < d->n_vols; k++) {
                _cleanup_close_ int vfd = open(d->vols[k].devnode, O_RDONLY | O_CLOEXEC | O_DIRECT);
                r = vfd < 0 ? -errno : 0;
                if (r == 0 && pread(dfd, a, READ_CHECK_BYTES, (off_t) layout_volume(l, k)->start) != READ_CHECK_BYTES)
                        r = -EIO;
                if (r == 0 && pread(vfd, b, READ_CHECK_BYTES, 0) != READ_CHECK_BYTES)
                        r = -EIO;
                if (r < 0 || memcmp(a, b, READ_CHECK_BYTES) != 0) {
                        disk_check(d, "read", false, "%s: partition %zu %s %s", dev, k + 1,
                                   r < 0 ? strerror(-r) : "does not read", d->vols[k].devnode);
                        goto out;
                }
        }
        if (d->n_vols == 1)
                disk_check(d, "read", true, "head, tail and the start of partition 1 read back as expected");
        else
                disk_check(d, "read", true, "head, gaps, tail and the start of partitions 1-%zu read back as expected",
                           d->n_vols);
out:
        free(a);
        free(b);
}

static void check_disk(const struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        char a[SIZE_FORMAT_MAX];

        /* Only check's disks have them: apply's stay small. */
        if (!(d->checks = calloc(MAX_CHECKS, sizeof *d->checks))) {
                disk_fail(d, "out of memory");
                return;
        }
        disk_check(d, "config", true, "declared at %s:%u", c->file, c->line);
        observe(run, d, OBSERVE_CHECK);
        if (d->obs.volume != VOLUME_SEEN_OK) {
                snprintf(d->error, sizeof d->error, "%s", d->obs.volume_problem.message);
                disk_check(d, "volume", false, "%s", d->error);
                d->state = d->obs.volume == VOLUME_SEEN_MISSING && c->nofail ? DISK_MISSING : DISK_UNHEALTHY;
                return;
        }
        for (size_t k = 0; k < d->n_vols; k++) {
                const struct volume_info *v = &d->vols[k];
                if (k == CHECK_VOLUMES_SHOWN) {
                        disk_check(d, "volume", true, "and %zu more volumes, all present", d->n_vols - k);
                        break;
                }
                /* Type and UUID are the filesystem's words, which its guest wrote. */
                char fstype[ESCAPE_MAX(32)], uuid[ESCAPE_MAX(48)], part[32] = "";
                str_escape(v->fstype ? v->fstype : "no filesystem", fstype, sizeof fstype);
                str_escape(v->uuid ? v->uuid : "", uuid, sizeof uuid);
                if (d->n_vols > 1)
                        snprintf(part, sizeof part, "partition %zu = ", k + 1);
                disk_check(d, "volume", true, "%s%s: %s, %" PRIu32 "-byte sectors, %s%s%s", part, v->devnode,
                           size_format(v->size_bytes, a, sizeof a), v->sector_size, fstype, *uuid ? " " : "", uuid);
        }

        if (d->obs.header == HEADER_SEEN_BAD)
                disk_check(d, "header", false, "%s", d->obs.header_problem.message);
        else if (d->obs.header == HEADER_SEEN_ABSENT)
                disk_check(d, "header", false, "%s: missing (apply creates it)", c->header);
        else if (!d->verify || d->verify->n_problems == 0)
                disk_check(d, "header", true, "%s: %s valid, %s", c->header, c->table == TABLE_GPT ? "GPT" : "MBR",
                           d->n_vols == 1 ? "partition 1 = the volume" : "partitions 1.. = the volumes, in order");
        else {
                unsigned shown = d->verify->n_problems < VERIFY_MAX_PROBLEMS ? d->verify->n_problems : VERIFY_MAX_PROBLEMS;
                for (unsigned i = 0; i < shown; i++)
                        disk_check(d, "header", false, "%s", d->verify->problems[i]);
                if (d->verify->n_problems > shown)
                        disk_check(d, "header", false, "%u more problems", d->verify->n_problems - shown);
                disk_check(d, "header", d->verify->maps_volume,
                           d->n_vols == 1 ? (d->verify->maps_volume ? "partition 1 still maps the volume exactly"
                                                                   : "partition 1 does NOT map the volume")
                                          : (d->verify->maps_volume ? "each partition still maps its volume exactly"
                                                                   : "the partitions do NOT map the volumes"));
        }

        struct desired want = desire(d, true);
        d->dec = decide(&want, &d->obs);
        if (!d->obs.dm_known)
                disk_check(d, "dm", false, "%s", d->obs.dm_problem.message);
        else if (!d->obs.dm.exists)
                disk_check(d, "dm", false, "/dev/mapper/%s: not active (partwrap apply creates it)", c->name);
        else if (!d->obs.dm.ours)
                disk_check(d, "dm", false, "/dev/mapper/%s is not partwrap's (DM UUID \"%s\")", c->name, d->obs.dm.uuid);
        else {
                if (d->obs.loop == LOOP_SEEN_RIGHT)
                        disk_check(d, "loop", true, "%s bound to %s", d->live_loop.path, c->header);
                else
                        disk_check(d, "loop", false, "no loop device bound to %s feeds the head", c->header);
                if (d->dec.reason.code == REASON_GROWABLE)
                        disk_check(d, "dm", true, "/dev/mapper/%s active, %s%s", c->name, d->dec.reason.message,
                                   c->grow ? " ('partwrap apply' grows it)" : " (grow = no)");
                else if (d->dec.action == ACTION_NONE) {
                        disk_check(d, "dm", true, "/dev/mapper/%s active, table as declared", c->name);
                        if (d->header && d->header_len == d->plan.layout.header_bytes)
                                check_read_through(d);
                } else
                        disk_check(d, "dm", false, "/dev/mapper/%s %s", c->name, d->dec.reason.message);
        }
        /* Done with the header: check holds one disk's at a time. */
        free(TAKE_PTR(d->header));
        d->error[0] = 0;
        d->state = DISK_HEALTHY;
        for (unsigned i = 0; i < d->n_checks; i++)
                if (!d->checks[i].ok)
                        d->state = DISK_UNHEALTHY;
}

int cmd_check(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        int r;

        if ((r = run_init(&run, o, args, n_args, OBSERVE_CHECK)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        /* Shared: a check never sees a disk half-built by an apply. Without
         * /run/partwrap writable (an unprivileged look), check goes on unlocked. */
        if (run_lock(&run, false) < 0)
                log_debug("checking without locks");
        /* Under the locks: a disk stopped before them may have left its
         * loop to a disk built since, whose header it would seem to hold. */
        if ((r = run_observe_active(&run, false)) < 0) {
                log_error("cannot list partwrap's disks: %s", strerror(-r));
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < run.n; i++) {
                struct disk *d = &run.disks[i];
                observe_resolve_now(d);
                check_disk(&run, d);
        }
        return report_run(&run, "check");
}
