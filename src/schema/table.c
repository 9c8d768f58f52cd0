/* table.c - parse one table definition (a BigQuery schema file or Sluice's
 * object form) with jansson and check it against BigQuery's schema rules
 * (../shared/docs/BIGQUERY.md §1.9, §4.7-4.9): partitioning, clustering, the
 * object form; the field tree itself is fields.c. schema stage.
 *
 * The field tree is built in place: each RECORD owns one array of its
 * sub-fields, allocated at its final size, so parent pointers stay valid. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "schema/schema.h"
#include "schema/schema_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>


/* ------------------------------------------------------------------ problems
 */

int sl__schema_oom(struct sl_pctx *c)
{
    c->oom = -SL_ENOMEM;
    if (c->err != NULL && c->err->code == 0) {
        SL_ERR(c->err, -SL_ENOMEM,
               "out of memory while loading a table definition");
        sl__error_path(c->err, c->file);
    }
    return -SL_ENOMEM;
}

int sl__schema_fail(struct sl_pctx *c, const char *column, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (column == NULL) {
        column = "";
    }
    if (c->err != NULL && c->err->code == 0) {
        SL_ERR(c->err, -SL_ESCHEMA, "%s", msg);
        sl__error_path(c->err, c->file);
        snprintf(c->err->column, sizeof(c->err->column), "%s", column);
    }
    c->n_problems++;
    if (c->problems != NULL && c->n_problems <= SL_SCHEMA_MAX_PROBLEMS + 1) {
        int rc;
        if (c->n_problems == SL_SCHEMA_MAX_PROBLEMS + 1) {
            rc = sl__buf_printf(c->problems, "%s: more problems not shown\n",
                                c->file);
        } else if (column[0] != '\0') {
            rc = sl__buf_printf(c->problems, "%s: %s: %s\n", c->file, column,
                                msg);
        } else {
            rc = sl__buf_printf(c->problems, "%s: %s\n", c->file, msg);
        }
        if (rc != SL_OK) {
            return sl__schema_oom(c);
        }
    }
    return -SL_ESCHEMA;
}

/* ------------------------------------------------------------------ table */

static struct sl_field *top_field(struct sl_pctx *c, struct sl_table *t,
                                  const char *what, json_t *jname)
{
    const char *n = json_string_value(jname);
    if (n == NULL) {
        sl__schema_fail(c, "", "%s: field must be a string", what);
        return NULL;
    }
    struct sl_field *f =
        sl__field_find_mut(&t->root, n, json_string_length(jname));
    if (f == NULL) {
        sl__schema_fail(c, n, "%s: no top-level column \"%s\"", what, n);
        return NULL;
    }
    if (f->mode == SL_M_REPEATED) {
        sl__schema_fail(c, f->path, "%s: column %s is REPEATED", what, f->path);
        return NULL;
    }
    return f;
}

static bool keys_known(struct sl_pctx *c, json_t *obj, const char *what,
                       const char *const *keys, size_t n_keys)
{
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach(obj, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < n_keys && !known; i++) {
            known = strcmp(k, keys[i]) == 0;
        }
        if (!known) {
            sl__schema_fail(c, "", "%s: unknown key \"%s\"", what, k);
            ok = false;
        }
    }
    return ok;
}

