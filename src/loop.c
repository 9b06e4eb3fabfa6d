/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loop devices for header files, through the loop ioctls and sysfs only.
 *
 * Ownership rule: partwrap clears (LOOP_CLR_FD) only a loop it bound itself
 * in this call. Every loop it binds has LO_FLAGS_AUTOCLEAR, so the kernel
 * detaches it when its last opener closes (lo_release): device-mapper's
 * reference keeps it alive, and a partwrap that dies before device-mapper
 * holds it leaks nothing. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

/* LOOP_CTL_GET_FREE hands out the same free device to every caller until
 * one binds it; the losers get EBUSY and ask again. */
#define LOOP_ATTACH_TRIES 64

static int sysfs_read_u64(const char *path, uint64_t *ret) {
        char buf[32], *end;
        int r;

        r = read_first_line(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || end == buf || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* lo_device is the kernel's new_encode_dev() (huge_encode_dev) of the
 * backing file's st_dev; decode it rather than compare raw numbers with
 * glibc's dev_t encoding. */
static dev_t lo_device_decode(uint64_t lo_device) {
        return makedev((unsigned) ((lo_device & 0xfff00) >> 8),
                       (unsigned) ((lo_device & 0xff) | ((lo_device >> 12) & 0xfff00)));
}

static bool status_is_file(const struct loop_info64 *info, const struct stat *st) {
        return lo_device_decode(info->lo_device) == st->st_dev && info->lo_inode == st->st_ino;
}

static int block_size_get(int fd, uint32_t *ret) {
        int ssz;

        if (ioctl(fd, BLKSSZGET, &ssz) < 0)
                return -errno;
        if (ssz <= 0)
                return -EIO;
        *ret = (uint32_t) ssz;
        return 0;
}

void loop_dev_close(struct loop_dev *l) {
        if (!l)
                return;
        closep(&l->fd);
        l->fd = -EBADF;
}

/* Whether a device (a dm table) is built on loopN already. */
static bool holders_present(unsigned nr) {
        char p[64];

        snprintf(p, sizeof(p), "/sys/block/loop%u/holders", nr);
        _cleanup_(closedirp) DIR *d = opendir(p);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        return true;
        return false;
}

/* Checks one bound loop against the file: sysfs first (offset, size limit,
 * block size, read-only) so that non-candidates are never opened, then
 * LOOP_GET_STATUS64 for the backing inode, which sysfs does not show
 * (loop/backing_file is a path, and paths differ across mount namespaces). */
static int loop_match(unsigned nr, const char *file, const struct stat *file_st, uint32_t block_size, bool read_only,
                      bool adopt, struct loop_dev *ret) {
        /* A loop under a live table is the disk's whatever its read-only
         * state (the table's own state is compared elsewhere); one to adopt
         * must be as asked. */
        char p[128], buf[32];
        uint64_t offset, sizelimit, lbs, ro, autoclear;
        unsigned maj, min;
        struct loop_info64 info = { 0 };
        struct stat st;
        _cleanup_close_ int fd = -EBADF;

        /* loop/ exists only while the device is bound (loop_sysfs_init). */
        snprintf(p, sizeof(p), "/sys/block/loop%u/loop/offset", nr);
        if (sysfs_read_u64(p, &offset) < 0 || offset != 0)
                return 0;
        snprintf(p, sizeof(p), "/sys/block/loop%u/loop/sizelimit", nr);
        if (sysfs_read_u64(p, &sizelimit) < 0 || sizelimit != 0)
                return 0;
        snprintf(p, sizeof(p), "/sys/block/loop%u/queue/logical_block_size", nr);
        if (sysfs_read_u64(p, &lbs) < 0 || lbs != block_size)
                return 0;
        snprintf(p, sizeof(p), "/sys/block/loop%u/ro", nr);
        if (sysfs_read_u64(p, &ro) < 0 || (adopt && (ro != 0) != read_only))
                return 0;
        snprintf(p, sizeof(p), "/sys/block/loop%u/loop/autoclear", nr);
        if (sysfs_read_u64(p, &autoclear) < 0)
                autoclear = 0;
        if (adopt && (autoclear != 1 || holders_present(nr)))
                return 0;
        snprintf(p, sizeof(p), "/sys/block/loop%u/dev", nr);
        if (read_first_line(p, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &maj, &min) != 2)
                return 0;

        snprintf(p, sizeof(p), "/dev/loop%u", nr);
        fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                log_debug("%s: %m", p);
                return 0;
        }
        /* The node must be the device sysfs described. */
        if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != makedev(maj, min))
                return 0;
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return 0; /* ENXIO: unbound since we looked */
        if (!status_is_file(&info, file_st) || info.lo_offset != 0 || info.lo_sizelimit != 0)
                return 0;
        /* Only a loop that looks exactly like one loop_attach() makes:
         * someone else's (losetup without autoclear, with partition
         * scanning or direct I/O) is theirs, not a header loop to build on. */
        if (adopt && (info.lo_flags != (LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0)) ||
                      strncmp((const char *) info.lo_file_name, file, sizeof(info.lo_file_name) - 1) != 0))
                return 0;

        *ret = (struct loop_dev) {
                .devno = st.st_rdev,
                .fd = -EBADF,
                .block_size = (uint32_t) lbs,
                .read_only = info.lo_flags & LO_FLAGS_READ_ONLY,
                .autoclear = info.lo_flags & LO_FLAGS_AUTOCLEAR,
        };
        snprintf(ret->path, sizeof(ret->path), "/dev/loop%u", nr);
        return 1;
}

