/* match.c - which rules a file matches and where it goes by each: the
 * prefix index (enabled rules bucketed by their exact Prefix, looked up once
 * per distinct prefix length), When's Suffix, Filter (or Pattern) and
 * Exclusion, then the destination: Pattern's groups, Parameters, $Date and
 * $Hour of the file's time, the table name, its definition, the batch key.
 * rules stage. */
#include "core/common.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "rules/rules_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the index
 * ---------------------------------------------------------------- */

static uint64_t key_hash(const char *p, size_t len)
{
    return sl__hash_bytes(p, len) ^ (len * 0x9e3779b97f4a7c15ULL);
}

static struct sl_pbucket *bucket(const struct sl_rules *rs, const char *p,
                                 size_t len)
{
    size_t mask = rs->n_buckets_cap - 1;
    for (size_t i = key_hash(p, len) & mask;; i = (i + 1) & mask) {
        struct sl_pbucket *b = &rs->buckets[i];
        if (b->prefix == NULL ||
            (b->len == len && memcmp(b->prefix, p, len) == 0)) {
            return b;
        }
    }
}

static int push_u32(uint32_t **v, size_t *n, uint32_t x)
{
    if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power */
        uint32_t *g = sl__realloc(*v, (*n ? 2 * *n : 1) * sizeof(**v));
        if (g == NULL) {
            return -SL_ENOMEM;
        }
        *v = g;
    }
    (*v)[(*n)++] = x;
    return SL_OK;
}

static uint32_t groups_of(const struct pcre2_real_code_8 *re)
{
    uint32_t n = 0;
    if (re != NULL) {
        (void)pcre2_pattern_info((const pcre2_code *)re,
                                 PCRE2_INFO_CAPTURECOUNT, &n);
    }
    return n;
}

static bool has_jit(const struct pcre2_real_code_8 *re)
{
    size_t n = 0;
    return re != NULL &&
           pcre2_pattern_info((const pcre2_code *)re, PCRE2_INFO_JITSIZE, &n) ==
               0 &&
           n > 0;
}

static int index_rule(struct sl_rules *rs, uint32_t i)
{
    struct sl_rule *r = rs->rules[i];
    r->jit = (uint8_t)(has_jit(r->filter_re) | has_jit(r->excl_re) << 1 |
                       has_jit(r->pattern_re) << 2);
    uint32_t g = groups_of(r->filter_re);
    g = groups_of(r->excl_re) > g ? groups_of(r->excl_re) : g;
    g = r->n_groups > g ? r->n_groups : g;
    rs->max_groups = g > rs->max_groups ? g : rs->max_groups;
    if (r->disabled) {
        return push_u32(&rs->disabled, &rs->n_disabled, i);
    }
    if (r->prefix_len == 0) {
        return push_u32(&rs->open, &rs->n_open, i);
    }
    struct sl_pbucket *b = bucket(rs, r->prefix, r->prefix_len);
    if (b->prefix == NULL) {
        b->prefix = r->prefix;
        b->len = r->prefix_len;
        size_t k = 0;
        while (k < rs->n_lens && rs->lens[k] < b->len) {
            k++;
        }
        if (k == rs->n_lens || rs->lens[k] != b->len) {
            size_t *l = sl__realloc(rs->lens, (rs->n_lens + 1) * sizeof(*l));
            if (l == NULL) {
                return -SL_ENOMEM;
            }
            rs->lens = l;
            memmove(l + k + 1, l + k, (rs->n_lens - k) * sizeof(*l));
            l[k] = b->len;
            rs->n_lens++;
        }
    }
    return push_u32(&b->rules, &b->n, i);
}

int sl__rules_index(struct sl_rules *rs)
{
    size_t cap = 16;
    while (cap < 2 * rs->n + 2) {
        cap *= 2;
    }
    rs->buckets = sl__calloc(cap, sizeof(*rs->buckets));
    if (rs->buckets == NULL) {
        return -SL_ENOMEM;
    }
    rs->n_buckets_cap = cap;
    for (uint32_t i = 0; i < rs->n; i++) {
        int rc = index_rule(rs, i);
        if (rc != SL_OK) {
            return rc;
        }
    }
    return SL_OK;
}

/* ---- When
 * ------------------------------------------------------------------------ */

