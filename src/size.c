/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "size.h"
#include "util.h"

/* Binary units only: storage people read "1M" as MiB when they mean
 * alignment, and a decimal unit would silently break sector multiples. */
static const struct {
        const char *suffix[2];
        unsigned shift;
} units[] = {
        { { "B", "" }, 0 },
        { { "K", "KiB" }, 10 },
        { { "M", "MiB" }, 20 },
        { { "G", "GiB" }, 30 },
        { { "T", "TiB" }, 40 },
        { { "P", "PiB" }, 50 },
        { { "E", "EiB" }, 60 },
};

int size_parse(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (!s || *p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;

        /* One space is allowed before the unit so that size_format()'s
         * "1 MiB" reads back. */
        if (*p == ' ' && p[1])
                p++;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (streq(p, units[i].suffix[0]) || streq(p, units[i].suffix[1])) {
                        if (v > UINT64_MAX >> units[i].shift)
                                return -ERANGE;
                        *ret = v << units[i].shift;
                        return 0;
                }
        return -EINVAL;
}

char *size_format(uint64_t bytes, char *buf, size_t len) {
        static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        unsigned i = 0;

        while (i + 1 < ARRAY_SIZE(names) && bytes >> (10 * (i + 1)))
                i++;
        uint64_t unit = UINT64_C(1) << (10 * i), whole = bytes / unit, rem = bytes % unit;
        if (rem == 0) {
                snprintf(buf, len, "%" PRIu64 " %s", whole, names[i]);
                return buf;
        }
        /* rem < unit <= 2^60, so rem * 10 cannot overflow. An inexact value
         * keeps its decimal even when it rounds to .0, so "1.0 MiB" is never
         * mistaken for exactly 1 MiB. */
        uint64_t tenths = (rem * 10 + unit / 2) / unit;
        if (tenths == 10) {
                whole++;
                tenths = 0;
        }
        snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths, names[i]);
        return buf;
}

int size_list_parse(const char *list, uint64_t *sizes, size_t max, size_t *n) {
        const char *p = list, *b, *e;
        char item[64];

        *n = 0;
        for (bool more = true; more;) {
                more = list_next(&p, &b, &e);
                if (b == e || (size_t) (e - b) >= sizeof item || *n == max)
                        return -EINVAL;
                memcpy(item, b, (size_t) (e - b));
                item[e - b] = 0;
                int r = size_parse(item, &sizes[*n]);
                if (r < 0)
                        return r;
                (*n)++;
        }
        return 0;
}