static void parse_time_part(struct sl_pctx *c, struct sl_table *t, json_t *p,
                            const char *what)
{
    static const char *const keys[] = {"type", "field", "expirationMs",
                                       "requirePartitionFilter"};
    static const char *const units[] = {"DAY", "HOUR", "MONTH", "YEAR"};
    if (!keys_known(c, p, what, keys, SL_ARRAY_LEN(keys))) {
        return;
    }
    const char *ty = json_string_value(json_object_get(p, "type"));
    const char *unit = NULL;
    for (size_t i = 0; ty != NULL && i < SL_ARRAY_LEN(units); i++) {
        if (sl__eq_ci(ty, strlen(ty), units[i], strlen(units[i]))) {
            unit = units[i];
        }
    }
    if (unit == NULL) {
        sl__schema_fail(c, "", "%s: type must be DAY, HOUR, MONTH or YEAR",
                        what);
        return;
    }
    json_t *ex = sl__schema_opt(p, "expirationMs");
    int64_t ms;
    if (ex != NULL && (!sl__json_int64(ex, &ms) || ms <= 0)) {
        sl__schema_fail(c, "", "%s: expirationMs must be a positive integer",
                        what);
        return;
    }
    json_t *rpf = sl__schema_opt(p, "requirePartitionFilter");
    if (rpf != NULL && !json_is_boolean(rpf)) {
        sl__schema_fail(
            c, "", "%s: requirePartitionFilter must be true or false", what);
        return;
    }
    json_t *jf = sl__schema_opt(p, "field");
    struct sl_field *f = NULL;
    if (jf != NULL) {
        if ((f = top_field(c, t, what, jf)) == NULL) {
            return;
        }
        if (f->type != SL_T_DATE && f->type != SL_T_TIMESTAMP &&
            f->type != SL_T_DATETIME) {
            sl__schema_fail(
                c, f->path,
                "%s: column %s is %s; time partitioning needs DATE, "
                "TIMESTAMP or DATETIME",
                what, f->path, sl_type_name(f->type));
            return;
        }
        if (f->type == SL_T_DATE && strcmp(unit, "HOUR") == 0) {
            sl__schema_fail(c, f->path,
                            "%s: a DATE column cannot be partitioned by HOUR",
                            what);
            return;
        }
    }
    if ((t->part_type = sl__strdup(unit)) == NULL) {
        sl__schema_oom(c);
        return;
    }
    t->part_kind = SL_PART_TIME;
    t->part_field = f;
}

/* p is {"field": F, "range": {start, end, interval}}, or range_obj carries
 * "field" itself ({"range": {"field", "start", "end", "interval"}}). */
static void parse_range_part(struct sl_pctx *c, struct sl_table *t, json_t *p,
                             const char *what)
{
    static const char *const okeys[] = {"field", "range"};
    static const char *const rkeys[] = {"field", "start", "end", "interval"};
    json_t *r = json_object_get(p, "range");
    if (!keys_known(c, p, what, okeys, SL_ARRAY_LEN(okeys))) {
        return;
    }
    if (!json_is_object(r)) {
        sl__schema_fail(
            c, "", "%s: range must be an object {start, end, interval}", what);
        return;
    }
    if (!keys_known(c, r, what, rkeys, SL_ARRAY_LEN(rkeys))) {
        return;
    }
    json_t *jf = sl__schema_opt(p, "field"), *jrf = sl__schema_opt(r, "field");
    if ((jf == NULL) == (jrf == NULL)) {
        sl__schema_fail(c, "", "%s: give the range partitioning field once",
                        what);
        return;
    }
    int64_t start, end, interval;
    if (!sl__json_int64(json_object_get(r, "start"), &start) ||
        !sl__json_int64(json_object_get(r, "end"), &end) ||
        !sl__json_int64(json_object_get(r, "interval"), &interval)) {
        sl__schema_fail(
            c, "", "%s: range needs integer start, end and interval", what);
        return;
    }
    if (interval <= 0 || start >= end) {
        sl__schema_fail(c, "", "%s: range needs start < end and interval > 0",
                        what);
        return;
    }
    /* ranges = ceil((end - start) / interval), computed without overflow */
    uint64_t span = (uint64_t)end - (uint64_t)start;
    uint64_t ranges =
        span / (uint64_t)interval + (span % (uint64_t)interval != 0);
    if (ranges > SL_SCHEMA_MAX_RANGES) {
        sl__schema_fail(c, "", "%s: %llu ranges (at most %d)", what,
                        (unsigned long long)ranges, SL_SCHEMA_MAX_RANGES);
        return;
    }
    struct sl_field *f = top_field(c, t, what, jf != NULL ? jf : jrf);
    if (f == NULL) {
        return;
    }
    if (f->type != SL_T_INT64) {
        sl__schema_fail(c, f->path,
                        "%s: column %s is %s; range partitioning needs INTEGER",
                        what, f->path, sl_type_name(f->type));
        return;
    }
    t->part_kind = SL_PART_RANGE;
    t->part_field = f;
    t->range_start = start;
    t->range_end = end;
    t->range_interval = interval;
}

