/* rules.c - compile a definition's "rules" (checks BigQuery schemas cannot
 * express: ranges, lengths, enums, patterns, conditions) into sl_check values
 * on the fields they check. Patterns are compiled once with PCRE2 (+ JIT).
 * schema stage; see docs/SCHEMAS.md for the syntax. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "schema/schema.h"
#include "schema/schema_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_ENUM_CHARS 60 /* enum values listed in a check's name, roughly */

struct sl_field *sl__schema_resolve(struct sl_table *t, const char *path,
                                    bool *out_rep_ancestor)
{
    struct sl_field *cur = &t->root;
    *out_rep_ancestor = false;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        if (cur->type != SL_T_RECORD) {
            return NULL;
        }
        if (cur != &t->root && cur->mode == SL_M_REPEATED) {
            *out_rep_ancestor = true;
        }
        struct sl_field *f = sl__field_find_mut(cur, path, n);
        if (f == NULL || dot == NULL) {
            return f;
        }
        cur = f;
        path = dot + 1;
    }
}

static void when_release(struct sl_rule_when *w)
{
    if (w == NULL) {
        return;
    }
    sl__free(w->path);
    sl__free(w->equals);
    for (size_t i = 0; i < w->in_len; i++) {
        sl__free(w->in_vals[i]);
    }
    sl__free(w->in_vals);
    memset(w, 0, sizeof(*w));
}

static void check_release(struct sl_check *ck)
{
    for (size_t i = 0; i < ck->enum_len; i++) {
        sl__free(ck->enum_vals[i]);
    }
    sl__free(ck->enum_vals);
    sl__free(ck->pattern);
    pcre2_code_free((pcre2_code *)ck->re);
    when_release(ck->when);
    sl__free(ck->when);
    sl__free(ck->name);
    sl__free(ck->path);
    memset(ck, 0, sizeof(*ck));
}

void sl__rules_free_checks(struct sl_field *f)
{
    for (size_t i = 0; i < f->n_checks; i++) {
        check_release(&f->checks[i]);
    }
    sl__free(f->checks);
    f->checks = NULL;
    f->n_checks = 0;
}

static bool is_numeric(enum sl_type t)
{
    return t == SL_T_INT64 || t == SL_T_FLOAT64 || t == SL_T_NUMERIC ||
           t == SL_T_BIGNUMERIC;
}

/* The canonical text of a condition or enum value for a field of type t:
 * STRING as is, INTEGER in decimal, BOOLEAN as true/false. Owned result, or
 * NULL after reporting a problem (or ENOMEM). */
static char *value_text(struct sl_pctx *c, const char *col, const char *what,
                        json_t *v, enum sl_type t)
{
    char tmp[32];
    const char *s = NULL;
    int64_t i;
    if (t == SL_T_STRING) {
        if (!json_is_string(v)) {
            sl__schema_fail(c, col, "%s: values for STRING %s must be strings",
                            what, col);
            return NULL;
        }
        s = json_string_value(v);
        if (strlen(s) != json_string_length(v)) {
            sl__schema_fail(c, col, "%s: value contains U+0000", what);
            return NULL;
        }
    } else if (t == SL_T_INT64) {
        if (!sl__json_int64(v, &i)) {
            sl__schema_fail(c, col,
                            "%s: values for INTEGER %s must be integers", what,
                            col);
            return NULL;
        }
        snprintf(tmp, sizeof(tmp), "%lld", (long long)i);
        s = tmp;
    } else if (t == SL_T_BOOL) {
        const char *b = json_string_value(v);
        if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
        } else if (b != NULL && (sl__eq_ci(b, strlen(b), "true", 4) ||
                                 sl__eq_ci(b, strlen(b), "false", 5))) {
            s = (b[0] | 0x20) == 't' ? "true" : "false";
        } else {
            sl__schema_fail(c, col,
                            "%s: values for BOOLEAN %s must be true or false",
                            what, col);
            return NULL;
        }
    }
    char *out = sl__strdup(s);
    if (out == NULL) {
        sl__schema_oom(c);
    }
    return out;
}

