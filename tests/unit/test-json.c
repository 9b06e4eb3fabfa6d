/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON writer emits only valid UTF-8 (RFC 8259 8.1), whatever bytes a
 * string holds, and str_escape() makes strings safe for a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "util.h"

static char *json_of(const char *value) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct json j;

        assert_non_null(f);
        json_init(&j, f);
        json_array_begin(&j, NULL);
        json_string(&j, NULL, value);
        json_array_end(&j);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_json_utf8(void **state _unused_) {
        static const char *const cases[][2] = {
                { "plain", "[\"plain\"]\n" },
                { "W\xc3\xa4hrung \xe2\x82\xac \xf0\x9f\x98\x80", "[\"W\xc3\xa4hrung \xe2\x82\xac \xf0\x9f\x98\x80\"]\n" },
                { "q\"b\\", "[\"q\\\"b\\\\\"]\n" },
                { "\x01\x1b\x7f", "[\"\\u0001\\u001b\\u007f\"]\n" },
                { "c1 \xc2\x85", "[\"c1 \\u0085\"]\n" },
                /* A surrogate (U+D800 in three bytes): Python rejects it. */
                { "a\xed\xa0\x80" "b", "[\"a\\ufffd\\ufffd\\ufffdb\"]\n" },
                /* Overlong '/' and NUL, and a 4-byte overlong. */
                { "\xc0\xaf\xc0\x80\xf0\x80\x80\xaf", "[\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"]\n" },
                /* Past U+10FFFF, a stray continuation, a truncated sequence. */
                { "\xf4\x90\x80\x80\x80x\xe2\x82", "[\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffdx\\ufffd\\ufffd\"]\n" },
                { "\xff\xfe", "[\"\\ufffd\\ufffd\"]\n" },
                /* The largest code point and the last before the surrogates pass. */
                { "\xf4\x8f\xbf\xbf\xed\x9f\xbf", "[\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\"]\n" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *s = json_of(cases[i][0]);
                assert_string_equal(s, cases[i][1]);
        }
}

static void test_escape(void **state _unused_) {
        static const char *const cases[][2] = {
                { "Data", "Data" },
                { "Win Data \xc3\xa4", "Win Data \xc3\xa4" },
                { "\x1b[2J", "\\x1b[2J" },
                { "a\\b", "a\\\\b" },
                { "c1\xc2\x9b", "c1\\xc2\\x9b" },
                { "\xed\xa0\x80\xff", "\\xed\\xa0\\x80\\xff" },
                { "\x7f\x01", "\\x7f\\x01" },
        };
        char buf[64];

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                assert_string_equal(str_escape(cases[i][0], buf, sizeof buf), cases[i][1]);
        /* Cut at a whole escape, never in the middle of one. */
        assert_string_equal(str_escape("ab\x1b", buf, 6), "ab");
        assert_string_equal(str_escape("ab\xc3\xa4", buf, 4), "ab");
        assert_string_equal(str_escape("x", buf, 1), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_utf8),
                cmocka_unit_test(test_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
