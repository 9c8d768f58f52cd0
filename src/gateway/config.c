/* config.c - reading and checking a gateway's sluice.json (config.h).
 * gateway stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "gateway/config.h"
#include "warehouse/evolve.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char sl_gw_default_config[] =
    "{\n"
    "  \"warehouse\": \"duckdb://warehouse.duckdb\",\n"
    "  \"load\": {\n"
    "    \"max_bad_records\": 1000,\n"
    "    \"ignore_unknown_values\": false\n"
    "  },\n"
    "  \"tables\": {},\n"
    "  \"batch\": {\"window_seconds\": 1, \"max_files\": 10000, "
    "\"max_bytes\": 1073741824},\n"
    "  \"retry\": {\"max_attempts\": 8, \"initial_ms\": 500, "
    "\"max_ms\": 60000},\n"
    "  \"status\": {\"delay_threshold_seconds\": 300, "
    "\"failure_window_seconds\": 3600},\n"
    "  \"rescan_seconds\": 2,\n"
    "  \"threads\": 0,\n"
    "  \"max_in_flight\": 20000,\n"
    "  \"fsync\": true,\n"
    "  \"rules\": {\"fan_out\": false}\n"
    "}\n";

void sl_gw_load_init(struct sl_gw_load *l)
{
    memset(l, 0, sizeof(*l));
    l->format = -1;
    sl_vopts_default(&l->v);
}

int sl_gw_load_copy(struct sl_gw_load *dst, const struct sl_gw_load *src)
{
    *dst = *src;
    dst->null_marker = NULL;
    if (src->null_marker != NULL &&
        (dst->null_marker = sl__strdup(src->null_marker)) == NULL) {
        return -SL_ENOMEM;
    }
    dst->v.null_marker = dst->null_marker;
    return SL_OK;
}

void sl_gw_load_release(struct sl_gw_load *l)
{
    sl__free(l->null_marker);
    l->null_marker = NULL;
    l->v.null_marker = NULL;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

enum sl_format sl_gw_format_for(const struct sl_gw_load *l, const char *name)
{
    if (l != NULL && l->format >= 0) {
        return (enum sl_format)l->format;
    }
    static const char *const csv[] = {".csv", ".csv.gz", ".csv.zst",
                                      ".tsv", ".tsv.gz", ".tsv.zst"};
    for (size_t i = 0; i < SL_ARRAY_LEN(csv); i++) {
        if (ends_with(name, csv[i])) {
            return SL_FMT_CSV;
        }
    }
    return SL_FMT_NDJSON;
}

/* Append "FILE: PATH: what[ detail]": -1 (a problem recorded), or NO_ROOM
 * when even that failed (never to be confused with -1 = -SL_ENOMEM). */
#define NO_ROOM (-SL_ENOMEM - 1000)
static int problem(struct sl_buf *p, const char *file, const char *path,
                   const char *what, const char *detail)
{
    if (p != NULL &&
        sl__buf_printf(p, "%s: %s: %s%s%s\n", file, path, what,
                       detail ? " " : "", detail ? detail : "") != SL_OK) {
        return NO_ROOM;
    }
    return -1;
}

/* The option names: snake_case (bq load) and CamelCase (BigQuery's JSON API,
 * BqTail's rules). */
enum opt {
    O_FORMAT,
    O_MAX_BAD,
    O_IGNORE_UNKNOWN,
    O_SKIP,
    O_DELIM,
    O_QUOTE,
    O_JAGGED,
    O_QUOTED_NL,
    O_NULL_MARKER,
    O_ENCODING,
    O_HEADER,
    O_MAX_ROW,
    O_MAX_VALUE,
    O_SCHEMA_UPDATE,
};
static const struct {
    const char *snake, *camel;
    enum opt opt;
} names[] = {
    {"source_format", "SourceFormat", O_FORMAT},
    {"max_bad_records", "MaxBadRecords", O_MAX_BAD},
    {"ignore_unknown_values", "IgnoreUnknownValues", O_IGNORE_UNKNOWN},
    {"skip_leading_rows", "SkipLeadingRows", O_SKIP},
    {"field_delimiter", "FieldDelimiter", O_DELIM},
    {"quote", "Quote", O_QUOTE},
    {"allow_jagged_rows", "AllowJaggedRows", O_JAGGED},
    {"allow_quoted_newlines", "AllowQuotedNewlines", O_QUOTED_NL},
    {"null_marker", "NullMarker", O_NULL_MARKER},
    {"encoding", "Encoding", O_ENCODING},
    {"header", "Header", O_HEADER},
    {"max_row_size", "MaxRowSize", O_MAX_ROW},
    {"max_value_size", "MaxValueSize", O_MAX_VALUE},
    {"schema_update_options", "SchemaUpdateOptions", O_SCHEMA_UPDATE},
};