/* The backing file as loop_match() compares it; never through a symlink. */
static int backing_stat(const char *file, const struct loop_dev *ret, struct stat *st) {
        if (!file || !ret)
                return -EINVAL;
        if (lstat(file, st) < 0)
                return -errno;
        return S_ISLNK(st->st_mode) ? -ELOOP : 0;
}

/* Opens block device devno: through udev's /dev/block/MAJ:MIN link, else
 * by the kernel's name of it in sysfs (no udev). Returns the fd, or -1
 * when it cannot be opened as that device. */
static int open_devno(dev_t devno) {
        char p[8 + 256], link[256];
        struct stat st;
        ssize_t len;

        snprintf(p, sizeof(p), "/dev/block/%u:%u", major(devno), minor(devno));
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                /* /sys/dev/block/MAJ:MIN -> ../../devices/virtual/block/loopN */
                snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", major(devno), minor(devno));
                len = readlink(p, link, sizeof(link) - 1);
                if (len < 0)
                        return -1;
                link[len] = '\0';
                const char *base = strrchr(link, '/');
                snprintf(p, sizeof(p), "/dev/%s", base ? base + 1 : link);
                fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        }
        /* Whatever the node's name, it must be the device. */
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != devno)
                return -1;
        return TAKE_FD(fd);
}

int loop_check(dev_t devno, const char *file, uint32_t block_size, struct loop_dev *ret) {
        struct stat st;

        int r = backing_stat(file, ret, &st);
        if (r < 0)
                return r;
        /* One device, known by number: its own ioctls say all loop_match()
         * reads from sysfs to filter the machine's loops cheaply (offset,
         * size limit, flags in LOOP_GET_STATUS64, the block size in
         * BLKSSZGET): open, fstat, two ioctls and close, where loop_match()
         * makes 20. A device that is no loop fails LOOP_GET_STATUS64. */
        struct loop_info64 info = { 0 };
        uint32_t lbs = 0;
        _cleanup_close_ int fd = open_devno(devno);
        if (fd < 0)
                return 0;
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return 0; /* ENXIO: unbound since we looked */
        if (!status_is_file(&info, &st) || info.lo_offset != 0 || info.lo_sizelimit != 0 ||
            block_size_get(fd, &lbs) < 0 || lbs != block_size)
                return 0;
        *ret = (struct loop_dev) {
                .devno = devno,
                .fd = -EBADF,
                .block_size = lbs,
                .read_only = info.lo_flags & LO_FLAGS_READ_ONLY,
                .autoclear = info.lo_flags & LO_FLAGS_AUTOCLEAR,
        };
        snprintf(ret->path, sizeof(ret->path), "/dev/loop%u", info.lo_number);
        return 1;
}