/* Parse {"field": F, "equals": V} or {"field": F, "in": [V...]} into w. */
static int parse_when(struct sl_pctx *c, struct sl_table *t, const char *where,
                      json_t *jw, struct sl_rule_when *w,
                      struct sl_field **out_f)
{
    const char *k;
    json_t *v;
    if (!json_is_object(jw)) {
        return sl__schema_fail(
            c, "",
            "%s: when must be an object {\"field\", \"equals\" or "
            "\"in\"}",
            where);
    }
    json_object_foreach(jw, k, v)
    {
        if (strcmp(k, "field") != 0 && strcmp(k, "equals") != 0 &&
            strcmp(k, "in") != 0) {
            return sl__schema_fail(
                c, "",
                "%s: when: unknown key \"%s\" (expected field, "
                "equals or in)",
                where, k);
        }
    }
    const char *path = json_string_value(json_object_get(jw, "field"));
    if (path == NULL) {
        return sl__schema_fail(c, "", "%s: when needs a \"field\" string",
                               where);
    }
    bool rep;
    struct sl_field *f = sl__schema_resolve(t, path, &rep);
    if (f == NULL) {
        return sl__schema_fail(c, path, "%s: when: no field %s in the schema",
                               where, path);
    }
    if (rep || f->mode == SL_M_REPEATED) {
        return sl__schema_fail(c, f->path,
                               "%s: when: %s is REPEATED or inside a REPEATED "
                               "RECORD; a condition needs one value per row",
                               where, f->path);
    }
    if (f->type != SL_T_STRING && f->type != SL_T_INT64 &&
        f->type != SL_T_BOOL) {
        return sl__schema_fail(c, f->path,
                               "%s: when: %s is %s; conditions compare STRING, "
                               "INTEGER or BOOLEAN fields",
                               where, f->path, sl_type_name(f->type));
    }
    json_t *eq = json_object_get(jw, "equals"), *in = json_object_get(jw, "in");
    if ((eq == NULL) == (in == NULL)) {
        return sl__schema_fail(c, f->path,
                               "%s: when needs exactly one of \"equals\" and "
                               "\"in\"",
                               where);
    }
    if ((w->path = sl__strdup(f->path)) == NULL) {
        return sl__schema_oom(c);
    }
    w->field = f;
    *out_f = f;
    if (eq != NULL) {
        w->equals = value_text(c, f->path, where, eq, f->type);
        return w->equals != NULL ? SL_OK : -SL_ESCHEMA;
    }
    size_t n = json_array_size(in);
    if (!json_is_array(in) || n == 0) {
        return sl__schema_fail(c, f->path,
                               "%s: when: in must be a non-empty array", where);
    }
    if ((w->in_vals = sl__calloc(n, sizeof(char *))) == NULL) {
        return sl__schema_oom(c);
    }
    for (size_t i = 0; i < n; i++) {
        if ((w->in_vals[i] = value_text(
                 c, f->path, where, json_array_get(in, i), f->type)) == NULL) {
            return -SL_ESCHEMA;
        }
        w->in_len++;
    }
    return SL_OK;
}

static int when_copy(const struct sl_rule_when *src, struct sl_rule_when **out)
{
    struct sl_rule_when *w = sl__calloc(1, sizeof(*w));
    if (w == NULL) {
        return -SL_ENOMEM;
    }
    *out = w;
    w->field = src->field;
    if ((w->path = sl__strdup(src->path)) == NULL) {
        return -SL_ENOMEM;
    }
    if (src->equals != NULL && (w->equals = sl__strdup(src->equals)) == NULL) {
        return -SL_ENOMEM;
    }
    if (src->in_len > 0) {
        if ((w->in_vals = sl__calloc(src->in_len, sizeof(char *))) == NULL) {
            return -SL_ENOMEM;
        }
        for (size_t i = 0; i < src->in_len; i++) {
            if ((w->in_vals[i] = sl__strdup(src->in_vals[i])) == NULL) {
                return -SL_ENOMEM;
            }
            w->in_len++;
        }
    }
    return SL_OK;
}

