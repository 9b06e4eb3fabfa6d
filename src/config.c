/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "layout.h"
#include "size.h"
#include "util.h"

enum key {
        KEY_VOLUME,
        KEY_TABLE,
        KEY_TYPE,
        KEY_ALIGNMENT,
        KEY_HEADER,
        KEY_PARTITION_NAME,
        KEY_DISK_GUID,
        KEY_PARTITION_GUID,
        KEY_DISK_SIGNATURE,
        KEY_READ_ONLY,
        KEY_TIMEOUT,
        KEY_NOFAIL,
        KEY_GROW,
};

static const char *const key_names[] = {
        [KEY_VOLUME] = "volume",
        [KEY_TABLE] = "table",
        [KEY_TYPE] = "type",
        [KEY_ALIGNMENT] = "alignment",
        [KEY_HEADER] = "header",
        [KEY_PARTITION_NAME] = "partition-name",
        [KEY_DISK_GUID] = "disk-guid",
        [KEY_PARTITION_GUID] = "partition-guid",
        [KEY_DISK_SIGNATURE] = "disk-signature",
        [KEY_READ_ONLY] = "read-only",
        [KEY_TIMEOUT] = "timeout",
        [KEY_NOFAIL] = "nofail",
        [KEY_GROW] = "grow",
};
#define N_KEYS ARRAY_SIZE(key_names)

/* Room for one message; values are at most one line of inih's 200 bytes. */
#define ERROR_MAX 512

void disk_config_done(struct disk_config *d) {
        free(d->name);
        free(d->file);
        for (size_t k = 0; k < d->n_parts; k++) {
                free(d->parts[k].volume);
                free(d->parts[k].name);
        }
        free(d->parts);
        free(d->partition_names);
        free(d->header);
        *d = (struct disk_config) {};
}

static int set_error(char *err, size_t err_len, int r, const char *fmt, ...) _printf_(4, 5);
static int set_error(char *err, size_t err_len, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
        return r;
}

static int set_string(char **dst, const char *v, char *err, size_t err_len) {
        char *s = strdup(v);

        if (!s)
                return set_error(err, err_len, -ENOMEM, "out of memory");
        free(*dst);
        *dst = s;
        return 0;
}

/* Partitions up to n exist, new ones with the defaults. */
static int parts_reserve(struct disk_config *d, size_t n) {
        if (n <= d->n_parts)
                return 0;
        struct part_config *p = reallocarray(d->parts, n, sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t k = d->n_parts; k < n; k++)
                p[k] = (struct part_config) { .type_auto = true };
        d->parts = p;
        d->n_parts = n;
        return 0;
}

/* The items of a comma-separated list, blanks around each trimmed: calls
 * fn for each, with its index, the first being first. Returns first + the
 * number of items, or the first error of fn; an empty item is -EINVAL
 * with err set. */
typedef int (*item_fn)(struct disk_config *d, size_t k, const char *item, char *err, size_t err_len);

static int list_foreach(const char *key, const char *v, size_t first, item_fn fn, struct disk_config *d, char *err,
                        size_t err_len) {
        size_t k = first;
        const char *p = v, *b, *e;

        for (bool more = true; more; k++) {
                more = list_next(&p, &b, &e);
                if (b == e)
                        return set_error(err, err_len, -EINVAL, "%s: empty item %zu in the list '%s'", key, k - first + 1, v);
                _cleanup_free_ char *item = strndup(b, (size_t) (e - b));
                if (!item)
                        return set_error(err, err_len, -ENOMEM, "out of memory");
                int r = parts_reserve(d, k + 1);
                if (r < 0)
                        return set_error(err, err_len, r, "out of memory");
                r = fn(d, k, item, err, err_len);
                if (r < 0)
                        return r;
        }
        return (int) k;
}

/* Absolute, and no whitespace: paths under /dev never hold any (udev
 * escapes it as \x20), and a space usually means a '#' comment after the
 * value, which ini does not know. */
static const char *path_check(const char *v) {
        if (v[0] != '/')
                return "is not an absolute path";
        for (const char *c = v; *c; c++)
                if (isspace((unsigned char) *c) || iscntrl((unsigned char) *c))
                        return "contains whitespace or a control character (a comment after a value starts with ';')";
        if (v[strlen(v) - 1] == '/')
                return "ends in '/'";
        return NULL;
}

