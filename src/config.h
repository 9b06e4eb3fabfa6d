/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm.h"
#include "guid.h"
#include "layout.h"
#include "ptype.h"

#define CONFIG_DIR_DEFAULT "/etc/partwrap.d"
#define HEADER_DIR_DEFAULT "/var/lib/partwrap"
#define DM_NAME_MAX 127
/* The DM UUID "PARTWRAP-NAME" must fit the kernel's 128 bytes: dm.h. */
#define CONFIG_NAME_MAX DM_PARTWRAP_NAME_MAX
#define PARTITION_NAME_MAX 36  /* UTF-16 code units in a GPT entry */
#define ALIGNMENT_DEFAULT (UINT64_C(1) << 20)
#define TIMEOUT_DEFAULT 90
#define TIMEOUT_MAX 86400

/* One partition of a disk: its volume and what its table entry says. */
struct part_config {
        char *volume;      /* "/dev/...", "UUID=..." or "LABEL=..." */
        bool type_auto;
        struct ptype type; /* valid unless type_auto */
        char *name;        /* partition-name; NULL: the filesystem label, else derived */
        bool has_guid;
        guid_t guid;       /* partition-guid, valid if has_guid */
};

/* One [section] of a configuration file: one virtual disk. */
struct disk_config {
        char *name;       /* the device-mapper name */
        char *file;       /* where it was declared, for messages */
        unsigned line;    /* line of the section header */

        /* Partitions 1..n_parts in disk order; `volume`, `type`,
         * `partition-name` and `partition-guid` are comma-separated lists
         * of one value each (type also takes one value for all). */
        struct part_config *parts;
        size_t n_parts;
        size_t n_volumes, n_types, n_guids; /* values given per list, until finished */
        char *partition_names;             /* the partition-name value, split when finished */
        enum table_kind table;
        uint64_t alignment;
        char *header;     /* absolute path */
        bool has_disk_guid, has_disk_signature;
        guid_t disk_guid;
        uint32_t disk_signature;
        bool read_only;
        unsigned timeout;  /* seconds */
        bool nofail;
        bool grow;         /* a live disk follows its volume when it grows */
};

/* Where a section name was first declared, valid or not. */
struct config_section {
        char *name, *file;
        unsigned line;
};

struct config {
        struct disk_config *disks;
        size_t n_disks;
        unsigned n_errors; /* errors reported while loading */
        /* Every section seen so far, dropped ones included: a second
         * declaration is a duplicate even when the first had an error. */
        struct config_section *sections;
        size_t n_sections;
};

/* Loads one file and appends its valid disks to cfg. Every error is
 * printed as "FILE:LINE: message" on stderr and counted in cfg->n_errors;
 * a section with an error is dropped, the rest of the file still loads.
 * Duplicate names, volumes and header paths are checked against what cfg
 * already holds. A file writable by its group gets a warning; one writable
 * by everyone is refused (-EPERM), as sshd's StrictModes would.
 * Returns: 0, or -errno when the file cannot be read at all or is refused
 * (also reported and counted). */
int config_load_file(struct config *cfg, const char *path);

/* Loads every "*.conf" in dir, in lexical (strcmp) order, skipping hidden
 * files. A missing directory is an empty configuration (returns 0).
 * Returns: 0, or -errno if the directory cannot be read or is writable by
 * everyone (reported and counted). Errors in its files are only counted. */
int config_load_dir(struct config *cfg, const char *dir);

/* One disk checked key by key with the rules of the configuration file,
 * for callers without a file (mkheader's options are the keys of the same
 * name). Each function puts a one-line message into err on failure.
 *
 * config_disk_init() sets the defaults and the name; d is initialised even
 * when the name is invalid, and must be released with disk_config_done().
 * Returns: 0, or -EINVAL (invalid name) / -ENOMEM. */
int config_disk_init(struct disk_config *d, const char *name, char *err, size_t err_len);
/* Sets one key ("table", "alignment", ...) from its string value.
 * Returns: 0, -ENOENT (unknown key), or -EINVAL/-ERANGE (bad value). */
int config_disk_set(struct disk_config *d, const char *key, const char *value, char *err, size_t err_len);
/* Checks the keys against each other (table against type, GUIDs, disk
 * signature, alignment, list lengths), splits the per-partition lists into
 * n_partitions partitions (0: one per volume, at least one) and fills in
 * the default header path. A volume is not required here.
 * Returns: 0, or -EINVAL / -ENOMEM. */
int config_disk_finish(struct disk_config *d, size_t n_partitions, char *err, size_t err_len);
/* Frees what d holds and zeroes it; usable with _cleanup_(). */
void disk_config_done(struct disk_config *d);

/* The volume list as declared, ", "-separated, in buf (truncated to len). */
#define CONFIG_VOLUMES_MAX 1024
const char *config_volumes(const struct disk_config *d, char *buf, size_t len);

/* Returns the disk with that name, or NULL. */
struct disk_config *config_find(const struct config *cfg, const char *name);

void config_free(struct config *cfg);

/* Device-mapper name rules: 1..CONFIG_NAME_MAX bytes, not "." or "..",
 * not "control" (/dev/mapper/control), not starting with '-' (an option
 * wherever the name is an argument). Only [A-Za-z0-9:._@-]: characters
 * libdevmapper passes to udev unmangled that are also valid in the systemd
 * unit name partwrap@NAME.service, so NAME needs escaping nowhere. */
bool config_name_is_valid(const char *name);

/* An absolute path with "//", "/./" and a trailing "/." folded away.
 * Returns: 0 and *ret (malloc'ed), -EINVAL if it has a ".." component, or
 * -ENOMEM. */
int config_path_simplify(const char *path, char **ret);
