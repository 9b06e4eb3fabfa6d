/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dm.c against the kernel: a device created over one loop device, its
 * table read back typed, then swapped in one step for a table over
 * another (dm_table_swap(), as live grow uses it), a swap the kernel
 * refuses and one the caller refuses while suspended leaving the live
 * table as it was, not suspended. Needs
 * root, device-mapper and loop devices; exits 77 (skipped) without them.
 * tests/vm/scenarios/31-table-swap.sh runs it in the VM. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dm.h"
#include "loop.h"
#include "testutil.h"
#include "util.h"

#define NAME "pw-unit-swap"
#define SECTORS 2048

static char dir[256];

static int backing(const char *name, struct loop_dev *ret) {
        char path[300];
        _cleanup_close_ int fd = -EBADF;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, SECTORS * 512) < 0)
                return -errno;
        return loop_attach(path, 512, false, ret);
}

static void assert_live_at(const struct dm_target *want, int line) {
        _cleanup_(dm_state_done) struct dm_state s = {};
        struct dm_table t = { .n = 1, .t = (struct dm_target *) want };

        assert_int_equal(dm_get_state(NAME, &s), 0);
        if (!s.exists || !s.ours || !s.active || s.suspended || s.foreign_target || !dm_table_equal(&s.table, &t))
                fail_msg("line %d: exists %d ours %d active %d suspended %d foreign %d, %zu targets", line, s.exists, s.ours,
                         s.active, s.suspended, s.foreign_target, s.table.n);
}
#define assert_live(want) assert_live_at(want, __LINE__)

/* While suspended: the device is, and a refusal is returned as it is. */
static int refuse_suspended(void *userdata) {
        _cleanup_(dm_state_done) struct dm_state s = {};

        *(int *) userdata = dm_get_state(NAME, &s) == 0 && s.suspended;
        return -EAGAIN;
}

static void test_swap(void **state _unused_) {
        struct loop_dev a = { .fd = -EBADF }, b = { .fd = -EBADF };
        struct dm_batch batch;

        assert_int_equal(backing("a", &a), 0);
        assert_int_equal(backing("b", &b), 0);
        struct dm_target on_a = { .start = 0, .length = SECTORS, .dev = a.devno, .offset = 0 };
        struct dm_target on_b = { .start = 0, .length = SECTORS, .dev = b.devno, .offset = 0 };
        struct dm_target too_long = { .start = 0, .length = 2 * SECTORS, .dev = b.devno, .offset = 0 };

        dm_batch_begin(&batch);
        int r = dm_batch_create(&batch, NAME, &(struct dm_table) { .n = 1, .t = &on_a }, false);
        assert_int_equal(dm_batch_end(&batch), 0);
        assert_int_equal(r, 0);
        assert_live(&on_a);
        /* A table on paper never reaches the kernel. */
        struct dm_target paper = { .start = 0, .length = SECTORS };
        assert_int_equal(dm_table_swap(NAME, &(struct dm_table) { .n = 1, .t = &paper }, false, NULL, NULL), -EINVAL);

        assert_int_equal(dm_table_swap(NAME, &(struct dm_table) { .n = 1, .t = &on_b }, false, NULL, NULL), 0);
        assert_live(&on_b);
        /* Past the device's end: the kernel refuses the load, and the
         * device goes on as it was. */
        assert_int_equal(dm_table_swap(NAME, &(struct dm_table) { .n = 1, .t = &too_long }, false, NULL, NULL), -EINVAL);
        assert_live(&on_b);
        /* Refused while suspended: the old table goes on. */
        int was_suspended = 0;
        assert_int_equal(dm_table_swap(NAME, &(struct dm_table) { .n = 1, .t = &on_a }, false, refuse_suspended,
                                       &was_suspended), -EAGAIN);
        assert_true(was_suspended);
        assert_live(&on_b);
        assert_int_equal(dm_table_swap("pw-unit-none", &(struct dm_table) { .n = 1, .t = &on_b }, false, NULL, NULL), -ENXIO);

        assert_int_equal(dm_remove(NAME), 0);
        loop_dev_close(&a);
        loop_dev_close(&b);
}

static int setup(void **state _unused_) {
        return make_test_dir(dir, sizeof dir, "partwrap-test-dm");
}

static int teardown(void **state _unused_) {
        dm_remove(NAME);
        remove_test_dir(dir);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
        };
        if (geteuid() != 0) {
                printf("skipped: device-mapper tests need root\n");
                return 77;
        }
        if (access("/sys/class/misc/device-mapper", F_OK) < 0 || access("/dev/loop-control", F_OK) < 0) {
                printf("skipped: no device-mapper or no loop devices in this kernel\n");
                return 77;
        }
        if (getenv("PARTWRAP_TEST_DEBUG"))
                log_max_level = LOG_DEBUG;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