int config_path_simplify(const char *path, char **ret) {
        _cleanup_free_ char *s = strdup(path);
        char *out;

        if (!s)
                return -ENOMEM;
        out = s;
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.')) {
                        p += n + (p[n] == '/');
                        continue;
                }
                /* A lexical ".." names another file than the kernel's walk
                 * when the component before it is a symbolic link; neither
                 * form would compare reliably with other paths. */
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                *out++ = '/';
                memcpy(out, p, n);
                out += n;
                p += n + (p[n] == '/');
        }
        if (out == s)
                *out++ = '/';
        *out = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

static const char *volume_check(const char *v) {
        bool uuid = strncmp(v, "UUID=", 5) == 0;
        const char *rest = uuid ? v + 5 : strncmp(v, "LABEL=", 6) == 0 ? v + 6 : NULL;

        if (!rest)
                return v[0] == '/' ? path_check(v) : "is neither an absolute path nor UUID=... or LABEL=...";
        if (!*rest)
                return "has an empty UUID= or LABEL=";
        /* Labels may hold spaces; UUIDs never do. */
        for (const char *c = rest; *c; c++)
                if (iscntrl((unsigned char) *c) || (uuid && isspace((unsigned char) *c)))
                        return "contains whitespace or a control character";
        return NULL;
}

/* A GPT partition name is 36 UTF-16 code units (UEFI 2.10 5.3.3). Returns
 * the length in code units, -EILSEQ if s is not valid UTF-8, -EINVAL if it
 * holds a control character. */
static int utf16_length(const char *s) {
        int n = 0;

        for (const char *p = s; *p;) {
                uint32_t c;
                unsigned len = utf8_decode(p, &c);
                if (len == 0)
                        return -EILSEQ;
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
                        return -EINVAL;
                n += c > 0xffff ? 2 : 1;
                p += len;
        }
        return n;
}

/* Digits only: strtoull() would also accept a sign, leading whitespace and,
 * in base 16, a second "0x". */
