/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration parser: every key and default, and for each kind of
 * mistake the exact FILE:LINE it is reported at. Runs from the top of the
 * source tree (it loads conf/partwrap.conf). */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

static char tmpdir[] = "/tmp/test-config-XXXXXX";

static int remove_one(const char *path, const struct stat *st _unused_, int flag _unused_, struct FTW *ftw _unused_) {
        return remove(path);
}

static int setup(void **state _unused_) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state _unused_) {
        return nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes len bytes (or the string) to tmpdir/name with that mode; returns
 * the path (static, valid until the next call). */
static const char *write_file_len(const char *name, const char *text, size_t len, mode_t mode) {
        static char path[256];

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
        return path;
}

static const char *write_file(const char *name, const char *text) {
        return write_file_len(name, text, strlen(text), 0644);
}

/* Runs load(cfg, path) with stderr going to a file; returns what was
 * written there (free it) and the return value in *ret. */
static char *load_captured(int (*load)(struct config *, const char *), struct config *cfg, const char *path, int *ret) {
        FILE *t = tmpfile();
        assert_non_null(t);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fileno(t), STDERR_FILENO) >= 0);
        *ret = load(cfg, path);
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);

        long n = ftell(t);
        char *s = calloc(1, (size_t) n + 1);
        assert_non_null(s);
        rewind(t);
        assert_int_equal(fread(s, 1, (size_t) n, t), (size_t) n);
        fclose(t);
        return s;
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Asserts that the error output holds "partwrap: PATH:LINE: ...MSG...". */
static void assert_error_at(const char *err, const char *path, unsigned line, const char *msg) {
        char prefix[512];

        snprintf(prefix, sizeof prefix, "partwrap: %s:%u: ", path, line);
        for (const char *l = err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t len = strcspn(l, "\n");
                if (strncmp(l, prefix, strlen(prefix)) == 0 && memmem(l, len, msg, strlen(msg)))
                        return;
        }
        fail_msg("expected \"%s...%s\" in:\n%s", prefix, msg, err);
}

static void test_defaults(void **state _unused_) {
        struct config cfg = {};
        const char *path = write_file("defaults.conf", "[d]\nvolume = /dev/vg/d\n");
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_int_equal(cfg.n_errors, 0);
        assert_int_equal(cfg.n_disks, 1);
        const struct disk_config *d = config_find(&cfg, "d");
        assert_non_null(d);
        assert_string_equal(d->name, "d");
        assert_string_equal(d->file, path);
        assert_int_equal(d->line, 1);
        assert_string_equal(d->parts[0].volume, "/dev/vg/d");
        assert_int_equal(d->table, TABLE_GPT);
        assert_true(d->parts[0].type_auto);
        assert_int_equal(d->alignment, 1 << 20);
        assert_string_equal(d->header, "/var/lib/partwrap/d.header");
        assert_null(d->parts[0].name);
        assert_false(d->has_disk_guid);
        assert_false(d->parts[0].has_guid);
        assert_false(d->has_disk_signature);
        assert_false(d->read_only);
        assert_int_equal(d->timeout, 90);
        assert_false(d->nofail);
        assert_null(config_find(&cfg, "e"));
        config_free(&cfg);
        assert_int_equal(cfg.n_disks, 0);
}

