/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fault.h"

#ifdef PARTWRAP_FAULT_INJECTION
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

void fault_point(const char *name) {
        static unsigned passes;
        const char *at = getenv("PARTWRAP_KILL_AT"), *count = getenv("PARTWRAP_KILL_COUNT");

        if (getenv("PARTWRAP_FAULT_TRACE"))
                fprintf(stderr, "fault-point: %s\n", name);
        if (streq(at, name) && ++passes >= (count ? (unsigned) atoi(count) : 1u)) {
                fflush(NULL);
                raise(SIGKILL);
        }
}
#endif