/* JIT code straight when there is (pcre2_match's per-call checks skipped:
 * the pattern was compiled with PCRE2_MATCH_INVALID_UTF, any bytes do). */
static bool re_match(const struct pcre2_real_code_8 *re, unsigned jit,
                     const char *path, size_t len, pcre2_match_data *md)
{
    const pcre2_code *c = (const pcre2_code *)re;
    if (jit != 0) {
        return pcre2_jit_match(c, (PCRE2_SPTR)path, len, 0, 0, md, NULL) >= 0;
    }
    return pcre2_match(c, (PCRE2_SPTR)path, len, 0, 0, md, NULL) >= 0;
}

static bool rule_matches(const struct sl_rule *r, const char *path, size_t len,
                         pcre2_match_data *md)
{
    if (r->suffix_len > 0 &&
        (len < r->suffix_len ||
         memcmp(path + len - r->suffix_len, r->suffix, r->suffix_len) != 0)) {
        return false;
    }
    /* BqTail: with no Filter, Dest.Pattern is the filter */
    bool own = r->filter_re != NULL;
    const struct pcre2_real_code_8 *f = own ? r->filter_re : r->pattern_re;
    if (f != NULL && !re_match(f, r->jit & (own ? 1u : 4u), path, len, md)) {
        return false;
    }
    return r->excl_re == NULL ||
           !re_match(r->excl_re, r->jit & 2u, path, len, md);
}

/* The enabled rules whose Prefix starts path, and those with none, in rule
 * order. *out is a caller buffer of rs->n entries. */
static size_t candidates(const struct sl_rules *rs, const char *path,
                         size_t len, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n_open; i++) {
        out[n++] = rs->open[i];
    }
    for (size_t k = 0; k < rs->n_lens && rs->lens[k] <= len; k++) {
        const struct sl_pbucket *b = bucket(rs, path, rs->lens[k]);
        for (size_t i = 0; b->prefix != NULL && i < b->n; i++) {
            out[n++] = b->rules[i];
        }
    }
    for (size_t i = 1; i < n; i++) { /* few: insertion sort */
        uint32_t x = out[i];
        size_t k = i;
        while (k > 0 && out[k - 1] > x) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = x;
    }
    return n;
}

/* ---- the destination
 * -------------------------------------------------------------- */

struct rctx {
    const struct sl_rules *rs;
    const struct sl_rule *r;
    const char *path;
    size_t len;
    int64_t mtime_us;
    pcre2_match_data *md;
    struct sl_buf vars; /* packed */
    struct sl_buf tmp;
    struct sl_error *err;
};

static int fail(struct rctx *x, const char *field, const char *fmt, ...)
    SL_PRINTF(3, 4);
static int fail(struct rctx *x, const char *field, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int rc = SL_ERR(x->err, -SL_ESCHEMA, "rule %s (%s): %s: %s", x->r->name,
                    x->r->file, field, msg);
    snprintf(x->err->column, sizeof(x->err->column), "%s", field);
    sl__error_path(x->err, x->r->file);
    return rc;
}

static int oom(struct rctx *x)
{
    return SL_ERR(x->err, -SL_ENOMEM, "out of memory matching %s", x->path);
}

/* v in n decimal digits, zero-padded (the low n digits). */
static void digits(char *out, int n, unsigned v)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* $1..$n of Dest.Pattern (none when it does not match), $Date, $Hour, then
 * the Parameters, each expanded with what comes before it. */
