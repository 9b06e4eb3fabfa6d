/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The middle of reconcile: what one disk needs, as a pure function of what
 * is wanted and what observe() saw. No I/O here, so every combination of
 * states is a unit test (tests/unit/test-decide.c).
 *
 *   observe   reconcile.c: volume, header, device-mapper, loop
 *   decide    here: an action and the reason for it
 *   act       reconcile.c: create, remove; check and --dry-run report only
 */

#include <stdbool.h>
#include <stdint.h>

#include "dm.h"

enum action {
        ACTION_NONE,       /* as wanted already */
        ACTION_CREATE,     /* header if missing, loop, dm device */
        ACTION_SWAP_TABLE, /* ours, live, its volume grew: a grown header and table in one step
                            * (dm_table_swap()) */
        ACTION_REFUSE,     /* cannot, or must not: the reason says why */
        ACTION_REMOVE,     /* stop: remove the dm device */
};

/* Why: a code to act on and a phrase to word it with. The command that
 * knows the context makes the one message of it. */
enum reason_code {
        REASON_NONE,
        REASON_VOLUME,          /* missing or unusable; message is the whole sentence */
        REASON_DM_QUERY,        /* device-mapper could not be asked; whole sentence */
        REASON_DM_FOREIGN,      /* the name is taken by a device that is not partwrap's */
        REASON_DM_NO_TABLE,     /* ours, without a live table */
        REASON_DM_SUSPENDED,
        REASON_DM_NOT_LINEAR,   /* a target other than linear */
        REASON_DM_LOOP,         /* the head is not read from a loop bound to the header */
        REASON_DM_TABLE,        /* the table differs from the layout */
        REASON_DM_READ_ONLY,    /* read-only state differs */
        REASON_DM_IN_USE,       /* stop: open */
        REASON_HEADER,          /* unreadable or refused; whole sentence */
        REASON_HEADER_CORRUPT,  /* does not map the volume; message: the first problem */
        REASON_VOLUME_READ_ONLY,
        REASON_VOLUME_BUSY,     /* held open exclusively, or cannot be opened; whole sentence */
        REASON_GROWABLE,        /* live, the volume grew: SWAP_TABLE, or NONE when not to grow */
        REASON_VOLUME_SHRUNK,   /* live, the volume is smaller than partition 1 */
        REASON_GROW_UNFINISHED, /* the head is read from the new header of a grow cut short */
        REASON_GROW_NOT_LAST,   /* live, a volume before the last changed size */
};

#define REASON_MSG_MAX 512
struct reason {
        enum reason_code code;
        char message[REASON_MSG_MAX];
};

enum volume_seen { VOLUME_SEEN_OK, VOLUME_SEEN_MISSING, VOLUME_SEEN_BAD };
enum header_seen { HEADER_SEEN_ABSENT, HEADER_SEEN_VALID, HEADER_SEEN_CORRUPT, HEADER_SEEN_BAD };
enum loop_seen {
        LOOP_SEEN_NONE,
        LOOP_SEEN_RIGHT,
        LOOP_SEEN_WRONG,
        LOOP_SEEN_GROW_TEMP, /* bound to the new header of a grow cut short before its rename */
};

/* What observe() found for one disk. Each part is only as deep as the
 * command looked (stop looks at device-mapper only). */
struct observation {
        enum volume_seen volume;
        struct reason volume_problem; /* MISSING, BAD: the sentence */
        bool volume_read_only;
        bool volume_busy;             /* held open exclusively, or could not be opened */
        struct reason busy_problem;   /* the sentence for volume_busy */

        enum header_seen header;
        struct reason header_problem; /* BAD: the sentence; CORRUPT: the first problem */

        bool dm_known;                /* dm is valid; else dm_problem */
        struct reason dm_problem;
        struct dm_state dm;
        enum loop_seen loop;          /* the live table's head, when ours and live */
        /* The live table is the layout of a volume of live_volume_bytes
         * over the right loop, and the volume now has volume_bytes. */
        bool volume_resized;
        size_t resized_partition;     /* the first that changed, from 1 */
        bool resized_not_last;        /* one before the last changed: no grow in place */
        uint64_t live_volume_bytes, volume_bytes; /* of resized_partition */
};

/* What the declaration wants of one disk. */
struct desired {
        bool present;                 /* apply: the disk; stop: none */
        bool read_only;
        bool grow;                    /* a grown volume is to be grown into (apply, grow = yes) */
        const char *header;           /* the header file's path, for reasons */
        const struct dm_table *table; /* the layout over the live loop; NULL when none */
};

struct decision {
        enum action action;
        struct reason reason;
};

/* Pure. Returns the action for the disk and why. */
struct decision decide(const struct desired *want, const struct observation *seen);
