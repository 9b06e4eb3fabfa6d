/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* partwrap: give an unpartitioned volume a partition table, without moving
 * its data, as a device-mapper disk. Arguments, help and exit codes. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "reconcile.h"
#include "util.h"

struct command {
        const char *name, *alias;
        int (*run)(const struct options *o, char **args, int n_args);
        const char *args, *help;
        bool mkheader_options;
};

static const struct command commands[] = {
        { "apply", NULL, cmd_apply, "[NAME...]",
          "create missing header files, loop and device-mapper devices" },
        { "stop", "remove", cmd_stop, "[NAME...]",
          "remove the device-mapper devices (header files are kept)" },
        { "check", "status", cmd_check, "[NAME...]",
          "verify configuration, volume, header, loop, table and data path" },
        { "show", NULL, cmd_show, "[NAME...]", "draw each disk's layout: regions, sizes, LBAs, dm table" },
        { "validate", NULL, cmd_validate, "[FILE|DIR...]", "check configuration files only" },
        { "mkheader", NULL, cmd_mkheader, "--size BYTES -o FILE [OPTIONS]",
          "write a header file for a volume of that size, offline", true },
        { "udev-match", NULL, cmd_udev_match, "DEVNODE",
          "print the partwrap@NAME.service units udev should start for DEVNODE" },
};

static void help(FILE *f, const struct command *only) {
        if (only) {
                fprintf(f, "Usage: partwrap [OPTIONS] %s %s\n\n%s.\n", only->name, only->args, only->help);
                if (only->mkheader_options)
                        fputs("\nOptions:\n"
                              "      --size BYTES         volume size (512, 2048K, 30TiB...)\n"
                              "  -o, --output FILE        header file to create (refuses to overwrite)\n"
                              "      --table gpt|mbr      partition table (default gpt)\n"
                              "      --sector-size N      logical sector size, 512 or 4096 (default 512)\n"
                              "      --type TYPE          partition type: a name, a GPT GUID or 0xNN (default basic-data)\n"
                              "      --alignment SIZE     where partition 1 starts (default 1MiB)\n"
                              "      --name NAME          disk name, seeds the GUIDs (default disk)\n"
                              "      --fs-uuid UUID       filesystem UUID, seeds the GUIDs as apply would\n"
                              "      --partition-name S   GPT partition name (default NAME)\n"
                              "      --disk-guid G, --partition-guid G, --disk-signature N\n"
                              "                           pin identifiers instead of deriving them\n",
                              f);
                return;
        }
        fputs("Usage: partwrap [OPTIONS] COMMAND [ARGS...]\n\n"
              "Builds /dev/mapper/NAME = [partition table][volume][GPT backup] for each\n"
              "disk declared in " CONFIG_DIR_DEFAULT "/*.conf, so that an unpartitioned\n"
              "volume becomes partition 1 of a disk a VM can use. No data moves.\n\nCommands:\n", f);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
        fputs("\nOptions:\n"
              "  -c, --config-dir DIR  configuration directory (default " CONFIG_DIR_DEFAULT ")\n"
              "  -n, --dry-run         apply: print the plan and tables, change nothing\n"
              "      --json            machine-readable report on stdout\n"
              "  -q, --quiet           only errors\n"
              "  -v, --verbose         more detail (twice: debug)\n"
              "  -h, --help            this help (COMMAND --help: that command's)\n"
              "  -V, --version         print the version\n"
              "\nExit status: 0 done/healthy, 1 a disk failed, 2 usage or configuration error.\n",
              f);
}

static const struct command *command_find(const char *name) {
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(name, commands[i].name) || streq(name, commands[i].alias))
                        return &commands[i];
        return NULL;
}

enum {
        OPT_JSON = 0x100, OPT_TABLE, OPT_SIZE, OPT_SECTOR_SIZE, OPT_TYPE, OPT_ALIGNMENT, OPT_NAME,
        OPT_FS_UUID, OPT_PARTITION_NAME, OPT_DISK_GUID, OPT_PARTITION_GUID, OPT_DISK_SIGNATURE,
};

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "config-dir", required_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, OPT_JSON },
                { "quiet", no_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "output", required_argument, NULL, 'o' },
                { "table", required_argument, NULL, OPT_TABLE },
                { "size", required_argument, NULL, OPT_SIZE },
                { "sector-size", required_argument, NULL, OPT_SECTOR_SIZE },
                { "type", required_argument, NULL, OPT_TYPE },
                { "alignment", required_argument, NULL, OPT_ALIGNMENT },
                { "name", required_argument, NULL, OPT_NAME },
                { "fs-uuid", required_argument, NULL, OPT_FS_UUID },
                { "partition-name", required_argument, NULL, OPT_PARTITION_NAME },
                { "disk-guid", required_argument, NULL, OPT_DISK_GUID },
                { "partition-guid", required_argument, NULL, OPT_PARTITION_GUID },
                { "disk-signature", required_argument, NULL, OPT_DISK_SIGNATURE },
                {}
        };
        struct options o = { .config_dir = CONFIG_DIR_DEFAULT };
        bool want_help = false, mkheader_opts = false;
        int c;

        /* A fixed threshold: glibc would raise it to the size of the first
         * header buffer freed (1 MiB), and serve the next ones from a heap
         * it must clear and keeps; mapped anew, only the pages a header's
         * tables are written to become resident. */
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);

        while ((c = getopt_long(argc, argv, "c:nqvhVo:", longopts, NULL)) >= 0) {
                const char **mk = NULL;

                switch (c) {
                case 'c': o.config_dir = optarg; break;
                case 'n': o.dry_run = true; break;
                case OPT_JSON: o.json = true; break;
                case 'q': log_max_level = LOG_ERR; break;
                case 'v': log_max_level = log_max_level < LOG_INFO ? LOG_INFO : LOG_DEBUG; break;
                case 'h': want_help = true; break;
                case 'V': printf("partwrap %s\n", PARTWRAP_VERSION); return EXIT_OK;
                case 'o': mk = &o.output; break;
                case OPT_TABLE: mk = &o.table; break;
                case OPT_SIZE: mk = &o.size; break;
                case OPT_SECTOR_SIZE: mk = &o.sector_size; break;
                case OPT_TYPE: mk = &o.type; break;
                case OPT_ALIGNMENT: mk = &o.alignment; break;
                case OPT_NAME: mk = &o.name; break;
                case OPT_FS_UUID: mk = &o.fs_uuid; break;
                case OPT_PARTITION_NAME: mk = &o.partition_name; break;
                case OPT_DISK_GUID: mk = &o.disk_guid; break;
                case OPT_PARTITION_GUID: mk = &o.partition_guid; break;
                case OPT_DISK_SIGNATURE: mk = &o.disk_signature; break;
                default:
                        fputs("Try 'partwrap --help'.\n", stderr);
                        return EXIT_USAGE;
                }
                if (mk) {
                        *mk = optarg;
                        mkheader_opts = true;
                }
        }

        const struct command *cmd = optind < argc ? command_find(argv[optind]) : NULL;
        if (want_help) {
                help(stdout, cmd);
                return EXIT_OK;
        }
        if (!cmd) {
                if (optind < argc)
                        log_error("unknown command '%s'", argv[optind]);
                help(stderr, NULL);
                return EXIT_USAGE;
        }
        if (mkheader_opts && !cmd->mkheader_options) {
                log_error("%s: --output, --size, --table... belong to mkheader", cmd->name);
                return EXIT_USAGE;
        }
        return cmd->run(&o, argv + optind + 1, argc - optind - 1);
}
