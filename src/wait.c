/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "probe.h"
#include "util.h"
#include "wait.h"

#define POLL_INTERVAL_MS 100

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

size_t wait_for_volumes(struct wait_item *items, size_t n) {
        const uint64_t start = now_ms();
        size_t found = 0, pending;

        do {
                pending = 0;
                for (size_t i = 0; i < n; i++) {
                        struct wait_item *w = &items[i];
                        if (w->path)
                                continue;
                        w->result = probe_resolve(w->spec, &w->path);
                        if (w->result == 0) {
                                found++;
                                continue;
                        }
                        if (w->result != -ENOENT)
                                continue;
                        if (now_ms() - start >= (uint64_t) w->timeout * 1000) {
                                if (w->timeout > 0)
                                        w->result = -ETIMEDOUT;
                                continue;
                        }
                        pending++;
                }
                if (pending > 0) {
                        log_debug("waiting for %zu volume%s", pending, pending == 1 ? "" : "s");
                        nanosleep(&(struct timespec) { 0, POLL_INTERVAL_MS * 1000000L }, NULL);
                }
        } while (pending > 0);
        return found;
}
