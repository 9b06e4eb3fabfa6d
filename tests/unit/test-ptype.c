/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Partition types: names, GUIDs, MBR bytes, and the automatic choice from
 * libblkid's filesystem type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ptype.h"
#include "util.h"

static void assert_gpt(const struct ptype *t, const char *guid) {
        char buf[GUID_STRING_MAX];

        assert_true(t->flags & PTYPE_HAS_GPT);
        assert_string_equal(guid_format(&t->gpt, buf), guid);
}

static const struct {
        const char *name, *guid;
        uint8_t mbr;
} named[] = {
        { "basic-data", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", 0x07 },
        { "linux", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", 0x83 },
        { "linux-swap", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", 0x82 },
        { "linux-lvm", "E6D6D379-F507-44C2-A23C-238F2A3DF928", 0x8e },
        { "linux-luks", "CA7D7CCB-63ED-4C53-861C-1742536059CC", 0x83 },
        { "esp", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", 0xef },
};

static void test_names(void **state _unused_) {
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
                struct ptype t;
                assert_int_equal(ptype_parse(named[i].name, &t), 0);
                assert_int_equal(t.flags, PTYPE_HAS_GPT | PTYPE_HAS_MBR);
                assert_gpt(&t, named[i].guid);
                assert_int_equal(t.mbr, named[i].mbr);
                assert_string_equal(t.name, named[i].name);
                assert_string_equal(ptype_describe(&t, buf, sizeof buf), named[i].name);
        }
}

static void test_guid(void **state _unused_) {
        struct ptype t;
        char buf[64];

        /* Any case; only GPT; no name even when it is a known GUID. */
        assert_int_equal(ptype_parse("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", &t), 0);
        assert_int_equal(t.flags, PTYPE_HAS_GPT);
        assert_gpt(&t, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
        assert_null(t.name);
        assert_string_equal(ptype_describe(&t, buf, sizeof buf), "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");

        assert_int_equal(ptype_parse("3B8F8425-20E0-4F3B-907F-1A25A76F98E8", &t), 0);
        assert_gpt(&t, "3B8F8425-20E0-4F3B-907F-1A25A76F98E8");
}

static void test_mbr_byte(void **state _unused_) {
        static const struct {
                const char *s;
                uint8_t b;
        } ok[] = { { "0x07", 0x07 }, { "0x7", 0x07 }, { "0X0c", 0x0c }, { "0xEF", 0xef }, { "0x83", 0x83 }, { "0xff", 0xff } };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                struct ptype t;
                assert_int_equal(ptype_parse(ok[i].s, &t), 0);
                assert_int_equal(t.flags, PTYPE_HAS_MBR);
                assert_int_equal(t.mbr, ok[i].b);
                assert_null(t.name);
        }
        struct ptype t = { .flags = PTYPE_HAS_MBR, .mbr = 0x0c };
        assert_string_equal(ptype_describe(&t, buf, sizeof buf), "0x0c");
}

static void test_invalid(void **state _unused_) {
        static const struct {
                const char *s;
                int r;
        } cases[] = {
                { "", -EINVAL },
                { "auto", -EINVAL }, /* the caller's business */
                { "Linux", -EINVAL },
                { "ntfs", -EINVAL },
                { "linux ", -EINVAL },
                { "0x", -EINVAL },
                { "0x100", -EINVAL },
                { "0x007", -EINVAL },
                { "0xg1", -EINVAL },
                { "07", -EINVAL },
                { "7", -EINVAL },
                { "0x-1", -EINVAL },
                { "0FC63DAF-8483-4772-8E79-3D69D8477DE", -EINVAL },
                { "0FC63DAF-8483-4772-8E79-3D69D8477DE4A", -EINVAL },
                { "0FC63DAF84834772-8E79-3D69D8477DE4AB", -EINVAL },
                { "{0FC63DAF-8483-4772-8E79-3D69D8477DE}", -EINVAL },
                { "0FC63DAF-8483-4772-8E79-3D69D8477DEG", -EINVAL },
                { "00000000-0000-0000-0000-000000000000", -EDOM },
                { "0x00", -EDOM },
                { "0x0", -EDOM },
                { "0xee", -EDOM },
                { "0xEE", -EDOM },
                { "0x05", -EDOM },
                { "0x0f", -EDOM },
                { "0x85", -EDOM },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct ptype t = { .flags = 42 };
                int r = ptype_parse(cases[i].s, &t);
                if (r != cases[i].r || t.flags != 42)
                        fail_msg("ptype_parse(\"%s\") = %d; expected %d, ret untouched", cases[i].s, r, cases[i].r);
        }
        assert_int_equal(ptype_parse(NULL, &(struct ptype) {}), -EINVAL);
}

static void test_from_fstype(void **state _unused_) {
        static const struct {
                const char *fstype, *name;
                uint8_t mbr;
        } cases[] = {
                { "ntfs", "basic-data", 0x07 },    { "exfat", "basic-data", 0x07 },
                { "refs", "basic-data", 0x07 },    { "vfat", "basic-data", 0x0c },
                { "ext2", "linux", 0x83 },         { "ext3", "linux", 0x83 },
                { "ext4", "linux", 0x83 },         { "xfs", "linux", 0x83 },
                { "btrfs", "linux", 0x83 },        { "f2fs", "linux", 0x83 },
                { "swap", "linux-swap", 0x82 },    { "LVM2_member", "linux-lvm", 0x8e },
                { "crypto_LUKS", "linux-luks", 0x83 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct ptype t, n;
                assert_int_equal(ptype_from_fstype(cases[i].fstype, &t), 0);
                assert_int_equal(ptype_parse(cases[i].name, &n), 0);
                assert_int_equal(t.flags, PTYPE_HAS_GPT | PTYPE_HAS_MBR);
                assert_true(guid_equal(&t.gpt, &n.gpt));
                assert_int_equal(t.mbr, cases[i].mbr);
                assert_string_equal(t.name, cases[i].name);
        }

        static const char *const none[] = { "", "iso9660", "udf", "zfs_member", "LVM2", "NTFS", "crypto_luks", "linux_raid_member" };
        for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
                struct ptype t = { .flags = 42 };
                assert_int_equal(ptype_from_fstype(none[i], &t), -ENOENT);
                assert_int_equal(t.flags, 42);
        }
        assert_int_equal(ptype_from_fstype(NULL, &(struct ptype) {}), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_guid),
                cmocka_unit_test(test_mbr_byte),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_from_fstype),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
