/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volumes through libblkid. partwrap never writes to a volume: every open
 * here is O_RDONLY, and libblkid only reads through the fd it is given. */

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"
#include "stack.h"
#include "udev-util.h"
#include "util.h"

static void blkid_free_probep(blkid_probe *p) {
        if (*p)
                blkid_free_probe(*p);
}

/* An attribute of /sys/class/block/NAME, or "". */
static void sysfs_block_attr(const char *name, const char *attr, char *buf, size_t len) {
        char p[PATH_MAX];

        snprintf(p, sizeof p, "/sys/class/block/%s/%s", name, attr);
        read_first_line(p, buf, len);
}

/* Reads TAG (UUID or LABEL) of one device's filesystem, or NULL. */
static char *probe_tag(const char *devnode, const char *tag) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_close_ int fd = open(devnode, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        const char *data = NULL;

        if (fd < 0 || !(pr = blkid_new_probe()) || blkid_probe_set_device(pr, fd, 0, 0) < 0 ||
            blkid_probe_enable_superblocks(pr, 1) < 0 ||
            blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL) < 0 ||
            blkid_do_safeprobe(pr) != 0 || blkid_probe_lookup_value(pr, tag, &data, NULL) < 0 || !data)
                return NULL;
        return strdup(data);
}

enum candidate { CANDIDATE_NO, CANDIDATE_OTHER_DISK, CANDIDATE_YES };

/* Whether a device carrying the tag may be the volume. Not when it is
 * part of one of partwrap's disks: what a guest wrote in its head (a
 * filesystem superblock at 64 KiB is out of its partition's way) must not
 * make partwrap build another disk on it, or refuse one. Only as a last
 * resort when it is another disk's volume (x): a guest that copies another
 * volume's tag must not make that disk ambiguous. */
static enum candidate tag_candidate(dev_t devno, const struct probe_exclude *x, const char *spec) {
        char name[160];
        struct stat st;

        if (stack_partwrap_disk(devno, name, sizeof name) > 0) {
                log_debug("%s: %u:%u carries it but is part of /dev/mapper/%s, a guest's disk: ignored", spec,
                          major(devno), minor(devno), name);
                return CANDIDATE_NO;
        }
        for (size_t i = 0; x && i < x->n_paths; i++)
                if (x->paths[i] && stat(x->paths[i], &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno)
                        return CANDIDATE_OTHER_DISK;
        for (size_t i = 0; x && i < x->n_devs; i++)
                if (x->devs[i] == devno)
                        return CANDIDATE_OTHER_DISK;
        return CANDIDATE_YES;
}

/* The devices found carrying a tag, by kind. */
struct tag_found {
        char *node[CANDIDATE_YES + 1];
        unsigned n[CANDIDATE_YES + 1];
};

static int tag_found_add(struct tag_found *f, enum candidate k, const char *node) {
        if (k == CANDIDATE_NO)
                return 0;
        if (f->n[k]++ == 0 && !(f->node[k] = strdup(node)))
                return -ENOMEM;
        return 0;
}

/* The one device meant: the only candidate that is no other disk's
 * volume; else the only one there is, which the caller refuses by the
 * name of the disk that has it (a clearer answer than "not found").
 * Frees f. Returns 0 and *ret_path, -ENOENT, or -ENOTUNIQ. */
static int tag_found_take(struct tag_found *f, char **ret_path) {
        enum candidate k = f->n[CANDIDATE_YES] > 0 ? CANDIDATE_YES : CANDIDATE_OTHER_DISK;
        int r = f->n[k] == 0 ? -ENOENT : f->n[k] > 1 ? -ENOTUNIQ : 0;

        if (r == 0)
                *ret_path = TAKE_PTR(f->node[k]);
        free(f->node[CANDIDATE_YES]);
        free(f->node[CANDIDATE_OTHER_DISK]);
        return r;
}

/* Without udev there are no /dev/disk/by-* links: look at every block
 * device ourselves. libblkid's own scan would also read a suspended dm
 * device (or a multipath map queueing without paths), and that read blocks
 * until the device resumes: past any timeout. Devices of size 0 and
 * suspended ones are skipped, and so is whatever tag_candidate() refuses
 * (not even read). Returns 0, -ENOENT, or -ENOTUNIQ when two devices carry
 * the tag (which one is meant cannot be told). */
static int scan_for_tag(const char *spec, const char *tag, const char *value, const struct probe_exclude *x,
                        char **ret_path) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/class/block");
        struct tag_found found = {};
        struct dirent *de;
        int r = 0;

