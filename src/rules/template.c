/* template.c - variables in table names, SQL, Transform and actions: $1..$n
 * (Dest.Pattern's groups), $Name / ${Name} (Parameters, $Date, $Hour,
 * $BatchID, ...), $Mod(n), $Data.x (a call's JSON answer); and table
 * references. A value reaching SQL is escaped for the quotes it lands in, or
 * must be a plain token outside them: a file name can never inject SQL.
 * rules stage. */
#include "core/common.h"

#include "rules/rules_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl__rules_pathf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

char *sl__rules_utoa(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

int sl__rules_var_put(struct sl_buf *b, const char *name, const char *value,
                      size_t value_len)
{
    int rc = sl__buf_append(b, name, strlen(name) + 1);
    rc = rc ? rc : sl__buf_append(b, value, value_len);
    return rc ? rc : sl__buf_append(b, "", 1);
}

const char *sl__rules_var_get(const char *packed, size_t size, const char *name,
                              size_t name_len)
{
    const char *p = packed, *end = packed + size;
    while (p < end) {
        size_t kn = strlen(p);
        const char *v = p + kn + 1;
        if (v > end) {
            return NULL;
        }
        if (kn == name_len && memcmp(p, name, kn) == 0) {
            return v;
        }
        p = v + strlen(v) + 1;
    }
    return NULL;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool sl__rules_has_vars(const char *tmpl)
{
    for (const char *p = strchr(tmpl, '$'); p != NULL; p = strchr(p + 1, '$')) {
        if (name_char(p[1]) || p[1] == '{') {
            return true;
        }
    }
    return false;
}

/* ---- $Mod(n)'s hash -------------------------------------------------------
 */

uint64_t sl_rules_path_hash(const char *path, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
    }
    /* FNV-1a's low bits depend only on the low bits of the bytes, so
     * `% 2` would split by the parity of the name; MurmurHash3's fmix64
     * spreads every input bit over the whole word. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* ---- expansion -------------------------------------------------------------
 */

struct exp {
    const struct sl_vars *vs;
    enum sl_vctx cx;
    struct sl_buf *out;
    char *why;
    size_t why_size;
    char quote;   /* SQL: 0 outside quotes, '\'' or '"' inside */
    char comment; /* SQL: '-' in a -- comment, '*' in a block comment */
};

static int problem(struct exp *e, const char *fmt, ...) SL_PRINTF(2, 3);
static int problem(struct exp *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, e->why_size, fmt, ap);
    va_end(ap);
    return -SL_EINVAL; /* not -1: that is -SL_ENOMEM */
}

static bool is_sql_name(const struct sl_vars *vs, const char *name, size_t n)
{
    for (size_t i = 0; i < vs->n_sql_names; i++) {
        if (strlen(vs->sql_names[i]) == n &&
            memcmp(vs->sql_names[i], name, n) == 0) {
            return true;
        }
    }
    return false;
}

/* A value outside SQL quotes must read as one token: a number, a name, a
 * date or a dotted name; nothing that could end a statement or a quote. */
static bool plain_token(const char *v)
{
    if (*v == '\0') {
        return false;
    }
    for (const char *p = v; *p != '\0'; p++) {
        if (!name_char(*p) && *p != '.' && !(*p == '-' && p[1] != '-')) {
            return false;
        }
    }
    return true;
}

/* Append a variable's value as the context wants it. */
static int put_value(struct exp *e, const char *name, size_t name_len,
                     const char *v, size_t n)
{
    if (e->cx != SL_VX_SQL) {
        return sl__buf_append(e->out, v, n);
    }
    if (e->quote == 0 && is_sql_name(e->vs, name, name_len)) {
        return sl__buf_append(e->out, v, n); /* SQL text we wrote */
    }
    if (memchr(v, '\0', n) != NULL || strlen(v) != n) {
        return problem(e, "$%.*s holds a NUL byte", (int)name_len, name);
    }
    if (e->quote != 0) {
        for (size_t i = 0; i < n; i++) {
            /* a backslash escapes the quote in some dialects (ClickHouse) */
            if (v[i] == '\\' || ((unsigned char)v[i] < 0x20 && v[i] != '\n' &&
                                 v[i] != '\r' && v[i] != '\t')) {
                return problem(e,
                               "$%.*s's value has a backslash or a control "
                               "character and cannot go inside SQL quotes",
                               (int)name_len, name);
            }
            int rc = sl__buf_putc(e->out, v[i]);
            if (rc == SL_OK && v[i] == e->quote) {
                rc = sl__buf_putc(e->out, v[i]);
            }
            if (rc != SL_OK) {
                return rc;
            }
        }
        return SL_OK;
    }
    if (!plain_token(v)) {
        return problem(e,
                       "$%.*s's value \"%.60s\" is not a plain token: put "
                       "$%.*s inside quotes in the SQL",
                       (int)name_len, name, v, (int)name_len, name);
    }
    return sl__buf_append(e->out, v, n);
}

/* $Data.a.b: a member path into the last call's JSON answer. */
static int data_ref(struct exp *e, const char *p, size_t *used)
{
    size_t n = 0;
    while (name_char(p[n]) || (p[n] == '.' && name_char(p[n + 1]))) {
        n++;
    }
    *used = n;
    json_t *v = e->vs->data;
    const char *s = p;
    while (v != NULL && s < p + n) {
        const char *dot = memchr(s, '.', (size_t)(p + n - s));
        size_t k = dot != NULL ? (size_t)(dot - s) : (size_t)(p + n - s);
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)k, s);
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        s += k + 1;
    }
    if (v == NULL) {
        return problem(e, "$Data.%.*s: no such member in the answer", (int)n,
                       p);
    }
    char num[64];
    const char *text = num;
    char *dumped = NULL;
    if (json_is_string(v)) {
        text = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        text = json_is_true(v) ? "true" : "false";
    } else if (json_is_null(v)) {
        text = "";
    } else if ((text = dumped = json_dumps(v, JSON_COMPACT)) == NULL) {
        return -SL_ENOMEM;
    }
    char name[140];
    snprintf(name, sizeof(name), "Data.%.*s", (int)n, p);
    int rc = put_value(e, name, strlen(name), text, strlen(text));
    free(dumped);
    return rc;
}

