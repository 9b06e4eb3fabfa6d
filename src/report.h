/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The report of apply, stop and check: one message on stderr per failed
 * disk, then text or one JSON document on stdout. */

#include "disk.h"

/* Prints the report of a run of command ("apply", "stop", "check").
 * Returns the exit status: EXIT_USAGE on a configuration or usage error,
 * EXIT_FAILED if a disk failed or is unhealthy, else EXIT_OK. */
int report_run(const struct run *run, const char *command);
