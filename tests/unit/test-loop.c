/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop.c against the host's real loop driver, and probe.c on the loop
 * devices it makes. Needs root and /dev/loop-control; exits 77 (skipped)
 * without them. Every loop made here has autoclear and is closed by the
 * test, so nothing outlives it. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"
#include "probe.h"
#include "testutil.h"
#include "util.h"

struct fixture {
        char dir[96];
        char file[160];
};

static int make_file(const char *path, off_t size) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, size) < 0) {
                close(fd);
                return -errno;
        }
        close(fd);
        return 0;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        /* TMPDIR: the backing files may live on another filesystem. */
        if (make_test_dir(f->dir, sizeof(f->dir), "test-loop") < 0)
                return -1;
        snprintf(f->file, sizeof(f->file), "%s/disk.header", f->dir);
        if (make_file(f->file, 1 << 20) < 0)
                return -1;
        /* blkid's scan method keeps a cache; keep it out of /run. */
        char cache[128];
        snprintf(cache, sizeof(cache), "%s/blkid.tab", f->dir);
        setenv("BLKID_FILE", cache, 1);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        remove_test_dir(f->dir);
        free(f);
        return 0;
}

static unsigned loop_nr(const struct loop_dev *l) {
        unsigned nr;
        assert_int_equal(sscanf(l->path, "/dev/loop%u", &nr), 1);
        return nr;
}

static bool loop_bound(unsigned nr) {
        char p[96];
        snprintf(p, sizeof(p), "/sys/block/loop%u/loop", nr);
        return access(p, F_OK) == 0;
}

/* The logical block size the kernel reports for a device. Returns >0 or
 * -errno. */
static int loop_block_size(const char *devpath) {
        int fd = open(devpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), ssz = 0;

        if (fd < 0)
                return -errno;
        int r = ioctl(fd, BLKSSZGET, &ssz) < 0 ? -errno : ssz;
        close(fd);
        return r;
}

static int sysfs_int(unsigned nr, const char *attr) {
        char p[128];
        int v = -1;
        snprintf(p, sizeof(p), "/sys/block/loop%u/%s", nr, attr);
        FILE *fp = fopen(p, "re");
        if (!fp)
                return -1;
        if (fscanf(fp, "%d", &v) != 1)
                v = -1;
        fclose(fp);
        return v;
}

/* Autoclear runs in the kernel's release path of the last opener; a udev
 * worker probing the new device may be that opener, so allow a moment. */