int loop_find(const char *file, uint32_t block_size, bool read_only, struct loop_dev *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct loop_dev found = { .fd = -EBADF };
        unsigned best = UINT32_MAX;
        struct dirent *de;
        struct stat st;

        int r = backing_stat(file, ret, &st);
        if (r < 0)
                return r;

        d = opendir("/sys/block");
        if (!d)
                return -errno;
        while ((errno = 0, de = readdir(d))) {
                struct loop_dev l;
                unsigned nr;
                int n = 0;

                if (sscanf(de->d_name, "loop%u%n", &nr, &n) != 1 || de->d_name[n] != '\0')
                        continue;
                if (nr >= best)
                        continue;
                if (loop_match(nr, file, &st, block_size, read_only, true, &l) > 0) {
                        found = l;
                        best = nr;
                }
        }
        if (errno > 0)
                return -errno;
        if (best == UINT32_MAX)
                return 0;
        *ret = found;
        return 1;
}

int loop_backing(dev_t devno, dev_t *ret_dev, ino_t *ret_ino) {
        struct loop_info64 info = { 0 };
        _cleanup_close_ int fd = open_devno(devno);

        if (fd < 0)
                return -ENXIO;
        /* ENXIO: unbound; ENOTTY, EINVAL: no loop device at all. */
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return errno == ENOTTY || errno == EINVAL ? -ENXIO : -errno;
        *ret_dev = lo_device_decode(info.lo_device);
        *ret_ino = (ino_t) info.lo_inode;
        return 0;
}

int loop_acquire(const char *file, uint32_t block_size, bool read_only, bool fresh, struct loop_dev *ret) {
        struct loop_dev l = { .fd = -EBADF };
        int r;

        /* A header file created by this run is bound to no loop yet. */
        r = fresh ? 0 : loop_find(file, block_size, read_only, &l);
        if (r < 0)
                return r;
        if (r > 0) {
                /* Hold the loop found, then make sure it is still the one:
                 * an autoclear loop whose last opener just closed it would
                 * otherwise vanish under the new table. */
                struct loop_dev again;
                l.fd = open(l.path, O_RDONLY | O_CLOEXEC);
                if (l.fd >= 0 && loop_find(file, block_size, read_only, &again) > 0 && again.devno == l.devno) {
                        *ret = l;
                        return 0;
                }
                loop_dev_close(&l);
        }
        return loop_attach(file, block_size, read_only, ret);
}

/* Undoes our own bind. Only called for a loop this process bound. */
static void loop_clear(int lfd) {
        if (ioctl(lfd, LOOP_CLR_FD) < 0)
                log_debug("LOOP_CLR_FD: %m");
}

/* Kernels before 5.8 (no LOOP_CONFIGURE): bind, then set flags, then block
 * size. Between LOOP_SET_FD and LOOP_SET_STATUS64 the loop has no autoclear;
 * dying in that window leaks it, which LOOP_CONFIGURE exists to avoid.
 * Returns -EBUSY (device taken, not ours) without clearing. */
static int loop_configure_legacy(int lfd, int ffd, const struct loop_config *c) {
        struct loop_info64 info = c->info;
        int r;

        if (ioctl(lfd, LOOP_SET_FD, ffd) < 0)
                return -errno;

        /* LO_FLAGS_READ_ONLY comes from the fd's mode on this path; the
         * status call may only set the settable flags (autoclear). */
        info.lo_flags &= ~LO_FLAGS_READ_ONLY;
        if (ioctl(lfd, LOOP_SET_STATUS64, &info) < 0) {
                r = -errno;
                goto fail;
        }
        /* LOOP_SET_BLOCK_SIZE is 4.14+; 512 is the default anyway. */
        if (ioctl(lfd, LOOP_SET_BLOCK_SIZE, (unsigned long) c->block_size) < 0 &&
            !(c->block_size == 512 && (errno == EINVAL || errno == ENOTTY))) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        loop_clear(lfd);
        return r;
}

/* Reads back what the kernel made of our request. Some kernels accepted
 * LOOP_CONFIGURE but ignored fields (systemd's loop_configure_verify()
 * checks the same way); for those, fix the field with the single-purpose
 * ioctl once, then insist. */
