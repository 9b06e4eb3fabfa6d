/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "table.h"

void verify_report_add(struct verify_report *r, const char *fmt, ...) {
        va_list ap;

        if (r->n_problems < VERIFY_MAX_PROBLEMS) {
                va_start(ap, fmt);
                vsnprintf(r->problems[r->n_problems], VERIFY_MSG_MAX, fmt, ap);
                va_end(ap);
        }
        r->n_problems++;
}

void table_write(const struct layout *l, const struct table_spec *spec, uint8_t *buf) {
        if (l->table == TABLE_GPT)
                gpt_write(l, spec, buf, buf + l->header_bytes - layout_tail_bytes(l));
        else
                mbr_write(l, spec, buf);
}

unsigned table_verify(const struct layout *l, const uint8_t *buf, size_t len, struct verify_report *r) {
        memset(r, 0, sizeof *r);
        if (len != l->header_bytes) {
                verify_report_add(r, "header is %zu bytes, expected %" PRIu64 " (head %" PRIu64 " + tail %" PRIu64 ")",
                                  len, l->header_bytes, layout_head_bytes(l), layout_tail_bytes(l));
                return r->n_problems;
        }
        if (l->table == TABLE_GPT)
                return gpt_verify(l, buf, buf + l->header_bytes - layout_tail_bytes(l), r);
        return mbr_verify(l, buf, r);
}
