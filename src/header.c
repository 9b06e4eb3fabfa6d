/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Header files: created once, atomically, never replaced; read without
 * following symlinks. A header file is small (head + tail sectors), so it is
 * written and read in one piece. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "header.h"
#include "util.h"

/* Splits path into a malloc'ed directory part and a pointer to the last
 * component inside path. "f" gives ".", "/f" gives "/". */
static int path_split(const char *path, char **ret_dir, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        char *dir;

        if (*base == '\0' || streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        if (!slash)
                dir = strdup(".");
        else if (slash == path)
                dir = strdup("/");
        else
                dir = strndup(path, (size_t) (slash - path));
        if (!dir)
                return -ENOMEM;
        *ret_dir = dir;
        *ret_base = base;
        return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Opens the parent directory, creating it 0700 if it is missing (one level
 * only: a missing grandparent is a configuration problem, not ours to fix).
 * The new directory entry is made durable by fsync'ing the grandparent. */
static int dir_open_or_create(const char *dir) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                return TAKE_FD(fd);
        if (errno != ENOENT)
                return -errno;

        bool created = false;
        if (mkdir(dir, 0700) == 0)
                created = true;
        else if (errno != EEXIST) /* EEXIST: a racing creator won */
                return -errno;

        /* O_NOFOLLOW: if someone raced a symlink into place, do not chmod
         * its target. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (created) {
                /* mkdir's mode is filtered by the umask; make it exact. */
                if (fchmod(fd, 0700) < 0)
                        return -errno;
                _cleanup_free_ char *pdir = NULL;
                const char *unused;
                if (path_split(dir, &pdir, &unused) == 0) {
                        _cleanup_close_ int pfd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (pfd >= 0)
                                (void) fsync(pfd);
                }
        }
        return TAKE_FD(fd);
}

/* Fills fd with buf, makes it mode 0600 exactly (not umask-dependent) and
 * durable before it gets a name. */
static int tmpfile_fill(int fd, const uint8_t *buf, size_t len) {
        int r;

        if (fchmod(fd, 0600) < 0)
                return -errno;
        r = write_all(fd, buf, len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return -errno;
        fault_point("header-written");
        return 0;
}

/* O_TMPFILE (Linux 3.11): the file has no name until linkat() gives it one,
 * so a crash leaves nothing behind. linkat() never replaces an existing name
 * (EEXIST), symlinks included. Returns -EOPNOTSUPP when the filesystem or
 * kernel cannot do it, so the caller falls back to a named temp file. */
static int create_with_tmpfile(int dirfd, const char *base, const uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        char proc[64];
        int r;

        fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
                /* EISDIR: kernel without O_TMPFILE (it sees O_DIRECTORY);
                 * EOPNOTSUPP/EINVAL: filesystem without ->tmpfile. */
                if (errno == EISDIR || errno == EOPNOTSUPP || errno == EINVAL)
                        return -EOPNOTSUPP;
                return -errno;
        }

        r = tmpfile_fill(fd, buf, len);
        if (r < 0)
                return r;

        /* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH (before Linux
         * 6.10); the /proc/self/fd path with AT_SYMLINK_FOLLOW does not. */
        if (linkat(fd, "", dirfd, base, AT_EMPTY_PATH) == 0)
                return 0;
        if (errno == EEXIST)
                return -EEXIST;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW) == 0)
                return 0;
        if (errno == EEXIST)
                return -EEXIST;
        if (errno == ENOENT && access("/proc/self/fd", F_OK) < 0)
                return -EOPNOTSUPP; /* no /proc: use a named temp file */
        return -errno;
}

/* The part of NAME a temp name holds: ".NAME.<16 hex digits>" must fit
 * NAME_MAX (255) for any NAME that fits. */
#define TEMP_BASE_MAX 200

/* Fallback: a randomly named ".NAME.XXXXXXXXXXXXXXXX" in the same directory
 * (so link/rename stay within one filesystem), created O_EXCL|O_NOFOLLOW,
 * then renameat2(RENAME_NOREPLACE)d to its name (EEXIST if taken): one
 * step, so a kill leaves the temp name or the header, never both. Where
 * the filesystem cannot (EINVAL: NFS, for one), link() then unlink(): a
 * kill between them leaves the temp name next to a header. Never plain
 * rename(), which would replace an existing header. The temp name is
 * always removed. */
