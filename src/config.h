/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "guid.h"
#include "ptype.h"

#define CONFIG_DIR_DEFAULT "/etc/partwrap.d"
#define HEADER_DIR_DEFAULT "/var/lib/partwrap"
#define DM_NAME_MAX 127
#define PARTITION_NAME_MAX 36  /* UTF-16 code units in a GPT entry */
#define ALIGNMENT_DEFAULT (UINT64_C(1) << 20)
#define ALIGNMENT_MAX (UINT64_C(1) << 30)
#define TIMEOUT_DEFAULT 90

enum table_kind { TABLE_GPT, TABLE_MBR };

/* One [section] of a configuration file: one virtual disk. */
struct disk_config {
        char *name;       /* the device-mapper name */
        char *file;       /* where it was declared, for messages */
        unsigned line;    /* line of the section header */

        char *volume;     /* "/dev/...", "UUID=..." or "LABEL=..." */
        enum table_kind table;
        bool type_auto;
        struct ptype type; /* valid unless type_auto */
        uint64_t alignment;
        char *header;     /* absolute path */
        char *partition_name;    /* NULL: filesystem label, else name */
        bool has_disk_guid, has_partition_guid, has_disk_signature;
        guid_t disk_guid, partition_guid;
        uint32_t disk_signature;
        bool read_only;
        unsigned timeout;  /* seconds */
        bool nofail;
};

struct config {
        struct disk_config *disks;
        size_t n_disks;
        unsigned n_errors; /* errors reported while loading */
};

/* Loads one file and appends its valid disks to cfg. Every error is
 * printed as "FILE:LINE: message" on stderr and counted in cfg->n_errors;
 * a section with an error is dropped, the rest of the file still loads.
 * Duplicate names are checked against what cfg already holds.
 * Returns: 0, or -errno when the file cannot be read at all (also
 * reported and counted). */
int config_load_file(struct config *cfg, const char *path);

/* Loads every "*.conf" in dir, in lexical (strcmp) order.
 * Returns: 0, or -errno if the directory cannot be read (reported). A
 * missing directory is an empty configuration (returns 0). */
int config_load_dir(struct config *cfg, const char *dir);

/* Returns the disk with that name, or NULL. */
struct disk_config *config_find(const struct config *cfg, const char *name);

void config_free(struct config *cfg);

/* Device-mapper name rules: 1..127 bytes, no '/', not "." or "..", only
 * printable ASCII without whitespace or quotes. */
bool config_name_is_valid(const char *name);
