/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Options shared by the commands, and the commands themselves (one .c
 * each for the offline ones; apply/stop/check live in reconcile.c). */

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses of the contract. */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2, /* also: configuration error */
};

struct options {
        const char *config_dir;
        bool dry_run;
        bool json;
        /* mkheader */
        const char *table, *size, *sector_size, *type, *alignment, *name, *output;
        const char *fs_uuid, *partition_name, *disk_guid, *partition_guid, *disk_signature;
};

int cmd_validate(const struct options *o, char **args, int n_args);
int cmd_mkheader(const struct options *o, char **args, int n_args);
int cmd_show(const struct options *o, char **args, int n_args);
