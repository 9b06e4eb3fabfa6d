/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>

#include "json.h"

void json_init(struct json *j, FILE *f) {
        *j = (struct json) { .f = f };
}

static void json_raw_string(struct json *j, const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        fputc('"', j->f);
        while (*p) {
                unsigned len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
                for (unsigned i = 1; i < len; i++)
                        if ((p[i] & 0xC0) != 0x80)
                                len = 0;
                if (len == 0) {
                        fputs("\\ufffd", j->f);
                        p++;
                } else if (len > 1) {
                        fwrite(p, 1, len, j->f);
                        p += len;
                } else {
                        if (*p == '"' || *p == '\\')
                                fprintf(j->f, "\\%c", *p);
                        else if (*p < 0x20 || *p == 0x7F)
                                fprintf(j->f, "\\u%04x", *p);
                        else
                                fputc(*p, j->f);
                        p++;
                }
        }
        fputc('"', j->f);
}

static void json_key(struct json *j, const char *key) {
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
        if (key) {
                json_raw_string(j, key);
                fputc(':', j->f);
        }
}

static void json_open(struct json *j, const char *key, char c) {
        json_key(j, key);
        fputc(c, j->f);
        assert(j->depth + 1 < JSON_MAX_DEPTH);
        j->need_comma[++j->depth] = false;
}

static void json_close(struct json *j, char c) {
        assert(j->depth > 0);
        j->depth--;
        fputc(c, j->f);
        if (j->depth == 0)
                fputc('\n', j->f);
}

void json_object_begin(struct json *j, const char *key) {
        json_open(j, key, '{');
}

void json_object_end(struct json *j) {
        json_close(j, '}');
}

void json_array_begin(struct json *j, const char *key) {
        json_open(j, key, '[');
}

void json_array_end(struct json *j) {
        json_close(j, ']');
}

void json_string(struct json *j, const char *key, const char *value) {
        json_key(j, key);
        if (value)
                json_raw_string(j, value);
        else
                fputs("null", j->f);
}

void json_uint(struct json *j, const char *key, uint64_t value) {
        json_key(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void json_bool(struct json *j, const char *key, bool value) {
        json_key(j, key);
        fputs(value ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key) {
        json_key(j, key);
        fputs("null", j->f);
}
