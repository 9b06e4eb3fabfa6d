/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header_create / header_read in a temporary directory. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "header.h"
#include "testutil.h"
#include "util.h"

struct fixture {
        char dir[96];
        char path[160]; /* dir/sub/disk.header: sub does not exist yet */
        char sub[128];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        /* TMPDIR: lets the same test run on other filesystems (one without
         * O_TMPFILE exercises header.c's fallback). */
        if (make_test_dir(f->dir, sizeof(f->dir), "test-header") < 0)
                return -1;
        snprintf(f->sub, sizeof(f->sub), "%s/sub", f->dir);
        snprintf(f->path, sizeof(f->path), "%s/disk.header", f->sub);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        remove_test_dir(f->dir);
        free(f);
        return 0;
}

static void fill(uint8_t *buf, size_t len, uint8_t seed) {
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t) (seed + i * 7 + (i >> 9));
}

/* Names in dir other than . and .., as one space-separated string. */
static void list_dir(const char *dir, char *out, size_t outlen) {
        DIR *d = opendir(dir);
        struct dirent *de;

        out[0] = '\0';
        assert_non_null(d);
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (out[0])
                        strncat(out, " ", outlen - strlen(out) - 1);
                strncat(out, de->d_name, outlen - strlen(out) - 1);
        }
        closedir(d);
}

static void assert_file_bytes(const char *path, const uint8_t *want, size_t len) {
        uint8_t *got = NULL;
        size_t got_len = 0;

        assert_int_equal(header_read(path, &got, &got_len), 0);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, want, len);
        free(got);
}