static void parse_clustering(struct sl_pctx *c, struct sl_table *t, json_t *cl)
{
    static const char *const keys[] = {"fields"};
    json_t *arr = json_is_object(cl) ? json_object_get(cl, "fields") : NULL;
    if (!json_is_object(cl) || !keys_known(c, cl, "clustering", keys, 1)) {
        if (!json_is_object(cl)) {
            sl__schema_fail(c, "",
                            "clustering must be an object {\"fields\": [...]}");
        }
        return;
    }
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > SL_SCHEMA_MAX_CLUSTER) {
        sl__schema_fail(c, "", "clustering: fields must list 1 to %d columns",
                        SL_SCHEMA_MAX_CLUSTER);
        return;
    }
    t->cluster = sl__calloc(n, sizeof(*t->cluster));
    if (t->cluster == NULL) {
        sl__schema_oom(c);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct sl_field *f =
            top_field(c, t, "clustering", json_array_get(arr, i));
        if (f == NULL) {
            continue;
        }
        switch (f->type) {
        case SL_T_STRING:
        case SL_T_INT64:
        case SL_T_NUMERIC:
        case SL_T_BIGNUMERIC:
        case SL_T_BOOL:
        case SL_T_DATE:
        case SL_T_DATETIME:
        case SL_T_TIMESTAMP:
        case SL_T_GEOGRAPHY:
        case SL_T_RANGE:
            break;
        default:
            sl__schema_fail(
                c, f->path,
                "clustering: column %s is %s, which cannot be clustered",
                f->path, sl_type_name(f->type));
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < t->n_cluster; k++) {
            dup = dup || t->cluster[k] == f;
        }
        if (dup) {
            sl__schema_fail(c, f->path, "clustering: column %s is listed twice",
                            f->path);
            continue;
        }
        t->cluster[t->n_cluster++] = f;
    }
}

static void parse_partitioning(struct sl_pctx *c, struct sl_table *t,
                               json_t *root)
{
    static const char *const keys[] = {"partitioning", "timePartitioning",
                                       "rangePartitioning"};
    json_t *given = NULL;
    const char *which = NULL;
    for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
        json_t *v = sl__schema_opt(root, keys[i]);
        if (v == NULL) {
            continue;
        }
        if (given != NULL) {
            sl__schema_fail(c, "", "both %s and %s given: use one", which,
                            keys[i]);
            return;
        }
        given = v;
        which = keys[i];
    }
    if (given == NULL) {
        return;
    }
    if (!json_is_object(given)) {
        sl__schema_fail(c, "", "%s must be an object", which);
    } else if (strcmp(which, "timePartitioning") == 0) {
        parse_time_part(c, t, given, which);
    } else if (strcmp(which, "rangePartitioning") == 0) {
        parse_range_part(c, t, given, which);
    } else if (json_object_get(given, "range") != NULL) {
        parse_range_part(c, t, given, which);
    } else {
        parse_time_part(c, t, given, which);
    }
}

static bool any_required(const struct sl_field *rec)
{
    for (size_t i = 0; i < rec->n_fields; i++) {
        const struct sl_field *f = &rec->fields[i];
        if (f->mode == SL_M_REQUIRED) {
            return true;
        }
        for (size_t k = 0; k < f->n_checks; k++) {
            if (f->checks[k].kind == SL_CK_REQUIRED) {
                return true;
            }
        }
        if (any_required(f)) {
            return true;
        }
    }
    return false;
}

