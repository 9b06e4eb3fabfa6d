/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Observe, compare, act. Every command walks the same three steps for each
 * disk it is asked about:
 *
 *   observe   volume (resolved, probed read-only), plan (layout and table
 *             from config + volume), header file (read and verified), dm
 *             device (state and live table), loop bound to the header
 *   compare   the live table against the one the plan wants
 *   act       apply: create header, attach loop, create dm devices in one
 *             udev batch; stop: remove; check and --dry-run: report only
 *
 * An apply with nothing to do only reads: no ioctl that changes state, so
 * no uevent. */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dm.h"
#include "fault.h"
#include "header.h"
#include "json.h"
#include "loop.h"
#include "plan.h"
#include "probe.h"
#include "reconcile.h"
#include "size.h"
#include "stack.h"
#include "usage.h"
#include "util.h"
#include "wait.h"

#define LOCK_DIR "/run/partwrap"
#define READ_CHECK_BYTES 4096

enum disk_state {
        DISK_UNCHANGED,
        DISK_CREATED,
        DISK_WOULD_CREATE,
        DISK_REMOVED,
        DISK_WOULD_REMOVE,
        DISK_ABSENT,
        DISK_HEALTHY,
        DISK_UNHEALTHY,
        DISK_MISSING, /* nofail volume that did not appear: reported, not failed */
        DISK_FAILED,
};

static const char *const state_names[] = {
        [DISK_UNCHANGED] = "unchanged", [DISK_CREATED] = "created",
        [DISK_WOULD_CREATE] = "would-create", [DISK_REMOVED] = "removed",
        [DISK_WOULD_REMOVE] = "would-remove", [DISK_ABSENT] = "absent",
        [DISK_HEALTHY] = "healthy", [DISK_UNHEALTHY] = "unhealthy",
        [DISK_MISSING] = "missing", [DISK_FAILED] = "failed",
};

/* The fixed checks (config, volume, loop, dm, read, the header verdict)
 * and every problem the header verifier can word. */
#define MAX_CHECKS (VERIFY_MAX_PROBLEMS + 8)
struct check_item {
        const char *name;
        bool ok;
        char msg[VERIFY_MSG_MAX + 96];
};

struct disk {
        const struct disk_config *cfg;
        struct wait_item wait;
        struct volume_info vol;
        bool probed;
        struct disk_plan plan;
        bool planned;
        uint8_t *header;
        size_t header_len;
        struct verify_report verify;
        struct dm_state dm;
        struct loop_dev loop;   /* fd held while a new loop waits for its dm device */
        struct dm_table want;
        bool to_create;
        int lock_fd;

        struct probe_exclude exclude; /* other disks' volumes: a tag names them only as a last resort */
        bool claimed;           /* resolved, probed, and the volume is this disk's */
        bool header_seen;       /* the header file exists: header_dev/ino are its */
        dev_t header_dev;
        ino_t header_ino;

        enum disk_state state;
        bool header_created;
        char error[512];
        struct check_item checks[MAX_CHECKS];
        unsigned n_checks;
};

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

        if (d->n_checks >= MAX_CHECKS)
                return;
        struct check_item *c = &d->checks[d->n_checks++];
        c->name = name;
        c->ok = ok;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
}

static void disk_done(struct disk *d) {
        free((void *) d->exclude.paths);
        free((void *) d->exclude.devs);
        free(d->wait.path);
        volume_info_free(&d->vol);
        free(d->header);
        loop_dev_close(&d->loop);
        closep(&d->lock_fd);
}

static void devno_str(dev_t dev, char buf[static 24]) {
        snprintf(buf, 24, "%u:%u", major(dev), minor(dev));
}

/* Observation ------------------------------------------------------------ */

struct run {
        const struct options *o;
        struct config cfg;
        struct disk *disks;
        size_t n;
        bool usage_error;
        struct stack_disk *active; /* partwrap's active disks, configured or not */
        size_t n_active;
};

/* One block device, one disk: the kernel lets several dm tables share a
 * device, and two VMs writing one filesystem destroy it. The disk that has
 * the volume already keeps it; else the first in configuration order; and
 * a disk declared by UUID= or LABEL= never gets a volume another disk
 * declares by path. */
