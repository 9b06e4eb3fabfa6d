/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device-mapper through libdevmapper. libdevmapper reports 1/0 and keeps the
 * ioctl's errno in the task (dm_task_get_errno); this file turns that into
 * -errno and keeps libdevmapper's own messages at debug level, so that the
 * caller prints the one message that names the disk.
 *
 * udev: one cookie per batch. Every task that makes the kernel send a uevent
 * (RESUME, REMOVE) carries it; udev's 95-dm-notify.rules decrement it per
 * event; dm_batch_end() waits once for zero, on every path, which also
 * destroys the System V semaphore behind the cookie. Without udev,
 * libdevmapper creates and removes the /dev/mapper nodes itself, and does so
 * in that same wait call (update_devs()). */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"
#include "fault.h"
#include "util.h"

static_assert(sizeof(DM_UUID_PREFIX) - 1 + DM_PARTWRAP_NAME_MAX < DM_UUID_LEN, "uuid must fit");
static_assert(DM_PARTWRAP_NAME_MAX < DM_NAME_LEN, "name must fit");

unsigned dm_udev_waits;

static void dm_task_destroyp(struct dm_task **t) {
        if (*t)
                dm_task_destroy(*t);
}

/* libdevmapper prints errors to stderr by default; partwrap's callers print
 * one message with the disk's name instead, so everything from the library
 * becomes debug output (-v). */
_printf_(5, 6)
static void dm_log_forward(int level, const char *file, int line, int dm_errno_or_class, const char *f, ...) {
        va_list ap;
        char *msg = NULL;

        (void) level, (void) file, (void) line, (void) dm_errno_or_class;
        if (log_max_level < LOG_DEBUG)
                return;
        int saved = errno;
        va_start(ap, f);
        if (vasprintf(&msg, f, ap) >= 0) {
                log_debug("libdevmapper: %s", msg);
                free(msg);
        }
        va_end(ap);
        errno = saved;
}

static void dm_init_once(void) {
        static bool done;

        if (done)
                return;
        done = true;
        dm_log_with_errno_init(dm_log_forward);
}

/* Is the device-mapper driver in the kernel? libdevmapper would mknod
 * /dev/mapper/control and open it, and that open makes the kernel load
 * dm-mod through the misc device's module alias (char-major-10-236). Loading
 * modules is the system's business (modules-load.d, or LVM having done it
 * long before: the volumes are LVM volumes), so look first: a loaded driver
 * registers the misc device "device-mapper" (dm-ioctl.c, _dm_misc).
 * Returns: 0, or -ENODEV. Without sysfs there is no way to tell: 0. */
static int dm_driver_check(void) {
        /* Once there, it stays: libdevmapper holds /dev/mapper/control
         * open from the first ioctl on, so the module cannot go. */
        static bool present;

        if (present)
                return 0;
        if (access("/sys/class/misc/device-mapper", F_OK) == 0) {
                present = true;
                return 0;
        }
        if (access("/sys/class/misc", F_OK) == 0)
                return -ENODEV;
        return 0;
}

/* errno of the task's last ioctl; libdevmapper failures before the ioctl
 * (bad arguments, memory) leave it 0. */
static int task_errno(struct dm_task *t) {
        int e = dm_task_get_errno(t);
        return e > 0 ? -e : -EIO;
}

static int name_check(const char *name) {
        if (!name || !*name)
                return -EINVAL;
        if (strlen(name) > DM_PARTWRAP_NAME_MAX)
                return -ENAMETOOLONG;
        if (strchr(name, '/'))
                return -EINVAL; /* the kernel's check_name() */
        return 0;
}

/* The start of every operation on one named device: a valid name, the
 * library set up, the driver present. Returns 0, -EINVAL, -ENAMETOOLONG,
 * or -ENXIO when the kernel has no device-mapper (so no device can exist). */
static int dm_name_begin(const char *name) {
        int r = name_check(name);

        if (r < 0)
                return r;
        dm_init_once();
        return dm_driver_check() < 0 ? -ENXIO : 0;
}

/* The dm udev rules are what decrements the cookie: waiting without them
 * blocks forever. udev reads /etc, then /run, then /usr/lib
 * (/lib); a file higher up, /dev/null or empty, masks the stock one. */
