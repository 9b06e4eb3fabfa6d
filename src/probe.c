/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volumes through libblkid. partwrap never writes to a volume: every open
 * here is O_RDONLY, and libblkid only reads through the fd it is given. */

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"
#include "util.h"

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

int probe_resolve(const char *spec, char **ret_path) {
        _cleanup_free_ char *path = NULL;

        if (!spec || !*spec || !ret_path)
                return -EINVAL;

        if (spec[0] == '/') {
                /* realpath: /dev/vg/lv -> /dev/dm-3, the node that sysfs and
                 * the kernel's messages name. */
                path = realpath(spec, NULL);
                if (!path)
                        return -errno;
        } else if (strncmp(spec, "UUID=", 5) == 0 || strncmp(spec, "LABEL=", 6) == 0) {
                /* blkid_evaluate_spec strips quotes, then asks the methods
                 * of /etc/blkid.conf EVALUATE= (default: udev's
                 * /dev/disk/by-* links, then a scan through blkid's cache).
                 * It cannot say why it found nothing; only ENOMEM is worth
                 * telling apart from "no such device". */
                errno = 0;
                _cleanup_free_ char *dev = blkid_evaluate_spec(spec, NULL);
                if (!dev)
                        return errno == ENOMEM ? -ENOMEM : -ENOENT;
                path = realpath(dev, NULL);
                if (!path)
                        return -errno;
        } else
                return -EINVAL;

        *ret_path = TAKE_PTR(path);
        return 0;
}

/* Copies a probe value, or leaves *ret NULL when libblkid has none. */
static int lookup_dup(blkid_probe pr, const char *name, char **ret) {
        const char *data = NULL;

        if (blkid_probe_lookup_value(pr, name, &data, NULL) < 0 || !data)
                return 0;
        *ret = strdup(data);
        return *ret ? 0 : -ENOMEM;
}

int probe_volume(const char *path, struct volume_info *ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_(volume_info_free) struct volume_info v = {};
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        uint64_t size;
        int ssz, r;

        if (!path || !ret)
                return -EINVAL;

        /* O_RDONLY: the only way partwrap ever opens a volume. No O_EXCL:
         * that would claim the device and fail while it is mounted.
         * O_NONBLOCK: do not wait for removable media. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;

        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return -errno;
        if (ioctl(fd, BLKSSZGET, &ssz) < 0)
                return -errno;
        if (ssz <= 0)
                return -EIO;
        int ro = 0;
        if (ioctl(fd, BLKROGET, &ro) < 0)
                return -errno;

        v.devnode = realpath(path, NULL);
        if (!v.devnode)
                return -errno;
        v.devno = st.st_rdev;
        v.size_bytes = size;
        v.sector_size = (uint32_t) ssz;
        v.read_only = ro != 0;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;

        if (blkid_probe_enable_superblocks(pr, 1) < 0 ||
            blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL) < 0 ||
            blkid_probe_enable_partitions(pr, 1) < 0 ||
            blkid_probe_set_partitions_flags(pr, 0) < 0)
                return -ENOMEM;

        /* Safe probe: a volume with two filesystem signatures (say a fresh
         * NTFS over an old ext4 superblock) is "ambivalent" (-2) rather than
         * whichever signature happens to be tried first. */
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                v.ambivalent = true;
                log_debug("%s: libblkid found more than one signature", v.devnode);
        } else if (r < 0)
                return errno > 0 ? -errno : -EIO;
        else if (r == 0) {
                if ((r = lookup_dup(pr, "TYPE", &v.fstype)) < 0 ||
                    (r = lookup_dup(pr, "UUID", &v.uuid)) < 0 ||
                    (r = lookup_dup(pr, "LABEL", &v.label)) < 0 ||
                    (r = lookup_dup(pr, "PTTYPE", &v.pttype)) < 0)
                        return r;
        }

        *ret = v;
        v = (struct volume_info) {};
        return 0;
}

void volume_info_free(struct volume_info *v) {
        if (!v)
                return;
        free(v->devnode);
        free(v->fstype);
        free(v->uuid);
        free(v->label);
        free(v->pttype);
        *v = (struct volume_info) {};
}