static int parse_uint(const char *s, int base, uint64_t max, uint64_t *ret) {
        if (!*s || s[strspn(s, base == 16 ? "0123456789abcdefABCDEF" : "0123456789")])
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, NULL, base);
        if (errno == ERANGE || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_boolean(const char *s) {
        static const char *const words[][2] = { { "no", "yes" }, { "false", "true" }, { "off", "on" }, { "0", "1" } };

        for (size_t i = 0; i < ARRAY_SIZE(words); i++)
                for (int v = 0; v < 2; v++)
                        if (strcasecmp(s, words[i][v]) == 0)
                                return v;
        return -EINVAL;
}

static int parse_guid(const char *key, const char *v, guid_t *g, bool *has, char *err, size_t err_len) {
        if (guid_parse(v, g) < 0)
                return set_error(err, err_len, -EINVAL, "%s '%s' is not a GUID (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX)", key, v);
        if (guid_is_null(g))
                return set_error(err, err_len, -EINVAL, "%s must not be all zeros", key);
        *has = true;
        return 0;
}

static int set_volume(struct disk_config *d, size_t k, const char *v, char *err, size_t err_len) {
        const char *why = volume_check(v);

        if (why)
                return set_error(err, err_len, -EINVAL, "volume '%s' %s", v, why);
        for (size_t i = 0; i < k; i++)
                if (streq(d->parts[i].volume, v))
                        return set_error(err, err_len, -EINVAL, "volume %s is listed twice (partitions %zu and %zu)", v, i + 1, k + 1);
        return set_string(&d->parts[k].volume, v, err, err_len);
}

static int set_type(struct disk_config *d, size_t k, const char *v, char *err, size_t err_len) {
        struct part_config *p = &d->parts[k];
        int r;

        if (streq(v, "auto")) {
                p->type_auto = true;
                return 0;
        }
        r = ptype_parse(v, &p->type);
        if (r == -EDOM)
                return set_error(err, err_len, r, "type %s is reserved (unused entry, GPT protective or extended partition)", v);
        if (r < 0)
                return set_error(err, err_len, r, "unknown type '%s': expected auto, basic-data, linux, linux-swap, "
                                 "linux-lvm, linux-luks, esp, a GPT type GUID or an MBR type byte such as 0x07", v);
        p->type_auto = false;
        return 0;
}

static int set_partition_guid(struct disk_config *d, size_t k, const char *v, char *err, size_t err_len) {
        int r = parse_guid("partition-guid", v, &d->parts[k].guid, &d->parts[k].has_guid, err, err_len);

        for (size_t i = 0; r == 0 && i < k; i++)
                if (guid_equal(&d->parts[i].guid, &d->parts[k].guid))
                        return set_error(err, err_len, -EINVAL, "partition-guid %s is listed twice (partitions %zu and %zu)",
                                         v, i + 1, k + 1);
        return r;
}

static int set_partition_name(struct disk_config *d, size_t k, const char *v, char *err, size_t err_len) {
        int r = utf16_length(v);

        if (r == -EILSEQ)
                return set_error(err, err_len, r, "partition-name is not valid UTF-8");
        if (r < 0)
                return set_error(err, err_len, r, "partition-name contains a control character");
        if (r > PARTITION_NAME_MAX)
                return set_error(err, err_len, -EINVAL, "partition-name '%s' is longer than the %d UTF-16 code units GPT holds",
                                 v, PARTITION_NAME_MAX);
        return set_string(&d->parts[k].name, v, err, err_len);
}

/* Undoes what a list key set, before it is set anew. */
static void parts_clear(struct disk_config *d, enum key k) {
        for (size_t i = 0; i < d->n_parts; i++) {
                struct part_config *p = &d->parts[i];
                if (k == KEY_VOLUME)
                        free(TAKE_PTR(p->volume));
                else if (k == KEY_TYPE)
                        p->type_auto = true;
                else if (k == KEY_PARTITION_GUID)
                        p->has_guid = false;
        }
}

/* A per-partition list key: its items from *count on when appending, else
 * in place of the ones it set; *count becomes the number of items. */
static int set_list(struct disk_config *d, enum key k, const char *v, bool append, size_t *count, item_fn fn, char *err,
                    size_t err_len) {
        if (!append)
                parts_clear(d, k);
        int r = list_foreach(key_names[k], v, append ? *count : 0, fn, d, err, err_len);
        *count = r > 0 ? (size_t) r : 0;
        return r < 0 ? r : 0;
}

/* Sets key k from v; append: a list key given again adds its items to the
 * list (a long list over several lines). */
static int disk_set(struct disk_config *d, enum key k, const char *v, bool append, char *err, size_t err_len) {
        const char *why;
        uint64_t u;
        int r;

        if (!*v)
                return set_error(err, err_len, -EINVAL, "empty value for '%s'", key_names[k]);
        switch (k) {
        case KEY_VOLUME:
                return set_list(d, k, v, append, &d->n_volumes, set_volume, err, err_len);
        case KEY_TABLE:
                if (!streq(v, "gpt") && !streq(v, "mbr"))
                        return set_error(err, err_len, -EINVAL, "table must be gpt or mbr, not '%s'", v);
                d->table = streq(v, "gpt") ? TABLE_GPT : TABLE_MBR;
                return 0;
        case KEY_TYPE:
                return set_list(d, k, v, append, &d->n_types, set_type, err, err_len);
        case KEY_ALIGNMENT:
                r = size_parse(v, &u);
                if (r == -EINVAL)
                        return set_error(err, err_len, r, "alignment '%s' is not a size such as 1MiB, 64K or 2048", v);
                if (r < 0 || u > ALIGNMENT_MAX)
                        return set_error(err, err_len, -ERANGE, "alignment %s is above the maximum of 1 GiB", v);
                if (u % SECTOR_BYTES)
                        return set_error(err, err_len, -EINVAL, "alignment %s is not a multiple of 512 bytes", v);
                d->alignment = u;
                return 0;
        case KEY_HEADER: {
                char *simple;
                if ((why = path_check(v)))
                        return set_error(err, err_len, -EINVAL, "header '%s' %s", v, why);
                /* One spelling per file, so that the same-header check
                 * sees "/a//b" and "/a/./b" as "/a/b". */
                r = config_path_simplify(v, &simple);
                if (r == -ENOMEM)
                        return set_error(err, err_len, r, "out of memory");
                if (r < 0)
                        return set_error(err, err_len, r, "header '%s' contains a '..' component; name the file directly", v);
                free(d->header);
                d->header = simple;
                return 0;
        }
        case KEY_PARTITION_NAME:
                /* Split once the number of partitions is known: a disk of
                 * one partition may have a ',' in its name. */
                r = utf16_length(v);
                if (r == -EILSEQ)
                        return set_error(err, err_len, r, "partition-name is not valid UTF-8");
                if (r < 0)
                        return set_error(err, err_len, r, "partition-name contains a control character");
                if (append && d->partition_names) {
                        char *joined = strdup_printf("%s,%s", d->partition_names, v);
                        if (!joined)
                                return set_error(err, err_len, -ENOMEM, "out of memory");
                        free(d->partition_names);
                        d->partition_names = joined;
                        return 0;
                }
                return set_string(&d->partition_names, v, err, err_len);
        case KEY_DISK_GUID:
                return parse_guid("disk-guid", v, &d->disk_guid, &d->has_disk_guid, err, err_len);
        case KEY_PARTITION_GUID:
                return set_list(d, k, v, append, &d->n_guids, set_partition_guid, err, err_len);
        case KEY_DISK_SIGNATURE:
                r = strncasecmp(v, "0x", 2) == 0 ? parse_uint(v + 2, 16, UINT32_MAX, &u) : parse_uint(v, 10, UINT32_MAX, &u);
                if (r < 0)
                        return set_error(err, err_len, r, "disk-signature '%s' is not a 32-bit number (0x1234abcd or decimal)", v);
                if (u == 0) /* Windows takes 0 for "no signature" and writes its own */
                        return set_error(err, err_len, -EINVAL, "disk-signature must not be zero");
                d->disk_signature = (uint32_t) u;
                d->has_disk_signature = true;
                return 0;
        case KEY_READ_ONLY:
        case KEY_NOFAIL:
        case KEY_GROW:
                r = parse_boolean(v);
                if (r < 0)
                        return set_error(err, err_len, r, "%s must be yes or no (true/false, on/off, 1/0), not '%s'", key_names[k], v);
                *(k == KEY_READ_ONLY ? &d->read_only : k == KEY_NOFAIL ? &d->nofail : &d->grow) = r;
                return 0;
        case KEY_TIMEOUT:
                r = parse_uint(v, 10, TIMEOUT_MAX, &u);
                if (r < 0)
                        return set_error(err, err_len, r, "timeout '%s' is not a number of seconds from 0 to %d", v, TIMEOUT_MAX);
                d->timeout = (unsigned) u;
                return 0;
        }
        return -EINVAL;
}

static int key_lookup(const char *name) {
        for (size_t k = 0; k < N_KEYS; k++)
                if (streq(name, key_names[k]))
                        return (int) k;
        return -ENOENT;
}

/* Splits the per-partition lists into n partitions (0: one per volume, at
 * least one). Returns the key to blame with err set, or -1. */
static int disk_split(struct disk_config *d, size_t n, char *err, size_t err_len) {
        size_t max = d->table == TABLE_MBR ? MBR_PARTITIONS : GPT_ENTRIES;
        int r;

        if (n == 0)
                n = d->n_volumes ? d->n_volumes : 1;
        if (n > max)
                return set_error(err, err_len, KEY_VOLUME, "%zu volumes, but %s table holds at most %zu partitions%s", n,
                                 d->table == TABLE_MBR ? "an MBR" : "a GPT", max,
                                 d->table == TABLE_MBR ? " (use table = gpt)" : "");
        if (d->n_types > 1 && d->n_types != n)
                return set_error(err, err_len, KEY_TYPE, "type lists %zu values for %zu partitions: give one for all, or one each",
                                 d->n_types, n);
        if (d->n_guids && d->n_guids != n)
                return set_error(err, err_len, KEY_PARTITION_GUID, "partition-guid lists %zu values for %zu partitions: give one each",
                                 d->n_guids, n);
        if (parts_reserve(d, n) < 0)
                return set_error(err, err_len, KEY_VOLUME, "out of memory");
        for (size_t k = 1; d->n_types == 1 && k < n; k++) {
                d->parts[k].type_auto = d->parts[0].type_auto;
                d->parts[k].type = d->parts[0].type;
        }
        if (d->partition_names) {
                if (n == 1)
                        r = set_partition_name(d, 0, d->partition_names, err, err_len) < 0 ? -1 : 1;
                else
                        r = list_foreach(key_names[KEY_PARTITION_NAME], d->partition_names, 0, set_partition_name, d, err,
                                         err_len);
                if (r < 0)
                        return KEY_PARTITION_NAME;
                if ((size_t) r != n)
                        return set_error(err, err_len, KEY_PARTITION_NAME,
                                         "partition-name lists %d names for %zu partitions: give one each", r, n);
        }
        return -1;
}

/* What can only be judged once all keys are known: the lists split, and
 * the keys against each other. Returns the key to blame with err set, or
 * -1 when the keys agree. */
static int disk_check(struct disk_config *d, size_t n, char *err, size_t err_len) {
        bool mbr = d->table == TABLE_MBR;
        char a[SIZE_FORMAT_MAX], m[SIZE_FORMAT_MAX], t[GUID_STRING_MAX];
        int k = disk_split(d, n, err, err_len);

        if (k >= 0)
                return k;
        for (size_t i = 0; i < d->n_parts; i++) {
                const struct part_config *p = &d->parts[i];
                if (!p->type_auto && !(p->type.flags & (mbr ? PTYPE_HAS_MBR : PTYPE_HAS_GPT)))
                        return set_error(err, err_len, KEY_TYPE, "type %s is for %s only, but table = %s",
                                         ptype_describe(&p->type, t, sizeof t), mbr ? "GPT" : "MBR", mbr ? "mbr" : "gpt");
                if (mbr && (p->name || p->has_guid))
                        k = p->name ? KEY_PARTITION_NAME : KEY_PARTITION_GUID;
        }
        if (mbr && d->has_disk_guid)
                k = KEY_DISK_GUID;
        if (k >= 0)
                return set_error(err, err_len, k, "%s is a GPT field, but table = mbr", key_names[k]);
        if (!mbr && d->has_disk_signature)
                return set_error(err, err_len, KEY_DISK_SIGNATURE, "disk-signature is an MBR field, but table = gpt (use disk-guid)");
        uint64_t min = layout_min_alignment(d->table, SECTOR_BYTES);
        if (d->alignment < min)
                return set_error(err, err_len, KEY_ALIGNMENT, "alignment %s is too small for a %s table (at least %s)",
                                 size_format(d->alignment, a, sizeof a), mbr ? "mbr" : "gpt", size_format(min, m, sizeof m));
        return -1;
}

int config_disk_init(struct disk_config *d, const char *name, char *err, size_t err_len) {
        *d = (struct disk_config) {
                .table = TABLE_GPT,
                .alignment = ALIGNMENT_DEFAULT,
                .timeout = TIMEOUT_DEFAULT,
                .grow = true,
        };
        int r = set_string(&d->name, name, err, err_len);
        if (r < 0)
                return r;
        if (!config_name_is_valid(name))
                return set_error(err, err_len, -EINVAL, "invalid disk name [%s]: 1 to %d characters of A-Z a-z 0-9 : . _ @ -, "
                                 "not starting with '-', not '.', '..' or 'control'", name, CONFIG_NAME_MAX);
        return 0;
}

int config_disk_set(struct disk_config *d, const char *key, const char *value, char *err, size_t err_len) {
        int k = key_lookup(key);

        if (k < 0)
                return set_error(err, err_len, k, "unknown key '%s'", key);
        return disk_set(d, (enum key) k, value, false, err, err_len);
}

/* config_disk_finish(), but returns the key to blame, or -1. */
static int disk_finish(struct disk_config *d, size_t n_partitions, char *err, size_t err_len) {
        int k = disk_check(d, n_partitions, err, err_len);

        if (k >= 0)
                return k;
        if (!d->header && !(d->header = strdup_printf("%s/%s.header", HEADER_DIR_DEFAULT, d->name)))
                return set_error(err, err_len, KEY_HEADER, "out of memory");
        return -1;
}

int config_disk_finish(struct disk_config *d, size_t n_partitions, char *err, size_t err_len) {
        return disk_finish(d, n_partitions, err, err_len) >= 0 ? -EINVAL : 0;
}

/* libinih reports only the first syntax error and no line numbers to the
 * handler (Debian builds it with INI_HANDLER_LINENO 0), and it silently
 * truncates section names to 49 bytes. So the parser feeds inih one
 * physical line per read, counts lines itself, and recognises section
 * headers itself, mirroring inih's rules; inih splits "key = value" and
 * strips comments. */
struct parser {
        struct config *cfg;
        const char *path;
        FILE *f;
        char *buf;
        size_t buf_size;
        unsigned line;         /* the line inih is working on */
        unsigned pending;      /* a key line inih has not passed on yet */
        unsigned syntax_error; /* first line inih will call an error */
        bool indented;         /* the line starts with whitespace */
        bool after_key;        /* inih's prev_name: indented lines continue it */
        bool in_section;
        bool bad; /* the section had an error: drop it */
        struct disk_config disk;
        unsigned key_line[N_KEYS]; /* where each key was set, 0: not set */
};

static void parser_error(struct parser *p, unsigned line, const char *fmt, ...) _printf_(3, 4);
static void parser_error(struct parser *p, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        log_error("%s:%u: %s", p->path, line, msg ? msg : "out of memory");
        p->cfg->n_errors++;
        p->bad = true;
}

static void syntax_error(struct parser *p, unsigned line, const char *msg) {
        if (!p->syntax_error)
                p->syntax_error = line;
        parser_error(p, line, "%s", msg);
}

static int parser_handler(void *userdata, const char *section _unused_, const char *name, const char *value) {
        struct parser *p = userdata;
        bool continuation = p->indented && p->after_key;
        char err[ERROR_MAX];

        p->pending = 0;
        p->after_key = *name; /* inih continues only non-empty names */
        int k = key_lookup(name);
        /* The per-partition lists may go on over several lines. */
        bool list = k == KEY_VOLUME || k == KEY_TYPE || k == KEY_PARTITION_NAME || k == KEY_PARTITION_GUID;
        if (continuation)
                parser_error(p, p->line, "indented line continues the value of '%s'; values are one line", name);
        else if (!p->in_section)
                parser_error(p, p->line, "'%s' outside of a [section]", name);
        else if (k >= 0 && p->key_line[k] && !list)
                parser_error(p, p->line, "'%s' given twice (first on line %u)", name, p->key_line[k]);
        else if (k >= 0 && p->key_line[k]) {
                if (disk_set(&p->disk, (enum key) k, value, true, err, sizeof err) < 0)
                        parser_error(p, p->line, "%s", err);
        } else {
                if (k >= 0)
                        p->key_line[k] = p->line;
                if (config_disk_set(&p->disk, name, value, err, sizeof err) < 0)
                        parser_error(p, p->line, "%s", err);
        }
        /* Errors are ours to report; a zero would only make inih remember
         * the line as its first error. */
        return 1;
}

/* Checks what can only be judged with the whole section, and hands the
 * disk to cfg unless it had an error. */
static void parser_section_finish(struct parser *p) {
        struct disk_config *d = &p->disk;
        char err[ERROR_MAX];

        if (!p->in_section)
                return;
        p->in_section = false;
        if (!p->key_line[KEY_VOLUME])
                parser_error(p, d->line, "[%s] has no 'volume'", d->name);
        int k = disk_finish(d, 0, err, sizeof err);
        if (k >= 0)
                parser_error(p, p->key_line[k] ? p->key_line[k] : d->line, "%s", err);
        /* Only for an otherwise good section: a duplicate [NAME] would also
         * repeat the default header of the first. */
        for (size_t i = 0; i < p->cfg->n_disks && !p->bad; i++) {
                const struct disk_config *o = &p->cfg->disks[i];
                for (size_t a = 0; a < d->n_parts && !p->bad; a++)
                        for (size_t b = 0; b < o->n_parts && !p->bad; b++)
                                if (streq(d->parts[a].volume, o->parts[b].volume))
                                        parser_error(p, p->key_line[KEY_VOLUME], "volume %s is already used by [%s] (%s:%u)",
                                                     d->parts[a].volume, o->name, o->file, o->line);
                if (streq(d->header, o->header))
                        parser_error(p, p->key_line[KEY_HEADER] ? p->key_line[KEY_HEADER] : d->line,
                                     "header %s is already used by [%s] (%s:%u)", d->header, o->name, o->file, o->line);
        }

        if (!p->bad) {
                struct disk_config *n = reallocarray(p->cfg->disks, p->cfg->n_disks + 1, sizeof *n);
                if (n) {
                        p->cfg->disks = n;
                        n[p->cfg->n_disks++] = *d;
                        *d = (struct disk_config) {};
                        return;
                }
                parser_error(p, d->line, "out of memory");
        }
        disk_config_done(d);
}

/* Registers the name so that a later [NAME], in this file or another, is
 * a duplicate. */
static void parser_section_register(struct parser *p, char **name) {
        struct config *cfg = p->cfg;

        for (size_t i = 0; i < cfg->n_sections; i++)
                if (streq(cfg->sections[i].name, *name)) {
                        parser_error(p, p->line, "duplicate section [%s], first declared at %s:%u", *name,
                                     cfg->sections[i].file, cfg->sections[i].line);
                        return;
                }
        struct config_section *s = reallocarray(cfg->sections, cfg->n_sections + 1, sizeof *s);
        char *file = strdup(p->path);
        if (s)
                cfg->sections = s;
        if (!s || !file) {
                free(file);
                parser_error(p, p->line, "out of memory");
                return;
        }
        s[cfg->n_sections++] = (struct config_section) { TAKE_PTR(*name), file, p->line };
}

static void parser_section_start(struct parser *p, const char *name, size_t len, bool closed) {
        _cleanup_free_ char *n = strndup(name, len);
        char err[ERROR_MAX];

        parser_section_finish(p);
        p->in_section = true;
        p->bad = false;
        memset(p->key_line, 0, sizeof p->key_line);
        int r = config_disk_init(&p->disk, n ? n : "", err, sizeof err);
        p->disk.line = p->line;
        p->disk.file = strdup(p->path);
        if (!n || !p->disk.file)
                parser_error(p, p->line, "out of memory");
        else if (!closed)
                /* A section anyway, so that its keys are checked but do not
                 * land in the previous one. */
                syntax_error(p, p->line, "section header without ']'");
        else if (r < 0)
                parser_error(p, p->line, "%s", err);
        else
                parser_section_register(p, &n);
}

/* Classifies the line inih is about to parse with inih's own rules
 * (ini.c, r55): comments start with ';' or '#'; an indented line after a
 * key continues it; "[" opens a section that ']' closes unless an inline
 * comment (';' after whitespace) comes first; anything else must be a key. */
static void parser_classify(struct parser *p, char *line) {
        char *s = line;

        if (p->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
                s += 3;
        s += strspn(s, " \t\n\v\f\r");
        p->indented = s > line;
        if (!*s || *s == ';' || *s == '#' || (p->indented && p->after_key))
                return;
        if (*s != '[') {
                p->pending = p->line;
                return;
        }

        const char *e = s + 1;
        for (bool was_space = false; *e && *e != ']' && !(was_space && *e == ';'); e++)
                was_space = isspace((unsigned char) *e);
        if (*e != ']') {
                parser_section_start(p, s + 1, strcspn(s + 1, "\r\n"), false);
                return;
        }
        p->after_key = false;
        parser_section_start(p, s + 1, (size_t) (e - (s + 1)), true);
        /* inih ignores text after ']'; it is more likely a mistake. */
        e += 1 + strspn(e + 1, " \t\n\v\f\r");
        if (*e && *e != ';' && *e != '#')
                parser_error(p, p->line, "unexpected text after ']'");
}

/* A key line that inih did not hand to the handler had no '=' or ':'. */
static void parser_check_pending(struct parser *p) {
        if (p->pending)
                syntax_error(p, p->pending, "expected 'key = value', a [section] or a comment");
        p->pending = 0;
}

/* inih's reader: one physical line per call, so inih's line count is ours. */
static char *parser_read(char *str, int size, void *userdata) {
        struct parser *p = userdata;

        parser_check_pending(p);
        ssize_t n = getline(&p->buf, &p->buf_size, p->f);
        if (n < 0)
                return NULL;
        p->line++;
        str[0] = '\0';
        if (n >= size)
                /* inih would split the line and parse the rest as a line
                 * of its own. */
                parser_error(p, p->line, "line is longer than %d bytes", size - 2);
        else
                memcpy(str, p->buf, (size_t) n + 1);
        /* What comes after a NUL is lost to inih; the line before it is
         * still parsed, so that one mistake makes one message. */
        if (strlen(p->buf) < (size_t) n)
                parser_error(p, p->line, "line contains a NUL byte");
        parser_classify(p, str);
        return str;
}

static int file_error(struct config *cfg, const char *path, int r, const char *why) {
        log_error("%s: %s", path, why ? why : strerror(-r));
        cfg->n_errors++;
        return r;
}

/* sshd's StrictModes: whoever can write the configuration can make
 * partwrap map any block device. */
static int check_permissions(struct config *cfg, const char *path, const struct stat *st) {
        if (st->st_mode & S_IWOTH)
                return file_error(cfg, path, -EPERM, "refusing it: writable by everyone");
        if (st->st_mode & S_IWGRP)
                log_warn("%s: writable by group %u; only root should be able to change it", path, (unsigned) st->st_gid);
        if (st->st_uid != 0 && st->st_uid != geteuid())
                log_warn("%s: owned by uid %u, not root", path, (unsigned) st->st_uid);
        return 0;
}

int config_load_file(struct config *cfg, const char *path) {
        /* O_NONBLOCK: a FIFO named *.conf must not block the open (and with
         * it udev-match, so every block uevent); it is refused below.
         * O_NOFOLLOW: the file itself, never what a symlink points to. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        _cleanup_(fclosep) FILE *f = NULL;
        struct stat st;
        int r;

        if (fd < 0 && errno == ELOOP)
                return file_error(cfg, path, -ELOOP, "is a symbolic link, refusing to follow it");
        if (fd < 0 || fstat(fd, &st) < 0)
                return file_error(cfg, path, -errno, NULL);
        if (!S_ISREG(st.st_mode))
                return file_error(cfg, path, -EINVAL, "not a regular file");
        r = check_permissions(cfg, path, &st);
        if (r < 0)
                return r;
        f = fdopen(fd, "r");
        if (!f)
                return file_error(cfg, path, -errno, NULL);
        TAKE_FD(fd);

        struct parser p = { .cfg = cfg, .path = path, .f = f };
        r = ini_parse_stream(parser_read, &p, parser_handler, &p);
        parser_check_pending(&p);
        parser_section_finish(&p);
        free(p.buf);
        /* Our mirror of inih's rules should have caught every line inih
         * objects to; this keeps a disagreement from going unreported. */
        if (r > 0 && (unsigned) r != p.syntax_error)
                parser_error(&p, (unsigned) r, "syntax error");
        if (r == -2)
                return file_error(cfg, path, -ENOMEM, NULL);
        if (ferror(f))
                return file_error(cfg, path, -EIO, NULL);
        return 0;
}

static int conf_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);

        /* Hidden files are editor leftovers (".#x.conf"), as for systemd. */
        return de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".conf");
}