/* The longest known variable name at p ($Name without braces, as BqTail's
 * string replacement reads `$DateX` as $Date then X). */
static size_t longest_name(const struct sl_vars *vs, const char *p,
                           const char **out_v)
{
    size_t best = 0;
    *out_v = NULL;
    const char *k = vs->packed, *end = vs->packed + vs->packed_size;
    while (k != NULL && k < end) {
        size_t kn = strlen(k);
        const char *v = k + kn + 1;
        if (kn > best && !isdigit((unsigned char)k[0]) &&
            strncmp(p, k, kn) == 0) {
            best = kn;
            *out_v = v;
        }
        k = v + strlen(v) + 1;
    }
    return best;
}

/* $1..$n: two digits when that group exists, else one. */
static int group_ref(struct exp *e, const char *p, size_t *used)
{
    size_t n = isdigit((unsigned char)p[1]) ? 2 : 1;
    const char *v = NULL;
    for (; n > 0 && v == NULL; n--) {
        v = sl__rules_var_get(e->vs->packed, e->vs->packed_size, p, n);
        if (v != NULL) {
            break;
        }
    }
    if (v == NULL) {
        *used = 1;
        return problem(e,
                       "$%c: Dest.Pattern has no group %c (or did not "
                       "match the path)",
                       p[0], p[0]);
    }
    *used = n;
    return put_value(e, p, n, v, strlen(v));
}

/* $Mod(n). */
static int mod_ref(struct exp *e, const char *p, size_t *used)
{
    char *end;
    unsigned long long n = strtoull(p + 4, &end, 10);
    if (end == p + 4 || *end != ')' || n == 0 || n > 1000000) {
        *used = 3;
        return problem(e, "$Mod(n) needs a whole n from 1 to 1000000");
    }
    *used = (size_t)(end + 1 - p);
    if (e->vs->path == NULL) {
        return problem(e, "$Mod(n) has no path here");
    }
    char v[24];
    uint64_t h = sl_rules_path_hash(e->vs->path, strlen(e->vs->path));
    char *d = sl__rules_utoa(h % n, v + sizeof(v));
    return put_value(e, "Mod", 3, d, (size_t)(v + sizeof(v) - d));
}