/* Integers in decimal, else the shortest "%.*g" text that reads back as d. */
static void fmt_num(double d, char *out, size_t cap)
{
    /* range first: converting an out-of-range double to int64 is undefined */
    if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) {
        snprintf(out, cap, "%lld", (long long)d); /* 1900, not 1.9e+03 */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            return;
        }
    }
}

static int name_value(struct sl_buf *b, const char *s, enum sl_type t)
{
    return t == SL_T_STRING ? sl__buf_printf(b, "\"%s\"", s)
                            : sl__buf_printf(b, "%s", s);
}

/* The human name of a check, used in reject reasons. */
static int build_name(struct sl_check *ck, const struct sl_rule_when *w)
{
    struct sl_buf b;
    char num[40];
    int rc = SL_OK;
    sl__buf_init(&b);
    switch (ck->kind) {
    case SL_CK_REQUIRED:
        rc = sl__buf_printf(&b, "required");
        break;
    case SL_CK_MINIMUM:
    case SL_CK_MAXIMUM:
        fmt_num(ck->num, num, sizeof(num));
        rc = sl__buf_printf(&b, "%s %s",
                            ck->kind == SL_CK_MINIMUM ? "minimum" : "maximum",
                            num);
        break;
    case SL_CK_MIN_LENGTH:
    case SL_CK_MAX_LENGTH:
        rc = sl__buf_printf(&b, "%s %llu",
                            ck->kind == SL_CK_MIN_LENGTH ? "minLength"
                                                         : "maxLength",
                            (unsigned long long)ck->len);
        break;
    case SL_CK_ENUM:
        rc = sl__buf_printf(&b, "enum [");
        for (size_t i = 0; rc == SL_OK && i < ck->enum_len; i++) {
            if (i > 0 && b.len > NAME_ENUM_CHARS) {
                rc = sl__buf_printf(&b, ", ...");
                break;
            }
            rc =
                sl__buf_printf(&b, "%s%s", i > 0 ? ", " : "", ck->enum_vals[i]);
        }
        if (rc == SL_OK) {
            rc = sl__buf_putc(&b, ']');
        }
        break;
    case SL_CK_PATTERN:
        rc = sl__buf_printf(&b, "pattern \"%s\"", ck->pattern);
        break;
    }
    if (rc == SL_OK && w != NULL) {
        enum sl_type wt = w->field->type;
        if (w->equals != NULL) {
            rc = sl__buf_printf(&b, " (when %s = ", w->path);
            rc = rc != SL_OK ? rc : name_value(&b, w->equals, wt);
        } else {
            rc = sl__buf_printf(&b, " (when %s in [", w->path);
            for (size_t i = 0; rc == SL_OK && i < w->in_len; i++) {
                rc = i > 0 ? sl__buf_printf(&b, ", ") : SL_OK;
                rc = rc != SL_OK ? rc : name_value(&b, w->in_vals[i], wt);
            }
            rc = rc != SL_OK ? rc : sl__buf_putc(&b, ']');
        }
        rc = rc != SL_OK ? rc : sl__buf_putc(&b, ')');
    }
    if (rc != SL_OK || b.data == NULL) {
        sl__buf_release(&b);
        return -SL_ENOMEM;
    }
    ck->name = b.data; /* ownership moves to the check */
    return SL_OK;
}

/* Everything one rules entry asks for, before it becomes checks. */
struct entry {
    json_t *req, *min, *max, *min_len, *max_len, *en, *pat, *when;
};