/* What the setters return for a value they cannot take (not -1, which is
 * -SL_ENOMEM). */
#define BAD_VALUE 1

/* schema_update_options: bq load's --schema_update_option values, as a list
 * (or one string); [] clears a default. */
static int set_schema_update(struct sl_gw_load *l, const json_t *v)
{
    unsigned u = 0;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        const char *s = json_string_value(x);
        if (s == NULL) {
            return BAD_VALUE;
        }
        if (strcasecmp(s, "ALLOW_FIELD_ADDITION") == 0) {
            u |= SL_WH_ALLOW_FIELD_ADDITION;
        } else if (strcasecmp(s, "ALLOW_FIELD_RELAXATION") == 0) {
            u |= SL_WH_ALLOW_FIELD_RELAXATION;
        } else {
            return BAD_VALUE;
        }
    }
    l->schema_update = u;
    return 0;
}

static int set_format(struct sl_gw_load *l, const char *s)
{
    if (strcasecmp(s, "NEWLINE_DELIMITED_JSON") == 0 ||
        strcasecmp(s, "ndjson") == 0 || strcasecmp(s, "json") == 0) {
        l->format = SL_FMT_NDJSON;
    } else if (strcasecmp(s, "CSV") == 0) {
        l->format = SL_FMT_CSV;
    } else {
        return BAD_VALUE;
    }
    return 0;
}

/* A one-byte delimiter or quote ("\t" and "tab" for TAB; "" = no quote). */
static int one_byte(const char *s, bool allow_empty, int *out)
{
    if (strcmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0) {
        *out = '\t';
    } else if (s[0] == '\0') {
        if (!allow_empty) {
            return -1;
        }
        *out = -1;
    } else if (s[1] != '\0') {
        return -1;
    } else {
        *out = (unsigned char)s[0];
    }
    return 0;
}

static int set_string_opt(struct sl_gw_load *l, enum opt o, const char *s)
{
    int ch = 0;
    switch (o) {
    case O_FORMAT:
        return set_format(l, s);
    case O_DELIM:
        if (one_byte(s, false, &ch) != 0) {
            return BAD_VALUE;
        }
        l->v.csv.delim = (char)ch;
        return 0;
    case O_QUOTE:
        if (one_byte(s, true, &ch) != 0) {
            return BAD_VALUE;
        }
        l->v.csv.quote = ch;
        return 0;
    case O_NULL_MARKER: {
        char *m = sl__strdup(s);
        if (m == NULL) {
            return -SL_ENOMEM;
        }
        sl__free(l->null_marker);
        l->null_marker = m;
        l->v.null_marker = m;
        return 0;
    }
    case O_ENCODING:
        if (strcasecmp(s, "UTF-8") == 0 || strcasecmp(s, "UTF8") == 0) {
            l->v.csv.latin1 = false;
        } else if (strcasecmp(s, "ISO-8859-1") == 0 ||
                   strcasecmp(s, "latin1") == 0) {
            l->v.csv.latin1 = true;
        } else {
            return BAD_VALUE;
        }
        return 0;
    default:
        return BAD_VALUE;
    }
}

static int set_bool_opt(struct sl_gw_load *l, enum opt o, bool b)
{
    switch (o) {
    case O_IGNORE_UNKNOWN:
        l->v.ignore_unknown = b;
        return 0;
    case O_JAGGED:
        l->v.allow_jagged = b;
        return 0;
    case O_QUOTED_NL:
        l->v.csv.allow_quoted_newlines = b;
        return 0;
    case O_HEADER:
        l->v.header = b;
        return 0;
    default:
        return BAD_VALUE;
    }
}

