/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny streaming JSON writer for --json: one document on stdout. Keys
 * are NULL inside arrays. Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 (a filesystem label can hold anything: overlong forms,
 * surrogates, truncated sequences) become U+FFFD, each. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
        FILE *f;
        unsigned depth;
        bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *value); /* NULL → null */
void json_uint(struct json *j, const char *key, uint64_t value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);