static void test_every_key(void **state _unused_) {
        struct config cfg = {};
        const char *path = write_file("every.conf",
                                      "; a comment\n"
                                      "# another\n"
                                      "\n"
                                      "[gpt-disk]\n"
                                      "volume = UUID=0123456789ABCDEF ; NTFS serial\n"
                                      "table = gpt\n"
                                      "type = linux\n"
                                      "alignment = 2048K\n"
                                      "header = /srv/partwrap/gpt.header\n"
                                      "partition-name = Données ☃ 😀\n"
                                      "disk-guid = 0f3a52c4-62a1-4bc4-9f0e-2e4d5a1b7c90\n"
                                      "partition-guid = 5D2B8E61-0C3F-4A57-B1D9-6E8F4A2C3B17\n"
                                      "read-only = yes\n"
                                      "timeout = 0\n"
                                      "nofail = true\n"
                                      "[mbr.disk@host:1]\n"
                                      "volume = LABEL=My Data\n"
                                      "table = mbr\n"
                                      "type = 0x0c\n"
                                      "alignment = 512\n"
                                      "disk-signature = 0xDEADbeef\n"
                                      "read-only = off\n"
                                      "timeout = 86400\n"
                                      "nofail = 0\n"
                                      "[dec_sig]\n"
                                      "volume: /dev/disk/by-id/nvme-Samsung_SSD_980_PRO_2TB_S6B0NL0T123456X\n"
                                      "table = mbr\n"
                                      "type = esp\n"
                                      "disk-signature = 4294967295\n"
                                      "alignment = 1GiB\n"
                                      "[guid-type]\n"
                                      "volume = /dev/vg/g\n"
                                      "type = ca7d7ccb-63ed-4c53-861c-1742536059cc\n"
                                      "alignment = 17408\n");
        char buf[GUID_STRING_MAX];
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_int_equal(cfg.n_errors, 0);
        assert_int_equal(cfg.n_disks, 4);

        const struct disk_config *g = &cfg.disks[0];
        assert_string_equal(g->name, "gpt-disk");
        assert_int_equal(g->line, 4);
        assert_string_equal(g->parts[0].volume, "UUID=0123456789ABCDEF");
        assert_int_equal(g->table, TABLE_GPT);
        assert_false(g->parts[0].type_auto);
        assert_string_equal(g->parts[0].type.name, "linux");
        assert_int_equal(g->alignment, 2 << 20);
        assert_string_equal(g->header, "/srv/partwrap/gpt.header");
        assert_string_equal(g->parts[0].name, "Données ☃ 😀");
        assert_true(g->has_disk_guid);
        assert_string_equal(guid_format(&g->disk_guid, buf), "0F3A52C4-62A1-4BC4-9F0E-2E4D5A1B7C90");
        assert_true(g->parts[0].has_guid);
        assert_string_equal(guid_format(&g->parts[0].guid, buf), "5D2B8E61-0C3F-4A57-B1D9-6E8F4A2C3B17");
        assert_false(g->has_disk_signature);
        assert_true(g->read_only);
        assert_int_equal(g->timeout, 0);
        assert_true(g->nofail);

        const struct disk_config *m = config_find(&cfg, "mbr.disk@host:1");
        assert_non_null(m);
        assert_string_equal(m->parts[0].volume, "LABEL=My Data");
        assert_int_equal(m->table, TABLE_MBR);
        assert_int_equal(m->parts[0].type.flags, PTYPE_HAS_MBR);
        assert_int_equal(m->parts[0].type.mbr, 0x0c);
        assert_int_equal(m->alignment, 512);
        assert_string_equal(m->header, "/var/lib/partwrap/mbr.disk@host:1.header");
        assert_true(m->has_disk_signature);
        assert_int_equal(m->disk_signature, 0xdeadbeef);
        assert_false(m->read_only);
        assert_int_equal(m->timeout, 86400);
        assert_false(m->nofail);

        const struct disk_config *s = config_find(&cfg, "dec_sig");
        assert_string_equal(s->parts[0].volume, "/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_2TB_S6B0NL0T123456X");
        assert_int_equal(s->disk_signature, 0xffffffff);
        assert_string_equal(s->parts[0].type.name, "esp");
        assert_int_equal(s->alignment, 1 << 30);

        const struct disk_config *t = config_find(&cfg, "guid-type");
        assert_int_equal(t->parts[0].type.flags, PTYPE_HAS_GPT);
        assert_string_equal(guid_format(&t->parts[0].type.gpt, buf), "CA7D7CCB-63ED-4C53-861C-1742536059CC");
        assert_int_equal(t->alignment, 17408);
        config_free(&cfg);
}

/* A disk of several volumes: the per-partition keys are lists, and a list
 * may go on over several lines. */
static void test_lists(void **state _unused_) {
        struct config cfg = {};
        const char *path = write_file("lists.conf",
                                      "[multi]\n"
                                      "volume = /dev/vg/a , UUID=1234-ABCD\n"
                                      "volume = LABEL=Three, /dev/vg/four\n"
                                      "type = basic-data, linux\n"
                                      "type = esp, auto\n"
                                      "partition-name = Sys, Data\n"
                                      "partition-name = EFI,Spare\n"
                                      "partition-guid = 0F3A52C4-62A1-4BC4-9F0E-2E4D5A1B7C90, 5D2B8E61-0C3F-4A57-B1D9-6E8F4A2C3B17\n"
                                      "partition-guid = 11111111-2222-3333-4444-555555555555, 11111111-2222-3333-4444-555555555556\n"
                                      "[one-type]\n"
                                      "volume = /dev/vg/x, /dev/vg/y\n"
                                      "type = linux\n"
                                      "[comma]\n"
                                      "volume = /dev/vg/z\n"
                                      "partition-name = Data, old\n");
        char buf[GUID_STRING_MAX];
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        assert_string_equal(err, "");
        assert_int_equal(cfg.n_disks, 3);
        const struct disk_config *d = &cfg.disks[0];
        assert_int_equal(d->n_parts, 4);
        assert_string_equal(d->parts[0].volume, "/dev/vg/a");
        assert_string_equal(d->parts[1].volume, "UUID=1234-ABCD");
        assert_string_equal(d->parts[2].volume, "LABEL=Three");
        assert_string_equal(d->parts[3].volume, "/dev/vg/four");
        assert_string_equal(d->parts[0].type.name, "basic-data");
        assert_string_equal(d->parts[1].type.name, "linux");
        assert_string_equal(d->parts[2].type.name, "esp");
        assert_true(d->parts[3].type_auto);
        assert_string_equal(d->parts[2].name, "EFI");
        assert_string_equal(d->parts[3].name, "Spare");
        assert_string_equal(guid_format(&d->parts[3].guid, buf), "11111111-2222-3333-4444-555555555556");
        const struct disk_config *o = &cfg.disks[1];
        assert_int_equal(o->n_parts, 2);
        assert_string_equal(o->parts[1].type.name, "linux");
        /* One volume: its name is the whole value, comma and all. */
        assert_string_equal(cfg.disks[2].parts[0].name, "Data, old");
        config_free(&cfg);
}

