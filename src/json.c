/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>

#include "json.h"
#include "util.h"

void json_init(struct json *j, FILE *f) {
        *j = (struct json) { .f = f };
}

/* RFC 8259 wants valid UTF-8 (section 8.1), and a parser such as Python's
 * rejects a surrogate or an overlong form: each byte that does not start a
 * valid sequence becomes U+FFFD. Control characters, C1 included, are
 * escaped so that the document is safe on a terminal too. */
static void json_raw_string(struct json *j, const char *s) {
        fputc('"', j->f);
        for (const char *p = s; *p;) {
                uint32_t c = 0;
                unsigned len = utf8_decode(p, &c);

                if (len == 0) {
                        fputs("\\ufffd", j->f);
                        p++;
                        continue;
                }
                if (c == '"' || c == '\\')
                        fprintf(j->f, "\\%c", (char) c);
                else if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
                        fprintf(j->f, "\\u%04" PRIx32, c);
                else
                        fwrite(p, 1, len, j->f);
                p += len;
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