static int set_int_opt(struct sl_gw_load *l, enum opt o, json_int_t n)
{
    if (n < 0) {
        return BAD_VALUE;
    }
    switch (o) {
    case O_MAX_BAD:
        l->v.max_bad = (uint64_t)n;
        return 0;
    case O_SKIP:
        l->v.skip_leading_rows = (uint64_t)n;
        return 0;
    case O_MAX_ROW:
        l->v.max_row_size = n > 0 ? (size_t)n : l->v.max_row_size;
        return n > 0 ? 0 : -1;
    case O_MAX_VALUE:
        l->v.max_value_size = n > 0 ? (size_t)n : l->v.max_value_size;
        return n > 0 ? 0 : -1;
    default:
        return BAD_VALUE;
    }
}

int sl_gw_load_option(struct sl_gw_load *l, const char *key,
                      const void *json_value, const char *file,
                      const char *path, struct sl_buf *problems)
{
    const json_t *v = json_value;
    size_t i = 0;
    while (i < SL_ARRAY_LEN(names) && strcmp(key, names[i].snake) != 0 &&
           strcmp(key, names[i].camel) != 0) {
        i++;
    }
    if (i == SL_ARRAY_LEN(names)) {
        return 1;
    }
    enum opt o = names[i].opt;
    int rc = BAD_VALUE;
    if (o == O_SCHEMA_UPDATE) {
        rc = set_schema_update(l, v);
    } else if (json_is_string(v)) {
        rc = set_string_opt(l, o, json_string_value(v));
    } else if (json_is_boolean(v)) {
        rc = set_bool_opt(l, o, json_is_true(v));
    } else if (json_is_integer(v)) {
        rc = set_int_opt(l, o, json_integer_value(v));
    }
    if (rc == -SL_ENOMEM) {
        return rc;
    }
    if (rc == 0) {
        return 0;
    }
    return problem(problems, file, path, "bad value for the load option",
                   key) == NO_ROOM
               ? -SL_ENOMEM
               : 2;
}

/* ---- the file ------------------------------------------------------------ */

struct ctx {
    struct sl_gw_config *c;
    struct sl_buf *problems;
    int bad; /* problems found */
};

static void note(struct ctx *x, const char *path, const char *what)
{
    if (problem(x->problems, "sluice.json", path, what, NULL) == NO_ROOM) {
        x->bad = -1000000;
    }
    x->bad++;
}