static void test_booleans(void **state _unused_) {
        static const struct {
                const char *s;
                bool v;
        } cases[] = { { "yes", true }, { "YES", true },  { "true", true },   { "True", true },  { "on", true },   { "1", true },
                      { "no", false }, { "No", false },  { "false", false }, { "FALSE", false }, { "off", false }, { "0", false } };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct disk_config d;
                char err[256];
                assert_int_equal(config_disk_init(&d, "b", err, sizeof err), 0);
                assert_int_equal(config_disk_set(&d, "read-only", cases[i].s, err, sizeof err), 0);
                assert_true(d.grow); /* the default */
                assert_int_equal(config_disk_set(&d, "nofail", cases[i].s, err, sizeof err), 0);
                assert_int_equal(config_disk_set(&d, "grow", cases[i].s, err, sizeof err), 0);
                assert_int_equal(d.read_only, cases[i].v);
                assert_int_equal(d.nofail, cases[i].v);
                assert_int_equal(d.grow, cases[i].v);
                disk_config_done(&d);
        }
}

/* A UTF-8 byte-order mark, CRLF line ends, "key: value", inline ';'
 * comments and indented keys right after a section header. */
static void test_syntax_variants(void **state _unused_) {
        struct config cfg = {};
        const char *path = write_file("variants.conf",
                                      "\xef\xbb\xbf[bom]\r\n"
                                      "  volume = /dev/vg/bom\r\n"
                                      "table: mbr ; inline comment\r\n"
                                      "\r\n"
                                      "timeout = 5;not a comment\r\n");
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        /* "5;not" is no number: ';' starts a comment only after whitespace. */
        assert_int_equal(r, 0);
        assert_int_equal(cfg.n_errors, 1);
        assert_error_at(err, path, 5, "timeout '5;not a comment'");
        config_free(&cfg);

        path = write_file("variants.conf",
                          "\xef\xbb\xbf[bom]\r\n"
                          "  volume = /dev/vg/bom\r\n"
                          "table: mbr ; inline comment\r\n");
        free(err);
        err = load_captured(config_load_file, &cfg, path, &r);
        assert_string_equal(err, "");
        const struct disk_config *d = config_find(&cfg, "bom");
        assert_non_null(d);
        assert_string_equal(d->parts[0].volume, "/dev/vg/bom");
        assert_int_equal(d->table, TABLE_MBR);
        config_free(&cfg);
}

