/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "util.h"

static struct decision decision(enum action a, enum reason_code code, const char *fmt, ...) _printf_(3, 4);
static struct decision decision(enum action a, enum reason_code code, const char *fmt, ...) {
        struct decision d = { .action = a, .reason.code = code };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d.reason.message, sizeof d.reason.message, fmt, ap);
        va_end(ap);
        return d;
}

static struct decision refuse(const struct reason *r) {
        return (struct decision) { .action = ACTION_REFUSE, .reason = *r };
}

/* An existing device of ours against the declaration: NONE, SWAP_TABLE
 * for a volume that grew, or REFUSE with the first difference. The checks that need no table come first: a
 * device without one, or suspended, is not to be compared. */
static struct decision decide_live(const struct desired *want, const struct observation *seen) {
        const struct dm_state *dm = &seen->dm;

        if (!dm->active)
                return decision(ACTION_REFUSE, REASON_DM_NO_TABLE, "has no live table");
        if (dm->suspended)
                return decision(ACTION_REFUSE, REASON_DM_SUSPENDED, "is suspended");
        if (dm->foreign_target)
                return decision(ACTION_REFUSE, REASON_DM_NOT_LINEAR, "has a target that is not linear");
        if (seen->loop == LOOP_SEEN_GROW_TEMP)
                return decision(ACTION_REFUSE, REASON_GROW_UNFINISHED, "reads its head from the new header of a grow "
                                "that did not finish ('partwrap apply' finishes it)");
        if (seen->loop != LOOP_SEEN_RIGHT)
                return decision(ACTION_REFUSE, REASON_DM_LOOP, "does not read its head from a loop device bound to %s",
                                want->header);
        /* The volume grew or shrank under a disk that was right for it:
         * growing keeps the guest's table, shrinking would cut its data. */
        if (seen->volume_resized && seen->volume_bytes < seen->live_volume_bytes)
                return decision(ACTION_REFUSE, REASON_VOLUME_SHRUNK, "has partition %zu of %" PRIu64 " bytes, but its "
                                "volume has %" PRIu64 " bytes now: it shrank, refusing to cut the disk",
                                seen->resized_partition, seen->live_volume_bytes, seen->volume_bytes);
        /* The partitions after it would have to move under the guest. */
        if (seen->volume_resized && seen->resized_not_last)
                return decision(ACTION_REFUSE, REASON_GROW_NOT_LAST, "has partition %zu of %" PRIu64 " bytes, but its "
                                "volume has %" PRIu64 " bytes now; only the last partition of a disk grows in place",
                                seen->resized_partition, seen->live_volume_bytes, seen->volume_bytes);
        if (seen->volume_resized)
                return decision(want->grow ? ACTION_SWAP_TABLE : ACTION_NONE, REASON_GROWABLE, "growable: partition %zu has "
                                "%" PRIu64 " bytes, the volume %" PRIu64, seen->resized_partition, seen->live_volume_bytes,
                                seen->volume_bytes);
        if (!want->table || !dm_table_equal(&dm->table, want->table))
                return decision(ACTION_REFUSE, REASON_DM_TABLE, "has a table that differs from the declaration");
        if (dm->read_only != want->read_only)
                return decision(ACTION_REFUSE, REASON_DM_READ_ONLY, "is %s, declared %s",
                                dm->read_only ? "read-only" : "read-write", want->read_only ? "read-only" : "read-write");
        return decision(ACTION_NONE, REASON_NONE, "table as declared");
}

static struct decision decide_absent(const struct observation *seen) {
        const struct dm_state *dm = &seen->dm;

        if (!seen->dm_known)
                return refuse(&seen->dm_problem);
        if (!dm->exists)
                return decision(ACTION_NONE, REASON_NONE, "not active");
        if (!dm->ours)
                return decision(ACTION_REFUSE, REASON_DM_FOREIGN, "%s", dm->uuid);
        if (dm->open_count > 0)
                return decision(ACTION_REFUSE, REASON_DM_IN_USE, "open %d time%s", dm->open_count,
                                dm->open_count == 1 ? "" : "s");
        return decision(ACTION_REMOVE, REASON_NONE, "ours and unused");
}

struct decision decide(const struct desired *want, const struct observation *seen) {
        if (!want->present)
                return decide_absent(seen);

        /* Nothing is built without its volume, and nothing is judged by a
         * device-mapper state that could not be read. */
        if (seen->volume != VOLUME_SEEN_OK)
                return refuse(&seen->volume_problem);
        if (!seen->dm_known)
                return refuse(&seen->dm_problem);
        if (seen->dm.exists) {
                if (!seen->dm.ours)
                        return decision(ACTION_REFUSE, REASON_DM_FOREIGN, "%s", seen->dm.uuid);
                /* A live disk is never rebuilt under its guest: a header
                 * changed or gone meanwhile is check's to report. */
                return decide_live(want, seen);
        }

        if (seen->header == HEADER_SEEN_BAD)
                return refuse(&seen->header_problem);
        if (seen->header == HEADER_SEEN_CORRUPT)
                return refuse(&seen->header_problem);
        if (seen->volume_read_only && !want->read_only)
                return decision(ACTION_REFUSE, REASON_VOLUME_READ_ONLY, "the volume is read-only");
        if (seen->volume_busy)
                return refuse(&seen->busy_problem);
        return decision(ACTION_CREATE, REASON_NONE, seen->header == HEADER_SEEN_ABSENT ? "header, loop and device" : "loop and device");
}