static bool get_u32(struct ctx *x, json_t *v, const char *path, uint64_t max,
                    uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        note(x, path, "must be a non-negative integer in range");
        return false;
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* An object of load options at path into l. */
static void read_load(struct ctx *x, json_t *obj, const char *path,
                      struct sl_gw_load *l)
{
    if (!json_is_object(obj)) {
        note(x, path, "must be an object of load options");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char p[300];
        snprintf(p, sizeof(p), "%s.%s", path, k);
        int rc = sl_gw_load_option(l, k, v, "sluice.json", p, x->problems);
        if (rc == 1) {
            note(x, p, "unknown key (not a load option)");
        } else if (rc == 2) {
            x->bad++; /* the problem is in x->problems */
        } else if (rc != 0) {
            x->bad = -1000000;
        }
    }
}

static void read_tables(struct ctx *x, json_t *obj)
{
    if (!json_is_object(obj)) {
        note(x, "tables", "must be an object: table -> load options");
        return;
    }
    size_t n = json_object_size(obj);
    x->c->tables = sl__calloc(n ? n : 1, sizeof(*x->c->tables));
    if (x->c->tables == NULL) {
        x->bad = -1000000;
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        struct sl_gw_table_opts *t = &x->c->tables[x->c->n_tables];
        if (sl_gw_load_copy(&t->load, &x->c->load) != SL_OK ||
            (t->table = sl__strdup(k)) == NULL) {
            sl_gw_load_release(&t->load);
            x->bad = -1000000;
            return;
        }
        x->c->n_tables++;
        char p[300];
        snprintf(p, sizeof(p), "tables.%s", k);
        read_load(x, v, p, &t->load);
    }
}

/* "batch", "retry", "status": objects of integers. */
static void read_numbers(struct ctx *x, json_t *obj, const char *section)
{
    static const struct {
        const char *section, *key;
        uint64_t max, scale;
        size_t off;
        bool wide;
    } keys[] = {
        {"batch", "window_seconds", 86400, 1000,
         offsetof(struct sl_gw_config, window_ms), false},
        {"batch", "window_ms", 86400000, 1,
         offsetof(struct sl_gw_config, window_ms), false},
        {"batch", "max_files", 100000000, 1,
         offsetof(struct sl_gw_config, max_files), false},
        {"batch", "max_bytes", UINT64_MAX / 2, 1,
         offsetof(struct sl_gw_config, max_bytes), true},
        {"retry", "max_attempts", 1000, 1,
         offsetof(struct sl_gw_config, retry_attempts), false},
        {"retry", "initial_ms", 3600000, 1,
         offsetof(struct sl_gw_config, retry_initial_ms), false},
        {"retry", "max_ms", 86400000, 1,
         offsetof(struct sl_gw_config, retry_max_ms), false},
        {"status", "delay_threshold_seconds", 86400 * 365, 1,
         offsetof(struct sl_gw_config, delay_threshold_s), false},
        {"status", "failure_window_seconds", 86400 * 365, 1,
         offsetof(struct sl_gw_config, failure_window_s), false},
    };
    if (!json_is_object(obj)) {
        note(x, section, "must be an object");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char p[300];
        snprintf(p, sizeof(p), "%s.%s", section, k);
        size_t i = 0;
        while (i < SL_ARRAY_LEN(keys) &&
               (strcmp(keys[i].section, section) || strcmp(keys[i].key, k))) {
            i++;
        }
        uint64_t n;
        if (i == SL_ARRAY_LEN(keys)) {
            note(x, p, "unknown key");
        } else if (get_u32(x, v, p, keys[i].max, &n)) {
            char *at = (char *)x->c + keys[i].off;
            if (keys[i].wide) {
                *(uint64_t *)at = n * keys[i].scale;
            } else {
                *(uint32_t *)at = (uint32_t)(n * keys[i].scale);
            }
        }
    }
}

/* A DuckDB URI or bare path relative to the gateway folder made absolute. */
static char *absolute_warehouse(const char *dir, const char *uri)
{
    const char *path = uri;
    bool duck = strncasecmp(uri, "duckdb://", 9) == 0;
    if (duck) {
        path = uri + 9;
    } else if (strstr(uri, "://") != NULL) {
        return sl__strdup(uri); /* a server */
    }
    if (path[0] == '/' || strcmp(path, ":memory:") == 0) {
        return sl__strdup(uri);
    }
    size_t n = strlen(dir) + strlen(path) + 16;
    char *out = sl__malloc(n);
    if (out != NULL) {
        snprintf(out, n, "duckdb://%s/%s", dir, path);
    }
    return out;
}

/* "rules": {"fan_out": bool, "webhook_url": "http(s)://..."} */
static void read_rules(struct ctx *x, json_t *obj)
{
    if (!json_is_object(obj)) {
        note(x, "rules", "must be an object");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char p[300];
        snprintf(p, sizeof(p), "rules.%s", k);
        if (strcmp(k, "fan_out") == 0) {
            if (!json_is_boolean(v)) {
                note(x, p, "must be true or false");
            } else {
                x->c->rules_fan_out = json_is_true(v);
            }
        } else if (strcmp(k, "webhook_url") == 0) {
            const char *u = json_string_value(v);
            if (u == NULL || (strncasecmp(u, "http://", 7) != 0 &&
                              strncasecmp(u, "https://", 8) != 0)) {
                note(x, p, "must be an http:// or https:// URL");
            } else {
                sl__free(x->c->webhook_url);
                if ((x->c->webhook_url = sl__strdup(u)) == NULL) {
                    x->bad = -1000000;
                }
            }
        } else {
            note(x, p, "unknown key");
        }
    }
}

static void read_top(struct ctx *x, json_t *root)
{
    const char *k;
    json_t *v;
    uint64_t n;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "warehouse") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0) {
                note(x, k, "must be a warehouse URI");
            } else {
                sl__free(x->c->warehouse);
                x->c->warehouse =
                    absolute_warehouse(x->c->dir, json_string_value(v));
            }
        } else if (strcmp(k, "load") == 0) {
            read_load(x, v, k, &x->c->load);
        } else if (strcmp(k, "batch") == 0 || strcmp(k, "retry") == 0 ||
                   strcmp(k, "status") == 0) {
            read_numbers(x, v, k);
        } else if (strcmp(k, "rescan_seconds") == 0) {
            if (get_u32(x, v, k, 3600, &n)) {
                x->c->rescan_ms = (uint32_t)(n * 1000);
            }
        } else if (strcmp(k, "threads") == 0) {
            if (get_u32(x, v, k, 64, &n)) {
                x->c->threads = (unsigned)n;
            }
        } else if (strcmp(k, "max_in_flight") == 0) {
            if (get_u32(x, v, k, 10000000, &n)) {
                x->c->max_in_flight = (uint32_t)n;
            }
        } else if (strcmp(k, "rules") == 0) {
            read_rules(x, v);
        } else if (strcmp(k, "fsync") == 0) {
            if (!json_is_boolean(v)) {
                note(x, k, "must be true or false");
            } else {
                x->c->fsync = json_is_true(v);
            }
        } else if (strcmp(k, "tables") != 0) {
            note(x, k, "unknown key");
        }
    }
    /* tables last: their options start from the final defaults */
    json_t *t = json_object_get(root, "tables");
    if (t != NULL) {
        read_tables(x, t);
    }
}