static int take_key(struct sl_pctx *c, const char *where, json_t **slot,
                    json_t *v, const char *name)
{
    if (*slot != NULL) {
        return sl__schema_fail(c, "",
                               "%s: %s given twice (min/max are aliases of "
                               "minimum/maximum)",
                               where, name);
    }
    *slot = v;
    return SL_OK;
}

static int scan_entry(struct sl_pctx *c, const char *where, json_t *e,
                      struct entry *en)
{
    const char *k;
    json_t *v;
    int rc = SL_OK;
    json_object_foreach(e, k, v)
    {
        if (strcmp(k, "field") == 0) {
            continue;
        } else if (strcmp(k, "description") == 0) {
            if (!json_is_string(v)) {
                rc = sl__schema_fail(c, "", "%s: description must be a string",
                                     where);
            }
        } else if (strcmp(k, "required") == 0) {
            rc = take_key(c, where, &en->req, v, "required");
        } else if (strcmp(k, "minimum") == 0 || strcmp(k, "min") == 0) {
            rc = take_key(c, where, &en->min, v, "minimum");
        } else if (strcmp(k, "maximum") == 0 || strcmp(k, "max") == 0) {
            rc = take_key(c, where, &en->max, v, "maximum");
        } else if (strcmp(k, "minLength") == 0) {
            rc = take_key(c, where, &en->min_len, v, k);
        } else if (strcmp(k, "maxLength") == 0) {
            rc = take_key(c, where, &en->max_len, v, k);
        } else if (strcmp(k, "enum") == 0) {
            rc = take_key(c, where, &en->en, v, k);
        } else if (strcmp(k, "pattern") == 0) {
            rc = take_key(c, where, &en->pat, v, k);
        } else if (strcmp(k, "when") == 0) {
            rc = take_key(c, where, &en->when, v, k);
        } else {
            rc = sl__schema_fail(
                c, "",
                "%s: unknown rule key \"%s\" (expected field, required, "
                "minimum, maximum, minLength, maxLength, enum, "
                "pattern, when, description)",
                where, k);
        }
        if (rc != SL_OK) {
            return rc;
        }
    }
    if (!en->req && !en->min && !en->max && !en->min_len && !en->max_len &&
        !en->en && !en->pat) {
        return sl__schema_fail(c, "",
                               "%s: no check (give required, minimum, maximum, "
                               "minLength, maxLength, enum or pattern)",
                               where);
    }
    return SL_OK;
}

/* Validate the entry's checks against the target field's type and fill cks
 * (up to 7, zeroed by the caller). */
