/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dm.h"
#include "stack.h"
#include "util.h"

/* Deeper stacks than this are not built by anyone sane; give up there
 * rather than loop on a cycle sysfs should never show. */
#define STACK_DEPTH_MAX 16

static int sysfs_attr(dev_t devno, const char *attr, char *buf, size_t len) {
        char p[128];

        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/%s", major(devno), minor(devno), attr);
        return read_first_line(p, buf, len);
}

static int parse_devno(const char *s, dev_t *ret) {
        unsigned maj, min;
        int n = 0;

        if (sscanf(s, "%u:%u%n", &maj, &min, &n) != 2 || s[n] != '\0')
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}

/* The device number of /sys/class/block/NAME. */
static int class_devno(const char *name, dev_t *ret) {
        char p[PATH_MAX], buf[32];

        snprintf(p, sizeof p, "/sys/class/block/%s/dev", name);
        if (read_first_line(p, buf, sizeof buf) < 0)
                return -ENOENT;
        return parse_devno(buf, ret);
}

/* One of partwrap's disks, by its DM UUID. */
static bool partwrap_dm(dev_t devno, char *name, size_t len) {
        char uuid[160];

        if (sysfs_attr(devno, "dm/uuid", uuid, sizeof uuid) < 0 ||
            strncmp(uuid, DM_UUID_PREFIX, strlen(DM_UUID_PREFIX)) != 0)
                return false;
        snprintf(name, len, "%s", uuid + strlen(DM_UUID_PREFIX));
        return true;
}

static const struct stack_disk *known;
static size_t n_known;

void stack_use_list(const struct stack_disk *list, size_t n) {
        known = list;
        n_known = list ? n : 0;
}

/* The listed disk h, or NULL. */
static const struct stack_disk *known_disk(dev_t h) {
        for (size_t i = 0; i < n_known; i++)
                if (known[i].disk == h)
                        return &known[i];
        return NULL;
}

/* The number of holder NAME: a device-mapper device is "dm-MINOR" under
 * device-mapper's major (the kernel names them so), which every listed
 * disk has; else sysfs says. */
static int holder_devno(const char *name, dev_t *ret) {
        unsigned minor;
        int n = 0;

        if (n_known > 0 && sscanf(name, "dm-%u%n", &minor, &n) == 1 && name[n] == '\0') {
                *ret = makedev(major(known[0].disk), minor);
                return 0;
        }
        return class_devno(name, ret);
}

/* Whether a partwrap disk among devno's holders reads its header file from
 * devno: the device of its first target, the head (dmtable_build()), which
 * also serves the gaps and the tail. */
static bool header_device(dev_t devno, char *name, size_t len) {
        char p[64];
        struct dirent *de;

        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/holders", major(devno), minor(devno));
        _cleanup_(closedirp) DIR *d = opendir(p);
        while (d && (de = readdir(d))) {
                _cleanup_(dm_state_done) struct dm_state s = {};
                dev_t h;
                if (de->d_name[0] == '.' || holder_devno(de->d_name, &h) < 0)
                        continue;
                /* A disk listed under the locks: its name and head are known. */
                const struct stack_disk *e = known_disk(h);
                if (e) {
                        if (e->head != devno)
                                continue;
                        snprintf(name, len, "%s", e->name);
                        return true;
                }
                if (!partwrap_dm(h, name, len) || dm_get_state(name, &s) < 0)
                        continue;
                if (s.table.n > 0 && s.table.t[0].dev == devno)
                        return true;
        }
        return false;
}

static int stacked(dev_t devno, char *name, size_t len, unsigned depth) {
        char p[64], buf[PATH_MAX];
        struct dirent *de;
        struct stat st;
        dev_t below;

        if (depth > STACK_DEPTH_MAX)
                return 0;
        if (partwrap_dm(devno, name, len) || header_device(devno, name, len))
                return 1;
        /* A partition: its disk is one directory up. */
        if (sysfs_attr(devno, "partition", buf, sizeof buf) == 0 && sysfs_attr(devno, "../dev", buf, sizeof buf) == 0 &&
            parse_devno(buf, &below) == 0 && stacked(below, name, len, depth + 1) > 0)
                return 1;
        /* A loop device over a block device (a loop over a header file
         * that is no disk's is root's own doing). */
        if (sysfs_attr(devno, "loop/backing_file", buf, sizeof buf) == 0)
                /* A loop has no slaves: its backing file is all below it. */
                return stat(buf, &st) == 0 && S_ISBLK(st.st_mode) && stacked(st.st_rdev, name, len, depth + 1) > 0;
        /* Device-mapper, md and the like over other devices. */
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/slaves", major(devno), minor(devno));
        _cleanup_(closedirp) DIR *d = opendir(p);
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && class_devno(de->d_name, &below) == 0 && stacked(below, name, len, depth + 1) > 0)
                        return 1;
        return 0;
}

int stack_partwrap_disk(dev_t devno, char *ret_name, size_t len) {
        char name[160];
        int r = stacked(devno, name, sizeof name, 0);

        if (r > 0 && ret_name)
                snprintf(ret_name, len, "%s", name);
        return r;
}

int stack_list_disks(struct stack_disk **ret, stack_seen_fn *seen, void *userdata) {
        _cleanup_free_ struct dm_listed *dms = NULL;
        _cleanup_free_ struct stack_disk *list = NULL;
        int n = 0, m;

        *ret = NULL;
        /* One ioctl for every device's name and number, then one for each
         * device's status and table (its uuid says whether it is ours). */
        m = dm_list(&dms);
        if (m < 0)
                return m;
        for (int j = 0; j < m; j++) {
                _cleanup_(dm_state_done) struct dm_state s = {};
                struct stack_disk x = { .disk = dms[j].devno };
                snprintf(x.name, sizeof x.name, "%s", dms[j].name);
                if (dm_get_state(x.name, &s) < 0)
                        continue;
                /* Every target not read from the header device is a volume. */
                bool listed = s.ours && s.devno == x.disk && s.table.n >= 2;
                x.head = listed ? s.table.t[0].dev : 0;
                for (size_t i = 1; listed && i < s.table.n; i++) {
                        if (s.table.t[i].dev == x.head)
                                continue;
                        x.volume = s.table.t[i].dev;
                        x.partition++;
                        struct stack_disk *l = reallocarray(list, (size_t) n + 1, sizeof *l);
                        if (!l)
                                return -ENOMEM;
                        list = l;
                        list[n++] = x;
                }
                if (seen)
                        seen(x.name, &s, userdata);
        }
        *ret = TAKE_PTR(list);
        return n;
}
