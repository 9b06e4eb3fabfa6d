/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests: a temporary directory per test. */
#ifndef PARTWRAP_TESTUTIL_H
#define PARTWRAP_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* make_test_dir: mkdtemp of $TMPDIR/NAME.XXXXXX (/tmp without TMPDIR) into
 * dir; TMPDIR lets a test run on another filesystem. 0, or -1. */
static inline int make_test_dir(char *dir, size_t len, const char *name) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, len, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
        return mkdtemp(dir) ? 0 : -1;
}

static inline int test_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        return remove(p);
}

/* remove_test_dir: removes dir and everything below it. */
static inline void remove_test_dir(const char *dir) {
        nftw(dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