        if (!d)
                return -errno;
        while (r == 0 && (de = readdir(d))) {
                char a[32], node[PATH_MAX];
                unsigned maj, min;
                if (de->d_name[0] == '.')
                        continue;
                sysfs_block_attr(de->d_name, "size", a, sizeof a);
                if (!*a || streq(a, "0"))
                        continue;
                sysfs_block_attr(de->d_name, "dm/suspended", a, sizeof a);
                if (streq(a, "1"))
                        continue;
                sysfs_block_attr(de->d_name, "dev", a, sizeof a);
                if (sscanf(a, "%u:%u", &maj, &min) != 2)
                        continue;
                enum candidate k = tag_candidate(makedev(maj, min), x, spec);
                if (k == CANDIDATE_NO)
                        continue;
                /* Kernel names use '!' where the node has '/' (cciss!c0d0). */
                snprintf(node, sizeof node, "/dev/%s", de->d_name);
                for (char *c = node; *c; c++)
                        if (*c == '!')
                                *c = '/';
                _cleanup_free_ char *v = probe_tag(node, tag);
                if (streq(v, value))
                        r = tag_found_add(&found, k, node);
        }
        int t = tag_found_take(&found, ret_path);
        return r < 0 ? r : t;
}

/* With udevd: the block devices whose udev property prop (ID_FS_UUID_ENC
 * or ID_FS_LABEL_ENC, what the /dev/disk/by-* links are made of) is enc,
 * as udev's blkid found them once it initialised each. Not the link
 * itself: it names whichever device udev saw last, which may be one
 * tag_candidate() refuses. Returns as tag_found_take(), or -errno. */
static int udev_find_tag(const char *spec, const char *prop, const char *enc, const struct probe_exclude *x,
                         char **ret_path) {
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = udev ? udev_enumerate_new(udev) : NULL;
        struct tag_found found = {};
        struct udev_list_entry *item;
        int r = 0;

        if (!e)
                return -ENOMEM;
        if ((r = udev_enumerate_add_match_subsystem(e, "block")) < 0 ||
            (r = udev_enumerate_add_match_property(e, prop, enc)) < 0 || (r = udev_enumerate_scan_devices(e)) < 0)
                return r;
        udev_list_entry_foreach(item, udev_enumerate_get_list_entry(e)) {
                _cleanup_(udev_device_unrefp) struct udev_device *dev =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(item));
                const char *node = dev ? udev_device_get_devnode(dev) : NULL;
                if (node && r == 0)
                        r = tag_found_add(&found, tag_candidate(udev_device_get_devnum(dev), x, spec), node);
        }
        int t = tag_found_take(&found, ret_path);
        return r < 0 ? r : t;
}

