/* clickhouse_plan.c - how a definition is stored in ClickHouse 18.16
 * (docs/TYPES.md, ClickHouse section): one column per leaf field, named by its
 * dotted path, Array() per REPEATED level, Nullable where a value can be
 * NULL; MergeTree keys from the partitioning and clustering; the Distributed
 * table's sharding key; and, for each field ClickHouse cannot hold, the
 * reason. Shared by ensure_table and the block writer. warehouse stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "warehouse/clickhouse_int.h"

#include <stdio.h>
#include <string.h>

void sl__ch_plan_free(struct ch_plan *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; p->cols != NULL && i < p->n_cols; i++) {
        sl__free(p->cols[i].name);
        sl__free(p->cols[i].type);
    }
    sl__free(p->cols);
    sl__free(p->partition);
    sl__free(p->order);
    sl__free(p->shard_key);
    memset(p, 0, sizeof(*p));
}

struct planner {
    struct ch_plan *p;
    size_t cap;
    struct sl_buf *problems; /* "path: reason\n" lines */
    size_t n_problems;
    bool oom;
};

static void problem(struct planner *pl, const char *path, const char *why)
{
    pl->n_problems++;
    if (sl__buf_printf(pl->problems, "%s: %s\n", path, why) != SL_OK) {
        pl->oom = true;
    }
}

/* Bytes of name as ClickHouse names its files (escapeForFileName: letters,
 * digits and '_' kept, every other byte %XX). */
static size_t file_name_len(const char *name)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '_';
        n += keep ? 1 : 3;
    }
    return n;
}

/* The scalar's ClickHouse type and writer, from the leaf field. */
static const char *scalar(const struct sl_field *f, struct ch_col *c,
                          struct planner *pl, const char *path)
{
    switch (f->type) {
    case SL_T_STRING:
    case SL_T_GEOGRAPHY:
    case SL_T_JSON:
    case SL_T_RANGE:
    case SL_T_INTERVAL:
        c->st = CH_STR;
        return "String";
    case SL_T_BYTES:
        c->st = CH_BYTES;
        return "String";
    case SL_T_INT64:
        c->st = CH_I64;
        return "Int64";
    case SL_T_FLOAT64:
        c->st = CH_F64;
        return "Float64";
    case SL_T_BOOL:
        c->st = CH_BOOL;
        return "UInt8";
    case SL_T_DATE:
        c->st = CH_DATE;
        return "Int32";
    case SL_T_DATETIME:
    case SL_T_TIME:
    case SL_T_TIMESTAMP:
        c->st = CH_MICROS;
        return "Int64";
    case SL_T_NUMERIC:
        c->st = CH_DEC;
        c->precision = 38;
        c->scale = 9;
        if (f->has_precision) {
            if (f->precision < 1 || f->precision > 38 || f->scale < 0 ||
                f->scale > f->precision) {
                problem(pl, path,
                        "NUMERIC precision above 38: "
                        "ClickHouse's Decimal stops at 38");
                return "String";
            }
            c->precision = (uint8_t)f->precision;
            c->scale = (uint8_t)f->scale;
        }
        return NULL; /* Decimal(P, S), written by the caller */
    case SL_T_BIGNUMERIC:
        /* 18.16 has no Decimal256: BIGNUMERIC(P,S) with P <= 38 fits a
           Decimal, the rest keeps its exact decimal text */
        if (f->has_precision && f->precision >= 1 && f->precision <= 38 &&
            f->scale >= 0 && f->scale <= f->precision) {
            c->st = CH_DECTEXT;
            c->precision = (uint8_t)f->precision;
            c->scale = (uint8_t)f->scale;
            return NULL;
        }
        c->st = CH_STR;
        return "String";
    case SL_T_RECORD:
        break;
    }
    problem(pl, path, "no ClickHouse type");
    return "String";
}

/* Is s a simple identifier ([A-Za-z_][A-Za-z0-9_]*)? ClickHouse takes a
 * column name "a.b" of two such parts for a member of Nested structure a. */
static bool simple_ident(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
        return false;
    }
    for (s++; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_')) {
            return false;
        }
    }
    return true;
}

