/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

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

int read_first_line(const char *path, char *buf, size_t len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

        buf[n > 0 ? n : 0] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return n < 0 ? -errno : 0;
}
