/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the bytes are a configuration file, loaded through
 * config_load_file() exactly as apply loads /etc/partwrap.d/NAME.conf
 * (from a memfd, so no disk I/O). The file is loaded twice into one
 * configuration, so the second pass walks the duplicate section, volume
 * and header checks against what the first pass kept.
 *
 *   make fuzz  (or build/fuzz/fuzz-config tests/fuzz/corpus-config) */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        /* Messages are formatted all the same (vsnprintf runs over the
         * input) but not printed: stderr is libFuzzer's. */
        if (!getenv("FUZZ_VERBOSE"))
                log_max_level = -1;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config cfg = { 0 };
        char path[64];
        int fd;

        fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
        if (fd < 0)
                abort();
        /* memfds are created 0777: config_load_file would refuse a file
         * writable by everyone before parsing it. */
        if (fchmod(fd, 0600) < 0)
                abort();
        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, data + done, size - done);
                if (n <= 0)
                        abort();
                done += (size_t) n;
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

        (void) config_load_file(&cfg, path);
        size_t first = cfg.n_disks;
        (void) config_load_file(&cfg, path);
        /* Every section of the second pass repeats one of the first. */
        if (cfg.n_disks != first)
                abort();

        /* What the rest of partwrap relies on for a loaded disk. */
        for (size_t i = 0; i < cfg.n_disks; i++) {
                const struct disk_config *d = &cfg.disks[i];
                if (!config_name_is_valid(d->name) || !d->parts[0].volume || !d->header || d->header[0] != '/' ||
                    d->alignment == 0 || d->alignment > ALIGNMENT_MAX || d->timeout > TIMEOUT_MAX)
                        abort();
                if (config_find(&cfg, d->name) != d)
                        abort();
        }
        config_free(&cfg);
        close(fd);
        return 0;
}