static void test_name_is_valid(void **state _unused_) {
        char longest[CONFIG_NAME_MAX + 2];

        memset(longest, 'a', sizeof longest - 1);
        longest[CONFIG_NAME_MAX] = '\0';
        assert_true(config_name_is_valid(longest));
        longest[CONFIG_NAME_MAX] = 'a';
        longest[CONFIG_NAME_MAX + 1] = '\0';
        assert_false(config_name_is_valid(longest));

        static const char *const good[] = { "a", "win-data", "VM_01.disk", "x@y:z", "...", ".hidden", "controller" };
        static const char *const bad[] = { "", ".", "..", "control", "-v", "-", "--", "-n", "a b", "a/b", "a\"b", "a'b", "a\\b", "a#b",
                                           "a+b", "a=b", "a\tb", "é", "a%b", "a*b" };
        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                if (!config_name_is_valid(good[i]))
                        fail_msg("\"%s\" should be valid", good[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (config_name_is_valid(bad[i]))
                        fail_msg("\"%s\" should be invalid", bad[i]);
}

struct bad_case {
        const char *text; /* a section [zz-ok] is appended */
        unsigned line;
        const char *msg;
        unsigned good; /* valid disks besides zz-ok */
};

#define V "volume = /dev/vg/x\n"
#define GUID1 "0F3A52C4-62A1-4BC4-9F0E-2E4D5A1B7C90"
#define LONG_NAME "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG_LINE "partition-name = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const struct bad_case bad_cases[] = {
        /* structure */
        { "volume = /dev/vg/x\n", 1, "'volume' outside of a [section]" },
        { "[bad]\n" V "foo = bar\n", 3, "unknown key 'foo'" },
        { "[bad]\n" V "= bar\n", 3, "unknown key ''" },
        { "[bad]\n" V "table = gpt\ntable = mbr\n", 4, "'table' given twice (first on line 3)" },
        /* lists */
        { "[bad]\n" V "volume = /dev/vg/x\n", 3, "volume /dev/vg/x is listed twice (partitions 1 and 2)" },
        { "[bad]\nvolume = /dev/vg/a, , /dev/vg/b\n", 2, "volume: empty item 2 in the list" },
        { "[bad]\nvolume = /dev/vg/a, /dev/vg/b\ntype = linux, esp, linux\n", 3,
          "type lists 3 values for 2 partitions: give one for all, or one each" },
        { "[bad]\nvolume = /dev/vg/a, /dev/vg/b\npartition-name = A\n", 3, "partition-name lists 1 names for 2 partitions" },
        { "[bad]\nvolume = /dev/vg/a, /dev/vg/b\npartition-guid = " GUID1 "\npartition-guid = " GUID1 "\n", 4,
          "is listed twice (partitions 1 and 2)" },
        { "[bad]\nvolume = /dev/a, /dev/b, /dev/c, /dev/d, /dev/e\ntable = mbr\n", 2,
          "5 volumes, but an MBR table holds at most 4 partitions (use table = gpt)" },
        { "[bad]\n" V "timeout = 1\n\n; comment\ntimeout = 2\n", 6, "'timeout' given twice (first on line 3)" },
        { "[bad]\ntable = gpt\n", 1, "[bad] has no 'volume'" },
        { "[bad]\n", 1, "[bad] has no 'volume'" },
        { "[bad]\n" V "junk line\n", 3, "expected 'key = value'" },
        { "[bad]\n" V "table ; = mbr\n", 3, "expected 'key = value'" },
        { "[bad\n" V, 1, "section header without ']'" },
        { "[bad ; x]\n" V, 1, "section header without ']'" },
        { "[bad] junk\n" V, 1, "unexpected text after ']'" },
        { "[bad]\n" V "  table = mbr\n", 3, "indented line continues the value of 'volume'" },
        { "[bad]\n" V LONG_LINE "\n", 3, "line is longer than 198 bytes" },
        { "[dup]\n" V "[dup]\nvolume = /dev/vg/y\n", 3, "duplicate section [dup], first declared at ", 1 },
        { "[first]\n" V "[bad]\n" V, 4, "volume /dev/vg/x is already used by [first]", 1 },
        { "[first]\n" V "header = /h/a\n[bad]\nvolume = /dev/vg/y\nheader = /h/a\n", 6, "header /h/a is already used by [first]", 1 },
        { "[first]\n" V "header = /var/lib/partwrap/bad.header\n[bad]\nvolume = /dev/vg/y\n", 4,
          "header /var/lib/partwrap/bad.header is already used by [first]", 1 },
        /* names */
        { "[bad name]\n" V, 1, "invalid disk name [bad name]" },
        { "[a/b]\n" V, 1, "invalid disk name" },
        { "[..]\n" V, 1, "invalid disk name" },
        { "[control]\n" V, 1, "invalid disk name" },
        { "[]\n" V, 1, "invalid disk name []" },
        { "[a+b]\n" V, 1, "invalid disk name" },
        { "[" LONG_NAME "]\n" V, 1, "invalid disk name" },
        { "[-v]\n" V, 1, "invalid disk name [-v]: 1 to 119 characters of A-Z a-z 0-9 : . _ @ -, not starting with '-'" },
        /* one header file, spelt differently */
        { "[first]\n" V "header = /h/a\n[bad]\nvolume = /dev/vg/y\nheader = /h//./a\n", 6, "header /h/a is already used by [first]", 1 },
        { "[first]\n" V "[bad]\nvolume = /dev/vg/y\nheader = /var/lib//partwrap/./first.header\n", 5,
          "header /var/lib/partwrap/first.header is already used by [first]", 1 },
        { "[bad]\n" V "header = /var/lib/partwrap/../partwrap/x.header\n", 3, "header '/var/lib/partwrap/../partwrap/x.header' contains a '..' component" },
        /* values */
        { "[bad]\nvolume =\n", 2, "empty value for 'volume'" },
        { "[bad]\n" V "table = ; nothing\n", 3, "empty value for 'table'" },
        { "[bad]\nvolume = dev/vg/x\n", 2, "volume 'dev/vg/x' is neither an absolute path" },
        { "[bad]\nvolume = UUID=\n", 2, "has an empty UUID= or LABEL=" },
        { "[bad]\nvolume = LABEL=\n", 2, "has an empty UUID= or LABEL=" },
        { "[bad]\nvolume = UUID=12 34\n", 2, "contains whitespace" },
        { "[bad]\nvolume = /dev/vg/x # the data\n", 2, "contains whitespace" },
        { "[bad]\nvolume = /dev/vg/\n", 2, "ends in '/'" },
        { "[bad]\nvolume = sdb\n", 2, "is neither an absolute path" },
        { "[bad]\n" V "table = msdos\n", 3, "table must be gpt or mbr, not 'msdos'" },
        { "[bad]\n" V "table = GPT\n", 3, "table must be gpt or mbr" },
        { "[bad]\n" V "type = ntfs\n", 3, "unknown type 'ntfs'" },
        { "[bad]\n" V "type = 0FC63DAF-8483-4772-8E79-3D69D8477DE\n", 3, "unknown type" },
        { "[bad]\n" V "type = 0x100\n", 3, "unknown type" },
        { "[bad]\n" V "table = mbr\ntype = 0x00\n", 4, "type 0x00 is reserved" },
        { "[bad]\n" V "table = mbr\ntype = 0xee\n", 4, "type 0xee is reserved" },
        { "[bad]\n" V "table = mbr\ntype = 0x05\n", 4, "is reserved" },
        { "[bad]\n" V "table = mbr\ntype = 0x0F\n", 4, "is reserved" },
        { "[bad]\n" V "table = mbr\ntype = 0x85\n", 4, "is reserved" },
        { "[bad]\n" V "type = 00000000-0000-0000-0000-000000000000\n", 3, "is reserved" },
        { "[bad]\n" V "alignment = 1000\n", 3, "alignment 1000 is not a multiple of 512 bytes" },
        { "[bad]\n" V "alignment = 1X\n", 3, "alignment '1X' is not a size" },
        { "[bad]\n" V "alignment = 1.5M\n", 3, "is not a size" },
        { "[bad]\n" V "alignment = -1M\n", 3, "is not a size" },
        { "[bad]\n" V "alignment = 2GiB\n", 3, "alignment 2GiB is above the maximum of 1 GiB" },
        { "[bad]\n" V "alignment = 99999999999999999999\n", 3, "is above the maximum" },
        { "[bad]\n" V "alignment = 4KiB\n", 3, "alignment 4 KiB is too small for a gpt table (at least 17 KiB)" },
        { "[bad]\n" V "alignment = 0\ntable = mbr\n", 3, "alignment 0 B is too small for a mbr table (at least 512 B)" },
        { "[bad]\n" V "header = relative/x.header\n", 3, "header 'relative/x.header' is not an absolute path" },
        { "[bad]\n" V "header = /var/lib/\n", 3, "ends in '/'" },
        { "[bad]\n" V "header = /var/lib/my header\n", 3, "contains whitespace" },
        { "[bad]\n" V "partition-name = 0123456789012345678901234567890123456\n", 3, "is longer than the 36 UTF-16 code units" },
        { "[bad]\n" V "partition-name = 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀\n", 3, "is longer than the 36" },
        { "[bad]\n" V "partition-name = a\xff\xfe\n", 3, "partition-name is not valid UTF-8" },
        { "[bad]\n" V "partition-name = \xc0\xaf\n", 3, "not valid UTF-8" },
        { "[bad]\n" V "partition-name = \xed\xa0\x80\n", 3, "not valid UTF-8" },
        { "[bad]\n" V "partition-name = a\tb\n", 3, "partition-name contains a control character" },
        { "[bad]\n" V "partition-name = a\xc2\x85\n", 3, "contains a control character" },
        { "[bad]\n" V "disk-guid = not-a-guid\n", 3, "disk-guid 'not-a-guid' is not a GUID" },
        { "[bad]\n" V "disk-guid = {" GUID1 "}\n", 3, "is not a GUID" },
        { "[bad]\n" V "partition-guid = 00000000-0000-0000-0000-000000000000\n", 3, "partition-guid must not be all zeros" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 0\n", 4, "disk-signature must not be zero" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 0x00000000\n", 4, "must not be zero" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 0x100000000\n", 4, "is not a 32-bit number" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 4294967296\n", 4, "is not a 32-bit number" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 12ab\n", 4, "disk-signature '12ab' is not a 32-bit number" },
        { "[bad]\n" V "table = mbr\ndisk-signature = -1\n", 4, "is not a 32-bit number" },
        { "[bad]\n" V "table = mbr\ndisk-signature = 0x\n", 4, "is not a 32-bit number" },
        { "[bad]\n" V "read-only = maybe\n", 3, "read-only must be yes or no" },
        { "[bad]\n" V "nofail = 2\n", 3, "nofail must be yes or no" },
        { "[bad]\n" V "grow = sometimes\n", 3, "grow must be yes or no" },
        { "[bad]\n" V "nofail = no # not a comment\n", 3, "not 'no # not a comment'" },
        { "[bad]\n" V "timeout = -1\n", 3, "timeout '-1' is not a number of seconds from 0 to 86400" },
        { "[bad]\n" V "timeout = 86401\n", 3, "timeout '86401'" },
        { "[bad]\n" V "timeout = 1.5\n", 3, "timeout '1.5'" },
        { "[bad]\n" V "timeout = 90s\n", 3, "timeout '90s'" },
        { "[bad]\n" V "timeout = 0x10\n", 3, "timeout '0x10'" },
        /* contradictions, at the line of the key that cannot be */
        { "[bad]\n" V "table = mbr\ndisk-guid = " GUID1 "\n", 4, "disk-guid is a GPT field, but table = mbr" },
        { "[bad]\n" V "partition-guid = " GUID1 "\ntable = mbr\n", 3, "partition-guid is a GPT field, but table = mbr" },
        { "[bad]\n" V "table = mbr\npartition-name = Data\n", 4, "partition-name is a GPT field" },
        { "[bad]\n" V "type = " GUID1 "\ntable = mbr\n", 3, "type " GUID1 " is for GPT only, but table = mbr" },
        { "[bad]\n" V "disk-signature = 0x1234\n", 3, "disk-signature is an MBR field, but table = gpt" },
        { "[bad]\n" V "table = gpt\ntype = 0x07\n", 4, "type 0x07 is for MBR only, but table = gpt" },
};

static void test_bad_inputs(void **state _unused_) {
        for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                _cleanup_free_ char *text = strdup_printf("%s\n[zz-ok]\nvolume = /dev/vg/zz-ok\n", c->text);
                char name[32];
                struct config cfg = {};
                int r;

                snprintf(name, sizeof name, "bad-%02zu.conf", i);
                const char *path = write_file(name, text);
                _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);
                assert_int_equal(r, 0);
                /* Exactly one error, where it belongs; the rest loads. */
                assert_error_at(err, path, c->line, c->msg);
                if (count_lines(err) != 1 || cfg.n_errors != 1)
                        fail_msg("%s: %u errors counted, expected one:\n%s", path, cfg.n_errors, err);
                assert_non_null(config_find(&cfg, "zz-ok"));
                assert_null(config_find(&cfg, "bad"));
                assert_int_equal(cfg.n_disks, c->good + 1);
                config_free(&cfg);
        }
        print_message("# %zu invalid inputs tried\n", ARRAY_SIZE(bad_cases));
}

