/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>

#include "probe.h"
#include "udev-util.h"
#include "util.h"
#include "wait.h"

#define POLL_INTERVAL_MS 200
#define STATUS_INTERVAL_MS 1000

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* sd_notify(3)'s protocol: one datagram to $NOTIFY_SOCKET ('@' = abstract). */
void notify_status(const char *fmt, ...) {
        const char *sock = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char msg[512] = "STATUS=";
        va_list ap;

        if (!sock || (sock[0] != '/' && sock[0] != '@') || strlen(sock) >= sizeof sa.sun_path)
                return;
        va_start(ap, fmt);
        vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
        va_end(ap);
        memcpy(sa.sun_path, sock, strlen(sock));
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0)
                (void) sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                              offsetof(struct sockaddr_un, sun_path) + strlen(sock));
}

/* An attribute of /sys/dev/block/MAJ:MIN, or "". */
static void sysfs_attr(dev_t devno, const char *attr, char *buf, size_t len) {
        char p[96];

        snprintf(p, sizeof p, "/sys/dev/block/%u:%u/%s", major(devno), minor(devno), attr);
        read_first_line(p, buf, len);
}

void wait_udev_free(struct wait_udev *u) {
        free(u->fstype);
        free(u->uuid);
        free(u->label);
        *u = (struct wait_udev) {};
}

/* udev's encoding of unsafe bytes in *_ENC properties (encode_devnode_name():
 * "\xNN"), undone. Returns a malloc'ed string, or NULL. */
static char *udev_decode(const char *s) {
        char *out = s ? malloc(strlen(s) + 1) : NULL, *o = out;
        unsigned x;

        if (!out)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char) s[2]) && isxdigit((unsigned char) s[3]) &&
                    sscanf(s + 2, "%2x", &x) == 1 && x > 0) {
                        *o++ = (char) x;
                        s += 4;
                } else
                        *o++ = *s++;
        }
        *o = 0;
        return out;
}

/* udev's record of a block device, as sd-device reads it: the file
 * /run/udev/data/bMAJ:MIN, which exists once udev has initialised the
 * device, its properties one "E:KEY=VALUE" line each. Read directly, in
 * one open and read: libudev's udev_device_new_from_devnum() resolves the
 * /sys path one component at a time and reads the uevent file first, some
 * 45 system calls a device, the largest cost of a warm apply. */
#define UDEV_DB_MAX (32 * 1024)
struct udev_db {
        char buf[UDEV_DB_MAX];
        size_t len;
};

/* Returns 1 when the record exists (the device is initialised), 0 when it
 * does not, -EFBIG when it does not fit, or -errno. */
static int udev_db_read(dev_t devno, struct udev_db *db) {
        char p[64];
        ssize_t n;

        snprintf(p, sizeof p, "/run/udev/data/b%u:%u", major(devno), minor(devno));
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* One read: udev replaces the record whole (rename()), and a read
         * of a regular file stops short only at its end. */
        n = read(fd, db->buf, sizeof db->buf - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n == sizeof db->buf - 1)
                return -EFBIG;
        db->len = (size_t) n;
        db->buf[db->len] = 0;
        return 1;
}

/* The value of property key in the record, or NULL. Written to the
 * record's buffer (the line's newline becomes NUL). */
static const char *udev_db_get(struct udev_db *db, const char *key) {
        size_t klen = strlen(key);

        for (char *line = db->buf; line < db->buf + db->len;) {
                char *end = line;
                while (end < db->buf + db->len && *end != '\n' && *end != 0)
                        end++;
                if (line[0] == 'E' && line[1] == ':' && (size_t) (end - line) > klen + 2 &&
                    memcmp(line + 2, key, klen) == 0 && line[2 + klen] == '=') {
                        *end = 0;
                        return line + 3 + klen;
                }
                line = end + 1;
        }
        return NULL;
}

