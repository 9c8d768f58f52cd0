/* duckdb_catalog.c - what a DuckDB warehouse holds, read once for a whole
 * registry: every column of every table (one duckdb_columns() scan, types
 * parsed from DuckDB's own type text), table comments and the records of
 * applied definitions (_sluice_tables); compared with the storage plan of a
 * definition to find drift, and turned back into a definition for tables
 * created before records were kept. The schema_read op. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "schema/plan.h"
#include "warehouse/duckdb_int.h"
#include "warehouse/evolve.h"
#include "warehouse/warehouse_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- DuckDB's type text ----------------------------------------------------
 * duckdb_columns().data_type spells types as LogicalType::ToString does:
 * "BIGINT", "DECIMAL(12,2)", "TIMESTAMP WITH TIME ZONE", "VARCHAR[]",
 * "STRUCT(a INTEGER, \"b c\" VARCHAR)" (member names quoted when needed, a
 * quote doubled). Types Sluice never creates become CT_OTHER with their text.
 */

static char *arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
    char *d = sl__arena_alloc(a, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Skip a parenthesised group at *p ('(' included), quotes respected. */
static void skip_group(const char **p, const char *end)
{
    int depth = 0;
    char q = 0;
    for (; *p < end; (*p)++) {
        char ch = **p;
        if (q != 0) {
            q = ch == q ? 0 : q; /* a doubled quote reopens at once */
        } else if (ch == '\'' || ch == '"') {
            q = ch;
        } else if (ch == '(') {
            depth++;
        } else if (ch == ')' && --depth == 0) {
            (*p)++;
            return;
        }
    }
}

/* A member name: "quoted" (quotes doubled inside) or bare up to a space. */
static char *parse_name(struct sl_arena *a, const char **p, const char *end)
{
    const char *s = *p;
    if (s < end && *s == '"') {
        struct sl_buf b;
        sl__buf_init(&b);
        for (s++; s < end; s++) {
            if (*s == '"' && (s + 1 >= end || s[1] != '"')) {
                s++;
                break;
            }
            s += *s == '"'; /* "" is one quote */
            if (sl__buf_putc(&b, *s) != SL_OK) {
                sl__buf_release(&b);
                return NULL;
            }
        }
        *p = s;
        char *r = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
        sl__buf_release(&b);
        return r;
    }
    while (s < end && *s != ' ') {
        s++;
    }
    char *r = arena_strndup(a, *p, (size_t)(s - *p));
    *p = s;
    return r;
}

static const struct {
    const char *text;
    enum ctk k;
} ct_names[] = {
    {"BOOLEAN", CT_BOOL},
    {"BIGINT", CT_I64},
    {"DOUBLE", CT_F64},
    {"VARCHAR", CT_STR},
    {"JSON", CT_JSON},
    {"BLOB", CT_BLOB},
    {"DATE", CT_DATE},
    {"TIME", CT_TIME},
    {"TIMESTAMP", CT_TIMESTAMP},
    {"TIMESTAMP WITH TIME ZONE", CT_TIMESTAMPTZ},
    {"TIMESTAMPTZ", CT_TIMESTAMPTZ},
};

static int parse_ct(struct sl_arena *a, const char **p, const char *end,
                    struct ctype *out, int depth);

static int parse_struct(struct sl_arena *a, const char **p, const char *end,
                        struct ctype *out, int depth)
{
    size_t cap = 8;
    out->k = CT_STRUCT;
    out->kids = sl__arena_alloc(a, cap * sizeof(*out->kids));
    while (out->kids != NULL && *p < end && **p != ')') {
        if (out->n_kids == cap) {
            struct ctype *g = sl__arena_alloc(a, 2 * cap * sizeof(*g));
            if (g == NULL) {
                return -SL_ENOMEM;
            }
            memcpy(g, out->kids, cap * sizeof(*g));
            out->kids = g;
            cap *= 2;
        }
        struct ctype *m = &out->kids[out->n_kids++];
        memset(m, 0, sizeof(*m));
        if ((m->name = parse_name(a, p, end)) == NULL) {
            return -SL_ENOMEM;
        }
        *p += *p < end && **p == ' ';
        int rc = parse_ct(a, p, end, m, depth + 1);
        if (rc != SL_OK) {
            return rc;
        }
        if (*p < end && **p == ',') {
            (*p)++;
            *p += *p < end && **p == ' ';
        }
    }
    if (out->kids == NULL) {
        return -SL_ENOMEM;
    }
    *p += *p < end && **p == ')';
    return SL_OK;
}

/* Parse one type at *p into out (whose name is already set), suffixes
 * included; anything unknown is CT_OTHER with its text. */
static int parse_ct(struct sl_arena *a, const char **p, const char *end,
                    struct ctype *out, int depth)
{
    const char *s = *p;
    if (depth > 64) {
        return -SL_ECORRUPT;
    }
    while (s < end && *s != '(' && *s != ',' && *s != ')' && *s != '[') {
        s++;
    }
    size_t n = (size_t)(s - *p);
    while (n > 0 && (*p)[n - 1] == ' ') {
        n--;
    }
    const char *word = *p;
    *p = s;
    out->k = CT_OTHER;
    int rc = SL_OK;
    if (n == 6 && memcmp(word, "STRUCT", 6) == 0 && s < end && *s == '(') {
        (*p)++;
        rc = parse_struct(a, p, end, out, depth);
    } else if (n == 7 && memcmp(word, "DECIMAL", 7) == 0 && s < end &&
               *s == '(') {
        unsigned w = 0, sc = 0;
        int used = 0;
        if (sscanf(s, "(%u,%u)%n", &w, &sc, &used) == 2 && used > 0) {
            out->k = CT_DEC;
            out->width = (uint8_t)w;
            out->scale = (uint8_t)sc;
            *p = s + used;
        } else {
            skip_group(p, end);
        }
    } else {
        for (size_t i = 0; i < SL_ARRAY_LEN(ct_names); i++) {
            if (strlen(ct_names[i].text) == n &&
                memcmp(ct_names[i].text, word, n) == 0) {
                out->k = ct_names[i].k;
            }
        }
        if (s < end && *s == '(') {
            out->k = CT_OTHER; /* VARCHAR(10), ENUM(...), MAP(...), ... */
            skip_group(p, end);
        }
    }
    if (out->k == CT_OTHER &&
        (out->text = arena_strndup(a, word, (size_t)(*p - word))) == NULL) {
        return -SL_ENOMEM;
    }
    /* "[]" wraps in a LIST; "[N]" (a fixed ARRAY) is a type of its own */
    while (rc == SL_OK && *p + 1 < end && **p == '[') {
        struct ctype *kid = sl__arena_alloc(a, sizeof(*kid));
        if (kid == NULL) {
            return -SL_ENOMEM;
        }
        *kid = *out;
        kid->name = NULL;
        bool list = (*p)[1] == ']';
        const char *close = memchr(*p, ']', (size_t)(end - *p));
        *p = close != NULL ? close + 1 : end;
        char *nm = out->name;
        memset(out, 0, sizeof(*out));
        out->name = nm;
        out->k = list ? CT_LIST : CT_OTHER;
        out->kids = kid;
        out->n_kids = 1;
        if (!list) {
            out->text = "ARRAY";
        }
    }
    return rc;
}

int sl__duckdb_ctype_parse(struct sl_arena *a, const char *text, size_t len,
                           struct ctype *out)
{
    const char *p = text;
    memset(out, 0, sizeof(*out));
    return parse_ct(a, &p, text + len, out, 0);
}

bool sl__duckdb_ctype_matches(const struct ctype *ct, const struct col *c)
{
    switch (c->st) {
    case ST_BOOL:
        return ct->k == CT_BOOL;
    case ST_I64:
        return ct->k == CT_I64;
    case ST_F64:
        return ct->k == CT_F64;
    case ST_DEC:
        return ct->k == CT_DEC && ct->width == c->width &&
               ct->scale == c->scale;
    case ST_STR:
        return ct->k == CT_STR;
    case ST_JSON:
        return ct->k == CT_JSON;
    case ST_BLOB:
        return ct->k == CT_BLOB;
    case ST_DATE:
        return ct->k == CT_DATE;
    case ST_TIME:
        return ct->k == CT_TIME;
    case ST_TIMESTAMP:
        return ct->k == CT_TIMESTAMP;
    case ST_TIMESTAMPTZ:
        return ct->k == CT_TIMESTAMPTZ;
    case ST_LIST:
        return ct->k == CT_LIST && sl__duckdb_ctype_matches(ct->kids, c->kids);
    case ST_STRUCT:
        if (ct->k != CT_STRUCT || ct->n_kids != c->n_kids) {
            return false;
        }
        for (size_t i = 0; i < c->n_kids; i++) {
            if (strcmp(ct->kids[i].name, c->kids[i].f->name) != 0 ||
                !sl__duckdb_ctype_matches(&ct->kids[i], &c->kids[i])) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* ---- reading the catalog --------------------------------------------------
 */

/* A VARCHAR cell (not NUL-terminated); NULL for SQL NULL. */
static const char *cell(duckdb_data_chunk ch, idx_t col, idx_t row,
                        size_t *out_len)
{
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, col);
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid != NULL && !duckdb_validity_row_is_valid(valid, row)) {
        *out_len = 0;
        return NULL;
    }
    duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + row;
    *out_len = duckdb_string_t_length(*s);
    return duckdb_string_t_data(s);
}

static char *cell_dup(struct sl_arena *a, duckdb_data_chunk ch, idx_t col,
                      idx_t row, bool *oom)
{
    size_t n;
    const char *s = cell(ch, col, row, &n);
    if (s == NULL) {
        return NULL;
    }
    char *d = arena_strndup(a, s, n);
    *oom = *oom || d == NULL;
    return d;
}

static int ascii_cmp_ci(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        x += (x >= 'A' && x <= 'Z') ? 32 : 0;
        y += (y >= 'A' && y <= 'Z') ? 32 : 0;
        if (x != y || x == 0) {
            return x - y;
        }
    }
}

static int cmp_ctab(const void *x, const void *y)
{
    const struct ctab *a = x, *b = y;
    int r = ascii_cmp_ci(a->schema, b->schema);
    return r != 0 ? r : ascii_cmp_ci(a->name, b->name);
}

struct ctab *sl__duckdb_catalog_find(const struct catalog *cat,
                                     const char *schema, const char *name)
{
    struct ctab key = {.schema = (char *)schema, .name = (char *)name};
    return cat->n_tabs > 0 ? bsearch(&key, cat->tabs, cat->n_tabs,
                                     sizeof(*cat->tabs), cmp_ctab)
                           : NULL;
}

/* Run sql (with optional bound schema and table filters) into res. */
static int run(struct sl_wh *wh, const char *sql, const char *schema,
               const char *table, duckdb_result *res, struct sl_error *err)
{
    duckdb_prepared_statement st = NULL;
    int rc = sl__duckdb_prepare(wh, sql, &st, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (schema != NULL && (duckdb_bind_varchar(st, 1, schema) == DuckDBError ||
                           duckdb_bind_varchar(st, 2, table) == DuckDBError)) {
        rc = sl__duckdb_fail(err, 0, "bind", duckdb_prepare_error(st));
    } else {
        rc = sl__duckdb_run_prepared(st, "reading the catalog", res, err);
    }
    duckdb_destroy_prepare(&st);
    return rc;
}

/* Append a column row to the table it belongs to (rows come grouped). */
static int add_column(struct catalog *cat, size_t *cap_tabs, size_t *cap_cols,
                      char *schema, char *table, struct ccol *c)
{
    struct ctab *t = cat->n_tabs > 0 ? &cat->tabs[cat->n_tabs - 1] : NULL;
    if (t == NULL || strcmp(t->schema, schema) != 0 ||
        strcmp(t->name, table) != 0) {
        if (cat->n_tabs == *cap_tabs) {
            size_t cap = *cap_tabs ? *cap_tabs * 2 : 64;
            struct ctab *g = sl__realloc(cat->tabs, cap * sizeof(*g));
            if (g == NULL) {
                return -SL_ENOMEM;
            }
            cat->tabs = g;
            *cap_tabs = cap;
        }
        t = &cat->tabs[cat->n_tabs++];
        memset(t, 0, sizeof(*t));
        t->schema = schema;
        t->name = table;
        t->cols = NULL;
        *cap_cols = 0;
    }
    if (t->n_cols == *cap_cols) {
        size_t cap = *cap_cols ? *cap_cols * 2 : 16;
        struct ccol *g = sl__arena_alloc(&cat->arena, cap * sizeof(*g));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        if (t->n_cols > 0) {
            memcpy(g, t->cols, t->n_cols * sizeof(*g));
        }
        t->cols = g;
        *cap_cols = cap;
    }
    t->cols[t->n_cols++] = *c;
    return SL_OK;
}

static int read_columns(struct sl_wh *wh, struct catalog *cat,
                        const char *schema, const char *table,
                        struct sl_error *err)
{
    static const char all[] =
        "SELECT schema_name, table_name, column_name, data_type, is_nullable, "
        "comment FROM duckdb_columns() WHERE database_name = "
        "current_database() ORDER BY schema_name, table_name, column_index";
    static const char one[] =
        "SELECT schema_name, table_name, column_name, data_type, is_nullable, "
        "comment FROM duckdb_columns() WHERE database_name = "
        "current_database() AND lower(schema_name) = lower(?) AND "
        "lower(table_name) = lower(?) ORDER BY column_index";
    duckdb_result res;
    int rc = run(wh, schema != NULL ? one : all, schema, table, &res, err);
    if (rc != SL_OK) {
        return rc;
    }
    size_t cap_tabs = 0, cap_cols = 0;
    duckdb_data_chunk ch;
    bool oom = false;
    while (rc == SL_OK && (ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);
        bool *nul = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 4));
        for (idx_t r = 0; rc == SL_OK && r < rows; r++) {
            struct ccol c = {0};
            size_t tl;
            char *sc = cell_dup(&cat->arena, ch, 0, r, &oom);
            char *tb = cell_dup(&cat->arena, ch, 1, r, &oom);
            c.name = cell_dup(&cat->arena, ch, 2, r, &oom);
            const char *ty = cell(ch, 3, r, &tl);
            c.nullable = nul[r];
            c.comment = cell_dup(&cat->arena, ch, 5, r, &oom);
            if (oom || sc == NULL || tb == NULL || c.name == NULL) {
                rc = oom ? -SL_ENOMEM : -SL_ECORRUPT;
                break;
            }
            rc = sl__duckdb_ctype_parse(&cat->arena, ty != NULL ? ty : "", tl,
                                        &c.type);
            if (rc == SL_OK) {
                rc = add_column(cat, &cap_tabs, &cap_cols, sc, tb, &c);
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    if (rc == -SL_ENOMEM) {
        return sl__duckdb_nomem(err);
    }
    if (rc != SL_OK) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "duckdb: the catalog holds a column Sluice cannot read");
    }
    if (cat->n_tabs > 1) {
        qsort(cat->tabs, cat->n_tabs, sizeof(*cat->tabs), cmp_ctab);
    }
    return SL_OK;
}

/* The records of applied definitions, when the records table exists. */
static int read_records(struct sl_wh *wh, struct catalog *cat,
                        struct sl_error *err)
{
    static const char records[] =
        "SELECT table_name, hash FROM main._sluice_tables";
    if (sl__duckdb_catalog_find(cat, "main", "_sluice_tables") == NULL) {
        return SL_OK;
    }
    duckdb_result res;
    bool oom = false;
    int rc = run(wh, records, NULL, NULL, &res, err);
    duckdb_data_chunk ch;
    while (rc == SL_OK && (ch = duckdb_fetch_chunk(res)) != NULL) {
        for (idx_t r = 0; r < duckdb_data_chunk_get_size(ch); r++) {
            size_t n;
            const char *full = cell(ch, 0, r, &n);
            const char *dot = full != NULL ? memchr(full, '.', n) : NULL;
            char sn[1100], tn[1100];
            if (dot == NULL) {
                continue;
            }
            snprintf(sn, sizeof(sn), "%.*s", (int)(dot - full), full);
            snprintf(tn, sizeof(tn), "%.*s",
                     (int)(n - (size_t)(dot - full) - 1), dot + 1);
            struct ctab *ct = sl__duckdb_catalog_find(cat, sn, tn);
            if (ct != NULL) {
                ct->recorded = true;
                ct->rec_hash = cell_dup(&cat->arena, ch, 1, r, &oom);
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    if (rc == SL_OK) {
        duckdb_destroy_result(&res);
    }
    return oom ? sl__duckdb_nomem(err) : rc;
}

/* Table comments, read only when a table must be described from the catalog
 * (duckdb_tables() renders every table's CREATE statement, ~0.1 s for the
 * real registry, so plans of recorded tables skip it). */
int sl__duckdb_catalog_comments(struct sl_wh *wh, struct catalog *cat,
                                struct sl_error *err)
{
    static const char comments[] =
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE "
        "database_name = current_database() AND comment IS NOT NULL";
    if (cat->comments_read) {
        return SL_OK;
    }
    duckdb_result res;
    bool oom = false;
    int rc = run(wh, comments, NULL, NULL, &res, err);
    duckdb_data_chunk ch;
    while (rc == SL_OK && (ch = duckdb_fetch_chunk(res)) != NULL) {
        for (idx_t r = 0; r < duckdb_data_chunk_get_size(ch); r++) {
            size_t sl, tl;
            const char *s = cell(ch, 0, r, &sl), *t = cell(ch, 1, r, &tl);
            char sn[1100], tn[1100];
            snprintf(sn, sizeof(sn), "%.*s", (int)sl, s != NULL ? s : "");
            snprintf(tn, sizeof(tn), "%.*s", (int)tl, t != NULL ? t : "");
            struct ctab *ct = sl__duckdb_catalog_find(cat, sn, tn);
            if (ct != NULL) {
                ct->comment = cell_dup(&cat->arena, ch, 2, r, &oom);
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    if (rc == SL_OK) {
        duckdb_destroy_result(&res);
        cat->comments_read = true;
    }
    return oom ? sl__duckdb_nomem(err) : rc;
}

void sl__duckdb_catalog_release(struct catalog *cat)
{
    sl__free(cat->tabs);
    sl__arena_release(&cat->arena);
    memset(cat, 0, sizeof(*cat));
}

int sl__duckdb_catalog_read(struct sl_wh *wh, const char *schema,
                            const char *table, struct catalog *out,
                            struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    sl__arena_init(&out->arena, 256 << 10);
    int rc = read_columns(wh, out, schema, table, err);
    if (rc == SL_OK) {
        rc = read_records(wh, out, err);
    }
    return rc;
}

/* The recorded definition of dataset.table (caller frees), NULL if none. */
int sl__duckdb_record_read(struct sl_wh *wh, const char *dataset,
                           const char *name, char **out, struct sl_error *err)
{
    static const char sql[] =
        "SELECT definition FROM main._sluice_tables WHERE lower(table_name) = "
        "lower(? || '.' || ?)";
    duckdb_result res;
    *out = NULL;
    int rc = run(wh, sql, dataset, name, &res, err);
    if (rc != SL_OK) {
        return rc;
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(res);
    if (ch != NULL && duckdb_data_chunk_get_size(ch) > 0) {
        size_t n;
        const char *s = cell(ch, 0, 0, &n);
        if (s != NULL && (*out = sl__strndup(s, n)) == NULL) {
            rc = sl__duckdb_nomem(err);
        }
    }
    if (ch != NULL) {
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return rc;
}
