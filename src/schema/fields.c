/* fields.c - the field tree of a table definition: parsing and checking each
 * field (names, types, modes, parameters) and the case-insensitive lookup used
 * on the hot path. Table-level parts are in table.c. schema stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "schema/schema.h"
#include "schema/schema_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <locale.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

/* Column names that BigQuery reserves (case-insensitive prefixes, §1.5), and
 * _COLON_, which BigQuery writes for ':' when it maps a flexible name to a
 * classic one (a column of that name would collide with such a mapping). */
static const char *const reserved_prefixes[] = {
    "_TABLE_",        "_FILE_",
    "_PARTITION",     "_ROW_TIMESTAMP",
    "__ROOT__",       "_COLON_",
    "_COLIDENTIFIER", "_CHANGE_SEQUENCE_NUMBER",
    "_CHANGE_TYPE",   "_CHANGE_TIMESTAMP",
};

/* ------------------------------------------------------------------ lookup */

static const struct sl_field *find_folded(const struct sl_field *rec,
                                          const char *name, size_t len);

static bool has_high_byte(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return true;
        }
    }
    return false;
}

static uint32_t lookup_cap_for(size_t n)
{
    uint32_t cap = 4;
    while (cap < 2 * n) {
        cap *= 2;
    }
    return cap;
}

const struct sl_field *sl_field_find(const struct sl_field *rec,
                                     const char *name, size_t len)
{
    if (rec == NULL || rec->lookup == NULL) {
        return NULL;
    }
    uint32_t mask = rec->lookup_cap - 1;
    uint32_t i = (uint32_t)sl__hash_ci(name, len) & mask;
    for (uint32_t probes = 0; probes <= mask; probes++) {
        uint32_t e = rec->lookup[i];
        if (e == 0) {
            /* a non-ASCII name may still match with other letter cases */
            return has_high_byte(name, len) ? find_folded(rec, name, len)
                                            : NULL;
        }
        const struct sl_field *f = &rec->fields[e - 1];
        if (sl__eq_ci(f->name, f->name_len, name, len)) {
            return f;
        }
        i = (i + 1) & mask;
    }
    return NULL;
}

struct sl_field *sl__field_find_mut(struct sl_field *rec, const char *name,
                                    size_t len)
{
    return (struct sl_field *)sl_field_find(rec, name, len);
}

/* ------------------------------------------------- Unicode case collisions */

/* glibc's C.UTF-8 locale, made once: its towupper/towlower know Unicode's
 * simple case mappings whatever the user's locale. NULL if unavailable (then
 * only ASCII letters fold). */
static locale_t fold_locale(void)
{
    static _Atomic(locale_t) loc;
    static atomic_bool tried;
    locale_t l = atomic_load(&loc);
    if (l != (locale_t)0 || atomic_load(&tried)) {
        return l;
    }
    l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t expect = (locale_t)0;
    if (l != (locale_t)0 && !atomic_compare_exchange_strong(&loc, &expect, l)) {
        freelocale(l);
        l = expect;
    }
    atomic_store(&tried, true);
    return l;
}

/* Decode one code point of valid UTF-8 (jansson checked it) at s[*i]. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    uint32_t c = s[(*i)++];
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    c &= more == 3 ? 0x07u : more == 2 ? 0x0Fu : more == 1 ? 0x1Fu : 0x7Fu;
    while (more-- > 0 && *i < n) {
        c = (c << 6) | (s[(*i)++] & 0x3Fu);
    }
    return c;
}

/* The case-folded code points of name, as a NUL-terminated UTF-32 string
 * (caller frees): lower(upper(c)), so that K, k and KELVIN SIGN agree. */
static uint32_t *fold_name(const char *name, size_t n, locale_t l)
{
    uint32_t *out = sl__malloc((n + 1) * sizeof(uint32_t));
    size_t k = 0;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n;) {
        uint32_t c = utf8_next((const unsigned char *)name, n, &i);
        if (c < 0x80) {
            c |= (uint32_t)((c - 'A') < 26u) << 5;
        } else if (l != (locale_t)0) {
            c = (uint32_t)towlower_l(towupper_l((wint_t)c, l), l);
        }
        out[k++] = c;
    }
    out[k] = 0;
    return out;
}

struct folded {
    uint32_t *key; /* owned */
    size_t idx;    /* field index */
};