static int claim_volume(const struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;

        for (size_t i = 0; i < run->n_active; i++)
                if (run->active[i].volume == d->vol.devno && !streq(run->active[i].name, c->name)) {
                        disk_fail(d, "volume %s (%s) is already partition 1 of /dev/mapper/%s; one block device can be "
                                  "one disk only", c->volume, d->vol.devnode, run->active[i].name);
                        return -EADDRINUSE;
                }
        for (const struct disk *e = run->disks; e < d; e++)
                if (e->claimed && e->vol.devno == d->vol.devno) {
                        disk_fail(d, "volume %s (%s) is also the volume of [%s] (%s:%u); one block device can be one "
                                  "disk only", c->volume, d->vol.devnode, e->cfg->name, e->cfg->file, e->cfg->line);
                        return -EADDRINUSE;
                }
        /* A volume declared by path is that disk's, whatever UUID or label
         * its guest gives its filesystem: a tag never takes it. */
        for (size_t k = 0; c->volume[0] != '/' && k < run->cfg.n_disks; k++) {
                const struct disk_config *o = &run->cfg.disks[k];
                struct stat st;
                if (o != c && o->volume[0] == '/' && stat(o->volume, &st) == 0 && S_ISBLK(st.st_mode) &&
                    st.st_rdev == d->vol.devno) {
                        disk_fail(d, "volume %s (%s) is [%s]'s volume %s (%s:%u); one block device can be one disk only",
                                  c->volume, d->vol.devnode, o->name, o->volume, o->file, o->line);
                        return -EADDRINUSE;
                }
        }
        d->claimed = true;
        return 0;
}

/* Probes the volume and builds the plan. Returns 0, or -errno with d->error set. */
static int observe_volume(const struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        char why[256], owner[160];
        struct stat st;
        int r;

        if (!d->wait.path) {
                if (d->wait.result == -ETIMEDOUT || d->wait.result == -ENOENT) {
                        char t[64] = "";
                        if (d->wait.result == -ETIMEDOUT)
                                snprintf(t, sizeof t, " after waiting %u s", c->timeout);
                        disk_fail(d, "%s: volume not found%s", c->volume, t);
                        if (c->nofail)
                                d->state = DISK_MISSING;
                } else if (d->wait.result == -ENOTUNIQ)
                        disk_fail(d, "%s: more than one device carries it; name the volume by path", c->volume);
                else
                        disk_fail(d, "%s: cannot resolve: %s", c->volume, strerror(-d->wait.result));
                return d->wait.result < 0 ? d->wait.result : -ENOENT;
        }
        /* Before reading a byte: a device that is part of a partwrap disk
         * holds a guest's bytes, whatever it calls itself. */
        if (stat(d->wait.path, &st) == 0 && S_ISBLK(st.st_mode) &&
            stack_partwrap_disk(st.st_rdev, owner, sizeof owner) > 0) {
                disk_fail(d, "volume %s (%s) is part of /dev/mapper/%s, a guest's disk; refusing it", c->volume,
                          d->wait.path, owner);
                return -EPERM;
        }
        r = probe_volume(d->wait.path, &d->vol);
        if (r < 0) {
                disk_fail(d, "volume %s (%s): cannot probe: %s", c->volume, d->wait.path,
                          r == -ENOTBLK ? "not a block device" : strerror(-r));
                return r;
        }
        d->probed = true;
        if (d->vol.ambivalent) {
                disk_fail(d, "%s: more than one filesystem signature (see wipefs -n); refusing to guess", d->vol.devnode);
                return -EUCLEAN;
        }
        /* An unpartitioned volume is the contract. One with a table is a
         * disk already (perhaps another partwrap disk), or a guest wrote
         * one: wrapping it would give a guest the host's idea of a disk. */
        if (d->vol.pttype) {
                disk_fail(d, "%s: carries a partition table (%s); partwrap wraps unpartitioned volumes only",
                          d->vol.devnode, d->vol.pttype);
                return -EUCLEAN;
        }
        r = claim_volume(run, d);
        if (r < 0)
                return r;

        struct volume_facts f = {
                .size_bytes = d->vol.size_bytes, .sector_size = d->vol.sector_size,
                .fstype = d->vol.fstype, .uuid = d->vol.uuid, .label = d->vol.label,
        };
        r = plan_build(c, &f, &d->plan);
        if (r < 0) {
                disk_fail(d, "%s: %s", d->vol.devnode, plan_strerror(r, c, &f, why, sizeof why));
                return r;
        }
        d->planned = true;
        return 0;
}