int probe_resolve(const char *spec, const struct probe_exclude *exclude, char **ret_path) {
        _cleanup_free_ char *path = NULL, *tag = NULL, *value = NULL, *enc = NULL;

        if (!spec || !*spec || !ret_path)
                return -EINVAL;

        if (spec[0] == '/') {
                /* realpath: /dev/vg/lv -> /dev/dm-3, the node that sysfs and
                 * the kernel's messages name. */
                path = realpath(spec, NULL);
                if (!path)
                        return -errno;
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        if (blkid_parse_tag_string(spec, &tag, &value) < 0 || !tag || !value || !*value ||
            !(streq(tag, "UUID") || streq(tag, "LABEL")))
                return -EINVAL;

        /* A guest controls its filesystem's UUID and label: one that copies
         * another volume's must not get that disk, so a tag two candidates
         * carry is refused (-ENOTUNIQ). */
        if (access("/run/udev/control", F_OK) < 0)
                return scan_for_tag(spec, tag, value, exclude, ret_path);
        size_t len = 4 * strlen(value) + 1;
        if (!(enc = malloc(len)) || blkid_encode_string(value, enc, len) < 0)
                return -ENOMEM;
        return udev_find_tag(spec, streq(tag, "UUID") ? "ID_FS_UUID_ENC" : "ID_FS_LABEL_ENC", enc, exclude, ret_path);
}

/* Copies a probe value, or leaves *ret NULL when libblkid has none. */
static int lookup_dup(blkid_probe pr, const char *name, char **ret) {
        const char *data = NULL;

        if (blkid_probe_lookup_value(pr, name, &data, NULL) < 0 || !data)
                return 0;
        *ret = strdup(data);
        return *ret ? 0 : -ENOMEM;
}

/* The kernel's facts of an open block device: number, size, logical
 * sector size, read-only. Returns 0, -ENOTBLK, or -errno. */
static int volume_geometry(int fd, struct volume_info *v) {
        struct stat st;
        uint64_t size;
        int ssz, ro = 0;

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
        if (ioctl(fd, BLKROGET, &ro) < 0)
                return -errno;
        v->devno = st.st_rdev;
        v->size_bytes = size;
        v->sector_size = (uint32_t) ssz;
        v->read_only = ro != 0;
        return 0;
}

/* Opens a volume and reads what the kernel says of it into v (number,
 * size, logical sector size, read-only), then its first 4 KiB (at least a
 * sector), where a probe begins: a volume whose I/O fails (a dying disk,
 * dm-flakey) fails here. O_DIRECT, so that the read reaches the device
 * rather than a page cached before it failed; the fd keeps it.
 * O_RDONLY: the only way partwrap ever opens a volume. No O_EXCL: that
 * would claim the device and fail while it is mounted. O_NONBLOCK: do not
 * wait for removable media. Returns the fd, or -ENOTBLK, or -errno. */
static int volume_open(const char *path, struct volume_info *v) {
        const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        _cleanup_close_ int fd = open(path, flags | O_DIRECT);
        _cleanup_free_ void *buf = NULL;
        int r;

        /* A file on a filesystem without O_DIRECT: not a block device,
         * which is what volume_geometry() says of it. */
        if (fd < 0 && errno == EINVAL)
                fd = open(path, flags);
        if (fd < 0)
                return -errno;
        if ((r = volume_geometry(fd, v)) < 0)
                return r;
        size_t len = v->sector_size > 4096 ? v->sector_size : 4096;
        if (posix_memalign(&buf, len, len) != 0)
                return -ENOMEM;
        if (pread(fd, buf, len, 0) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int probe_volume_geometry(const char *path, struct volume_info *ret) {
        _cleanup_(volume_info_free) struct volume_info v = {};
        _cleanup_close_ int fd = -EBADF;

        if (!path || !ret)
                return -EINVAL;
        if ((fd = volume_open(path, &v)) < 0)
                return fd;
        /* The path wait resolved is canonical already (realpath, or the
         * node udev names). */
        if (!(v.devnode = strdup(path)))
                return -ENOMEM;
        *ret = v;
        v = (struct volume_info) {};
        return 0;
}

int probe_tag_agrees(const char *spec, dev_t devno, const char *uuid, const char *label) {
        _cleanup_free_ char *tag = NULL, *value = NULL, *enc = NULL, *link = NULL;
        struct stat st;

        if (spec[0] == '/')
                return 1;
        if (blkid_parse_tag_string(spec, &tag, &value) < 0 || !tag || !value)
                return 0;
        bool is_uuid = streq(tag, "UUID");
        if (!streq(is_uuid ? uuid : label, value))
                return 0;
        size_t len = 4 * strlen(value) + 1;
        if (!(enc = malloc(len)) || blkid_encode_string(value, enc, len) < 0)
                return -ENOMEM;
        if (!(link = strdup_printf("/dev/disk/by-%s/%s", is_uuid ? "uuid" : "label", enc)))
                return -ENOMEM;
        return stat(link, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devno;
}

int probe_volume(const char *path, struct volume_info *ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_(volume_info_free) struct volume_info v = {};
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!path || !ret)
                return -EINVAL;
        if ((fd = volume_open(path, &v)) < 0)
                return fd;
        /* libblkid reads through the page cache, at any offset and length. */
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        v.devnode = realpath(path, NULL);
        if (!v.devnode)
                return -errno;

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
        /* Not the ZFS prober: on a volume of 64 MiB or more it reads four
         * 256 KiB labels into memory, a megabyte of partwrap's peak RSS, for
         * a type partwrap cannot wrap anyway. */
        static char *no_zfs[] = { "zfs_member", NULL };
        if (blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_NOTIN, no_zfs) < 0)
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
