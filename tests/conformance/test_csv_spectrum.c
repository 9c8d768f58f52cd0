/* test_csv_spectrum.c - conformance of the CSV reader (src/parse/csv.c) with
 * csv-spectrum (https://github.com/max-mapper/csv-spectrum): every
 * csvs/X.csv must yield exactly the records of json/X.json, an array of
 * objects keyed by the CSV's header row. Reads SL_SHARED_DIR in place; exits
 * 77 (ctest skip) when the data set is absent. */
#include "core/common.h"

#include "core/error.h"
#include "parse/csv.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SL_SHARED_DIR
#error "the build defines SL_SHARED_DIR as the path of the shared folder"
#endif

#define SPECTRUM_DIR SL_SHARED_DIR "/data/csv-spectrum"
#define SKIP_CODE    77

/* Known mistakes in the upstream expectations, each checked exactly: the
 * reader must produce the CSV's bytes (csv_value) where the JSON says
 * json_value. If upstream fixes the JSON, the entry simply stops applying. */
struct erratum {
    const char *file;   /* base name without extension */
    size_t row_idx;     /* 0-based data row (after the header) */
    const char *column; /* header name */
    const char *json_value;
    const char *csv_value;
    const char *url;
};

static const struct erratum errata[] = {
    {"location_coordinates", 0, "Contact Phone Number", "1234567890",
     "2095257564", "https://github.com/max-mapper/csv-spectrum/issues/20"},
};

struct rec {
    size_t n;    /* fields */
    char **val;  /* field text, NUL-terminated copies */
    size_t *len; /* field lengths (text may hold NUL) */
};

struct table {
    struct rec *recs;
    size_t n, cap;
};

static int failures;

#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                 \
        fputc('\n', stderr);                                                   \
        failures++;                                                            \
    } while (0)

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->recs[i].n; k++) {
            free(t->recs[i].val[k]);
        }
        free(t->recs[i].val);
        free(t->recs[i].len);
    }
    free(t->recs);
    memset(t, 0, sizeof(*t));
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static void table_add(struct table *t, const struct sl_csv *c)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        struct rec *r = realloc(t->recs, t->cap * sizeof(*r));
        if (r == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        t->recs = r;
    }
    struct rec *r = &t->recs[t->n++];
    r->n = c->n_fields;
    r->val = xmalloc(r->n * sizeof(*r->val));
    r->len = xmalloc(r->n * sizeof(*r->len));
    for (size_t i = 0; i < r->n; i++) {
        r->len[i] = c->fields[i].len;
        r->val[i] = xmalloc(r->len[i] + 1);
        memcpy(r->val[i], c->fields[i].p, r->len[i]);
        r->val[i][r->len[i]] = '\0';
    }
}

static char *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *d = xmalloc(cap);
    for (;;) {
        size_t n = fread(d + len, 1, cap - len, f);
        len += n;
        if (len < cap) {
            break;
        }
        cap *= 2;
        char *nd = realloc(d, cap);
        if (nd == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        d = nd;
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err) {
        free(d);
        return NULL;
    }
    *out_len = len;
    return d;
}

/* Parse the whole file. step == 0: everything at once with eof. step > 0:
 * from each record start offer step, 2*step, ... bytes, as a streaming caller
 * would, so NEED_MORE handling is checked on real files too. Returns false if
 * the reader rejected a record. */
static bool parse_all(const char *name, const char *data, size_t len,
                      size_t step, struct table *t)
{
    struct sl_csv_opts o;
    sl_csv_opts_default(&o);
    o.allow_quoted_newlines = true; /* newlines*.csv need them */
    struct sl_csv c;
    if (sl_csv_init(&c, &o) != SL_OK) {
        FAIL("%s: sl_csv_init failed", name);
        return false;
    }
    bool ok = true;
    size_t pos = 0, avail = step ? step : len;
    for (;;) {
        if (avail > len - pos) {
            avail = len - pos;
        }
        size_t used = 0;
        uint64_t lines = 0;
        int st = sl_csv_next(&c, data + pos, avail, pos + avail == len, &used,
                             &lines);
        if (st == SL_CSV_END) {
            break;
        }
        if (st == SL_CSV_NEED_MORE) {
            if (pos + avail == len) {
                FAIL("%s: NEED_MORE at eof (offset %zu)", name, pos);
                ok = false;
                break;
            }
            avail += step ? step : len;
            continue;
        }
        if (st != SL_CSV_RECORD) {
            FAIL("%s: record %zu at offset %zu: status %d (%s)", name, t->n,
                 pos, st, c.bad_reason ? c.bad_reason : "error");
            ok = false;
            break;
        }
        table_add(t, &c);
        pos += used;
        avail = step ? step : len;
    }
    sl_csv_release(&c);
    return ok;
}

static const struct erratum *find_erratum(const char *name, size_t row,
                                          const char *column)
{
    for (size_t i = 0; i < SL_ARRAY_LEN(errata); i++) {
        if (strcmp(errata[i].file, name) == 0 && errata[i].row_idx == row &&
            strcmp(errata[i].column, column) == 0) {
            return &errata[i];
        }
    }
    return NULL;
}