static int build_checks(struct sl_pctx *c, const char *where,
                        struct sl_field *f, struct entry *en,
                        struct sl_check *cks, size_t *out_n)
{
    const char *p = f->path;
    const char *tn = sl_type_name(f->type);
    size_t n = 0;
    if (en->req != NULL) {
        if (!json_is_boolean(en->req)) {
            return sl__schema_fail(c, p, "%s: required must be true or false",
                                   where);
        }
        if (json_is_true(en->req)) {
            if (f->mode == SL_M_REPEATED) {
                return sl__schema_fail(
                    c, p,
                    "%s: required on REPEATED %s is not supported (a "
                    "REPEATED field is never NULL)",
                    where, p);
            }
            cks[n++].kind = SL_CK_REQUIRED;
        }
    }
    json_t *bounds[2] = {en->min, en->max};
    for (int i = 0; i < 2; i++) {
        if (bounds[i] == NULL) {
            continue;
        }
        if (!is_numeric(f->type)) {
            return sl__schema_fail(
                c, p,
                "%s: %s needs a numeric field (INTEGER, FLOAT, NUMERIC, "
                "BIGNUMERIC); %s is %s",
                where, i == 0 ? "minimum" : "maximum", p, tn);
        }
        if (!json_is_number(bounds[i])) {
            return sl__schema_fail(c, p, "%s: %s must be a number", where,
                                   i == 0 ? "minimum" : "maximum");
        }
        cks[n].kind = i == 0 ? SL_CK_MINIMUM : SL_CK_MAXIMUM;
        cks[n++].num = json_number_value(bounds[i]);
    }
    if (en->min != NULL && en->max != NULL &&
        json_number_value(en->min) > json_number_value(en->max)) {
        return sl__schema_fail(c, p, "%s: minimum is greater than maximum",
                               where);
    }
    json_t *lens[2] = {en->min_len, en->max_len};
    int64_t lv[2] = {0, INT64_MAX};
    for (int i = 0; i < 2; i++) {
        if (lens[i] == NULL) {
            continue;
        }
        if (f->type != SL_T_STRING && f->type != SL_T_BYTES) {
            return sl__schema_fail(
                c, p, "%s: %s needs a STRING or BYTES field; %s is %s", where,
                i == 0 ? "minLength" : "maxLength", p, tn);
        }
        if (!json_is_integer(lens[i]) || json_integer_value(lens[i]) < 0) {
            return sl__schema_fail(c, p,
                                   "%s: %s must be a non-negative integer",
                                   where, i == 0 ? "minLength" : "maxLength");
        }
        lv[i] = (int64_t)json_integer_value(lens[i]);
        cks[n].kind = i == 0 ? SL_CK_MIN_LENGTH : SL_CK_MAX_LENGTH;
        cks[n++].len = (uint64_t)lv[i];
    }
    if (lv[0] > lv[1]) {
        return sl__schema_fail(c, p, "%s: minLength is greater than maxLength",
                               where);
    }
    if (en->en != NULL) {
        size_t m = json_array_size(en->en);
        if (f->type != SL_T_STRING && f->type != SL_T_INT64) {
            return sl__schema_fail(
                c, p, "%s: enum needs a STRING or INTEGER field; %s is %s",
                where, p, tn);
        }
        if (!json_is_array(en->en) || m == 0) {
            return sl__schema_fail(c, p, "%s: enum must be a non-empty array",
                                   where);
        }
        struct sl_check *ck = &cks[n++];
        ck->kind = SL_CK_ENUM;
        ck->enum_vals = sl__calloc(m, sizeof(char *));
        if (ck->enum_vals == NULL) {
            return sl__schema_oom(c);
        }
        for (size_t i = 0; i < m; i++) {
            char *s =
                value_text(c, p, where, json_array_get(en->en, i), f->type);
            if (s == NULL) {
                return -SL_ESCHEMA;
            }
            ck->enum_vals[ck->enum_len++] = s;
            for (size_t k = 0; k + 1 < ck->enum_len; k++) {
                if (strcmp(ck->enum_vals[k], s) == 0) {
                    return sl__schema_fail(c, p, "%s: enum lists \"%s\" twice",
                                           where, s);
                }
            }
        }
    }
    if (en->pat != NULL) {
        if (f->type != SL_T_STRING) {
            return sl__schema_fail(c, p,
                                   "%s: pattern needs a STRING field; %s is %s",
                                   where, p, tn);
        }
        if (!json_is_string(en->pat)) {
            return sl__schema_fail(c, p, "%s: pattern must be a string", where);
        }
        struct sl_check *ck = &cks[n++];
        ck->kind = SL_CK_PATTERN;
        if ((ck->pattern = sl__strdup(json_string_value(en->pat))) == NULL) {
            return sl__schema_oom(c);
        }
        int ec;
        PCRE2_SIZE eo;
        /* $ matches only at the very end (not before a final newline), as in
         * JSON Schema; invalid UTF-8 in a value never matches instead of
         * failing the match call. */
        pcre2_code *re = pcre2_compile(
            (PCRE2_SPTR)json_string_value(en->pat), json_string_length(en->pat),
            PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF, &ec,
            &eo, NULL);
        if (re == NULL) {
            PCRE2_UCHAR msg[160];
            if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
                strcpy((char *)msg, "invalid pattern");
            }
            if (ec == PCRE2_ERROR_NOMEMORY) {
                return sl__schema_oom(c);
            }
            return sl__schema_fail(c, p, "%s: pattern error at offset %zu: %s",
                                   where, (size_t)eo, (const char *)msg);
        }
        (void)pcre2_jit_compile(
            re, PCRE2_JIT_COMPLETE); /* interpreter if JIT is missing */
        ck->re = (struct pcre2_real_code_8 *)re;
    }
    *out_n = n;
    return SL_OK;
}