static int add_leaf(struct planner *pl, const struct sl_field **chain,
                    uint8_t depth)
{
    struct ch_plan *p = pl->p;
    const struct sl_field *f = chain[depth - 1];
    const char *path = f->path != NULL ? f->path : f->name;
    if (p->n_cols == pl->cap) {
        size_t ncap = pl->cap ? pl->cap * 2 : 16;
        struct ch_col *g = sl__realloc(p->cols, ncap * sizeof(*g));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        p->cols = g;
        pl->cap = ncap;
    }
    struct ch_col *c = &p->cols[p->n_cols];
    memset(c, 0, sizeof(*c));
    memcpy(c->chain, chain, depth * sizeof(*chain));
    c->depth = depth;
    /* A value can be NULL when the leaf is NULLABLE, or when a NULLABLE
       RECORD encloses it below its innermost REPEATED level (a NULL RECORD
       is stored as NULL members; above a REPEATED level it is an empty
       array). A REPEATED leaf is an array, never NULL. */
    bool nullable = f->mode == SL_M_NULLABLE;
    for (int i = (int)depth - 2; i >= 0 && f->mode != SL_M_REPEATED; i--) {
        if (chain[i]->mode == SL_M_REPEATED) {
            break;
        }
        nullable |= chain[i]->mode == SL_M_NULLABLE;
    }
    for (uint8_t i = 0; i < depth; i++) {
        c->n_arrays += chain[i]->mode == SL_M_REPEATED;
    }
    c->nullable = nullable && f->mode != SL_M_REPEATED;
    struct sl_buf ty;
    sl__buf_init(&ty);
    const char *base = scalar(f, c, pl, path);
    int rc = SL_OK;
    for (uint8_t i = 0; rc == SL_OK && i < c->n_arrays; i++) {
        rc = CH_LIT(&ty, "Array(");
    }
    if (rc == SL_OK && c->nullable) {
        rc = CH_LIT(&ty, "Nullable(");
    }
    if (rc == SL_OK) {
        rc = base != NULL ? sl__buf_append(&ty, base, strlen(base))
                          : sl__buf_printf(&ty, "Decimal(%u, %u)", c->precision,
                                           c->scale);
    }
    for (uint8_t i = 0; rc == SL_OK && i < c->n_arrays + c->nullable; i++) {
        rc = sl__buf_putc(&ty, ')');
    }
    c->name = sl__strdup(path);
    if (rc != SL_OK || c->name == NULL) {
        sl__free(c->name);
        sl__buf_release(&ty);
        return -SL_ENOMEM;
    }
    c->type = ty.data;
    p->n_cols++;
    if (strcmp(path, "_sluice_batch") == 0) {
        problem(pl, path, "the name of Sluice's batch marker column");
    }
    /* ".null.bin", ".size0.mrk" ...: ext4 names stop at 255 bytes */
    if (file_name_len(path) > 230) {
        problem(pl, path,
                "the column name is too long for ClickHouse's file names "
                "(230 bytes once escaped)");
    }
    return SL_OK;
}

