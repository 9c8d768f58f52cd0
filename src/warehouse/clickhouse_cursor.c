/* clickhouse_cursor.c - queries on ClickHouse as cursors of typed rows: the
 * statement is POSTed with Native as its output format and the answer read
 * one block at a time as it streams (clickhouse_native.c parses it), an
 * exception the server appends after rows already sent (with a 200 status)
 * found at the block boundary where it starts; and scripts split into
 * statements. warehouse stage.
 *
 * Memory: the cursor holds one block of the result (ClickHouse's blocks are
 * about 1 MB: preferred_block_size_bytes) and a per-row arena for nested
 * values and texts; nothing grows with the size of the result. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/clickhouse_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sl_cursor {
    struct sl_wh *wh; /* borrowed */
    bool public;      /* the sl_wh_ops cursor (wh->cursor) */
    size_t shard;
    struct sl_http_stream *st; /* owned; NULL once the body was read */
    struct ch_block *blk;      /* the block being read, owned */
    size_t blk_used;           /* its bytes in the stream, to consume */
    size_t pos;                /* next row of blk */
    size_t want;               /* bytes to pull before parsing again */
    bool done;
    struct sl_qcol *cols; /* owned */
    size_t n_cols;
    char **types;          /* each column's type name, owned */
    struct sl_val *row;    /* n_cols values handed out, owned */
    struct sl_arena arena; /* the current row's nested values */
};

static int nomem(struct sl_error *err)
{
    return SL_ERR(err, -SL_ENOMEM, "out of memory reading a result");
}

static void drop_stream(struct sl_cursor *c)
{
    sl__ch_block_free(c->blk);
    c->blk = NULL;
    sl__http_stream_close(c->st);
    c->st = NULL;
}

void sl__ch_cursor_close(struct sl_cursor *c)
{
    if (c == NULL) {
        return;
    }
    drop_stream(c);
    for (size_t i = 0; i < c->n_cols; i++) {
        sl__ch_qcol_release(&c->cols[i]);
        if (c->types != NULL) {
            sl__free(c->types[i]);
        }
    }
    sl__free(c->cols);
    sl__free(c->types);
    sl__free(c->row);
    sl__arena_release(&c->arena);
    if (c->public && c->wh->cursor == c) {
        c->wh->cursor = NULL;
    }
    sl__free(c);
}

/* Read what is left of the body (at most 1 MB) and judge it as a response
 * with this status: the error it carries, or SL_OK. */
static int judge_rest(struct sl_cursor *c, long status, struct sl_error *err)
{
    struct sl_http_resp r = *sl__http_stream_resp(c->st);
    const char *data;
    size_t len = 0;
    bool end = false;
    int rc = SL_OK;
    size_t want = 65536;
    while (rc == SL_OK && !end && len < (1u << 20)) {
        rc = sl__http_pull(c->st, want, &data, &len, &end, err);
        want = len + 65536;
    }
    if (rc != SL_OK) {
        return rc;
    }
    r.status = status;
    r.body.data = (char *)data;
    r.body.len = len;
    return sl__ch_judge(c->wh->shard[c->shard].name, c->wh->uri.user, &r, err);
}

static int set_columns(struct sl_cursor *c, struct sl_error *err, size_t n,
                       const char *const *names, const char *const *types)
{
    c->cols = sl__calloc(n ? n : 1, sizeof(*c->cols));
    c->types = sl__calloc(n ? n : 1, sizeof(*c->types));
    c->row = sl__calloc(n ? n : 1, sizeof(*c->row));
    if (c->cols == NULL || c->types == NULL || c->row == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = sl__ch_qcol(names[i], types[i], &c->cols[i], err);
        if (rc != SL_OK) {
            return rc;
        }
        c->n_cols = i + 1;
        if ((c->types[i] = sl__strdup(types[i])) == NULL) {
            return nomem(err);
        }
    }
    return SL_OK;
}

/* Does a statement return rows (SELECT, WITH, SHOW, DESCRIBE ...)? */
static bool returns_rows(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' ||
           *sql == '(') {
        sql++;
    }
    static const char *const kw[] = {"SELECT", "WITH", "SHOW", "DESC",
                                     "EXISTS"};
    for (size_t i = 0; i < SL_ARRAY_LEN(kw); i++) {
        size_t k = strlen(kw[i]);
        if (strncasecmp(sql, kw[i], k) == 0 &&
            !isalnum((unsigned char)sql[k]) && sql[k] != '_') {
            return true;
        }
    }
    return false;
}