static size_t count_nodes(const struct sl_field *rec)
{
    size_t n = rec->n_fields;
    for (size_t i = 0; i < rec->n_fields; i++) {
        n += count_nodes(&rec->fields[i]);
    }
    return n;
}

size_t sl_table_count_fields(const struct sl_table *t)
{
    return t != NULL ? count_nodes(&t->root) : 0;
}

void sl_table_destroy(struct sl_table *t)
{
    if (t == NULL) {
        return;
    }
    sl__schema_field_release(&t->root);
    sl__free(t->dataset);
    sl__free(t->name);
    sl__free(t->file);
    sl__free(t->description);
    sl__free(t->part_type);
    sl__free((void *)t->cluster);
    sl__free(t);
}

/* A view shares everything of t but its names; its own allocations are the
 * struct and the two names (root.fields etc. are t's: top-level fields have no
 * parent pointer, so nothing in them points back at the struct). */
int sl_table_view(const struct sl_table *t, const char *dataset,
                  const char *name, struct sl_table **out)
{
    *out = NULL;
    struct sl_table *v = sl__malloc(sizeof(*v));
    if (v == NULL) {
        return -SL_ENOMEM;
    }
    *v = *t;
    v->dataset = sl__strdup(dataset);
    v->name = sl__strdup(name);
    if (v->dataset == NULL || v->name == NULL) {
        sl_table_view_destroy(v);
        return -SL_ENOMEM;
    }
    *out = v;
    return SL_OK;
}

void sl_table_view_destroy(struct sl_table *v)
{
    if (v == NULL) {
        return;
    }
    sl__free(v->dataset);
    sl__free(v->name);
    sl__free(v);
}

/* Does root map several names to what look like schemas (arrays of field
 * objects, or objects with "fields")? Some pipelines keep every table of a
 * dataset in one such file; a definition is one table, so it is refused, but
 * with that reason rather than "no fields". */
static bool is_multi_table(json_t *root, struct sl_buf *names)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(root, k, v)
    {
        json_t *arr = json_is_object(v) ? json_object_get(v, "fields") : v;
        json_t *first = json_array_get(arr, 0);
        if (!json_is_array(arr) || !json_is_object(first) ||
            !json_is_string(json_object_get(first, "name"))) {
            return false;
        }
        /* the names only decorate the message: a failed append drops them */
        if (n < 4 &&
            sl__buf_printf(names, "%s%.64s", n > 0 ? ", " : "", k) != SL_OK) {
            sl__buf_release(names);
        } else if (n == 4 && sl__buf_printf(names, ", ...") != SL_OK) {
            sl__buf_release(names);
        }
        n++;
    }
    return n >= 2;
}

