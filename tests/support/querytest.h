/* querytest.h - run SQL through a driver's cursor and the renderer, as
 * `sluice query` does (split into statements, each result rendered in turn),
 * for the unit tests. tests. */
#ifndef SL_TESTS_QUERYTEST_H
#define SL_TESTS_QUERYTEST_H

#include "core/common.h"
#include "ops/render.h"
#include "warehouse/driver.h"

#include <stdio.h>
#include <stdlib.h>

/* Every statement of sql, each result rendered to out as fmt says (window 0 =
 * the default). Stops at the first failure and returns it. */
static inline int qt_print(const struct sl_wh_ops *ops, struct sl_wh *wh,
                           const char *sql, enum sl_query_format fmt,
                           size_t window, FILE *out, struct sl_error *err)
{
    char **st = NULL;
    size_t n = 0;
    int rc = ops->split_statements(wh, sql, &st, &n, err);
    struct sl_render_opts ro = {.fmt = fmt, .window = window};
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        struct sl_cursor *c = NULL;
        rc = ops->query(wh, st[i], &c, err);
        if (rc == SL_OK) {
            rc = sl_render_cursor(ops, c, &ro, out, NULL, err);
        }
        ops->cursor_close(c);
    }
    ops->free_statements(st, n);
    return rc;
}

/* qt_print into a string (caller frees); NULL with *out_rc set on failure. */
static inline char *qt_string(const struct sl_wh_ops *ops, struct sl_wh *wh,
                              const char *sql, enum sl_query_format fmt,
                              size_t window, int *out_rc, struct sl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        *out_rc = -SL_ENOMEM;
        return NULL;
    }
    *out_rc = qt_print(ops, wh, sql, fmt, window, f, err);
    fclose(f);
    if (*out_rc != SL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

#endif