static int cmp_folded(const void *a, const void *b)
{
    const uint32_t *x = ((const struct folded *)a)->key,
                   *y = ((const struct folded *)b)->key;
    while (*x != 0 && *x == *y) {
        x++;
        y++;
    }
    return (*x > *y) - (*x < *y);
}

/* Do a and b agree once case-folded (fold_name's folding)? */
static bool fold_eq(const char *a, size_t an, const char *b, size_t bn,
                    locale_t l)
{
    size_t i = 0, k = 0;
    while (i < an && k < bn) {
        uint32_t x = utf8_next((const unsigned char *)a, an, &i);
        uint32_t y = utf8_next((const unsigned char *)b, bn, &k);
        if (x < 0x80) {
            x |= (uint32_t)((x - 'A') < 26u) << 5;
        } else if (l != (locale_t)0) {
            x = (uint32_t)towlower_l(towupper_l((wint_t)x, l), l);
        }
        if (y < 0x80) {
            y |= (uint32_t)((y - 'A') < 26u) << 5;
        } else if (l != (locale_t)0) {
            y = (uint32_t)towlower_l(towupper_l((wint_t)y, l), l);
        }
        if (x != y) {
            return false;
        }
    }
    return i == an && k == bn;
}

/* The slow way, for a key with non-ASCII letters that the ASCII-folding
 * table did not find: compare it with every name fully folded. Only misses
 * pay for it (keys of unknown fields, or É where the definition says é). */
static const struct sl_field *find_folded(const struct sl_field *rec,
                                          const char *name, size_t len)
{
    locale_t l = fold_locale();
    for (size_t k = 0; l != (locale_t)0 && k < rec->n_fields; k++) {
        const struct sl_field *f = &rec->fields[k];
        if (f->name != NULL && fold_eq(f->name, f->name_len, name, len, l)) {
            return f;
        }
    }
    return NULL;
}

/* Names that differ only in the case of non-ASCII letters (É and é) collide in
 * BigQuery as ASCII ones do; the lookup table folds ASCII only, so RECORDs
 * holding a non-ASCII name get a second check on fully folded names. */
static int unicode_dups(struct sl_pctx *c, struct sl_field *rec)
{
    bool any = false;
    for (size_t k = 0; k < rec->n_fields && !any; k++) {
        const char *nm = rec->fields[k].name;
        for (size_t i = 0; nm != NULL && i < rec->fields[k].name_len; i++) {
            any = any || (unsigned char)nm[i] >= 0x80;
        }
    }
    if (!any) {
        return c->oom;
    }
    locale_t l = fold_locale();
    struct folded *fs = sl__calloc(rec->n_fields, sizeof(*fs));
    size_t n = 0;
    if (fs == NULL) {
        return sl__schema_oom(c);
    }
    for (size_t k = 0; k < rec->n_fields; k++) {
        const struct sl_field *f = &rec->fields[k];
        if (f->name == NULL) {
            continue;
        }
        if ((fs[n].key = fold_name(f->name, f->name_len, l)) == NULL) {
            sl__schema_oom(c);
            break;
        }
        fs[n++].idx = k;
    }
    if (!c->oom) {
        qsort(fs, n, sizeof(*fs), cmp_folded);
    }
    for (size_t i = 1; !c->oom && i < n; i++) {
        const struct sl_field *a = &rec->fields[fs[i - 1].idx],
                              *b = &rec->fields[fs[i].idx];
        if (cmp_folded(&fs[i - 1], &fs[i]) == 0 &&
            !sl__eq_ci(a->name, a->name_len, b->name, b->name_len)) {
            const struct sl_field *later = a->idx > b->idx ? a : b;
            const struct sl_field *first = a->idx > b->idx ? b : a;
            sl__schema_fail(c, later->path,
                            "duplicate field name \"%s\" (same as \"%s\"; "
                            "names are case-insensitive)",
                            later->name, first->name);
        }
    }
    for (size_t i = 0; i < n; i++) {
        sl__free(fs[i].key);
    }
    sl__free(fs);
    return c->oom;
}

