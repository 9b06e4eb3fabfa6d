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

bool list_next(const char **p, const char **ret_b, const char **ret_e) {
        size_t n = strcspn(*p, ",");
        const char *b = *p, *e = *p + n;

        while (b < e && (*b == ' ' || *b == '\t'))
                b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        *ret_b = b;
        *ret_e = e;
        bool more = (*p)[n] == ',';
        *p += n + more;
        return more;
}

unsigned utf8_decode(const char *s, uint32_t *ret_cp) {
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        const unsigned char *p = (const unsigned char *) s;
        unsigned len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;

        if (len == 0)
                return 0;
        uint32_t c = len == 1 ? *p : *p & (0x7Fu >> len);
        for (unsigned i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3F);
        }
        if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
                return 0;
        *ret_cp = c;
        return len;
}

const char *str_escape(const char *s, char *buf, size_t len) {
        size_t o = 0;

        if (len == 0)
                return buf;
        for (const char *p = s; *p;) {
                char e[16];
                uint32_t c = 0;
                unsigned n = utf8_decode(p, &c);
                size_t k = 0;

                if (n > 0 && c >= 0x20 && c != 0x7F && c != '\\' && !(c >= 0x80 && c <= 0x9F)) {
                        memcpy(e, p, n);
                        k = n;
                } else if (c == '\\')
                        k = (size_t) snprintf(e, sizeof e, "\\\\");
                else
                        /* Every byte of a C1 character or a bad sequence. */
                        for (unsigned i = 0; i < (n ? n : 1); i++)
                                k += (size_t) snprintf(e + k, sizeof e - k, "\\x%02x", (unsigned char) p[i]);
                if (o + k >= len)
                        break;
                memcpy(buf + o, e, k);
                o += k;
                p += n ? n : 1;
        }
        buf[o] = 0;
        return buf;
}
