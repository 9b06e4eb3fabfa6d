/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decide(): every pair of states as a table, no devices. What apply and
 * stop do with a disk follows from the volume (present, absent), the
 * header file (absent, valid, corrupt), the loop under the live table
 * (right, wrong) and the device-mapper device (absent, ours as declared,
 * foreign, ours with another table); then the refusals each state alone
 * causes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "decide.h"
#include "util.h"

enum vol { V_PRESENT, V_ABSENT };
enum hdr { H_ABSENT, H_VALID, H_CORRUPT };
enum lp { L_RIGHT, L_WRONG };
enum dmk { D_ABSENT, D_OURS, D_FOREIGN, D_DIFFERENT };

static struct dm_target declared_targets[3] = {
        { .start = 0, .length = 2048, .dev = 0, .offset = 0 },
        { .start = 2048, .length = 131072, .dev = 0, .offset = 0 },
        { .start = 133120, .length = 33, .dev = 0, .offset = 2048 },
};
static struct dm_target other_targets[3] = {
        { .start = 0, .length = 2048, .dev = 0, .offset = 0 },
        { .start = 2048, .length = 262144, .dev = 0, .offset = 0 },
        { .start = 264192, .length = 33, .dev = 0, .offset = 2048 },
};

static const struct dm_table *declared(void) {
        static struct dm_table t = { .n = 3, .t = declared_targets };

        declared_targets[0].dev = declared_targets[2].dev = makedev(7, 0);
        declared_targets[1].dev = makedev(253, 1);
        return &t;
}

static struct dm_table different(void) {
        other_targets[0].dev = other_targets[2].dev = makedev(7, 0);
        other_targets[1].dev = makedev(253, 1);
        return (struct dm_table) { .n = 3, .t = other_targets };
}

static struct observation seen_as(enum vol v, enum hdr h, enum lp l, enum dmk d) {
        struct observation o = { .dm_known = true };

        if (v == V_PRESENT)
                o.volume = VOLUME_SEEN_OK;
        else {
                o.volume = VOLUME_SEEN_MISSING;
                o.volume_problem = (struct reason) { REASON_VOLUME, "UUID=x: volume not found" };
        }
        o.header = h == H_ABSENT ? HEADER_SEEN_ABSENT : h == H_VALID ? HEADER_SEEN_VALID : HEADER_SEEN_CORRUPT;
        if (h == H_CORRUPT)
                o.header_problem = (struct reason) { REASON_HEADER_CORRUPT, "header /h does not describe /dev/x: ..." };
        o.loop = l == L_RIGHT ? LOOP_SEEN_RIGHT : LOOP_SEEN_WRONG;
        switch (d) {
        case D_ABSENT:
                break;
        case D_OURS:
                o.dm = (struct dm_state) { .exists = true, .ours = true, .active = true, .table = *declared() };
                break;
        case D_FOREIGN:
                o.dm = (struct dm_state) { .exists = true, .active = true, .uuid = "LVM-abc", .table = *declared() };
                break;
        case D_DIFFERENT:
                o.dm = (struct dm_state) { .exists = true, .ours = true, .active = true, .table = different() };
                break;
        }
        return o;
}