static bool wait_unbound(unsigned nr) {
        for (unsigned i = 0; i < 100; i++) {
                if (!loop_bound(nr))
                        return true;
                nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        return false;
}

static void attach_find_close(struct fixture *f, uint32_t bs) {
        struct loop_dev l, found;
        struct stat st;

        assert_int_equal(loop_attach(f->file, bs, false, &l), 0);
        unsigned nr = loop_nr(&l);
        assert_true(l.fd >= 0);
        assert_true(l.autoclear);
        assert_false(l.read_only);
        assert_int_equal(l.block_size, bs);
        assert_int_equal(stat(l.path, &st), 0);
        assert_int_equal(st.st_rdev, l.devno);

        assert_int_equal(loop_block_size(l.path), (int) bs);
        assert_int_equal(sysfs_int(nr, "queue/logical_block_size"), (int) bs);
        assert_int_equal(sysfs_int(nr, "loop/autoclear"), 1);
        assert_int_equal(sysfs_int(nr, "loop/offset"), 0);
        assert_int_equal(sysfs_int(nr, "ro"), 0);

        memset(&found, 0xaa, sizeof(found));
        assert_int_equal(loop_find(f->file, bs, false, &found), 1);
        assert_string_equal(found.path, l.path);
        assert_int_equal(found.devno, l.devno);
        assert_int_equal(found.fd, -EBADF);
        assert_true(found.autoclear);
        assert_int_equal(found.block_size, bs);

        /* Other block size or read-only state: not a match. */
        assert_int_equal(loop_find(f->file, bs == 512 ? 4096 : 512, false, &found), 0);
        assert_int_equal(loop_find(f->file, bs, true, &found), 0);

        /* Writable: bytes written through the loop land in the file. */
        uint8_t buf[4096], back[4096];
        memset(buf, 0x5a, sizeof(buf));
        assert_int_equal(pwrite(l.fd, buf, sizeof(buf), 8192), sizeof(buf));
        assert_int_equal(fsync(l.fd), 0);
        int ffd = open(f->file, O_RDONLY | O_CLOEXEC);
        assert_true(ffd >= 0);
        assert_int_equal(pread(ffd, back, sizeof(back), 8192), sizeof(back));
        close(ffd);
        assert_memory_equal(buf, back, sizeof(buf));

        /* Autoclear: closing the only opener detaches it. */
        loop_dev_close(&l);
        assert_int_equal(l.fd, -EBADF);
        assert_true(wait_unbound(nr));
        assert_int_equal(loop_find(f->file, bs, false, &found), 0);
}

static void test_attach_512(void **state) {
        attach_find_close(*state, 512);
}

static void test_attach_4096(void **state) {
        attach_find_close(*state, 4096);
}

static void test_read_only(void **state) {
        struct fixture *f = *state;
        struct loop_dev l, found;
        int ro = 0;

        assert_int_equal(loop_attach(f->file, 512, true, &l), 0);
        unsigned nr = loop_nr(&l);
        assert_true(l.read_only);
        assert_true(l.autoclear);
        assert_int_equal(ioctl(l.fd, BLKROGET, &ro), 0);
        assert_int_equal(ro, 1);
        assert_int_equal(sysfs_int(nr, "ro"), 1);

        /* Writes are refused: older kernels refuse the writable open, newer
         * ones (6.x) allow it and fail the write with EPERM. */
        int wfd = open(l.path, O_RDWR | O_CLOEXEC);
        if (wfd < 0)
                assert_true(errno == EROFS || errno == EACCES);
        else {
                uint8_t buf[512] = { 1 };
                assert_int_equal(pwrite(wfd, buf, sizeof(buf), 0), -1);
                assert_int_equal(errno, EPERM);
                close(wfd);
        }

        assert_int_equal(loop_find(f->file, 512, true, &found), 1);
        assert_int_equal(found.devno, l.devno);
        assert_true(found.read_only);
        assert_int_equal(loop_find(f->file, 512, false, &found), 0);

        loop_dev_close(&l);
        assert_true(wait_unbound(nr));
}

static void test_attach_twice(void **state) {
        struct fixture *f = *state;
        struct loop_dev a, b, found;

        assert_int_equal(loop_attach(f->file, 512, false, &a), 0);
        assert_int_equal(loop_find(f->file, 512, false, &found), 1);
        assert_int_equal(found.devno, a.devno);

        /* loop_attach does not look for an existing loop: that is the
         * caller's loop_find. A second attach is a second device. */
        assert_int_equal(loop_attach(f->file, 512, false, &b), 0);
        assert_int_not_equal(a.devno, b.devno);
        assert_true(loop_bound(loop_nr(&a)));
        assert_true(loop_bound(loop_nr(&b)));

        /* Both match; the lowest-numbered one is returned. */
        assert_int_equal(loop_find(f->file, 512, false, &found), 1);
        assert_int_equal(minor(found.devno), minor(a.devno) < minor(b.devno) ? minor(a.devno) : minor(b.devno));

        unsigned na = loop_nr(&a), nb = loop_nr(&b);
        loop_dev_close(&a);
        loop_dev_close(&b);
        assert_true(wait_unbound(na));
        assert_true(wait_unbound(nb));
}

/* What device-mapper relies on: while another opener holds the loop (as a
 * dm table does), closing partwrap's fd does not detach it. */
static void test_autoclear_waits_for_last_opener(void **state) {
        struct fixture *f = *state;
        struct loop_dev l;

        assert_int_equal(loop_attach(f->file, 512, false, &l), 0);
        unsigned nr = loop_nr(&l);
        int holder = open(l.path, O_RDONLY | O_CLOEXEC);
        assert_true(holder >= 0);

        loop_dev_close(&l);
        nanosleep(&(struct timespec) { .tv_nsec = 200 * 1000 * 1000 }, NULL);
        assert_true(loop_bound(nr));

        close(holder);
        assert_true(wait_unbound(nr));
}

/* Only a loop as loop_attach() makes it is adopted: not one without
 * autoclear (losetup's, which would outlive the disk), with partition
 * scanning, or under another name; loop_check() still accepts it under a
 * live table. */
static void test_foreign_loop_not_adopted(void **state) {
        struct fixture *f = *state;
        struct loop_dev l, found;
        struct loop_info64 info;

        assert_int_equal(loop_attach(f->file, 512, false, &l), 0);
        assert_int_equal(loop_find(f->file, 512, false, &found), 1);
        static const struct {
                uint32_t clear, set;
                const char *name;
        } cases[] = {
                { LO_FLAGS_AUTOCLEAR, 0, NULL },
                { 0, 0, "/somewhere/else.img" },
                { 0, LO_FLAGS_PARTSCAN, NULL }, /* last: the kernel never clears it again */
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                assert_int_equal(ioctl(l.fd, LOOP_GET_STATUS64, &info), 0);
                struct loop_info64 changed = info;
                changed.lo_flags = (info.lo_flags & ~cases[i].clear) | cases[i].set;
                if (cases[i].name)
                        snprintf((char *) changed.lo_file_name, sizeof changed.lo_file_name, "%s", cases[i].name);
                assert_int_equal(ioctl(l.fd, LOOP_SET_STATUS64, &changed), 0);
                assert_int_equal(loop_find(f->file, 512, false, &found), 0);
                assert_int_equal(loop_check(l.devno, f->file, 512, &found), 1);
                assert_int_equal(ioctl(l.fd, LOOP_SET_STATUS64, &info), 0);
                if (!cases[i].set)
                        assert_int_equal(loop_find(f->file, 512, false, &found), 1);
        }
        unsigned nr = loop_nr(&l);
        loop_dev_close(&l);
        assert_true(wait_unbound(nr));
}

static void test_errors(void **state) {
        struct fixture *f = *state;
        struct loop_dev l = { .fd = -EBADF }, found;
        char link[160], missing[160];

        snprintf(link, sizeof(link), "%s/link", f->dir);
        snprintf(missing, sizeof(missing), "%s/missing", f->dir);
        assert_int_equal(symlink(f->file, link), 0);

        assert_int_equal(loop_attach(link, 512, false, &l), -ELOOP);
        assert_int_equal(loop_find(link, 512, false, &found), -ELOOP);
        assert_int_equal(loop_attach(missing, 512, false, &l), -ENOENT);
        assert_int_equal(loop_find(missing, 512, false, &found), -ENOENT);
        assert_int_equal(loop_attach(f->file, 1000, false, &l), -EINVAL);
        assert_int_equal(loop_attach(f->file, 8192, false, &l), -EINVAL);
        assert_int_equal(loop_attach(f->dir, 512, true, &l), -EINVAL);
        assert_int_equal(l.fd, -EBADF); /* untouched on failure */
        assert_int_equal(loop_find(f->file, 512, false, &found), 0);
        assert_int_equal(loop_block_size(missing), -ENOENT);
}

/* Runs a shell command; skips the test when the tool is missing. */
static void run_or_skip(const char *tool, const char *cmd) {
        char which[128];
        snprintf(which, sizeof(which), "command -v %s >/dev/null 2>&1", tool);
        if (system(which) != 0) {
                print_message("skipped: %s is not installed\n", tool);
                skip();
        }
        assert_int_equal(system(cmd), 0);
}

static void file_digest(const char *path, char out[80]) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(out, 80, p));
        pclose(p);
}

