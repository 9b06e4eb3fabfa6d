/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one path from declared disks to devices: observe (volume, header,
 * dm, loop), decide (decide.h), then act (apply), report only (apply
 * --dry-run, check) or tear down (stop). */

#include "cli.h"

int cmd_apply(const struct options *o, char **args, int n_args);
int cmd_stop(const struct options *o, char **args, int n_args);
int cmd_check(const struct options *o, char **args, int n_args);
int cmd_udev_match(const struct options *o, char **args, int n_args); /* udev-match.c */
