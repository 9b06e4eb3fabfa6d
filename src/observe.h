/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The observe step of reconcile.c, shared by every command that looks at
 * declared disks: apply, --dry-run, check, stop, and show (show.c), so
 * that show draws the volume and device-mapper state apply would act on. */

#include "cli.h"
#include "disk.h"

enum observe_scope {
        OBSERVE_APPLY, /* volume, dm; header and whether the volume is free only where a device would be made */
        OBSERVE_CHECK, /* volume, header, dm, loop */
        OBSERVE_SHOW,  /* volume, dm, whether the header file exists: all of them, whatever the volume */
        OBSERVE_STOP,  /* dm */
};

/* Loads the config, selects the disks named in args (all if none) and
 * looks at partwrap's active disks (check does under its locks; apply
 * too, and before its wait only when a volume is declared by tag).
 * Returns 0, or -errno; release the run with run_done() either way. */
int run_init(struct run *run, const struct options *o, char **args, int n_args, enum observe_scope scope);
void run_done(struct run *run);

/* Resolves each of the disk's volumes as it is now, into d->waits, without
 * waiting: check and show report what is there. */
void observe_resolve_now(struct disk *d);

/* Fills d->obs (and d->vols, d->plan, ...), as deep as the scope looks.
 * The volumes must be resolved first (d->waits: waited for, or
 * observe_resolve_now()). */
void observe(const struct run *run, struct disk *d, enum observe_scope scope);
