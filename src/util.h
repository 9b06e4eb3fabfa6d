/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers shared by every module: cleanup attributes (systemd style),
 * logging, and a few arithmetic guards. */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) _p_ = (p);             \
                (p) = NULL;                          \
                _p_;                                 \
        })
#define TAKE_FD(fd)                                  \
        ({                                           \
                int _fd_ = (fd);                     \
                (fd) = -EBADF;                       \
                _fd_;                                \
        })

static inline bool streq(const char *a, const char *b) {
        return a && b && __builtin_strcmp(a, b) == 0;
}

/* Logging. Messages go to stderr, prefixed with "partwrap: ". The level
 * set by -q/-v decides what is shown. */
enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
extern int log_max_level;
void log_msg(int level, const char *fmt, ...) _printf_(2, 3);
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* The first line of a small file (a sysfs attribute) without its newline.
 * Returns: 0, or -errno with buf "". */
int read_first_line(const char *path, char *buf, size_t len);

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* The length (1-4) of the valid UTF-8 sequence at s, with its code point
 * in *ret_cp; 0 for a byte that does not start one: a stray continuation
 * byte, a truncated sequence, an overlong form, a surrogate or a value past
 * U+10FFFF (RFC 3629). */
unsigned utf8_decode(const char *s, uint32_t *ret_cp);

/* s for a terminal: control characters (C0, DEL, C1) and bytes that are
 * not valid UTF-8 become \xNN, a backslash \\, so that a filesystem label
 * a guest chose cannot move the cursor, retitle the window or hide text.
 * Cut at a character to fit buf (ESCAPE_MAX(strlen(s)) always fits).
 * Returns buf. */
const char *str_escape(const char *s, char *buf, size_t len);
#define ESCAPE_MAX(n) (4 * (n) + 1)

/* The next item of the comma-separated list at *p, blanks (space, tab)
 * around it trimmed: its bytes are [*ret_b, *ret_e), empty for "a,,b".
 * Moves *p past the item and its comma. Returns whether another item
 * follows. */
bool list_next(const char **p, const char **ret_b, const char **ret_e);

/* asprintf that returns NULL on failure. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
