/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fault.h"

#ifdef PARTWRAP_FAULT_INJECTION
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Stalls at the point: creates the file, then waits (10 ms polls, at most
 * 120 s) until someone removes it. The tests use it to put a guest's write
 * into a window that is otherwise a few milliseconds wide. */
static void fault_stall(const char *file) {
        int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0)
                return;
        close(fd);
        for (unsigned i = 0; i < 12000 && access(file, F_OK) == 0; i++)
                nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
}

void fault_point(const char *name) {
        static unsigned passes, stalls;
        const char *at = getenv("PARTWRAP_KILL_AT"), *count = getenv("PARTWRAP_KILL_COUNT");
        const char *stall_at = getenv("PARTWRAP_STALL_AT"), *stall_file = getenv("PARTWRAP_STALL_FILE");

        if (getenv("PARTWRAP_FAULT_TRACE"))
                fprintf(stderr, "fault-point: %s\n", name);
        if (streq(stall_at, name) && stall_file && stalls++ == 0)
                fault_stall(stall_file);
        if (streq(at, name) && ++passes >= (count ? (unsigned) atoi(count) : 1u)) {
                fflush(NULL);
                raise(SIGKILL);
        }
}
#endif