static const struct {
        enum vol vol;
        enum hdr hdr;
        enum lp loop;
        enum dmk dm;
        enum action apply;
        enum reason_code apply_reason;
        enum action stop;
        enum reason_code stop_reason;
} pairs[] = {
        /* volume   header     loop     dm           apply: action, reason            stop: action, reason */
        { V_PRESENT, H_ABSENT, L_RIGHT, D_ABSENT, ACTION_CREATE, REASON_NONE, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_ABSENT, L_RIGHT, D_OURS, ACTION_NONE, REASON_NONE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_ABSENT, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_ABSENT, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_DM_TABLE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_ABSENT, L_WRONG, D_ABSENT, ACTION_CREATE, REASON_NONE, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_ABSENT, L_WRONG, D_OURS, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_ABSENT, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_ABSENT, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_VALID, L_RIGHT, D_ABSENT, ACTION_CREATE, REASON_NONE, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_VALID, L_RIGHT, D_OURS, ACTION_NONE, REASON_NONE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_VALID, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_VALID, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_DM_TABLE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_VALID, L_WRONG, D_ABSENT, ACTION_CREATE, REASON_NONE, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_VALID, L_WRONG, D_OURS, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_VALID, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_VALID, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_RIGHT, D_ABSENT, ACTION_REFUSE, REASON_HEADER_CORRUPT, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_RIGHT, D_OURS, ACTION_NONE, REASON_NONE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_CORRUPT, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_DM_TABLE, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_WRONG, D_ABSENT, ACTION_REFUSE, REASON_HEADER_CORRUPT, ACTION_NONE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_WRONG, D_OURS, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_PRESENT, H_CORRUPT, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_PRESENT, H_CORRUPT, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_DM_LOOP, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_RIGHT, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_RIGHT, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_ABSENT, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_WRONG, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_WRONG, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_ABSENT, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_ABSENT, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_VALID, L_RIGHT, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_VALID, L_RIGHT, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_VALID, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_VALID, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_VALID, L_WRONG, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_VALID, L_WRONG, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_VALID, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_VALID, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_RIGHT, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_RIGHT, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_RIGHT, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_CORRUPT, L_RIGHT, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_WRONG, D_ABSENT, ACTION_REFUSE, REASON_VOLUME, ACTION_NONE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_WRONG, D_OURS, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
        { V_ABSENT, H_CORRUPT, L_WRONG, D_FOREIGN, ACTION_REFUSE, REASON_VOLUME, ACTION_REFUSE, REASON_DM_FOREIGN },
        { V_ABSENT, H_CORRUPT, L_WRONG, D_DIFFERENT, ACTION_REFUSE, REASON_VOLUME, ACTION_REMOVE, REASON_NONE },
};

static const struct desired apply_want = { .present = true, .header = "/h", .table = NULL };

static struct desired want_apply(void) {
        struct desired w = apply_want;
        w.table = declared();
        return w;
}

static void test_pairs(void **state _unused_) {
        assert_int_equal(ARRAY_SIZE(pairs), 2 * 3 * 2 * 4);
        for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
                struct observation o = seen_as(pairs[i].vol, pairs[i].hdr, pairs[i].loop, pairs[i].dm);
                struct desired apply = want_apply(), stop = { .present = false, .header = "/h" };
                struct decision a = decide(&apply, &o), s = decide(&stop, &o);

                if (a.action != pairs[i].apply || a.reason.code != pairs[i].apply_reason)
                        fail_msg("row %zu: apply decided %d/%d (%s), expected %d/%d", i, a.action, a.reason.code,
                                 a.reason.message, pairs[i].apply, pairs[i].apply_reason);
                if (s.action != pairs[i].stop || s.reason.code != pairs[i].stop_reason)
                        fail_msg("row %zu: stop decided %d/%d (%s), expected %d/%d", i, s.action, s.reason.code,
                                 s.reason.message, pairs[i].stop, pairs[i].stop_reason);
        }
}

/* The words travel with the reason: whole sentences from observe pass
 * through, the phrases decide makes are what apply and check print. */
static void test_messages(void **state _unused_) {
        struct desired w = want_apply();
        struct observation o = seen_as(V_ABSENT, H_ABSENT, L_RIGHT, D_ABSENT);

        assert_string_equal(decide(&w, &o).reason.message, "UUID=x: volume not found");
        o = seen_as(V_PRESENT, H_CORRUPT, L_RIGHT, D_ABSENT);
        assert_string_equal(decide(&w, &o).reason.message, "header /h does not describe /dev/x: ...");
        o = seen_as(V_PRESENT, H_ABSENT, L_WRONG, D_OURS);
        assert_string_equal(decide(&w, &o).reason.message, "does not read its head from a loop device bound to /h");
        o = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_DIFFERENT);
        assert_string_equal(decide(&w, &o).reason.message, "has a table that differs from the declaration");
        o = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_FOREIGN);
        assert_string_equal(decide(&w, &o).reason.message, "LVM-abc");
}

/* Each remaining refusal, alone. */
static void test_refusals(void **state _unused_) {
        struct desired w = want_apply(), stop = { .present = false, .header = "/h" };
        struct observation o;
        struct decision d;

        /* A device of ours that cannot be compared. */
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);
        o.dm.active = false;
        d = decide(&w, &o);
        assert_int_equal(d.reason.code, REASON_DM_NO_TABLE);
        assert_string_equal(d.reason.message, "has no live table");
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);
        o.dm.suspended = true;
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_SUSPENDED);
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);
        o.dm.foreign_target = true;
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_NOT_LINEAR);
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);
        o.dm.read_only = true;
        d = decide(&w, &o);
        assert_int_equal(d.action, ACTION_REFUSE);
        assert_int_equal(d.reason.code, REASON_DM_READ_ONLY);
        assert_string_equal(d.reason.message, "is read-only, declared read-write");
        /* No table wanted (no plan to compare with): never "as declared". */
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);
        w.table = NULL;
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_TABLE);
        w = want_apply();

        /* Nothing is built on a read-only or busy volume, or a header that
         * cannot be read; a header problem does not stop a live disk. */
        o = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_ABSENT);
        o.volume_read_only = true;
        assert_int_equal(decide(&w, &o).reason.code, REASON_VOLUME_READ_ONLY);
        w.read_only = true;
        assert_int_equal(decide(&w, &o).action, ACTION_CREATE);
        w = want_apply();
        o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_ABSENT);
        o.volume_busy = true;
        o.busy_problem = (struct reason) { REASON_VOLUME_BUSY, "/dev/x: in use (mounted at /srv)" };
        d = decide(&w, &o);
        assert_int_equal(d.action, ACTION_REFUSE);
        assert_string_equal(d.reason.message, "/dev/x: in use (mounted at /srv)");
        o = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_ABSENT);
        o.header = HEADER_SEEN_BAD;
        o.header_problem = (struct reason) { REASON_HEADER, "header /h: is a directory" };
        assert_int_equal(decide(&w, &o).reason.code, REASON_HEADER);
        o.dm = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_OURS).dm;
        assert_int_equal(decide(&w, &o).action, ACTION_NONE);

        /* Device-mapper that cannot be asked decides nothing, for either. */
        o = seen_as(V_PRESENT, H_ABSENT, L_RIGHT, D_ABSENT);
        o.dm_known = false;
        o.dm_problem = (struct reason) { REASON_DM_QUERY, "/dev/mapper/d: cannot query device-mapper: Permission denied" };
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_QUERY);
        assert_int_equal(decide(&stop, &o).reason.code, REASON_DM_QUERY);

        /* stop leaves a device in use alone. */
        o = seen_as(V_ABSENT, H_ABSENT, L_WRONG, D_OURS);
        o.dm.open_count = 2;
        d = decide(&stop, &o);
        assert_int_equal(d.action, ACTION_REFUSE);
        assert_int_equal(d.reason.code, REASON_DM_IN_USE);
        assert_string_equal(d.reason.message, "open 2 times");
}