static void test_nul_byte(void **state _unused_) {
        static const char text[] = "[bad]\nvolume = /dev/vg/x\0y\n[ok]\nvolume = /dev/vg/ok\n";
        struct config cfg = {};
        const char *path = write_file_len("nul.conf", text, sizeof text - 1, 0644);
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        assert_error_at(err, path, 2, "line contains a NUL byte");
        assert_int_equal(cfg.n_errors, 1);
        assert_int_equal(cfg.n_disks, 1);
        assert_non_null(config_find(&cfg, "ok"));
        config_free(&cfg);
}

/* inih stops counting at its first syntax error; every one is reported. */
static void test_many_errors(void **state _unused_) {
        struct config cfg = {};
        const char *path = write_file("many.conf",
                                      "[one]\n"                  /* 1 */
                                      "volume = /dev/vg/1\n"     /* 2 */
                                      "oops\n"                   /* 3 */
                                      "[two\n"                   /* 4 */
                                      "volume = /dev/vg/2\n"     /* 5 */
                                      "[three]\n"                /* 6 */
                                      "volume = /dev/vg/3\n"     /* 7 */
                                      "bogus\n"                  /* 8 */
                                      "table = mbr\n"            /* 9 */
                                      "disk-guid = " GUID1 "\n"  /* 10 */
                                      "[four]\n"                 /* 11 */
                                      "volume = /dev/vg/4\n");   /* 12 */
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);

        assert_int_equal(r, 0);
        assert_error_at(err, path, 3, "expected 'key = value'");
        assert_error_at(err, path, 4, "section header without ']'");
        assert_error_at(err, path, 8, "expected 'key = value'");
        assert_error_at(err, path, 10, "disk-guid is a GPT field");
        assert_int_equal(cfg.n_errors, 4);
        assert_int_equal(count_lines(err), 4);
        assert_int_equal(cfg.n_disks, 1);
        assert_non_null(config_find(&cfg, "four"));
        config_free(&cfg);
}