static void probe_ext4(struct fixture *f, uint32_t bs) {
        const char *uuid = "0b6d3c1e-4f5a-4c3b-9a9e-1d2c3b4a5f60";
        char img[160], cmd[512], label[32], spec[64], before[80], after[80];
        struct volume_info v;
        struct loop_dev l;
        char *path = NULL;

        snprintf(img, sizeof(img), "%s/ext4.img", f->dir);
        snprintf(label, sizeof(label), "pw%08x", (unsigned) getpid() ^ bs);
        assert_int_equal(make_file(img, 16 << 20), 0);
        snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -b 4096 -L %s -U %s '%s' >/dev/null 2>&1", label, uuid, img);
        run_or_skip("mkfs.ext4", cmd);
        file_digest(img, before);

        /* Read-only loop: a probe that tried to open for writing would fail
         * with EROFS here. */
        assert_int_equal(loop_attach(img, bs, true, &l), 0);
        unsigned nr = loop_nr(&l);

        assert_int_equal(probe_volume(l.path, &v), 0);
        assert_string_equal(v.devnode, l.path);
        assert_int_equal(v.devno, l.devno);
        assert_int_equal(v.size_bytes, 16 << 20);
        assert_int_equal(v.sector_size, bs);
        assert_true(v.read_only);
        assert_string_equal(v.fstype, "ext4");
        assert_string_equal(v.uuid, uuid);
        assert_string_equal(v.label, label);
        assert_null(v.pttype);
        assert_false(v.ambivalent);
        volume_info_free(&v);
        assert_null(v.fstype);

        /* Resolution by tag goes through libblkid's evaluation (udev links,
         * else a scan) and ends at the same node. */
        snprintf(spec, sizeof(spec), "LABEL=%s", label);
        assert_int_equal(probe_resolve(spec, NULL, &path), 0);
        assert_string_equal(path, l.path);
        free(path);
        snprintf(spec, sizeof(spec), "UUID=%s", uuid);
        assert_int_equal(probe_resolve(spec, NULL, &path), 0);
        assert_string_equal(path, l.path);
        free(path);
        /* The same filesystem on a second device: ambiguous, unless one of
         * the two is another disk's volume (by device number or by path),
         * which then does not count; alone, it is still the answer (the
         * caller refuses it by that disk's name). */
        struct loop_dev l2;
        assert_int_equal(loop_attach(img, bs, true, &l2), 0);
        unsigned nr2 = loop_nr(&l2);
        assert_int_equal(probe_resolve(spec, NULL, &path), -ENOTUNIQ);
        const struct probe_exclude by_dev = { .devs = &l.devno, .n_devs = 1 };
        assert_int_equal(probe_resolve(spec, &by_dev, &path), 0);
        assert_string_equal(path, l2.path);
        free(path);
        const char *const paths[] = { l2.path };
        const struct probe_exclude by_path = { .paths = paths, .n_paths = 1 };
        assert_int_equal(probe_resolve(spec, &by_path, &path), 0);
        assert_string_equal(path, l.path);
        free(path);
        const dev_t both[] = { l.devno, l2.devno };
        const struct probe_exclude all = { .devs = both, .n_devs = 2 };
        assert_int_equal(probe_resolve(spec, &all, &path), -ENOTUNIQ);
        loop_dev_close(&l2);
        assert_true(wait_unbound(nr2));
        assert_int_equal(probe_resolve(spec, &by_dev, &path), 0);
        assert_string_equal(path, l.path);
        free(path);

        loop_dev_close(&l);
        assert_true(wait_unbound(nr));
        file_digest(img, after);
        assert_string_equal(before, after);
        unlink(img);
}

