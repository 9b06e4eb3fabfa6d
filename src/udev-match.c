/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* partwrap udev-match: which partwrap@NAME.service units udev should start
 * for a block device. */
#include <blkid.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "reconcile.h"
#include "stack.h"
#include "util.h"

/* Whether the configured volume is the device udev is processing. Tags
 * compare, encoded as udev encodes them, with the ID_FS_*_ENC values its
 * blkid import set (a label "Win Data" is "Win\x20Data" there); paths
 * compare with the links udev is about to create ($DEVLINKS: on the first
 * event of a dm device, /dev/mapper/NAME does not exist yet), then by
 * device number. */
static bool udev_volume_matches(const char *volume, const struct stat *dev) {
        const char *tag = strncmp(volume, "UUID=", 5) == 0 ? "ID_FS_UUID_ENC"
                        : strncmp(volume, "LABEL=", 6) == 0 ? "ID_FS_LABEL_ENC" : NULL;
        struct stat st;

        if (tag) {
                const char *value = strchr(volume, '=') + 1, *env = getenv(tag);
                size_t len = 4 * strlen(value) + 1;
                _cleanup_free_ char *enc = malloc(len);
                return env && enc && blkid_encode_string(value, enc, len) == 0 && streq(enc, env);
        }
        const char *links = getenv("DEVLINKS");
        size_t n = strlen(volume);
        for (const char *p = links; p && (p = strstr(p, volume)); p += n)
                if ((p == links || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
                        return true;
        return stat(volume, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev->st_rdev;
}

/* Runs for every block uevent: no lock, no device opened, never fails the
 * event. */
int cmd_udev_match(const struct options *o, char **args, int n_args) {
        struct config cfg = { 0 };
        struct stat dev;
        const char *sep = "";

        if (n_args != 1) {
                log_error("udev-match: expects one DEVNODE");
                return EXIT_USAGE;
        }
        int saved = log_max_level;
        log_max_level = -1; /* configuration errors are reported by apply, not here */
        config_load_dir(&cfg, o->config_dir);
        log_max_level = saved;
        if (stat(args[0], &dev) < 0 || !S_ISBLK(dev.st_mode))
                goto out;
        /* Whatever a partwrap disk, or a device built on one, says about
         * its UUID or label is its guest's word. */
        if (stack_partwrap_disk(dev.st_rdev, NULL, 0) > 0)
                goto out;

        for (size_t i = 0; i < cfg.n_disks; i++) {
                bool match = false;
                for (size_t k = 0; k < cfg.disks[i].n_parts && !match; k++)
                        match = udev_volume_matches(cfg.disks[i].parts[k].volume, &dev);
                if (!match)
                        continue;
                if (*sep == 0)
                        fputs("PARTWRAP_UNITS=", stdout);
                fputs(sep, stdout);
                fputs("partwrap@", stdout);
                /* systemd-escape: '-' and anything outside [A-Za-z0-9:_.] become \xNN. */
                for (const unsigned char *p = (const unsigned char *) cfg.disks[i].name; *p; p++) {
                        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                     (*p >= '0' && *p <= '9') || *p == ':' || *p == '_' ||
                                     (*p == '.' && p != (const unsigned char *) cfg.disks[i].name);
                        if (plain)
                                putchar(*p);
                        else
                                printf("\\x%02x", *p);
                }
                fputs(".service", stdout);
                sep = " ";
        }
        if (*sep)
                putchar('\n');
out:
        config_free(&cfg);
        return EXIT_OK;
}