static bool dm_udev_rules_installed(void) {
        static const char *const dirs[] = {
                "/etc/udev/rules.d", "/run/udev/rules.d", "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
        };
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                char p[128];
                struct stat st;

                snprintf(p, sizeof(p), "%s/95-dm-notify.rules", dirs[i]);
                if (stat(p, &st) < 0)
                        continue;
                return S_ISREG(st.st_mode) && st.st_size > 0;
        }
        return false;
}

/* Synchronise with udev only when it can answer:
 * - dm_udev_get_sync_support(): libdevmapper built with udev sync, System V
 *   semaphores available, DM_DISABLE_UDEV unset, and udevd running (libudev's
 *   udev_queue_get_udev_is_active(), i.e. /run/udev/control exists);
 * - the dm rules that complete the cookie are installed;
 * - not inside a udev worker (RUN/IMPORT{program} get DEVPATH, ACTION and
 *   SEQNUM): udev would not process our events until we return. */
static bool dm_udev_sync_wanted(void) {
        if (!dm_udev_get_sync_support())
                return false;
        if (getenv("DEVPATH") && getenv("ACTION") && getenv("SEQNUM")) {
                log_debug("running inside a udev worker: not waiting for udev");
                return false;
        }
        if (!dm_udev_rules_installed()) {
                log_debug("95-dm-notify.rules not installed: not waiting for udev");
                return false;
        }
        return true;
}

static uint16_t dm_udev_flags(const struct dm_batch *b) {
        /* A partwrap disk is its guest's: the host must never look inside.
         * As LVM does for its private devices, the udev rules are told to
         * leave it alone: 13-dm-disk.rules runs no blkid on it and makes no
         * /dev/disk/by-uuid or by-label link (a guest could otherwise
         * claim any UUID or label), and the other rules (LVM's pvscan,
         * mdadm, multipath, systemd's device units, partwrap's own) skip
         * it. 10-dm.rules still makes /dev/mapper/NAME, which libvirt and
         * the guest need; a "change" event without a cookie keeps these
         * flags from udev's database. */
        uint16_t flags = DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG | DM_UDEV_DISABLE_DISK_RULES_FLAG |
                         DM_UDEV_DISABLE_OTHER_RULES_FLAG;

        /* With udev the rules make the nodes; libdevmapper making them too
         * would race with udev. Without udev the library must. */
        return flags | (b->udev_sync ? DM_UDEV_DISABLE_LIBRARY_FALLBACK : 0);
}

void dm_batch_begin(struct dm_batch *b) {
        dm_init_once();
        *b = (struct dm_batch) {};

        /* Not even the udev checks without the driver:
         * dm_udev_get_sync_support() asks dm_cookie_supported(), which runs
         * a VERSION ioctl, which opens /dev/mapper/control, which loads
         * dm-mod. Creation then fails with -ENODEV; the batch's wait on
         * cookie 0 touches nothing. */
        if (dm_driver_check() < 0)
                return;

        b->udev_sync = dm_udev_sync_wanted();
        if (!b->udev_sync) {
                /* Process-wide: libdevmapper then queues node operations
                 * and performs them in dm_udev_wait(). */
                dm_udev_set_sync_support(0);
                return;
        }
        /* On failure (semaphore limits) the cookie stays 0 and the first
         * dm_task_set_cookie() tries to create one itself. */
        if (!dm_udev_create_cookie(&b->cookie)) {
                log_debug("dm_udev_create_cookie failed");
                b->cookie = 0;
        }
}

/* Attaches the batch cookie to a task that will make the kernel send a
 * uevent. libdevmapper balances the count itself when the ioctl fails or
 * the kernel reports that no uevent was sent (DM_UEVENT_GENERATED_FLAG). */
static int task_set_cookie(struct dm_batch *b, struct dm_task *t) {
        errno = 0;
        if (!dm_task_set_cookie(t, &b->cookie, dm_udev_flags(b)))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* Takes back a device this batch created and could not finish. */
static void batch_revert(struct dm_batch *b, const char *name) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = NULL;

        t = dm_task_create(DM_DEVICE_REMOVE);
        if (!t || !dm_task_set_name(t, name) || task_set_cookie(b, t) < 0 || !dm_task_run(t))
                log_debug("%s: could not remove the half-created device", name);
}

/* The one place a table becomes strings: the kernel's linear target takes
 * "MAJ:MIN OFFSET" (dm-linear.c linear_ctr), and prints it back the same
 * way (linear_status), which dm_get_state() parses. */