static void test_probe_ext4_512(void **state) {
        probe_ext4(*state, 512);
}

static void test_probe_ext4_4096(void **state) {
        probe_ext4(*state, 4096);
}

static void test_probe_partition_table(void **state) {
        struct fixture *f = *state;
        char img[160], cmd[512];
        struct volume_info v;
        struct loop_dev l;

        snprintf(img, sizeof(img), "%s/gpt.img", f->dir);
        assert_int_equal(make_file(img, 8 << 20), 0);
        snprintf(cmd, sizeof(cmd), "sgdisk -o -n 1:2048:0 '%s' >/dev/null 2>&1", img);
        run_or_skip("sgdisk", cmd);

        /* Writable loop this time: read_only reports the device. */
        assert_int_equal(loop_attach(img, 512, false, &l), 0);
        unsigned nr = loop_nr(&l);
        assert_int_equal(probe_volume(l.path, &v), 0);
        assert_false(v.read_only);
        assert_string_equal(v.pttype, "gpt");
        assert_null(v.fstype);
        volume_info_free(&v);
        loop_dev_close(&l);
        assert_true(wait_unbound(nr));
}

static void test_probe_no_signature(void **state) {
        struct fixture *f = *state;
        struct volume_info v;
        struct loop_dev l;

        assert_int_equal(loop_attach(f->file, 512, true, &l), 0);
        unsigned nr = loop_nr(&l);
        assert_int_equal(probe_volume(l.path, &v), 0);
        assert_null(v.fstype);
        assert_null(v.uuid);
        assert_null(v.label);
        assert_null(v.pttype);
        assert_int_equal(v.size_bytes, 1 << 20);
        assert_true(v.read_only);
        volume_info_free(&v);
        loop_dev_close(&l);
        assert_true(wait_unbound(nr));
}

static void test_probe_errors(void **state) {
        struct fixture *f = *state;
        struct volume_info v = { .fstype = (char *) "untouched" };
        char *path = (char *) "untouched", missing[160], link[160];

        snprintf(missing, sizeof(missing), "%s/missing", f->dir);
        snprintf(link, sizeof(link), "%s/link", f->dir);

        assert_int_equal(probe_volume(f->file, &v), -ENOTBLK);
        assert_int_equal(probe_volume(missing, &v), -ENOENT);
        assert_string_equal(v.fstype, "untouched");

        assert_int_equal(probe_resolve("data", NULL, &path), -EINVAL);
        assert_int_equal(probe_resolve(missing, NULL, &path), -ENOENT);
        assert_int_equal(probe_resolve("UUID=00000000-dead-beef-0000-000000000000", NULL, &path), -ENOENT);
        assert_int_equal(probe_resolve("LABEL=partwrap-no-such-label-x", NULL, &path), -ENOENT);
        assert_string_equal(path, "untouched");

        /* A plain path is canonicalised. */
        assert_int_equal(symlink(f->file, link), 0);
        assert_int_equal(probe_resolve(link, NULL, &path), 0);
        assert_string_equal(path, f->file);
        free(path);
}

int main(void) {
        if (geteuid() != 0) {
                printf("skipped: loop tests need root\n");
                return 77;
        }
        if (access("/dev/loop-control", W_OK) < 0) {
                printf("skipped: no /dev/loop-control (%s)\n", strerror(errno));
                return 77;
        }

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_attach_512, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_4096, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_attach_twice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_autoclear_waits_for_last_opener, setup, teardown),
                cmocka_unit_test_setup_teardown(test_foreign_loop_not_adopted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_ext4_512, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_ext4_4096, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_partition_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_no_signature, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_errors, setup, teardown),
        };
        return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
