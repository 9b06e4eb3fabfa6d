/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* show_render_text() and show_render_json(): golden pictures for a GPT disk
 * at 512-byte sectors, an MBR disk at 4096 with a live table, a disk whose
 * volume is not present, and a live table that differs from the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "dmtable.h"
#include "plan.h"
#include "show.h"
#include "util.h"

#define MiB (UINT64_C(1) << 20)

struct fixture {
        struct disk_config cfg;
        struct volume_info vol;
        struct disk_plan plan;
        struct dm_state dm;
};

static void fixture_init(struct fixture *x, const char *name, const char *const *keys, uint64_t size,
                         uint32_t sector_size, const char *fstype, const char *label) {
        char err[256];

        *x = (struct fixture) {};
        assert_int_equal(config_disk_init(&x->cfg, name, err, sizeof err), 0);
        for (; *keys; keys += 2)
                if (config_disk_set(&x->cfg, keys[0], keys[1], err, sizeof err) < 0)
                        fail_msg("%s = %s: %s", keys[0], keys[1], err);
        if (config_disk_finish(&x->cfg, 0, err, sizeof err) < 0)
                fail_msg("%s", err);
        x->vol = (struct volume_info) {
                .devnode = strdup("/dev/dm-3"), .devno = makedev(253, 3), .size_bytes = size,
                .sector_size = sector_size, .fstype = fstype ? strdup(fstype) : NULL,
                .uuid = strdup("0123-4567"), .label = label ? strdup(label) : NULL,
        };
        struct volume_facts f = {
                .size_bytes = size, .sector_size = sector_size, .fstype = fstype, .uuid = x->vol.uuid, .label = label,
        };
        assert_int_equal(plan_build(&x->cfg, &f, &x->plan).status, PLAN_OK);
}

static void fixture_done(struct fixture *x) {
        disk_config_done(&x->cfg);
        plan_done(&x->plan);
        dm_table_done(&x->dm.table);
        volume_info_free(&x->vol);
}