/* One $-reference at p (after the $); *used bytes consumed. */
static int reference(struct exp *e, const char *p, size_t *used)
{
    *used = 0;
    if (isdigit((unsigned char)p[0])) {
        return group_ref(e, p, used);
    }
    if (strncmp(p, "Mod(", 4) == 0) {
        return mod_ref(e, p, used);
    }
    if (strncmp(p, "Data.", 5) == 0 && e->vs->data != NULL) {
        int rc = data_ref(e, p + 5, used);
        *used += 5;
        return rc;
    }
    const char *v = NULL;
    size_t n = 0;
    if (p[0] == '{') {
        const char *close = strchr(p, '}');
        if (close != NULL) {
            n = (size_t)(close - p - 1);
            v = sl__rules_var_get(e->vs->packed, e->vs->packed_size, p + 1, n);
            if (v != NULL) {
                *used = n + 2;
                return put_value(e, p + 1, n, v, strlen(v));
            }
        }
    } else {
        n = longest_name(e->vs, p, &v);
        if (v != NULL) {
            *used = n;
            return put_value(e, p, n, v, strlen(v));
        }
    }
    if (e->cx == SL_VX_NAME && (name_char(p[0]) || p[0] == '{')) {
        size_t k = 0;
        while (name_char(p[k]) || p[k] == '{' || p[k] == '}') {
            k++;
        }
        return problem(e, "unknown variable $%.*s", (int)k, p);
    }
    return sl__buf_putc(e->out, '$'); /* not ours: SQL's $1, $$ quotes */
}

/* Track SQL quotes and comments over one plain byte. */
static void sql_state(struct exp *e, const char *p)
{
    if (e->comment == '-') {
        e->comment = *p == '\n' ? 0 : '-';
    } else if (e->comment == '*') {
        e->comment = p[0] == '/' && p[-1] == '*' ? 0 : '*';
    } else if (e->quote != 0) {
        e->quote = *p == e->quote ? 0 : e->quote; /* '' re-opens next byte */
    } else if (*p == '\'' || *p == '"') {
        e->quote = *p;
    } else if (p[0] == '-' && p[1] == '-') {
        e->comment = '-';
    } else if (p[0] == '/' && p[1] == '*') {
        e->comment = '*';
    }
}

int sl__rules_expand(const struct sl_vars *vs, const char *tmpl,
                     enum sl_vctx cx, struct sl_buf *out, char *why,
                     size_t why_size)
{
    struct exp e = {vs, cx, out, why, why_size, 0, 0};
    why[0] = '\0';
    int rc = sl__buf_reserve(out, strlen(tmpl) + 1);
    if (rc == SL_OK) {
        out->data[out->len] = '\0'; /* an empty expansion is "" too */
    }
    for (const char *p = tmpl; rc == SL_OK && *p != '\0';) {
        if (*p != '$' || e.comment != 0) {
            if (cx == SL_VX_SQL) {
                sql_state(&e, p);
            }
            rc = sl__buf_putc(out, *p++);
            continue;
        }
        size_t used = 0;
        rc = reference(&e, p + 1, &used);
        p += 1 + used;
    }
    return rc;
}

/* ---- table references ------------------------------------------------------
 */

bool sl__rules_table_ref(const char *ref, char *dataset, size_t ds_size,
                         char *table, size_t t_size, char *why, size_t why_size)
{
    const char *s = ref;
    const char *colon = strchr(s, ':');
    if (colon != NULL) {
        s = colon + 1; /* a BigQuery project: no meaning locally */
    }
    const char *d1 = strchr(s, '.');
    const char *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    if (d2 != NULL && colon == NULL) {
        s = d1 + 1; /* project.dataset.table */
        d1 = d2;
        d2 = strchr(d1 + 1, '.');
    }
    if (d2 != NULL) {
        snprintf(why, why_size, "\"%.80s\" is not [project:]dataset.table",
                 ref);
        return false;
    }
    size_t dn = d1 != NULL ? (size_t)(d1 - s) : 4;
    const char *ds = d1 != NULL ? s : "main";
    const char *tn = d1 != NULL ? d1 + 1 : s;
    if (dn >= ds_size || strlen(tn) >= t_size) {
        snprintf(why, why_size, "\"%.80s\": name too long", ref);
        return false;
    }
    memcpy(dataset, ds, dn);
    dataset[dn] = '\0';
    memcpy(table, tn, strlen(tn) + 1);
    if (!sl_dataset_name_ok(dataset)) {
        snprintf(why, why_size,
                 "dataset \"%.80s\" of \"%.80s\" is not a safe name "
                 "(letters, digits, _)",
                 dataset, ref);
        return false;
    }
    if (!sl_table_name_ok(table)) {
        snprintf(why, why_size,
                 "table \"%.80s\" of \"%.80s\" is not a safe name "
                 "(letters, digits, _ and -)",
                 table, ref);
        return false;
    }
    return true;
}
