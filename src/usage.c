/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "usage.h"
#include "util.h"

static int find_mount(dev_t devno, char *buf, size_t len) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return -errno;
        /* "36 35 98:0 /mnt1 /mnt2 ...": field 3 is MAJ:MIN, field 5 the mount point. */
        while (fgets(line, sizeof line, f)) {
                unsigned maj, min;
                char where[2048];
                if (sscanf(line, "%*u %*u %u:%u %*s %2047s", &maj, &min, where) == 3 &&
                    makedev(maj, min) == devno) {
                        snprintf(buf, len, "mounted at %s", where);
                        return 1;
                }
        }
        return 0;
}

static int find_swap(dev_t devno, char *buf, size_t len) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/swaps", "re");
        char line[1024], path[1024];
        struct stat st;

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "%1023s", path) == 1 && stat(path, &st) == 0 && S_ISBLK(st.st_mode) &&
                    st.st_rdev == devno) {
                        snprintf(buf, len, "in use as swap");
                        return 1;
                }
        return 0;
}

static int find_holder(dev_t devno, char *buf, size_t len) {
        char path[128];

        snprintf(path, sizeof path, "/sys/dev/block/%u:%u/holders", major(devno), minor(devno));
        _cleanup_(closedirp) DIR *d = opendir(path);
        if (!d)
                return 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char dm_name[128] = "", p[512];
                snprintf(p, sizeof p, "/sys/class/block/%s/dm/name", de->d_name);
                read_first_line(p, dm_name, sizeof dm_name);
                if (*dm_name)
                        snprintf(buf, len, "held by %s (/dev/mapper/%s)", de->d_name, dm_name);
                else
                        snprintf(buf, len, "held by %s", de->d_name);
                r = 1;
                break;
        }
        return r;
}

/* A loop device over a block device does not show in its holders; its
 * backing_file names the device. */
static int find_loop(dev_t devno, char *buf, size_t len) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        struct dirent *de;
        int r = 0;

        if (!d)
                return 0;
        while (r == 0 && (de = readdir(d))) {
                char p[300], backing[PATH_MAX] = "";
                struct stat st;

                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(p, sizeof p, "/sys/block/%s/loop/backing_file", de->d_name);
                if (read_first_line(p, backing, sizeof backing) < 0)
                        continue;
                if (stat(backing, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno) {
                        snprintf(buf, len, "attached to /dev/%s", de->d_name);
                        r = 1;
                }
        }
        return r;
}

int device_users(dev_t devno, char *buf, size_t len) {
        int r = find_mount(devno, buf, len);
        if (r == 0)
                r = find_swap(devno, buf, len);
        if (r == 0)
                r = find_holder(devno, buf, len);
        if (r == 0)
                r = find_loop(devno, buf, len);
        return r;
}

int device_is_free(const char *path) {
        /* On a block device O_EXCL claims it as mount and device-mapper do,
         * so it fails with EBUSY exactly when they would. Read-only, so the
         * close causes no udev "change" event. */
        int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == EBUSY ? 0 : -errno;
        close(fd);
        return 1;
}