static char *render_text(const struct show_disk *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        show_render_text(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static char *render_json(const struct show_disk *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct json j;

        assert_non_null(f);
        json_init(&j, f);
        show_render_json(&j, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_golden(const char *what, const char *expected, const char *found) {
        if (strcmp(expected, found) != 0) {
                /* print_message() truncates long messages. */
                fprintf(stderr, "--- expected %s\n%s--- found\n%s---\n", what, expected, found);
                fail_msg("%s differs from the golden output", what);
        }
}

static const char GPT_512_TEXT[] =
        "vm-disk: /dev/mapper/vm-disk, not active\n"
        "  volume   /dev/vg/data (/dev/dm-3): 64 MiB, 512-byte sectors, ntfs \"Data\"\n"
        "  header   /var/lib/partwrap/vm-disk.header: 1 MiB head + 16.5 KiB tail = 1065472 bytes (not created yet)\n"
        "  table    gpt, partition 1 at 1 MiB, type basic-data (EBD0A0A2-B9E5-4433-87C0-68B6B72699C7), name \"Data\"\n"
        "  disk     65.0 MiB = 133153 sectors of 512 bytes, usable LBAs 34-133119\n"
        "\n"
        "     LBA\n"
        "       0  +----------------------------------------+\n"
        "          | head                             1 MiB |  2048 sectors, from the header file at offset 0\n"
        "          |   0 protective MBR, 1 GPT header,      |\n"
        "          |   2-33 entries, 34-2047 unused         |\n"
        "    2048  +----------------------------------------+\n"
        "          | partition 1 = the volume        64 MiB |  131072 sectors, from /dev/dm-3 at offset 0\n"
        "          |   LBA 2048-133119                      |\n"
        "  133120  +----------------------------------------+\n"
        "          | tail                          16.5 KiB |  33 sectors, from the header file at offset 1048576\n"
        "          |   133120-133151 backup entries,        |\n"
        "          |   133152 backup GPT header             |\n"
        "  133153  +----------------------------------------+  end (last LBA 133152)\n"
        "\n"
        "  device-mapper table (512-byte units; LOOP = the header file on a loop device, VOLUME = /dev/dm-3):\n"
        "    0 2048 linear LOOP 0\n"
        "    2048 131072 linear VOLUME 0\n"
        "    133120 33 linear LOOP 2048\n";

static const char GPT_512_JSON[] =
        "{\"name\":\"vm-disk\",\"device\":\"/dev/mapper/vm-disk\",\"dm_state\":\"absent\","
        "\"volume_spec\":\"/dev/vg/data\",\"volume\":\"/dev/dm-3\",\"fstype\":\"ntfs\",\"label\":\"Data\","
        "\"header\":\"/var/lib/partwrap/vm-disk.header\",\"header_exists\":false,\"table_type\":\"gpt\","
        "\"partition_type\":\"basic-data\",\"partition_type_code\":\"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\",\"read_only\":false,\"sector_size\":512,\"partition_start\":1048576,"
        "\"partition_size\":67108864,\"disk_size\":68174336,\"header_bytes\":1065472,\"regions\":["
        "{\"kind\":\"head\",\"start\":0,\"length\":1048576,\"first_lba\":0,\"last_lba\":2047,\"sectors\":2048,"
        "\"source\":\"header\",\"source_offset\":0},"
        "{\"kind\":\"partition\",\"start\":1048576,\"length\":67108864,\"first_lba\":2048,\"last_lba\":133119,"
        "\"sectors\":131072,\"source\":\"volume\",\"source_offset\":0},"
        "{\"kind\":\"tail\",\"start\":68157440,\"length\":16896,\"first_lba\":133120,\"last_lba\":133152,"
        "\"sectors\":33,\"source\":\"header\",\"source_offset\":1048576}],"
        "\"table\":[\"0 2048 linear LOOP 0\",\"2048 131072 linear VOLUME 0\",\"133120 33 linear LOOP 2048\"],"
        "\"table_live\":false,\"table_matches\":null,\"problem\":null}\n";

/* GPT at 512-byte sectors, nothing created yet: the picture, the
 * placeholder table, and the same facts as JSON. */
static void test_gpt_512(void **state _unused_) {
        static const char *const keys[] = { "volume", "/dev/vg/data", "header", "/var/lib/partwrap/vm-disk.header", NULL };
        struct fixture x;

        fixture_init(&x, "vm-disk", keys, 64 * MiB, 512, "ntfs", "Data");
        struct show_disk s = { .cfg = &x.cfg, .vol = &x.vol, .layout = &x.plan.layout, .spec = &x.plan.spec, .dm = &x.dm };
        _cleanup_free_ char *text = render_text(&s), *json = render_json(&s);
        assert_golden("text", GPT_512_TEXT, text);
        assert_golden("JSON", GPT_512_JSON, json);
        fixture_done(&x);
}

static const char MBR_4K_TEXT[] =
        "old: /dev/mapper/old, active, read-only\n"
        "  volume   /dev/dm-3: 8 GiB, 4096-byte sectors, vfat\n"
        "  header   /h/old.header: 64 KiB head = 65536 bytes\n"
        "  table    mbr, partition 1 at 64 KiB, type basic-data (0x0c), mapped read-only\n"
        "  disk     8.0 GiB = 2097168 sectors of 4096 bytes\n"
        "\n"
        "      LBA\n"
        "        0  +----------------------------------------+\n"
        "           | head                            64 KiB |  16 sectors, from the header file at offset 0\n"
        "           |   0 MBR, 1-15 unused                   |\n"
        "       16  +----------------------------------------+\n"
        "           | partition 1 = the volume         8 GiB |  2097152 sectors, from /dev/dm-3 at offset 0\n"
        "           |   LBA 16-2097167                       |\n"
        "  2097168  +----------------------------------------+  end (last LBA 2097167)\n"
        "\n"
        "  device-mapper table of /dev/mapper/old (live, 512-byte units):\n"
        "    0 128 linear 7:4 0\n"
        "    128 16777216 linear 253:3 0\n";

/* MBR at 4096-byte sectors (no tail), partwrap's device live and as
 * declared: its table is shown instead of the placeholders. */
static void test_mbr_4k_live(void **state _unused_) {
        static const char *const keys[] = {
                "volume", "/dev/dm-3", "table", "mbr", "alignment", "64K", "header", "/h/old.header", "read-only", "yes", NULL,
        };
        struct fixture x;

        fixture_init(&x, "old", keys, 8192 * MiB, 4096, "vfat", NULL);
        x.dm = (struct dm_state) { .exists = true, .ours = true, .active = true, .read_only = true };
        assert_int_equal(dmtable_build(&x.plan.layout, makedev(7, 4), (const dev_t[]) { makedev(253, 3) }, &x.dm.table), 0);
        struct show_disk s = {
                .cfg = &x.cfg, .vol = &x.vol, .layout = &x.plan.layout, .spec = &x.plan.spec, .dm = &x.dm, .header_exists = 1,
        };
        _cleanup_free_ char *text = render_text(&s), *json = render_json(&s);
        assert_golden("text", MBR_4K_TEXT, text);
        assert_non_null(strstr(json, "\"dm_state\":\"active\""));
        assert_non_null(strstr(json, "\"table\":[\"0 128 linear 7:4 0\",\"128 16777216 linear 253:3 0\"]"));
        assert_non_null(strstr(json, "\"table_live\":true,\"table_matches\":true"));
        assert_non_null(strstr(json, "\"header_exists\":true"));

        /* The same device over another volume: said, not hidden. */
        x.dm.table.t[1].dev = makedev(254, 3);
        free(text);
        text = render_text(&s);
        assert_non_null(strstr(text, "It differs from the layout above: 'partwrap check old' says how.\n"));
        fixture_done(&x);
}

static const char MISSING_TEXT[] =
        "later: /dev/mapper/later, not active\n"
        "  volume   LABEL=LATER: volume not present\n"
        "  header   /var/lib/partwrap/later.header (not created yet)\n"
        "  table    gpt, partition 1 at 1 MiB, type auto (from the filesystem)\n"
        "\n"
        "  offset\n"
        "       0  +----------------------------------------+\n"
        "          | head                             1 MiB |  from the header file at offset 0\n"
        "          |   protective MBR, GPT header, entries  |\n"
        "   1 MiB  +----------------------------------------+\n"
        "          | partition 1 = the volume             ? |  from LABEL=LATER\n"
        "          +----------------------------------------+\n"
        "          | tail                                 ? |  16.5 KiB (512-byte sectors) or 20 KiB (4096), from the header file\n"
        "          |   backup entries, backup GPT header    |\n"
        "          +----------------------------------------+  end\n"
        "\n"
        "  device-mapper table once the volume is known (512-byte units; V = the volume's size in them):\n"
        "    0 2048 linear LOOP 0\n"
        "    2048 V linear VOLUME 0\n"
        "    2048+V 33 linear LOOP 2048    (40, not 33, with 4096-byte sectors)\n";

/* The volume is not there: what the configuration alone says. */
static void test_volume_missing(void **state _unused_) {
        struct disk_config c;
        struct dm_state dm = {};
        char err[256];

        assert_int_equal(config_disk_init(&c, "later", err, sizeof err), 0);
        assert_int_equal(config_disk_set(&c, "volume", "LABEL=LATER", err, sizeof err), 0);
        assert_int_equal(config_disk_finish(&c, 0, err, sizeof err), 0);
        struct show_disk s = { .cfg = &c, .problem = "volume not present", .dm = &dm };
        _cleanup_free_ char *text = render_text(&s), *json = render_json(&s);
        assert_golden("text", MISSING_TEXT, text);
        assert_non_null(strstr(json, "\"volume\":null,"));
        assert_non_null(strstr(json, "\"sector_size\":null,\"partition_start\":1048576,\"partition_size\":null,"));
        assert_non_null(strstr(json, "\"regions\":[],\"table\":[],\"table_live\":false"));
        assert_non_null(strstr(json, "\"problem\":\"volume not present\"}"));
        disk_config_done(&c);
}

/* A device-mapper device of the same name that partwrap does not own, and
 * a state that could not be read. */
static void test_dm_states(void **state _unused_) {
        static const char *const keys[] = { "volume", "/dev/dm-3", NULL };
        struct fixture x;

        fixture_init(&x, "d", keys, 64 * MiB, 512, "ext4", NULL);
        x.dm = (struct dm_state) { .exists = true, .active = true, .uuid = "LVM-abc" };
        x.dm.table.n = 1;
        struct show_disk s = { .cfg = &x.cfg, .vol = &x.vol, .layout = &x.plan.layout, .spec = &x.plan.spec, .dm = &x.dm };
        _cleanup_free_ char *text = render_text(&s);
        assert_true(strncmp(text, "d: /dev/mapper/d, exists but is not partwrap's (DM UUID \"LVM-abc\")\n",
                            strlen("d: /dev/mapper/d, exists but is not partwrap's (DM UUID \"LVM-abc\")\n")) == 0);
        assert_non_null(strstr(text, "    2048 131072 linear VOLUME 0\n")); /* not its table */
        s.dm = NULL;
        free(text);
        text = render_text(&s);
        assert_true(strncmp(text, "d: /dev/mapper/d, device-mapper state unknown\n", 46) == 0);
        fixture_done(&x);
}

/* A label is the guest's: escapes reach the terminal escaped, the JSON
 * document stays valid UTF-8. */
static void test_hostile_label(void **state _unused_) {
        static const char *const keys[] = { "volume", "LABEL=x", NULL };
        const char *label = "\x1b]0;owned\x07\x1b[2Ja\xed\xa0\x80" "b\xc0\xaf\xc2\x9b" "c\\";
        struct fixture x;

        fixture_init(&x, "d", keys, 64 * MiB, 512, "ext4", label);
        struct show_disk s = { .cfg = &x.cfg, .vol = &x.vol, .layout = &x.plan.layout, .spec = &x.plan.spec };
        _cleanup_free_ char *text = render_text(&s);
        assert_null(strchr(text, '\x1b'));
        assert_null(strchr(text, '\x07'));
        assert_null(strstr(text, "\xed\xa0\x80"));
        assert_null(strstr(text, "\xc2\x9b"));
        assert_non_null(strstr(text, "ext4 \"\\x1b]0;owned\\x07\\x1b[2Ja\\xed\\xa0\\x80b\\xc0\\xaf\\xc2\\x9bc\\\\\"\n"));
        /* The GPT partition name comes from the label: escaped as well. */
        assert_non_null(strstr(text, ", name \"\\x1b]0;owned"));
        _cleanup_free_ char *json = render_json(&s);
        assert_non_null(strstr(json, "\"label\":\"\\u001b]0;owned\\u0007\\u001b[2Ja\\ufffd\\ufffd\\ufffdb\\ufffd\\ufffd\\u009bc\\\\\""));
        assert_null(strchr(json, '\x1b'));
        fixture_done(&x);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostile_label),
                cmocka_unit_test(test_gpt_512),
                cmocka_unit_test(test_mbr_4k_live),
                cmocka_unit_test(test_volume_missing),
                cmocka_unit_test(test_dm_states),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