static int file_vars(struct rctx *x)
{
    const struct sl_rule *r = x->r;
    int rc = SL_OK;
    if (r->pattern_re != NULL &&
        re_match(r->pattern_re, r->jit & 4u, x->path, x->len, x->md)) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md);
        for (uint32_t g = 1; rc == SL_OK && g <= r->n_groups; g++) {
            char num[12];
            num[11] = '\0';
            const char *name = sl__rules_utoa(g, num + 11);
            bool set = ov[2 * g] != PCRE2_UNSET;
            rc = sl__rules_var_put(&x->vars, name,
                                   set ? x->path + ov[2 * g] : "",
                                   set ? ov[2 * g + 1] - ov[2 * g] : 0);
        }
    }
    time_t secs =
        (time_t)(x->mtime_us / 1000000 - (x->mtime_us % 1000000 < 0 ? 1 : 0));
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[40], hour[16];
    digits(date, 4, (unsigned)(tm.tm_year + 1900));
    digits(date + 4, 2, (unsigned)tm.tm_mon + 1);
    digits(date + 6, 2, (unsigned)tm.tm_mday);
    date[8] = '\0';
    digits(hour, 2, (unsigned)tm.tm_hour); /* 24-hour: 13 is 13 */
    hour[2] = '\0';
    rc = rc ? rc : sl__rules_var_put(&x->vars, "Date", date, strlen(date));
    rc = rc ? rc : sl__rules_var_put(&x->vars, "Hour", hour, strlen(hour));
    for (size_t i = 0; rc == SL_OK && i < r->n_params; i++) {
        char why[300], field[200];
        struct sl_vars vs = {x->vars.data, x->vars.len, NULL, 0, x->path, NULL};
        sl__buf_reset(&x->tmp);
        rc = sl__rules_expand(&vs, r->params[i].value, SL_VX_NAME, &x->tmp, why,
                              sizeof(why));
        if (rc == -SL_EINVAL) {
            snprintf(field, sizeof(field), "Dest.Parameters[%zu]", i);
            return fail(x, field, "%s", why);
        }
        rc = rc ? rc
                : sl__rules_var_put(&x->vars, r->params[i].key,
                                    x->tmp.data ? x->tmp.data : "", x->tmp.len);
    }
    return rc == SL_OK ? SL_OK : oom(x);
}

/* A template into x->tmp (NAME context); -1 after fail(). */
static int expand(struct rctx *x, const char *tmpl, const char *field)
{
    char why[300];
    struct sl_vars vs = {x->vars.data, x->vars.len, NULL, 0, x->path, NULL};
    sl__buf_reset(&x->tmp);
    int rc = sl__rules_expand(&vs, tmpl, SL_VX_NAME, &x->tmp, why, sizeof(why));
    if (rc == -SL_EINVAL) {
        return fail(x, field, "%s", why);
    }
    return rc == SL_OK ? SL_OK : oom(x);
}

static const struct sl_table *find(const struct sl_rules *rs, const char *ref)
{
    char ds[1100], tb[1100], why[200], name[2300];
    if (rs->reg == NULL || !sl__rules_table_ref(ref, ds, sizeof(ds), tb,
                                                sizeof(tb), why, sizeof(why))) {
        return NULL;
    }
    size_t dn = strlen(ds), tn = strlen(tb);
    memcpy(name, ds, dn);
    name[dn] = '.';
    memcpy(name + dn + 1, tb, tn + 1);
    return sl_registry_find(rs->reg, name);
}

static int table_and_def(struct rctx *x, struct sl_rules_dest *d)
{
    const struct sl_rule *r = x->r;
    int rc = expand(x, r->table, "Dest.Table");
    char ds[1100], tb[1100], why[300];
    if (rc != SL_OK) {
        return rc;
    }
    if (!sl__rules_table_ref(x->tmp.data, ds, sizeof(ds), tb, sizeof(tb), why,
                             sizeof(why))) {
        return fail(x, "Dest.Table", "%s", why);
    }
    size_t n = strlen(ds) + strlen(tb) + 2;
    if ((d->table = sl__malloc(n)) == NULL) {
        return oom(x);
    }
    memcpy(d->table, ds, strlen(ds));
    d->table[strlen(ds)] = '.';
    memcpy(d->table + strlen(ds) + 1, tb, strlen(tb) + 1);
    if (x->rs->reg == NULL) {
        return SL_OK;
    }
    d->def = sl_registry_find(x->rs->reg, d->table);
    if (d->def == NULL && r->schema_template != NULL) {
        d->def = find(x->rs, r->schema_template);
        d->from_template = d->def != NULL;
    }
    if (d->def == NULL) {
        return fail(x, "Dest.Table",
                    "%s is not in the registry (schemas/) and the rule has "
                    "no Schema.Template to make it from",
                    d->table);
    }
    d->load_def = r->transient_template != NULL
                      ? find(x->rs, r->transient_template)
                      : d->def;
    return d->load_def != NULL
               ? SL_OK
               : fail(x, "Dest.Transient.Template", "%s is not in the registry",
                      r->transient_template);
}

