/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size_parse() and size_format(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "size.h"
#include "util.h"

static void test_parse_valid(void **state _unused_) {
        static const struct {
                const char *s;
                uint64_t v;
        } cases[] = {
                { "0", 0 },
                { "512", 512 },
                { "512B", 512 },
                { "2048K", 2048 * 1024 },
                { "1KiB", 1024 },
                { "1M", 1 << 20 },
                { "1MiB", 1 << 20 },
                { "1 MiB", 1 << 20 },
                { "16 B", 16 },
                { "3G", UINT64_C(3) << 30 },
                { "3GiB", UINT64_C(3) << 30 },
                { "30T", UINT64_C(30) << 40 },
                { "30TiB", UINT64_C(30) << 40 },
                { "2P", UINT64_C(2) << 50 },
                { "15EiB", UINT64_C(15) << 60 },
                { "007", 7 },
                { "18446744073709551615", UINT64_MAX },
                { "17179869183G", UINT64_C(17179869183) << 30 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint64_t v = 1;
                int r = size_parse(cases[i].s, &v);
                if (r != 0 || v != cases[i].v)
                        fail_msg("size_parse(\"%s\") = %d, %ju; expected %ju", cases[i].s, r, (uintmax_t) v,
                                 (uintmax_t) cases[i].v);
        }
}

static void test_parse_invalid(void **state _unused_) {
        static const struct {
                const char *s;
                int r;
        } cases[] = {
                { "", -EINVAL },        { "M", -EINVAL },           { "-1", -EINVAL },
                { "+1", -EINVAL },      { " 1", -EINVAL },          { "1 ", -EINVAL },
                { "1  M", -EINVAL },    { "1.5M", -EINVAL },        { "1m", -EINVAL },
                { "1MB", -EINVAL },     { "1KB", -EINVAL },         { "1Mi", -EINVAL },
                { "1MiBs", -EINVAL },   { "0x10", -EINVAL },        { "1e6", -EINVAL },
                { "1,000", -EINVAL },   { "1\tM", -EINVAL },        { "1MiB ", -EINVAL },
                { "18446744073709551616", -ERANGE },
                { "99999999999999999999999", -ERANGE },
                { "16EiB", -ERANGE },
                { "17179869184G", -ERANGE },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                uint64_t v = 42;
                int r = size_parse(cases[i].s, &v);
                if (r != cases[i].r || v != 42)
                        fail_msg("size_parse(\"%s\") = %d (ret %ju); expected %d, ret untouched", cases[i].s, r,
                                 (uintmax_t) v, cases[i].r);
        }
        assert_int_equal(size_parse(NULL, &(uint64_t) { 0 }), -EINVAL);
}

static void test_format(void **state _unused_) {
        static const struct {
                uint64_t v;
                const char *s;
        } cases[] = {
                { 0, "0 B" },
                { 1, "1 B" },
                { 512, "512 B" },
                { 1023, "1023 B" },
                { 1024, "1 KiB" },
                { 16896, "16.5 KiB" },
                { 17408, "17 KiB" },
                { 1 << 20, "1 MiB" },
                { (1 << 20) + 1, "1.0 MiB" },          /* inexact keeps its decimal */
                { (2 << 20) - 1, "2.0 MiB" },          /* rounds up, still inexact */
                { (1 << 20) + (1 << 19), "1.5 MiB" },
                { UINT64_C(30) << 40, "30 TiB" },
                { (UINT64_C(2) << 40) - 512, "2.0 TiB" },
                { UINT64_C(1) << 60, "1 EiB" },
                { UINT64_MAX, "16.0 EiB" },
        };
        char buf[SIZE_FORMAT_MAX];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                assert_string_equal(size_format(cases[i].v, buf, sizeof buf), cases[i].s);
}

/* Whatever size_format() prints exactly, size_parse() reads back. */
static void test_round_trip(void **state _unused_) {
        static const uint64_t values[] = { 0, 512, 4096, 17408, 1 << 20, UINT64_C(3) << 30, UINT64_C(30) << 40,
                                           UINT64_C(7) << 50 };
        char buf[SIZE_FORMAT_MAX];

        for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
                uint64_t v;
                assert_int_equal(size_parse(size_format(values[i], buf, sizeof buf), &v), 0);
                assert_int_equal(v, values[i]);
        }
}

/* size_list_parse(): mkheader --size A,B,C. An empty item is an error, not
 * skipped: "1M,,3M" would otherwise make a disk of 2 volumes, not 3. */
static void test_list_parse(void **state _unused_) {
        uint64_t v[4];
        size_t n = 99;

        assert_int_equal(size_list_parse("1MiB", v, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v[0], 1 << 20);
        assert_int_equal(size_list_parse("1M, 2 KiB ,512", v, 4, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(v[0], 1 << 20);
        assert_int_equal(v[1], 2048);
        assert_int_equal(v[2], 512);
        assert_int_equal(size_list_parse("1,2,3,4", v, 4, &n), 0);
        assert_int_equal(n, 4);

        static const char *const bad[] = {
                "", ",", "1M,,3M", ",1M", "1M,", "1M, ,3M", "1M,\t,3M", "1M,x", "1,2,3,4,5",
                "1M,123456789012345678901234567890123456789012345678901234567890123456789",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                n = 0;
                if (size_list_parse(bad[i], v, 4, &n) == 0)
                        fail_msg("size_list_parse(\"%s\") accepted (%zu items)", bad[i], n);
        }
        assert_int_equal(size_list_parse("1M,99999999999999999999", v, 4, &n), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_valid),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_list_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