static void test_across_files(void **state _unused_) {
        struct config cfg = {};
        char a[256], b[256], c[256];
        int r;

        snprintf(a, sizeof a, "%s", write_file("a.conf", "[x]\nvolume = /dev/vg/x\n[broken]\ntable = mbr\n"));
        snprintf(b, sizeof b, "%s", write_file("b.conf", "\n[x]\nvolume = /dev/vg/other\n[broken]\nvolume = /dev/vg/b\n"));
        snprintf(c, sizeof c, "%s", write_file("c.conf", "[y]\nvolume = /dev/vg/x\n[z]\nvolume = /dev/vg/z\n"));
        free(load_captured(config_load_file, &cfg, a, &r));
        assert_int_equal(cfg.n_errors, 1);
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, b, &r);
        char first[512];
        snprintf(first, sizeof first, "duplicate section [x], first declared at %s:1", a);
        assert_error_at(err, b, 2, first);
        /* The first [broken] had an error, yet it was declared first. */
        snprintf(first, sizeof first, "duplicate section [broken], first declared at %s:3", a);
        assert_error_at(err, b, 4, first);
        free(err);
        err = load_captured(config_load_file, &cfg, c, &r);
        snprintf(first, sizeof first, "volume /dev/vg/x is already used by [x] (%s:1)", a);
        assert_error_at(err, c, 2, first);
        assert_int_equal(cfg.n_errors, 4);
        assert_int_equal(cfg.n_disks, 2);
        assert_string_equal(config_find(&cfg, "x")->parts[0].volume, "/dev/vg/x");
        assert_non_null(config_find(&cfg, "z"));
        assert_null(config_find(&cfg, "broken"));
        assert_null(config_find(&cfg, "y"));
        config_free(&cfg);
}