static int conf_compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int config_load_dir(struct config *cfg, const char *dir) {
        struct dirent **entries;
        struct stat st;

        if (stat(dir, &st) < 0)
                return errno == ENOENT ? 0 : file_error(cfg, dir, -errno, NULL);
        if (!S_ISDIR(st.st_mode))
                return file_error(cfg, dir, -ENOTDIR, NULL);
        /* Anyone could drop a file into a world-writable directory. */
        int r = check_permissions(cfg, dir, &st);
        if (r < 0)
                return r;
        int n = scandir(dir, &entries, conf_filter, conf_compare);
        if (n < 0)
                return file_error(cfg, dir, -errno, NULL);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = strdup_printf("%s/%s", dir, entries[i]->d_name);
                if (path)
                        config_load_file(cfg, path); /* reported and counted there */
                else
                        file_error(cfg, dir, -ENOMEM, NULL);
                free(entries[i]);
        }
        free(entries);
        return 0;
}

const char *config_volumes(const struct disk_config *d, char *buf, size_t len) {
        size_t at = 0;

        buf[0] = 0;
        for (size_t k = 0; k < d->n_parts && d->parts[k].volume && at < len; k++) {
                int n = snprintf(buf + at, len - at, "%s%s", k ? ", " : "", d->parts[k].volume);
                if (n < 0)
                        break;
                at += (size_t) n;
        }
        return buf;
}

struct disk_config *config_find(const struct config *cfg, const char *name) {
        for (size_t i = 0; i < cfg->n_disks; i++)
                if (streq(cfg->disks[i].name, name))
                        return &cfg->disks[i];
        return NULL;
}

void config_free(struct config *cfg) {
        for (size_t i = 0; i < cfg->n_disks; i++)
                disk_config_done(&cfg->disks[i]);
        for (size_t i = 0; i < cfg->n_sections; i++) {
                free(cfg->sections[i].name);
                free(cfg->sections[i].file);
        }
        free(cfg->disks);
        free(cfg->sections);
        *cfg = (struct config) {};
}

bool config_name_is_valid(const char *name) {
        size_t n = strlen(name);

        /* A leading '-' would make the name an option wherever it is an
         * argument: "partwrap stop -v" from partwrap@-v.service. */
        return n >= 1 && n <= CONFIG_NAME_MAX && name[0] != '-' && !streq(name, ".") && !streq(name, "..") && !streq(name, "control") &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:._@-") == n;
}