/* Build rec's lookup table; a case-insensitive duplicate is a problem. */
static int build_lookup(struct sl_pctx *c, struct sl_field *rec)
{
    uint32_t cap = lookup_cap_for(rec->n_fields);
    rec->lookup = sl__calloc(cap, sizeof(uint32_t));
    if (rec->lookup == NULL) {
        return sl__schema_oom(c);
    }
    rec->lookup_cap = cap;
    for (size_t k = 0; k < rec->n_fields; k++) {
        struct sl_field *f = &rec->fields[k];
        if (f->name == NULL) {
            continue; /* already reported */
        }
        uint32_t i = (uint32_t)sl__hash_ci(f->name, f->name_len) & (cap - 1);
        bool dup = false;
        while (rec->lookup[i] != 0) {
            const struct sl_field *o = &rec->fields[rec->lookup[i] - 1];
            if (sl__eq_ci(o->name, o->name_len, f->name, f->name_len)) {
                sl__schema_fail(
                    c, f->path,
                    "duplicate field name \"%s\" (same as \"%s\"; names are "
                    "case-insensitive)",
                    f->name, o->name);
                dup = true;
                break;
            }
            i = (i + 1) & (cap - 1);
        }
        if (!dup) {
            rec->lookup[i] = (uint32_t)k + 1;
        }
    }
    return unicode_dups(c, rec);
}

/* ------------------------------------------------------------------ names */

static bool classic_name_ok(const char *s, size_t n)
{
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned ch = (unsigned char)s[i];
        bool alpha = (ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'z';
        bool digit = ch >= '0' && ch <= '9';
        if (!(alpha || ch == '_' || (digit && i > 0))) {
            return false;
        }
    }
    return true;
}

/* Flexible column names (§1.5): letters, marks, numbers, connector and dash
 * punctuation, spaces and & % = + : ' < > # |. Of white space only the space
 * separators (\p{Zs}: ' ', no-break space, ...) are taken: a tab or line break
 * in a column name is refused, as it would break every line-oriented report
 * that names the column. Matched with a PCRE2 pattern compiled once per
 * process. */
static bool flexible_name_ok(const char *s, size_t n)
{
    /* ASCII names (nearly all) by a byte test: in ASCII, \p{Pc} is '_',
     * \p{Pd} '-' and \p{Zs} ' ', so this is the pattern's exact answer. */
    static const char ascii_ok[] = "_- &%=+:'<>#|";
    bool ascii = n > 0;
    for (size_t i = 0; i < n && ascii; i++) {
        unsigned ch = (unsigned char)s[i];
        bool alnum = ((ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'z') ||
                     (ch >= '0' && ch <= '9');
        if (ch >= 0x80) {
            ascii = false; /* decided by the pattern below */
            break;
        }
        if (!alnum && (ch == 0 || strchr(ascii_ok, (int)ch) == NULL)) {
            return false;
        }
    }
    if (ascii) {
        return true;
    }
    static const char pat[] =
        "^[\\p{L}\\p{M}\\p{N}\\p{Pc}\\p{Pd}\\p{Zs}&%=+:'<>#|]+$";
    static _Atomic(pcre2_code *) re;
    pcre2_code *r = atomic_load(&re);
    if (r == NULL) {
        int ec;
        PCRE2_SIZE eo;
        r = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &ec,
                          &eo, NULL);
        if (r == NULL) {
            return false;
        }
        pcre2_code *expect = NULL;
        if (!atomic_compare_exchange_strong(&re, &expect, r)) {
            pcre2_code_free(r);
            r = expect;
        }
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r, NULL);
    if (md == NULL) {
        return false;
    }
    int rc = pcre2_match(r, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static bool ident_ok(const char *s, bool allow_dash)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > SL_SCHEMA_MAX_IDENT) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned ch = (unsigned char)s[i];
        bool alpha = (ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'z';
        bool digit = ch >= '0' && ch <= '9';
        if (!(alpha || digit || ch == '_' ||
              (allow_dash && ch == '-' && i > 0))) {
            return false;
        }
    }
    return true;
}

bool sl_dataset_name_ok(const char *s)
{
    return ident_ok(s, false);
}

bool sl_table_name_ok(const char *s)
{
    return ident_ok(s, true);
}

/* ------------------------------------------------------------------ fields */

static char *join_path(const char *parent, const char *name)
{
    size_t pn = parent != NULL ? strlen(parent) : 0, nn = strlen(name);
    char *p = sl__malloc(pn + nn + 2);
    if (p == NULL) {
        return NULL;
    }
    if (pn > 0) {
        memcpy(p, parent, pn);
        p[pn++] = '.';
    }
    memcpy(p + pn, name, nn + 1);
    return p;
}