/* Keeps what udev's record says of the volume's identity (see wait_udev). */
static void udev_identity(struct udev_db *db, dev_t devno, struct wait_udev *ret) {
        const char *type = udev_db_get(db, "ID_FS_TYPE");
        const char *uuid = udev_db_get(db, "ID_FS_UUID_ENC");
        const char *label = udev_db_get(db, "ID_FS_LABEL_ENC");
        struct wait_udev u = { .devno = devno, .pttype = udev_db_get(db, "ID_PART_TABLE_TYPE") };

        wait_udev_free(ret);
        if (!type || !*type || !(u.fstype = strdup(type)) || (uuid && !(u.uuid = udev_decode(uuid))) ||
            (label && !(u.label = udev_decode(label)))) {
                wait_udev_free(&u);
                return;
        }
        u.known = true;
        *ret = u;
}

/* The marks of a device udev knows but that is not ready (device_ready()). */
static const struct {
        const char *key, *value;
} not_ready[] = {
        { "DM_SUSPENDED", "1" },
        { "DM_UDEV_DISABLE_OTHER_RULES_FLAG", "1" },
        { "SYSTEMD_READY", "0" },
};

/* The same through libudev, for a record udev_db_read() cannot take. */
static bool device_ready_libudev(struct udev *udev, dev_t devno) {
        _cleanup_(udev_device_unrefp) struct udev_device *d = udev_device_new_from_devnum(udev, 'b', devno);
        const char *v;

        if (!d || !udev_device_get_is_initialized(d))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(not_ready); i++)
                if ((v = udev_device_get_property_value(d, not_ready[i].key)) && streq(v, not_ready[i].value))
                        return false;
        return true;
}

/* The kernel's view, asked first because udev's can lag behind it: a
 * device of size 0 (an unbound loop or nbd, a dm device without a live
 * table, an md array not yet started) has not appeared yet, and a
 * suspended dm device is not ready: suspending sends no uevent, so udev
 * still says DM_SUSPENDED=0, and probing it would block until it is
 * resumed, past any timeout.
 * Then udev's view: initialised, and for device-mapper not suspended and
 * not flagged "not ready" by the dm rules (an LV between create and
 * resume, or one the LVM rules hide). Without udev, the kernel's view
 * decides. With udev's own record read, what it says of the volume's
 * identity goes to *ret_udev. */
static bool device_ready(struct udev *udev, const char *path, struct wait_udev *ret_udev) {
        _cleanup_free_ struct udev_db *db = NULL;
        struct stat st;
        char a[32];

        if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                return false;
        sysfs_attr(st.st_rdev, "size", a, sizeof a);
        if (streq(a, "0"))
                return false;
        sysfs_attr(st.st_rdev, "dm/suspended", a, sizeof a);
        if (streq(a, "1"))
                return false;
        if (!udev)
                return true;
        if (!(db = malloc(sizeof *db)))
                return false;
        int r = udev_db_read(st.st_rdev, db);
        if (r == 0)
                return false;
        if (r < 0)
                return device_ready_libudev(udev, st.st_rdev);
        const char *v;
        for (size_t i = 0; i < ARRAY_SIZE(not_ready); i++)
                if ((v = udev_db_get(db, not_ready[i].key)) && streq(v, not_ready[i].value))
                        return false;
        udev_identity(db, st.st_rdev, ret_udev);
        return true;
}

/* Tries to resolve one item; returns true when it is settled (found or failed). */
static bool try_item(struct udev *udev, struct wait_item *w) {
        _cleanup_free_ char *path = NULL;

        w->result = probe_resolve(w->spec, w->exclude, &path);
        if (w->result == 0 && !device_ready(udev, path, &w->udev))
                w->result = -ENOENT;
        if (w->result == 0)
                w->path = TAKE_PTR(path);
        w->done = w->result != -ENOENT;
        return w->done;
}