static int create_with_named_tmp(int dirfd, const char *base, const uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *tmp = NULL;
        uint64_t rnd;
        int r;

        for (unsigned attempt = 0;; attempt++) {
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return errno > 0 ? -errno : -EIO;
                free(tmp);
                tmp = strdup_printf(".%.*s.%016" PRIx64, TEMP_BASE_MAX, base, rnd);
                if (!tmp)
                        return -ENOMEM;
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt >= 16)
                        return -errno;
        }

        r = tmpfile_fill(fd, buf, len);
        if (r >= 0) {
                if (renameat2(dirfd, tmp, dirfd, base, RENAME_NOREPLACE) == 0)
                        return 0; /* the temp name is gone with the rename */
                if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        r = -errno;
                else if (linkat(dirfd, tmp, dirfd, base, 0) == 0)
                        r = 0;
                else
                        r = -errno;
        }
        (void) unlinkat(dirfd, tmp, 0);
        return r;
}

/* A crash between writing and linking a named temp file leaves
 * ".NAME.<16 hex digits>" behind, NAME cut as create_with_named_tmp() cuts
 * it; the next creation of NAME removes it. Callers hold the disk's lock,
 * so no live temp file is taken (unless another disk's header name
 * agrees with this one in its first TEMP_BASE_MAX bytes). */
static void remove_stale_temps(int dirfd, const char *base) {
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t n = strnlen(base, TEMP_BASE_MAX);
        _cleanup_(closedirp) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d)
                return;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                const char *t = de->d_name;
                if (t[0] != '.' || strncmp(t + 1, base, n) != 0 || t[n + 1] != '.' || strlen(t + n + 2) != 16 ||
                    strspn(t + n + 2, "0123456789abcdef") != 16)
                        continue;
                if (unlinkat(dirfd, t, 0) == 0)
                        log_debug("removed %s, left by an interrupted header creation", t);
        }
}

int header_create(const char *path, const uint8_t *buf, size_t len) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        const char *base;
        struct stat st;
        int r;

        if (!path || (!buf && len > 0))
                return -EINVAL;
        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        if (strlen(base) > NAME_MAX)
                return -ENAMETOOLONG;

        dirfd = dir_open_or_create(dir);
        if (dirfd < 0)
                return dirfd;

        /* Cheap early answer; the link below is what actually guarantees
         * that an existing file (or symlink, even dangling) is never
         * replaced. */
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return -EEXIST;
        if (errno != ENOENT)
                return -errno;

        remove_stale_temps(dirfd, base);
        r = create_with_tmpfile(dirfd, base, buf, len);
        if (r == -EOPNOTSUPP)
                r = create_with_named_tmp(dirfd, base, buf, len);
        if (r < 0)
                return r;

        fault_point("header-linked");
        /* The new name is durable only once the directory is. */
        if (fsync(dirfd) < 0)
                return -errno;
        return 0;
}

int header_read(const char *path, uint8_t **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t size, got = 0;

        if (!path || !ret_buf || !ret_len)
                return -EINVAL;

        /* O_NOFOLLOW: ELOOP on a symlink. O_NONBLOCK: a FIFO planted at path
         * must not block the open; it is rejected by the type check below. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t) st.st_size > HEADER_FILE_MAX)
                return -EFBIG;

        size = (size_t) st.st_size;
        buf = malloc(size > 0 ? size : 1);
        if (!buf)
                return -ENOMEM;

        /* Read what fstat promised; stop early at EOF (a truncation racing
         * with us shows up as a short length, which the verifier reports). */
        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }

        *ret_buf = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

/* The new header of a live grow: ".NAME.grow" next to NAME. One fixed
 * name, so that the next apply finds what a killed grow left, by name
 * (a stale file) or by the loop bound to it (a swap done, the rename
 * not). */
char *header_grow_temp_path(const char *path) {
        const char *slash = strrchr(path, '/');
        int dir_len = slash ? (int) (slash - path + 1) : 0;

        return strdup_printf("%.*s.%.*s.grow", dir_len, path, TEMP_BASE_MAX, path + dir_len);
}

int header_write_temp(const char *tmp, const uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* A grow cut short before its swap left it; the caller holds the
         * disk's lock and knows that no live table reads it. */
        if (unlink(tmp) < 0 && errno != ENOENT)
                return -errno;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = tmpfile_fill(fd, buf, len);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int header_overwrite(const char *tmp, const uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, len);
        if (r < 0)
                return r;
        return fsync(fd) < 0 ? -errno : 0;
}

int header_replace(const char *tmp, const char *path) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        const char *base;
        int r;

        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        if (rename(tmp, path) < 0)
                return -errno;
        fault_point("grow-renamed");
        /* The new name is durable only once the directory is. */
        if (fsync(dirfd) < 0)
                return -errno;
        return 0;
}