static int walk(struct planner *pl, const struct sl_field *fields, size_t n,
                const struct sl_field **chain, uint8_t depth)
{
    for (size_t i = 0; i < n; i++) {
        const struct sl_field *f = &fields[i];
        if (depth >= CH_MAX_DEPTH) {
            problem(pl, f->path != NULL ? f->path : f->name,
                    "nested deeper than 16 levels");
            continue;
        }
        chain[depth] = f;
        int rc;
        if (f->type == SL_T_RECORD) {
            if (f->n_fields == 0) {
                problem(pl, f->path != NULL ? f->path : f->name,
                        "a RECORD without fields has no columns");
                continue;
            }
            rc = walk(pl, f->fields, f->n_fields, chain, (uint8_t)(depth + 1));
        } else {
            rc = add_leaf(pl, chain, (uint8_t)(depth + 1));
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* ClickHouse reads an Array column "a.b" (two simple identifiers) as member b
 * of the Nested structure a, whose arrays must all have one length. Under a
 * REPEATED RECORD a that holds (each member has a's length); under a RECORD a
 * that is not repeated, two REPEATED fields directly in it would differ. */
static void nested_conflicts(struct planner *pl, const struct sl_table *t)
{
    for (size_t i = 0; i < t->root.n_fields; i++) {
        const struct sl_field *r = &t->root.fields[i];
        if (r->type != SL_T_RECORD || r->mode == SL_M_REPEATED ||
            !simple_ident(r->name)) {
            continue;
        }
        const char *first = NULL;
        for (size_t k = 0; k < r->n_fields; k++) {
            const struct sl_field *f = &r->fields[k];
            if (f->mode != SL_M_REPEATED || f->type == SL_T_RECORD ||
                !simple_ident(f->name)) {
                continue;
            }
            if (first == NULL) {
                first = f->name;
                continue;
            }
            char why[300];
            snprintf(why, sizeof(why),
                     "REPEATED beside %s.%s in the RECORD %s: ClickHouse "
                     "18.16 takes Array columns %s.x for one Nested "
                     "structure whose arrays must have equal lengths",
                     r->name, first, r->name, r->name);
            problem(pl, f->path != NULL ? f->path : f->name, why);
        }
    }
}

/* The column of a top-level field (its one leaf), NULL if it has none. */
static const struct ch_col *top_col(const struct ch_plan *p,
                                    const struct sl_field *f)
{
    for (size_t i = 0; i < p->n_cols; i++) {
        if (p->cols[i].depth == 1 && p->cols[i].chain[0] == f) {
            return &p->cols[i];
        }
    }
    return NULL;
}

/* Append the column as a non-NULL expression ("assumeNotNull(`c`)" for a
 * Nullable one: ClickHouse keys take no Nullable columns). */
static int key_ref(struct sl_buf *b, const struct ch_col *c)
{
    int rc = c->nullable ? CH_LIT(b, "assumeNotNull(") : SL_OK;
    rc = rc ? rc : sl__ch_ident(b, c->name);
    return rc ? rc : (c->nullable ? sl__buf_putc(b, ')') : SL_OK);
}

static int partition_expr(struct sl_buf *b, const struct sl_table *t,
                          const struct ch_plan *p, struct planner *pl)
{
    if (t->part_kind == SL_PART_NONE || t->part_field == NULL) {
        return SL_OK; /* ingestion-time partitioning has no column here */
    }
    const struct ch_col *c = top_col(p, t->part_field);
    if (c == NULL || c->n_arrays > 0) {
        problem(pl, t->part_field->name,
                "a partitioning column must be a top-level scalar");
        return SL_OK;
    }
    int rc = SL_OK;
    if (t->part_kind == SL_PART_RANGE) {
        long long s = (long long)t->range_start, e = (long long)t->range_end,
                  iv = (long long)(t->range_interval > 0 ? t->range_interval
                                                         : 1);
        rc = CH_LIT(b, "multiIf(");
        if (rc == SL_OK && c->nullable) {
            rc = CH_LIT(b, "isNull(");
            rc = rc ? rc : sl__ch_ident(b, c->name);
            rc = rc ? rc : CH_LIT(b, "), -2, ");
        }
        rc = rc ? rc : key_ref(b, c);
        rc = rc ? rc : sl__buf_printf(b, " < %lld OR ", s);
        rc = rc ? rc : key_ref(b, c);
        rc = rc ? rc : sl__buf_printf(b, " >= %lld, -1, intDiv(", e);
        rc = rc ? rc : key_ref(b, c);
        return rc ? rc : sl__buf_printf(b, " - %lld, %lld))", s, iv);
    }
    /* One level coarser than BigQuery's unit: ClickHouse partitions are for
       merges and data management (the sorting key prunes reads), and an
       INSERT into more than 100 partitions fails (docs/TYPES.md). */
    const char *unit = t->part_type != NULL ? t->part_type : "DAY";
    const char *fn = strcmp(unit, "HOUR") == 0   ? "toYYYYMMDD"
                     : strcmp(unit, "YEAR") == 0 ? "toYear"
                                                 : "toYYYYMM";
    rc = sl__buf_printf(b, "%s(toDateTime(", fn);
    if (c->st == CH_DATE) {
        rc = rc ? rc : key_ref(b, c);
        rc = rc ? rc : CH_LIT(b, " * 86400");
    } else if (c->st == CH_MICROS) {
        rc = rc ? rc : CH_LIT(b, "intDiv(");
        rc = rc ? rc : key_ref(b, c);
        rc = rc ? rc : CH_LIT(b, ", 1000000)");
    } else {
        problem(pl, c->name,
                "time partitioning needs a DATE, DATETIME or TIMESTAMP");
        sl__buf_reset(b);
        return SL_OK;
    }
    return rc ? rc : CH_LIT(b, "), 'UTC')");
}

static int order_expr(struct sl_buf *b, const struct sl_table *t,
                      struct ch_plan *p, struct planner *pl)
{
    const struct ch_col *keys[4];
    size_t n = 0;
    for (size_t i = 0; i < t->n_cluster && n < 4; i++) {
        const struct ch_col *c = top_col(p, t->cluster[i]);
        if (c == NULL || c->n_arrays > 0) {
            problem(pl, t->cluster[i]->name,
                    "a clustering column must be a top-level scalar");
            continue;
        }
        keys[n++] = c;
        p->shard_cols[p->n_shard_cols++] = t->cluster[i]->idx;
    }
    if (n == 0 && t->part_kind != SL_PART_NONE && t->part_field != NULL) {
        const struct ch_col *c = top_col(p, t->part_field);
        if (c != NULL && c->n_arrays == 0) {
            keys[n++] = c; /* a stable order: the partitioning column */
        }
    }
    if (n == 0) {
        return CH_LIT(b, "tuple()");
    }
    int rc = n > 1 ? sl__buf_putc(b, '(') : SL_OK;
    for (size_t i = 0; rc == SL_OK && i < n; i++) {
        rc = i > 0 ? CH_LIT(b, ", ") : SL_OK;
        rc = rc ? rc : key_ref(b, keys[i]);
    }
    return rc ? rc : (n > 1 ? sl__buf_putc(b, ')') : SL_OK);
}

/* halfMD5 of the clustering columns' text ('|' between them), which
 * sl__ch_route computes the same way; rand() without clustering (Sluice
 * then routes by a hash of the whole row). */
static int shard_expr(struct sl_buf *b, const struct ch_plan *p,
                      const struct sl_table *t)
{
    if (p->n_shard_cols == 0) {
        return CH_LIT(b, "rand()");
    }
    int rc = CH_LIT(b, "halfMD5(");
    if (p->n_shard_cols > 1) {
        rc = rc ? rc : CH_LIT(b, "concat(");
    }
    for (size_t i = 0; rc == SL_OK && i < p->n_shard_cols; i++) {
        const struct ch_col *c = top_col(p, &t->root.fields[p->shard_cols[i]]);
        if (i > 0) {
            rc = CH_LIT(b, ", '|', ");
        }
        const char *open = c->nullable ? "ifNull(toString(" : "toString(";
        const char *close = c->nullable ? "), '')" : ")";
        rc = rc ? rc : sl__buf_append(b, open, strlen(open));
        rc = rc ? rc : sl__ch_ident(b, c->name);
        rc = rc ? rc : sl__buf_append(b, close, strlen(close));
    }
    if (p->n_shard_cols > 1) {
        rc = rc ? rc : sl__buf_putc(b, ')');
    }
    return rc ? rc : sl__buf_putc(b, ')');
}

int sl__ch_plan_table(const struct sl_table *t, struct ch_plan *out,
                      struct sl_buf *problems, struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    struct sl_buf local, part, order, shard;
    sl__buf_init(&local);
    sl__buf_init(&part);
    sl__buf_init(&order);
    sl__buf_init(&shard);
    struct planner pl = {.p = out, .problems = problems ? problems : &local};
    size_t before = pl.problems->len;
    const struct sl_field *chain[CH_MAX_DEPTH];
    int rc = SL_OK;
    if (t->root.n_fields == 0) {
        problem(&pl, t->name, "a table without columns");
    }
    rc = walk(&pl, t->root.fields, t->root.n_fields, chain, 0);
    if (rc == SL_OK) {
        nested_conflicts(&pl, t);
        rc = partition_expr(&part, t, out, &pl);
    }
    rc = rc ? rc : order_expr(&order, t, out, &pl);
    rc = rc ? rc : shard_expr(&shard, out, t);
    if (rc == SL_OK && !pl.oom) {
        out->partition = part.len > 0 ? part.data : NULL;
        out->order = order.data;
        out->shard_key = shard.data;
        if (part.len == 0) {
            sl__buf_release(&part);
        }
        sl__buf_init(&part);
        sl__buf_init(&order);
        sl__buf_init(&shard);
    }
    if (rc == SL_OK && pl.oom) {
        rc = -SL_ENOMEM;
    }
    if (rc == -SL_ENOMEM) {
        rc = SL_ERR(err, rc, "out of memory planning %s.%s", t->dataset,
                    t->name);
    } else if (rc == SL_OK && pl.n_problems > 0) {
        /* every field in the one message, as far as it goes: "a.b: why;
           c: why" */
        char list[400];
        size_t k = 0;
        for (const char *q = pl.problems->data + before;
             *q != '\0' && k + 1 < sizeof(list); q++) {
            if (*q == '\n') {
                if (q[1] != '\0' && k + 3 < sizeof(list)) {
                    list[k++] = ';';
                    list[k++] = ' ';
                }
            } else {
                list[k++] = *q;
            }
        }
        list[k] = '\0';
        rc = SL_ERR(err, -SL_ESCHEMA, "ClickHouse cannot hold %zu field%s: %s",
                    pl.n_problems, pl.n_problems > 1 ? "s" : "", list);
    }
    sl__buf_release(&local);
    sl__buf_release(&part);
    sl__buf_release(&order);
    sl__buf_release(&shard);
    if (rc != SL_OK) {
        sl__ch_plan_free(out);
    }
    return rc;
}

/* A comment for columns whose ClickHouse type does not tell what they hold. */
static const char *type_note(const struct ch_col *c)
{
    switch (c->chain[c->depth - 1]->type) {
    case SL_T_TIMESTAMP:
        return "TIMESTAMP: microseconds since 1970-01-01 00:00:00 UTC";
    case SL_T_DATETIME:
        return "DATETIME: microseconds since 1970-01-01 00:00:00 (civil)";
    case SL_T_TIME:
        return "TIME: microseconds since midnight";
    case SL_T_DATE:
        return "DATE: days since 1970-01-01";
    case SL_T_BOOL:
        return "BOOL: 1 true, 0 false";
    case SL_T_BIGNUMERIC:
        return c->st == CH_STR ? "BIGNUMERIC: exact decimal text" : NULL;
    case SL_T_BYTES:
        return "BYTES";
    case SL_T_JSON:
        return "JSON text";
    default:
        return NULL;
    }
}

int sl__ch_columns_sql(struct sl_buf *b, const struct ch_plan *p,
                       const char *marker)
{
    int rc = sl__buf_putc(b, '(');
    for (size_t i = 0; rc == SL_OK && i < p->n_cols; i++) {
        const struct ch_col *c = &p->cols[i];
        const struct sl_field *f = c->chain[c->depth - 1];
        rc = i > 0 ? CH_LIT(b, ", ") : SL_OK;
        rc = rc ? rc : sl__ch_ident(b, c->name);
        rc = rc ? rc : sl__buf_printf(b, " %s", c->type);
        const char *note = type_note(c);
        const char *d = f->description;
        if (rc == SL_OK && marker != NULL && (note != NULL || d != NULL)) {
            struct sl_buf cm;
            sl__buf_init(&cm);
            rc = sl__buf_printf(&cm, "%s%s%s", d != NULL ? d : "",
                                d != NULL && note != NULL ? " " : "",
                                note != NULL ? "[" : "");
            rc = rc ? rc
                    : sl__buf_printf(&cm, "%s%s", note != NULL ? note : "",
                                     note != NULL ? "]" : "");
            rc = rc ? rc : CH_LIT(b, " COMMENT ");
            rc = rc ? rc : sl__ch_literal(b, cm.data, cm.len);
            sl__buf_release(&cm);
        }
    }
    if (rc == SL_OK && marker != NULL) {
        rc = sl__buf_printf(b, ", `_sluice_batch` UInt64%s", marker);
    }
    return rc ? rc : sl__buf_putc(b, ')');
}

int sl__ch_engine_sql(struct sl_buf *b, const struct ch_plan *p)
{
    int rc = CH_LIT(b, " ENGINE = MergeTree");
    if (rc == SL_OK && p->partition != NULL) {
        rc = sl__buf_printf(b, " PARTITION BY %s", p->partition);
    }
    return rc ? rc : sl__buf_printf(b, " ORDER BY %s", p->order);
}