static void compare(const char *name, const struct table *t, json_t *rows)
{
    if (t->n == 0) {
        FAIL("%s: no header record", name);
        return;
    }
    const struct rec *hdr = &t->recs[0];
    size_t n_rows = json_array_size(rows);
    if (t->n - 1 != n_rows) {
        FAIL("%s: %zu data records, expected %zu", name, t->n - 1, n_rows);
        return;
    }
    for (size_t r = 0; r < n_rows; r++) {
        const struct rec *rec = &t->recs[r + 1];
        json_t *obj = json_array_get(rows, r);
        if (!json_is_object(obj)) {
            FAIL("%s: row %zu: expectation is not an object", name, r);
            continue;
        }
        if (rec->n != hdr->n || json_object_size(obj) != hdr->n) {
            FAIL("%s: row %zu: %zu fields, header %zu, expected %zu keys", name,
                 r, rec->n, hdr->n, json_object_size(obj));
            continue;
        }
        for (size_t k = 0; k < hdr->n; k++) {
            json_t *want = json_object_get(obj, hdr->val[k]);
            if (!json_is_string(want)) {
                FAIL("%s: row %zu: no string for column '%s'", name, r,
                     hdr->val[k]);
                continue;
            }
            const char *w = json_string_value(want);
            size_t wlen = json_string_length(want);
            if (wlen == rec->len[k] && memcmp(w, rec->val[k], wlen) == 0) {
                continue;
            }
            const struct erratum *e = find_erratum(name, r, hdr->val[k]);
            if (e != NULL && strcmp(w, e->json_value) == 0 &&
                strcmp(rec->val[k], e->csv_value) == 0) {
                printf(
                    "  note: %s row %zu column '%s': got the CSV's '%s' where "
                    "the JSON says '%s' (upstream erratum, %s)\n",
                    name, r, hdr->val[k], rec->val[k], w, e->url);
                continue;
            }
            FAIL("%s: row %zu column '%s': got '%s', expected '%s'", name, r,
                 hdr->val[k], rec->val[k], w);
        }
    }
}

static bool tables_equal(const struct table *a, const struct table *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (a->recs[i].n != b->recs[i].n) {
            return false;
        }
        for (size_t k = 0; k < a->recs[i].n; k++) {
            if (a->recs[i].len[k] != b->recs[i].len[k] ||
                memcmp(a->recs[i].val[k], b->recs[i].val[k],
                       a->recs[i].len[k]) != 0) {
                return false;
            }
        }
    }
    return true;
}

static void check_case(const char *name)
{
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/csvs/%s.csv", SPECTRUM_DIR, name);
    char *data = read_file(path, &len);
    if (data == NULL) {
        FAIL("%s: cannot read %s: %s", name, path, strerror(errno));
        return;
    }
    snprintf(path, sizeof(path), "%s/json/%s.json", SPECTRUM_DIR, name);
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        FAIL("%s: %s:%d: %s", name, path, jerr.line, jerr.text);
        free(data);
        return;
    }
    /* One file holds a bare object instead of a one-element array
     * (https://github.com/max-mapper/csv-spectrum/issues/22). */
    json_t *rows = doc;
    if (json_is_object(doc)) {
        rows = json_array();
        json_array_append(rows, doc);
        json_decref(doc);
    }
    if (!json_is_array(rows)) {
        FAIL("%s: expectation is neither an array nor an object", name);
        json_decref(rows);
        free(data);
        return;
    }

    struct table whole = {0}, bytewise = {0};
    int before = failures;
    if (parse_all(name, data, len, 0, &whole)) {
        compare(name, &whole, rows);
    }
    if (parse_all(name, data, len, 1, &bytewise) &&
        !tables_equal(&whole, &bytewise)) {
        FAIL("%s: byte-by-byte feeding gave different records", name);
    }
    printf("%s %s (%zu records)\n", failures == before ? "ok  " : "FAIL", name,
           whole.n);
    table_free(&whole);
    table_free(&bytewise);
    json_decref(rows);
    free(data);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    struct stat sb;
    if (stat(SPECTRUM_DIR "/csvs", &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("skipped: ../shared/data/csv-spectrum not found (looked for "
               "%s)\n",
               SPECTRUM_DIR);
        return SKIP_CODE;
    }
    DIR *d = opendir(SPECTRUM_DIR "/csvs");
    if (d == NULL) {
        fprintf(stderr, "FAIL: opendir %s/csvs: %s\n", SPECTRUM_DIR,
                strerror(errno));
        return 1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".csv") == 0 &&
            n < SL_ARRAY_LEN(names)) {
            names[n] = xmalloc(l - 3);
            memcpy(names[n], e->d_name, l - 4);
            names[n][l - 4] = '\0';
            n++;
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);
    if (n == 0) {
        fprintf(stderr, "FAIL: no .csv files in %s/csvs\n", SPECTRUM_DIR);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        check_case(names[i]);
        free(names[i]);
    }
    printf("%zu csv-spectrum cases, %d failure(s)\n", n, failures);
    return failures == 0 ? 0 : 1;
}