static int partition(struct rctx *x, struct sl_rules_dest *d)
{
    int rc = expand(x, x->r->partition, "Dest.Partition");
    if (rc != SL_OK) {
        return rc;
    }
    size_t n = x->tmp.len;
    if ((n != 4 && n != 6 && n != 8 && n != 10) ||
        strspn(x->tmp.data, "0123456789") != n) {
        return fail(x, "Dest.Partition",
                    "\"%.40s\" is no partition (yyyy, yyyymm, yyyymmdd or "
                    "yyyymmddhh)",
                    x->tmp.data);
    }
    return (d->partition = sl__strdup(x->tmp.data)) != NULL ? SL_OK : oom(x);
}

/* rule, table, partition replaced, folder, Pattern groups: \x1f between. */
static int batch_key(struct rctx *x, struct sl_rules_dest *d)
{
    const struct sl_rule *r = x->r;
    struct sl_buf k;
    sl__buf_init(&k);
    const char *slash = strrchr(x->path, '/');
    size_t dir = r->multipath ? 0 : (size_t)(slash - x->path);
    const char *part = d->partition && r->override ? d->partition : "";
    const char *pieces[] = {r->name, "\x1f", d->table, "\x1f", part, "\x1f"};
    int rc = SL_OK;
    for (size_t i = 0; rc == SL_OK && i < SL_ARRAY_LEN(pieces); i++) {
        rc = sl__buf_append(&k, pieces[i], strlen(pieces[i]));
    }
    rc = rc ? rc : sl__buf_append(&k, x->path, dir);
    for (uint32_t g = 1; rc == SL_OK && r->pattern_hash && g <= r->n_groups;
         g++) {
        char num[12];
        const char *name = sl__rules_utoa(g, num + sizeof(num));
        size_t nl = (size_t)(num + sizeof(num) - name);
        const char *v = sl__rules_var_get(x->vars.data, x->vars.len, name, nl);
        rc = sl__buf_putc(&k, '\x1f');
        rc = rc ? rc : sl__buf_append(&k, v ? v : "", v ? strlen(v) : 0);
    }
    rc = rc ? rc : sl__buf_reserve(&k, 1); /* NUL-terminated even if empty */
    if (rc != SL_OK) {
        sl__buf_release(&k);
        return oom(x);
    }
    d->batch_key = k.data;
    return SL_OK;
}

static void options(const struct sl_rule *r, struct sl_rules_dest *d)
{
    d->transient = r->has_transient || r->n_transform > 0 || r->n_sides > 0 ||
                   r->n_unique > 0 || r->n_split > 0 || r->against_dest ||
                   (r->override && r->partition != NULL);
    d->batch_flags = d->transient ? 0 : r->batch_flags;
    if (r->override && !d->transient) {
        d->batch_flags |= SL_BATCH_TRUNCATE;
    }
    d->allow_field_addition = r->allow_field_addition;
    d->window_ms = r->has_batch ? r->window_ms : 0;
    d->max_files = r->has_batch ? r->max_files : 1;
    d->max_bytes = r->has_batch ? r->max_bytes : 0;
    d->max_reload = r->max_reload;
}

static void dest_release(struct sl_rules_dest *d)
{
    sl__free(d->table);
    sl__free(d->partition);
    sl__free(d->batch_key);
    sl__free(d->vars);
    sl__free(d->path);
    memset(d, 0, sizeof(*d));
}

static int resolve(struct rctx *x, struct sl_rules_dest *d)
{
    memset(d, 0, sizeof(*d));
    d->rule = x->r;
    sl__buf_reset(&x->vars);
    int rc = file_vars(x);
    rc = rc ? rc : table_and_def(x, d);
    rc = rc || x->r->partition == NULL ? rc : partition(x, d);
    rc = rc ? rc : batch_key(x, d);
    if (rc == SL_OK) {
        options(x->r, d);
        d->vars_size = x->vars.len;
        d->vars = sl__malloc(x->vars.len + 1);
        d->path = sl__strdup(x->path);
        if (d->vars == NULL || d->path == NULL) {
            rc = oom(x);
        } else if (x->vars.len > 0) {
            memcpy(d->vars, x->vars.data, x->vars.len);
        }
    }
    if (rc != SL_OK) {
        dest_release(d);
    }
    return rc;
}