static void show_status(const struct wait_item *items, size_t n, uint64_t elapsed_ms, bool *shown) {
        char line[256] = "";
        size_t pending = 0, len = 0;
        unsigned left = 0;

        for (size_t i = 0; i < n; i++) {
                if (items[i].done)
                        continue;
                unsigned l = items[i].timeout - (unsigned) (elapsed_ms / 1000);
                left = l > left ? l : left;
                if (pending++ < 3 && len < sizeof line)
                        len += (size_t) snprintf(line + len, sizeof line - len, "%s%s (%s)", pending > 1 ? ", " : "",
                                                 items[i].name, items[i].spec);
        }
        if (pending > 3 && len < sizeof line)
                snprintf(line + len, sizeof line - len, " and %zu more", pending - 3);
        notify_status("Waiting for %zu volume%s: %s; up to %u s", pending, pending == 1 ? "" : "s", line, left);
        if (isatty(STDERR_FILENO) && log_max_level >= LOG_WARN) {
                fprintf(stderr, "\r\033[Kpartwrap: waiting for %s; up to %u s", line, left);
                *shown = true;
        }
}

size_t wait_for_volumes(struct wait_item *items, size_t n) {
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_monitor_unrefp) struct udev_monitor *mon = NULL;
        const uint64_t start = now_ms();
        uint64_t last_status = 0;
        bool shown = false, first = true;
        size_t found = 0;
        int fd = -EBADF;

        /* Only a running udevd sends events and initialises devices. */
        if (access("/run/udev/control", F_OK) == 0 && (udev = udev_new())) {
                mon = udev_monitor_new_from_netlink(udev, "udev");
                if (mon && udev_monitor_filter_add_match_subsystem_devtype(mon, "block", NULL) >= 0 &&
                    udev_monitor_enable_receiving(mon) >= 0)
                        fd = udev_monitor_get_fd(mon);
        }
        /* The monitor listens before the first look, so no event is lost between them. */
        for (;;) {
                size_t pending = 0;
                uint64_t elapsed = now_ms() - start, next = UINT64_MAX;

                for (size_t i = 0; i < n; i++) {
                        struct wait_item *w = &items[i];
                        if (w->done)
                                continue;
                        if (try_item(udev, w))
                                continue;
                        uint64_t deadline = (uint64_t) w->timeout * 1000;
                        if (elapsed >= deadline) {
                                w->result = w->timeout > 0 ? -ETIMEDOUT : -ENOENT;
                                w->done = true;
                                continue;
                        }
                        next = deadline - elapsed < next ? deadline - elapsed : next;
                        pending++;
                }
                if (pending == 0)
                        break;
                if (first || elapsed - last_status >= STATUS_INTERVAL_MS) {
                        if (first)
                                log_info("waiting for %zu volume%s (%s)", pending, pending == 1 ? "" : "s",
                                         fd >= 0 ? "udev events" : "no udevd: polling the device paths");
                        show_status(items, n, elapsed, &shown);
                        last_status = elapsed;
                        first = false;
                }
                int timeout = (int) (next < STATUS_INTERVAL_MS ? next : STATUS_INTERVAL_MS);
                if (fd < 0)
                        timeout = timeout < POLL_INTERVAL_MS ? timeout : POLL_INTERVAL_MS;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, fd >= 0, timeout) > 0) {
                        /* Drain; any block event is a reason to look again. */
                        struct udev_device *d;
                        while ((d = udev_monitor_receive_device(mon)))
                                udev_device_unref(d);
                }
        }
        if (shown)
                fputs("\r\033[K", stderr);
        for (size_t i = 0; i < n; i++)
                found += items[i].path != NULL;
        /* Replace "Waiting for..." (systemctl status shows the last STATUS
         * for as long as the oneshot unit stays active). */
        if (!first) {
                char missing[256] = "";
                size_t len = 0, k = 0;
                for (size_t i = 0; i < n && len < sizeof missing; i++)
                        if (!items[i].path && k++ < 3)
                                len += (size_t) snprintf(missing + len, sizeof missing - len, "%s%s", k > 1 ? ", " : "",
                                                         items[i].name);
                if (found == n)
                        notify_status("Found %zu volume%s", n, n == 1 ? "" : "s");
                else
                        notify_status("Found %zu of %zu volumes; not found: %s%s", found, n, missing,
                                      n - found > 3 ? " and more" : "");
        }
        return found;
}