static void test_create_read(void **state) {
        struct fixture *f = *state;
        static uint8_t buf[2081 * 512];
        char names[256];
        struct stat st;

        fill(buf, sizeof(buf), 1);
        assert_int_equal(header_create(f->path, buf, sizeof(buf)), 0);
        assert_file_bytes(f->path, buf, sizeof(buf));

        assert_int_equal(lstat(f->path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, sizeof(buf));

        /* Missing parent created 0700. */
        assert_int_equal(lstat(f->sub, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);

        /* No temporary file left behind. */
        list_dir(f->sub, names, sizeof(names));
        assert_string_equal(names, "disk.header");
}

static void test_modes_ignore_umask(void **state) {
        struct fixture *f = *state;
        uint8_t buf[4096];
        struct stat st;

        fill(buf, sizeof(buf), 2);
        mode_t old = umask(0);
        int r = header_create(f->path, buf, sizeof(buf));
        umask(0277); /* would strip the owner's write bit */
        char other[160];
        snprintf(other, sizeof(other), "%s/other.header", f->sub);
        int r2 = header_create(other, buf, sizeof(buf));
        umask(old);

        assert_int_equal(r, 0);
        assert_int_equal(r2, 0);
        assert_int_equal(lstat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(lstat(other, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(lstat(f->sub, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_eexist_keeps_file(void **state) {
        struct fixture *f = *state;
        uint8_t a[8192], b[512];
        char names[256];
        struct stat st1, st2;

        fill(a, sizeof(a), 3);
        fill(b, sizeof(b), 99);
        assert_int_equal(header_create(f->path, a, sizeof(a)), 0);
        assert_int_equal(lstat(f->path, &st1), 0);

        assert_int_equal(header_create(f->path, b, sizeof(b)), -EEXIST);

        assert_int_equal(lstat(f->path, &st2), 0);
        assert_int_equal(st1.st_ino, st2.st_ino);
        assert_int_equal(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
        assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
        assert_file_bytes(f->path, a, sizeof(a));

        list_dir(f->sub, names, sizeof(names));
        assert_string_equal(names, "disk.header");
}

static void test_symlink_refused(void **state) {
        struct fixture *f = *state;
        uint8_t target_bytes[100], b[512];
        char target[128], dangling[128], names[256];
        uint8_t *got = (uint8_t *) 0x1;
        size_t got_len = 12345;

        assert_int_equal(mkdir(f->sub, 0700), 0);
        snprintf(target, sizeof(target), "%s/target", f->dir);
        snprintf(dangling, sizeof(dangling), "%s/nonexistent", f->dir);

        fill(target_bytes, sizeof(target_bytes), 5);
        int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, target_bytes, sizeof(target_bytes)), sizeof(target_bytes));
        close(fd);

        /* A symlink to an existing file: neither followed for writing nor
         * for reading; the target is unchanged. */
        assert_int_equal(symlink(target, f->path), 0);
        fill(b, sizeof(b), 6);
        assert_int_equal(header_create(f->path, b, sizeof(b)), -EEXIST);
        assert_int_equal(header_read(f->path, &got, &got_len), -ELOOP);
        assert_ptr_equal(got, (uint8_t *) 0x1); /* out-params untouched on failure */
        assert_int_equal(got_len, 12345);
        assert_file_bytes(target, target_bytes, sizeof(target_bytes));

        /* A dangling symlink: its target must not be created. */
        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(symlink(dangling, f->path), 0);
        assert_int_equal(header_create(f->path, b, sizeof(b)), -EEXIST);
        assert_int_equal(access(dangling, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(header_read(f->path, &got, &got_len), -ELOOP);

        list_dir(f->sub, names, sizeof(names));
        assert_string_equal(names, "disk.header");
}

static void test_directory_at_path(void **state) {
        struct fixture *f = *state;
        uint8_t b[512], *got = NULL;
        size_t got_len;
        char names[256];

        assert_int_equal(mkdir(f->sub, 0700), 0);
        assert_int_equal(mkdir(f->path, 0700), 0);
        fill(b, sizeof(b), 7);
        assert_int_equal(header_create(f->path, b, sizeof(b)), -EEXIST);
        assert_int_equal(header_read(f->path, &got, &got_len), -EISDIR);
        assert_null(got);
        list_dir(f->sub, names, sizeof(names));
        assert_string_equal(names, "disk.header");
}

static void test_read_fifo_does_not_block(void **state) {
        struct fixture *f = *state;
        uint8_t *got = NULL;
        size_t got_len;

        assert_int_equal(mkdir(f->sub, 0700), 0);
        assert_int_equal(mkfifo(f->path, 0600), 0);
        assert_int_equal(header_read(f->path, &got, &got_len), -EINVAL);
}

static void test_read_errors(void **state) {
        struct fixture *f = *state;
        uint8_t *got = NULL;
        size_t got_len;

        assert_int_equal(header_read(f->path, &got, &got_len), -ENOENT);

        /* Sparse file one byte over the bound: refused before allocating. */
        assert_int_equal(mkdir(f->sub, 0700), 0);
        int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) HEADER_FILE_MAX + 1), 0);
        close(fd);
        assert_int_equal(header_read(f->path, &got, &got_len), -EFBIG);
        assert_null(got);
}

static void test_create_errors(void **state) {
        struct fixture *f = *state;
        uint8_t b[512];
        char deep[192];

        fill(b, sizeof(b), 8);
        /* Only one missing level is created. */
        snprintf(deep, sizeof(deep), "%s/a/b/disk.header", f->dir);
        assert_int_equal(header_create(deep, b, sizeof(b)), -ENOENT);
        snprintf(deep, sizeof(deep), "%s/a", f->dir);
        assert_int_equal(access(deep, F_OK), -1);

        /* A trailing slash names no file. */
        snprintf(deep, sizeof(deep), "%s/", f->dir);
        assert_int_equal(header_create(deep, b, sizeof(b)), -EINVAL);
}

static void test_empty_and_small(void **state) {
        struct fixture *f = *state;
        uint8_t one = 0x5a;

        assert_int_equal(header_create(f->path, &one, 1), 0);
        assert_file_bytes(f->path, &one, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_modes_ignore_umask, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eexist_keeps_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_directory_at_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_fifo_does_not_block, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_and_small, setup, teardown),
        };
        return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