static void parse_root(struct sl_pctx *c, struct sl_table *t, json_t *root)
{
    static const char *const keys[] = {"fields",
                                       "description",
                                       "partitioning",
                                       "timePartitioning",
                                       "rangePartitioning",
                                       "clustering",
                                       "rules",
                                       "note"};
    json_t *fields = root, *v;
    if (json_is_object(root)) {
        struct sl_buf names;
        sl__buf_init(&names);
        if (json_object_get(root, "fields") == NULL &&
            is_multi_table(root, &names)) {
            sl__schema_fail(c, "",
                            "the file holds %zu tables (%s), not one "
                            "definition: put each table in a file of its own "
                            "(DIR/<dataset>/<table>.json)",
                            json_object_size(root),
                            names.data != NULL ? names.data : "");
            sl__buf_release(&names);
            return;
        }
        sl__buf_release(&names);
        keys_known(c, root, "definition", keys, SL_ARRAY_LEN(keys));
        fields = json_object_get(root, "fields");
        if ((v = sl__schema_opt(root, "description")) != NULL) {
            size_t chars = json_is_string(v)
                               ? sl__utf8_chars(json_string_value(v),
                                                json_string_length(v))
                               : 0;
            if (!json_is_string(v)) {
                sl__schema_fail(c, "", "description must be a string");
            } else if (chars > SL_SCHEMA_MAX_TDESC_CHARS) {
                sl__schema_fail(
                    c, "",
                    "table description is %zu characters long (at most %d)",
                    chars, SL_SCHEMA_MAX_TDESC_CHARS);
            } else if ((t->description = sl__strdup(json_string_value(v))) ==
                       NULL) {
                sl__schema_oom(c);
                return;
            }
        }
        if (fields == NULL) {
            sl__schema_fail(
                c, "",
                "the definition object has no \"fields\" array (expected a "
                "BigQuery schema: an array of fields or {\"fields\": [...]})");
            return;
        }
    } else if (!json_is_array(root)) {
        sl__schema_fail(
            c, "",
            "a definition must be a JSON array of fields or an object "
            "with \"fields\"");
        return;
    }
    if (!json_is_array(fields) || json_array_size(fields) == 0) {
        sl__schema_fail(c, "", "\"fields\" must be a non-empty array");
        return;
    }
    t->root.type = SL_T_RECORD;
    t->root.mode = SL_M_REQUIRED;
    if (sl__schema_parse_fields(c, &t->root, fields, 1) != SL_OK && c->oom) {
        return;
    }
    if (c->n_nodes > SL_SCHEMA_MAX_FIELDS) {
        sl__schema_fail(
            c, "", "%zu or more field nodes (at most %d, nested ones included)",
            c->n_nodes, SL_SCHEMA_MAX_FIELDS);
        return;
    }
    if (!json_is_object(root)) {
        return;
    }
    parse_partitioning(c, t, root);
    if (!c->oom && (v = sl__schema_opt(root, "clustering")) != NULL) {
        parse_clustering(c, t, v);
    }
    if (!c->oom && (v = sl__schema_opt(root, "rules")) != NULL) {
        sl__rules_compile(c, t, v);
    }
}

int sl_table_parse_ex(const char *text, size_t len, const char *file,
                      const char *dataset, const char *name,
                      const struct sl_schema_opts *opts,
                      struct sl_buf *problems, struct sl_table **out,
                      struct sl_error *err)
{
    static const struct sl_schema_opts defaults = {0};
    struct sl_pctx c = {.file = file != NULL ? file : "(definition)",
                        .opts = opts != NULL ? opts : &defaults,
                        .problems = problems,
                        .err = err};
    *out = NULL;
    struct sl_table *t = sl__calloc(1, sizeof(*t));
    if (t == NULL) {
        return sl__schema_oom(&c);
    }
    t->dataset = sl__strdup(dataset != NULL ? dataset : "main");
    t->name = sl__strdup(name != NULL ? name : "");
    t->file = sl__strdup(c.file);
    t->root.name = sl__strdup("");
    t->root.path = sl__strdup("");
    if (t->dataset == NULL || t->name == NULL || t->file == NULL ||
        t->root.name == NULL || t->root.path == NULL) {
        sl_table_destroy(t);
        return sl__schema_oom(&c);
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        sl__schema_fail(&c, "", "invalid JSON at line %d, column %d: %s",
                        je.line, je.column, je.text);
        if (err != NULL && err->code == -SL_ESCHEMA && je.line > 0) {
            err->line_no = (uint64_t)je.line;
        }
    } else {
        parse_root(&c, t, root);
        json_decref(root);
    }
    if (c.oom || c.n_problems > 0) {
        sl_table_destroy(t);
        return c.oom ? c.oom : -SL_ESCHEMA;
    }
    t->has_required_checks = any_required(&t->root);
    *out = t;
    return SL_OK;
}

int sl_table_parse(const char *text, size_t len, const char *file,
                   const char *dataset, const char *name, struct sl_table **out,
                   struct sl_error *err)
{
    return sl_table_parse_ex(text, len, file, dataset, name, NULL, NULL, out,
                             err);
}