/* The header file of another disk, by inode: two paths (a hard link, a
 * symlinked directory) can name one file, and two disks on one header
 * share their partition table and loop. Returns 0, or -EADDRINUSE with
 * d->error set. */
static int claim_header(const struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        struct stat st;

        if (lstat(c->header, &st) < 0)
                return 0; /* header_read() or header_create() words it */
        d->header_seen = true;
        d->header_dev = st.st_dev;
        d->header_ino = st.st_ino;
        for (const struct disk *e = run->disks; e < run->disks + run->n; e++)
                if (e != d && e->header_seen && e->header_dev == st.st_dev && e->header_ino == st.st_ino) {
                        disk_fail(d, "header %s is the file of [%s]'s header %s (%s:%u); one header file can be one "
                                  "disk's only", c->header, e->cfg->name, e->cfg->header, e->cfg->file, e->cfg->line);
                        return -EADDRINUSE;
                }
        for (size_t i = 0; i < run->n_active; i++) {
                dev_t dev;
                ino_t ino;
                if (!streq(run->active[i].name, c->name) && loop_backing(run->active[i].head, &dev, &ino) == 0 &&
                    dev == st.st_dev && ino == st.st_ino) {
                        disk_fail(d, "header %s is the header of /dev/mapper/%s; one header file can be one disk's only",
                                  c->header, run->active[i].name);
                        return -EADDRINUSE;
                }
        }
        return 0;
}

/* Reads and verifies the header file if it exists. Returns 1 if found, 0
 * if not, or -errno with d->error set. */
static int observe_header(const struct run *run, struct disk *d) {
        int r = claim_header(run, d);

        if (r < 0)
                return r;
        r = header_read(d->cfg->header, &d->header, &d->header_len);

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                disk_fail(d, "header %s: %s", d->cfg->header,
                          r == -ELOOP ? "is a symbolic link, refusing to follow it"
                          : r == -EISDIR ? "is a directory"
                          : r == -EINVAL ? "is not a regular file"
                          : r == -EFBIG ? "is far too large to be a header" : strerror(-r));
                return r;
        }
        table_verify(&d->plan.layout, d->header, d->header_len, &d->verify);
        return 1;
}

static int observe_dm(struct disk *d) {
        int r = dm_get_state(d->cfg->name, &d->dm);

        if (r < 0)
                disk_fail(d, "/dev/mapper/%s: cannot query device-mapper: %s", d->cfg->name, strerror(-r));
        return r;
}

/* The table the plan wants, over a given loop device. */
static void want_table(struct disk *d, dev_t loop) {
        char l[24], v[24];

        devno_str(loop, l);
        devno_str(d->vol.devno, v);
        layout_to_dm_table(&d->plan.layout, l, v, &d->want);
}

/* The loop device the live table uses for its head, if it is bound to our
 * header file. Returns 1 and *ret if so, 0 if not, -errno. */
static int live_loop(struct disk *d, struct loop_dev *ret) {
        struct loop_dev l = { .fd = -EBADF };
        unsigned maj, min;
        int n = 0, r;

        /* The head target reads the loop from offset 0: "MAJ:MIN 0". Look
         * at that one device only, not at every loop of the machine. */
        if (d->dm.table.n == 0 || sscanf(d->dm.table.t[0].params, "%u:%u 0%n", &maj, &min, &n) != 2 ||
            d->dm.table.t[0].params[n] != '\0')
                return 0;
        /* Either read-only state: a loop from an earlier declaration is
         * still ours, and dm_matches() words the difference. */
        r = loop_check(makedev(maj, min), d->cfg->header, d->plan.layout.sector_size, d->cfg->read_only, &l);
        if (r == 0)
                r = loop_check(makedev(maj, min), d->cfg->header, d->plan.layout.sector_size, !d->cfg->read_only, &l);
        if (r <= 0)
                return r;
        *ret = l;
        return 1;
}

/* Compares an existing dm device with the plan. Returns true if it is
 * exactly as declared; else sets why. */