/* ---- matching
 * ------------------------------------------------------------------- */

void sl_rules_match_release(struct sl_rules_match *m)
{
    for (size_t i = 0; m->dests != NULL && i < m->n; i++) {
        dest_release(&m->dests[i]);
    }
    sl__free(m->dests);
    memset(m, 0, sizeof(*m));
}

static int several(const struct sl_rules *rs, const uint32_t *hit, size_t n,
                   const char *path, struct sl_error *err)
{
    return SL_ERR(err, -SL_ESCHEMA,
                  "%zu enabled rules match %s (%s and %s): one file feeds one "
                  "rule unless fan-out is on; disable all but one",
                  n, path, rs->rules[hit[0]]->name, rs->rules[hit[1]]->name);
}

static int match_path(const struct sl_rules *rs, struct rctx *x, uint32_t *cand,
                      struct sl_rules_match *out)
{
    size_t nc = candidates(rs, x->path, x->len, cand), n = 0;
    for (size_t i = 0; i < nc; i++) {
        if (rule_matches(rs->rules[cand[i]], x->path, x->len, x->md)) {
            cand[n++] = cand[i];
        }
    }
    for (size_t i = 0; i < rs->n_disabled; i++) {
        out->n_disabled +=
            rule_matches(rs->rules[rs->disabled[i]], x->path, x->len, x->md);
    }
    if (n > 1 && !rs->fan_out) {
        return several(rs, cand, n, x->path, x->err);
    }
    if (n == 0) {
        return SL_OK;
    }
    if ((out->dests = sl__calloc(n, sizeof(*out->dests))) == NULL) {
        return oom(x);
    }
    for (size_t i = 0; i < n; i++) {
        x->r = rs->rules[cand[i]];
        int rc = resolve(x, &out->dests[i]);
        if (rc != SL_OK) {
            return rc;
        }
        out->n++;
    }
    return SL_OK;
}

int sl_rules_match(const struct sl_rules *rs, const char *raw_name,
                   int64_t mtime_us, struct sl_rules_match *out,
                   struct sl_error *err)
{
    memset(out, 0, sizeof(*out));
    if (rs == NULL || rs->n == 0) {
        return SL_OK;
    }
    size_t rl = strlen(raw_name);
    /* 32 zero bytes after the path: PCRE2's JIT code may read a word past
       the subject's end (harmless, but not to be uninitialised) */
    char stack[1024];
    char *path = rl + 34 <= sizeof(stack) ? stack : sl__malloc(rl + 34);
    uint32_t *cand = sl__malloc(rs->n * sizeof(*cand));
    pcre2_match_data *md = pcre2_match_data_create(rs->max_groups + 1, NULL);
    struct rctx x = {.rs = rs,
                     .path = path,
                     .len = rl + 1,
                     .mtime_us = mtime_us,
                     .md = md,
                     .err = err};
    sl__buf_init(&x.vars);
    sl__buf_init(&x.tmp);
    int rc;
    if (path == NULL || cand == NULL || md == NULL) {
        rc = SL_ERR(err, -SL_ENOMEM, "out of memory matching %s", raw_name);
    } else {
        path[0] = '/'; /* matched as BqTail matches an object without its
                          bucket */
        const char *src = raw_name + (raw_name[0] == '/');
        memcpy(path + 1, src, strlen(src) + 1);
        memset(path + 1 + strlen(src), 0, 33);
        x.len = strlen(path);
        rc = match_path(rs, &x, cand, out);
    }
    if (rc != SL_OK) {
        sl_rules_match_release(out);
    }
    sl__buf_release(&x.vars);
    sl__buf_release(&x.tmp);
    pcre2_match_data_free(md);
    sl__free(cand);
    if (path != stack) {
        sl__free(path);
    }
    return rc;
}

int64_t sl_rules_window_end(const struct sl_rules_dest *d, uint32_t default_ms,
                            int64_t t_us)
{
    uint32_t ms = d != NULL && d->window_ms ? d->window_ms : default_ms;
    int64_t w = (int64_t)(ms ? ms : 1) * 1000;
    int64_t k = t_us / w - (t_us % w < 0 ? 1 : 0);
    return (k + 1) * w;
}
