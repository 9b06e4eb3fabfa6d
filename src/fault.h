/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fault injection for the crash-consistency tests. Only builds made with
 * -DPARTWRAP_FAULT_INJECTION (make build/fault/partwrap) honour it:
 *   PARTWRAP_KILL_AT=NAME      SIGKILL ourselves at the point NAME (its
 *                              Nth passage with PARTWRAP_KILL_COUNT=N)
 *   PARTWRAP_FAULT_TRACE=1     print "fault-point: NAME" on stderr at each
 *   PARTWRAP_STALL_AT=NAME     at the first passage of NAME, create the file
 *   PARTWRAP_STALL_FILE=FILE   FILE and wait until it is removed (120 s at
 *                              most): a test's write lands in that window
 * Release builds compile the points to nothing. */

#ifdef PARTWRAP_FAULT_INJECTION
void fault_point(const char *name);
#else
static inline void fault_point(const char *name) {
        (void) name;
}
#endif