static int compile_entry(struct sl_pctx *c, struct sl_table *t, size_t idx,
                         json_t *e)
{
    char where[40];
    snprintf(where, sizeof(where), "rules[%zu]", idx);
    if (!json_is_object(e)) {
        return sl__schema_fail(c, "", "%s: a rule must be an object", where);
    }
    const char *path = json_string_value(json_object_get(e, "field"));
    if (path == NULL) {
        return sl__schema_fail(c, "", "%s: a rule needs a \"field\" string",
                               where);
    }
    bool rep;
    struct sl_field *f = sl__schema_resolve(t, path, &rep);
    if (f == NULL) {
        return sl__schema_fail(c, path, "%s: no field %s in the schema", where,
                               path);
    }
    struct entry en = {0};
    int rc = scan_entry(c, where, e, &en);
    if (rc != SL_OK) {
        return rc;
    }
    struct sl_rule_when w = {0};
    struct sl_field *wf = NULL;
    struct sl_check cks[7];
    size_t n = 0;
    memset(cks, 0, sizeof(cks));
    if (en.when != NULL) {
        if ((rc = parse_when(c, t, where, en.when, &w, &wf)) != SL_OK) {
            goto out;
        }
        if (rep || f->mode == SL_M_REPEATED) {
            rc = sl__schema_fail(
                c, f->path,
                "%s: a conditional rule cannot check %s, which is "
                "REPEATED or inside a REPEATED RECORD",
                where, f->path);
            goto out;
        }
    }
    if ((rc = build_checks(c, where, f, &en, cks, &n)) != SL_OK) {
        n = SL_ARRAY_LEN(cks); /* release whatever was filled */
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((cks[i].path = sl__strdup(f->path)) == NULL ||
            (wf != NULL && when_copy(&w, &cks[i].when) != SL_OK) ||
            build_name(&cks[i], cks[i].when) != SL_OK) {
            rc = sl__schema_oom(c);
            goto out;
        }
    }
    if (n == 0) {
        goto out; /* only "required": false */
    }
    struct sl_check *grown =
        sl__realloc(f->checks, (f->n_checks + n) * sizeof(*grown));
    if (grown == NULL) {
        rc = sl__schema_oom(c);
        goto out;
    }
    f->checks = grown;
    memcpy(f->checks + f->n_checks, cks, n * sizeof(*cks));
    f->n_checks += n;
    t->n_checks += n;
    n = 0; /* now owned by the field */
    if (wf != NULL && !wf->in_condition) {
        wf->in_condition = true;
        wf->cond_slot = (uint32_t)t->n_cond_slots++;
    }
out:
    for (size_t i = 0; i < n; i++) {
        check_release(&cks[i]);
    }
    when_release(&w);
    return rc;
}

int sl__rules_compile(struct sl_pctx *c, struct sl_table *t, json_t *rules)
{
    if (!json_is_array(rules)) {
        return sl__schema_fail(c, "", "rules must be an array");
    }
    for (size_t i = 0; i < json_array_size(rules); i++) {
        if (compile_entry(c, t, i, json_array_get(rules, i)) != SL_OK &&
            c->oom) {
            return c->oom;
        }
    }
    return c->n_problems > 0 ? -SL_ESCHEMA : SL_OK;
}
