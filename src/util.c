/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "util.h"

int log_max_level = LOG_WARN;

void log_msg(int level, const char *fmt, ...) {
        va_list ap;

        if (level > log_max_level)
                return;
        int saved = errno;
        fputs("partwrap: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        errno = saved;
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}