static void test_dir(void **state _unused_) {
        struct config cfg = {};
        char dir[256];
        int r;

        snprintf(dir, sizeof dir, "%s/partwrap.d", tmpdir);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file("partwrap.d/20-b.conf", "[b]\nvolume = /dev/vg/b\n[dup]\nvolume = /dev/vg/dup2\n");
        write_file("partwrap.d/10-a.conf", "[a]\nvolume = /dev/vg/a\n[dup]\nvolume = /dev/vg/dup1\n");
        write_file("partwrap.d/15-bad.conf", "[bad]\nvolume = relative\n[c]\nvolume = /dev/vg/c\n");
        write_file("partwrap.d/30-broken.conf", "[[[\n");
        write_file("partwrap.d/README", "not a config\n");
        write_file("partwrap.d/x.conf.bak", "[bak]\nvolume = /dev/vg/bak\n");
        write_file("partwrap.d/.hidden.conf", "[hidden]\nvolume = /dev/vg/h\n");
        write_file("partwrap.d/B.conf", "[upper]\nvolume = /dev/vg/upper\n");
        _cleanup_free_ char *err = load_captured(config_load_dir, &cfg, dir, &r);

        assert_int_equal(r, 0);
        char path[300];
        snprintf(path, sizeof path, "%s/15-bad.conf", dir);
        assert_error_at(err, path, 2, "is neither an absolute path");
        snprintf(path, sizeof path, "%s/20-b.conf", dir);
        assert_error_at(err, path, 3, "duplicate section [dup]");
        snprintf(path, sizeof path, "%s/30-broken.conf", dir);
        assert_error_at(err, path, 1, "");
        assert_int_equal(cfg.n_errors, count_lines(err));
        /* strcmp order: "10-a" < "15-bad" < "20-b" < "B" (digits and
         * capitals before lower case, whatever the locale says). */
        const char *order[] = { "a", "dup", "c", "b", "upper" };
        assert_int_equal(cfg.n_disks, ARRAY_SIZE(order));
        for (size_t i = 0; i < ARRAY_SIZE(order); i++)
                assert_string_equal(cfg.disks[i].name, order[i]);
        assert_string_equal(config_find(&cfg, "dup")->parts[0].volume, "/dev/vg/dup1");
        config_free(&cfg);

        /* A missing directory is an empty configuration. */
        snprintf(dir, sizeof dir, "%s/nonexistent", tmpdir);
        free(err);
        err = load_captured(config_load_dir, &cfg, dir, &r);
        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_int_equal(cfg.n_errors, 0);
        assert_int_equal(cfg.n_disks, 0);
}

static void test_unreadable(void **state _unused_) {
        struct config cfg = {};
        char path[256];
        int r;

        snprintf(path, sizeof path, "%s/missing.conf", tmpdir);
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);
        assert_int_equal(r, -ENOENT);
        assert_int_equal(cfg.n_errors, 1);
        assert_non_null(strstr(err, path));

        free(err);
        err = load_captured(config_load_file, &cfg, tmpdir, &r);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(err, "not a regular file"));
        assert_int_equal(cfg.n_errors, 2);

        const char *file = write_file("plain.conf", "[p]\nvolume = /dev/vg/p\n");
        free(err);
        err = load_captured(config_load_dir, &cfg, file, &r);
        assert_int_equal(r, -ENOTDIR);
        assert_int_equal(cfg.n_errors, 3);

        /* A FIFO is refused without blocking in open() (no writer ever
         * comes: a blocking open would hang the test). */
        snprintf(path, sizeof path, "%s/fifo.conf", tmpdir);
        assert_int_equal(mkfifo(path, 0600), 0);
        free(err);
        err = load_captured(config_load_file, &cfg, path, &r);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(err, "not a regular file"));
        assert_int_equal(cfg.n_errors, 4);

        /* A symlink is not followed, even to a good file. */
        char link[256];
        snprintf(link, sizeof link, "%s/link.conf", tmpdir);
        assert_int_equal(symlink(file, link), 0);
        free(err);
        err = load_captured(config_load_file, &cfg, link, &r);
        assert_int_equal(r, -ELOOP);
        assert_non_null(strstr(err, "is a symbolic link, refusing to follow it"));
        assert_int_equal(cfg.n_errors, 5);
        assert_int_equal(cfg.n_disks, 0);
        config_free(&cfg);
}

static void test_path_simplify(void **state _unused_) {
        static const char *const cases[][2] = {
                { "/var/lib/partwrap/x.header", "/var/lib/partwrap/x.header" },
                { "/var/lib/partwrap//x.header", "/var/lib/partwrap/x.header" },
                { "//var///lib/./partwrap/./x.header", "/var/lib/partwrap/x.header" },
                { "/a/.", "/a" },
                { "/", "/" },
                { "/.", "/" },
                { "/a/.hidden/..x/...", "/a/.hidden/..x/..." },
        };
        static const char *const refused[] = { "/var/lib/../x", "/..", "/a/..", "/a/../", "/../a" };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(config_path_simplify(cases[i][0], &s), 0);
                assert_string_equal(s, cases[i][1]);
        }
        for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
                char *s = NULL;
                assert_int_equal(config_path_simplify(refused[i], &s), -EINVAL);
                assert_null(s);
        }
}