static int task_add_targets(struct dm_task *t, const struct dm_table *table) {
        for (size_t i = 0; i < table->n; i++) {
                const struct dm_target *x = &table->t[i];
                char params[64];

                if (x->dev == 0)
                        return -EINVAL; /* a table on paper */
                snprintf(params, sizeof params, "%u:%u %" PRIu64, major(x->dev), minor(x->dev), x->offset);
                if (!dm_task_add_target(t, x->start, x->length, "linear", params))
                        return -ENOMEM;
        }
        return 0;
}

/* CREATE, RELOAD and RESUME as three tasks, which is what libdevmapper's
 * CREATE-with-targets does internally (_create_and_load_v4). Done here so
 * that each failure keeps its own errno: up to libdevmapper 1.02.196 the
 * combined task loses it (dm_task_get_errno() returns 0 or the revert's
 * errno), and the kernel says EBUSY both for "name already in use" (CREATE,
 * dm_hash_insert) and for "a target device is held exclusively" (RELOAD,
 * dm_get_device on e.g. a mounted volume), which only the step tells apart. */
int dm_batch_create(struct dm_batch *b, const char *name, const struct dm_table *table, bool read_only) {
        _cleanup_(dm_task_destroyp) struct dm_task *create = NULL, *load = NULL, *resume = NULL;
        char uuid[DM_UUID_LEN];
        int r;

        if (!b || !table || table->n == 0)
                return -EINVAL;
        r = name_check(name);
        if (r < 0)
                return r;
        snprintf(uuid, sizeof(uuid), "%s%s", DM_UUID_PREFIX, name);
        r = dm_driver_check();
        if (r < 0)
                return r;

        /* 1. An empty device: no table, no uevent, so no cookie. */
        create = dm_task_create(DM_DEVICE_CREATE);
        if (!create)
                return -ENOMEM;
        if (!dm_task_set_name(create, name) || !dm_task_set_uuid(create, uuid) ||
            !dm_task_set_add_node(create, DM_ADD_NODE_ON_RESUME))
                return -EINVAL;
        if (!dm_task_run(create)) {
                r = task_errno(create);
                return r == -EBUSY ? -EEXIST : r; /* name or uuid in use */
        }

        /* 2. The table, into the inactive slot. Target devices are opened
         * here: EBUSY if one is claimed exclusively, EINVAL if a segment
         * runs past its device's end ("too small for target"). */
        load = dm_task_create(DM_DEVICE_RELOAD);
        if (!load) {
                r = -ENOMEM;
                goto revert;
        }
        if (!dm_task_set_name(load, name) || (read_only && !dm_task_set_ro(load))) {
                r = -EINVAL;
                goto revert;
        }
        r = task_add_targets(load, table);
        if (r < 0)
                goto revert;
        if (!dm_task_run(load)) {
                r = task_errno(load);
                goto revert;
        }

        /* 3. Resume makes the table live, and the kernel sends the uevent
         * udev builds /dev/mapper/NAME from (or libdevmapper does). */
        resume = dm_task_create(DM_DEVICE_RESUME);
        if (!resume) {
                r = -ENOMEM;
                goto revert;
        }
        if (!dm_task_set_name(resume, name)) {
                r = -EINVAL;
                goto revert;
        }
        r = task_set_cookie(b, resume);
        if (r < 0)
                goto revert;
        if (!dm_task_run(resume)) {
                r = task_errno(resume);
                goto revert;
        }
        return 0;

revert:
        log_debug("%s: create failed (%s), removing it again", name, strerror(-r));
        batch_revert(b, name);
        return r;
}

int dm_batch_end(struct dm_batch *b) {
        int r = 0;

        /* Exactly once per batch, with or without tasks, after failures too:
         * a cookie never waited for is a leaked semaphore (dmsetup
         * udevcookies), and without udev this call is also where
         * libdevmapper creates and removes the nodes it queued. */
        dm_udev_waits++;
        if (!dm_udev_wait(b->cookie))
                r = -EIO;
        b->cookie = 0;
        return r;
}

int dm_remove(const char *name) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = NULL;
        struct dm_batch b;
        int r;

        r = dm_name_begin(name);
        if (r < 0)
                return r;

        dm_batch_begin(&b);
        t = dm_task_create(DM_DEVICE_REMOVE);
        if (!t)
                r = -ENOMEM;
        else if (!dm_task_set_name(t, name))
                r = -EINVAL;
        else {
                /* Retry EBUSY for a while (25 x 200 ms in libdevmapper): a
                 * udev worker running blkid on the device right after a
                 * change holds it open briefly. A device that is really
                 * open (a running VM) still fails, after those 5 s. */
                (void) dm_task_retry_remove(t);
                r = task_set_cookie(&b, t);
                if (r >= 0 && !dm_task_run(t))
                        r = task_errno(t); /* EBUSY: open; ENXIO: no such device */
        }
        int q = dm_batch_end(&b);
        return r < 0 ? r : q;
}