static int open_stream(struct sl_cursor *c, const char *sql,
                       struct sl_error *err);

/* An empty Native answer has no header block: ask DESCRIBE for the
 * columns so that an empty result still has them. Failures leave none. */
static void describe_columns(struct sl_cursor *c, const char *sql)
{
    struct sl_buf q;
    sl__buf_init(&q);
    struct sl_cursor *d = NULL;
    struct sl_error e = {0};
    if (sl__buf_printf(&q, "DESCRIBE TABLE (%s)", sql) != SL_OK ||
        sl__ch_cursor_open_on(c->wh, c->shard, q.data, &d, &e) != SL_OK) {
        sl__buf_release(&q);
        return;
    }
    size_t n = 0, cap = 0;
    char **names = NULL, **types = NULL;
    const struct sl_val *row;
    bool ok = true;
    while (ok && sl__ch_cursor_next(d, &row, &e) == SL_OK && row != NULL) {
        if (d->n_cols < 2 || row[0].kind != SL_V_STR ||
            row[1].kind != SL_V_STR) {
            ok = false;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **g1 = sl__realloc(names, cap * sizeof(*g1));
            names = g1 != NULL ? g1 : names;
            char **g2 =
                g1 != NULL ? sl__realloc(types, cap * sizeof(*g2)) : NULL;
            types = g2 != NULL ? g2 : types;
            if (g1 == NULL || g2 == NULL) {
                ok = false;
                break;
            }
        }
        names[n] = sl__strndup(row[0].u.s, row[0].len);
        types[n] = sl__strndup(row[1].u.s, row[1].len);
        n++;
        ok = names[n - 1] != NULL && types[n - 1] != NULL;
    }
    sl__ch_cursor_close(d);
    if (ok && n > 0) {
        struct sl_error e2 = {0};
        if (set_columns(c, &e2, n, (const char *const *)names,
                        (const char *const *)types) != SL_OK) {
            for (size_t i = 0; i < c->n_cols; i++) {
                sl__ch_qcol_release(&c->cols[i]);
            }
            c->n_cols = 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sl__free(names[i]);
        sl__free(types[i]);
    }
    sl__free(names);
    sl__free(types);
    sl__buf_release(&q);
}

/* The next block into c->blk (NULL at the end of the result). */
static int next_block(struct sl_cursor *c, struct sl_error *err)
{
    if (c->blk != NULL) {
        sl__http_consume(c->st, c->blk_used);
        sl__ch_block_free(c->blk);
        c->blk = NULL;
    }
    c->pos = 0;
    size_t want = 1;
    for (;;) {
        const char *data;
        size_t len;
        bool end;
        int rc = sl__http_pull(c->st, want, &data, &len, &end, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (len == 0 && end) {
            return SL_OK;
        }
        /* an exception after rows: a 200 answer's text from here on (a real
           block starting with these bytes would have 67 columns) */
        if (len >= 7 && memcmp(data, "Code: ", 6) == 0 &&
            isdigit((unsigned char)data[6]) && c->n_cols != 67) {
            rc = judge_rest(c, 200, err);
            return rc != SL_OK ? rc
                               : SL_ERR(err, -SL_EWAREHOUSE,
                                        "clickhouse %s: malformed answer",
                                        c->wh->shard[c->shard].name);
        }
        size_t used = 0, need = 0;
        struct ch_block *b = NULL;
        rc = sl__ch_block_parse(data, len, &b, &used, &need, err);
        if (rc != SL_OK) {
            return rc;
        }
        if (b != NULL) {
            c->blk = b;
            c->blk_used = used;
            return SL_OK;
        }
        if (end) {
            return SL_ERR(err, -SL_EUNAVAIL,
                          "clickhouse %s: the result ended inside a block",
                          c->wh->shard[c->shard].name);
        }
        /* at least what is missing, and twice what we have: a block's
           bytes are parsed O(log size) times */
        want = len + (need > len ? need : len);
    }
}

static int open_stream(struct sl_cursor *c, const char *sql,
                       struct sl_error *err)
{
    struct sl_wh *wh = c->wh;
    struct sl_buf path;
    sl__buf_init(&path);
    int rc = sl__ch_path(wh, &path,
                         "&default_format=Native"
                         "&low_cardinality_allow_in_native_format=0");
    if (rc != SL_OK) {
        sl__buf_release(&path);
        return nomem(err);
    }
    struct sl_http_req rq = {
        .path_query = path.data, .body = sql, .body_len = strlen(sql)};
    rc = sl__http_stream_open(wh->shard[c->shard].http, &rq, &c->st, err);
    sl__buf_release(&path);
    if (rc != SL_OK) {
        sl__error_prefix(err, "clickhouse ");
        return rc;
    }
    const struct sl_http_resp *r = sl__http_stream_resp(c->st);
    if (r->status != 200) {
        rc = judge_rest(c, r->status, err);
        return rc != SL_OK ? rc
                           : SL_ERR(err, -SL_EWAREHOUSE,
                                    "clickhouse %s: HTTP status %ld",
                                    wh->shard[c->shard].name, r->status);
    }
    if (strncmp(r->content_type, "application/octet-stream", 24) != 0) {
        /* no result set (CREATE, INSERT ...), or a FORMAT of its own */
        const char *data;
        size_t len;
        bool end;
        rc = sl__http_pull(c->st, 1, &data, &len, &end, err);
        if (rc == SL_OK && len > 0) {
            rc = judge_rest(c, 200, err);
            if (rc == SL_OK) {
                rc = SL_ERR(err, -SL_EUSAGE,
                            "clickhouse: the answer is not in the Native "
                            "format: leave the FORMAT clause out (sluice "
                            "query --format chooses the output)");
            }
        }
        c->done = true;
        return rc;
    }
    rc = next_block(c, err);
    if (rc != SL_OK) {
        return rc;
    }
    if (c->blk == NULL) {
        c->done = true;
        drop_stream(c); /* the connection is free for DESCRIBE */
        if (returns_rows(sql)) {
            describe_columns(c, sql);
        }
        return SL_OK;
    }
    size_t n = sl__ch_block_cols(c->blk);
    const char **names = sl__calloc(n ? n : 1, sizeof(*names));
    const char **types = sl__calloc(n ? n : 1, sizeof(*types));
    if (names == NULL || types == NULL) {
        sl__free(names);
        sl__free(types);
        return nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = sl__ch_block_name(c->blk, i);
        types[i] = sl__ch_block_type(c->blk, i);
    }
    rc = set_columns(c, err, n, names, types);
    sl__free(names);
    sl__free(types);
    return rc;
}

int sl__ch_cursor_open_on(struct sl_wh *wh, size_t s, const char *sql,
                          struct sl_cursor **out, struct sl_error *err)
{
    *out = NULL;
    struct sl_cursor *c = sl__calloc(1, sizeof(*c));
    if (c == NULL) {
        return nomem(err);
    }
    c->wh = wh;
    c->shard = s;
    sl__arena_init(&c->arena, 16384);
    int rc = open_stream(c, sql, err);
    if (rc != SL_OK) {
        sl__ch_cursor_close(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

int sl__ch_query(struct sl_wh *wh, const char *sql, struct sl_cursor **out,
                 struct sl_error *err)
{
    *out = NULL;
    if (wh->cursor != NULL) {
        return SL_ERR(err, -SL_EWAREHOUSE,
                      "clickhouse: query while another query's cursor is open");
    }
    int rc = sl__ch_cursor_open_on(wh, 0, sql, out, err);
    if (rc == SL_OK) {
        (*out)->public = true;
        wh->cursor = *out;
    }
    return rc;
}

const struct sl_qcol *sl__ch_cursor_columns(struct sl_cursor *c, size_t *out_n)
{
    *out_n = c->n_cols;
    return c->cols;
}

int sl__ch_cursor_next(struct sl_cursor *c, const struct sl_val **out_row,
                       struct sl_error *err)
{
    *out_row = NULL;
    if (c->done) {
        return SL_OK;
    }
    sl__arena_reset(&c->arena);
    while (c->blk == NULL || c->pos >= sl__ch_block_rows(c->blk)) {
        int rc = next_block(c, err);
        if (rc != SL_OK) {
            c->done = true;
            drop_stream(c);
            return rc;
        }
        if (c->blk == NULL) {
            c->done = true;
            drop_stream(c);
            return SL_OK;
        }
        size_t n = sl__ch_block_cols(c->blk);
        bool same = n == c->n_cols;
        for (size_t i = 0; same && i < n; i++) {
            same = strcmp(sl__ch_block_type(c->blk, i), c->types[i]) == 0;
        }
        if (!same) {
            c->done = true;
            drop_stream(c);
            return SL_ERR(err, -SL_EWAREHOUSE,
                          "clickhouse %s: a result block of other columns",
                          c->wh->shard[c->shard].name);
        }
    }
    for (size_t i = 0; i < c->n_cols; i++) {
        int rc =
            sl__ch_block_value(c->blk, i, c->pos, &c->arena, &c->row[i], err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    c->pos++;
    *out_row = c->row;
    return SL_OK;
}

int sl__ch_count(struct sl_wh *wh, size_t s, const char *sql, int64_t *out,
                 struct sl_error *err)
{
    *out = 0;
    struct sl_cursor *c = NULL;
    int rc = sl__ch_cursor_open_on(wh, s, sql, &c, err);
    const struct sl_val *row = NULL;
    if (rc == SL_OK) {
        rc = sl__ch_cursor_next(c, &row, err);
    }
    if (rc == SL_OK && row != NULL && c->n_cols > 0) {
        if (row[0].kind == SL_V_I64) {
            *out = row[0].u.i;
        } else if (row[0].kind == SL_V_NUMTEXT) {
            /* a UInt64 (a marker above 2^63 keeps its bits) */
            *out = (int64_t)strtoull(row[0].u.s, NULL, 10);
        }
    }
    sl__ch_cursor_close(c);
    return rc;
}

/* ---- scripts --------------------------------------------------------------
 */

/* The statement at s: its length up to the ';' that ends it (or the end),
 * and whether it holds anything but blanks and comments. ClickHouse's lexer:
 * '' strings, "" and `` identifiers (backslash escapes and doubled quotes in
 * all three), -- and block comments. */
static size_t stmt_len(const char *s, size_t n, bool *out_code)
{
    size_t i = 0;
    bool code = false;
    while (i < n && s[i] != ';') {
        char ch = s[i];
        if (ch == '\'' || ch == '"' || ch == '`') {
            code = true;
            for (i++; i < n; i++) {
                if (s[i] == '\\') {
                    i++;
                } else if (s[i] == ch) {
                    if (i + 1 < n && s[i + 1] == ch) {
                        i++;
                    } else {
                        break;
                    }
                }
            }
            i++;
        } else if (ch == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') {
                i++;
            }
        } else if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
                i++;
            }
            i = i + 2 <= n ? i + 2 : n;
        } else {
            code |= !isspace((unsigned char)ch);
            i++;
        }
    }
    *out_code = code;
    return i < n ? i : n;
}

void sl__ch_free_statements(char **stmts, size_t n)
{
    for (size_t i = 0; stmts != NULL && i < n; i++) {
        sl__free(stmts[i]);
    }
    sl__free(stmts);
}

int sl__ch_split_statements(struct sl_wh *wh, const char *sql, char ***out,
                            size_t *out_n, struct sl_error *err)
{
    (void)wh;
    *out = NULL;
    *out_n = 0;
    size_t len = strlen(sql), cap = 0, n = 0;
    char **st = NULL;
    for (size_t i = 0; i <= len;) {
        while (i < len && isspace((unsigned char)sql[i])) {
            i++;
        }
        bool code;
        size_t l = stmt_len(sql + i, len - i, &code);
        if (code) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                char **g = sl__realloc(st, ncap * sizeof(*g));
                if (g == NULL) {
                    sl__ch_free_statements(st, n);
                    return nomem(err);
                }
                st = g;
                cap = ncap;
            }
            if ((st[n] = sl__strndup(sql + i, l)) == NULL) {
                sl__ch_free_statements(st, n);
                return nomem(err);
            }
            n++;
        }
        i += l + 1;
    }
    *out = st;
    *out_n = n;
    return SL_OK;
}