static int loop_verify(int lfd, const struct stat *file_st, const struct loop_config *c, struct loop_info64 *ret) {
        struct loop_info64 info = { 0 };
        uint32_t ssz = 0;
        int r;

        for (unsigned pass = 0;; pass++) {
                bool fixed = false;

                if (ioctl(lfd, LOOP_GET_STATUS64, &info) < 0)
                        return -errno;
                r = block_size_get(lfd, &ssz);
                if (r < 0)
                        return r;

                if (!status_is_file(&info, file_st) || info.lo_offset != 0 || info.lo_sizelimit != 0)
                        return -EIO;
                if ((c->info.lo_flags & LO_FLAGS_READ_ONLY) && !(info.lo_flags & LO_FLAGS_READ_ONLY))
                        return -EROFS;

                if (!(info.lo_flags & LO_FLAGS_AUTOCLEAR)) {
                        if (pass > 0)
                                return -EIO;
                        log_debug("loop: kernel ignored LO_FLAGS_AUTOCLEAR, setting it again");
                        struct loop_info64 set = info;
                        set.lo_flags |= LO_FLAGS_AUTOCLEAR;
                        if (ioctl(lfd, LOOP_SET_STATUS64, &set) < 0)
                                return -errno;
                        fixed = true;
                }
                if (ssz != c->block_size) {
                        if (pass > 0)
                                return -EIO;
                        log_debug("loop: kernel ignored block size %" PRIu32 ", got %" PRIu32,
                                  c->block_size, ssz);
                        if (ioctl(lfd, LOOP_SET_BLOCK_SIZE, (unsigned long) c->block_size) < 0)
                                return -errno;
                        fixed = true;
                }
                if (!fixed) {
                        *ret = info;
                        return 0;
                }
        }
}

int loop_attach(const char *file, uint32_t block_size, bool read_only, struct loop_dev *ret) {
        _cleanup_close_ int ffd = -EBADF, ctl = -EBADF;
        struct stat file_st;
        int r;

        if (!file || !ret)
                return -EINVAL;
        /* The kernel accepts powers of two from 512 to PAGE_SIZE; volumes
         * come in 512 and 4096. */
        if (block_size != 512 && block_size != 1024 && block_size != 2048 && block_size != 4096)
                return -EINVAL;

        /* The fd's mode decides whether the loop can write (loop_configure
         * sets LO_FLAGS_READ_ONLY for an fd without FMODE_WRITE).
         * O_NOFOLLOW: the header path is never followed through a symlink. */
        ffd = open(file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (ffd < 0)
                return -errno;
        if (fstat(ffd, &file_st) < 0)
                return -errno;
        if (!S_ISREG(file_st.st_mode) && !S_ISBLK(file_st.st_mode))
                return -EINVAL;

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;

        struct loop_config c = {
                .fd = (uint32_t) ffd,
                .block_size = block_size,
                .info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0),
        };
        /* For losetup -l and /sys/.../loop/backing_file readers only. */
        snprintf((char *) c.info.lo_file_name, sizeof(c.info.lo_file_name), "%s", file);

        for (unsigned attempt = 0; attempt < LOOP_ATTACH_TRIES; attempt++) {
                _cleanup_close_ int lfd = -EBADF;
                struct loop_info64 info = {};
                char path[64];
                struct stat st;

                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return -errno;
                snprintf(path, sizeof(path), "/dev/loop%d", nr);

                /* The device node must allow writes for a writable loop: the
                 * kernel also makes the loop read-only when the block device
                 * itself was opened without write mode. */
                lfd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                if (lfd < 0) {
                        if (errno == ENOENT || errno == ENXIO)
                                continue; /* node not there yet, or removed again */
                        return -errno;
                }

                if (ioctl(lfd, LOOP_CONFIGURE, &c) < 0) {
                        if (errno == EBUSY)
                                continue; /* someone else bound it first: not ours to clear */
                        if (errno != EINVAL && errno != ENOTTY && errno != ENOSYS)
                                return -errno;
                        r = loop_configure_legacy(lfd, ffd, &c);
                        if (r == -EBUSY)
                                continue;
                        if (r < 0)
                                return r;
                }

                /* From here on the loop is ours. */
                r = loop_verify(lfd, &file_st, &c, &info);
                if (r < 0) {
                        log_debug("%s: verification after binding failed: %s", path, strerror(-r));
                        loop_clear(lfd);
                        return r;
                }
                if (fstat(lfd, &st) < 0) {
                        r = -errno;
                        loop_clear(lfd);
                        return r;
                }

                *ret = (struct loop_dev) {
                        .devno = st.st_rdev,
                        .block_size = block_size,
                        .read_only = info.lo_flags & LO_FLAGS_READ_ONLY,
                        .autoclear = info.lo_flags & LO_FLAGS_AUTOCLEAR,
                };
                snprintf(ret->path, sizeof(ret->path), "%s", path);
                ret->fd = TAKE_FD(lfd);
                return 0;
        }
        return -EBUSY;
}