/* A linear target's parameters as the kernel prints them. */
static int parse_linear(const char *params, struct dm_target *t) {
        unsigned maj, min;
        uint64_t offset;
        int n = 0;

        if (!params || sscanf(params, "%u:%u %" SCNu64 "%n", &maj, &min, &offset, &n) != 3 || params[n] != '\0')
                return -EINVAL;
        t->dev = makedev(maj, min);
        t->offset = offset;
        return 0;
}

/* The live table of a TABLE task, typed. Returns 0, or -ENOMEM. */
static int table_read(struct dm_task *t, struct dm_state *s) {
        void *next = NULL;

        do {
                uint64_t start, length;
                char *type = NULL, *params = NULL;
                struct dm_target x = {};

                next = dm_get_next_target(t, next, &start, &length, &type, &params);
                if (!type)
                        continue;
                if (!streq(type, "linear") || parse_linear(params, &x) < 0) {
                        s->foreign_target = true;
                        continue;
                }
                struct dm_target *n = reallocarray(s->table.t, s->table.n + 1, sizeof *n);
                if (!n)
                        return -ENOMEM;
                s->table.t = n;
                x.start = start;
                x.length = length;
                n[s->table.n++] = x;
        } while (next);
        return 0;
}

int dm_get_state(const char *name, struct dm_state *ret) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = NULL;
        _cleanup_(dm_state_done) struct dm_state s = {};
        struct dm_info info;
        int r;

        if (!ret)
                return -EINVAL;
        r = dm_name_begin(name);
        if (r == -ENXIO) {
                *ret = (struct dm_state) {}; /* no driver, no device */
                return 0;
        }
        if (r < 0)
                return r;

        /* One ioctl: DM_TABLE_STATUS returns the device's status (as INFO
         * does) with its live table, both from the same moment. A missing
         * device is ENXIO (INFO would say exists = 0 instead); a device
         * without a live table returns no targets. */
        t = dm_task_create(DM_DEVICE_TABLE);
        if (!t)
                return -ENOMEM;
        if (!dm_task_set_name(t, name))
                return -EINVAL;
        if (!dm_task_run(t)) {
                r = task_errno(t);
                if (r == -ENXIO) {
                        *ret = (struct dm_state) {};
                        return 0;
                }
                return r;
        }
        if (!dm_task_get_info(t, &info))
                return -EIO;
        if (!info.exists) {
                *ret = (struct dm_state) {};
                return 0;
        }
        if (info.live_table) {
                r = table_read(t, &s);
                if (r < 0)
                        return r;
        }
        const char *uuid = dm_task_get_uuid(t);
        snprintf(s.uuid, sizeof(s.uuid), "%s", uuid ? uuid : "");
        s.exists = true;
        /* Exactly "PARTWRAP-NAME": a device named NAME with another disk's
         * uuid is not this disk, whoever made it. */
        s.ours = strncmp(s.uuid, DM_UUID_PREFIX, strlen(DM_UUID_PREFIX)) == 0 &&
                 streq(s.uuid + strlen(DM_UUID_PREFIX), name);
        s.active = info.live_table;
        s.suspended = info.suspended;
        s.read_only = info.read_only;
        s.open_count = info.open_count;
        s.devno = makedev(info.major, info.minor);
        *ret = s;
        s = (struct dm_state) {};
        return 0;
}

int dm_list(struct dm_listed **ret) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = NULL;
        _cleanup_free_ struct dm_listed *list = NULL;
        struct dm_names *names;
        unsigned next = 0;
        int n = 0;

        *ret = NULL;
        dm_init_once();
        if (dm_driver_check() < 0)
                return 0;
        if (!(t = dm_task_create(DM_DEVICE_LIST)))
                return -ENOMEM;
        if (!dm_task_run(t))
                return task_errno(t);
        if (!(names = dm_task_get_names(t)))
                return -EIO;
        if (names->dev == 0)
                return 0; /* no devices */
        do {
                names = (struct dm_names *) ((char *) names + next);
                struct dm_listed *l = reallocarray(list, (size_t) n + 1, sizeof *l);
                if (!l)
                        return -ENOMEM;
                list = l;
                snprintf(list[n].name, sizeof list[n].name, "%s", names->name);
                list[n].devno = makedev(major(names->dev), minor(names->dev));
                n++;
                next = names->next;
        } while (next);
        *ret = TAKE_PTR(list);
        return n;
}