static void defaults(struct sl_gw_config *c)
{
    sl_gw_load_init(&c->load);
    c->window_ms = 1000;
    c->max_files = 10000;
    c->max_bytes = 1ull << 30;
    c->retry_attempts = 8;
    c->retry_initial_ms = 500;
    c->retry_max_ms = 60000;
    c->delay_threshold_s = 300;
    c->failure_window_s = 3600;
    c->rescan_ms = 2000;
    c->max_in_flight = 20000;
    c->fsync = true;
}

int sl_gw_config_load(const char *dir, struct sl_buf *problems,
                      struct sl_gw_config **out, struct sl_error *err)
{
    *out = NULL;
    char abs[PATH_MAX], file[PATH_MAX + 16];
    if (realpath(dir, abs) == NULL) {
        int rc = SL_ERR(err, -SL_ENOTFOUND, "no gateway at %s", dir);
        sl__error_path(err, dir);
        return rc;
    }
    snprintf(file, sizeof(file), "%s/sluice.json", abs);
    struct sl_gw_config *c = sl__calloc(1, sizeof(*c));
    if (c == NULL || (c->dir = sl__strdup(abs)) == NULL) {
        sl__free(c);
        return SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", file);
    }
    defaults(c);
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    int rc = SL_OK;
    if (root == NULL) {
        if (access(file, F_OK) != 0) {
            rc = SL_ERR(err, -SL_ENOTFOUND,
                        "%s: not found (is %s a gateway? `sluice init` "
                        "makes one)",
                        file, abs);
        } else {
            rc = SL_ERR(err, -SL_ESCHEMA, "%s: line %d: %s", file, je.line,
                        je.text);
        }
        sl__error_path(err, file);
    } else if (!json_is_object(root)) {
        rc = SL_ERR(err, -SL_ESCHEMA, "%s: must be a JSON object", file);
    } else {
        struct sl_buf local;
        sl__buf_init(&local);
        struct ctx x = {c, problems != NULL ? problems : &local, 0};
        read_top(&x, root);
        if (c->warehouse == NULL) {
            c->warehouse = absolute_warehouse(abs, "warehouse.duckdb");
        }
        if (x.bad < 0 || c->warehouse == NULL) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory reading %s", file);
        } else if (x.bad > 0) {
            const char *first = x.problems->len > 0 ? x.problems->data : "";
            int fl = (int)strcspn(first, "\n");
            rc =
                SL_ERR(err, -SL_ESCHEMA, "%.*s%s", fl, first,
                       x.bad > 1 ? " (and more: every problem is listed)" : "");
            sl__error_path(err, file);
        }
        sl__buf_release(&local);
    }
    json_decref(root);
    if (rc != SL_OK) {
        sl_gw_config_destroy(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

void sl_gw_config_destroy(struct sl_gw_config *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n_tables; i++) {
        sl__free(c->tables[i].table);
        sl_gw_load_release(&c->tables[i].load);
    }
    sl__free(c->tables);
    sl_gw_load_release(&c->load);
    sl__free(c->webhook_url);
    sl__free(c->warehouse);
    sl__free(c->dir);
    sl__free(c);
}

/* Edit distance, for "did you mean"; names up to 127 bytes. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[128], prev;
    if (la > 127 || lb > 127) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        prev = d[0];
        d[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = d[j] + 1, ins = d[j - 1] + 1;
            prev = d[j];
            d[j] =
                sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    }
    return d[lb];
}

/* Does config key t name registry table tb? (sl_gw_config_load_for's rule) */
static bool key_names(const char *t, const struct sl_table *tb)
{
    size_t dl = strlen(tb->dataset);
    if (strchr(t, '.') == NULL) {
        return strcmp(tb->dataset, "main") == 0 && strcasecmp(t, tb->name) == 0;
    }
    return strncasecmp(t, tb->dataset, dl) == 0 && t[dl] == '.' &&
           strcasecmp(t + dl + 1, tb->name) == 0;
}

/* Is key t unknown to reg? Then append its problem, the nearest name too. */
static int check_table_key(const char *t, const struct sl_registry *reg,
                           const char *reg_problems, struct sl_buf *problems)
{
    const struct sl_table *best = NULL;
    size_t bd = SIZE_MAX;
    char full[300], base[300];
    for (size_t i = 0; i < reg->n_tables; i++) {
        const struct sl_table *tb = reg->tables[i];
        if (key_names(t, tb)) {
            return SL_OK;
        }
        snprintf(full, sizeof(full), "%s.%s", tb->dataset, tb->name);
        size_t d = distance(t, full), d2 = distance(t, tb->name);
        if ((d2 < d ? d2 : d) < bd) {
            bd = d2 < d ? d2 : d;
            best = tb;
        }
    }
    const char *dot = strrchr(t, '.');
    snprintf(base, sizeof(base), "/%s", dot != NULL ? dot + 1 : t);
    if (reg_problems != NULL && strstr(reg_problems, base) != NULL) {
        return SL_OK; /* its definition was refused: said already */
    }
    char hint[300] = "";
    if (best != NULL && bd <= 3) {
        snprintf(hint, sizeof(hint), "; did you mean %s.%s?", best->dataset,
                 best->name);
    }
    return sl__buf_printf(problems,
                          "sluice.json: tables.%s: no such table in the "
                          "registry (schemas/)%s\n",
                          t, hint) == SL_OK
               ? 1
               : -SL_ENOMEM;
}

int sl_gw_config_check_tables(const struct sl_gw_config *c,
                              const struct sl_registry *reg,
                              const char *reg_problems, struct sl_buf *problems,
                              struct sl_error *err)
{
    struct sl_buf found; /* apart: reg_problems may point into problems */
    sl__buf_init(&found);
    size_t bad = 0;
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < c->n_tables; i++) {
        int r = check_table_key(c->tables[i].table, reg, reg_problems, &found);
        bad += r == 1;
        rc = r < 0 ? SL_ERR(err, r, "out of memory checking sluice.json") : rc;
    }
    if (rc == SL_OK && bad > 0) {
        rc = SL_ERR(err, -SL_ESCHEMA, "%.*s%s", (int)strcspn(found.data, "\n"),
                    found.data,
                    bad > 1 ? " (and more: every problem is listed)" : "");
        if (problems != NULL &&
            sl__buf_append(problems, found.data, found.len) != SL_OK) {
            rc = SL_ERR(err, -SL_ENOMEM, "out of memory");
        }
    }
    sl__buf_release(&found);
    return rc;
}

const struct sl_gw_load *sl_gw_config_load_for(const struct sl_gw_config *c,
                                               const char *table)
{
    const char *dot = strchr(table, '.');
    for (size_t i = 0; i < c->n_tables; i++) {
        const char *t = c->tables[i].table;
        if (strcasecmp(t, table) == 0 ||
            (dot != NULL && strchr(t, '.') == NULL &&
             strcasecmp(t, dot + 1) == 0 && strncmp(table, "main.", 5) == 0)) {
            return &c->tables[i].load;
        }
    }
    return &c->load;
}