/* A live disk whose volume changed size: the live table is the old
 * layout (D_OURS), the volume has grown or shrunk since. */
static struct observation seen_resized(uint64_t volume_bytes) {
        struct observation o = seen_as(V_PRESENT, H_VALID, L_RIGHT, D_OURS);

        o.volume_resized = true;
        o.resized_partition = 1;
        o.live_volume_bytes = 131072 * 512;
        o.volume_bytes = volume_bytes;
        return o;
}

static void test_grow(void **state _unused_) {
        struct desired w = want_apply(), check = want_apply(), stop = { .present = false, .header = "/h" };
        struct observation o = seen_resized(2 * 131072 * 512);
        struct decision d;

        /* apply with grow = yes: swap; grow = no and check: report only. */
        w.grow = true;
        d = decide(&w, &o);
        assert_int_equal(d.action, ACTION_SWAP_TABLE);
        assert_int_equal(d.reason.code, REASON_GROWABLE);
        assert_string_equal(d.reason.message, "growable: partition 1 has 67108864 bytes, the volume 134217728");
        d = decide(&check, &o);
        assert_int_equal(d.action, ACTION_NONE);
        assert_int_equal(d.reason.code, REASON_GROWABLE);
        /* stop removes a growable disk as any other. */
        assert_int_equal(decide(&stop, &o).action, ACTION_REMOVE);

        /* Shrunk: refused with both sizes, whether to grow or not. */
        o = seen_resized(131072 * 512 - 1048576);
        for (int g = 0; g < 2; g++) {
                w.grow = g;
                d = decide(&w, &o);
                assert_int_equal(d.action, ACTION_REFUSE);
                assert_int_equal(d.reason.code, REASON_VOLUME_SHRUNK);
                assert_non_null(strstr(d.reason.message, "partition 1 of 67108864 bytes, but its volume has 66060288 bytes"));
        }

        /* A disk of several volumes: one before the last grew (or two
         * did): refused, whether to grow or not; the last alone grows. */
        o = seen_resized(2 * 131072 * 512);
        o.resized_partition = 2;
        o.resized_not_last = true;
        for (int g = 0; g < 2; g++) {
                w.grow = g;
                d = decide(&w, &o);
                assert_int_equal(d.action, ACTION_REFUSE);
                assert_int_equal(d.reason.code, REASON_GROW_NOT_LAST);
                assert_string_equal(d.reason.message, "has partition 2 of 67108864 bytes, but its volume has 134217728 "
                                    "bytes now; only the last partition of a disk grows in place");
        }
        o.resized_not_last = false;
        o.resized_partition = 3;
        w.grow = true;
        d = decide(&w, &o);
        assert_int_equal(d.action, ACTION_SWAP_TABLE);
        assert_string_equal(d.reason.message, "growable: partition 3 has 67108864 bytes, the volume 134217728");

        /* What stops a live disk being compared stops its growth too. */
        w.grow = true;
        o = seen_resized(2 * 131072 * 512);
        o.dm.suspended = true;
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_SUSPENDED);
        o = seen_resized(2 * 131072 * 512);
        o.loop = LOOP_SEEN_WRONG;
        assert_int_equal(decide(&w, &o).reason.code, REASON_DM_LOOP);
        /* A grow cut short between the swap and the rename: apply finishes
         * it before deciding; anything else names it. */
        o = seen_resized(2 * 131072 * 512);
        o.loop = LOOP_SEEN_GROW_TEMP;
        d = decide(&w, &o);
        assert_int_equal(d.action, ACTION_REFUSE);
        assert_int_equal(d.reason.code, REASON_GROW_UNFINISHED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pairs),
                cmocka_unit_test(test_messages),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_grow),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