/* Drops a table loaded into the inactive slot (DM_TABLE_CLEAR). */
static void clear_inactive(const char *name) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = dm_task_create(DM_DEVICE_CLEAR);

        if (!t || !dm_task_set_name(t, name) || !dm_task_run(t))
                log_debug("%s: could not clear the inactive table", name);
}

/* RESUME under the batch cookie. Returns 0, or -errno. */
static int batch_resume(struct dm_batch *b, const char *name) {
        _cleanup_(dm_task_destroyp) struct dm_task *t = dm_task_create(DM_DEVICE_RESUME);
        int r;

        if (!t)
                return -ENOMEM;
        if (!dm_task_set_name(t, name))
                return -EINVAL;
        r = task_set_cookie(b, t);
        if (r < 0)
                return r;
        return dm_task_run(t) ? 0 : task_errno(t);
}

int dm_table_swap(const char *name, const struct dm_table *table, bool read_only, int (*suspended)(void *userdata),
                  void *userdata) {
        _cleanup_(dm_task_destroyp) struct dm_task *load = NULL, *suspend = NULL;
        struct dm_batch b;
        int r, q;

        if (!table || table->n == 0)
                return -EINVAL;
        r = dm_name_begin(name);
        if (r < 0)
                return r;

        /* 1. The new table into the inactive slot; its devices are opened
         * here, so a bad table fails before the guest notices anything. */
        load = dm_task_create(DM_DEVICE_RELOAD);
        if (!load)
                return -ENOMEM;
        if (!dm_task_set_name(load, name) || (read_only && !dm_task_set_ro(load)))
                return -EINVAL;
        r = task_add_targets(load, table);
        if (r < 0)
                return r;
        if (!dm_task_run(load))
                return task_errno(load);
        fault_point("swap-loaded");

        /* 2. Suspend: in-flight I/O completes, new I/O waits. No uevent. */
        suspend = dm_task_create(DM_DEVICE_SUSPEND);
        if (!suspend || !dm_task_set_name(suspend, name) || !dm_task_run(suspend)) {
                r = suspend ? task_errno(suspend) : -ENOMEM;
                clear_inactive(name);
                return r;
        }

        /* 2b. The caller's look at the world while no I/O reaches the
         * device: a refusal keeps the old table. */
        r = suspended ? suspended(userdata) : 0;
        if (r != 0) {
                clear_inactive(name);
                dm_batch_begin(&b);
                if (batch_resume(&b, name) < 0)
                        log_debug("%s: could not resume the old table", name);
                (void) dm_batch_end(&b);
                return r;
        }

        /* 3. Resume swaps in the new table; the kernel's change uevent
         * carries the cookie and the flags that keep the host's udev rules
         * away, as at creation. The kernel checks the new table's devices
         * against their sizes only when it binds it, here
         * (dm_calculate_queue_limits(): "too small for target"): then the
         * new table is dropped and the old one resumed. */
        dm_batch_begin(&b);
        r = batch_resume(&b, name);
        if (r < 0) {
                log_debug("%s: resuming with the new table failed (%s), going back to the old one", name, strerror(-r));
                clear_inactive(name);
                if (batch_resume(&b, name) < 0)
                        log_debug("%s: could not resume the old table either", name);
        }
        q = dm_batch_end(&b);
        return r < 0 ? r : q;
}

int dm_resume_old(const char *name) {
        struct dm_batch b;
        int r, q;

        clear_inactive(name);
        dm_batch_begin(&b);
        r = batch_resume(&b, name);
        q = dm_batch_end(&b);
        return r < 0 ? r : q;
}

void dm_table_done(struct dm_table *t) {
        free(t->t);
        *t = (struct dm_table) {};
}

void dm_state_done(struct dm_state *s) {
        dm_table_done(&s->table);
}

bool dm_table_equal(const struct dm_table *a, const struct dm_table *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->t[i].start != b->t[i].start || a->t[i].length != b->t[i].length || a->t[i].dev != b->t[i].dev ||
                    a->t[i].offset != b->t[i].offset)
                        return false;
        return true;
}