static bool dm_matches(struct disk *d, char *why, size_t len) {
        struct loop_dev l;

        if (!d->dm.active) {
                snprintf(why, len, "has no live table");
                return false;
        }
        if (d->dm.suspended) {
                snprintf(why, len, "is suspended");
                return false;
        }
        if (d->dm.foreign_target) {
                snprintf(why, len, "has a target that is not linear");
                return false;
        }
        if (live_loop(d, &l) <= 0) {
                snprintf(why, len, "does not read its head from a loop device bound to %s", d->cfg->header);
                return false;
        }
        want_table(d, l.devno);
        if (!dm_table_equal(&d->dm.table, &d->want)) {
                snprintf(why, len, "has a table that differs from the declaration");
                return false;
        }
        if (d->dm.read_only != d->cfg->read_only) {
                snprintf(why, len, "is %s, declared %s", d->dm.read_only ? "read-only" : "read-write",
                         d->cfg->read_only ? "read-only" : "read-write");
                return false;
        }
        return true;
}

/* Selection and locking --------------------------------------------------- */

static void run_done(struct run *run) {
        for (size_t i = 0; i < run->n; i++)
                disk_done(&run->disks[i]);
        free(run->disks);
        free(run->active);
        config_free(&run->cfg);
}

/* Looks at partwrap's active disks: a volume one of them has is no other
 * disk's (claim_volume()), and does not make another disk's tag ambiguous.
 * Returns 0, or -errno. */