static void test_permissions(void **state _unused_) {
        struct config cfg = {};
        char path[256], dir[256];
        int r;

        /* World-writable: refused, counted, nothing loaded. */
        snprintf(path, sizeof path, "%s", write_file_len("ww.conf", "[ww]\nvolume = /dev/vg/ww\n", 25, 0666));
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, path, &r);
        assert_int_equal(r, -EPERM);
        assert_int_equal(cfg.n_errors, 1);
        assert_int_equal(cfg.n_disks, 0);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "writable by everyone"));

        /* Group-writable: a warning, and it loads. */
        snprintf(path, sizeof path, "%s", write_file_len("gw.conf", "[gw]\nvolume = /dev/vg/gw\n", 25, 0664));
        free(err);
        err = load_captured(config_load_file, &cfg, path, &r);
        assert_int_equal(r, 0);
        assert_int_equal(cfg.n_errors, 1);
        assert_non_null(config_find(&cfg, "gw"));
        assert_non_null(strstr(err, "writable by group"));
        config_free(&cfg);

        /* Owned by someone else than root: a warning (testable as root). */
        if (geteuid() == 0) {
                snprintf(path, sizeof path, "%s", write_file("owned.conf", "[own]\nvolume = /dev/vg/own\n"));
                assert_int_equal(chown(path, 1, 1), 0);
                free(err);
                err = load_captured(config_load_file, &cfg, path, &r);
                assert_int_equal(r, 0);
                assert_int_equal(cfg.n_errors, 0);
                assert_non_null(config_find(&cfg, "own"));
                assert_non_null(strstr(err, "owned by uid 1, not root"));
                config_free(&cfg);
        }

        /* A world-writable directory: its files are refused too. */
        snprintf(dir, sizeof dir, "%s/open.d", tmpdir);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file("open.d/a.conf", "[a]\nvolume = /dev/vg/a\n");
        assert_int_equal(chmod(dir, 01777), 0);
        free(err);
        err = load_captured(config_load_dir, &cfg, dir, &r);
        assert_int_equal(r, -EPERM);
        assert_int_equal(cfg.n_errors, 1);
        assert_int_equal(cfg.n_disks, 0);
        assert_non_null(strstr(err, dir));

        /* A world-writable file in a good directory: only it is refused. */
        assert_int_equal(chmod(dir, 0755), 0);
        write_file_len("open.d/b.conf", "[b]\nvolume = /dev/vg/b\n", 23, 0646);
        free(err);
        err = load_captured(config_load_dir, &cfg, dir, &r);
        assert_int_equal(r, 0);
        assert_int_equal(cfg.n_errors, 2);
        assert_int_equal(cfg.n_disks, 1);
        assert_non_null(config_find(&cfg, "a"));
        config_free(&cfg);
}

/* The API mkheader uses: the same rules without a file. */
static void test_disk_api(void **state _unused_) {
        _cleanup_(disk_config_done) struct disk_config d = {};
        char err[256];

        assert_int_equal(config_disk_init(&d, "bad name", err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "invalid disk name"));
        disk_config_done(&d);

        assert_int_equal(config_disk_init(&d, "disk", err, sizeof err), 0);
        assert_int_equal(config_disk_set(&d, "colour", "blue", err, sizeof err), -ENOENT);
        assert_string_equal(err, "unknown key 'colour'");
        assert_int_equal(config_disk_set(&d, "alignment", "3", err, sizeof err), -EINVAL);
        assert_int_equal(config_disk_set(&d, "alignment", "2GiB", err, sizeof err), -ERANGE);
        assert_int_equal(config_disk_set(&d, "table", "mbr", err, sizeof err), 0);
        assert_int_equal(config_disk_set(&d, "disk-guid", GUID1, err, sizeof err), 0);
        assert_int_equal(config_disk_finish(&d, 0, err, sizeof err), -EINVAL);
        assert_string_equal(err, "disk-guid is a GPT field, but table = mbr");
        disk_config_done(&d);

        /* No volume needed; the header path gets its default. */
        assert_int_equal(config_disk_init(&d, "disk", err, sizeof err), 0);
        assert_int_equal(config_disk_set(&d, "type", "basic-data", err, sizeof err), 0);
        assert_int_equal(config_disk_set(&d, "alignment", "64K", err, sizeof err), 0);
        assert_int_equal(config_disk_finish(&d, 0, err, sizeof err), 0);
        assert_string_equal(d.header, "/var/lib/partwrap/disk.header");
        assert_int_equal(d.alignment, 65536);
        assert_int_equal(d.n_parts, 1);
        assert_null(d.parts[0].volume);
}

/* The annotated example must stay valid. */
static void test_example(void **state _unused_) {
        struct config cfg = {};
        int r;
        _cleanup_free_ char *err = load_captured(config_load_file, &cfg, "conf/partwrap.conf", &r);

        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_int_equal(cfg.n_errors, 0);
        assert_int_equal(cfg.n_disks, 2);
        const struct disk_config *w = config_find(&cfg, "win-data");
        assert_non_null(w);
        assert_string_equal(w->parts[0].volume, "/dev/vgstuff/data");
        assert_int_equal(w->table, TABLE_GPT);
        assert_true(w->parts[0].type_auto);
        assert_string_equal(w->parts[0].name, "Data");
        const struct disk_config *l = config_find(&cfg, "legacy-boot");
        assert_non_null(l);
        assert_int_equal(l->table, TABLE_MBR);
        assert_int_equal(l->disk_signature, 0x5eed1e55);
        assert_int_equal(l->timeout, 0);
        assert_true(l->nofail);
        config_free(&cfg);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),     cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_lists),
                cmocka_unit_test(test_booleans),     cmocka_unit_test(test_syntax_variants),
                cmocka_unit_test(test_name_is_valid), cmocka_unit_test(test_bad_inputs),
                cmocka_unit_test(test_nul_byte),     cmocka_unit_test(test_many_errors),
                cmocka_unit_test(test_across_files), cmocka_unit_test(test_dir),
                cmocka_unit_test(test_unreadable),   cmocka_unit_test(test_permissions),
                cmocka_unit_test(test_disk_api),     cmocka_unit_test(test_example),
                cmocka_unit_test(test_path_simplify),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
