/* testutil.h - helpers for the unit and conformance tests: build a table from an
 * inline definition, validate a row, read a file, find ../shared. tests. */
#ifndef SL_TESTS_TESTUTIL_H
#define SL_TESTS_TESTUTIL_H

#include "core/common.h"
#include "schema/schema.h"
#include "validate/validator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Parse an inline definition or abort the test run with its error. */
static inline struct sl_table *tu_table(const char *json)
{
    struct sl_table *t = NULL;
    struct sl_error err = {0};
    if (sl_table_parse(json, strlen(json), "inline.json", "main", "t", &t, &err) != SL_OK) {
        fprintf(stderr, "tu_table: %s (%s)\n%s\n", err.msg, err.column, json);
        abort();
    }
    return t;
}

/* Read a whole file; NULL if absent. Caller frees. */
static inline char *tu_read(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return NULL;
    }
    b[n] = '\0';
    fclose(f);
    *out_len = (size_t)n;
    return b;
}

/* The shared folder, or NULL (the caller then skips with exit code 77). */
static inline const char *tu_shared(const char *sub)
{
#ifdef SL_SHARED_DIR
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", SL_SHARED_DIR, sub);
    struct stat st;
    if (stat(path, &st) == 0) {
        return path;
    }
#endif
    (void)sub;
    return NULL;
}

#endif