static int run_observe_active(struct run *run) {
        free(TAKE_PTR(run->active));
        run->n_active = 0;
        int r = stack_list_disks(&run->active);
        if (r < 0)
                return r;
        run->n_active = (size_t) r;
        for (size_t i = 0; i < run->n; i++) {
                struct disk *d = &run->disks[i];
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

/* Loads the config, selects the disks named in args (all if none) and
 * looks at partwrap's active disks. Returns 0, or -errno. */
static int run_init(struct run *run, const struct options *o, char **args, int n_args) {
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
                d->lock_fd = -EBADF;
                d->wait = (struct wait_item) {
                        .name = d->cfg->name, .spec = d->cfg->volume, .timeout = d->cfg->timeout, .exclude = &d->exclude,
                };
                /* Every other declared disk's volume path: a volume declared
                 * by path is that disk's, whatever label its guest gives it,
                 * so it does not make this disk's tag ambiguous. */
                const char **paths = calloc(run->cfg.n_disks + 1, sizeof *paths);
                if (!paths)
                        return -ENOMEM;
                d->exclude.paths = paths;
                for (size_t k = 0; k < run->cfg.n_disks; k++)
                        if (k != i && run->cfg.disks[k].volume[0] == '/')
                                paths[d->exclude.n_paths++] = run->cfg.disks[k].volume;
        }
        return run_observe_active(run);
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

/* Reporting ---------------------------------------------------------------- */

static void report_table_text(const struct dm_table *t) {
        for (unsigned i = 0; i < t->n; i++)
                printf("    %" PRIu64 " %" PRIu64 " linear %s\n", t->t[i].start, t->t[i].length, t->t[i].params);
}

static void report_disk_json(struct json *j, const struct disk *d) {
        char dev[DM_NAME_MAX + 16];

        snprintf(dev, sizeof dev, "/dev/mapper/%s", d->cfg->name);
        json_object_begin(j, NULL);
        json_string(j, "name", d->cfg->name);
        json_string(j, "state", state_names[d->state]);
        json_bool(j, "changed", d->state == DISK_CREATED || d->state == DISK_REMOVED);
        json_string(j, "device", dev);
        json_string(j, "volume", d->probed ? d->vol.devnode : NULL);
        json_string(j, "header", d->cfg->header);
        json_string(j, "table_type", d->cfg->table == TABLE_GPT ? "gpt" : "mbr");
        /* Every disk object has the same keys; null where the volume was not probed. */
        if (d->planned) {
                json_uint(j, "sector_size", d->plan.layout.sector_size);
                json_uint(j, "partition_start", layout_head_bytes(&d->plan.layout));
                json_uint(j, "partition_size", d->vol.size_bytes);
        } else {
                json_null(j, "sector_size");
                json_null(j, "partition_start");
                json_null(j, "partition_size");
        }
        json_array_begin(j, "table");
        const struct dm_table *t = d->want.n ? &d->want : &d->dm.table;
        for (unsigned i = 0; i < t->n; i++) {
                char line[160];
                snprintf(line, sizeof line, "%" PRIu64 " %" PRIu64 " linear %s", t->t[i].start, t->t[i].length,
                         t->t[i].params);
                json_string(j, NULL, line);
        }
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

static int run_report(struct run *run, const char *command) {
        bool failed = false;
        int status;

        for (size_t i = 0; i < run->n; i++) {
                struct disk *d = &run->disks[i];
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
        for (size_t i = 0; i < run->n; i++) {
                const struct disk *d = &run->disks[i];
                char a[SIZE_FORMAT_MAX];
                printf("%s: %s", d->cfg->name, state_names[d->state]);
                if ((d->state == DISK_CREATED || d->state == DISK_UNCHANGED || d->state == DISK_WOULD_CREATE) && d->planned)
                        printf(" /dev/mapper/%s (partition 1 = %s, %s, %s)", d->cfg->name, d->vol.devnode,
                               size_format(d->vol.size_bytes, a, sizeof a), d->cfg->table == TABLE_GPT ? "GPT" : "MBR");
                putchar('\n');
                for (unsigned k = 0; k < d->n_checks; k++)
                        printf("  %-6s %-4s %s\n", d->checks[k].name, d->checks[k].ok ? "ok" : "FAIL", d->checks[k].msg);
                if (d->state == DISK_WOULD_CREATE) {
                        if (!d->header_len)
                                printf("  would create header %s (%s)\n", d->cfg->header,
                                       size_format(d->plan.layout.header_bytes, a, sizeof a));
                        printf("  would create /dev/mapper/%s with the table:\n", d->cfg->name);
                        report_table_text(&d->want);
                }
                if (d->state == DISK_WOULD_REMOVE)
                        printf("  would remove /dev/mapper/%s\n", d->cfg->name);
        }
        return status;
}

/* apply -------------------------------------------------------------------- */

/* Decides what one disk needs and prepares it (header, loop) so that only
 * the dm creation is left for the batch. */
static void apply_prepare(struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        char why[256];
        int r;

        if (observe_volume(run, d) < 0 || observe_dm(d) < 0)
                return;
        if (d->dm.exists) {
                if (!d->dm.ours) {
                        disk_fail(d, "/dev/mapper/%s exists and is not partwrap's (DM UUID \"%s\"); not touching it",
                                  c->name, d->dm.uuid);
                        return;
                }
                if (!dm_matches(d, why, sizeof why)) {
                        disk_fail(d, "/dev/mapper/%s %s; 'partwrap stop %s' and apply again to rebuild it",
                                  c->name, why, c->name);
                        return;
                }
                d->state = DISK_UNCHANGED;
                return;
        }

        r = observe_header(run, d);
        if (r < 0)
                return;
        if (r > 0 && !d->verify.maps_volume) {
                disk_fail(d, "header %s does not describe %s: %s", c->header, d->vol.devnode,
                          d->verify.n_problems ? d->verify.problems[0] : "partition 1 is not the volume");
                return;
        }
        if (r > 0 && d->verify.n_problems > 0)
                log_warn("%s: header %s: %s (partition 1 still maps the volume; 'partwrap check' lists all)",
                         c->name, c->header, d->verify.problems[0]);
        /* Verified: apply needs the bytes no more (they are 1 MiB a disk). */
        bool have_header = r > 0;
        free(TAKE_PTR(d->header));

        if (d->vol.read_only && !c->read_only) {
                disk_fail(d, "%s: the volume is read-only; declare read-only = yes to map it", d->vol.devnode);
                return;
        }
        r = device_is_free(d->vol.devnode);
        if (r == 0) {
                char users[256] = "held open exclusively";
                device_users(d->vol.devno, users, sizeof users);
                disk_fail(d, "%s: in use (%s)", d->vol.devnode, users);
                return;
        }
        if (r < 0) {
                disk_fail(d, "%s: %s", d->vol.devnode, strerror(-r));
                return;
        }

        if (run->o->dry_run) {
                layout_to_dm_table(&d->plan.layout, "LOOP", d->vol.devnode, &d->want);
                d->state = DISK_WOULD_CREATE;
                return;
        }

        if (!have_header) {
                _cleanup_free_ uint8_t *buf = plan_header_bytes(&d->plan);
                if (!buf) {
                        disk_fail(d, "out of memory");
                        return;
                }
                r = header_create(c->header, buf, d->plan.layout.header_bytes);
                if (r < 0) {
                        disk_fail(d, "header %s: cannot create: %s", c->header,
                                  r == -EEXIST ? "appeared meanwhile (another partwrap?)"
                                  : r == -ELOOP ? "a symbolic link is in the way" : strerror(-r));
                        return;
                }
                d->header_created = true;
                fault_point("apply-header-created");
                /* For the disks after this one: the file is this disk's now. */
                claim_header(run, d);
        }

        /* A header file this run has just created is bound to no loop. */
        r = d->header_created ? 0 : loop_find(c->header, d->plan.layout.sector_size, c->read_only, &d->loop);
        if (r > 0) {
                /* Hold the loop we found, then make sure it is still ours:
                 * an autoclear loop whose last opener just closed it would
                 * otherwise vanish under the new table. */
                struct loop_dev again;
                d->loop.fd = open(d->loop.path, O_RDONLY | O_CLOEXEC);
                if (d->loop.fd < 0 || loop_find(c->header, d->plan.layout.sector_size, c->read_only, &again) <= 0 ||
                    again.devno != d->loop.devno) {
                        loop_dev_close(&d->loop);
                        r = 0;
                }
        }
        if (r == 0)
                r = loop_attach(c->header, d->plan.layout.sector_size, c->read_only, &d->loop);
        if (r < 0) {
                disk_fail(d, "header %s: cannot attach a loop device: %s", c->header, strerror(-r));
                return;
        }
        fault_point("apply-loop-attached");
        want_table(d, d->loop.devno);
        d->to_create = true;
}

int cmd_apply(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        struct dm_batch batch;
        int r;

        if ((r = run_init(&run, o, args, n_args)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        struct wait_item *items = calloc(run.n + 1, sizeof *items);
        if (!items)
                return EXIT_FAILED;
        for (size_t i = 0; i < run.n; i++)
                items[i] = run.disks[i].wait;
        wait_for_volumes(items, run.n);
        for (size_t i = 0; i < run.n; i++)
                run.disks[i].wait = items[i];
        free(items);

        if (!o->dry_run && (r = run_lock(&run, true)) < 0) {
                log_error("cannot take a lock in %s: %s", LOCK_DIR, strerror(-r));
                return EXIT_FAILED;
        }
        /* Again, under the locks: a disk built meanwhile has its volume. */
        if ((r = run_observe_active(&run)) < 0) {
                log_error("cannot list partwrap's disks: %s", strerror(-r));
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < run.n; i++)
                apply_prepare(&run, &run.disks[i]);

        /* All new devices under one udev cookie, one wait for the batch. */
        bool any = false;
        for (size_t i = 0; i < run.n; i++)
                any = any || run.disks[i].to_create;
        if (any) {
                dm_batch_begin(&batch);
                for (size_t i = 0; i < run.n; i++) {
                        struct disk *d = &run.disks[i];
                        if (!d->to_create)
                                continue;
                        r = dm_batch_create(&batch, d->cfg->name, &d->want, d->cfg->read_only);
                        if (r == -EBUSY) {
                                char users[256] = "held open exclusively";
                                device_users(d->vol.devno, users, sizeof users);
                                disk_fail(d, "%s: in use (%s)", d->vol.devnode, users);
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
        return run_report(&run, "apply");
}

/* stop --------------------------------------------------------------------- */

int cmd_stop(const struct options *o, char **args, int n_args) {
        _cleanup_(run_done) struct run run;
        int r;

        if ((r = run_init(&run, o, args, n_args)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        if (!o->dry_run && (r = run_lock(&run, true)) < 0) {
                log_error("cannot take a lock in %s: %s", LOCK_DIR, strerror(-r));
                return EXIT_FAILED;
        }
        for (size_t i = 0; i < run.n; i++) {
                struct disk *d = &run.disks[i];
                const char *name = d->cfg->name;

                if (observe_dm(d) < 0)
                        continue;
                if (!d->dm.exists) {
                        d->state = DISK_ABSENT;
                        continue;
                }
                if (!d->dm.ours) {
                        disk_fail(d, "/dev/mapper/%s is not partwrap's (DM UUID \"%s\"); not touching it", name, d->dm.uuid);
                        continue;
                }
                char users[256] = "";
                if (d->dm.open_count > 0) {
                        if (device_users(d->dm.devno, users, sizeof users) <= 0)
                                snprintf(users, sizeof users, "open %d time%s", d->dm.open_count,
                                         d->dm.open_count == 1 ? "" : "s");
                        disk_fail(d, "/dev/mapper/%s: in use (%s); stop what uses it first", name, users);
                        continue;
                }
                if (o->dry_run) {
                        d->state = DISK_WOULD_REMOVE;
                        continue;
                }
                fault_point("stop-before-remove");
                r = dm_remove(name);
                fault_point("stop-after-remove");
                if (r == -EBUSY) {
                        if (device_users(d->dm.devno, users, sizeof users) <= 0)
                                snprintf(users, sizeof users, "opened meanwhile");
                        disk_fail(d, "/dev/mapper/%s: in use (%s); stop what uses it first", name, users);
                } else if (r < 0 && r != -ENXIO)
                        disk_fail(d, "/dev/mapper/%s: cannot remove: %s", name, strerror(-r));
                else
                        d->state = r == -ENXIO ? DISK_ABSENT : DISK_REMOVED;
        }
        return run_report(&run, "stop");
}

/* check -------------------------------------------------------------------- */

#define CHECK_CHUNK (64 * 1024)

/* Compares len bytes of the device (O_DIRECT) at dev_off with the file at
 * file_off, CHECK_CHUNK at a time. Returns 0 equal, 1 different, -errno. */
static int compare_range(int dev_fd, uint64_t dev_off, int file_fd, uint64_t file_off, size_t len, void *a, void *b) {
        while (len > 0) {
                size_t n = len < CHECK_CHUNK ? len : CHECK_CHUNK;
                ssize_t x = pread(dev_fd, a, n, (off_t) dev_off);
                if (x < 0)
                        return -errno;
                ssize_t y = pread(file_fd, b, n, (off_t) file_off);
                if (y < 0)
                        return -errno;
                if ((size_t) x != n || (size_t) y != n)
                        return -EIO;
                if (memcmp(a, b, n) != 0)
                        return 1;
                dev_off += n, file_off += n, len -= n;
        }
        return 0;
}

static void check_read_through(struct disk *d) {
        const struct layout *l = &d->plan.layout;
        char dev[DM_NAME_MAX + 16];
        void *a = NULL, *b = NULL;
        _cleanup_close_ int dfd = -EBADF, hfd = -EBADF, vfd = -EBADF;
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
        /* Head and tail read through the dm device equal the header file. */
        r = compare_range(dfd, 0, hfd, 0, layout_head_bytes(l), a, b);
        if (r != 0) {
                disk_check(d, "read", false, "%s: head %s", dev, r < 0 ? strerror(-r) : "differs from the header file");
                goto out;
        }
        if (l->tail_sectors > 0) {
                r = compare_range(dfd, layout_total_bytes(l) - layout_tail_bytes(l), hfd, layout_head_bytes(l),
                                  layout_tail_bytes(l), a, b);
                if (r != 0) {
                        disk_check(d, "read", false, "%s: tail %s", dev, r < 0 ? strerror(-r) : "differs from the header file");
                        goto out;
                }
        }
        /* The first 4 KiB of partition 1 are the first 4 KiB of the volume. */
        vfd = open(d->vol.devnode, O_RDONLY | O_CLOEXEC | O_DIRECT);
        r = vfd < 0 ? -errno : 0;
        if (r == 0 && pread(dfd, a, READ_CHECK_BYTES, (off_t) layout_head_bytes(l)) != READ_CHECK_BYTES)
                r = -EIO;
        if (r == 0 && pread(vfd, b, READ_CHECK_BYTES, 0) != READ_CHECK_BYTES)
                r = -EIO;
        if (r < 0 || memcmp(a, b, READ_CHECK_BYTES) != 0) {
                disk_check(d, "read", false, "%s: partition 1 %s", dev, r < 0 ? strerror(-r) : "does not read the volume");
                goto out;
        }
        disk_check(d, "read", true, "head, tail and the start of partition 1 read back as expected");
out:
        free(a);
        free(b);
}

static void check_disk(const struct run *run, struct disk *d) {
        const struct disk_config *c = d->cfg;
        char a[SIZE_FORMAT_MAX], why[256];
        int r;

        disk_check(d, "config", true, "declared at %s:%u", c->file, c->line);
        if (observe_volume(run, d) < 0) {
                disk_check(d, "volume", false, "%s", d->error);
                if (d->state != DISK_MISSING)
                        d->state = DISK_UNHEALTHY;
                return;
        }
        /* Type and UUID are the filesystem's words, which its guest wrote. */
        char fstype[ESCAPE_MAX(32)], uuid[ESCAPE_MAX(48)];
        str_escape(d->vol.fstype ? d->vol.fstype : "no filesystem", fstype, sizeof fstype);
        str_escape(d->vol.uuid ? d->vol.uuid : "", uuid, sizeof uuid);
        disk_check(d, "volume", true, "%s: %s, %" PRIu32 "-byte sectors, %s%s%s", d->vol.devnode,
                   size_format(d->vol.size_bytes, a, sizeof a), d->vol.sector_size, fstype, *uuid ? " " : "", uuid);

        r = observe_header(run, d);
        if (r < 0)
                disk_check(d, "header", false, "%s", d->error);
        else if (r == 0)
                disk_check(d, "header", false, "%s: missing (apply creates it)", c->header);
        else if (d->verify.n_problems == 0)
                disk_check(d, "header", true, "%s: %s valid, partition 1 = the volume", c->header,
                           c->table == TABLE_GPT ? "GPT" : "MBR");
        else {
                unsigned shown = d->verify.n_problems < VERIFY_MAX_PROBLEMS ? d->verify.n_problems : VERIFY_MAX_PROBLEMS;
                for (unsigned i = 0; i < shown; i++)
                        disk_check(d, "header", false, "%s", d->verify.problems[i]);
                if (d->verify.n_problems > shown)
                        disk_check(d, "header", false, "%u more problems", d->verify.n_problems - shown);
                disk_check(d, "header", d->verify.maps_volume,
                           d->verify.maps_volume ? "partition 1 still maps the volume exactly"
                                                 : "partition 1 does NOT map the volume");
        }

        if (observe_dm(d) < 0) {
                disk_check(d, "dm", false, "%s", d->error);
        } else if (!d->dm.exists) {
                disk_check(d, "dm", false, "/dev/mapper/%s: not active (partwrap apply creates it)", c->name);
        } else if (!d->dm.ours) {
                disk_check(d, "dm", false, "/dev/mapper/%s is not partwrap's (DM UUID \"%s\")", c->name, d->dm.uuid);
        } else {
                struct loop_dev l;
                r = live_loop(d, &l);
                if (r > 0)
                        disk_check(d, "loop", true, "%s bound to %s", l.path, c->header);
                else
                        disk_check(d, "loop", false, "no loop device bound to %s feeds the head", c->header);
                if (dm_matches(d, why, sizeof why)) {
                        disk_check(d, "dm", true, "/dev/mapper/%s active, table as declared", c->name);
                        if (r > 0 && d->header && d->header_len == d->plan.layout.header_bytes)
                                check_read_through(d);
                } else
                        disk_check(d, "dm", false, "/dev/mapper/%s %s", c->name, why);
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

        if ((r = run_init(&run, o, args, n_args)) < 0) {
                log_error("%s", strerror(-r));
                return EXIT_FAILED;
        }
        /* Shared: a check never sees a disk half-built by an apply. Without
         * /run/partwrap writable (an unprivileged look), check goes on unlocked. */
        if (run_lock(&run, false) < 0)
                log_debug("checking without locks");
        for (size_t i = 0; i < run.n; i++) {
                struct disk *d = &run.disks[i];
                /* check reports what is there now; it does not wait. */
                d->wait.result = probe_resolve(d->cfg->volume, &d->exclude, &d->wait.path);
                check_disk(&run, d);
        }
        return run_report(&run, "check");
}