static char *index_path(const char *parent, size_t idx)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "[%zu]", idx);
    size_t pn = parent != NULL ? strlen(parent) : 0;
    char *p = sl__malloc(pn + strlen(tmp) + 1);
    if (p != NULL) {
        memcpy(p, parent != NULL ? parent : "", pn);
        strcpy(p + pn, tmp);
    }
    return p;
}

void sl__schema_field_release(struct sl_field *f)
{
    for (size_t i = 0; i < f->n_fields; i++) {
        sl__schema_field_release(&f->fields[i]);
    }
    sl__free(f->fields);
    sl__rules_free_checks(f);
    sl__free(f->name);
    sl__free(f->description);
    sl__free(f->default_expr);
    sl__free(f->path);
    sl__free(f->lookup);
    memset(f, 0, sizeof(*f));
}

static bool is_decimal(enum sl_type t)
{
    return t == SL_T_NUMERIC || t == SL_T_BIGNUMERIC;
}

/* A JSON value that is absent or null counts as not given. */
json_t *sl__schema_opt(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static void check_name(struct sl_pctx *c, struct sl_field *f, bool top)
{
    size_t chars = sl__utf8_chars(f->name, f->name_len);
    if (strlen(f->name) != f->name_len) {
        sl__schema_fail(c, f->path, "field name contains U+0000");
        return;
    }
    if (chars > SL_SCHEMA_MAX_NAME_CHARS) {
        sl__schema_fail(c, f->path,
                        "field name is %zu characters long (at most %d)", chars,
                        SL_SCHEMA_MAX_NAME_CHARS);
        return;
    }
    if (!c->opts->classic_names) {
        if (!flexible_name_ok(f->name, f->name_len)) {
            sl__schema_fail(c, f->path,
                            "invalid field name \"%.200s\": flexible names "
                            "allow letters, marks, digits, '_', '-', spaces "
                            "and & %% = + : ' < > # |",
                            f->name);
            return;
        }
    } else if (!classic_name_ok(f->name, f->name_len)) {
        sl__schema_fail(
            c, f->path,
            "invalid field name \"%.200s\": use letters, digits and "
            "underscores, starting with a letter or underscore (classic "
            "names)",
            f->name);
        return;
    }
    if (top) {
        for (size_t i = 0; i < SL_ARRAY_LEN(reserved_prefixes); i++) {
            size_t pl = strlen(reserved_prefixes[i]);
            if (f->name_len >= pl &&
                sl__eq_ci(f->name, pl, reserved_prefixes[i], pl)) {
                sl__schema_fail(c, f->path,
                                "field name \"%s\" uses the reserved prefix %s",
                                f->name, reserved_prefixes[i]);
                return;
            }
        }
    }
}

static void check_decimal(struct sl_pctx *c, struct sl_field *f, json_t *jf)
{
    json_t *jp = sl__schema_opt(jf, "precision"), *js = sl__schema_opt(jf, "scale");
    int64_t p = 0, s = 0;
    if (jp == NULL && js == NULL) {
        return;
    }
    if (!is_decimal(f->type)) {
        sl__schema_fail(c, f->path,
                        "precision and scale are only allowed on NUMERIC and "
                        "BIGNUMERIC, not %s",
                        sl_type_name(f->type));
        return;
    }
    if (jp != NULL && !sl__json_int64(jp, &p)) {
        sl__schema_fail(c, f->path, "precision must be an integer");
        return;
    }
    if (js != NULL && !sl__json_int64(js, &s)) {
        sl__schema_fail(c, f->path, "scale must be an integer");
        return;
    }
    if (jp == NULL) {
        sl__schema_fail(c, f->path, "scale needs a precision");
        return;
    }
    bool big = f->type == SL_T_BIGNUMERIC;
    int64_t smax = big ? 38 : 9, extra = big ? 38 : 29;
    if (s < 0 || s > smax) {
        sl__schema_fail(c, f->path, "%s scale %lld is out of range 0..%lld",
                        sl_type_name(f->type), (long long)s, (long long)smax);
        return;
    }
    int64_t pmin = s > 1 ? s : 1;
    if (p < pmin || p > s + extra) {
        sl__schema_fail(
            c, f->path,
            "%s precision %lld is out of range %lld..%lld for scale %lld",
            sl_type_name(f->type), (long long)p, (long long)pmin,
            (long long)(s + extra), (long long)s);
        return;
    }
    f->precision = (int)p;
    f->scale = (int)s;
    f->has_precision = true;
}

static void check_properties(struct sl_pctx *c, struct sl_field *f, json_t *jf)
{
    json_t *v;
    if ((v = sl__schema_opt(jf, "description")) != NULL) {
        if (!json_is_string(v)) {
            sl__schema_fail(c, f->path, "description must be a string");
        } else {
            size_t chars =
                sl__utf8_chars(json_string_value(v), json_string_length(v));
            if (chars > SL_SCHEMA_MAX_DESC_CHARS) {
                sl__schema_fail(
                    c, f->path,
                    "description is %zu characters long (at most %d)", chars,
                    SL_SCHEMA_MAX_DESC_CHARS);
            } else if ((f->description = sl__strdup(json_string_value(v))) ==
                       NULL) {
                sl__schema_oom(c);
                return;
            }
        }
    }
    if ((v = sl__schema_opt(jf, "maxLength")) != NULL) {
        int64_t n;
        if (f->type != SL_T_STRING && f->type != SL_T_BYTES) {
            sl__schema_fail(
                c, f->path,
                "maxLength is only allowed on STRING and BYTES, not %s",
                sl_type_name(f->type));
        } else if (!sl__json_int64(v, &n) || n <= 0) {
            sl__schema_fail(c, f->path, "maxLength must be a positive integer");
        } else {
            f->max_length = n;
        }
    }
    check_decimal(c, f, jf);
    if ((v = sl__schema_opt(jf, "roundingMode")) != NULL) {
        const char *m = json_string_value(v);
        if (!is_decimal(f->type)) {
            sl__schema_fail(c, f->path,
                            "roundingMode is only allowed on NUMERIC and "
                            "BIGNUMERIC, not %s",
                            sl_type_name(f->type));
        } else if (m != NULL && strcmp(m, "ROUND_HALF_EVEN") == 0) {
            f->round_half_even = true;
        } else if (m == NULL || (strcmp(m, "ROUND_HALF_AWAY_FROM_ZERO") != 0 &&
                                 strcmp(m, "ROUNDING_MODE_UNSPECIFIED") != 0)) {
            sl__schema_fail(c, f->path,
                            "roundingMode must be ROUND_HALF_AWAY_FROM_ZERO or "
                            "ROUND_HALF_EVEN");
        }
    }
    if ((v = sl__schema_opt(jf, "collation")) != NULL) {
        const char *m = json_string_value(v);
        if (f->type != SL_T_STRING) {
            sl__schema_fail(c, f->path,
                            "collation is only allowed on STRING, not %s",
                            sl_type_name(f->type));
        } else if (m == NULL || (strcmp(m, "und:ci") != 0 && m[0] != '\0')) {
            sl__schema_fail(c, f->path, "collation must be \"und:ci\" or \"\"");
        }
    }
    if ((v = sl__schema_opt(jf, "rangeElementType")) != NULL || f->type == SL_T_RANGE) {
        json_t *et = json_is_object(v) ? json_object_get(v, "type") : v;
        enum sl_type t;
        if (f->type != SL_T_RANGE) {
            sl__schema_fail(c, f->path,
                            "rangeElementType is only allowed on RANGE, not %s",
                            sl_type_name(f->type));
        } else if (v == NULL) {
            sl__schema_fail(
                c, f->path,
                "RANGE needs rangeElementType {\"type\": DATE, DATETIME "
                "or TIMESTAMP}");
        } else if (!sl_type_parse(json_string_value(et), &t) ||
                   (t != SL_T_DATE && t != SL_T_DATETIME &&
                    t != SL_T_TIMESTAMP)) {
            sl__schema_fail(
                c, f->path,
                "rangeElementType must be {\"type\": DATE, DATETIME or "
                "TIMESTAMP}");
        } else {
            f->range_elem = t;
        }
    }
    if (f->type == SL_T_TIMESTAMP) {
        f->ts_precision = 6;
    }
    if ((v = sl__schema_opt(jf, "timestampPrecision")) != NULL) {
        int64_t n;
        if (f->type != SL_T_TIMESTAMP) {
            sl__schema_fail(c, f->path,
                            "timestampPrecision is only allowed on TIMESTAMP");
        } else if (!sl__json_int64(v, &n) || (n != 6 && n != 12)) {
            sl__schema_fail(c, f->path, "timestampPrecision must be 6 or 12");
        } else {
            f->ts_precision = (int)n;
        }
    }
    if ((v = sl__schema_opt(jf, "defaultValueExpression")) != NULL) {
        if (!json_is_string(v)) {
            sl__schema_fail(c, f->path,
                            "defaultValueExpression must be a string");
        } else if ((f->default_expr = sl__strdup(json_string_value(v))) ==
                   NULL) {
            sl__schema_oom(c);
        }
    }
    /* Other properties (policyTags, dataPolicies, categories, ...) and unknown
     * keys such as misspellings are ignored, as BigQuery's own tools do. */
}

/* Parse field object jf at position idx of parent into f (zeroed). depth is
 * the field's nesting level: 1 for top-level fields. */
static int parse_field(struct sl_pctx *c, struct sl_field *parent,
                       struct sl_field *f, json_t *jf, size_t idx, int depth)
{
    const char *ppath = depth > 1 ? parent->path : NULL;
    f->parent = depth > 1 ? parent : NULL;
    f->idx = (uint32_t)idx;
    c->n_nodes++;
    json_t *jn = json_is_object(jf) ? json_object_get(jf, "name") : NULL;
    if (json_is_string(jn)) {
        f->path = join_path(ppath, json_string_value(jn));
    } else {
        f->path = index_path(ppath, idx);
    }
    if (f->path == NULL) {
        return sl__schema_oom(c);
    }
    if (!json_is_object(jf)) {
        sl__schema_fail(c, f->path, "a field must be a JSON object");
        return c->oom;
    }
    if (!json_is_string(jn)) {
        sl__schema_fail(c, f->path, "field has no \"name\" string");
        return c->oom;
    }
    f->name_len = json_string_length(jn);
    f->name = sl__strndup(json_string_value(jn), f->name_len);
    if (f->name == NULL) {
        return sl__schema_oom(c);
    }
    check_name(c, f, depth == 1);

    json_t *jt = json_object_get(jf, "type");
    const char *tn = json_string_value(jt);
    if (tn == NULL) {
        sl__schema_fail(c, f->path, "field has no \"type\" string");
        return c->oom;
    }
    if (!sl_type_parse(tn, &f->type)) {
        const char *hint = sl__schema_type_hint(tn);
        if (hint != NULL) {
            sl__schema_fail(c, f->path, "unknown type \"%s\": %s", tn, hint);
        } else {
            sl__schema_fail(c, f->path, "unknown type \"%s\"", tn);
        }
        return c->oom;
    }
    json_t *jm = sl__schema_opt(jf, "mode");
    f->mode = SL_M_NULLABLE;
    if (jm != NULL && !sl_mode_parse(json_string_value(jm), &f->mode)) {
        sl__schema_fail(c, f->path,
                        "mode must be NULLABLE, REQUIRED or REPEATED");
    }
    check_properties(c, f, jf);
    if (c->oom) {
        return c->oom;
    }
    json_t *jsub = sl__schema_opt(jf, "fields");
    if (f->type != SL_T_RECORD) {
        if (jsub != NULL) {
            sl__schema_fail(c, f->path,
                            "\"fields\" is only allowed on RECORD, not %s",
                            sl_type_name(f->type));
        }
        return c->oom;
    }
    if (!json_is_array(jsub) || json_array_size(jsub) == 0) {
        sl__schema_fail(c, f->path,
                        "field %s is type RECORD but has no schema (\"fields\" "
                        "must be a non-empty array)",
                        f->path);
        return c->oom;
    }
    if (depth > SL_SCHEMA_MAX_DEPTH) {
        sl__schema_fail(c, f->path, "RECORD nested %d levels deep (at most %d)",
                        depth, SL_SCHEMA_MAX_DEPTH);
        return c->oom;
    }
    return sl__schema_parse_fields(c, f, jsub, depth + 1);
}

int sl__schema_parse_fields(struct sl_pctx *c, struct sl_field *rec, json_t *arr,
                            int depth)
{
    size_t n = json_array_size(arr);
    if (c->n_nodes + n > SL_SCHEMA_MAX_FIELDS) {
        /* bound the work on hostile input; reported once by the caller */
        c->n_nodes += n;
        return c->oom;
    }
    rec->fields = sl__calloc(n, sizeof(struct sl_field));
    if (rec->fields == NULL) {
        return sl__schema_oom(c);
    }
    rec->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        if (parse_field(c, rec, &rec->fields[i], json_array_get(arr, i), i,
                        depth) != SL_OK &&
            c->oom) {
            return c->oom;
        }
    }
    return build_lookup(c, rec);
}
